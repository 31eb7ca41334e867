//! Facilities (参加施設): kinds, codes and participation.

use crate::ids::FacilityId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::Date;

/// What kind of facility a participant is; the council's matrix grants categories per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FacilityKind {
    /// 病院
    Hospital,
    /// 医科診療所
    MedicalClinic,
    /// 歯科診療所
    DentalClinic,
    /// 薬局
    Pharmacy,
    /// 訪問看護ステーション
    HomeNursingStation,
    /// 介護施設
    CareFacility,
    /// 居宅介護支援事業所
    CareManagementOffice,
    /// 地域包括支援センター
    CommunitySupportCentre,
}

impl FacilityKind {
    pub const ALL: [FacilityKind; 8] = [
        Self::Hospital,
        Self::MedicalClinic,
        Self::DentalClinic,
        Self::Pharmacy,
        Self::HomeNursingStation,
        Self::CareFacility,
        Self::CareManagementOffice,
        Self::CommunitySupportCentre,
    ];

    /// The kebab-case name used on the CLI, in config and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hospital => "hospital",
            Self::MedicalClinic => "medical-clinic",
            Self::DentalClinic => "dental-clinic",
            Self::Pharmacy => "pharmacy",
            Self::HomeNursingStation => "home-nursing-station",
            Self::CareFacility => "care-facility",
            Self::CareManagementOffice => "care-management-office",
            Self::CommunitySupportCentre => "community-support-centre",
        }
    }

    /// The name clinicians and clerks use.
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Hospital => "病院",
            Self::MedicalClinic => "医科診療所",
            Self::DentalClinic => "歯科診療所",
            Self::Pharmacy => "薬局",
            Self::HomeNursingStation => "訪問看護ステーション",
            Self::CareFacility => "介護施設",
            Self::CareManagementOffice => "居宅介護支援事業所",
            Self::CommunitySupportCentre => "地域包括支援センター",
        }
    }

    /// Care-insurance facilities are identified by a 介護保険事業所番号, the others by a
    /// 医療機関コード (or 薬局コード / 訪問看護ステーションコード, which share its form).
    pub fn uses_care_office_number(self) -> bool {
        matches!(
            self,
            Self::CareFacility | Self::CareManagementOffice | Self::CommunitySupportCentre
        )
    }
}

impl fmt::Display for FacilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FacilityKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName::new("facility kind", s))
    }
}

/// A name that is not one of an enumeration's kebab-case names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?}; expected one of: {expected}")]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub expected: String,
}

impl UnknownName {
    pub(crate) fn new(what: &'static str, given: &str) -> Self {
        let expected = match what {
            "facility kind" => FacilityKind::ALL.map(|k| k.as_str()).join(", "),
            "profession" => crate::user::Profession::ALL.map(|p| p.as_str()).join(", "),
            "role" => crate::user::Role::ALL.map(|r| r.as_str()).join(", "),
            _ => String::new(),
        };
        Self {
            what,
            given: given.chars().take(40).collect(),
            expected,
        }
    }
}

/// Why a facility code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FacilityCodeError {
    #[error("a facility code has exactly 10 digits")]
    NotTenDigits,
    #[error("the first two digits must be a prefecture number 01-47")]
    BadPrefecture,
    #[error(
        "the third digit of a 医療機関コード must be a fee-table number (1 medical, 3 dental, 4 pharmacy, 6 home nursing)"
    )]
    BadFeeTable,
    #[error("the check digit (検証番号) does not match")]
    BadCheckDigit,
}

impl FacilityCodeError {
    /// The message shown to a Japanese clerk.
    pub fn message_ja(&self) -> &'static str {
        match self {
            Self::NotTenDigits => "施設コードは10桁の数字で入力してください。",
            Self::BadPrefecture => "施設コードの先頭2桁は都道府県番号（01〜47）です。",
            Self::BadFeeTable => {
                "医療機関コードの3桁目は点数表番号（1 医科、3 歯科、4 薬局、6 訪問看護）です。"
            }
            Self::BadCheckDigit => "医療機関コードの検証番号（末尾の数字）が一致しません。",
        }
    }
}

/// A facility's 10-digit code: 医療機関コード (prefecture 2 + fee table 1 + 7 with a Luhn check
/// digit over all ten) or, for care-insurance facilities, 介護保険事業所番号 (prefecture 2 + 8).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FacilityCode(String);

