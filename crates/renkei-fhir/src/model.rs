//! What [`crate::parse_submission`] returns: the kind of submission, who it is about, and the
//! records to store.

use renkei_domain::{AccessCategory, RecordInput, Sex};
use serde::{Deserialize, Serialize};
use time::Date;

/// How the facility sent its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum SubmissionKind {
    /// A `collection` Bundle: a JP-CLINS 5情報 Bundle (`JP_Bundle_CLINS`) or any JP Core
    /// collection of one patient's resources.
    CollectionBundle,
    /// A `document` Bundle whose first entry is a Composition of a supported document type.
    DocumentBundle { doc_type: DocumentType },
    /// A single resource.
    Resource,
}

/// The documents of 電子カルテ情報共有サービス (2文書) and the checkup report, by their LOINC
/// document type code (`Composition.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentType {
    /// 診療情報提供書, LOINC 57133-1.
    Referral,
    /// 退院時サマリー, LOINC 18842-5.
    DischargeSummary,
    /// 健診結果報告書, LOINC 53576-5.
    CheckupReport,
}

impl DocumentType {
    pub const ALL: [DocumentType; 3] =
        [Self::Referral, Self::DischargeSummary, Self::CheckupReport];

    /// The LOINC code used in `Composition.type`.
    pub fn loinc(self) -> &'static str {
        match self {
            Self::Referral => "57133-1",
            Self::DischargeSummary => "18842-5",
            Self::CheckupReport => "53576-5",
        }
    }

    pub fn from_loinc(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.loinc() == code)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Referral => "診療情報提供書",
            Self::DischargeSummary => "退院時サマリー",
            Self::CheckupReport => "健診結果報告書",
        }
    }
}

/// Who the submission is about, as the facility describes the patient.
///
/// Matching a patient to a network resident (名寄せ) is the caller's job; this only reports what
/// the payload says, and never guesses. At most the facility's own identifiers are filled in: a
/// local patient ID under another facility's namespace is an error, not a value here.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientInfo {
    /// The facility's patient ID (患者ID): `Patient.identifier` (or a reference's identifier)
    /// whose system is `urn:oid:1.2.392.100495.20.3.51.1` followed by this facility's 10-digit
    /// code (JP-CLINS R1010/R1011).
    pub local_id: Option<String>,
    /// 漢字氏名: the `HumanName` with the `iso21090-EN-representation` extension `IDE`.
    pub name_kanji: Option<String>,
    /// カナ氏名: the `HumanName` with representation `SYL`.
    pub name_kana: Option<String>,
    pub sex: Option<Sex>,
    pub birth_date: Option<Date>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// 被保険者個人識別子 (`http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID`,
    /// 保険者番号:記号:番号:枝番), the identifier the national CLINS service itself keys on.
    pub insurance: Option<String>,
    /// The facility's FHIR logical id of the patient, for resources sent alone: `Patient.id` of
    /// a Patient sent alone, or `<id>` of a resource's `Patient/<id>` reference. It names a
    /// patient only on the submitting facility's own FHIR server: a caller may resolve it through
    /// an earlier Patient submission from the same facility, never across facilities. Always
    /// `None` for Bundles, whose Patient ids are per message.
    pub resource_id: Option<String>,
}

impl PatientInfo {
    /// Whether anything identifies the patient (a local ID, the insurance identifier, or the
    /// facility's Patient resource id).
    pub fn is_identified(&self) -> bool {
        self.local_id.is_some() || self.insurance.is_some() || self.resource_id.is_some()
    }
}

/// One clinical record to store, with its index columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExtractedRecord {
    /// The FHIR type of `resource` (`Bundle` for a whole document).
    pub resource_type: String,
    /// The resource as sent (a document's whole Bundle), except that attached photos (JPEG,
    /// PNG) have lost their metadata (see [`crate::attachment`]). References inside it are left
    /// as the facility wrote them.
    pub resource: serde_json::Value,
    pub category: AccessCategory,
    /// The code chosen for indexing (see `records::primary_code` for the order of preference);
    /// placeholders for "not coded" (病名管理番号 `99999999`, 未標準化コード, `NOCODED`) are
    /// never chosen.
    pub code_system: Option<String>,
    pub code: Option<String>,
    /// `code.text` when present (the name as the clinician entered it), else the coding's display.
    pub display: Option<String>,
    /// The clinically relevant day (onset, effective, authoredOn, period.start, date, ...).
    pub effective_on: Option<Date>,
    /// Stable identity within the facility, for idempotent replacement. Unique within one
    /// submission. Forms, in order of preference:
    /// `Type?identifier=system|value`, `Type/id`, `Type#sha256=<hex of the canonical resource>`;
    /// a key that would repeat within one submission gets `&code=system|code`, then `&n=2`, ...
    pub source_key: String,
    /// Needs the council's 機微情報 permission on top of `category` (see `records::sensitivity`).
    pub sensitive: bool,
}

