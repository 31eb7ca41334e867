//! JAHIS → FHIR mapping: the real SS-MIX2 samples, fixtures for the families the samples lack,
//! the refusals, snapshots of one message per family, and never-panics properties.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use renkei_domain::{AccessCategory, Sex};
use renkei_hl7::jahis::{MapError, Mapped, codes, map_message};
use renkei_hl7::ssmix2::{FileName, check_message};
use renkei_hl7::{Message, decode};
use serde_json::{Value, json};

use crate::{broken_patient, files_under, good_patient};

// ---------------------------------------------------------------------------------------------
// Helpers

/// The one sample file of a data kind in the consistent storage.
fn sample(kind: &str) -> Option<PathBuf> {
    let dir = good_patient()?;
    let marker = format!("_{kind}_");
    let found = files_under(&dir).into_iter().find(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.contains(&marker))
    });
    assert!(found.is_some(), "no sample for {kind}");
    found
}

fn file_name_of(path: &Path) -> String {
    path.file_name().unwrap().to_str().unwrap().to_owned()
}

fn decoded(path: &Path) -> String {
    decode(&std::fs::read(path).unwrap()).unwrap().text
}

fn map_text(file_name: &str, text: &str) -> Result<Mapped, MapError> {
    let name = FileName::parse(file_name).unwrap();
    let msg = Message::parse(text).unwrap();
    map_message(&name, &msg)
}

fn map_path(path: &Path) -> Result<Mapped, MapError> {
    map_text(&file_name_of(path), &decoded(path))
}

/// A sample whose PID-3 names another patient, mapped as if it had been stored under the
/// patient it names: the content of the guideline's examples, without the storage mistake.
fn map_as_its_own_patient(path: &Path) -> Mapped {
    let text = decoded(path);
    let msg = Message::parse(&text).unwrap();
    let pid = msg.segment("PID").unwrap().field(3).unwrap();
    let id = pid.component(1).unwrap().as_str().to_owned();
    let file = file_name_of(path);
    let (_, rest) = file.split_once('_').unwrap();
    map_text(&format!("{id}_{rest}"), &text).unwrap()
}

fn of_type<'m>(m: &'m Mapped, resource_type: &str) -> Vec<&'m renkei_domain::RecordInput> {
    m.records
        .iter()
        .filter(|r| r.resource_type == resource_type)
        .collect()
}

fn assert_unique_keys(m: &Mapped) {
    let keys: BTreeSet<&str> = m.records.iter().map(|r| r.source_key.as_str()).collect();
    assert_eq!(
        keys.len(),
        m.records.len(),
        "{:?}",
        m.records.iter().map(|r| &r.source_key).collect::<Vec<_>>()
    );
}

/// Every record has a resourceType matching its index, a profile and a subject.
fn assert_well_formed(m: &Mapped) {
    for r in &m.records {
        assert_eq!(r.resource["resourceType"], json!(r.resource_type));
        assert!(
            r.resource["meta"]["profile"][0].is_string(),
            "{}",
            r.source_key
        );
        let subject = r
            .resource
            .get("subject")
            .or_else(|| r.resource.get("patient"))
            .or_else(|| r.resource.get("beneficiary"));
        assert!(
            subject.is_some(),
            "{} has no patient reference",
            r.source_key
        );
        assert!(r.effective_on.is_some());
    }
}

/// A segment with values at field positions: `seg("PV2", &[(8, "2024…")])`.
fn seg(name: &str, fields: &[(usize, &str)]) -> String {
    let last = fields.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let mut values = vec![String::new(); last];
    for (n, v) in fields {
        values[n - 1] = (*v).to_owned();
    }
    std::iter::once(name.to_owned())
        .chain(values)
        .collect::<Vec<_>>()
        .join("|")
}

fn msh(message_type: &str) -> String {
    format!("MSH|^~\\&|HIS|SEND|GW|RCV|20240105091500||{message_type}|CTRL|P|2.5")
}

fn message(segments: &[String]) -> String {
    segments.join("\r") + "\r"
}

const PATIENT: &str = "7000001";

fn pid() -> String {
    format!("PID|0001||{PATIENT}^^^^PI||連携^花子^^^^^L^I~レンケイ^ハナコ^^^^^L^P||19800101|F")
}

/// A JSON view of a mapping for snapshots (dates as text).
fn snapshot(m: &Mapped) -> Value {
    let patient = m.patient.as_ref().map(|p| {
        json!({
            "name_kanji": p.name_kanji,
            "name_kana": p.name_kana,
            "sex": p.sex.map(|s| s.as_str()),
            "birth_date": p.birth_date.map(|d| d.to_string()),
            "postal_code": p.postal_code,
            "address": p.address,
            "phone": p.phone,
            "insurer_number": p.insurer_number,
            "insured_symbol": p.insured_symbol,
            "insured_number": p.insured_number,
            "insured_branch": p.insured_branch,
        })
    });
    let records: Vec<Value> = m
        .records
        .iter()
        .map(|r| {
            json!({
                "source_key": r.source_key,
                "resource_type": r.resource_type,
                "category": r.category.as_str(),
                "code_system": r.code_system,
                "code": r.code,
                "display": r.display,
                "effective_on": r.effective_on.map(|d| d.to_string()),
                "sensitive": r.sensitive,
                "resource": r.resource,
            })
        })
        .collect();
    json!({ "patient": patient, "notes": m.notes, "records": records })
}

// ---------------------------------------------------------------------------------------------
// The real samples

