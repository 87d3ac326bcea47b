//! A test module that imports `socket` (through `std::net`). The loader's import lint must
//! refuse it: SSDlets reach storage and the world only through the runtime.

use ssdlet_sdk::{Context, Ssdlet, SsdletError};

/// Tries to open a UDP socket.
pub struct Net;
impl Ssdlet for Net {
    type Args = ();
    type Inputs = ();
    type Outputs = ();
    fn run(_: &Context, (): (), (): (), (): ()) -> Result<(), SsdletError> {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0")?;
        sock.send_to(b"exfiltrated", "127.0.0.1:9")?;
        Ok(())
    }
}

ssdlet_sdk::register_module! {
    name: "testkit_net",
    ssdlets: { "net" => Net },
}
