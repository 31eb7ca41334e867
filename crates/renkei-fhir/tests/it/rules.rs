//! Each rule, shown on the guide's examples edited in memory (the shared files are never
//! changed) or on small resources written here.

use crate::{FACILITY, bytes_of, example_bytes, example_json};
use renkei_domain::AccessCategory;
use renkei_fhir::{FhirError, SkipReason, clins, lab_code_set, parse_submission};
use serde_json::{Value, json};

const OBSERVATIONS: &str = "Bundle-Bundle-CLINS-Observations-Example-01.json";
const REFERRAL: &str = "Bundle-Bundle-CLINS-Referral-Example-01.json";

#[expect(
    clippy::unwrap_used,
    reason = "test helper: an accepted input fails the calling test"
)]
fn refused(v: &Value) -> FhirError {
    parse_submission(&bytes_of(v), FACILITY).unwrap_err()
}

#[expect(
    clippy::unwrap_used,
    reason = "test helper: the edited examples are Bundles with entries"
)]
fn entries(v: &mut Value) -> &mut Vec<Value> {
    v["entry"].as_array_mut().unwrap()
}

#[test]
fn a_bundle_for_another_facility_is_refused_by_its_institution_number() {
    let Some(bytes) = example_bytes(OBSERVATIONS) else {
        return;
    };
    let err = parse_submission(&bytes, "1311234567").unwrap_err();
    assert_eq!(err.rule(), "clins-institution-number");
    assert!(err.to_string().contains("1318814790"), "{err}");
    let referral = example_bytes(REFERRAL).unwrap();
    let err = parse_submission(&referral, "1311234567").unwrap_err();
    assert_eq!(err.rule(), "clins-institution-number");
}

#[test]
fn a_patient_id_under_another_facilitys_namespace_is_a_patient_mismatch() {
    let Some(mut v) = example_json("Patient-Example-JP-Patient-eCS-MAKINO.json") else {
        return;
    };
    assert_eq!(
        parse_submission(&bytes_of(&v), "1311234567")
            .unwrap_err()
            .rule(),
        "patient-mismatch"
    );
    // The same inside a Bundle whose Bundle-ID is the facility's own.
    let mut bundle = example_json(OBSERVATIONS).unwrap();
    entries(&mut bundle)[0]["resource"]["identifier"][0]["system"] =
        json!("urn:oid:1.2.392.100495.20.3.51.11311234567");
    assert_eq!(refused(&bundle).rule(), "patient-mismatch");
    // And an entry whose subject names another patient.
    let mut bundle = example_json(OBSERVATIONS).unwrap();
    entries(&mut bundle)[2]["resource"]["subject"] =
        json!({"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"});
    let err = refused(&bundle);
    assert_eq!(err.rule(), "patient-mismatch");
    assert!(
        err.to_string().starts_with("entry[2].resource.subject:"),
        "{err}"
    );
    v["identifier"] = json!([]);
    assert!(
        parse_submission(&bytes_of(&v), FACILITY).is_ok(),
        "a Patient alone may lack IDs"
    );
}

#[test]
fn two_patients_in_one_bundle_are_a_patient_mismatch() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    let patient = entries(&mut v)[0].clone();
    entries(&mut v).push(patient);
    // In a CLINS Bundle the closed entry slicing already refuses a second Patient.
    assert_eq!(refused(&v).rule(), "clins-bundle-resource-type");
    // In a plain (non-CLINS) collection it is the patient rule.
    v["meta"] = json!({});
    v["identifier"] = json!({"system": "urn:example:bundles", "value": "b1"});
    assert_eq!(refused(&v).rule(), "patient-mismatch");
}

#[test]
fn the_patient_must_be_the_first_entry_of_a_clins_bundle_r0211() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    entries(&mut v).swap(0, 1);
    let err = refused(&v);
    assert_eq!(err.rule(), "clins-patient-first");
    assert_eq!(err.source_rule(), "JP-CLINS R0211");
}