#[test]
fn every_consistent_sample_maps_and_every_mismatched_one_is_refused() {
    let Some(dir) = good_patient() else { return };
    let (mut mapped, mut refused) = (0, 0);
    for path in files_under(&dir) {
        let name = FileName::parse(&file_name_of(&path)).unwrap();
        let text = decoded(&path);
        let msg = Message::parse(&text).unwrap();
        let consistent = check_message(&msg, &name).is_empty();
        match map_message(&name, &msg) {
            Ok(m) => {
                assert!(consistent, "{}", path.display());
                assert!(
                    !m.records.is_empty() || m.patient.is_some(),
                    "{}",
                    path.display()
                );
                assert_unique_keys(&m);
                assert_well_formed(&m);
                mapped += 1;
            }
            Err(e) => {
                assert!(!consistent, "{}: {e}", path.display());
                assert_eq!(e, MapError::PatientMismatch, "{}", path.display());
                assert_eq!(e.code(), "patient-mismatch");
                // The reason names no patient data.
                let shown = format!("{e} {}", e.message_ja());
                assert!(!shown.contains(name.patient_id()));
                refused += 1;
            }
        }
    }
    assert_eq!((mapped, refused), (9, 10));
}

#[test]
fn the_broken_storage_message_about_another_patient_is_refused() {
    let Some(dir) = broken_patient() else { return };
    let path =
        dir.join("20000401/OMP-11/0000001_20000401_OMP-11_123456789012345_20110701113813225_01_1");
    assert_eq!(map_path(&path).unwrap_err(), MapError::PatientMismatch);
}

#[test]
fn adt_00_gives_demographics_coverage_body_measurements_and_an_allergy() {
    let Some(path) = sample("ADT-00") else { return };
    let m = map_path(&path).unwrap();
    let p = m.patient.as_ref().unwrap();
    assert_eq!(p.name_kanji.as_deref(), Some("患者 太郎"));
    assert_eq!(p.name_kana.as_deref(), Some("カンジャ タロウ"));
    assert_eq!(p.sex, Some(Sex::Male));
    assert_eq!(
        p.birth_date.map(|d| d.to_string()).as_deref(),
        Some("1948-04-05")
    );
    assert_eq!(p.postal_code.as_deref(), Some("422-8033"));
    assert!(
        p.address
            .as_deref()
            .unwrap()
            .starts_with("静岡県静岡市登呂")
    );
    assert_eq!(p.phone.as_deref(), Some("054-000-0000"));
    assert_eq!(p.insurer_number.as_deref(), Some("67999991"));
    assert_eq!(p.insured_symbol, None);
    let counts: Vec<(&str, usize)> = ["Observation", "AllergyIntolerance", "Coverage"]
        .into_iter()
        .map(|t| (t, of_type(&m, t).len()))
        .collect();
    assert_eq!(
        counts,
        [
            ("Observation", 3),
            ("AllergyIntolerance", 1),
            ("Coverage", 1)
        ]
    );
    let coverage = of_type(&m, "Coverage")[0];
    assert_eq!(coverage.category, AccessCategory::Demographics);
    assert_eq!(
        coverage.resource["payor"][0]["identifier"]["value"],
        json!("67999991")
    );
    let height = &of_type(&m, "Observation")[0];
    assert_eq!(height.code_system.as_deref(), Some(codes::JLAC10));
    assert_eq!(height.resource["valueQuantity"]["value"], json!(167.8));
    assert_eq!(height.category, AccessCategory::ClinicalNotes);
    assert_eq!(of_type(&m, "Observation")[2].category, AccessCategory::Labs);
    // The local allergen code keeps its system.
    let allergy = of_type(&m, "AllergyIntolerance")[0];
    assert_eq!(
        allergy.code_system.as_deref(),
        Some(format!("{}99XYZ", codes::LOCAL_SYSTEM_PREFIX).as_str())
    );
    assert_eq!(allergy.resource["category"], json!(["medication"]));
    // NK1, PV1 and DB1 are noted.
    assert_eq!(m.notes.len(), 3, "{:?}", m.notes);
}

#[test]
fn omp_01_prescriptions_have_drug_codes_and_dosage() {
    let Some(path) = sample("OMP-01") else { return };
    let m = map_path(&path).unwrap();
    let requests = of_type(&m, "MedicationRequest");
    assert_eq!(requests.len(), 3);
    let keys: Vec<&str> = requests.iter().map(|r| r.source_key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "RXE|1|1|108665201",
            "RXE|1|2|110626901",
            "RXE|2|1|100607002"
        ]
    );
    for r in &requests {
        assert_eq!(r.code_system.as_deref(), Some(codes::HOT9));
        assert_eq!(r.category, AccessCategory::Medications);
        let dosage = &r.resource["dosageInstruction"][0];
        assert!(dosage["doseAndRate"][0]["doseQuantity"]["value"].is_number());
        assert_eq!(
            dosage["timing"]["code"]["coding"][0]["system"],
            json!(codes::JAMI_USAGE)
        );
        assert_eq!(dosage["route"]["coding"][0]["code"], json!("PO"));
        assert_eq!(r.resource["authoredOn"], json!("2011-07-01T10:30:45+09:00"));
    }
    let first = &requests[0].resource;
    assert_eq!(
        first["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"],
        json!({ "value": 1, "unit": "錠", "system": codes::MERIT9_UNIT, "code": "TAB" })
    );
    assert_eq!(
        first["dispenseRequest"]["expectedSupplyDuration"]["value"],
        json!(5)
    );
    assert_eq!(first["dispenseRequest"]["quantity"]["value"], json!(15));
    let powder = &requests[2].resource["dosageInstruction"][0]["doseAndRate"][0];
    assert_eq!(powder["doseQuantity"]["code"], json!("MG"));
    assert_eq!(powder["rateRatio"]["numerator"]["value"], json!(100));
}

