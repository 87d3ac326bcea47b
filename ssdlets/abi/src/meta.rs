//! The module metadata format: what the loader and `ndp inspect` read without running a module.
//!
//! The registration macro renders a [`ModuleDesc`] at compile time with [`encode`] into a
//! `static` placed in the ELF section [`SECTION_NAME`]. Layout (all integers little-endian):
//!
//! ```text
//! offset 0   8 bytes  MAGIC  "SSDLMETA"
//! offset 8   u32      ABI version the module was built against
//! offset 12  u32      payload length in bytes
//! offset 16  u32      CRC-32 (IEEE) of the payload
//! offset 20  payload  UTF-8 lines, fields separated by one TAB:
//!                     module <name> <version>        (first line, exactly once)
//!                     ssdlet <id>                    (starts an SSDlet)
//!                     arg    <name> <signature>      (in argument order)
//!                     in     <name> <signature>      (input ports, in index order)
//!                     out    <name> <signature>      (output ports, in index order)
//! ```
//!
//! The header layout (magic, then version) never changes, so a reader can always report an
//! ABI-version mismatch even when it cannot parse the rest. Signatures are rendered
//! [`TypeSig`]s; names satisfy [`crate::sig::is_valid_name`].

use crate::crc::{crc32, crc32_range};
use crate::sig::{is_valid_name, put, render, TypeSig};

/// Name of the ELF section holding the metadata.
pub const SECTION_NAME: &str = ".ssdlet_meta";
/// First eight bytes of the metadata.
pub const MAGIC: [u8; 8] = *b"SSDLMETA";
/// Length of the fixed header before the payload.
pub const HEADER_LEN: usize = 20;

/// Compile-time description of one SSDlet, built by the registration macro.
#[derive(Clone, Copy, Debug)]
pub struct SsdletDesc {
    /// The id the host uses to instantiate it.
    pub id: &'static str,
    /// Argument names, in order.
    pub arg_names: &'static [&'static str],
    /// Argument types, parallel to `arg_names`.
    pub arg_types: &'static [TypeSig],
    /// Input port names, in index order.
    pub input_names: &'static [&'static str],
    /// Input port message types, parallel to `input_names`.
    pub input_types: &'static [TypeSig],
    /// Output port names, in index order.
    pub output_names: &'static [&'static str],
    /// Output port message types, parallel to `output_names`.
    pub output_types: &'static [TypeSig],
}

