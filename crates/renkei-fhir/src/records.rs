//! Turning one FHIR resource into an [`ExtractedRecord`]: its access category, the code and
//! date it is indexed by, its source key, and whether it is sensitive.

use crate::clins::{
    self, DISEASE_CLAIM_CS, DISEASE_EXCHANGE_CS, DISEASE_KEY_NUMBER_CS, DISEASE_UNCODED,
    GENERAL_NAME_SYSTEMS, HOT9_CS, ICD10_CS, JLAC10_CS, LAB_CORE_JLAC10_CS, LAB_CORE_JLAC11_CS,
    LAB_INFECTION_JLAC10_CS, LAB_INFECTION_JLAC11_CS, LAB_UNCODED_CS, LOINC, MEDICATION_NOCODED_CS,
    RESOURCE_INSTANCE_IDENTIFIER, YJ_SYSTEMS,
};
use crate::json::{
    Coding, canonical_json, codings, first_date, identifiers, list, meta_codings, sha256_hex,
    str_of,
};
use crate::lab_codes::{self, LabSet};
use crate::model::ExtractedRecord;
use renkei_domain::AccessCategory;
use serde_json::Value;
use std::collections::HashMap;

/// What the network does with a resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Stored as a record of this category.
    Record(AccessCategory),
    /// Describes who, where or with what (practitioners, organisations, specimens, ...): kept
    /// inside the records that need it (a document keeps its whole Bundle), never a record.
    Context,
    /// Not stored by this network.
    Unsupported,
}

/// The category of each stored resource type, as the council's access matrix sees it:
/// - Condition → 病名; AllergyIntolerance → アレルギー; MedicationRequest / Dispense /
///   Administration / Statement → 処方・調剤.
/// - Observation: a lab result (category `laboratory`, the CLINS lab profile or a CLINS lab
///   code) → 検査結果; category `imaging` → 画像; everything else (vital signs, physical
///   findings, social history, ...) → 診療記録, because it is written at the bedside as part of
///   the clinical notes, and care professions who may not see lab values should still see it
///   only under the notes permission.
/// - DiagnosticReport: a laboratory service section (v2-0074 LAB, CH, HM, MB, pathology, ...) →
///   検査結果, anything else (radiology, endoscopy, physiology: Japan's 画像・生理検査 reports)
///   → 画像. ImagingStudy and Media → 画像.
/// - Encounter → 診療記録: admissions and visits are part of the clinical course (経過); the
///   matrix has no category of its own for them. An Encounter without a subject is context
///   (CLINS uses it contained or referenced to say where a record was made).
/// - Composition, DocumentReference → 文書; CarePlan, Procedure → 診療記録.
pub(crate) fn role(resource_type: &str, resource: &Value) -> Role {
    use AccessCategory as C;
    match resource_type {
        "Condition" => Role::Record(C::Diagnoses),
        "AllergyIntolerance" => Role::Record(C::Allergies),
        "MedicationRequest"
        | "MedicationDispense"
        | "MedicationAdministration"
        | "MedicationStatement" => Role::Record(C::Medications),
        "Observation" => Role::Record(observation_category(resource)),
        "DiagnosticReport" => Role::Record(diagnostic_report_category(resource)),
        "ImagingStudy" | "Media" => Role::Record(C::Imaging),
        "Composition" | "DocumentReference" => Role::Record(C::Documents),
        "CarePlan" | "Procedure" => Role::Record(C::ClinicalNotes),
        "Encounter" if resource.get("subject").is_some() => Role::Record(C::ClinicalNotes),
        "Encounter" | "Patient" | "Practitioner" | "PractitionerRole" | "Organization"
        | "Specimen" | "Location" | "Medication" | "Device" | "Coverage" | "RelatedPerson"
        | "HealthcareService" | "Binary" | "Provenance" => Role::Context,
        _ => Role::Unsupported,
    }
}