#[test]
fn the_bundle_id_must_be_institution_year_and_id_r2152() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    for bad in [
        "1318814790-2024-0123",
        "1318814790^24^0123",
        "1318814790^2024^ID_1",
    ] {
        v["identifier"]["value"] = json!(bad);
        assert_eq!(refused(&v).rule(), "clins-bundle-identifier", "{bad}");
    }
    v["identifier"] = json!({"system": "urn:example", "value": "1318814790^2024^1"});
    // Still tagged and profiled as JP_Bundle_CLINS: the system is wrong.
    assert_eq!(refused(&v).rule(), "clins-bundle-identifier");
    v.as_object_mut().unwrap().remove("identifier");
    assert_eq!(refused(&v).rule(), "clins-bundle-identifier");
}

#[test]
fn a_clins_bundle_carries_one_tagged_resource_type_r02141_r02142() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    let condition = example_json("Condition-Example-JP-Condition-eCS-01.json").unwrap();
    entries(&mut v).push(json!({"fullUrl": "urn:uuid:c1", "resource": condition}));
    let err = refused(&v);
    assert_eq!(err.rule(), "clins-bundle-resource-type");
    assert!(err.to_string().starts_with("entry[5].resource:"), "{err}");
    let mut v = example_json(OBSERVATIONS).unwrap();
    v["meta"]["tag"][0]["code"] = json!("Procedure");
    assert_eq!(refused(&v).rule(), "clins-bundle-resource-type");
}

#[test]
fn every_entry_of_a_clins_bundle_names_the_facility_r9011_r9012() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    entries(&mut v)[3]["resource"]["extension"] = json!([]);
    let err = refused(&v);
    assert_eq!(err.rule(), "clins-institution-number");
    assert!(
        err.to_string().starts_with("entry[3].resource.extension"),
        "{err}"
    );
    let mut v = example_json(OBSERVATIONS).unwrap();
    entries(&mut v)[3]["resource"]["extension"][0]["valueIdentifier"]["value"] =
        json!("1311234567");
    assert_eq!(refused(&v).rule(), "clins-institution-number");
}

#[test]
fn a_single_resource_naming_another_facility_is_refused() {
    let Some(bytes) = example_bytes("Condition-Example-JP-Condition-eCS-01.json") else {
        return;
    };
    let err = parse_submission(&bytes, "1311234567").unwrap_err();
    assert_eq!(err.rule(), "clins-institution-number");
}

#[test]
fn a_lab_code_claimed_as_a_clins_set_code_must_be_in_the_set() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    // The albumin result with a code that is not one of the 43 items.
    entries(&mut v)[1]["resource"]["code"]["coding"][1]["code"] = json!("8A065000002391901");
    let err = refused(&v);
    assert_eq!(err.rule(), "clins-lab-code-set");
    assert!(err.to_string().contains("8A065000002391901"), "{err}");
    assert!(
        err.to_string()
            .starts_with("entry[1].resource.code.coding[1]"),
        "{err}"
    );
}

#[test]
fn a_clins_diagnosis_needs_the_medis_key_number_or_eight_nines() {
    let Some(mut v) = example_json("Condition-Example-JP-Condition-eCS-01.json") else {
        return;
    };
    v["code"]["coding"][0]["system"] = json!(clins::DISEASE_EXCHANGE_CS);
    assert_eq!(refused(&v).rule(), "clins-condition-code");
    v["code"]["coding"][0] = json!({"system": clins::DISEASE_KEY_NUMBER_CS, "code": "99999999", "display": "未コード化傷病名"});
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    let r = s.records.first().unwrap();
    assert_eq!(r.code, None, "the placeholder is not an index code");
    assert_eq!(r.display.as_deref(), Some("十二指腸潰瘍・H1期"));
}

#[test]
fn a_plain_jp_core_resource_is_not_held_to_the_clins_code_rules() {
    let Some(mut v) = example_json("Observation-ErrorExample-ObsLabo-eGFR.json") else {
        return;
    };
    // Without the eCS profile claim the lab coding rules do not apply.
    v["meta"]["profile"] =
        json!(["http://jpfhir.jp/fhir/core/StructureDefinition/JP_Observation_LabResult"]);
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert_eq!(s.records.first().unwrap().category, AccessCategory::Labs);
}

