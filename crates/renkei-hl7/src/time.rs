//! Lenient parsing of HL7 DTM/TS timestamps, keeping the precision that was sent.
//!
//! Accepted: `YYYY`, `YYYYMM`, `YYYYMMDD`, `YYYYMMDDHH`, `YYYYMMDDHHMM`, `YYYYMMDDHHMMSS`,
//! `YYYYMMDDHHMMSS.S` with 1 to 9 fraction digits (HL7 allows 4; real senders write more), and
//! the SS-MIX2 forms without a dot: 17 digits `YYYYMMDDHHMMSSfff` (milliseconds, file names) and
//! the 15- and 16-digit variants seen in real data (1 or 2 fraction digits). Any of these may be
//! followed by a `+HHMM`/`-HHMM` offset. Surrounding ASCII whitespace is ignored.
//!
//! When no offset is sent the time is taken as Japan Standard Time (+09:00): every facility in
//! the network is in Japan and JAHIS messages never carry an offset, so this is what the sender
//! meant. [`Dtm::has_explicit_offset`] tells the two cases apart.
//!
//! A date-only value stays a date: `20110701` is not midnight. [`Dtm::precision`] and the
//! `Display` form (FHIR `dateTime` syntax: `2011`, `2011-07`, `2011-07-01`,
//! `2011-07-01T10:30:00+09:00`) keep it.

use std::fmt;

use ::time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Japan Standard Time, the offset assumed when a timestamp has none.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};

/// How much of a timestamp was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    /// `YYYY`
    Year,
    /// `YYYYMM`
    Month,
    /// `YYYYMMDD`
    Day,
    /// `YYYYMMDDHH`
    Hour,
    /// `YYYYMMDDHHMM`
    Minute,
    /// `YYYYMMDDHHMMSS`
    Second,
    /// Seconds with this many fraction digits (1 to 9).
    Fraction(u8),
}

impl Precision {
    /// True for `Year`, `Month` and `Day`: the value has no time of day.
    #[must_use]
    pub fn is_date_only(self) -> bool {
        matches!(self, Self::Year | Self::Month | Self::Day)
    }
}

/// Which part of a timestamp is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtmPart {
    /// The month.
    Month,
    /// The day of the month.
    Day,
    /// The hour.
    Hour,
    /// The minute.
    Minute,
    /// The second.
    Second,
    /// The UTC offset.
    Offset,
}

impl fmt::Display for DtmPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Month => "month",
            Self::Day => "day",
            Self::Hour => "hour",
            Self::Minute => "minute",
            Self::Second => "second",
            Self::Offset => "UTC offset",
        })
    }
}

/// Why a timestamp could not be parsed. Messages never contain the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DtmError {
    /// Nothing but whitespace.
    #[error("timestamp is empty")]
    Empty,
    /// A character that is not a digit where a digit is required.
    #[error("timestamp has an unexpected character at position {position}")]
    UnexpectedCharacter {
        /// Byte position in the trimmed text.
        position: usize,
    },
    /// The number of digits before the fraction or offset is not one of the accepted forms.
    #[error("timestamp has {digits} digits, which is not a valid precision")]
    InvalidLength {
        /// How many digits were found.
        digits: usize,
    },
    /// A `.fraction` on a value without seconds, or with more than 9 digits, or empty.
    #[error("timestamp has an invalid fraction of a second")]
    InvalidFraction,
    /// The offset is not `+HHMM` or `-HHMM`.
    #[error("timestamp has an invalid UTC offset")]
    InvalidOffset,
    /// A part is out of range (month 13, 31 February, hour 24, ...).
    #[error("timestamp {0} is out of range")]
    OutOfRange(DtmPart),
}

/// A parsed HL7 timestamp with its precision and offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dtm {
    date: Date,
    time: Time,
    offset: UtcOffset,
    explicit_offset: bool,
    precision: Precision,
}

