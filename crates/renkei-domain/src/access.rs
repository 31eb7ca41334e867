//! Access categories, the council's access matrix (職種 × 区分, 施設種別 × 区分), care
//! relationships and break-the-glass grants.

use crate::facility::{FacilityKind, UnknownName};
use crate::ids::{FacilityId, GrantId, PersonId, UserId};
use crate::user::Profession;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

/// What the council's matrix is about: each record and each screen section belongs to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessCategory {
    /// 基本情報（氏名・生年月日・住所）
    Demographics,
    /// 病名
    Diagnoses,
    /// アレルギー・禁忌
    Allergies,
    /// 処方・調剤・注射
    Medications,
    /// 検査結果
    Labs,
    /// 画像
    Imaging,
    /// 文書（診療情報提供書・退院時サマリー・健診結果）
    Documents,
    /// 診療記録（経過記録）
    ClinicalNotes,
    /// 介護記録
    CareRecords,
    /// 電子連絡帳
    Notebook,
    /// 機微情報（精神・感染症・遺伝・未告知）
    Sensitive,
}

impl AccessCategory {
    pub const ALL: [AccessCategory; 11] = [
        Self::Demographics,
        Self::Diagnoses,
        Self::Allergies,
        Self::Medications,
        Self::Labs,
        Self::Imaging,
        Self::Documents,
        Self::ClinicalNotes,
        Self::CareRecords,
        Self::Notebook,
        Self::Sensitive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Demographics => "demographics",
            Self::Diagnoses => "diagnoses",
            Self::Allergies => "allergies",
            Self::Medications => "medications",
            Self::Labs => "labs",
            Self::Imaging => "imaging",
            Self::Documents => "documents",
            Self::ClinicalNotes => "clinical-notes",
            Self::CareRecords => "care-records",
            Self::Notebook => "notebook",
            Self::Sensitive => "sensitive",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Demographics => "基本情報",
            Self::Diagnoses => "病名",
            Self::Allergies => "アレルギー・禁忌",
            Self::Medications => "処方・調剤",
            Self::Labs => "検査結果",
            Self::Imaging => "画像",
            Self::Documents => "文書",
            Self::ClinicalNotes => "診療記録",
            Self::CareRecords => "介護記録",
            Self::Notebook => "連絡帳",
            Self::Sensitive => "機微情報",
        }
    }
}

impl fmt::Display for AccessCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessCategory {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownName::new("access category", s))
    }
}

/// The council's access policy (アクセス権限表): which categories each profession and each
/// facility kind may see. Both must allow a category. Versioned: every edit makes a new version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessMatrix {
    pub version: u32,
    pub by_profession: BTreeMap<Profession, BTreeSet<AccessCategory>>,
    pub by_facility_kind: BTreeMap<FacilityKind, BTreeSet<AccessCategory>>,
}

/// Which side of the matrix refused a category.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatrixSide {
    Profession,
    FacilityKind,
}

impl AccessMatrix {
    /// The default shipped with Renkei, modelled on what Japanese councils commonly decide:
    /// physicians and nurses see the clinical record; pharmacists see what dispensing needs
    /// (including labs for renal dosing); care professions see allergies, medicines, documents
    /// and care records but not lab values; clerks see demographics only. Sensitive records are
    /// shown to nobody until the council decides otherwise.
    pub fn default_policy() -> Self {
        use AccessCategory as C;
        use FacilityKind as K;
        use Profession as P;
        let set = |cats: &[C]| cats.iter().copied().collect::<BTreeSet<_>>();
        let clinical_all = set(&[
            C::Demographics,
            C::Diagnoses,
            C::Allergies,
            C::Medications,
            C::Labs,
            C::Imaging,
            C::Documents,
            C::ClinicalNotes,
            C::CareRecords,
            C::Notebook,
        ]);
        let pharmacy = set(&[
            C::Demographics,
            C::Diagnoses,
            C::Allergies,
            C::Medications,
            C::Labs,
            C::Notebook,
        ]);
        let dental = set(&[
            C::Demographics,
            C::Diagnoses,
            C::Allergies,
            C::Medications,
            C::Labs,
            C::Imaging,
            C::Documents,
            C::ClinicalNotes,
            C::Notebook,
        ]);
        let rehab = set(&[
            C::Demographics,
            C::Diagnoses,
            C::Allergies,
            C::Medications,
            C::Imaging,
            C::Documents,
            C::CareRecords,
            C::Notebook,
        ]);
        let care_manager = set(&[
            C::Demographics,
            C::Diagnoses,
            C::Allergies,
            C::Medications,
            C::Documents,
            C::CareRecords,
            C::Notebook,
        ]);
        let care_worker = set(&[
            C::Demographics,
            C::Allergies,
            C::Medications,
            C::CareRecords,
            C::Notebook,
        ]);
        let by_profession = BTreeMap::from([
            (P::Physician, clinical_all.clone()),
            (P::Dentist, clinical_all.clone()),
            (P::Pharmacist, pharmacy.clone()),
            (P::Nurse, clinical_all.clone()),
            (P::HomeVisitNurse, clinical_all.clone()),
            (P::PublicHealthNurse, clinical_all.clone()),
            (
                P::DentalHygienist,
                set(&[
                    C::Demographics,
                    C::Diagnoses,
                    C::Allergies,
                    C::Medications,
                    C::Notebook,
                ]),
            ),
            (P::PhysicalTherapist, rehab.clone()),
            (P::OccupationalTherapist, rehab.clone()),
            (P::SpeechTherapist, rehab),
            (P::CareManager, care_manager.clone()),
            (P::CareWorker, care_worker),
            (P::MedicalSocialWorker, care_manager.clone()),
            (P::Clerk, set(&[C::Demographics])),
        ]);
        let by_facility_kind = BTreeMap::from([
            (K::Hospital, clinical_all.clone()),
            (K::MedicalClinic, clinical_all.clone()),
            (K::DentalClinic, dental),
            (K::Pharmacy, pharmacy),
            (K::HomeNursingStation, clinical_all),
            (K::CareFacility, care_manager.clone()),
            (K::CareManagementOffice, care_manager.clone()),
            (K::CommunitySupportCentre, care_manager),
        ]);
        Self {
            version: 1,
            by_profession,
            by_facility_kind,
        }
    }

