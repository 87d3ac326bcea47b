//! SSDlet arguments: values the host passes when it instantiates an SSDlet.
//!
//! On the wire the argument tuple is postcard-encoded; a [`File`] travels as its handle
//! (`u64`) and is turned back into a capability here.

use serde::de::DeserializeOwned;
use ssdlet_abi::sig::TypeSig;
use ssdlet_abi::FileHandle;

use crate::file::File;
use crate::message::Message;
use crate::rt::Rt;

/// One argument type: any [`Message`], or a [`File`].
pub trait Arg: Sized {
    /// Wire form of the argument.
    type Raw: DeserializeOwned;
    /// Signature recorded in the metadata.
    const SIG: TypeSig;
    #[doc(hidden)]
    fn bind(raw: Self::Raw, rt: Rt) -> Self;
}

impl<T: Message> Arg for T {
    type Raw = T;
    const SIG: TypeSig = T::SIG;
    fn bind(raw: T, _: Rt) -> T {
        raw
    }
}

impl Arg for File {
    type Raw = u64;
    const SIG: TypeSig = TypeSig::File;
    fn bind(raw: u64, rt: Rt) -> File {
        File::new(rt, FileHandle(raw))
    }
}

/// A tuple of [`Arg`]s: an SSDlet's arguments in order.
pub trait ArgList: Sized {
    /// Wire form of the tuple.
    type Raw: DeserializeOwned;
    /// Argument signatures, in order.
    const SIGS: &'static [TypeSig];
    #[doc(hidden)]
    fn bind(raw: Self::Raw, rt: Rt) -> Self;
}

impl ArgList for () {
    type Raw = ();
    const SIGS: &'static [TypeSig] = &[];
    fn bind(_: (), _: Rt) {}
}

macro_rules! arg_tuple {
    ($($t:ident : $i:tt),+) => {
        impl<$($t: Arg),+> ArgList for ($($t,)+) {
            type Raw = ($($t::Raw,)+);
            const SIGS: &'static [TypeSig] = &[$($t::SIG),+];
            fn bind(raw: Self::Raw, rt: Rt) -> Self {
                ($($t::bind(raw.$i, rt),)+)
            }
        }
    };
}

arg_tuple!(A: 0);
arg_tuple!(A: 0, B: 1);
arg_tuple!(A: 0, B: 1, C: 2);
arg_tuple!(A: 0, B: 1, C: 2, D: 3);
arg_tuple!(A: 0, B: 1, C: 2, D: 3, E: 4);
arg_tuple!(A: 0, B: 1, C: 2, D: 3, E: 4, F: 5);
