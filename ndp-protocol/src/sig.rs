//! Message signatures as the device and hosts read them: the rendered grammar of
//! `ssdlet_abi::sig` parsed into a [`Sig`], and one message's postcard bytes walked by it
//! ([`read`]), so a program that does not know a message's Rust type can still check its bytes
//! (the device, for an argument a host encoded: [`check`]) or show them (`ndp run`, as JSON).
//!
//! Postcard: unsigned integers as varints, signed ones zigzag varints, `f32`/`f64`
//! little-endian, `bool` one byte, strings and sequences length-prefixed (varint), options a
//! 0/1 tag, maps a length then key-value pairs, tuples and structs their fields in order.

/// A parsed signature.
#[derive(Clone, Debug, PartialEq)]
pub enum Sig {
    /// `()`.
    Unit,
    /// `bool`.
    Bool,
    /// `u8`..`u64` (bits).
    Uint(u32),
    /// `i8`..`i64` (bits).
    Int(u32),
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`.
    Char,
    /// `str`.
    Str,
    /// `option<T>`.
    Option(Box<Sig>),
    /// `seq<T>`.
    Seq(Box<Sig>),
    /// `map<K,V>`.
    Map(Box<Sig>, Box<Sig>),
    /// `(A,B)`.
    Tuple(Vec<Sig>),
    /// `Name{a:A}`.
    Struct(String, Vec<(String, Sig)>),
    /// An opaque name: decoded as bytes left as they are.
    Named(String),
}

/// Parses a rendered signature.
pub fn parse(s: &str) -> Result<Sig, String> {
    let mut p = Parser {
        s: s.as_bytes(),
        at: 0,
        depth: 0,
    };
    let sig = p.sig()?;
    if p.at != p.s.len() {
        return Err(format!("`{s}`: unexpected text at byte {}", p.at));
    }
    Ok(sig)
}

/// Deepest nesting of types a signature may have: a module's metadata is input, and the
/// parser and the reader recurse once per level (assumed; real messages nest a few levels).
pub const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
    depth: usize,
}

impl Parser<'_> {
    fn eat(&mut self, c: u8) -> bool {
        if self.s.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.at))
        }
    }

    /// A type name (letters, digits, `_ - . : +`, as `ssdlet_abi::sig::is_valid_name`).
    fn name(&mut self) -> String {
        self.word(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':' | b'+'))
    }

    /// A field name (a Rust identifier: no `:`, which follows it).
    fn field(&mut self) -> String {
        self.word(|c| c.is_ascii_alphanumeric() || c == b'_')
    }

    fn word(&mut self, ok: impl Fn(u8) -> bool) -> String {
        let start = self.at;
        while self.s.get(self.at).is_some_and(|&c| ok(c)) {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.at]).into_owned()
    }

    fn sig(&mut self) -> Result<Sig, String> {
        if self.depth >= MAX_DEPTH {
            return Err(format!(
                "types nest deeper than {MAX_DEPTH} levels at byte {}",
                self.at
            ));
        }
        self.depth += 1;
        let sig = self.sig_inner();
        self.depth -= 1;
        sig
    }

    fn sig_inner(&mut self) -> Result<Sig, String> {
        if self.eat(b'(') {
            let mut items = Vec::new();
            while !self.eat(b')') {
                items.push(self.sig()?);
                if !self.eat(b',') {
                    self.expect(b')')?;
                    break;
                }
            }
            return Ok(if items.is_empty() {
                Sig::Unit
            } else {
                Sig::Tuple(items)
            });
        }
        let name = self.name();
        let inner = |p: &mut Self| -> Result<Sig, String> {
            p.expect(b'<')?;
            let s = p.sig()?;
            p.expect(b'>')?;
            Ok(s)
        };
        Ok(match name.as_str() {
            "bool" => Sig::Bool,
            "u8" => Sig::Uint(8),
            "u16" => Sig::Uint(16),
            "u32" => Sig::Uint(32),
            "u64" => Sig::Uint(64),
            "i8" => Sig::Int(8),
            "i16" => Sig::Int(16),
            "i32" => Sig::Int(32),
            "i64" => Sig::Int(64),
            "f32" => Sig::F32,
            "f64" => Sig::F64,
            "char" => Sig::Char,
            "str" => Sig::Str,
            "option" => Sig::Option(Box::new(inner(self)?)),
            "seq" => Sig::Seq(Box::new(inner(self)?)),
            "map" => {
                self.expect(b'<')?;
                let k = self.sig()?;
                self.expect(b',')?;
                let v = self.sig()?;
                self.expect(b'>')?;
                Sig::Map(Box::new(k), Box::new(v))
            }
            "" => return Err(format!("expected a type at byte {}", self.at)),
            _ if self.eat(b'{') => {
                let mut fields = Vec::new();
                while !self.eat(b'}') {
                    let f = self.field();
                    self.expect(b':')?;
                    fields.push((f, self.sig()?));
                    if !self.eat(b',') {
                        self.expect(b'}')?;
                        break;
                    }
                }
                Sig::Struct(name, fields)
            }
            _ => Sig::Named(name),
        })
    }
}

/// One scalar of a message, as [`read`] finds it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scalar<'a> {
    /// `()`, or an option's `None`.
    Unit,
    /// `bool`.
    Bool(bool),
    /// An unsigned integer.
    Uint(u64),
    /// A signed integer.
    Int(i64),
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
    /// A string's or char's UTF-8 bytes (not checked).
    Str(&'a [u8]),
}

/// What [`read`] builds from a message: a value per scalar, then per compound.
pub trait Build {
    /// What it builds.
    type Out;
    /// A scalar.
    fn scalar(&mut self, s: Scalar<'_>) -> Self::Out;
    /// A sequence, or a tuple (`tuple`).
    fn list(&mut self, items: Vec<Self::Out>, tuple: bool) -> Self::Out;
    /// A map's pairs, in order.
    fn map(&mut self, pairs: Vec<(Self::Out, Self::Out)>) -> Self::Out;
    /// A struct's fields, in order.
    fn fields(&mut self, fields: Vec<(&str, Self::Out)>) -> Self::Out;
}

impl Build for () {
    type Out = ();
    fn scalar(&mut self, _: Scalar<'_>) {}
    fn list(&mut self, _: Vec<()>, _: bool) {}
    fn map(&mut self, _: Vec<((), ())>) {}
    fn fields(&mut self, _: Vec<(&str, ())>) {}
}

/// Reads one message of signature `sig` from `bytes` (all of them) into what `b` builds.
pub fn read<B: Build>(sig: &Sig, bytes: &[u8], b: &mut B) -> Result<B::Out, String> {
    let mut r = Reader { b: bytes, at: 0 };
    let v = r.value(sig, b)?;
    if r.at != bytes.len() {
        return Err(format!("{} bytes left after the message", bytes.len() - r.at));
    }
    Ok(v)
}

/// Whether `bytes` hold exactly one message of signature `sig` (the device's check of an
/// argument a host encoded).
pub fn check(sig: &Sig, bytes: &[u8]) -> Result<(), String> {
    read(sig, bytes, &mut ())
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| {
            format!(
                "the message ends at byte {}; expected {n} more bytes",
                self.b.len()
            )
        })?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// A varint of at most 64 bits (postcard's widest integers here).
    fn varint(&mut self) -> Result<u128, String> {
        let mut v: u128 = 0;
        for shift in (0..).step_by(7).take(10) {
            let byte = self.take(1)?[0];
            v |= u128::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(format!(
            "a varint runs past 10 bytes at byte {}; expected at most 64 bits",
            self.at
        ))
    }

    /// A length prefix, refused when far beyond the bytes left (every element but `()` takes
    /// at least one byte; the slack bounds a sequence of units).
    fn len(&mut self) -> Result<usize, String> {
        let n = self.varint()?;
        let rest = (self.b.len() - self.at) as u128;
        if n > rest + (1 << 20) {
            return Err(format!("a length of {n} does not fit the {rest} bytes left"));
        }
        usize::try_from(n).map_err(|_| format!("a length of {n} does not fit"))
    }

    fn value<B: Build>(&mut self, sig: &Sig, b: &mut B) -> Result<B::Out, String> {
        let scalar = match sig {
            Sig::Unit => Scalar::Unit,
            Sig::Bool => match self.take(1)?[0] {
                b @ (0 | 1) => Scalar::Bool(b == 1),
                b => return Err(format!("a bool is the byte {b}; expected 0 or 1")),
            },
            Sig::Uint(8) => Scalar::Uint(u64::from(self.take(1)?[0])),
            Sig::Uint(bits) => {
                let v = self.varint()?;
                if v >> bits != 0 {
                    return Err(format!("{v} does not fit a u{bits}"));
                }
                Scalar::Uint(v as u64)
            }
            Sig::Int(8) => Scalar::Int(i64::from(self.take(1)?[0] as i8)),
            Sig::Int(bits) => {
                let z = self.varint()?;
                let v = ((z >> 1) as i128) ^ -((z & 1) as i128);
                let half = 1i128 << (bits - 1);
                if !(-half..half).contains(&v) {
                    return Err(format!("{v} does not fit an i{bits}"));
                }
                Scalar::Int(v as i64)
            }
            Sig::F32 => Scalar::F32(f32::from_le_bytes(self.take(4)?.try_into().map_err(|_| "f32")?)),
            Sig::F64 => Scalar::F64(f64::from_le_bytes(self.take(8)?.try_into().map_err(|_| "f64")?)),
            Sig::Char | Sig::Str => {
                let n = self.len()?;
                let bytes = self.take(n)?;
                let text = std::str::from_utf8(bytes).map_err(|e| format!("a string is not UTF-8: {e}"))?;
                if matches!(sig, Sig::Char) && text.chars().count() != 1 {
                    return Err(format!(
                        "a char holds {} characters; expected one",
                        text.chars().count()
                    ));
                }
                Scalar::Str(bytes)
            }
            Sig::Option(inner) => {
                return match self.take(1)?[0] {
                    0 => Ok(b.scalar(Scalar::Unit)),
                    1 => self.value(inner, b),
                    t => Err(format!("an option's tag is {t}; expected 0 or 1")),
                }
            }
            Sig::Seq(inner) => {
                let n = self.len()?;
                let mut items = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    items.push(self.value(inner, b)?);
                }
                return Ok(b.list(items, false));
            }
            Sig::Map(k, v) => {
                let n = self.len()?;
                let mut pairs = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    pairs.push((self.value(k, b)?, self.value(v, b)?));
                }
                return Ok(b.map(pairs));
            }
            Sig::Tuple(items) => {
                let items = items.iter().map(|s| self.value(s, b)).collect::<Result<_, _>>()?;
                return Ok(b.list(items, true));
            }
            Sig::Struct(_, fields) => {
                let mut out = Vec::with_capacity(fields.len());
                for (name, s) in fields {
                    out.push((name.as_str(), self.value(s, b)?));
                }
                return Ok(b.fields(out));
            }
            Sig::Named(name) => {
                return Err(format!(
                    "`{name}` is an opaque signature; its bytes cannot be read without its type"
                ))
            }
        };
        Ok(b.scalar(scalar))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Wc {
        word: String,
        counts: Vec<(String, u32)>,
        delta: i64,
        maybe: Option<bool>,
    }

    #[test]
    fn checks_what_postcard_encodes_by_signature() {
        let sig = parse("Wc{word:str,counts:seq<(str,u32)>,delta:i64,maybe:option<bool>}").unwrap();
        let v = Wc {
            word: "fox".into(),
            counts: vec![("a".into(), 300), ("b".into(), 1)],
            delta: -70000,
            maybe: Some(true),
        };
        let bytes = postcard::to_allocvec(&v).unwrap();
        check(&sig, &bytes).unwrap();
        assert!(check(&sig, &bytes[..bytes.len() - 1]).is_err(), "one byte short");
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(check(&sig, &longer).is_err(), "one byte left over");
        assert!(
            check(&parse("u64").unwrap(), &[0x80]).is_err(),
            "a varint cut short"
        );
        assert!(parse("seq<u64").is_err());
        assert!(check(&parse("bool").unwrap(), &[2]).is_err(), "a bool of 2");
        assert!(check(
            &parse("u16").unwrap(),
            &postcard::to_allocvec(&70_000u32).unwrap()
        )
        .is_err());
        assert!(check(
            &parse("i16").unwrap(),
            &postcard::to_allocvec(&-40_000i32).unwrap()
        )
        .is_err());
        assert!(
            check(&parse("str").unwrap(), &[2, 0xff, 0xfe]).is_err(),
            "not UTF-8"
        );
        assert!(check(&parse("char").unwrap(), &postcard::to_allocvec("ab").unwrap()).is_err());
        let deep = format!("{}u8{}", "seq<".repeat(100_000), ">".repeat(100_000));
        assert!(
            parse(&deep).unwrap_err().contains("nest deeper"),
            "no stack overflow"
        );
        assert_eq!(parse("(u8,)").unwrap(), Sig::Tuple(vec![Sig::Uint(8)]));
    }
}
