//! Typed values and table schemas: [`Value`], [`Date`], [`Decimal`], [`ColumnType`], [`Schema`].
//!
//! Decimals are scaled integers (`units / 10^scale`), as SQL `DECIMAL(15,2)` is stored by most
//! engines; dates are calendar triples. Both order the way SQL orders them, and so do their byte
//! encodings (see [`crate::row`]).

use std::cmp::Ordering;
use std::fmt;

use crate::error::FormatError;

/// A calendar date (proleptic Gregorian), year 1 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// A date from its parts; refuses days that are not on the calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, FormatError> {
        let bad = || FormatError::BadDate {
            text: format!("{year:04}-{month:02}-{day:02}"),
        };
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return Err(bad());
        }
        if day > days_in_month(year, month) {
            return Err(bad());
        }
        Ok(Date { year, month, day })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, FormatError> {
        let bad = || FormatError::BadDate {
            text: text.to_string(),
        };
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |s: &str| s.parse::<u16>().map_err(|_| bad());
        let year = num(&text[0..4])?;
        let month = u8::try_from(num(&text[5..7])?).map_err(|_| bad())?;
        let day = u8::try_from(num(&text[8..10])?).map_err(|_| bad())?;
        Date::new(year, month, day)
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The next calendar day, if not past 9999-12-31.
    pub fn succ(self) -> Option<Date> {
        let Date { year, month, day } = self;
        if day < days_in_month(year, month) {
            Some(Date { day: day + 1, ..self })
        } else if month < 12 {
            Some(Date {
                month: month + 1,
                day: 1,
                ..self
            })
        } else if year < 9999 {
            Some(Date {
                year: year + 1,
                month: 1,
                day: 1,
            })
        } else {
            None
        }
    }

    /// The previous calendar day, if not before 0001-01-01.
    pub fn pred(self) -> Option<Date> {
        let Date { year, month, day } = self;
        if day > 1 {
            Some(Date { day: day - 1, ..self })
        } else if month > 1 {
            Some(Date {
                month: month - 1,
                day: days_in_month(year, month - 1),
                ..self
            })
        } else if year > 1 {
            Some(Date {
                year: year - 1,
                month: 12,
                day: 31,
            })
        } else {
            None
        }
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A fixed-point decimal: `units / 10^scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The scaled integer value.
    pub units: i64,
    /// Digits after the decimal point, at most 18.
    pub scale: u8,
}

impl Decimal {
    /// Largest supported scale (10^18 fits in an `i64`).
    pub const MAX_SCALE: u8 = 18;

    /// Parses `[-]digits[.digits]`, keeping as many fraction digits as are written.
    pub fn parse(text: &str) -> Result<Self, FormatError> {
        let bad = || FormatError::BadDecimal {
            text: text.to_string(),
        };
        let (neg, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) || frac.len() > 18 {
            return Err(bad());
        }
        let mut units: i64 = 0;
        for c in int.bytes().chain(frac.bytes()) {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i64::from(c - b'0')))
                .ok_or_else(bad)?;
        }
        let scale = frac.len() as u8;
        Ok(Decimal {
            units: if neg { -units } else { units },
            scale,
        })
    }

    /// The same value at `scale` digits, or `None` if that loses digits or overflows.
    pub fn rescale(self, scale: u8) -> Option<i64> {
        if scale > Self::MAX_SCALE || self.scale > Self::MAX_SCALE {
            return None;
        }
        if scale >= self.scale {
            self.units.checked_mul(10i64.pow(u32::from(scale - self.scale)))
        } else {
            let div = 10i64.pow(u32::from(self.scale - scale));
            (self.units % div == 0).then_some(self.units / div)
        }
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 || self.scale > Self::MAX_SCALE {
            return write!(f, "{}", self.units);
        }
        let div = 10u64.pow(u32::from(self.scale));
        let abs = self.units.unsigned_abs();
        let sign = if self.units < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{}.{:0w$}",
            abs / div,
            abs % div,
            w = usize::from(self.scale)
        )
    }
}

/// A typed value of one column of one row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// A 64-bit integer.
    Int(i64),
    /// A fixed-point decimal.
    Decimal(Decimal),
    /// A calendar date.
    Date(Date),
    /// A string (fixed or variable width column).
    Str(String),
}

impl Value {
    /// A date literal from `YYYY-MM-DD`.
    pub fn date(text: &str) -> Result<Self, FormatError> {
        Date::parse(text).map(Value::Date)
    }

    /// A decimal literal from text such as `0.05` or `-12.5`.
    pub fn decimal(text: &str) -> Result<Self, FormatError> {
        Decimal::parse(text).map(Value::Decimal)
    }

    /// A string literal.
    pub fn str(text: &str) -> Self {
        Value::Str(text.to_string())
    }

    /// The kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "an integer",
            Value::Decimal(_) => "a decimal",
            Value::Date(_) => "a date",
            Value::Str(_) => "a string",
        }
    }

    /// Orders two values of the same kind (decimals of the same scale); `None` otherwise.
    pub fn compare(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
            (Value::Decimal(a), Value::Decimal(b)) if a.scale == b.scale => Some(a.units.cmp(&b.units)),
            (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
            (Value::Str(a), Value::Str(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(v) => write!(f, "{v}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Str(s) => write!(f, "{s}"),
        }
    }
}

/// The type of a column, which fixes its byte encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `BIGINT`: 8 bytes.
    Int64,
    /// `DECIMAL(p, scale)` with p <= 18: the scaled value in 8 bytes.
    Decimal {
        /// Digits after the decimal point.
        scale: u8,
    },
    /// `DATE`: 4 bytes (year, month, day).
    Date,
    /// `CHAR(n)`: exactly `n` bytes.
    FixedStr(u16),
    /// `VARCHAR(max)`: up to `max` bytes, no NUL, then a NUL terminator.
    VarStr(u16),
}

impl ColumnType {
    /// The name used in error messages.
    pub fn describe(&self) -> String {
        match self {
            ColumnType::Int64 => "BIGINT".into(),
            ColumnType::Decimal { scale } => format!("DECIMAL(15,{scale})"),
            ColumnType::Date => "DATE".into(),
            ColumnType::FixedStr(n) => format!("CHAR({n})"),
            ColumnType::VarStr(n) => format!("VARCHAR({n})"),
        }
    }
}

/// One column: name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name, e.g. `l_shipdate`.
    pub name: String,
    /// Column type.
    pub ty: ColumnType,
}

/// The columns of a table, in storage order. At most [`Schema::MAX_COLUMNS`] columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    name: String,
    columns: Vec<Column>,
}

impl Schema {
    /// Most columns a row can have: each column's tag byte is `0xC0 + index`.
    pub const MAX_COLUMNS: usize = 64;

    /// A schema from `(name, type)` pairs; refuses more than 64 columns and duplicate names.
    pub fn new(table: &str, columns: &[(&str, ColumnType)]) -> Result<Self, FormatError> {
        if columns.is_empty() || columns.len() > Self::MAX_COLUMNS {
            return Err(FormatError::ColumnCount {
                table: table.to_string(),
                count: columns.len(),
                max: Self::MAX_COLUMNS,
            });
        }
        for (i, (name, _)) in columns.iter().enumerate() {
            if columns[..i].iter().any(|(n, _)| n == name) {
                return Err(FormatError::DuplicateColumn {
                    table: table.to_string(),
                    column: name.to_string(),
                });
            }
        }
        Ok(Schema {
            name: table.to_string(),
            columns: columns
                .iter()
                .map(|(n, ty)| Column {
                    name: n.to_string(),
                    ty: *ty,
                })
                .collect(),
        })
    }

    /// A schema known to be valid (fixed schemas in this crate: unique names, 1 to 64 columns).
    pub(crate) fn trusted(table: &str, columns: &[(&str, ColumnType)]) -> Self {
        debug_assert!(Self::new(table, columns).is_ok());
        Schema {
            name: table.to_string(),
            columns: columns
                .iter()
                .map(|(n, ty)| Column {
                    name: n.to_string(),
                    ty: *ty,
                })
                .collect(),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.name
    }

    /// The columns in storage order.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The index of a column by name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_validate_and_print() {
        assert_eq!(Date::parse("1995-01-17").unwrap().to_string(), "1995-01-17");
        assert!(Date::parse("1995-02-29").is_err());
        assert!(Date::parse("1996-02-29").is_ok());
        assert!(Date::parse("1995-13-01").is_err());
        assert!(Date::parse("95-01-17").is_err());
        assert!(Date::parse("1995-1-017").is_err());
        assert!(Date::parse("ab95-01-17").is_err());
        let d = |s| Date::parse(s).unwrap();
        assert_eq!(d("1995-10-01").pred(), Some(d("1995-09-30")));
        assert_eq!(d("1995-01-01").pred(), Some(d("1994-12-31")));
        assert_eq!(d("1996-03-01").pred(), Some(d("1996-02-29")));
        assert_eq!(d("1996-02-29").succ(), Some(d("1996-03-01")));
        assert_eq!(d("1994-12-31").succ(), Some(d("1995-01-01")));
        assert_eq!(d("1995-09-14").succ(), Some(d("1995-09-15")));
        assert_eq!(d("0001-01-01").pred(), None);
        assert_eq!(d("9999-12-31").succ(), None);
    }

    #[test]
    fn decimals_parse_and_rescale() {
        let d = Decimal::parse("0.05").unwrap();
        assert_eq!((d.units, d.scale), (5, 2));
        assert_eq!(d.rescale(4), Some(500));
        assert_eq!(Decimal::parse("0.055").unwrap().rescale(2), None);
        assert_eq!(Decimal::parse("-12.50").unwrap().to_string(), "-12.50");
        assert_eq!(Decimal::parse("-0.01").unwrap().to_string(), "-0.01");
        assert!(Decimal::parse("1.2.3").is_err());
        assert!(Decimal::parse("").is_err());
        assert!(Decimal::parse("-").is_err());
        assert!(Decimal::parse("99999999999999999999").is_err());
        assert_eq!(Decimal::parse("7").unwrap().rescale(2), Some(700));
    }

    #[test]
    fn schema_refuses_duplicates_and_too_many_columns() {
        assert!(Schema::new("t", &[("a", ColumnType::Int64), ("a", ColumnType::Date)]).is_err());
        let many: Vec<(String, ColumnType)> = (0..65).map(|i| (format!("c{i}"), ColumnType::Int64)).collect();
        let refs: Vec<(&str, ColumnType)> = many.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        assert!(matches!(
            Schema::new("t", &refs),
            Err(FormatError::ColumnCount { count: 65, .. })
        ));
    }
}
