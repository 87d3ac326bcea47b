//! [`Arg`]: an SSDlet argument as the host writes it, and [`IntoArgs`] for passing them as a
//! tuple (Biscuit's `std::make_tuple(File(ssd, name))`) or a list.

use ssdlet_sdk::Message;

use crate::device::Device;
use crate::error::{Error, Result};

/// An SSDlet argument. A file is named here and resolved to the device's file capability when
/// the SSDlet is spawned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    /// A device file (signature `file`), by name.
    File(String),
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
    /// An integer whose type the literal did not say (`4096` rather than `4096u64`): it
    /// becomes the SSDlet's declared integer type (`u64`, `u32` or `i64`) at spawn, if it fits.
    Int(i128),
    /// Any other message type, encoded ([`Arg::message`]): its rendered signature and bytes.
    Message {
        /// The rendered signature, compared with the argument's declared type.
        sig: String,
        /// One postcard-encoded value.
        bytes: Vec<u8>,
    },
}

impl Arg {
    /// A value of any message type as an argument: a `message!` struct, a `Vec`, a map, a
    /// tuple, an `Option`... (the SSDlet declares the same type, or one with the same
    /// structural signature, as ports do). The device checks the bytes against the signature
    /// before the SSDlet sees them.
    ///
    /// ```
    /// # use host_sdk::Arg;
    /// let words = vec![("fox".to_string(), 3u32), ("dog".to_string(), 1)];
    /// let arg = Arg::message(&words).unwrap();
    /// assert!(matches!(arg, Arg::Message { ref sig, .. } if sig == "seq<(str,u32)>"));
    /// ```
    pub fn message<T: Message>(value: &T) -> Result<Arg> {
        let bytes = postcard::to_stdvec(value).map_err(|e| Error::Encode {
            port: "an SSDlet argument".into(),
            ty: std::any::type_name::<T>(),
            reason: e.to_string(),
        })?;
        Ok(Arg::Message {
            sig: ssdlet_sdk::sig_string(&T::SIG),
            bytes,
        })
    }
}

impl Device {
    /// The device file `name` as an SSDlet argument (checked when the SSDlet is spawned).
    pub fn file(&self, name: impl Into<String>) -> Arg {
        Arg::File(name.into())
    }
}

impl From<u64> for Arg {
    fn from(v: u64) -> Arg {
        Arg::U64(v)
    }
}

impl From<u32> for Arg {
    fn from(v: u32) -> Arg {
        Arg::U32(v)
    }
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::I64(v)
    }
}

impl From<i32> for Arg {
    /// An unsuffixed integer literal is an `i32` to Rust: an [`Arg::Int`], typed at spawn.
    fn from(v: i32) -> Arg {
        Arg::Int(v.into())
    }
}

impl From<usize> for Arg {
    fn from(v: usize) -> Arg {
        Arg::Int(v as i128)
    }
}

impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Bool(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Str(v.to_owned())
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Str(v)
    }
}

/// Something that is an SSDlet's argument list: `()`, one [`Arg`], a tuple of up to four
/// values convertible into `Arg`, or a `Vec<Arg>`.
pub trait IntoArgs {
    /// The arguments, in order.
    fn into_args(self) -> Vec<Arg>;
}

impl IntoArgs for () {
    fn into_args(self) -> Vec<Arg> {
        Vec::new()
    }
}

impl IntoArgs for Arg {
    fn into_args(self) -> Vec<Arg> {
        vec![self]
    }
}

impl IntoArgs for Vec<Arg> {
    fn into_args(self) -> Vec<Arg> {
        self
    }
}

macro_rules! tuple_args {
    ($($t:ident),+) => {
        impl<$($t: Into<Arg>),+> IntoArgs for ($($t,)+) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<Arg> {
                let ($($t,)+) = self;
                vec![$($t.into()),+]
            }
        }
    };
}

tuple_args!(A);
tuple_args!(A, B);
tuple_args!(A, B, C);
tuple_args!(A, B, C, D);
