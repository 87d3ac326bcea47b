//! One stream of small messages between two SSDlets, for counting the instructions a message
//! costs: `count(n) -> sum` with one put and one get per message, or with `batch`,
//! `count_all(n) -> sum_batch(64)` (`Output::put_all`, `Input::get_batch`). Prints the sum.
//!
//! Run the stream twice under callgrind and divide the difference by the difference in
//! messages, so the module build, loading and start-up cancel out:
//!
//! ```sh
//! cargo build --release -p device-runtime --example message_stream
//! for n in 100000 200000; do
//!   valgrind --tool=callgrind --callgrind-out-file=cg.$n target/release/examples/message_stream $n [batch]
//! done   # (Ir of 200000 - Ir of 100000) / 100000 = instructions per message
//! ```

use anyhow::{bail, Context};
use device_runtime::driver::{ArgValue, DriverConfig, TestDriver};
use device_runtime::loader::Loader;
use ssdlet_module_build::{build, Profile};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .context("usage: message_stream N [batch]")?
        .parse()
        .context("N: a number of messages")?;
    let batched = match args.next().as_deref() {
        None => false,
        Some("batch") => true,
        Some(other) => bail!("unknown mode `{other}` (expected `batch`)"),
    };
    let modules = build(Profile::Release)?;
    let m = Loader::with_temp_staging()?.load(&modules.testkit())?;
    let (sender, receiver, receiver_args) = if batched {
        ("count_all", "sum_batch", vec![ArgValue::U64(64)])
    } else {
        ("count", "sum", vec![])
    };
    let ssdlet = |id: &str| m.ssdlet(id);
    let mut d = TestDriver::new(DriverConfig::default());
    let src = d.spawn(&ssdlet(sender)?, &[ArgValue::U64(n)])?;
    let dst = d.spawn(&ssdlet(receiver)?, &receiver_args)?;
    d.connect(src, "out", dst, "in")?;
    let total = d.sink(dst, "total")?;
    d.run()?;
    println!("{:?}", d.take::<u64>(total)?);
    Ok(())
}
