//! A message's postcard bytes as JSON, by the port's rendered type signature
//! ([`ndp_protocol::sig`]): `ndp run` prints what an SSDlet sends without knowing its Rust
//! types.

use ndp_protocol::sig::{read, Build, Scalar, Sig};
use serde_json::{json, Map, Value};

pub use ndp_protocol::sig::parse;

/// Decodes one message of signature `sig` from `bytes` (all of them) as JSON.
pub fn decode(sig: &Sig, bytes: &[u8]) -> Result<Value, String> {
    read(sig, bytes, &mut Json)
}

/// Encodes JSON `v` (in the shape [`decode`] gives) as one message of signature `sig`.
pub fn encode(sig: &Sig, v: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    put(sig, v, &mut out)?;
    Ok(out)
}

fn varint(mut n: u128, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn put(sig: &Sig, v: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    let want = |what: &str| format!("expected {what}, found `{v}`");
    let array = |n: Option<usize>| -> Result<&Vec<Value>, String> {
        match v.as_array() {
            Some(a) if n.is_none_or(|n| a.len() == n) => Ok(a),
            _ => Err(want(&n.map_or("an array".into(), |n| format!("an array of {n}")))),
        }
    };
    match sig {
        Sig::Unit => v.is_null().then_some(()).ok_or_else(|| want("null"))?,
        Sig::Bool => out.push(u8::from(v.as_bool().ok_or_else(|| want("true or false"))?)),
        Sig::Uint(bits) => {
            let n = v.as_u64().ok_or_else(|| want("an unsigned integer"))?;
            if *bits < 64 && n >> bits != 0 {
                return Err(format!("{n} does not fit a u{bits}"));
            }
            if *bits == 8 {
                out.push(n as u8);
            } else {
                varint(u128::from(n), out);
            }
        }
        Sig::Int(bits) => {
            let n = v.as_i64().ok_or_else(|| want("an integer"))?;
            let (lo, hi) = (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
            if !(lo..=hi).contains(&i128::from(n)) {
                return Err(format!("{n} does not fit an i{bits}"));
            }
            if *bits == 8 {
                out.push(n as i8 as u8);
            } else {
                varint(((n << 1) ^ (n >> 63)) as u64 as u128, out);
            }
        }
        Sig::F32 => out.extend((v.as_f64().ok_or_else(|| want("a number"))? as f32).to_le_bytes()),
        Sig::F64 => out.extend(v.as_f64().ok_or_else(|| want("a number"))?.to_le_bytes()),
        Sig::Char | Sig::Str => {
            let text = v.as_str().ok_or_else(|| want("a string"))?;
            if matches!(sig, Sig::Char) && text.chars().count() != 1 {
                return Err(want("a string of one character"));
            }
            varint(text.len() as u128, out);
            out.extend_from_slice(text.as_bytes());
        }
        Sig::Option(_) if v.is_null() => out.push(0),
        Sig::Option(inner) => {
            out.push(1);
            put(inner, v, out)?;
        }
        Sig::Seq(inner) => {
            let a = array(None)?;
            varint(a.len() as u128, out);
            for item in a {
                put(inner, item, out)?;
            }
        }
        Sig::Map(k, val) => {
            let a = array(None)?;
            varint(a.len() as u128, out);
            for pair in a {
                match pair.as_array().map(Vec::as_slice) {
                    Some([key, value]) => {
                        put(k, key, out)?;
                        put(val, value, out)?;
                    }
                    _ => return Err(format!("expected a map entry `[key, value]`, found `{pair}`")),
                }
            }
        }
        Sig::Tuple(items) => {
            for (s, item) in items.iter().zip(array(Some(items.len()))?) {
                put(s, item, out)?;
            }
        }
        Sig::Struct(name, fields) => {
            let o = v.as_object().ok_or_else(|| want(&format!("a `{name}` object")))?;
            if let Some(extra) = o.keys().find(|k| !fields.iter().any(|(f, _)| f == *k)) {
                return Err(format!("`{name}` has no field `{extra}`"));
            }
            for (f, s) in fields {
                let fv = o.get(f).ok_or_else(|| format!("`{name}` needs field `{f}`"))?;
                put(s, fv, out)?;
            }
        }
        Sig::Named(name) => {
            return Err(format!(
                "`{name}` is an opaque signature: its encoding is not known here"
            ))
        }
    }
    Ok(())
}

/// Builds JSON: structs as objects, sequences and tuples as arrays, maps as arrays of
/// `[key, value]` pairs (keys need not be strings), `None` and `()` as null.
struct Json;

impl Build for Json {
    type Out = Value;

    fn scalar(&mut self, s: Scalar<'_>) -> Value {
        match s {
            Scalar::Unit => Value::Null,
            Scalar::Bool(b) => json!(b),
            Scalar::Uint(u) => json!(u),
            Scalar::Int(i) => json!(i),
            Scalar::F32(f) => json!(f),
            Scalar::F64(f) => json!(f),
            Scalar::Str(s) => json!(String::from_utf8_lossy(s)),
        }
    }

    fn list(&mut self, items: Vec<Value>, _: bool) -> Value {
        Value::Array(items)
    }

    fn map(&mut self, pairs: Vec<(Value, Value)>) -> Value {
        Value::Array(pairs.into_iter().map(|(k, v)| json!([k, v])).collect())
    }

    fn fields(&mut self, fields: Vec<(&str, Value)>) -> Value {
        let mut m = Map::new();
        for (name, v) in fields {
            m.insert(name.to_owned(), v);
        }
        Value::Object(m)
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
    fn decodes_what_postcard_encodes_by_signature() {
        let sig = parse("Wc{word:str,counts:seq<(str,u32)>,delta:i64,maybe:option<bool>}").unwrap();
        let v = Wc {
            word: "fox".into(),
            counts: vec![("a".into(), 300), ("b".into(), 1)],
            delta: -70000,
            maybe: Some(true),
        };
        let bytes = postcard::to_allocvec(&v).unwrap();
        assert_eq!(
            decode(&sig, &bytes).unwrap(),
            json!({"word": "fox", "counts": [["a", 300], ["b", 1]], "delta": -70000, "maybe": true})
        );
        assert_eq!(
            decode(&parse("u64").unwrap(), &postcard::to_allocvec(&u64::MAX).unwrap()).unwrap(),
            json!(u64::MAX)
        );
        assert!(decode(&sig, &bytes[..bytes.len() - 1]).is_err());
    }

    #[test]
    fn encodes_json_as_postcard_does_by_signature() {
        let sig = parse("Wc{word:str,counts:seq<(str,u32)>,delta:i64,maybe:option<bool>}").unwrap();
        let v = Wc {
            word: "fox".into(),
            counts: vec![("a".into(), 300), ("b".into(), 1)],
            delta: -70000,
            maybe: None,
        };
        let j = json!({"word": "fox", "counts": [["a", 300], ["b", 1]], "delta": -70000, "maybe": null});
        assert_eq!(encode(&sig, &j).unwrap(), postcard::to_allocvec(&v).unwrap());
        let m = parse("map<u8,i8>").unwrap();
        let bytes = encode(&m, &json!([[1, -1], [200, 127]])).unwrap();
        assert_eq!(decode(&m, &bytes).unwrap(), json!([[1, -1], [200, 127]]));
        assert!(encode(&parse("u8").unwrap(), &json!(256))
            .unwrap_err()
            .contains("u8"));
        assert!(encode(&parse("i8").unwrap(), &json!(-129)).is_err());
        assert!(encode(&sig, &json!({"word": "x"}))
            .unwrap_err()
            .contains("counts"));
        assert!(encode(&sig, &json!({"wrd": "x"}))
            .unwrap_err()
            .contains("no field `wrd`"));
    }
}