impl Dtm {
    /// Parse an HL7 DTM/TS value (see the module docs for the accepted forms).
    ///
    /// # Errors
    /// See [`DtmError`].
    pub fn parse(text: &str) -> Result<Self, DtmError> {
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        if text.is_empty() {
            return Err(DtmError::Empty);
        }
        let (main, offset_text) = match text.find(['+', '-']) {
            Some(i) => (text.get(..i).unwrap_or_default(), text.get(i..)),
            None => (text, None),
        };
        let (digits, fraction) = match main.split_once('.') {
            Some((digits, fraction)) => (digits, Some(fraction)),
            None => (main, None),
        };
        if let Some(position) = digits.bytes().position(|b| !b.is_ascii_digit()) {
            return Err(DtmError::UnexpectedCharacter { position });
        }
        let (digits, fraction) = match (digits.len(), fraction) {
            (4 | 6 | 8 | 10 | 12 | 14, _) => (digits, fraction),
            // SS-MIX2 style: milliseconds (or fewer digits) glued to the seconds.
            (15..=17, None) => (digits.get(..14).unwrap_or_default(), digits.get(14..)),
            (n, _) => return Err(DtmError::InvalidLength { digits: n }),
        };
        if fraction.is_some() && digits.len() != 14 {
            return Err(DtmError::InvalidFraction);
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            digits.get(range).and_then(|d| d.parse().ok())
        };
        let year = number(0..4)
            .and_then(|y| i32::try_from(y).ok())
            .unwrap_or(0);
        let month_number = number(4..6).unwrap_or(1);
        let month = u8::try_from(month_number)
            .ok()
            .and_then(|m| Month::try_from(m).ok())
            .ok_or(DtmError::OutOfRange(DtmPart::Month))?;
        let day = number(6..8).unwrap_or(1);
        let date = u8::try_from(day)
            .ok()
            .and_then(|d| Date::from_calendar_date(year, month, d).ok())
            .ok_or(DtmError::OutOfRange(DtmPart::Day))?;
        let part = |range, limit: u32, which| match number(range) {
            None => Ok(0),
            Some(v) if v < limit => u8::try_from(v).map_err(|_| DtmError::OutOfRange(which)),
            Some(_) => Err(DtmError::OutOfRange(which)),
        };
        let hour = part(8..10, 24, DtmPart::Hour)?;
        let minute = part(10..12, 60, DtmPart::Minute)?;
        let second = part(12..14, 60, DtmPart::Second)?;
        let (nanos, fraction_digits) = match fraction {
            None => (0, None),
            Some(f) => parse_fraction(f)?,
        };
        let time = Time::from_hms_nano(hour, minute, second, nanos)
            .map_err(|_| DtmError::OutOfRange(DtmPart::Second))?;
        let precision = match (digits.len(), fraction_digits) {
            (_, Some(n)) => Precision::Fraction(n),
            (4, None) => Precision::Year,
            (6, None) => Precision::Month,
            (8, None) => Precision::Day,
            (10, None) => Precision::Hour,
            (12, None) => Precision::Minute,
            _ => Precision::Second,
        };
        let (offset, explicit_offset) = match offset_text {
            Some(o) => (parse_offset(o)?, true),
            None => (JST, false),
        };
        Ok(Self {
            date,
            time,
            offset,
            explicit_offset,
            precision,
        })
    }

    /// How much was sent.
    #[must_use]
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// True when only a year, month or day was sent.
    #[must_use]
    pub fn is_date_only(&self) -> bool {
        self.precision.is_date_only()
    }

    /// The calendar date (month and day are the 1st when not sent).
    #[must_use]
    pub fn date(&self) -> Date {
        self.date
    }

    /// The time of day, or `None` for a date-only value.
    #[must_use]
    pub fn time(&self) -> Option<Time> {
        (!self.is_date_only()).then_some(self.time)
    }