#[test]
fn omp_02_injections_contain_their_ingredients() {
    let Some(path) = sample("OMP-02") else { return };
    let m = map_path(&path).unwrap();
    let requests = of_type(&m, "MedicationRequest");
    assert_eq!(requests.len(), 3);
    for r in &requests {
        let med = &r.resource["contained"][0];
        assert_eq!(med["resourceType"], json!("Medication"));
        assert_eq!(med["ingredient"].as_array().unwrap().len(), 2);
        assert_eq!(
            r.resource["medicationReference"]["reference"],
            json!("#med")
        );
        assert_eq!(r.code.as_deref(), Some("620007329"));
        let dosage = &r.resource["dosageInstruction"][0];
        assert_eq!(dosage["route"]["coding"][0]["code"], json!("IV"));
        assert_eq!(
            dosage["doseAndRate"][0]["rateQuantity"]["value"],
            json!(102)
        );
        assert!(dosage["timing"]["repeat"]["boundsPeriod"]["start"].is_string());
    }
}

#[test]
fn omp_11_and_12_administrations() {
    for (kind, route) in [("OMP-11", "PO"), ("OMP-12", "IV")] {
        let Some(path) = sample(kind) else { return };
        let m = map_path(&path).unwrap();
        let given = of_type(&m, "MedicationAdministration");
        assert_eq!(given.len(), 2, "{kind}");
        for r in given {
            assert_eq!(r.code_system.as_deref(), Some(codes::HOT9));
            assert_eq!(r.resource["status"], json!("completed"));
            assert_eq!(
                r.resource["dosage"]["route"]["coding"][0]["code"],
                json!(route)
            );
            assert!(r.resource["effectivePeriod"]["start"].is_string());
        }
    }
}

#[test]
fn adt_22_42_52_are_encounters_of_one_stay() {
    let expected = [
        ("ADT-22", "arrived", "2011-11-20"),
        ("ADT-42", "in-progress", "2011-12-20"),
        ("ADT-52", "finished", "2011-12-20"),
    ];
    for (kind, status, day) in expected {
        let Some(path) = sample(kind) else { return };
        let m = map_path(&path).unwrap();
        assert_eq!(m.records.len(), 1);
        let e = &m.records[0];
        assert_eq!(e.resource_type, "Encounter");
        assert_eq!(e.category, AccessCategory::ClinicalNotes);
        assert_eq!(e.resource["status"], json!(status), "{kind}");
        assert_eq!(e.resource["class"]["code"], json!("IMP"));
        assert_eq!(
            e.effective_on.map(|d| d.to_string()).as_deref(),
            Some(day),
            "{kind}"
        );
    }
    let m = map_path(&sample("ADT-52").unwrap()).unwrap();
    assert_eq!(
        m.records[0].resource["period"]["end"],
        json!("2011-12-20T12:00:00+09:00")
    );
    let m = map_path(&sample("ADT-42").unwrap()).unwrap();
    let locations = m.records[0].resource["location"].as_array().unwrap();
    assert_eq!(locations.len(), 2, "new and previous location");
    assert_eq!(locations[1]["status"], json!("completed"));
}

