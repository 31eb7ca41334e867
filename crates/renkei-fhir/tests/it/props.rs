//! Property tests: `parse_submission` never panics, whatever it is given; what it accepts is
//! always filed under an identified patient with unique keys; source keys are deterministic.

use crate::{FACILITY, bytes_of, example_json};
use proptest::prelude::*;
use renkei_fhir::{Submission, parse_submission};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Strings that steer generated JSON into the parser's interesting branches.
const WORDS: &[&str] = &[
    "Bundle",
    "collection",
    "document",
    "transaction",
    "Patient",
    "Observation",
    "Condition",
    "AllergyIntolerance",
    "MedicationRequest",
    "Composition",
    "Encounter",
    "DocumentReference",
    "Practitioner",
    "laboratory",
    "vital-signs",
    "1318814790",
    "1311234567",
    "1318814790^2024^A-1",
    "57133-1",
    "18842-5",
    "99999999",
    "99999999999999999",
    "3A015000001827101",
    "UNDELIVERED",
    "UNINFORMED",
    "R",
    "2021-07-05",
    "2021-07-05T11:19:41+09:00",
    "2018",
    "#p",
    "Patient/p",
    "urn:uuid:p",
    "urn:oid:1.2.392.100495.20.3.51.11318814790",
    "urn:oid:1.2.392.100495.20.3.51.11311234567",
    "http://jpfhir.jp/fhir/clins/bundle-identifier",
    "http://jpfhir.jp/fhir/clins/CodeSystem/BundleResourceType_CS",
    "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_CLINS",
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber",
    "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_ehrshrs_indication",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS",
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS",
    "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Observation_LabResult_eCS",
    "http://jpfhir.jp/fhir/eCS/StructureDefinition/JP_Condition_eCS",
    "http://medis.or.jp/CodeSystem/master-disease-keyNumber",
    "http://loinc.org",
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
];

/// Element names the parser reads.
const KEYS: &[&str] = &[
    "resourceType",
    "type",
    "entry",
    "resource",
    "fullUrl",
    "id",
    "subject",
    "patient",
    "reference",
    "identifier",
    "system",
    "value",
    "code",
    "coding",
    "text",
    "display",
    "meta",
    "profile",
    "tag",
    "security",
    "extension",
    "url",
    "valueIdentifier",
    "contained",
    "category",
    "medicationCodeableConcept",
    "effectiveDateTime",
    "onsetDateTime",
    "authoredOn",
    "date",
    "birthDate",
    "gender",
    "name",
    "title",
    "confidentiality",
    "class",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_owned),
        "[A-Za-z0-9#/:|^._ 牧野-]{0,12}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z]{1,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        word().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kvs| Value::Object(kvs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An object that looks like a resource: a resourceType the parser knows, often a subject that
/// identifies a patient of the facility (so that records come out), plus anything.
fn resource_like() -> impl Strategy<Value = Value> {
    let subject = prop_oneof![
        Just(None),
        word().prop_map(|v| Some(json!({"identifier": {
            "system": "urn:oid:1.2.392.100495.20.3.51.11318814790", "value": v}}))),
        word().prop_map(|id| Some(json!({"reference": format!("Patient/{id}")}))),
    ];
    (
        prop::sample::select(WORDS),
        subject,
        prop::collection::vec((key(), json_value()), 0..8),
    )
        .prop_map(|(rt, subject, fields)| {
            let mut map: Map<String, Value> = fields.into_iter().collect();
            map.insert("resourceType".to_owned(), json!(rt));
            if let Some(subject) = subject {
                map.insert("subject".to_owned(), subject);
            }
            Value::Object(map)
        })
}

/// What every accepted submission guarantees.
fn check_accepted(s: &Submission) -> Result<(), TestCaseError> {
    if !s.records.is_empty() {
        prop_assert!(
            s.patient.is_identified(),
            "records without an identified patient"
        );
    }
    let keys: Vec<&str> = s
        .records
        .iter()
        .map(|r| r.source_key.as_str())
        .chain(s.skipped.iter().map(|k| k.source_key.as_str()))
        .collect();
    let unique: BTreeSet<&str> = keys.iter().copied().collect();
    prop_assert_eq!(unique.len(), keys.len(), "source keys repeat: {:?}", keys);
    prop_assert_eq!(s.payload_sha256.len(), 64);
    Ok(())
}

/// JSON text with every object's keys in reverse order (serde_json writes them sorted).
fn reversed_json(v: &Value) -> String {
    match v {
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(reversed_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), reversed_json(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

/// All JSON pointers into a value (for mutating the guide's examples).
fn pointers(v: &Value, here: String, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{here}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                pointers(
                    item,
                    format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        _ => {}
    }
    out.push(here);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parse_submission_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_submission(&bytes, FACILITY);
    }

    #[test]
    fn parse_submission_never_panics_on_arbitrary_json(v in json_value()) {
        if let Ok(s) = parse_submission(&bytes_of(&v), FACILITY) {
            check_accepted(&s)?;
        }
    }

    #[test]
    fn parse_submission_never_panics_on_resource_shaped_json(v in resource_like()) {
        if let Ok(s) = parse_submission(&bytes_of(&v), FACILITY) {
            check_accepted(&s)?;
        }
    }

    #[test]
    fn parse_submission_never_panics_on_the_guides_bundles_with_one_element_replaced(
        which in 0..2usize,
        at in any::<prop::sample::Index>(),
        replacement in json_value(),
    ) {
        let name = ["Bundle-Bundle-CLINS-Observations-Example-01.json", "Bundle-Bundle-CLINS-Referral-Example-01.json"];
        let Some(mut v) = name.get(which).and_then(|n| example_json(n)) else {
            return Ok(());
        };
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let pointer = at.get(&all).clone();
        if pointer.is_empty() {
            v = replacement;
        } else if let Some(slot) = v.pointer_mut(&pointer) {
            *slot = replacement;
        }
        if let Ok(s) = parse_submission(&bytes_of(&v), FACILITY) {
            check_accepted(&s)?;
        }
    }

    #[test]
    fn source_keys_are_deterministic_and_independent_of_key_order(v in resource_like()) {
        let sorted = bytes_of(&v);
        let reversed = reversed_json(&v).into_bytes();
        let first = parse_submission(&sorted, FACILITY);
        let again = parse_submission(&sorted, FACILITY);
        let other_order = parse_submission(&reversed, FACILITY);
        prop_assert_eq!(&first, &again);
        match (&first, &other_order) {
            (Ok(a), Ok(b)) => {
                let keys = |s: &Submission| s.records.iter().map(|r| r.source_key.clone()).collect::<Vec<_>>();
                prop_assert_eq!(keys(a), keys(b));
            }
            (Err(a), Err(b)) => prop_assert_eq!(a.rule(), b.rule()),
            _ => prop_assert!(false, "key order changed the outcome"),
        }
    }
}
