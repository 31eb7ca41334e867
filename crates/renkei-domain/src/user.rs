//! Users: professions (職種), roles and accounts. Credentials are kept by the application layer.

use crate::facility::UnknownName;
use crate::ids::{FacilityId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// 職種: the council's matrix grants access categories per profession.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profession {
    /// 医師
    Physician,
    /// 歯科医師
    Dentist,
    /// 薬剤師
    Pharmacist,
    /// 看護師
    Nurse,
    /// 訪問看護師
    HomeVisitNurse,
    /// 保健師
    PublicHealthNurse,
    /// 歯科衛生士
    DentalHygienist,
    /// 理学療法士
    PhysicalTherapist,
    /// 作業療法士
    OccupationalTherapist,
    /// 言語聴覚士
    SpeechTherapist,
    /// 介護支援専門員（ケアマネジャー）
    CareManager,
    /// 介護職員
    CareWorker,
    /// 医療ソーシャルワーカー
    MedicalSocialWorker,
    /// 事務職員
    Clerk,
}

impl Profession {
    pub const ALL: [Profession; 14] = [
        Self::Physician,
        Self::Dentist,
        Self::Pharmacist,
        Self::Nurse,
        Self::HomeVisitNurse,
        Self::PublicHealthNurse,
        Self::DentalHygienist,
        Self::PhysicalTherapist,
        Self::OccupationalTherapist,
        Self::SpeechTherapist,
        Self::CareManager,
        Self::CareWorker,
        Self::MedicalSocialWorker,
        Self::Clerk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Physician => "physician",
            Self::Dentist => "dentist",
            Self::Pharmacist => "pharmacist",
            Self::Nurse => "nurse",
            Self::HomeVisitNurse => "home-visit-nurse",
            Self::PublicHealthNurse => "public-health-nurse",
            Self::DentalHygienist => "dental-hygienist",
            Self::PhysicalTherapist => "physical-therapist",
            Self::OccupationalTherapist => "occupational-therapist",
            Self::SpeechTherapist => "speech-therapist",
            Self::CareManager => "care-manager",
            Self::CareWorker => "care-worker",
            Self::MedicalSocialWorker => "medical-social-worker",
            Self::Clerk => "clerk",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Physician => "医師",
            Self::Dentist => "歯科医師",
            Self::Pharmacist => "薬剤師",
            Self::Nurse => "看護師",
            Self::HomeVisitNurse => "訪問看護師",
            Self::PublicHealthNurse => "保健師",
            Self::DentalHygienist => "歯科衛生士",
            Self::PhysicalTherapist => "理学療法士",
            Self::OccupationalTherapist => "作業療法士",
            Self::SpeechTherapist => "言語聴覚士",
            Self::CareManager => "介護支援専門員",
            Self::CareWorker => "介護職員",
            Self::MedicalSocialWorker => "医療ソーシャルワーカー",
            Self::Clerk => "事務職員",
        }
    }
}

impl fmt::Display for Profession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Profession {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownName::new("profession", s))
    }
}

/// What a user may do in the system (as opposed to what they may see, which the profession
/// decides through the matrix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Views patient records (診療目的の閲覧).
    Clinical,
    /// Registers residents, records consent and local patient IDs (受付・事務).
    Clerk,
    /// Manages the facility's own users (施設管理者).
    FacilityAdmin,
    /// The network office (事務局): facilities, policy, audits, 名寄せ review.
    NetworkOffice,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Self::Clinical,
        Self::Clerk,
        Self::FacilityAdmin,
        Self::NetworkOffice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Clinical => "clinical",
            Self::Clerk => "clerk",
            Self::FacilityAdmin => "facility-admin",
            Self::NetworkOffice => "network-office",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Clinical => "閲覧（診療）",
            Self::Clerk => "受付・事務",
            Self::FacilityAdmin => "施設管理者",
            Self::NetworkOffice => "事務局",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownName::new("role", s))
    }
}

/// A login name, unique within its facility: 3-32 of `a-z 0-9 . _ -`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LoginName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a login name has 3 to 32 characters of a-z, 0-9, '.', '_' or '-'")]
pub struct LoginNameError;

impl LoginName {
    pub fn parse(s: &str) -> Result<Self, LoginNameError> {
        let s = s.trim().to_ascii_lowercase();
        let ok = (3..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        if ok { Ok(Self(s)) } else { Err(LoginNameError) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for LoginName {
    type Error = LoginNameError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<LoginName> for String {
    fn from(l: LoginName) -> String {
        l.0
    }
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user account (without credentials).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub facility_id: FacilityId,
    pub login: LoginName,
    pub display_name: String,
    pub profession: Profession,
    pub roles: Vec<Role>,
    pub active: bool,
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_case_names_round_trip() {
        for p in Profession::ALL {
            assert_eq!(p.as_str().parse::<Profession>(), Ok(p));
        }
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("doctor".parse::<Profession>().is_err());
    }

    #[test]
    fn login_names_are_lowercased_and_checked() {
        assert_eq!(LoginName::parse(" Tanaka.H ").unwrap().as_str(), "tanaka.h");
        assert!(LoginName::parse("ab").is_err());
        assert!(LoginName::parse("山田").is_err());
    }
}
