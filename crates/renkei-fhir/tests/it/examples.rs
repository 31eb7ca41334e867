//! The JP-CLINS guide's example files: every valid one is accepted (save two that name no
//! patient at all), every `*ErrorExample*` is refused with the rule it breaks.

use crate::{FACILITY, example_bytes, example_names, general_name_master};
use renkei_domain::{AccessCategory, Sex};
use renkei_fhir::{
    DocumentType, SubmissionKind, Terminology, clins, parse_submission, parse_submission_with,
};
use std::collections::BTreeMap;
use time::macros::date;

/// Valid examples that are building blocks of the guide's document example: clinical content
/// with no patient of its own (the DocumentReference has no subject; the CarePlan's subject is a
/// `urn:uuid:` that means something only inside the Bundle it was cut from). Stored alone they
/// could not be filed under anyone, so they are refused as `missing-patient` (quarantined for the
/// facility to see) rather than stored as orphans.
const UNATTRIBUTABLE: [&str; 2] = [
    "CarePlan-Example-JP-CarePlan-eCS-HT.json",
    "DocumentReference-Example-JP-DocRef-eCS-clinical-ccourse-Referral01.json",
];

#[test]
fn every_valid_example_file_is_accepted_except_the_two_that_name_no_patient() {
    let names = example_names();
    if names.is_empty() {
        return;
    }
    let mut accepted = 0;
    for name in names
        .iter()
        .filter(|n| !n.contains("ErrorExample") && !UNATTRIBUTABLE.contains(&n.as_str()))
    {
        let bytes = example_bytes(name).unwrap();
        let submission = parse_submission(&bytes, FACILITY)
            .unwrap_or_else(|e| panic!("{name} refused: {} ({e})", e.rule()));
        // Whatever carries records carries an identifiable patient.
        if !submission.records.is_empty() {
            assert!(submission.patient.is_identified(), "{name}");
        }
        accepted += 1;
    }
    assert_eq!(accepted, 55, "60 files: 3 error examples, 2 unattributable");
}

#[test]
fn clinical_examples_that_name_no_patient_are_refused_as_missing_patient() {
    for name in UNATTRIBUTABLE {
        let Some(bytes) = example_bytes(name) else {
            return;
        };
        let err = parse_submission(&bytes, FACILITY).unwrap_err();
        assert_eq!(err.rule(), "missing-patient", "{name}");
    }
}

#[test]
fn error_example_egfr_without_the_facilitys_own_lab_code_breaks_clins_r6021() {
    let Some(bytes) = example_bytes("Observation-ErrorExample-ObsLabo-eGFR.json") else {
        return;
    };
    let err = parse_submission(&bytes, FACILITY).unwrap_err();
    assert_eq!(err.rule(), "clins-lab-local-code");
    assert_eq!(err.source_rule(), "JP-CLINS R6021");
    assert!(err.to_string().starts_with("Observation.code:"), "{err}");
}

#[test]
fn error_example_eye_drops_with_neither_yj_nor_general_name_code_breaks_clins_r3010() {
    let Some(bytes) = example_bytes("MedicationRequest-ErrorExample-JP-MedReq-ExtEye-Total1.json")
    else {
        return;
    };
    let err = parse_submission(&bytes, FACILITY).unwrap_err();
    assert_eq!(err.rule(), "clins-medication-code");
    assert_eq!(err.source_rule(), "JP-CLINS R3010");
}

#[test]
fn error_example_wrong_general_name_code_is_refused_with_the_general_name_master_loaded() {
    let Some(bytes) = example_bytes("MedicationRequest-ErrorExample-JP-MedReq-PO-SID-28days.json")
    else {
        return;
    };
    let err = parse_submission_with(&bytes, FACILITY, &general_name_master()).unwrap_err();
    assert_eq!(err.rule(), "clins-medication-code-unknown");
    assert!(err.to_string().contains("2124030F2ZZZ"), "{err}");
    // The code is well-formed: without the master only its membership could tell, so the
    // structural rules alone let it through (a documented gap the master closes).
    assert!(parse_submission_with(&bytes, FACILITY, &Terminology::new()).is_ok());
}

#[test]
fn every_error_example_file_is_refused_with_the_rule_it_breaks() {
    let expected = BTreeMap::from([
        (
            "MedicationRequest-ErrorExample-JP-MedReq-ExtEye-Total1.json",
            "clins-medication-code",
        ),
        (
            "MedicationRequest-ErrorExample-JP-MedReq-PO-SID-28days.json",
            "clins-medication-code-unknown",
        ),
        (
            "Observation-ErrorExample-ObsLabo-eGFR.json",
            "clins-lab-local-code",
        ),
    ]);
    let names: Vec<String> = example_names()
        .into_iter()
        .filter(|n| n.contains("ErrorExample"))
        .collect();
    if names.is_empty() {
        return;
    }
    assert_eq!(
        names.len(),
        expected.len(),
        "a new error example needs its rule here"
    );
    let master = general_name_master();
    for name in &names {
        let bytes = example_bytes(name).unwrap();
        let err = parse_submission_with(&bytes, FACILITY, &master)
            .expect_err(&format!("{name} must be refused"));
        assert_eq!(
            Some(&err.rule()),
            expected.get(name.as_str()),
            "{name}: {err}"
        );
    }
}

