//! Port type checks: two ports may be connected only if their message-type signatures (from
//! the modules' metadata) are equal. The host `connect` calls [`check_port_types`].

/// One side of a prospective connection, as described by module metadata.
#[derive(Clone, Copy, Debug)]
pub struct PortDesc<'a> {
    /// The SSDlet id (or another label for the endpoint, e.g. `host`).
    pub ssdlet: &'a str,
    /// The port name.
    pub port: &'a str,
    /// The rendered message-type signature.
    pub ty: &'a str,
}

/// Connecting two ports whose message types differ.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot connect output `{from}` to input `{to}`: it sends `{from_type}` but the input expects `{to_type}`")]
pub struct PortTypeMismatch {
    /// Sending endpoint, `ssdlet.port`.
    pub from: String,
    /// Sending message type.
    pub from_type: String,
    /// Receiving endpoint, `ssdlet.port`.
    pub to: String,
    /// Receiving message type.
    pub to_type: String,
}

// INVARIANT(ports-typed): rendered TypeSig strings must be equal
/// Checks that output `from` may feed input `to`.
pub fn check_port_types(from: PortDesc<'_>, to: PortDesc<'_>) -> Result<(), PortTypeMismatch> {
    if from.ty == to.ty {
        return Ok(());
    }
    Err(PortTypeMismatch {
        from: format!("{}.{}", from.ssdlet, from.port),
        from_type: from.ty.to_owned(),
        to: format!("{}.{}", to.ssdlet, to.port),
        to_type: to.ty.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_types_connect_and_different_ones_name_both() {
        let a = PortDesc {
            ssdlet: "mapper",
            port: "words",
            ty: "(str,u32)",
        };
        let b = PortDesc {
            ssdlet: "reducer",
            port: "in",
            ty: "(str,u32)",
        };
        let c = PortDesc {
            ssdlet: "sum",
            port: "in",
            ty: "u64",
        };
        assert!(check_port_types(a, b).is_ok());
        let err = check_port_types(a, c).unwrap_err().to_string();
        assert!(err.contains("`(str,u32)`") && err.contains("`u64`"), "{err}");
        assert!(err.contains("mapper.words") && err.contains("sum.in"), "{err}");
    }
}
