//! Sizes on the command line: `4096`, `64KiB`, `64MiB`, `1GiB` (binary), `10MB` (decimal),
//! `64M` / `1G` (binary), case-insensitive.

/// A size that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("size `{value}`: {reason}; expected bytes with an optional unit, e.g. 4096, 64MiB, 1GiB")]
pub struct SizeError {
    /// What was given.
    pub value: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// Parses a size in bytes.
pub fn parse_size(value: &str) -> Result<u64, SizeError> {
    let err = |reason| SizeError {
        value: value.to_owned(),
        reason,
    };
    let s = value.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    if digits.is_empty() {
        return Err(err("no number"));
    }
    let n: u64 = digits.parse().map_err(|_| err("number too large"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return Err(err("unknown unit")),
    };
    n.checked_mul(mult).ok_or_else(|| err("too large"))
}

/// `bytes` for people: `64.0 MiB`.
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1gib"), Ok(1 << 30));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("12XB").unwrap_err().reason, "unknown unit");
        assert_eq!(parse_size("MiB").unwrap_err().reason, "no number");
        assert!(parse_size("99999999999999TiB").is_err());
        assert_eq!(human(64 << 20), "64.0 MiB");
        assert_eq!(human(100), "100 B");
    }
}