/// Compile-time description of a module.
#[derive(Clone, Copy, Debug)]
pub struct ModuleDesc {
    /// Module name.
    pub name: &'static str,
    /// Module version (free-form, e.g. the crate version).
    pub version: &'static str,
    /// The SSDlets, in index order (the index passed to the run entry point).
    pub ssdlets: &'static [SsdletDesc],
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn put_record(buf: &mut [u8], pos: usize, kind: &[u8], name: &str, ty: &TypeSig) -> usize {
    assert!(
        is_valid_name(name),
        "SSDlet argument and port names must be plain identifiers"
    );
    let p = put(buf, pos, kind);
    let p = put(buf, p, b"\t");
    let p = put(buf, p, name.as_bytes());
    let p = put(buf, p, b"\t");
    let p = render(buf, p, ty);
    put(buf, p, b"\n")
}

const fn put_list(buf: &mut [u8], mut pos: usize, kind: &[u8], names: &[&str], types: &[TypeSig]) -> usize {
    assert!(
        names.len() == types.len(),
        "an SSDlet's name list and type list differ in length"
    );
    let mut i = 0;
    while i < names.len() {
        pos = put_record(buf, pos, kind, names[i], &types[i]);
        i += 1;
    }
    pos
}

/// Writes the payload (or measures it, with an empty `buf`); returns its length.
const fn payload(buf: &mut [u8], d: &ModuleDesc) -> usize {
    assert!(is_valid_name(d.name), "module name must be a plain identifier");
    assert!(
        is_valid_name(d.version),
        "module version must be a plain identifier"
    );
    let mut p = put(buf, 0, b"module\t");
    p = put(buf, p, d.name.as_bytes());
    p = put(buf, p, b"\t");
    p = put(buf, p, d.version.as_bytes());
    p = put(buf, p, b"\n");
    let mut i = 0;
    while i < d.ssdlets.len() {
        let s = &d.ssdlets[i];
        assert!(is_valid_name(s.id), "SSDlet ids must be plain identifiers");
        let mut j = 0;
        while j < i {
            assert!(
                !str_eq(d.ssdlets[j].id, s.id),
                "two SSDlets are registered under the same id"
            );
            j += 1;
        }
        p = put(buf, p, b"ssdlet\t");
        p = put(buf, p, s.id.as_bytes());
        p = put(buf, p, b"\n");
        p = put_list(buf, p, b"arg", s.arg_names, s.arg_types);
        p = put_list(buf, p, b"in", s.input_names, s.input_types);
        p = put_list(buf, p, b"out", s.output_names, s.output_types);
        i += 1;
    }
    p
}

/// Total encoded length (header + payload) of `d`.
pub const fn encoded_len(d: &ModuleDesc) -> usize {
    HEADER_LEN + payload(&mut [], d)
}

/// Encodes `d` as metadata for ABI version `abi_version`. `N` must equal [`encoded_len`].
/// Invalid names, duplicate ids or mismatched list lengths fail constant evaluation, i.e. the
/// module does not compile.
pub const fn encode<const N: usize>(d: &ModuleDesc, abi_version: u32) -> [u8; N] {
    assert!(
        N == encoded_len(d),
        "metadata buffer length must equal encoded_len"
    );
    assert!(N - HEADER_LEN <= u32::MAX as usize, "metadata payload too large");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < 8 {
        out[i] = MAGIC[i];
        i += 1;
    }
    let v = abi_version.to_le_bytes();
    let len = ((N - HEADER_LEN) as u32).to_le_bytes();
    let mut k = 0;
    while k < 4 {
        out[8 + k] = v[k];
        out[12 + k] = len[k];
        k += 1;
    }
    if N > HEADER_LEN {
        let (_, body) = out.split_at_mut(HEADER_LEN);
        payload(body, d);
    }
    let crc = crc32_range(&out, HEADER_LEN, N).to_le_bytes();
    let mut k = 0;
    while k < 4 {
        out[16 + k] = crc[k];
        k += 1;
    }
    out
}

/// Why metadata bytes could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaError {
    /// Fewer bytes than the fixed header.
    TooShort {
        /// Bytes available.
        len: usize,
    },
    /// The first eight bytes are not [`MAGIC`].
    BadMagic,
    /// The header declares more payload than the bytes hold.
    LengthMismatch {
        /// Payload length in the header.
        declared: usize,
        /// Payload bytes actually present.
        available: usize,
    },
    /// The payload's CRC-32 differs from the header's.
    Checksum {
        /// CRC in the header.
        stored: u32,
        /// CRC of the payload.
        computed: u32,
    },
    /// The payload is not UTF-8.
    NotUtf8 {
        /// Offset of the first invalid byte within the payload.
        offset: usize,
    },
    /// A payload line does not follow the grammar.
    BadRecord {
        /// 1-based line number within the payload.
        line: usize,
        /// What was expected.
        reason: &'static str,
    },
}

impl core::fmt::Display for MetaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MetaError::TooShort { len } => {
                write!(
                    f,
                    "{len} bytes, shorter than the {HEADER_LEN}-byte metadata header"
                )
            }
            MetaError::BadMagic => write!(f, "does not start with the magic \"SSDLMETA\""),
            MetaError::LengthMismatch { declared, available } => {
                write!(
                    f,
                    "header declares a {declared}-byte payload but only {available} bytes follow"
                )
            }
            MetaError::Checksum { stored, computed } => {
                write!(
                    f,
                    "payload checksum {computed:#010x} does not match the header's {stored:#010x}"
                )
            }
            MetaError::NotUtf8 { offset } => write!(f, "payload is not UTF-8 (byte {offset})"),
            MetaError::BadRecord { line, reason } => write!(f, "payload line {line}: {reason}"),
        }
    }
}

