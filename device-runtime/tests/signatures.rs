//! Message-type signatures across two separately compiled modules: a shared type (and a
//! structurally identical local copy) agree; a same-named type with a different field type
//! is refused with both type names.

mod common;

use device_runtime::driver::{DriverConfig, DriverError, TestDriver};
use device_runtime::loader::inspect;
use device_runtime::porttype::{check_port_types, PortDesc};

#[test]
fn separately_compiled_modules_agree_on_a_shared_type() {
    let kit = inspect(&common::modules().testkit()).unwrap().meta;
    let peer = inspect(&common::modules().peer()).unwrap().meta;
    let (_, words) = kit.ssdlet("words").unwrap();
    let sent = &words.output("words").unwrap().1.ty;
    assert_eq!(sent, "WordCount{word:str,count:u32}");
    for id in ["counts", "counts_local"] {
        let (_, s) = peer.ssdlet(id).unwrap();
        let expected = &s.input("counts").unwrap().1.ty;
        assert_eq!(expected, sent, "{id}");
        check_port_types(
            PortDesc {
                ssdlet: "words",
                port: "words",
                ty: sent,
            },
            PortDesc {
                ssdlet: id,
                port: "counts",
                ty: expected,
            },
        )
        .unwrap();
    }
    let (_, wide) = peer.ssdlet("counts_wide").unwrap();
    let wide_ty = &wide.input("counts").unwrap().1.ty;
    assert_eq!(wide_ty, "WordCount{word:str,count:u64}");
    let err = check_port_types(
        PortDesc {
            ssdlet: "words",
            port: "words",
            ty: sent,
        },
        PortDesc {
            ssdlet: "counts_wide",
            port: "counts",
            ty: wide_ty,
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("`WordCount{word:str,count:u32}`"), "{msg}");
    assert!(msg.contains("`WordCount{word:str,count:u64}`"), "{msg}");
}

#[test]
fn connecting_mismatched_ports_is_refused_with_both_type_names() {
    let kit = common::loader().load(&common::modules().testkit()).unwrap();
    let peer = common::loader().load(&common::modules().peer()).unwrap();
    let mut d = TestDriver::new(DriverConfig::default());
    let w = d.spawn(&kit.ssdlet("echo").unwrap(), &[]).unwrap();
    let c = d.spawn(&peer.ssdlet("counts_wide").unwrap(), &[]).unwrap();
    let err = d.connect(w, "out", c, "counts").unwrap_err();
    assert!(matches!(err, DriverError::PortType(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "cannot connect output `echo.out` to input `counts_wide.counts`: it sends `u64` but the input \
         expects `WordCount{word:str,count:u64}`"
    );
}