#[test]
fn the_observations_bundle_gives_one_lab_record_per_result_with_its_jlac10_code() {
    let Some(bytes) = example_bytes("Bundle-Bundle-CLINS-Observations-Example-01.json") else {
        return;
    };
    let s = parse_submission(&bytes, FACILITY).unwrap();
    assert_eq!(s.kind, SubmissionKind::CollectionBundle);
    assert_eq!(
        s.bundle_identifier.as_deref(),
        Some("http://jpfhir.jp/fhir/clins/bundle-identifier|1318814790^2024^0123-IDa-203949583949")
    );
    assert_eq!(s.patient.local_id.as_deref(), Some("000999739"));
    assert_eq!(
        s.patient.resource_id, None,
        "a Patient.id inside a Bundle is per message"
    );
    assert_eq!(s.patient.sex, Some(Sex::Female));
    assert_eq!(s.patient.birth_date, Some(date!(1930 - 06 - 28)));
    assert_eq!(s.records.len(), 4);
    assert!(s.skipped.is_empty());
    for r in &s.records {
        assert_eq!(r.resource_type, "Observation");
        assert_eq!(r.category, AccessCategory::Labs);
        assert_eq!(r.effective_on, Some(date!(2021 - 07 - 05)));
        assert!(!r.sensitive);
    }
    let albumin = s.records.first().unwrap();
    assert_eq!(albumin.code_system.as_deref(), Some(clins::JLAC10_CS));
    assert_eq!(albumin.code.as_deref(), Some("3A015000001827101"));
    assert_eq!(albumin.display.as_deref(), Some("アルブミン"));
    // eGFR is outside the 43 items and carries the general JLAC10 code.
    assert_eq!(
        s.records.get(2).and_then(|r| r.code.as_deref()),
        Some("8A065000002391901")
    );
    // The guide gives all four results one identifier; the keys still differ.
    let keys: std::collections::BTreeSet<&str> =
        s.records.iter().map(|r| r.source_key.as_str()).collect();
    assert_eq!(keys.len(), 4);
    assert!(albumin.source_key.starts_with(
        "Observation?identifier=http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier|1318814790-9990767-OBSLAB13883807672021070909210705-2&code="
    ));
    assert_eq!(
        s.group_key().as_deref(),
        Some(
            "Bundle?identifier=http://jpfhir.jp/fhir/clins/bundle-identifier|1318814790^2024^0123-IDa-203949583949"
        )
    );
}

#[test]
fn the_referral_document_is_one_document_record_plus_its_diagnoses_and_allergies() {
    let Some(bytes) = example_bytes("Bundle-Bundle-CLINS-Referral-Example-01.json") else {
        return;
    };
    let s = parse_submission(&bytes, FACILITY).unwrap();
    assert_eq!(
        s.kind,
        SubmissionKind::DocumentBundle {
            doc_type: DocumentType::Referral
        }
    );
    assert_eq!(s.patient.local_id.as_deref(), Some("000999739"));
    assert_eq!(s.patient.name_kanji.as_deref(), Some("牧野 爛漫"));
    assert_eq!(s.patient.name_kana.as_deref(), Some("マキノ ランマン"));
    // 1 document + 5 Conditions + 3 AllergyIntolerances; the physical-finding Observation,
    // Encounters, Practitioners, Organizations and the DocumentReference stay in the document.
    assert_eq!(s.records.len(), 9);
    let doc = s.records.first().unwrap();
    assert_eq!(doc.resource_type, "Bundle");
    assert_eq!(doc.category, AccessCategory::Documents);
    assert_eq!(doc.code_system.as_deref(), Some("http://loinc.org"));
    assert_eq!(doc.code.as_deref(), Some("57133-1"));
    assert_eq!(doc.display.as_deref(), Some("診療情報提供書"));
    assert_eq!(doc.effective_on, Some(date!(2020 - 08 - 21)));
    assert_eq!(
        doc.resource.get("resourceType").and_then(|v| v.as_str()),
        Some("Bundle")
    );
    let count = |c| s.records.iter().filter(|r| r.category == c).count();
    assert_eq!(count(AccessCategory::Diagnoses), 5);
    assert_eq!(count(AccessCategory::Allergies), 3);
    // Reduced-precision onsets are dated from their first day.
    let fx = s
        .records
        .iter()
        .find(|r| r.code.as_deref() == Some("20080427"))
        .unwrap();
    assert_eq!(fx.effective_on, Some(date!(2021 - 01 - 01)));
    assert_eq!(fx.display.as_deref(), Some("左前腕骨折"));
}

#[test]
fn the_referral_document_without_entries_is_one_document_record() {
    let Some(bytes) = example_bytes("Bundle-Bundle-CLINS-Referral-NoEntry-Example-01.json") else {
        return;
    };
    let s = parse_submission(&bytes, FACILITY).unwrap();
    assert_eq!(s.records.len(), 1);
    assert_eq!(s.patient.local_id.as_deref(), Some("000999739"));
}