fn observation_category(resource: &Value) -> AccessCategory {
    if clins::is_lab_observation(resource) {
        return AccessCategory::Labs;
    }
    let imaging = list(resource, "category")
        .iter()
        .flat_map(codings)
        .any(|c| c.code == Some("imaging"));
    if imaging {
        AccessCategory::Imaging
    } else {
        AccessCategory::ClinicalNotes
    }
}

/// HL7 v2 table 0074 diagnostic service sections that are laboratory work, plus FHIR's and
/// LOINC's names for laboratory and pathology.
const LAB_SECTIONS: &[&str] = &[
    "LAB",
    "laboratory",
    "BG",
    "BLB",
    "CG",
    "CH",
    "CP",
    "HM",
    "IMM",
    "MB",
    "MCB",
    "MYC",
    "OSL",
    "PAR",
    "PAT",
    "SP",
    "SR",
    "TX",
    "VR",
    "LP29693-6",
    "LP7839-6",
];

fn diagnostic_report_category(resource: &Value) -> AccessCategory {
    let lab = list(resource, "category")
        .iter()
        .flat_map(codings)
        .any(|c| c.code.is_some_and(|code| LAB_SECTIONS.contains(&code)));
    if lab {
        AccessCategory::Labs
    } else {
        AccessCategory::Imaging
    }
}

/// Whether a coding is a "not coded" placeholder rather than a code: 病名管理番号 `99999999`,
/// the lab 未標準化コード, the medication `NOCODED` marker.
fn is_placeholder(c: &Coding<'_>) -> bool {
    match c.system {
        Some(DISEASE_KEY_NUMBER_CS) => c.code == Some(DISEASE_UNCODED),
        Some(LAB_UNCODED_CS | MEDICATION_NOCODED_CS) => true,
        _ => false,
    }
}

/// The element holding a resource's main code.
fn code_concept<'a>(resource_type: &str, resource: &'a Value) -> Option<&'a Value> {
    match resource_type {
        "MedicationRequest"
        | "MedicationDispense"
        | "MedicationAdministration"
        | "MedicationStatement" => resource.get("medicationCodeableConcept").or_else(|| {
            // A contained Medication referenced as `#id`.
            let reference = resource
                .get("medicationReference")
                .and_then(|r| str_of(r, "reference"))?;
            let local = reference.strip_prefix('#')?;
            list(resource, "contained")
                .iter()
                .find(|c| str_of(c, "id") == Some(local))
                .and_then(|m| m.get("code"))
        }),
        "Encounter" => resource
            .get("class")
            .or_else(|| list(resource, "type").first()),
        "Composition" | "DocumentReference" => resource.get("type"),
        "CarePlan" => list(resource, "category").first(),
        "ImagingStudy" => list(resource, "procedureCode")
            .first()
            .or_else(|| list(resource, "modality").first()),
        "Media" => resource.get("modality").or_else(|| resource.get("type")),
        _ => resource.get("code"),
    }
}

/// Code systems preferred for the index, best first, by resource type: the national standard
/// codes (MEDIS 病名管理番号, JLAC10, YJ / 一般名) before exchange codes, classifications and local
/// codes, so that the same thing from two facilities is found under the same code.
fn preferred_systems(resource_type: &str) -> Vec<&'static str> {
    match resource_type {
        "Condition" => vec![
            DISEASE_KEY_NUMBER_CS,
            DISEASE_EXCHANGE_CS,
            ICD10_CS,
            DISEASE_CLAIM_CS,
        ],
        "Observation" => vec![
            LAB_CORE_JLAC10_CS,
            LAB_INFECTION_JLAC10_CS,
            JLAC10_CS,
            LAB_CORE_JLAC11_CS,
            LAB_INFECTION_JLAC11_CS,
            LOINC,
        ],
        "MedicationRequest"
        | "MedicationDispense"
        | "MedicationAdministration"
        | "MedicationStatement" => YJ_SYSTEMS
            .into_iter()
            .chain(GENERAL_NAME_SYSTEMS)
            .chain([HOT9_CS])
            .collect(),
        _ => Vec::new(),
    }
}