/// The fixed header of metadata bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// ABI version the module was built against.
    pub abi_version: u32,
    /// Declared payload length.
    pub payload_len: u32,
    /// Declared payload CRC-32.
    pub crc: u32,
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w)
}

// INVARIANT(checks-before-dlopen): magic, then ABI version, readable without running the module
/// Reads only the fixed header (magic and version first), without checking the payload.
pub fn read_header(bytes: &[u8]) -> Result<Header, MetaError> {
    if bytes.len() < HEADER_LEN {
        return Err(MetaError::TooShort { len: bytes.len() });
    }
    if bytes[..8] != MAGIC {
        return Err(MetaError::BadMagic);
    }
    Ok(Header {
        abi_version: le_u32(bytes, 8),
        payload_len: le_u32(bytes, 12),
        crc: le_u32(bytes, 16),
    })
}

/// Checked metadata: header, checksum and UTF-8 verified. Bytes after the declared payload
/// (section padding) are ignored.
#[derive(Clone, Copy, Debug)]
pub struct MetaView<'a> {
    /// The header.
    pub header: Header,
    /// The payload text.
    pub payload: &'a str,
}

/// Checks header, length, checksum and UTF-8. Does not judge the ABI version: callers compare
/// `header.abi_version` themselves (see [`read_header`]).
pub fn parse(bytes: &[u8]) -> Result<MetaView<'_>, MetaError> {
    let header = read_header(bytes)?;
    let declared = header.payload_len as usize;
    let available = bytes.len() - HEADER_LEN;
    if declared > available {
        return Err(MetaError::LengthMismatch { declared, available });
    }
    let body = &bytes[HEADER_LEN..HEADER_LEN + declared];
    let computed = crc32(body);
    if computed != header.crc {
        return Err(MetaError::Checksum {
            stored: header.crc,
            computed,
        });
    }
    let payload = core::str::from_utf8(body).map_err(|e| MetaError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    Ok(MetaView { header, payload })
}

/// One payload line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// `module <name> <version>`.
    Module {
        /// Module name.
        name: &'a str,
        /// Module version.
        version: &'a str,
    },
    /// `ssdlet <id>`.
    Ssdlet {
        /// The SSDlet id.
        id: &'a str,
    },
    /// `arg <name> <signature>`.
    Arg {
        /// Argument name.
        name: &'a str,
        /// Rendered signature.
        ty: &'a str,
    },
    /// `in <name> <signature>`.
    Input {
        /// Port name.
        name: &'a str,
        /// Rendered signature.
        ty: &'a str,
    },
    /// `out <name> <signature>`.
    Output {
        /// Port name.
        name: &'a str,
        /// Rendered signature.
        ty: &'a str,
    },
}

impl<'a> MetaView<'a> {
    /// The payload's records in order; each item is a record or the reason its line is bad.
    pub fn records(&self) -> Records<'a> {
        Records {
            lines: self.payload.split_terminator('\n'),
            line: 0,
        }
    }
}

/// Iterator over payload records, from [`MetaView::records`].
#[derive(Clone, Debug)]
pub struct Records<'a> {
    lines: core::str::SplitTerminator<'a, char>,
    line: usize,
}

fn name_field(f: Option<&str>) -> Option<&str> {
    f.filter(|n| is_valid_name(n))
}