#[test]
fn oml_01_lab_orders_list_their_items() {
    let Some(path) = sample("OML-01") else { return };
    let m = map_path(&path).unwrap();
    let orders = of_type(&m, "ServiceRequest");
    assert_eq!(orders.len(), 2);
    assert_eq!(
        orders[0].resource["orderDetail"].as_array().unwrap().len(),
        4
    );
    assert_eq!(
        orders[1].resource["orderDetail"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        orders[0].resource["orderDetail"][0]["coding"][0]["system"],
        json!(codes::JLAC10)
    );
    assert!(orders.iter().all(|o| o.category == AccessCategory::Labs));
}

#[test]
fn samples_stored_under_another_patient_map_for_the_patient_they_name() {
    let Some(_) = good_patient() else { return };
    // OML-11: JLAC10 codes, values, units, ranges.
    let m = map_as_its_own_patient(&sample("OML-11").unwrap());
    let results = of_type(&m, "Observation");
    assert_eq!(results.len(), 3);
    for r in &results {
        assert_eq!(r.code_system.as_deref(), Some(codes::JLAC10));
        assert!(r.resource["valueQuantity"]["value"].is_number());
        assert_eq!(
            r.resource["contained"][0]["resourceType"],
            json!("Specimen")
        );
        assert_eq!(r.category, AccessCategory::Labs);
    }
    assert_eq!(results[1].resource["valueQuantity"]["unit"], json!("g/dl"));
    assert_eq!(
        results[1].resource["referenceRange"][0]["low"]["value"],
        json!(6.7)
    );
    assert_eq!(
        results[1].resource["referenceRange"][0]["high"]["value"],
        json!(8.3)
    );
    // ADT-61: four allergies with categories and reactions.
    let m = map_as_its_own_patient(&sample("ADT-61").unwrap());
    let allergies = of_type(&m, "AllergyIntolerance");
    let categories: Vec<&Value> = allergies
        .iter()
        .map(|a| &a.resource["category"][0])
        .collect();
    assert_eq!(
        categories,
        [
            &json!("environment"),
            &json!("food"),
            &json!("environment"),
            &json!("medication")
        ]
    );
    assert_eq!(allergies[0].resource["onsetDateTime"], json!("1996-01"));
    assert_eq!(
        allergies[1].resource["onsetString"],
        json!("小学校低学年の頃")
    );
    assert_eq!(allergies[3].code_system.as_deref(), Some(codes::HOT9));
    assert_eq!(
        allergies[1].resource["reaction"][0]["severity"],
        json!("moderate")
    );
    // PPR-01: one very-restricted, ended diagnosis with MEDIS and ICD-10 codes.
    let m = map_as_its_own_patient(&sample("PPR-01").unwrap());
    let c = &m.records[0];
    assert_eq!(
        (c.code_system.as_deref(), c.code.as_deref()),
        (Some(codes::DISEASE_KEY_NUMBER), Some("20054174"))
    );
    let systems: Vec<&Value> = c.resource["code"]["coding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["system"])
        .collect();
    assert_eq!(
        systems,
        [
            &json!(codes::DISEASE_KEY_NUMBER),
            &json!(codes::DISEASE_EXCHANGE),
            &json!(codes::ICD10)
        ]
    );
    assert!(c.sensitive);
    assert_eq!(
        c.resource["clinicalStatus"]["coding"][0]["code"],
        json!("inactive")
    );
    assert_eq!(c.resource["abatementDateTime"], json!("2011-09-15"));
    assert_eq!(c.source_key, "PRB|123456789012345");
    // The ZI1 segment is kept on the Condition.
    assert!(c.resource["extension"].to_string().contains("ZI1|1|"));
    // Imaging, endoscopy, physiology.
    let counts = |kind: &str| {
        let m = map_as_its_own_patient(&sample(kind).unwrap());
        assert_unique_keys(&m);
        assert!(
            m.records
                .iter()
                .all(|r| r.category == AccessCategory::Imaging)
        );
        ["ServiceRequest", "DiagnosticReport", "ImagingStudy"].map(|t| of_type(&m, t).len())
    };
    assert_eq!(counts("OMG-01"), [5, 0, 0]);
    assert_eq!(counts("OMG-02"), [2, 0, 0]);
    assert_eq!(counts("OMG-03"), [1, 0, 0]);
    assert_eq!(counts("OMG-11"), [0, 2, 1]);
    assert_eq!(counts("OMG-12"), [0, 4, 1]);
    assert_eq!(counts("OMG-13"), [0, 1, 0]);
    let ecg = map_as_its_own_patient(&sample("OMG-13").unwrap());
    let report = &ecg.records[0].resource;
    assert_eq!(report["conclusion"], json!("心筋虚血疑い"));
    assert_eq!(report["result"].as_array().unwrap().len(), 11);
    assert_eq!(
        report["presentedForm"][0]["contentType"],
        json!("text/plain; charset=utf-8")
    );
    // OMD.
    let diet = map_as_its_own_patient(&sample("OMD").unwrap());
    assert_eq!(diet.records[0].resource_type, "NutritionOrder");
    assert_eq!(
        diet.records[0].resource["oralDiet"]["instruction"],
        json!("塩分控えめ")
    );
}

// ---------------------------------------------------------------------------------------------
// Snapshots: one message per family

#[test]
fn snapshots_of_one_message_per_family() {
    let Some(_) = good_patient() else { return };
    for (kind, own) in [
        ("ADT-00", false),
        ("ADT-22", false),
        ("ADT-61", true),
        ("PPR-01", true),
        ("OMP-01", false),
        ("OMP-02", false),
        ("OMP-12", false),
        ("OML-01", false),
        ("OML-11", true),
        ("OMG-01", true),
        ("OMG-12", true),
        ("OMG-13", true),
        ("OMD", true),
    ] {
        let path = sample(kind).unwrap();
        let m = if own {
            map_as_its_own_patient(&path)
        } else {
            map_path(&path).unwrap()
        };
        insta::assert_json_snapshot!(kind.to_lowercase(), snapshot(&m));
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures for the families the samples lack

fn encounter(file_name: &str, segments: &[String]) -> (Value, Mapped) {
    let m = map_text(file_name, &message(segments)).unwrap();
    assert_eq!(m.records.len(), 1, "{:?}", m.notes);
    assert_eq!(m.records[0].resource_type, "Encounter");
    (m.records[0].resource.clone(), m)
}

fn pv1(class: &str, extra: &[(usize, &str)]) -> String {
    let mut fields = vec![
        (1, "0001"),
        (2, class),
        (3, "3A^301^2^^^N"),
        (7, "D001^医師^次郎^^^^^^^L^^^^^I"),
        (10, "01"),
        (19, "V20240001"),
    ];
    fields.extend_from_slice(extra);
    seg("PV1", &fields)
}

#[test]
fn adt_12_outpatient_visit() {
    let (e, m) = encounter(
        "7000001_20240105_ADT-12_000000000000001_20240105091500000_01_1",
        &[
            msh("ADT^A04^ADT_A01"),
            seg("EVN", &[(2, "20240105091500"), (6, "20240105091000")]),
            pid(),
            pv1("O", &[]),
            seg("ZV1", &[(1, "1"), (2, "受付票")]),
        ],
    );
    assert_eq!(e["status"], json!("arrived"));
    assert_eq!(e["class"]["code"], json!("AMB"));
    assert_eq!(e["period"]["start"], json!("2024-01-05T09:10:00+09:00"));
    assert_eq!(e["identifier"][0]["value"], json!("V20240001"));
    assert_eq!(m.records[0].source_key, "PV1|V20240001");
    assert_eq!(m.records[0].display.as_deref(), Some("外来受付"));
    // The Z-segment is kept, raw, with a note.
    assert_eq!(e["extension"][0]["url"], json!(codes::UNMAPPED_SEGMENT));
    assert_eq!(e["extension"][0]["valueString"], json!("ZV1|1|受付票"));
    assert!(m.notes.iter().any(|n| n.starts_with("ZV1 (segment 5)")));
}

#[test]
fn adt_21_planned_admission() {
    let (e, _) = encounter(
        "7000001_20240110_ADT-21_000000000000002_20240105091500000_01_1",
        &[
            msh("ADT^A14^ADT_A05"),
            seg("EVN", &[(2, "20240105091500")]),
            pid(),
            pv1("I", &[]),
            seg("PV2", &[(8, "20240110100000"), (9, "20240120")]),
        ],
    );
    assert_eq!(e["status"], json!("planned"));
    assert_eq!(
        e["period"],
        json!({ "start": "2024-01-10T10:00:00+09:00", "end": "2024-01-20" })
    );
    assert_eq!(e["location"][0]["status"], json!("planned"));
    assert_eq!(
        e["location"][0]["period"]["start"],
        json!("2024-01-10T10:00:00+09:00")
    );
}

#[test]
fn adt_31_and_32_leave_and_return() {
    let (e, _) = encounter(
        "7000001_20240112_ADT-31_000000000000003_20240112090000000_01_1",
        &[
            msh("ADT^A21^ADT_A21"),
            seg("EVN", &[(2, "20240112090000"), (6, "20240112080000")]),
            pid(),
            pv1("I", &[(44, "20240110100000")]),
            seg("PV2", &[(47, "20240113170000")]),
        ],
    );
    assert_eq!(e["status"], json!("onleave"));
    assert_eq!(
        e["location"][0]["period"],
        json!({ "start": "2024-01-12T08:00:00+09:00", "end": "2024-01-13T17:00:00+09:00" })
    );
    assert_eq!(e["period"]["start"], json!("2024-01-10T10:00:00+09:00"));
    let (e, _) = encounter(
        "7000001_20240113_ADT-32_000000000000004_20240113170000000_01_1",
        &[
            msh("ADT^A22^ADT_A21"),
            seg("EVN", &[(2, "20240113170000"), (6, "20240113163000")]),
            pid(),
            pv1("I", &[(44, "20240110100000")]),
        ],
    );
    assert_eq!(e["status"], json!("in-progress"));
    assert_eq!(
        e["location"][0]["period"]["start"],
        json!("2024-01-13T16:30:00+09:00")
    );
}

#[test]
fn adt_41_planned_transfer_and_51_planned_discharge() {
    let (e, _) = encounter(
        "7000001_20240115_ADT-41_000000000000005_20240114120000000_01_1",
        &[
            msh("ADT^A15^ADT_A15"),
            seg("EVN", &[(2, "20240114120000"), (6, "20240115100000")]),
            pid(),
            pv1("I", &[(6, "3A^305^1^^^N"), (44, "20240110100000")]),
        ],
    );
    assert_eq!(e["status"], json!("in-progress"));
    assert_eq!(e["location"][0]["status"], json!("planned"));
    assert_eq!(e["location"][1]["location"]["display"], json!("3A 305 1"));
    let (e, m) = encounter(
        "7000001_20240120_ADT-51_000000000000006_20240118120000000_01_1",
        &[
            msh("ADT^A16^ADT_A16"),
            seg("EVN", &[(2, "20240118120000")]),
            pid(),
            pv1("I", &[(44, "20240110100000")]),
            seg("PV2", &[(9, "20240120100000")]),
        ],
    );
    assert_eq!(e["status"], json!("in-progress"));
    assert_eq!(e["period"]["end"], json!("2024-01-20T10:00:00+09:00"));
    assert_eq!(
        e["location"][0]["period"]["end"],
        json!("2024-01-20T10:00:00+09:00")
    );
    assert_eq!(m.records[0].display.as_deref(), Some("退院予定"));
}

#[test]
fn a_cancelled_admission_and_an_unexpected_trigger() {
    let (e, m) = encounter(
        "7000001_20240110_ADT-22_000000000000007_20240110120000000_01_1",
        &[
            msh("ADT^A11^ADT_A09"),
            pid(),
            pv1("I", &[(44, "20240110100000")]),
        ],
    );
    assert_eq!(e["status"], json!("cancelled"));
    assert_eq!(m.records[0].display.as_deref(), Some("入院（取消）"));
    // ADT^A31 is not a trigger of ADT-22: mapped as ADT-22, with notes.
    let (e, m) = encounter(
        "7000001_20240110_ADT-22_000000000000008_20240110120000000_01_1",
        &[
            msh("ADT^A31^ADT_A05"),
            pid(),
            pv1("I", &[(44, "20240110100000")]),
        ],
    );
    assert_eq!(e["status"], json!("arrived"));
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("ADT^A31") && n.contains("ADT-22")),
        "{:?}",
        m.notes
    );
}

/// A PPR-01 message for the fixture patient, encoded in ISO-2022-JP as facilities store it.
fn problem_list(problems: &[String]) -> Vec<u8> {
    let mut segments = vec![
        format!(
            "MSH|^~\\&|HIS|SEND|GW|RCV|20240201090000||PPR^ZD1^PPR_ZD1|CTRL|P|2.5||||||~ISO IR87"
        ),
        pid(),
    ];
    segments.extend_from_slice(problems);
    segments.push("ORC|NW|999||||||||||110^医師^一郎^^^^^^^L^^^^^I".to_owned());
    let text = message(&segments);
    let (bytes, _, had_errors) = encoding_rs::ISO_2022_JP.encode(&text);
    assert!(!had_errors);
    bytes.into_owned()
}

fn suspected_pneumonia() -> Vec<String> {
    vec![
        seg(
            "PRB",
            &[
                (1, "AD"),
                (2, "20240110"),
                (3, "20057079^肺炎^MDCDX2"),
                (4, "P0001"),
                (7, "20240110"),
                (16, "20240108"),
            ],
        ),
        seg(
            "ZPR",
            &[
                (2, "20057079^肺炎^MDCDX2"),
                (3, "8002^の疑い^MDCDX2"),
                (5, "FTTE^肺炎^MDCDX2"),
            ],
        ),
    ]
}

fn ended_gastritis() -> Vec<String> {
    vec![seg(
        "PRB",
        &[
            (1, "AD"),
            (2, "20240201"),
            (3, "20054174^胃炎^MDCDX2"),
            (4, "P0002"),
            (7, "20231201"),
            (9, "20240131"),
            (10, "K297^^I10^O^外来時^JHSD0004"),
            (14, "F^全治^HL70241"),
            (15, "20240131"),
            (16, "20231125"),
        ],
    )]
}

fn hypertension_without_instance_id() -> Vec<String> {
    vec![seg(
        "PRB",
        &[
            (1, "AD"),
            (2, "20240201"),
            (3, "20084317^高血圧症^MDCDX2"),
            (7, "20200401"),
            (16, "20200401"),
        ],
    )]
}

const PPR_FILE: &str = "7000001_-_PPR-01_000000000000009_20240201090000000_01_1";

fn map_bytes(file_name: &str, bytes: &[u8]) -> Result<Mapped, MapError> {
    let decoded = decode(bytes).unwrap();
    assert_eq!(decoded.charset, renkei_hl7::Charset::Iso2022Jp);
    map_text(file_name, &decoded.text)
}

#[test]
fn ppr_01_suspected_ended_and_ongoing_diagnoses() {
    let problems: Vec<String> = [
        suspected_pneumonia(),
        ended_gastritis(),
        hypertension_without_instance_id(),
    ]
    .concat();
    let m = map_bytes(PPR_FILE, &problem_list(&problems)).unwrap();
    assert_eq!(m.records.len(), 3);
    assert!(
        m.records
            .iter()
            .all(|r| r.category == AccessCategory::Diagnoses && !r.sensitive)
    );
    let [suspected, ended, ongoing] = [&m.records[0], &m.records[1], &m.records[2]];

    let s = &suspected.resource;
    assert_eq!(
        s["verificationStatus"]["coding"][0]["code"],
        json!("unconfirmed")
    );
    assert_eq!(s["clinicalStatus"]["coding"][0]["code"], json!("active"));
    assert_eq!(s["code"]["text"], json!("肺炎の疑い"));
    assert_eq!(
        s["code"]["extension"][0]["url"],
        json!(
            "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Condition_DiseasePostfixModifier"
        )
    );
    assert_eq!(
        s["code"]["extension"][0]["valueCodeableConcept"]["coding"][0]["system"],
        json!(codes::MODIFIER_KEY_NUMBER)
    );
    assert_eq!(suspected.display.as_deref(), Some("肺炎の疑い"));
    assert_eq!(s["recorder"]["display"], json!("医師 一郎"));

    let e = &ended.resource;
    assert_eq!(
        e["verificationStatus"]["coding"][0]["code"],
        json!("confirmed")
    );
    assert_eq!(e["clinicalStatus"]["coding"][0]["code"], json!("resolved"));
    assert_eq!(e["abatementDateTime"], json!("2024-01-31"));
    assert_eq!(e["onsetDateTime"], json!("2023-11-25"));
    assert_eq!(
        e["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
        json!("F")
    );
    assert_eq!(
        ended.effective_on.map(|d| d.to_string()).as_deref(),
        Some("2023-11-25")
    );

    assert_eq!(
        ongoing.resource["clinicalStatus"]["coding"][0]["code"],
        json!("active")
    );
    assert!(ongoing.resource.get("abatementDateTime").is_none());

    let keys: Vec<&str> = m.records.iter().map(|r| r.source_key.as_str()).collect();
    assert_eq!(keys, ["PRB|P0001", "PRB|P0002", "PRB|20084317|2020-04-01"]);
}

#[test]
fn ppr_01_keys_are_stable_across_snapshots() {
    let first: Vec<String> = [
        suspected_pneumonia(),
        ended_gastritis(),
        hypertension_without_instance_id(),
    ]
    .concat();
    // The next snapshot lists them in another order, without the gastritis.
    let second: Vec<String> = [hypertension_without_instance_id(), suspected_pneumonia()].concat();
    let keys = |problems: &[String]| -> BTreeSet<String> {
        map_bytes(PPR_FILE, &problem_list(problems))
            .unwrap()
            .records
            .into_iter()
            .map(|r| r.source_key)
            .collect()
    };
    let (a, b) = (keys(&first), keys(&second));
    assert!(b.is_subset(&a));
    assert_eq!(a.difference(&b).collect::<Vec<_>>(), ["PRB|P0002"]);
}

#[test]
fn notes_nte_and_repeated_keys() {
    // NTE becomes a note of the MedicationRequest; the same drug twice in one Rp gets #2.
    let text = message(&[
        msh("RDE^O11^RDE_O11"),
        pid(),
        "ORC|NW|000000000000010||1|||||20240105100000".to_owned(),
        "RXE||108665201^ダーゼン錠^HOT9|1||TAB^錠^MR9P".to_owned(),
        "NTE|1||粉砕して".to_owned(),
        "RXE||108665201^ダーゼン錠^HOT9|1||TAB^錠^MR9P".to_owned(),
        "TQ1|1||1013044400000000&内服・経口・１日３回朝昼夕食後&JAMISDP01|||7^d|20240105"
            .to_owned(),
        "RXR|PO^口^HL70162".to_owned(),
    ]);
    let m = map_text(
        "7000001_20240105_OMP-01_000000000000010_20240105100000000_01_1",
        &text,
    )
    .unwrap();
    assert_eq!(m.records.len(), 2);
    assert_eq!(m.records[0].resource["note"][0]["text"], json!("粉砕して"));
    assert_eq!(m.records[0].source_key, "RXE|1|1|108665201");
    assert_eq!(m.records[1].source_key, "RXE|1|2|108665201");
    assert_unique_keys(&m);
}

// ---------------------------------------------------------------------------------------------
// Refusals

#[test]
fn refusals_have_stable_codes_and_name_no_values() {
    let omp = "7000001_20240105_OMP-01_000000000000011_20240105100000000_01_1";
    // Message code against data kind.
    let e = map_text(omp, &message(&[msh("ADT^A08^ADT_A01"), pid()])).unwrap_err();
    assert_eq!(e.code(), "unknown-message-type");
    assert_eq!(
        e.to_string(),
        "message type ADT^A08 does not match data kind OMP-01"
    );
    // A data kind without mapping.
    let e = map_text(
        "7000001_20240105_OMX-99_000000000000011_20240105100000000_01_1",
        &message(&[msh("ZZZ^Z01"), pid()]),
    )
    .unwrap_err();
    assert_eq!(e.code(), "unknown-message-type");
    // No PID.
    let e = map_text(omp, &message(&[msh("RDE^O11^RDE_O11")])).unwrap_err();
    assert_eq!(
        (e.code(), e.to_string().as_str()),
        ("missing-field", "required PID segment is missing or empty")
    );
    // An RXE without drug.
    let e = map_text(
        omp,
        &message(&[
            msh("RDE^O11^RDE_O11"),
            pid(),
            "ORC|NW|1".into(),
            "RXE||^|1".into(),
        ]),
    )
    .unwrap_err();
    assert_eq!(e.code(), "missing-field");
    assert!(
        e.to_string().starts_with("required RXE-2 (segment 4)"),
        "{e}"
    );
    // An unreadable timestamp.
    let e = map_text(
        "7000001_20240105_OML-11_000000000000011_20240105100000000_01_1",
        &message(&[
            msh("OUL^R22^OUL_R22"),
            pid(),
            "OBX|1|NM|3A010000002327101^総蛋白^JC10||7.2|g/dl|||||F|||2024-01-05".into(),
        ]),
    )
    .unwrap_err();
    assert_eq!(e.code(), "bad-value");
    assert_eq!(
        e.to_string(),
        "OBX-14(1).1 (segment 3) is not a valid HL7 timestamp"
    );
    // A sex code that is not one.
    let adt00 = "7000001_-_ADT-00_000000000000011_20240105100000000_-_1";
    let e = map_text(
        adt00,
        &message(&[
            msh("ADT^A08^ADT_A01"),
            format!("PID|0001||{PATIENT}||連携^花子^^^^^L^I||19800101|X"),
        ]),
    )
    .unwrap_err();
    assert_eq!(e.code(), "bad-value");
    assert!(!e.to_string().contains("X"), "{e}");
    // A second PID about someone else.
    let e = map_text(
        adt00,
        &message(&[
            msh("ADT^A08^ADT_A01"),
            pid(),
            "PID|0002||1234567^^^^PI||他人^太郎".into(),
        ]),
    )
    .unwrap_err();
    assert_eq!(e, MapError::PatientMismatch);
    assert!(!e.to_string().contains("1234567") && !e.to_string().contains(PATIENT));
    // A second message in the file.
    let e = map_text(
        adt00,
        &message(&[msh("ADT^A08^ADT_A01"), pid(), msh("ADT^A08^ADT_A01")]),
    )
    .unwrap_err();
    assert_eq!(e.code(), "bad-value");
    // Japanese reasons exist for every refusal.
    assert!(MapError::PatientMismatch.message_ja().contains("PID-3"));
}

#[test]
fn adt_a23_deletes_and_stray_segments_are_noted() {
    let adt00 = "7000001_-_ADT-00_000000000000012_20240105100000000_-_1";
    let m = map_text(adt00, &message(&[msh("ADT^A23^ADT_A21"), pid()])).unwrap();
    assert!(m.patient.is_none() && m.records.is_empty());
    assert_eq!(m.notes.len(), 1);
    // A Z-segment with no resource to carry it is noted, not silently dropped.
    let m = map_text(
        adt00,
        &message(&[msh("ADT^A08^ADT_A01"), pid(), "ZXX|1|something".into()]),
    )
    .unwrap();
    assert!(m.patient.is_some());
    assert_eq!(
        m.notes,
        ["ZXX (segment 3) has no mapping and no resource before it to carry it; not stored"]
    );
}

// ---------------------------------------------------------------------------------------------
// Properties

/// Every sample, decoded, with its file name naming the patient its PID-3 names.
fn samples_for_their_own_patients() -> Option<&'static [(String, String)]> {
    static SAMPLES: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    let dir = good_patient()?;
    let samples = SAMPLES.get_or_init(|| {
        files_under(&dir)
            .iter()
            .map(|path| {
                let text = decoded(path);
                let msg = Message::parse(&text).unwrap();
                let id = msg
                    .segment("PID")
                    .unwrap()
                    .field(3)
                    .unwrap()
                    .component(1)
                    .unwrap()
                    .as_str()
                    .to_owned();
                let file = file_name_of(path);
                let (_, rest) = file.split_once('_').unwrap();
                (format!("{id}_{rest}"), text)
            })
            .collect()
    });
    Some(samples.as_slice())
}

const KINDS: &[(&str, &str)] = &[
    ("ADT-00", "ADT^A08"),
    ("ADT-12", "ADT^A04"),
    ("ADT-22", "ADT^A01"),
    ("ADT-52", "ADT^A03"),
    ("ADT-61", "ADT^A60"),
    ("PPR-01", "PPR^ZD1"),
    ("OMD", "OMD^O03"),
    ("OMP-01", "RDE^O11"),
    ("OMP-02", "RDE^O11"),
    ("OMP-11", "RAS^O17"),
    ("OMP-12", "RAS^O17"),
    ("OML-01", "OML^O33"),
    ("OML-11", "OUL^R22"),
    ("OMG-01", "OMG^O19"),
    ("OMG-11", "OMI^Z23"),
    ("OMG-13", "ORU^R01"),
];

/// Segments the mappers read (PID and MSH are added rarely: they end most messages early).
const SEGMENTS: &[&str] = &[
    "EVN", "PV1", "PV2", "NK1", "OBX", "AL1", "IAM", "IN1", "PRB", "ZPR", "ORC", "RXE", "RXA",
    "RXR", "RXC", "TQ1", "SPM", "OBR", "IPC", "ODS", "NTE", "ZE1", "ZZ9",
];

/// Field text built from pieces that matter to the mappers: codes with their systems, numbers,
/// timestamps, names, delimiters and escapes.
fn value() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "",
        "1",
        "0001",
        "7000001",
        "20240105",
        "202401051230",
        "2024-01",
        "\"\"",
        "^",
        "&",
        "~",
        "108665201^ダーゼン錠^HOT9",
        "3A010000002327101^総蛋白^JC10",
        "20054174^胃炎^MDCDX2",
        "8002^の疑い^MDCDX2",
        "K297^^I10^O^外来時^JHSD0004",
        "DA^薬剤^HL70127",
        "TAB^錠^MR9P",
        "1013044400000000&内服&JAMISDP01",
        "5^d",
        "3^TAB&錠&MR9P",
        "D01^医師^一郎",
        "F^全治^HL70241",
        "M^寛解^JHSD0006",
        "US^^DCM",
        "32^302^1",
        "1.2.392.1",
        "99X",
        "F",
        "D",
        "NM",
        "TX",
        "CWE",
        "SN",
        "ZRD",
        "XCN",
        "TS",
        "<",
        "-",
        "～",
        "1.5",
        "7.20",
        "疑い",
        "患者",
        "\\S\\",
        "\\",
        "DE",
        "CH",
        "PA",
        "NW",
        "O",
        "I",
        "_01_",
        "V",
        "MI",
        "AL",
    ]);
    prop::collection::vec(piece, 0..4).prop_map(|p| p.concat())
}

