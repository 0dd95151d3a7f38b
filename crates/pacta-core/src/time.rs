//! Instants and durations as the agreement language and reports write them.
//!
//! Instants are RFC 3339 strings with an explicit offset; internally they are whole seconds
//! since the Unix epoch (UTC), which is all the precision monitoring reports carry and keeps
//! arithmetic exact. Durations are written `90s`, `30m`, `24h`, `14d`, `2w`, or a sum such
//! as `1d12h`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

/// A span of time in whole seconds (never negative once parsed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

/// Why a time or duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("`{0}` is not an RFC 3339 time with an offset (e.g. 2026-03-01T00:00:00+02:00)")]
    BadTimestamp(String),
    #[error(
        "`{0}` is not a duration: write a number and a unit s, m, h, d or w (e.g. 24h, 14d, 1d12h)"
    )]
    BadDuration(String),
    #[error("`{0}` is out of the supported range")]
    OutOfRange(String),
}

impl Timestamp {
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Timestamp(seconds)
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// `self + d`, saturating instead of overflowing on absurd inputs.
    pub fn plus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(d.0))
    }

    pub fn minus(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(d.0))
    }

    /// The duration from `earlier` to `self` (negative if `earlier` is later).
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }

    /// Formats in UTC as `YYYY-MM-DDTHH:MM:SSZ`, the canonical form in every output.
    pub fn to_rfc3339(self) -> String {
        let mut buf = [0; 20];
        match self.four_digit_year_rfc3339(&mut buf) {
            Some(s) => s.to_owned(),
            None => self.chrono_rfc3339(),
        }
    }

    fn chrono_rfc3339(self) -> String {
        match chrono::DateTime::from_timestamp(self.0, 0) {
            Some(t) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            None => format!("@{}", self.0),
        }
    }

    /// [`Self::to_rfc3339`] for years 0 to 9999, written into `buf` without chrono's format
    /// parser (which cost more than the rest of the digest's encoding; a test checks the two
    /// agree). Days to civil dates: H. Hinnant's `civil_from_days`.
    fn four_digit_year_rfc3339(self, buf: &mut [u8; 20]) -> Option<&str> {
        let days = self.0.div_euclid(86_400);
        let second = self.0.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        if !(0..=9_999).contains(&year) {
            return None;
        }
        let fields = [
            (0, 4, year),
            (5, 2, month),
            (8, 2, day),
            (11, 2, second / 3_600),
            (14, 2, second / 60 % 60),
            (17, 2, second % 60),
        ];
        buf.copy_from_slice(b"0000-00-00T00:00:00Z");
        for (at, width, mut value) in fields {
            for digit in buf.get_mut(at..at + width)?.iter_mut().rev() {
                // 0 to 9, so the cast is exact.
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        std::str::from_utf8(buf).ok()
    }

    /// The UTC calendar day (days since the epoch), used for per-day indicators.
    pub fn day_index(self) -> i64 {
        self.0.div_euclid(86_400)
    }
}

impl FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parsed = chrono::DateTime::parse_from_rfc3339(s.trim())
            .map_err(|_| TimeError::BadTimestamp(s.to_string()))?;
        Ok(Timestamp(parsed.timestamp()))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0; 20];
        match self.four_digit_year_rfc3339(&mut buf) {
            Some(text) => s.serialize_str(text),
            None => s.serialize_str(&self.chrono_rfc3339()),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Duration {
    pub const fn seconds(s: i64) -> Self {
        Duration(s)
    }
    pub const fn minutes(m: i64) -> Self {
        Duration(m * 60)
    }
    pub const fn hours(h: i64) -> Self {
        Duration(h * 3_600)
    }
    pub const fn days(d: i64) -> Self {
        Duration(d * 86_400)
    }
    pub const fn as_seconds(self) -> i64 {
        self.0
    }
}

impl FromStr for Duration {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err(TimeError::BadDuration(s.to_string()));
        }
        let mut total: i64 = 0;
        let mut digits = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let unit: i64 = match c {
                's' => 1,
                'm' => 60,
                'h' => 3_600,
                'd' => 86_400,
                'w' => 604_800,
                _ => return Err(TimeError::BadDuration(s.to_string())),
            };
            if digits.is_empty() {
                return Err(TimeError::BadDuration(s.to_string()));
            }
            let n: i64 = digits
                .parse()
                .map_err(|_| TimeError::OutOfRange(s.to_string()))?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| TimeError::OutOfRange(s.to_string()))?;
            digits.clear();
        }
        if !digits.is_empty() {
            return Err(TimeError::BadDuration(s.to_string()));
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// The shortest exact form: `72h` prints as `3d`, `90m` as `1h30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        if rest < 0 {
            f.write_str("-")?;
            rest = -rest;
        }
        for (unit, suffix) in [(86_400, 'd'), (3_600, 'h'), (60, 'm'), (1, 's')] {
            if rest >= unit {
                write!(f, "{}{}", rest / unit, suffix)?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_fast_rfc3339_form_is_chronos(
            seconds in proptest::prop_oneof![
                // Years 0 to 9999 and a little beyond on either side.
                -62_200_000_000i64..253_500_000_000,
                proptest::prelude::any::<i64>(),
            ]
        ) {
            let t = Timestamp(seconds);
            proptest::prop_assert_eq!(t.to_rfc3339(), t.chrono_rfc3339());
        }
    }

    #[test]
    fn the_fast_rfc3339_form_is_chronos_at_the_edges() {
        for seconds in [
            0,
            -1,
            86_399,
            951_782_400,     // 2000-02-29
            -62_167_219_200, // 0000-01-01
            -62_167_219_201,
            253_402_300_799, // 9999-12-31T23:59:59
            253_402_300_800,
            i64::MIN,
            i64::MAX,
        ] {
            let t = Timestamp(seconds);
            assert_eq!(t.to_rfc3339(), t.chrono_rfc3339(), "{seconds}");
        }
    }

    #[test]
    fn rfc3339_with_offset_is_normalised_to_utc() {
        let t: Timestamp = "2026-03-01T02:00:00+02:00".parse().unwrap();
        assert_eq!(t.to_rfc3339(), "2026-03-01T00:00:00Z");
    }

    #[test]
    fn timestamp_without_offset_is_rejected() {
        assert!("2026-03-01T02:00:00".parse::<Timestamp>().is_err());
    }

    #[test]
    fn durations_parse_units_and_sums() {
        assert_eq!("24h".parse::<Duration>().unwrap(), Duration::hours(24));
        assert_eq!("14d".parse::<Duration>().unwrap(), Duration::days(14));
        assert_eq!("1d12h".parse::<Duration>().unwrap(), Duration::hours(36));
        assert_eq!("2w".parse::<Duration>().unwrap(), Duration::days(14));
    }

    #[test]
    fn durations_reject_garbage() {
        for bad in ["", "h", "12", "3x", "1.5h", "-2d", "99999999999999999999d"] {
            assert!(bad.parse::<Duration>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn durations_print_in_shortest_exact_form() {
        assert_eq!(Duration::hours(72).to_string(), "3d");
        assert_eq!(Duration::minutes(90).to_string(), "1h30m");
    }
}