/// (system, code, display) for the index. A JLAC10 code sent under a CLINS subset system is
/// indexed under the plain JLAC10 system, so that a potassium result is one code whichever way
/// the facility wrote it. The display is `text` (the name as entered, with modifiers) when given.
pub(crate) fn primary_code(
    resource_type: &str,
    resource: &Value,
) -> (Option<String>, Option<String>, Option<String>) {
    let Some(concept) = code_concept(resource_type, resource) else {
        return (None, None, None);
    };
    let all: Vec<Coding<'_>> = codings(concept)
        .into_iter()
        .filter(|c| c.code.is_some_and(|s| !s.trim().is_empty()) && !is_placeholder(c))
        .collect();
    let chosen = preferred_systems(resource_type)
        .into_iter()
        .find_map(|system| all.iter().find(|c| c.system == Some(system)))
        .or_else(|| all.first());
    let text = str_of(concept, "text")
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let display = text
        .or_else(|| chosen.and_then(|c| c.display))
        .map(str::to_owned);
    let system = chosen.and_then(|c| c.system).map(|s| match s {
        LAB_CORE_JLAC10_CS | LAB_INFECTION_JLAC10_CS => JLAC10_CS,
        other => other,
    });
    (
        system.map(str::to_owned),
        chosen.and_then(|c| c.code).map(|c| c.trim().to_owned()),
        display,
    )
}

/// The clinically relevant day of a resource.
pub(crate) fn effective_on(resource_type: &str, resource: &Value) -> Option<time::Date> {
    let candidates: &[&[&str]] = match resource_type {
        "Condition" => &[
            &["onsetDateTime"],
            &["onsetPeriod", "start"],
            &["recordedDate"],
        ],
        "AllergyIntolerance" => &[
            &["onsetDateTime"],
            &["onsetPeriod", "start"],
            &["recordedDate"],
            &["lastOccurrence"],
        ],
        "Observation" | "DiagnosticReport" => &[
            &["effectiveDateTime"],
            &["effectivePeriod", "start"],
            &["effectiveInstant"],
            &["issued"],
        ],
        "MedicationRequest" => &[
            &["authoredOn"],
            &["dispenseRequest", "validityPeriod", "start"],
        ],
        "MedicationDispense" => &[&["whenHandedOver"], &["whenPrepared"]],
        "MedicationAdministration" => &[&["effectiveDateTime"], &["effectivePeriod", "start"]],
        "MedicationStatement" => &[
            &["effectiveDateTime"],
            &["effectivePeriod", "start"],
            &["dateAsserted"],
        ],
        "ImagingStudy" => &[&["started"]],
        "Media" => &[
            &["createdDateTime"],
            &["createdPeriod", "start"],
            &["issued"],
        ],
        "Encounter" => &[&["period", "start"]],
        "Procedure" => &[&["performedDateTime"], &["performedPeriod", "start"]],
        "CarePlan" => &[&["period", "start"], &["created"]],
        "Composition" => &[&["date"]],
        "DocumentReference" => &[&["date"], &["context", "period", "start"]],
        _ => &[],
    };
    first_date(resource, candidates)
}

/// HL7 v3 confidentiality codes that restrict a record: R (restricted), V (very restricted).
const RESTRICTED_CONFIDENTIALITY: &[&str] = &["R", "V"];
/// HL7 v3 ActCode information-sensitivity policies matching the network's 機微情報 (psychiatric,
/// infectious, genetic, substance use, sexual / domestic violence, taboo).
const SENSITIVITY_POLICIES: &[&str] = &[
    "BH", "ETH", "GDIS", "HIV", "MST", "PSY", "PSYTHPN", "SCA", "SDV", "SEX", "STD", "SUD", "TBOO",
];
const CONFIDENTIALITY_SYSTEMS: &[&str] = &[
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
    "http://hl7.org/fhir/v3/Confidentiality",
];
const ACT_CODE_SYSTEMS: &[&str] = &[
    "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "http://hl7.org/fhir/v3/ActCode",
];