    /// The UTC offset: the one sent, or [`JST`].
    #[must_use]
    pub fn offset(&self) -> UtcOffset {
        self.offset
    }

    /// True when the value carried its own `+HHMM`/`-HHMM`.
    #[must_use]
    pub fn has_explicit_offset(&self) -> bool {
        self.explicit_offset
    }

    /// The instant, or `None` for a date-only value.
    #[must_use]
    pub fn date_time(&self) -> Option<OffsetDateTime> {
        self.time()
            .map(|t| PrimitiveDateTime::new(self.date, t).assume_offset(self.offset))
    }

    /// The instant, with missing parts taken as the start of the period (for ordering and
    /// comparing values of different precision).
    #[must_use]
    pub fn start(&self) -> OffsetDateTime {
        PrimitiveDateTime::new(self.date, self.time).assume_offset(self.offset)
    }
}

fn parse_fraction(fraction: &str) -> Result<(u32, Option<u8>), DtmError> {
    let len = fraction.len();
    if len == 0 || len > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DtmError::InvalidFraction);
    }
    let value: u32 = fraction.parse().map_err(|_| DtmError::InvalidFraction)?;
    let scale = 10u32.pow(9 - u32::try_from(len).map_err(|_| DtmError::InvalidFraction)?);
    let digits = u8::try_from(len).map_err(|_| DtmError::InvalidFraction)?;
    Ok((value * scale, Some(digits)))
}

fn parse_offset(text: &str) -> Result<UtcOffset, DtmError> {
    let (sign, digits) = match text.split_at_checked(1) {
        Some(("+", d)) => (1i8, d),
        Some(("-", d)) => (-1i8, d),
        _ => return Err(DtmError::InvalidOffset),
    };
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DtmError::InvalidOffset);
    }
    let two = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<i8>().ok());
    let (Some(hours), Some(minutes)) = (two(0..2), two(2..4)) else {
        return Err(DtmError::InvalidOffset);
    };
    if hours > 23 || minutes > 59 {
        return Err(DtmError::OutOfRange(DtmPart::Offset));
    }
    UtcOffset::from_hms(sign * hours, sign * minutes, 0)
        .map_err(|_| DtmError::OutOfRange(DtmPart::Offset))
}

