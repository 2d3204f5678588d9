//! Points in (virtual) time, and their wire form `YYYY-MM-DDThh:mm:ssZ`.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::FormatItem;
use time::macros::format_description;

const WIRE_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Milliseconds since the Unix epoch, UTC.
///
/// The simulator keeps milliseconds so that sub-second delays order events
/// correctly; the wire shows whole seconds, as the real service does.
///
/// Serialized as milliseconds; read from either milliseconds or the wire
/// form, so people can write `"2020-09-11T08:30:55Z"` in fleet files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Millis(i64),
            Text(String),
        }
        match Either::deserialize(deserializer)? {
            Either::Millis(millis) => Ok(Timestamp::from_millis(millis)),
            Either::Text(text) => Timestamp::parse(&text).map_err(serde::de::Error::custom),
        }
    }
}

impl Timestamp {
    /// The earliest time we accept: 1970-01-01T00:00:00Z.
    pub const MIN: Timestamp = Timestamp(0);
    /// The latest time we accept: 9999-12-31T23:59:59.999Z, the last instant
    /// the four-digit wire format can show.
    pub const MAX: Timestamp = Timestamp(253_402_300_799_999);

    /// A timestamp from milliseconds since the epoch, clamped to
    /// [`Timestamp::MIN`]..=[`Timestamp::MAX`].
    pub fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis.clamp(Self::MIN.0, Self::MAX.0))
    }

    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// This time plus `millis`, saturating at [`Timestamp::MAX`].
    pub fn plus_millis(self, millis: u64) -> Timestamp {
        let millis = i64::try_from(millis).unwrap_or(i64::MAX);
        Timestamp::from_millis(self.0.saturating_add(millis))
    }

    /// Parses the wire form, `2020-09-11T08:30:55Z`.
    pub fn parse(text: &str) -> Result<Timestamp, TimestampError> {
        let parsed =
            time::PrimitiveDateTime::parse(text, WIRE_FORMAT).map_err(|_| TimestampError {
                text: text.to_owned(),
            })?;
        let seconds = parsed.assume_utc().unix_timestamp();
        let millis = seconds.checked_mul(1000).ok_or_else(|| TimestampError {
            text: text.to_owned(),
        })?;
        if !(Self::MIN.0..=Self::MAX.0).contains(&millis) {
            return Err(TimestampError {
                text: text.to_owned(),
            });
        }
        Ok(Timestamp(millis))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The constructor keeps the value in range, so formatting cannot fail;
        // should it ever, say so rather than panic inside a response.
        let text = OffsetDateTime::from_unix_timestamp(self.0.div_euclid(1000))
            .ok()
            .and_then(|t| t.format(WIRE_FORMAT).ok());
        match text {
            Some(text) => f.write_str(&text),
            None => f.write_str("invalid-time"),
        }
    }
}

/// A time that is not in the form `YYYY-MM-DDThh:mm:ssZ` between 1970 and 9999.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time `{text}`: expected UTC `YYYY-MM-DDThh:mm:ssZ`, for example `2020-09-11T08:30:55Z`"
)]
pub struct TimestampError {
    text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips_and_drops_milliseconds() {
        let t = Timestamp::parse("2020-09-11T08:30:55Z").unwrap();
        assert_eq!(t.to_string(), "2020-09-11T08:30:55Z");
        assert_eq!(t.plus_millis(999).to_string(), "2020-09-11T08:30:55Z");
        assert_eq!(t.plus_millis(1000).to_string(), "2020-09-11T08:30:56Z");
    }

    #[test]
    fn rejects_other_forms() {
        for bad in [
            "2020-09-11 08:30:55",
            "2020-09-11T08:30:55",
            "2020-09-11T08:30:55+08:00",
            "",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_either_form() {
        let from_text: Timestamp = serde_json::from_str("\"2020-09-11T08:30:55Z\"").unwrap();
        let from_millis: Timestamp = serde_json::from_str("1599813055000").unwrap();
        assert_eq!(from_text, from_millis);
        assert_eq!(serde_json::to_string(&from_text).unwrap(), "1599813055000");
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        assert_eq!(Timestamp::MAX.plus_millis(u64::MAX), Timestamp::MAX);
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59Z");
    }
}
