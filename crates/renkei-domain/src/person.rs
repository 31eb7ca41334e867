//! Residents (参加住民) and their local patient IDs at facilities.

use crate::ids::{FacilityId, PersonId};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Date, OffsetDateTime};

/// 性別 as recorded by facilities (HL7 table 0001 subset used in Japan).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sex {
    Male,
    Female,
    Unknown,
}

impl Sex {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
            Self::Unknown => "unknown",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "male" | "M" | "1" | "男" | "男性" => Some(Self::Male),
            "female" | "F" | "2" | "女" | "女性" => Some(Self::Female),
            "unknown" | "U" | "0" | "9" | "不明" => Some(Self::Unknown),
            _ => None,
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Male => "男",
            Self::Female => "女",
            Self::Unknown => "不明",
        }
    }
}

/// A resident of the network: demographics as registered. Matching (名寄せ) works on
/// normalised copies; these originals are never rewritten.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    /// 氏名（漢字）; pharmacies often have kana only.
    pub name_kanji: Option<String>,
    /// カナ氏名
    pub name_kana: String,
    pub sex: Sex,
    pub birth_date: Date,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub created_at: OffsetDateTime,
}

/// A facility's own patient number (患者ID / カルテ番号).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalPatientNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a local patient ID has 1 to 20 characters of A-Z, a-z, 0-9 or '-'")]
pub struct LocalPatientNumberError;

impl LocalPatientNumber {
    /// SS-MIX2 uses the patient ID in folder and file names, so only safe characters are allowed.
    pub fn parse(s: &str) -> Result<Self, LocalPatientNumberError> {
        let s = s.trim();
        let ok = (1..=20).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(LocalPatientNumberError)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LocalPatientNumber {
    type Error = LocalPatientNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<LocalPatientNumber> for String {
    fn from(n: LocalPatientNumber) -> String {
        n.0
    }
}

impl fmt::Display for LocalPatientNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a local patient record came to be linked to a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkMethod {
    /// Linked by a clerk at registration (本人確認のうえ登録).
    Registered,
    /// Linked by automatic 名寄せ.
    Auto,
    /// Linked by a reviewer from the review queue.
    Reviewed,
}

impl LinkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::Auto => "auto",
            Self::Reviewed => "reviewed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "registered" => Some(Self::Registered),
            "auto" => Some(Self::Auto),
            "reviewed" => Some(Self::Reviewed),
            _ => None,
        }
    }
}

/// A facility's patient record linked to a network person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalPatient {
    pub person_id: PersonId,
    pub facility_id: FacilityId,
    pub local_id: LocalPatientNumber,
    pub method: LinkMethod,
    pub linked_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_ids_are_path_safe() {
        assert!(LocalPatientNumber::parse("0001234").is_ok());
        assert!(LocalPatientNumber::parse("../etc").is_err());
        assert!(LocalPatientNumber::parse("").is_err());
    }
}