impl fmt::Display for Dtm {
    /// FHIR `dateTime` syntax with the precision kept; a time of day is always written with
    /// seconds and offset, as FHIR requires.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = (
            self.date.year(),
            u8::from(self.date.month()),
            self.date.day(),
        );
        match self.precision {
            Precision::Year => return write!(f, "{y:04}"),
            Precision::Month => return write!(f, "{y:04}-{m:02}"),
            Precision::Day => return write!(f, "{y:04}-{m:02}-{d:02}"),
            Precision::Hour | Precision::Minute | Precision::Second | Precision::Fraction(_) => {}
        }
        let t = self.time;
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            t.hour(),
            t.minute(),
            t.second()
        )?;
        if let Precision::Fraction(n) = self.precision {
            let digits = format!("{:09}", t.nanosecond());
            write!(f, ".{}", digits.get(..usize::from(n)).unwrap_or(&digits))?;
        }
        let (oh, om, _) = self.offset.as_hms();
        let sign = if self.offset.is_negative() { '-' } else { '+' };
        write!(f, "{sign}{:02}:{:02}", oh.unsigned_abs(), om.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: &str) -> String {
        Dtm::parse(s).map_or_else(|e| format!("error: {e}"), |d| d.to_string())
    }

    #[test]
    fn every_precision_is_kept() {
        assert_eq!(show("2011"), "2011");
        assert_eq!(show("201107"), "2011-07");
        assert_eq!(show("20110701"), "2011-07-01");
        assert_eq!(show("2011070108"), "2011-07-01T08:00:00+09:00");
        assert_eq!(show("201107010830"), "2011-07-01T08:30:00+09:00");
        assert_eq!(show("20110701083015"), "2011-07-01T08:30:15+09:00");
        assert_eq!(show("20110701113813.225"), "2011-07-01T11:38:13.225+09:00");
        assert_eq!(
            show("20111220224447.3399"),
            "2011-12-20T22:44:47.3399+09:00"
        );
    }

    #[test]
    fn ssmix2_digit_runs_carry_fractions() {
        assert_eq!(show("20110701113813225"), "2011-07-01T11:38:13.225+09:00");
        assert_eq!(show("201107011138132"), "2011-07-01T11:38:13.2+09:00");
        assert_eq!(show("2011070111381322"), "2011-07-01T11:38:13.22+09:00");
        let dtm = Dtm::parse("20110701113813225").unwrap();
        assert_eq!(dtm.precision(), Precision::Fraction(3));
        assert_eq!(dtm.time().map(|t| t.millisecond()), Some(225));
    }

    #[test]
    fn missing_offset_means_jst_and_explicit_offsets_are_kept() {
        let jst = Dtm::parse("201107010830").unwrap();
        assert!(!jst.has_explicit_offset());
        assert_eq!(jst.offset(), JST);
        let utc = Dtm::parse("201107010830+0000").unwrap();
        assert!(utc.has_explicit_offset());
        assert_eq!(utc.to_string(), "2011-07-01T08:30:00+00:00");
        assert_eq!(show("20110701083000.5-0330"), "2011-07-01T08:30:00.5-03:30");
        assert_eq!(
            jst.date_time().map(|d| d.unix_timestamp()),
            Some(utc.start().unix_timestamp() - 9 * 3600)
        );
    }

    #[test]
    fn date_only_values_have_no_time() {
        let d = Dtm::parse("20110701").unwrap();
        assert!(d.is_date_only());
        assert_eq!(d.time(), None);
        assert_eq!(d.date_time(), None);
        assert_eq!(d.date().to_string(), "2011-07-01");
    }

    #[test]
    fn invalid_values_are_errors_without_the_value() {
        assert_eq!(Dtm::parse("  "), Err(DtmError::Empty));
        assert_eq!(
            Dtm::parse("2011070"),
            Err(DtmError::InvalidLength { digits: 7 })
        );
        assert_eq!(
            Dtm::parse("2011123112345678901"),
            Err(DtmError::InvalidLength { digits: 19 })
        );
        assert_eq!(Dtm::parse("2011-07-01"), Err(DtmError::InvalidOffset));
        assert_eq!(
            Dtm::parse("20111301"),
            Err(DtmError::OutOfRange(DtmPart::Month))
        );
        assert_eq!(
            Dtm::parse("20110230"),
            Err(DtmError::OutOfRange(DtmPart::Day))
        );
        assert_eq!(
            Dtm::parse("2011070124"),
            Err(DtmError::OutOfRange(DtmPart::Hour))
        );
        assert_eq!(
            Dtm::parse("20110701236000"),
            Err(DtmError::OutOfRange(DtmPart::Minute))
        );
        assert_eq!(
            Dtm::parse("20110701235960"),
            Err(DtmError::OutOfRange(DtmPart::Second))
        );
        assert_eq!(Dtm::parse("201107012359.5"), Err(DtmError::InvalidFraction));
        assert_eq!(
            Dtm::parse("20110701235959."),
            Err(DtmError::InvalidFraction)
        );
        assert_eq!(Dtm::parse("2011070123+09"), Err(DtmError::InvalidOffset));
        assert_eq!(
            Dtm::parse("2011070123+2400"),
            Err(DtmError::OutOfRange(DtmPart::Offset))
        );
        assert_eq!(
            Dtm::parse("2011O701"),
            Err(DtmError::UnexpectedCharacter { position: 4 })
        );
        assert_eq!(
            DtmError::OutOfRange(DtmPart::Day).to_string(),
            "timestamp day is out of range"
        );
    }
}