impl ExtractedRecord {
    /// The record in the form `renkei-domain` stores.
    pub fn into_record_input(self) -> RecordInput {
        RecordInput {
            source_key: self.source_key,
            resource_type: self.resource_type,
            category: self.category,
            code_system: self.code_system,
            code: self.code,
            display: self.display,
            effective_on: self.effective_on,
            sensitive: self.sensitive,
            resource: self.resource,
        }
    }
}

/// Why a resource in the payload was not turned into a record. Reported, never silent: the
/// facility's admins see these next to the accepted records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// The facility flagged it 未提供 (`meta.tag` `JP_ehrshrs_indication#UNDELIVERED`): not to be
    /// provided to other facilities nor to the patient (JP-CLINS IG, core6spec 【未提供病名】).
    Undelivered,
    /// A resource type this network does not store, inside a Bundle (the rest of the Bundle is
    /// still accepted, as the CLINS service itself discards unprocessed types).
    UnsupportedType,
    /// Inside a document, a resource whose `JP_eCS_InstitutionNumber` names another facility
    /// (e.g. another hospital's result quoted in a referral). It stays in the document record but
    /// is not filed as a record of the submitting facility.
    OtherFacility,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undelivered => "undelivered",
            Self::UnsupportedType => "unsupported-type",
            Self::OtherFacility => "other-facility",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Undelivered => "未提供フラグのため共有しません",
            Self::UnsupportedType => "このネットワークでは保存しない種類のリソースです",
            Self::OtherFacility => "他の医療機関が作成した情報のため文書内にのみ保存します",
        }
    }
}

/// A resource not turned into a record, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Where it is in the payload, e.g. `entry[3].resource`.
    pub path: String,
    pub resource_type: String,
    /// The key the record would have had: a caller can retract an earlier version of it.
    pub source_key: String,
    pub reason: SkipReason,
}

/// One parsed input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub kind: SubmissionKind,
    /// `system|value` of `Bundle.identifier`. For JP-CLINS the value is the Bundle-ID
    /// `医療機関番号^年^施設内ID`; a later Bundle with the same identifier replaces everything the
    /// earlier one carried, and one carrying only the Patient deletes it all (JP_Bundle_CLINS notes).
    pub bundle_identifier: Option<String>,
    pub patient: PatientInfo,
    pub records: Vec<ExtractedRecord>,
    /// Lower-case hex SHA-256 of the bytes exactly as received.
    pub payload_sha256: String,
    /// Resources deliberately not turned into records.
    pub skipped: Vec<Skipped>,
}

impl Submission {
    /// The unit a newer submission replaces as a whole: `Bundle?identifier=system|value` for a
    /// Bundle with an identifier, the resource's source key for a single resource, `None` when
    /// there is nothing to group (a Patient alone, a context resource, or a Bundle without an
    /// identifier, whose records are then replaced one by one by their source keys).
    pub fn group_key(&self) -> Option<String> {
        if let Some(id) = &self.bundle_identifier {
            return Some(format!("Bundle?identifier={id}"));
        }
        match self.kind {
            SubmissionKind::Resource => self
                .records
                .first()
                .map(|r| r.source_key.clone())
                .or_else(|| self.skipped.first().map(|s| s.source_key.clone())),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submission_kinds_serialize_with_a_kind_tag() {
        let kind = SubmissionKind::DocumentBundle {
            doc_type: DocumentType::Referral,
        };
        assert_eq!(
            serde_json::to_string(&kind).unwrap(),
            r#"{"kind":"document-bundle","doc_type":"referral"}"#
        );
        assert_eq!(
            serde_json::to_string(&SubmissionKind::Resource).unwrap(),
            r#"{"kind":"resource"}"#
        );
    }

    #[test]
    fn document_types_round_trip_through_their_loinc_codes() {
        for t in DocumentType::ALL {
            assert_eq!(DocumentType::from_loinc(t.loinc()), Some(t));
        }
        assert_eq!(DocumentType::from_loinc("11506-3"), None);
    }
}