    /// Rule 4: both the profession and the facility kind allow `category`.
    pub fn allows(
        &self,
        profession: Profession,
        kind: FacilityKind,
        category: AccessCategory,
    ) -> Result<(), MatrixSide> {
        if !self
            .by_profession
            .get(&profession)
            .is_some_and(|s| s.contains(&category))
        {
            return Err(MatrixSide::Profession);
        }
        if !self
            .by_facility_kind
            .get(&kind)
            .is_some_and(|s| s.contains(&category))
        {
            return Err(MatrixSide::FacilityKind);
        }
        Ok(())
    }
}

/// How a care relationship (診療・介護の関係) came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CareSource {
    /// The facility holds a local patient ID linked to the person.
    LocalPatient,
    /// The facility registered the resident's consent.
    Registration,
}

/// A facility has seen the person. Without one, only break-the-glass opens the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CareRelationship {
    pub person_id: PersonId,
    pub facility_id: FacilityId,
    pub since: OffsetDateTime,
    pub source: CareSource,
}

/// Why a user opened a record without a care relationship.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", content = "text", rename_all = "kebab-case")]
pub enum BreakGlassReason {
    /// 救急
    Emergency,
    /// 初診
    FirstVisit,
    /// その他（理由の記入が必須）
    Other(String),
}

impl BreakGlassReason {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Emergency => "emergency",
            Self::FirstVisit => "first-visit",
            Self::Other(_) => "other",
        }
    }
}

/// 緊急時アクセス (break-the-glass): one user's time-limited access to one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakGlassGrant {
    pub id: GrantId,
    pub user_id: UserId,
    pub facility_id: FacilityId,
    pub person_id: PersonId,
    pub reason: BreakGlassReason,
    pub granted_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl BreakGlassGrant {
    /// The default lifetime of a grant; regions may configure another.
    pub const DEFAULT_LIFETIME: Duration = Duration::hours(24);

    pub fn is_valid_for(&self, user: UserId, person: PersonId, now: OffsetDateTime) -> bool {
        self.user_id == user
            && self.person_id == person
            && self.granted_at <= now
            && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn care_workers_see_medicines_but_not_labs_by_default() {
        let m = AccessMatrix::default_policy();
        let k = FacilityKind::CareFacility;
        let p = Profession::CareWorker;
        assert!(m.allows(p, k, AccessCategory::Allergies).is_ok());
        assert!(m.allows(p, k, AccessCategory::Medications).is_ok());
        assert!(m.allows(p, k, AccessCategory::CareRecords).is_ok());
        assert_eq!(
            m.allows(p, k, AccessCategory::Labs),
            Err(MatrixSide::Profession)
        );
    }

    #[test]
    fn a_physician_at_a_care_facility_is_limited_by_the_facility_kind() {
        let m = AccessMatrix::default_policy();
        assert_eq!(
            m.allows(
                Profession::Physician,
                FacilityKind::CareFacility,
                AccessCategory::Labs
            ),
            Err(MatrixSide::FacilityKind)
        );
    }

    #[test]
    fn nobody_sees_sensitive_records_by_default() {
        let m = AccessMatrix::default_policy();
        for p in Profession::ALL {
            for k in FacilityKind::ALL {
                assert!(m.allows(p, k, AccessCategory::Sensitive).is_err());
            }
        }
    }

    #[test]
    fn every_profession_and_kind_has_a_row() {
        let m = AccessMatrix::default_policy();
        assert_eq!(m.by_profession.len(), Profession::ALL.len());
        assert_eq!(m.by_facility_kind.len(), FacilityKind::ALL.len());
    }
}