fn sig_field(f: Option<&str>) -> Option<&str> {
    // Rendered signatures are non-empty printable ASCII without spaces or tabs.
    f.filter(|s| !s.is_empty() && s.bytes().all(|c| c.is_ascii_graphic()))
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, MetaError>;

    fn next(&mut self) -> Option<Self::Item> {
        let text = self.lines.next()?;
        self.line += 1;
        let line = self.line;
        let bad = |reason| Some(Err(MetaError::BadRecord { line, reason }));
        let mut fields = text.split('\t');
        let kind = fields.next().unwrap_or("");
        let a = fields.next();
        let b = fields.next();
        if fields.next().is_some() {
            return bad("too many fields");
        }
        let rec = match kind {
            "module" => match (name_field(a), name_field(b)) {
                (Some(name), Some(version)) => Record::Module { name, version },
                _ => return bad("expected `module <name> <version>`"),
            },
            "ssdlet" => match (name_field(a), b) {
                (Some(id), None) => Record::Ssdlet { id },
                _ => return bad("expected `ssdlet <id>`"),
            },
            "arg" | "in" | "out" => match (name_field(a), sig_field(b)) {
                (Some(name), Some(ty)) => match kind {
                    "arg" => Record::Arg { name, ty },
                    "in" => Record::Input { name, ty },
                    _ => Record::Output { name, ty },
                },
                _ => return bad("expected `<arg|in|out> <name> <signature>`"),
            },
            _ => return bad("unknown record kind (expected module, ssdlet, arg, in or out)"),
        };
        Some(Ok(rec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR: TypeSig = TypeSig::Tuple(&[TypeSig::Str, TypeSig::U32]);
    const DESC: ModuleDesc = ModuleDesc {
        name: "wc",
        version: "0.1.0",
        ssdlets: &[SsdletDesc {
            id: "idMapper",
            arg_names: &["file"],
            arg_types: &[TypeSig::File],
            input_names: &[],
            input_types: &[],
            output_names: &["words"],
            output_types: &[PAIR],
        }],
    };
    const LEN: usize = encoded_len(&DESC);
    static BYTES: [u8; LEN] = encode::<LEN>(&DESC, crate::ABI_VERSION);

    #[test]
    fn round_trip() {
        let view = parse(&BYTES).expect("valid metadata");
        assert_eq!(view.header.abi_version, crate::ABI_VERSION);
        assert_eq!(
            view.payload,
            "module\twc\t0.1.0\nssdlet\tidMapper\narg\tfile\tfile\nout\twords\t(str,u32)\n"
        );
        let recs: [Record<'_>; 4] = [
            Record::Module {
                name: "wc",
                version: "0.1.0",
            },
            Record::Ssdlet { id: "idMapper" },
            Record::Arg {
                name: "file",
                ty: "file",
            },
            Record::Output {
                name: "words",
                ty: "(str,u32)",
            },
        ];
        let mut it = view.records();
        for r in recs {
            assert_eq!(it.next(), Some(Ok(r)));
        }
        assert_eq!(it.next(), None);
    }

    #[test]
    fn detects_damage() {
        assert_eq!(parse(&BYTES[..10]).unwrap_err(), MetaError::TooShort { len: 10 });
        let mut b = BYTES;
        b[0] = b'X';
        assert_eq!(parse(&b).unwrap_err(), MetaError::BadMagic);
        let mut b = BYTES;
        b[HEADER_LEN + 3] ^= 0x20;
        assert!(matches!(parse(&b).unwrap_err(), MetaError::Checksum { .. }));
        assert!(matches!(
            parse(&BYTES[..LEN - 1]).unwrap_err(),
            MetaError::LengthMismatch { .. }
        ));
    }

    #[test]
    fn bad_records() {
        let body = b"module\twc\t1\nbogus\tx\n";
        let mut bytes = [0u8; HEADER_LEN + 20];
        bytes[..8].copy_from_slice(&MAGIC);
        bytes[8..12].copy_from_slice(&1u32.to_le_bytes());
        bytes[12..16].copy_from_slice(&(body.len() as u32).to_le_bytes());
        bytes[16..20].copy_from_slice(&crc32(body).to_le_bytes());
        bytes[HEADER_LEN..].copy_from_slice(body);
        let view = parse(&bytes).expect("header fine");
        let mut it = view.records();
        assert!(matches!(it.next(), Some(Ok(Record::Module { .. }))));
        assert_eq!(
            it.next(),
            Some(Err(MetaError::BadRecord {
                line: 2,
                reason: "unknown record kind (expected module, ssdlet, arg, in or out)"
            }))
        );
    }
}