#[test]
fn a_subject_identifier_with_the_local_patient_id_identifies_the_patient() {
    let Some(mut v) = example_json("Condition-Example-JP-Condition-eCS-01.json") else {
        return;
    };
    v["subject"] = json!({"identifier": {"system": "urn:oid:1.2.392.100495.20.3.51.11318814790", "value": "000999739"}});
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert_eq!(s.patient.local_id.as_deref(), Some("000999739"));
    v["subject"] = json!({"display": "患者"});
    assert_eq!(refused(&v).rule(), "missing-patient");
}

#[test]
fn a_bundle_with_only_the_patient_withdraws_everything_under_its_bundle_id() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    entries(&mut v).truncate(1);
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert!(s.records.is_empty());
    assert!(s.group_key().is_some());
}

#[test]
fn an_undelivered_result_is_skipped_and_reported() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    entries(&mut v)[2]["resource"]["meta"]["tag"] =
        json!([{"system": clins::EHRSHRS_INDICATION_CS, "code": "UNDELIVERED"}]);
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert_eq!(s.records.len(), 3);
    let skipped = s.skipped.first().unwrap();
    assert_eq!(skipped.reason, SkipReason::Undelivered);
    assert_eq!(skipped.path, "entry[2].resource");
    assert!(!s.records.iter().any(|r| r.source_key == skipped.source_key));
}

#[test]
fn an_undelivered_diagnosis_in_a_letter_is_skipped_and_makes_the_letter_sensitive() {
    let Some(mut v) = example_json(REFERRAL) else {
        return;
    };
    entries(&mut v)[8]["resource"]["meta"]["tag"] =
        json!([{"system": clins::EHRSHRS_INDICATION_CS, "code": "UNDELIVERED"}]);
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert_eq!(s.records.len(), 8);
    assert!(s.records.first().unwrap().sensitive);
    assert_eq!(
        s.skipped.first().map(|k| k.reason),
        Some(SkipReason::Undelivered)
    );
}