/// Whether `meta.security` (or a Composition's `confidentiality`) restricts the resource.
pub(crate) fn security_restricted(resource: &Value) -> bool {
    let labelled = meta_codings(resource, "security").iter().any(|c| {
        let code = c.code.unwrap_or_default();
        let system = c.system.unwrap_or_default();
        (CONFIDENTIALITY_SYSTEMS.contains(&system) && RESTRICTED_CONFIDENTIALITY.contains(&code))
            || (ACT_CODE_SYSTEMS.contains(&system) && SENSITIVITY_POLICIES.contains(&code))
    });
    let composition = str_of(resource, "confidentiality")
        .is_some_and(|c| RESTRICTED_CONFIDENTIALITY.contains(&c));
    labelled || composition
}

/// Whether a record needs the 機微情報 permission:
/// - `meta.security` restricts it (confidentiality R/V, or a v3 sensitivity policy such as HIV,
///   PSY, GDIS), or a Composition's confidentiality is R/V;
/// - it is a diagnosis flagged 未告知 (`meta.tag` `JP_ehrshrs_indication#UNINFORMED`: the patient
///   has not been told; JP-CLINS core6spec 【未告知病名】) — the IG's only sensitivity flag;
/// - it is a lab result of the CLINS 指定感染症 set (HBV, HCV, HIV, syphilis), which the network's
///   design counts as infectious-disease information.
///
/// Nothing else is inferred (no guessing from ICD-10 chapters): otherwise `false`. A restriction
/// on a whole Bundle, and anything sensitive inside a document, also marks the records that hold
/// it (see `parse`).
pub(crate) fn sensitivity(resource_type: &str, resource: &Value) -> bool {
    if security_restricted(resource) || clins::has_indication(resource, "UNINFORMED") {
        return true;
    }
    resource_type == "Observation"
        && resource
            .get("code")
            .map(codings)
            .unwrap_or_default()
            .iter()
            .any(|c| {
                match c.system {
                    Some(LAB_INFECTION_JLAC10_CS | LAB_INFECTION_JLAC11_CS) => true,
                    // A JLAC10 code of the infection set, however it was labelled.
                    Some(JLAC10_CS | LAB_CORE_JLAC10_CS | LAB_CORE_JLAC11_CS) => c
                        .code
                        .and_then(lab_codes::lookup)
                        .is_some_and(|entry| entry.set == LabSet::Infection),
                    _ => false,
                }
            })
}

/// Identifier systems that number positions, not things (an Rp number, an order within an Rp):
/// never a source key.
const POSITION_IDENTIFIERS: &[&str] = &[
    "http://jpfhir.jp/fhir/core/mhlw/IdSystem/Medication-RPGroupNumber",
    "http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicationAdministrationIndex",
];

/// The source key before disambiguation: `Type?identifier=system|value` (the guide's
/// リソース一意識別ID first), else `Type/id`, else `Type#sha256=` of the canonical resource.
pub(crate) fn base_source_key(resource_type: &str, resource: &Value) -> String {
    let ids: Vec<(Option<&str>, &str)> = identifiers(resource)
        .into_iter()
        .filter(|(system, _)| !system.is_some_and(|s| POSITION_IDENTIFIERS.contains(&s)))
        .collect();
    let preferred = ids
        .iter()
        .find(|(system, _)| *system == Some(RESOURCE_INSTANCE_IDENTIFIER))
        .or_else(|| ids.first());
    if let Some((system, value)) = preferred {
        return format!(
            "{resource_type}?identifier={}|{}",
            system.unwrap_or_default(),
            value.trim()
        );
    }
    if let Some(id) = str_of(resource, "id").filter(|id| !id.trim().is_empty()) {
        return format!("{resource_type}/{}", id.trim());
    }
    format!(
        "{resource_type}#sha256={}",
        sha256_hex(canonical_json(resource).as_bytes())
    )
}

