//! [`Message`]: types that can travel through ports, each with a stable [`TypeSig`].
//!
//! Messages are encoded with `postcard`. A type's signature is structural (see
//! [`ssdlet_abi::sig`]), so the same type gives the same signature in every crate that uses
//! it, and two crates that each declare `struct WordCount { word: String, count: u32 }` agree
//! too. User structs get an impl from [`crate::message!`] or by hand.

use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;
use serde::Serialize;
use ssdlet_abi::sig::TypeSig;

/// A type that can be sent through a port.
///
/// Implement it with [`crate::message!`] for a struct, or by hand:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use ssdlet_sdk::{Message, TypeSig};
///
/// #[derive(Serialize, Deserialize)]
/// struct Opaque(u64);
/// impl Message for Opaque {
///     // An opaque name: both ends must agree on it by convention.
///     const SIG: TypeSig = TypeSig::Named("Opaque-v1");
/// }
/// ```
pub trait Message: Serialize + DeserializeOwned {
    /// The type's signature, compared when ports are connected.
    const SIG: TypeSig;
}

macro_rules! prim {
    ($($t:ty => $s:ident),* $(,)?) => { $(impl Message for $t { const SIG: TypeSig = TypeSig::$s; })* };
}

prim!(
    () => Unit, bool => Bool, u8 => U8, u16 => U16, u32 => U32, u64 => U64,
    i8 => I8, i16 => I16, i32 => I32, i64 => I64, f32 => F32, f64 => F64, char => Char,
    String => Str,
);

impl<T: Message> Message for Vec<T> {
    const SIG: TypeSig = TypeSig::Seq(&T::SIG);
}

impl<T: Message> Message for Option<T> {
    const SIG: TypeSig = TypeSig::Option(&T::SIG);
}

impl<T: Message> Message for Box<T> {
    const SIG: TypeSig = T::SIG;
}

impl<K: Message + Ord, V: Message> Message for BTreeMap<K, V> {
    const SIG: TypeSig = TypeSig::Map(&K::SIG, &V::SIG);
}

impl<K: Message + Eq + std::hash::Hash, V: Message> Message for HashMap<K, V> {
    const SIG: TypeSig = TypeSig::Map(&K::SIG, &V::SIG);
}

macro_rules! tuple {
    ($($n:ident),+) => {
        impl<$($n: Message),+> Message for ($($n,)+) {
            const SIG: TypeSig = TypeSig::Tuple(&[$($n::SIG),+]);
        }
    };
}

/// An array is its elements in order, as postcard (and serde) encode it: its signature is
/// the tuple of `N` `T`s, so `[u32; 3]` and `(u32, u32, u32)` connect. serde implements arrays
/// up to 32 elements; a longer one is a `Vec` (or a newtype with its own serde impls).
impl<T: Message, const N: usize> Message for [T; N]
where
    [T; N]: Serialize + DeserializeOwned,
{
    const SIG: TypeSig = TypeSig::Tuple(&[T::SIG; N]);
}

tuple!(A);
tuple!(A, B);
tuple!(A, B, C);
tuple!(A, B, C, D);
tuple!(A, B, C, D, E);
tuple!(A, B, C, D, E, F);

/// Declares a struct with named fields and implements [`Message`] for it from its fields.
///
/// The struct must also derive serde's `Serialize` and `Deserialize` (write the derives as
/// attributes inside the macro). Field attributes that change the encoding (e.g.
/// `#[serde(rename)]`, `skip`) are not reflected in the signature: avoid them on messages.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// ssdlet_sdk::message! {
///     #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
///     pub struct WordCount {
///         pub word: String,
///         pub count: u32,
///     }
/// }
/// # use ssdlet_sdk::Message;
/// let mut buf = [0u8; 64];
/// assert_eq!(WordCount::SIG.render_into(&mut buf), "WordCount{word:str,count:u32}");
/// ```
#[macro_export]
macro_rules! message {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field : $ty ),*
        }

        impl $crate::Message for $name {
            const SIG: $crate::TypeSig = $crate::TypeSig::Struct {
                name: ::core::stringify!($name),
                fields: &[ $( $crate::abi::sig::Field {
                    name: ::core::stringify!($field),
                    ty: <$ty as $crate::Message>::SIG,
                } ),* ],
            };
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_are_tuples_of_their_elements_on_the_wire_and_in_the_signature() {
        assert_eq!(crate::sig_string(&<[u32; 3]>::SIG), "(u32,u32,u32)");
        assert_eq!(
            crate::sig_string(&<[u32; 3]>::SIG),
            crate::sig_string(&<(u32, u32, u32)>::SIG)
        );
        let a = [7u64, 300, u64::MAX];
        let bytes = postcard::to_allocvec(&a).unwrap();
        assert_eq!(bytes, postcard::to_allocvec(&(7u64, 300u64, u64::MAX)).unwrap());
        assert_eq!(postcard::from_bytes::<[u64; 3]>(&bytes).unwrap(), a);
        assert_eq!(crate::sig_string(&<Vec<[u8; 2]>>::SIG), "seq<(u8,u8)>");
    }
}