#[test]
fn an_infection_result_is_sensitive_and_so_is_a_restricted_resource() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    let hiv = lab_code_set()
        .iter()
        .find(|c| c.item == "HIV-1P2-AB-RESULT")
        .unwrap();
    entries(&mut v)[1]["resource"]["code"]["coding"][1] = json!({
        "system": clins::LAB_INFECTION_JLAC10_CS, "code": hiv.code, "display": hiv.item});
    entries(&mut v)[2]["resource"]["meta"]["security"] = json!([{
        "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}]);
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    let flags: Vec<bool> = s.records.iter().map(|r| r.sensitive).collect();
    assert_eq!(flags, [true, true, false, false]);
    assert_eq!(s.records.first().unwrap().category, AccessCategory::Labs);
    // A restriction on the whole Bundle covers every record in it.
    v["meta"]["security"] = json!([{
        "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"}]);
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert!(s.records.iter().all(|r| r.sensitive));
}

#[test]
fn a_document_entry_made_by_another_facility_stays_inside_the_document() {
    let Some(mut v) = example_json(REFERRAL) else {
        return;
    };
    // entry[13] is an AllergyIntolerance with the 医療機関番号 extension.
    entries(&mut v)[13]["resource"]["extension"][0]["valueIdentifier"]["value"] =
        json!("1311234567");
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert_eq!(s.records.len(), 8);
    assert_eq!(
        s.skipped.first().map(|k| k.reason),
        Some(SkipReason::OtherFacility)
    );
}

#[test]
fn a_document_must_start_with_a_supported_composition() {
    let Some(mut v) = example_json(REFERRAL) else {
        return;
    };
    entries(&mut v).swap(0, 1);
    assert_eq!(refused(&v).rule(), "fhir-document-composition-first");
    let mut v = example_json(REFERRAL).unwrap();
    entries(&mut v)[0]["resource"]["type"]["coding"][0]["code"] = json!("11506-3");
    let err = refused(&v);
    assert_eq!(err.rule(), "unsupported-document-type");
    assert!(err.to_string().contains("11506-3"));
    let mut v = example_json(REFERRAL).unwrap();
    entries(&mut v)[0]["resource"]["type"]["coding"][0]["code"] = json!("18842-5");
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert_eq!(
        s.kind,
        renkei_fhir::SubmissionKind::DocumentBundle {
            doc_type: renkei_fhir::DocumentType::DischargeSummary
        }
    );
}

#[test]
fn a_document_subject_must_be_its_patient_entry() {
    let Some(mut v) = example_json(REFERRAL) else {
        return;
    };
    entries(&mut v)[0]["resource"]["subject"] =
        json!({"reference": "urn:uuid:ffffffff-0d87-4efb-aafd-d45e0842a4dd"});
    assert_eq!(refused(&v).rule(), "patient-mismatch");
    entries(&mut v)[0]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("subject");
    assert_eq!(refused(&v).rule(), "missing-patient");
}

#[test]
fn malformed_input_is_refused_with_its_reason() {
    let cases: [(&[u8], &str); 7] = [
        (b"", "invalid-json"),
        (b"{\"resourceType\": \"Patient\"", "invalid-json"),
        (b"\xff\xfe{}", "invalid-json"),
        (b"[1, 2]", "not-fhir"),
        (b"{\"id\": \"x\"}", "not-fhir"),
        (
            b"{\"resourceType\": \"Immunization\", \"patient\": {}}",
            "unsupported-resource",
        ),
        (
            b"{\"resourceType\": \"Bundle\", \"type\": \"transaction\"}",
            "unsupported-bundle-type",
        ),
    ];
    for (bytes, rule) in cases {
        assert_eq!(
            parse_submission(bytes, FACILITY).unwrap_err().rule(),
            rule,
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    assert_eq!(
        parse_submission(b"{}", "13188147").unwrap_err().rule(),
        "invalid-facility-code"
    );
}

#[test]
fn an_unsupported_type_inside_a_plain_collection_is_reported_not_dropped() {
    let Some(mut v) = example_json(OBSERVATIONS) else {
        return;
    };
    v["meta"] = json!({});
    v["identifier"] = json!({"system": "urn:example:bundles", "value": "b1"});
    entries(&mut v).push(json!({"fullUrl": "urn:uuid:i1", "resource": {
        "resourceType": "Immunization", "patient": {"reference": "urn:uuid:b76ef6f6-f6e3-c110-5039-eee64ef6ab6a"}}}));
    let s = parse_submission(&bytes_of(&v), FACILITY).unwrap();
    assert_eq!(s.records.len(), 4);
    assert_eq!(
        s.skipped.first().map(|k| k.reason),
        Some(SkipReason::UnsupportedType)
    );
    assert_eq!(
        s.bundle_identifier.as_deref(),
        Some("urn:example:bundles|b1")
    );
}

#[test]
fn error_messages_never_echo_patient_data() {
    let Some(base) = example_json(OBSERVATIONS) else {
        return;
    };
    // Patient data of the example, and values typed into places where codes belong.
    let secrets = [
        "000999739",
        "牧野",
        "マキノ",
        "00012345",
        "五台山",
        "03-123-1234",
    ];
    let mut broken: Vec<Value> = Vec::new();
    let mut v = base.clone();
    entries(&mut v)[1]["resource"]["code"]["coding"][1]["code"] = json!("牧野 爛漫");
    broken.push(v);
    let mut v = base.clone();
    entries(&mut v)[1]["resource"]["extension"][0]["valueIdentifier"]["value"] = json!("000999739");
    broken.push(v);
    let mut v = base.clone();
    v["identifier"]["value"] = json!("牧野^2024^000999739");
    broken.push(v);
    let mut v = base.clone();
    entries(&mut v)[0]["resource"]["identifier"][0]["system"] =
        json!("urn:oid:1.2.392.100495.20.3.51.1000999739");
    broken.push(v);
    let mut v = base;
    entries(&mut v)[2]["resource"]["subject"] =
        json!({"identifier": {"system": "urn:x", "value": "000999739"}});
    broken.push(v);
    for v in broken {
        let err = refused(&v);
        let texts = [err.to_string(), err.message_ja()];
        for text in &texts {
            for secret in secrets {
                assert!(
                    !text.contains(secret),
                    "{} leaks {secret}: {text}",
                    err.rule()
                );
            }
        }
    }
}