/// Make keys unique within one submission, deterministically. Senders reuse identifiers (the
/// guide's own lab Bundle gives four results one identifier), and a repeated key would make one
/// record silently replace another. A repeated key first gets `&code=system|code` of its record;
/// keys still repeated then get `&n=1`, `&n=2`, ... in payload order.
pub(crate) fn disambiguate(keys: &mut [(String, Option<String>)]) {
    let counts = |keys: &[(String, Option<String>)]| {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (key, _) in keys {
            *counts.entry(key.clone()).or_default() += 1;
        }
        counts
    };
    let first = counts(keys);
    for (key, code) in keys.iter_mut() {
        if first.get(key.as_str()).is_some_and(|n| *n > 1)
            && let Some(code) = code
        {
            key.push_str("&code=");
            key.push_str(code);
        }
    }
    let second = counts(keys);
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (key, _) in keys.iter_mut() {
        if second.get(key.as_str()).is_some_and(|n| *n > 1) {
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            key.push_str(&format!("&n={n}"));
        }
    }
}

/// A record for a resource whose role is `Record(category)`.
pub(crate) fn extract(
    resource_type: &str,
    resource: &Value,
    category: AccessCategory,
) -> ExtractedRecord {
    let (code_system, code, display) = primary_code(resource_type, resource);
    ExtractedRecord {
        resource_type: resource_type.to_owned(),
        resource: resource.clone(),
        category,
        code_system,
        code,
        display,
        effective_on: effective_on(resource_type, resource),
        source_key: base_source_key(resource_type, resource),
        sensitive: sensitivity(resource_type, resource),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lab_codes_are_indexed_under_jlac10_whatever_clins_system_carried_them() {
        let obs = json!({"code": {"coding": [
            {"system": clins::LAB_LOCAL_CODE_CS, "code": "0000181800", "display": "アルブミン"},
            {"system": LAB_CORE_JLAC10_CS, "code": "3A015000001827101", "display": "ALB"}
        ], "text": "アルブミン"}});
        assert_eq!(
            primary_code("Observation", &obs),
            (
                Some(JLAC10_CS.to_owned()),
                Some("3A015000001827101".to_owned()),
                Some("アルブミン".to_owned())
            )
        );
    }

    #[test]
    fn uncoded_placeholders_are_never_the_indexed_code() {
        let condition = json!({"code": {"coding": [
            {"system": DISEASE_KEY_NUMBER_CS, "code": "99999999", "display": "未コード化傷病名"}
        ], "text": "右膝の違和感"}});
        assert_eq!(
            primary_code("Condition", &condition),
            (None, None, Some("右膝の違和感".to_owned()))
        );
        let med = json!({"medicationCodeableConcept": {"coding": [
            {"system": MEDICATION_NOCODED_CS, "code": "NOCODED"},
            {"system": "http://jpfhir.jp/fhir/eCS/CodeSystem/DrugCode/19911234567", "code": "I3240210"}
        ]}});
        assert_eq!(
            primary_code("MedicationRequest", &med).1.as_deref(),
            Some("I3240210")
        );
    }

    #[test]
    fn the_diagnosis_key_number_wins_over_exchange_code_and_icd10() {
        let condition = json!({"code": {"coding": [
            {"system": DISEASE_EXCHANGE_CS, "code": "L3RF"},
            {"system": ICD10_CS, "code": "C160"},
            {"system": DISEASE_KEY_NUMBER_CS, "code": "20075639"}
        ]}});
        assert_eq!(
            primary_code("Condition", &condition).1.as_deref(),
            Some("20075639")
        );
    }

    #[test]
    fn repeated_keys_get_the_code_then_a_counter() {
        let mut keys = vec![
            ("K".to_owned(), Some("s|a".to_owned())),
            ("K".to_owned(), Some("s|b".to_owned())),
            ("K".to_owned(), Some("s|b".to_owned())),
            ("L".to_owned(), Some("s|a".to_owned())),
        ];
        disambiguate(&mut keys);
        let keys: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["K&code=s|a", "K&code=s|b&n=1", "K&code=s|b&n=2", "L"]
        );
    }

    #[test]
    fn source_keys_prefer_the_resource_instance_identifier_and_skip_rp_numbers() {
        let med = json!({"id": "x", "identifier": [
            {"system": "http://jpfhir.jp/fhir/core/mhlw/IdSystem/Medication-RPGroupNumber", "value": "1"},
            {"system": "urn:oid:1.2.392.100495.20.3.11", "value": "ORDER-1"},
            {"system": RESOURCE_INSTANCE_IDENTIFIER, "value": "R-1"}
        ]});
        assert_eq!(
            base_source_key("MedicationRequest", &med),
            format!("MedicationRequest?identifier={RESOURCE_INSTANCE_IDENTIFIER}|R-1")
        );
        assert_eq!(
            base_source_key("Encounter", &json!({"id": "e1"})),
            "Encounter/e1"
        );
        let anonymous = base_source_key("Encounter", &json!({"status": "finished"}));
        assert!(anonymous.starts_with("Encounter#sha256="), "{anonymous}");
    }

    #[test]
    fn restricted_and_uninformed_and_infection_results_are_sensitive() {
        let restricted =
            json!({"meta": {"security": [{"system": CONFIDENTIALITY_SYSTEMS[0], "code": "R"}]}});
        assert!(sensitivity("Condition", &restricted));
        let normal =
            json!({"meta": {"security": [{"system": CONFIDENTIALITY_SYSTEMS[0], "code": "N"}]}});
        assert!(!sensitivity("Condition", &normal));
        let uninformed = json!({"meta": {"tag": [{"system": clins::EHRSHRS_INDICATION_CS, "code": "UNINFORMED"}]}});
        assert!(sensitivity("Condition", &uninformed));
        let hiv_code = lab_codes::lab_code_set()
            .iter()
            .find(|r| r.item.starts_with("HIV"))
            .map(|r| r.code)
            .unwrap();
        let hiv = json!({"code": {"coding": [{"system": JLAC10_CS, "code": hiv_code}]}});
        assert!(sensitivity("Observation", &hiv));
        let potassium =
            json!({"code": {"coding": [{"system": JLAC10_CS, "code": "3H015000002326101"}]}});
        assert!(!sensitivity("Observation", &potassium));
    }

    #[test]
    fn categories_follow_the_documented_mapping() {
        use AccessCategory as C;
        let vital = json!({"category": [{"coding": [{"code": "vital-signs"}]}]});
        let lab = json!({"category": [{"coding": [{"code": "laboratory"}]}]});
        assert_eq!(role("Observation", &vital), Role::Record(C::ClinicalNotes));
        assert_eq!(role("Observation", &lab), Role::Record(C::Labs));
        let rad = json!({"category": [{"coding": [{"code": "RAD"}]}]});
        let hm = json!({"category": [{"coding": [{"code": "HM"}]}]});
        assert_eq!(role("DiagnosticReport", &rad), Role::Record(C::Imaging));
        assert_eq!(role("DiagnosticReport", &hm), Role::Record(C::Labs));
        assert_eq!(
            role("Encounter", &json!({"subject": {}})),
            Role::Record(C::ClinicalNotes)
        );
        assert_eq!(role("Encounter", &json!({})), Role::Context);
        assert_eq!(
            role("MedicationDispense", &json!({})),
            Role::Record(C::Medications)
        );
        assert_eq!(role("Specimen", &json!({})), Role::Context);
        assert_eq!(role("Immunization", &json!({})), Role::Unsupported);
    }
}