fn any_segment() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        20 => prop::sample::select(SEGMENTS.to_vec()),
        1 => Just("PID"),
        1 => Just("MSH"),
    ];
    (name, prop::collection::vec(value(), 0..30)).prop_map(|(name, fields)| {
        std::iter::once(name.to_owned())
            .chain(fields)
            .collect::<Vec<_>>()
            .join("|")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn map_message_never_panics_and_keys_are_unique(
        kind in prop::sample::select(KINDS.to_vec()),
        own_pid in prop::bool::weighted(0.9),
        segments in prop::collection::vec(any_segment(), 0..14),
    ) {
        let (kind, message_type) = kind;
        let patient = if own_pid { PATIENT } else { "9999999" };
        let mut all = vec![msh(message_type), format!("PID|1||{patient}^^^^PI||患者^太郎^^^^^L^I||19800101|M")];
        all.extend(segments);
        let text = message(&all);
        let date = if kind.starts_with("ADT-00") || kind == "ADT-61" || kind == "PPR-01" { "-" } else { "20240105" };
        let name = FileName::parse(&format!("{PATIENT}_{date}_{kind}_000000000000001_20240105100000000_01_1")).unwrap();
        if let Ok(msg) = Message::parse(&text) {
            match map_message(&name, &msg) {
                Ok(m) => {
                    prop_assert!(own_pid);
                    let keys: BTreeSet<&str> = m.records.iter().map(|r| r.source_key.as_str()).collect();
                    prop_assert_eq!(keys.len(), m.records.len());
                    for r in &m.records {
                        prop_assert!(r.effective_on.is_some());
                    }
                }
                Err(e) => {
                    if !own_pid {
                        prop_assert_eq!(e, MapError::PatientMismatch);
                    }
                }
            }
        }
    }

    #[test]
    fn map_message_never_panics_on_mutated_samples(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((0u8..4, any::<prop::sample::Index>(), 1usize..30, value(), any_segment()), 1..6),
    ) {
        let Some(samples) = samples_for_their_own_patients() else { return Ok(()) };
        let (name, text) = which.get(samples);
        let mut segments: Vec<String> = text.split('\r').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        for (op, at, field, value, extra) in edits {
            // MSH and PID stay: they decide the data kind and the patient.
            let body = segments.len().saturating_sub(2);
            if body == 0 {
                break;
            }
            let i = 2 + at.index(body);
            match op {
                0 => {
                    segments.remove(i);
                }
                1 => {
                    let copy = segments[i].clone();
                    segments.insert(i, copy);
                }
                2 => {
                    let mut fields: Vec<String> = segments[i].split('|').map(str::to_owned).collect();
                    if fields.len() <= field {
                        fields.resize(field + 1, String::new());
                    }
                    fields[field] = value;
                    segments[i] = fields.join("|");
                }
                _ => segments.insert(i, extra),
            }
        }
        let mutated = message(&segments);
        let name = FileName::parse(name).unwrap();
        if let Ok(msg) = Message::parse(&mutated)
            && let Ok(m) = map_message(&name, &msg)
        {
            let keys: BTreeSet<&str> = m.records.iter().map(|r| r.source_key.as_str()).collect();
            prop_assert_eq!(keys.len(), m.records.len());
        }
    }

    #[test]
    fn map_message_never_panics_on_arbitrary_text(text in any::<String>()) {
        let name = FileName::parse("7000001_20240105_OML-11_000000000000001_20240105100000000_01_1").unwrap();
        let full = format!("{}\rPID|1||7000001\r{text}", msh("OUL^R22"));
        if let Ok(msg) = Message::parse(&full) {
            let _ = map_message(&name, &msg);
        }
    }
}