#[test]
fn an_uninformed_diagnosis_is_sensitive_and_identified_by_insurance_only() {
    let Some(bytes) = example_bytes("Condition-Example-JP-Condition-eCS-02.json") else {
        return;
    };
    let s = parse_submission(&bytes, FACILITY).unwrap();
    assert_eq!(s.kind, SubmissionKind::Resource);
    let r = s.records.first().unwrap();
    assert!(r.sensitive, "meta.tag UNINFORMED (未告知)");
    assert_eq!(r.category, AccessCategory::Diagnoses);
    assert_eq!(r.code.as_deref(), Some("20054178"));
    assert_eq!(s.patient.local_id, None);
    assert_eq!(
        s.patient.insurance.as_deref(),
        Some("00012345:あいう:１８７:05")
    );
    assert_eq!(s.group_key(), Some(r.source_key.clone()));
}

#[test]
fn a_resource_referencing_patient_by_id_reports_that_id_for_the_caller_to_resolve() {
    let Some(bytes) = example_bytes("AllergyIntolerance-Example-JP-AllergyIntolerance-eCS-02.json")
    else {
        return;
    };
    let s = parse_submission(&bytes, FACILITY).unwrap();
    assert_eq!(
        s.patient.resource_id.as_deref(),
        Some("Example-JP-Patient-eCS-MAKINO")
    );
    assert_eq!(s.patient.local_id, None);
    let r = s.records.first().unwrap();
    assert_eq!(r.category, AccessCategory::Allergies);
    assert_eq!(r.effective_on, Some(date!(2020 - 04 - 10)));
    // The Patient resource of that id gives the local patient ID.
    let patient = example_bytes("Patient-Example-JP-Patient-eCS-MAKINO.json").unwrap();
    let p = parse_submission(&patient, FACILITY).unwrap();
    assert_eq!(
        p.patient.resource_id.as_deref(),
        Some("Example-JP-Patient-eCS-MAKINO")
    );
    assert_eq!(p.patient.local_id.as_deref(), Some("000999739"));
    assert!(p.records.is_empty());
}

#[test]
fn context_resources_alone_are_accepted_with_no_records_and_no_patient() {
    for name in [
        "Practitioner-Example-JP-Practitioner-eCS-ReferralFrom01.json",
        "Organization-Example-JP-Org-eCS-ReferralTo01.json",
        "Specimen-Example-Contained-JP-Specimen-Serum.json",
        "Encounter-Example-JP-Encounter-eCS-AMB-01.json",
    ] {
        let Some(bytes) = example_bytes(name) else {
            return;
        };
        let s = parse_submission(&bytes, FACILITY).unwrap();
        assert!(s.records.is_empty(), "{name}");
        assert!(!s.patient.is_identified(), "{name}");
        assert_eq!(s.group_key(), None, "{name}");
    }
}

#[test]
fn a_prescription_is_indexed_by_its_yj_code() {
    let Some(bytes) = example_bytes("MedicationRequest-Example-JP-MedReq-PO-SID-90-AMB.json")
    else {
        return;
    };
    let s = parse_submission(&bytes, FACILITY).unwrap();
    let r = s.records.first().unwrap();
    assert_eq!(r.category, AccessCategory::Medications);
    assert_eq!(
        r.code_system.as_deref(),
        Some("http://capstandard.jp/iyaku.info/CodeSystem/YJ-code")
    );
    assert_eq!(r.code.as_deref(), Some("2171022F6276"));
    assert!(r.effective_on.is_some());
    assert!(
        r.source_key
            .starts_with("MedicationRequest?identifier=http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier|")
    );
}

#[test]
fn the_payload_hash_is_of_the_bytes_as_received_and_parsing_is_deterministic() {
    use sha2::{Digest, Sha256};
    let Some(bytes) = example_bytes("Bundle-Bundle-CLINS-Referral-Example-01.json") else {
        return;
    };
    let a = parse_submission(&bytes, FACILITY).unwrap();
    let b = parse_submission(&bytes, FACILITY).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.payload_sha256, hex::encode(Sha256::digest(&bytes)));
    // A byte order mark changes the hash but not the content.
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend_from_slice(&bytes);
    let c = parse_submission(&with_bom, FACILITY).unwrap();
    assert_ne!(c.payload_sha256, a.payload_sha256);
    assert_eq!(c.records, a.records);
}

#[test]
fn extracted_records_convert_to_the_domain_record_input() {
    let Some(bytes) = example_bytes("Condition-Example-JP-Condition-eCS-01.json") else {
        return;
    };
    let s = parse_submission(&bytes, FACILITY).unwrap();
    let r = s.records.into_iter().next().unwrap();
    let key = r.source_key.clone();
    let input = r.into_record_input();
    assert_eq!(input.source_key, key);
    assert_eq!(input.category, AccessCategory::Diagnoses);
    assert_eq!(input.code.as_deref(), Some("20064049"));
}