impl FacilityCode {
    /// Parse a code for a facility of `kind`. Full-width digits are accepted (clerks type them).
    pub fn parse(input: &str, kind: FacilityKind) -> Result<Self, FacilityCodeError> {
        let digits: String = input
            .trim()
            .chars()
            .map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                _ => c,
            })
            .collect();
        let bytes = digits.as_bytes();
        if bytes.len() != 10 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(FacilityCodeError::NotTenDigits);
        }
        let d: Vec<u32> = bytes.iter().map(|b| u32::from(b - b'0')).collect();
        let pref = d.first().copied().unwrap_or(0) * 10 + d.get(1).copied().unwrap_or(0);
        if !(1..=47).contains(&pref) {
            return Err(FacilityCodeError::BadPrefecture);
        }
        if !kind.uses_care_office_number() {
            if !matches!(d.get(2), Some(1 | 3 | 4 | 6)) {
                return Err(FacilityCodeError::BadFeeTable);
            }
            if !luhn_valid(&d) {
                return Err(FacilityCodeError::BadCheckDigit);
            }
        }
        Ok(Self(digits))
    }

    /// Accept a code read back from storage, where it was validated on the way in.
    pub fn from_stored(code: String) -> Self {
        Self(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Append the Luhn check digit to nine digits (used by the demo generator and tests).
    pub fn with_check_digit(nine: &str) -> Option<Self> {
        let mut d: Vec<u32> = nine
            .chars()
            .map(|c| c.to_digit(10))
            .collect::<Option<_>>()?;
        if d.len() != 9 {
            return None;
        }
        d.push(0);
        let check = (0..10).find(|c| {
            if let Some(last) = d.last_mut() {
                *last = *c;
            }
            luhn_valid(&d)
        })?;
        Some(Self(format!("{nine}{check}")))
    }
}

/// Luhn (モジュラス10・ウェイト2・1) over all digits, the check digit last.
fn luhn_valid(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if !i.is_multiple_of(2) {
                let x = d * 2;
                x / 10 + x % 10
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

impl TryFrom<String> for FacilityCode {
    type Error = FacilityCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let bytes = s.as_bytes();
        if bytes.len() == 10 && bytes.iter().all(u8::is_ascii_digit) {
            Ok(Self(s))
        } else {
            Err(FacilityCodeError::NotTenDigits)
        }
    }
}

impl From<FacilityCode> for String {
    fn from(c: FacilityCode) -> String {
        c.0
    }
}

impl fmt::Display for FacilityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A participating facility.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facility {
    pub id: FacilityId,
    pub code: FacilityCode,
    pub name: String,
    pub kind: FacilityKind,
    /// 参加日
    pub joined_on: Date,
    /// 脱退日: from this day the facility neither sees nor provides.
    pub withdrawn_on: Option<Date>,
}

impl Facility {
    /// Rule 2 of authorization: the facility takes part in the network on `today`.
    pub fn is_active_on(&self, today: Date) -> bool {
        self.joined_on <= today && self.withdrawn_on.is_none_or(|w| today < w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_shaped_medical_code_with_luhn_check_digit_is_accepted() {
        let code = FacilityCode::parse("0110113719", FacilityKind::Pharmacy);
        assert!(code.is_ok(), "{code:?}");
    }

    #[test]
    fn full_width_digits_are_accepted() {
        let code = FacilityCode::parse("０１１０１１３７１９", FacilityKind::Hospital).unwrap();
        assert_eq!(code.as_str(), "0110113719");
    }

    #[test]
    fn wrong_check_digit_is_refused() {
        assert_eq!(
            FacilityCode::parse("0110113718", FacilityKind::Hospital),
            Err(FacilityCodeError::BadCheckDigit)
        );
    }

    #[test]
    fn short_code_and_bad_prefecture_are_refused() {
        assert_eq!(
            FacilityCode::parse("123", FacilityKind::Hospital),
            Err(FacilityCodeError::NotTenDigits)
        );
        assert_eq!(
            FacilityCode::parse("4810000000", FacilityKind::CareFacility),
            Err(FacilityCodeError::BadPrefecture)
        );
    }

    #[test]
    fn care_office_number_needs_no_fee_table_digit() {
        assert!(FacilityCode::parse("1471234567", FacilityKind::CareFacility).is_ok());
    }

    #[test]
    fn generated_check_digit_validates() {
        let code = FacilityCode::with_check_digit("141123456").unwrap();
        assert!(FacilityCode::parse(code.as_str(), FacilityKind::MedicalClinic).is_ok());
    }
}
