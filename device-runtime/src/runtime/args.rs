//! SSDlet arguments: values checked against the SSDlet's metadata and encoded with postcard.

use super::FileId;

/// An argument value for [`super::Runtime::spawn`], checked against the SSDlet's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgValue {
    /// A file (signature `file`): the SSDlet's capability to read it.
    File(FileId),
    /// `u64`.
    U64(u64),
    /// `u32`.
    U32(u32),
    /// `i64`.
    I64(i64),
    /// `bool`.
    Bool(bool),
    /// `str`.
    Str(String),
    /// Any other message type: its rendered signature and one postcard-encoded value (checked
    /// against the signature at spawn).
    Message {
        /// The rendered signature.
        sig: String,
        /// The encoded value.
        bytes: Vec<u8>,
    },
}

impl ArgValue {
    pub(crate) fn sig(&self) -> &str {
        match self {
            ArgValue::Message { sig, .. } => sig,
            ArgValue::File(_) => "file",
            ArgValue::U64(_) => "u64",
            ArgValue::U32(_) => "u32",
            ArgValue::I64(_) => "i64",
            ArgValue::Bool(_) => "bool",
            ArgValue::Str(_) => "str",
        }
    }

    pub(crate) fn encode(&self, out: Vec<u8>) -> Result<Vec<u8>, postcard::Error> {
        match self {
            ArgValue::File(f) => postcard::to_extend(&f.0, out),
            ArgValue::U64(v) => postcard::to_extend(v, out),
            ArgValue::U32(v) => postcard::to_extend(v, out),
            ArgValue::I64(v) => postcard::to_extend(v, out),
            ArgValue::Bool(v) => postcard::to_extend(v, out),
            ArgValue::Str(v) => postcard::to_extend(v, out),
            ArgValue::Message { bytes, .. } => {
                let mut out = out;
                out.extend_from_slice(bytes);
                Ok(out)
            }
        }
    }
}
