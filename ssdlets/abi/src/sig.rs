//! Message-type signatures: a structural description of a serde type that renders to the same
//! string in every crate that describes the same type.
//!
//! A [`TypeSig`] is a `const` tree, so signatures of generic types (`Vec<T>`, tuples, ...)
//! compose at compile time without allocation, and the registration macro can render them
//! into the metadata section. Two ports may be connected only if their rendered signatures are
//! equal. Rendering (no spaces, stable forever within an [`crate::ABI_VERSION`]):
//!
//! | type | rendering |
//! |---|---|
//! | `()`, `bool`, `u8`..`u64`, `i8`..`i64`, `f32`, `f64`, `char` | `()`, `bool`, `u8`, ... |
//! | `String`, `str` | `str` |
//! | `Option<T>` | `option<T>` |
//! | `Vec<T>`, `[T]` | `seq<T>` |
//! | `BTreeMap<K, V>`, `HashMap<K, V>` | `map<K,V>` |
//! | `(A, B)` | `(A,B)` (`(A,)` for one element) |
//! | `struct Name { a: A, b: B }` | `Name{a:A,b:B}` |
//! | a user-chosen opaque name | the name |
//! | an SSDlet `File` argument | `file` |
//!
//! Recursive types cannot be described (the constant would be infinite).

