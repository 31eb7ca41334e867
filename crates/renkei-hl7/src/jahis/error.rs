//! Why a message could not be mapped. Messages name data kinds, message types, segments and
//! fields, never values: a value may be patient data, and these texts go to logs and to the
//! quarantine list.

use std::fmt;

use crate::message::Location;

/// Why [`super::map_message`] refused a message. The pipeline quarantines the file with
/// [`MapError::code`] and the English [`Display`](fmt::Display) text (or
/// [`MapError::message_ja`] for the facility's screens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// The data kind has no mapping (an unknown `Other` kind), or the message type in MSH-9
    /// contradicts the data kind of the file name (an ADT message stored as OMP-01, say).
    #[error("{}", unknown_type_text(.kind, .message_type.as_deref()))]
    UnknownMessageType {
        /// The data kind of the file name (`[A-Z0-9-]+`, checked when the name was parsed).
        kind: String,
        /// MSH-9.1^MSH-9.2 when both look like HL7 codes; `None` when the kind itself is
        /// unknown or MSH-9 holds something else.
        message_type: Option<String>,
    },
    /// A value the mapping needs (a segment, or a field that identifies what a record is) is
    /// absent or empty.
    #[error("required {place} is missing or empty")]
    MissingField {
        /// Where, in HL7 notation: `PID segment`, `RXE-2 (segment 5)`.
        place: String,
    },
    /// PID-3 (in any PID segment) does not name the patient of the file name and folder. The
    /// file must not be filed under either patient: filing under the wrong patient is the worst
    /// outcome the network can have.
    #[error("PID-3 does not name the patient of the storage file name and folder")]
    PatientMismatch,
    /// A value is present but cannot be read as what its field holds (a timestamp that is not
    /// one, a birth date or sex the patient could be misidentified by, a second message in the
    /// file).
    #[error("{place} is not a valid {expected}")]
    BadValue {
        /// Where, in HL7 notation.
        place: String,
        /// What the field should hold, in English.
        expected: &'static str,
    },
}

fn unknown_type_text(kind: &str, message_type: Option<&str>) -> String {
    match message_type {
        Some(t) => format!("message type {t} does not match data kind {kind}"),
        None => format!("data kind {kind} has no mapping"),
    }
}

impl MapError {
    /// A stable machine-readable code: `unknown-message-type`, `missing-field`,
    /// `patient-mismatch` or `bad-value`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownMessageType { .. } => "unknown-message-type",
            Self::MissingField { .. } => "missing-field",
            Self::PatientMismatch => "patient-mismatch",
            Self::BadValue { .. } => "bad-value",
        }
    }

    /// The reason in Japanese, for the facility's administrators.
    #[must_use]
    pub fn message_ja(&self) -> String {
        match self {
            Self::UnknownMessageType {
                kind,
                message_type: Some(t),
            } => format!("メッセージ型 {t} がデータ種別 {kind} と一致しません"),
            Self::UnknownMessageType {
                kind,
                message_type: None,
            } => format!("データ種別 {kind} は取り込みに対応していません"),
            Self::MissingField { place } => format!("必須項目 {place} がありません"),
            Self::PatientMismatch => {
                "PID-3 の患者IDがストレージのファイル名・フォルダの患者IDと一致しません（別の患者の情報として登録しないため取り込みを保留しました）".to_owned()
            }
            Self::BadValue { place, expected } => {
                format!("{place} の値が不正です（{}）", expected_ja(expected))
            }
        }
    }

    pub(crate) fn missing(place: impl fmt::Display) -> Self {
        Self::MissingField {
            place: place.to_string(),
        }
    }

    pub(crate) fn bad(location: Location, expected: &'static str) -> Self {
        Self::BadValue {
            place: location.to_string(),
            expected,
        }
    }
}

fn expected_ja(expected: &str) -> &'static str {
    match expected {
        TIMESTAMP => "日時として読めません",
        BIRTH_DATE => "生年月日として読めません",
        SEX => "性別コードとして読めません",
        SINGLE_MESSAGE => "1ファイルに複数のメッセージがあります",
        _ => "読めません",
    }
}

/// `expected` of a timestamp.
pub(crate) const TIMESTAMP: &str = "HL7 timestamp";
/// `expected` of PID-7.
pub(crate) const BIRTH_DATE: &str = "birth date (YYYYMMDD)";
/// `expected` of PID-8.
pub(crate) const SEX: &str = "sex code (HL7 table 0001)";
/// `expected` of a second MSH.
pub(crate) const SINGLE_MESSAGE: &str = "single message per file (a second MSH has content)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_texts_carry_no_values() {
        let e = MapError::UnknownMessageType {
            kind: "OMP-01".into(),
            message_type: Some("ADT^A08".into()),
        };
        assert_eq!(e.code(), "unknown-message-type");
        assert_eq!(
            e.to_string(),
            "message type ADT^A08 does not match data kind OMP-01"
        );
        assert!(e.message_ja().contains("OMP-01"));
        let e = MapError::missing("PID segment");
        assert_eq!(e.code(), "missing-field");
        assert_eq!(e.to_string(), "required PID segment is missing or empty");
        assert_eq!(MapError::PatientMismatch.code(), "patient-mismatch");
        let e = MapError::BadValue {
            place: "PID-7 (segment 3)".into(),
            expected: BIRTH_DATE,
        };
        assert_eq!(e.code(), "bad-value");
        assert_eq!(
            e.to_string(),
            "PID-7 (segment 3) is not a valid birth date (YYYYMMDD)"
        );
        assert_eq!(
            e.message_ja(),
            "PID-7 (segment 3) の値が不正です（生年月日として読めません）"
        );
    }
}
