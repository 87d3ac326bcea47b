//! [`Arg`]: an SSDlet argument as the host writes it, and [`IntoArgs`] for passing them as a
//! tuple (Biscuit's `std::make_tuple(File(ssd, name))`) or a list.

use crate::device::Device;

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