/// Structural signature of a message or argument type.
#[derive(Clone, Copy, Debug)]
pub enum TypeSig {
    /// `()`.
    Unit,
    /// `bool`.
    Bool,
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`.
    Char,
    /// A UTF-8 string.
    Str,
    /// An optional value.
    Option(&'static TypeSig),
    /// A sequence of values.
    Seq(&'static TypeSig),
    /// A map from keys to values.
    Map(&'static TypeSig, &'static TypeSig),
    /// A tuple.
    Tuple(&'static [TypeSig]),
    /// A struct with named fields, in declaration order.
    Struct {
        /// The type's name (without module path).
        name: &'static str,
        /// The fields.
        fields: &'static [Field],
    },
    /// An opaque, user-chosen signature (for types whose structure is described by hand).
    Named(&'static str),
    /// A file capability (SSDlet arguments only).
    File,
}

/// A named field of a [`TypeSig::Struct`].
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The field name.
    pub name: &'static str,
    /// The field type.
    pub ty: TypeSig,
}

/// Appends `bytes` at `pos` when `buf` is non-empty (write mode) and returns the new position.
/// With an empty `buf` (measure mode) it only counts.
pub(crate) const fn put(buf: &mut [u8], pos: usize, bytes: &[u8]) -> usize {
    if !buf.is_empty() {
        let mut i = 0;
        while i < bytes.len() {
            buf[pos + i] = bytes[i];
            i += 1;
        }
    }
    pos + bytes.len()
}

/// Checks that a name can appear in a signature or in metadata: non-empty, ASCII letters,
/// digits and `_`, `-`, `.`, `:`, `+` only.
pub const fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let ok = c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' || c == b':' || c == b'+';
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// Renders `sig` at `pos` (see [`put`] for the two modes) and returns the new position.
pub(crate) const fn render(buf: &mut [u8], pos: usize, sig: &TypeSig) -> usize {
    match sig {
        TypeSig::Unit => put(buf, pos, b"()"),
        TypeSig::Bool => put(buf, pos, b"bool"),
        TypeSig::U8 => put(buf, pos, b"u8"),
        TypeSig::U16 => put(buf, pos, b"u16"),
        TypeSig::U32 => put(buf, pos, b"u32"),
        TypeSig::U64 => put(buf, pos, b"u64"),
        TypeSig::I8 => put(buf, pos, b"i8"),
        TypeSig::I16 => put(buf, pos, b"i16"),
        TypeSig::I32 => put(buf, pos, b"i32"),
        TypeSig::I64 => put(buf, pos, b"i64"),
        TypeSig::F32 => put(buf, pos, b"f32"),
        TypeSig::F64 => put(buf, pos, b"f64"),
        TypeSig::Char => put(buf, pos, b"char"),
        TypeSig::Str => put(buf, pos, b"str"),
        TypeSig::File => put(buf, pos, b"file"),
        TypeSig::Option(inner) => {
            let p = put(buf, pos, b"option<");
            let p = render(buf, p, inner);
            put(buf, p, b">")
        }
        TypeSig::Seq(inner) => {
            let p = put(buf, pos, b"seq<");
            let p = render(buf, p, inner);
            put(buf, p, b">")
        }
        TypeSig::Map(k, v) => {
            let p = put(buf, pos, b"map<");
            let p = render(buf, p, k);
            let p = put(buf, p, b",");
            let p = render(buf, p, v);
            put(buf, p, b">")
        }
        TypeSig::Tuple(items) => {
            let mut p = put(buf, pos, b"(");
            let mut i = 0;
            while i < items.len() {
                if i > 0 {
                    p = put(buf, p, b",");
                }
                p = render(buf, p, &items[i]);
                i += 1;
            }
            if items.len() == 1 {
                p = put(buf, p, b",");
            }
            put(buf, p, b")")
        }
        TypeSig::Struct { name, fields } => {
            assert!(
                is_valid_name(name),
                "struct name in a TypeSig must be a plain identifier"
            );
            let mut p = put(buf, pos, name.as_bytes());
            p = put(buf, p, b"{");
            let mut i = 0;
            while i < fields.len() {
                if i > 0 {
                    p = put(buf, p, b",");
                }
                assert!(
                    is_valid_name(fields[i].name),
                    "field name in a TypeSig must be a plain identifier"
                );
                p = put(buf, p, fields[i].name.as_bytes());
                p = put(buf, p, b":");
                p = render(buf, p, &fields[i].ty);
                i += 1;
            }
            put(buf, p, b"}")
        }
        TypeSig::Named(name) => {
            assert!(
                is_valid_name(name),
                "a TypeSig::Named name must be a plain identifier"
            );
            put(buf, pos, name.as_bytes())
        }
    }
}

impl TypeSig {
    /// Length in bytes of the rendered signature.
    pub const fn rendered_len(&self) -> usize {
        render(&mut [], 0, self)
    }

    /// Renders the signature into `buf` (at least [`TypeSig::rendered_len`] bytes) and returns
    /// the rendered prefix of `buf` as a string.
    ///
    /// # Panics
    /// If `buf` is too short.
    pub fn render_into<'b>(&self, buf: &'b mut [u8]) -> &'b str {
        let len = self.rendered_len();
        assert!(buf.len() >= len, "buffer too short for the rendered TypeSig");
        if len == 0 {
            return "";
        }
        render(&mut buf[..len], 0, self);
        // Rendering only writes ASCII (names are checked by `is_valid_name`).
        core::str::from_utf8(&buf[..len]).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAIR: TypeSig = TypeSig::Tuple(&[TypeSig::Str, TypeSig::U32]);
    const WC: TypeSig = TypeSig::Struct {
        name: "WordCount",
        fields: &[
            Field {
                name: "word",
                ty: TypeSig::Str,
            },
            Field {
                name: "counts",
                ty: TypeSig::Seq(&PAIR),
            },
        ],
    };

    fn check(s: &TypeSig, want: &str) {
        let mut buf = [0u8; 128];
        assert_eq!(s.render_into(&mut buf), want);
        assert_eq!(s.rendered_len(), want.len());
    }

    #[test]
    fn renders_structure() {
        check(&PAIR, "(str,u32)");
        check(&WC, "WordCount{word:str,counts:seq<(str,u32)>}");
        check(&TypeSig::Tuple(&[TypeSig::U8]), "(u8,)");
        check(
            &TypeSig::Map(&TypeSig::Str, &TypeSig::Option(&TypeSig::I64)),
            "map<str,option<i64>>",
        );
    }

    #[test]
    fn names() {
        assert!(is_valid_name("idMapper"));
        assert!(is_valid_name("a-b.c:d_1"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("a b"));
        assert!(!is_valid_name("a\tb"));
    }
}
