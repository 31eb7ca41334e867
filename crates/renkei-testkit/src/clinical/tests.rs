//! Requirements of the clinical history generator: everything it makes is accepted by the
//! mapper and the CLINS checker the ingest pipeline uses, is about the right patient, and is
//! reproducible.

use super::*;
use crate::{DemoRegion, generate};
use renkei_domain::FacilityKind;
use renkei_hl7::jahis::{Mapped, map_message};
use renkei_hl7::ssmix2::{FileName, check_message};
use renkei_hl7::{Charset, Message, decode};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;
use time::macros::date;

const TODAY: Date = date!(2026 - 01 - 15);

/// The default demo: seed 42, 2,000 residents (generated once for all tests).
fn demo() -> &'static (DemoRegion, ClinicalHistory) {
    static DEMO: OnceLock<(DemoRegion, ClinicalHistory)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let region = generate(42, 2000, TODAY);
        let history = clinical_history(&region, 42, TODAY);
        (region, history)
    })
}

fn kind_of(name: &str) -> &str {
    name.split('_').nth(2).unwrap_or_default()
}

/// Decode, tokenize, check against the name and map one file, as the ingest pipeline does.
fn map_file(f: &Ssmix2File) -> Mapped {
    let name = FileName::parse(&f.file_name)
        .unwrap_or_else(|e| panic!("{}: bad file name: {e}", f.file_name));
    assert_eq!(name.patient_id(), f.patient_id, "{}", f.file_name);
    let decoded = decode(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.file_name));
    assert_eq!(decoded.charset, Charset::Iso2022Jp, "{}", f.file_name);
    assert!(
        !decoded.text.contains('〓'),
        "{}: a character was not encodable",
        f.file_name
    );
    assert!(decoded.text.ends_with('\r') && !decoded.text.contains('\n'));
    let msg = Message::parse(&decoded.text).unwrap_or_else(|e| panic!("{}: {e}", f.file_name));
    let mismatches = check_message(&msg, &name);
    assert!(mismatches.is_empty(), "{}: {mismatches:?}", f.file_name);
    map_message(&name, &msg).unwrap_or_else(|e| panic!("{}: {e}", f.file_name))
}

#[test]
fn every_demo_file_decodes_tokenizes_and_maps_without_notes() {
    let (region, history) = demo();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &history.ssmix2 {
        let m = map_file(f);
        let kind = kind_of(&f.file_name);
        *kinds.entry(kind).or_default() += 1;
        // Nothing is left over: every segment the generator writes has a mapping.
        assert!(m.notes.is_empty(), "{}: {:?}", f.file_name, m.notes);
        if kind == "ADT-00" {
            assert!(m.patient.is_some(), "{}", f.file_name);
        } else {
            assert!(!m.records.is_empty(), "{}", f.file_name);
        }
        let facility = &region.facilities[f.facility];
        assert!(
            matches!(
                facility.kind,
                FacilityKind::Hospital | FacilityKind::MedicalClinic
            ),
            "{}",
            facility.name
        );
    }
    eprintln!(
        "demo (seed 42, 2000 residents): {} SS-MIX2 files {kinds:?}, {} FHIR documents",
        history.ssmix2.len(),
        history.fhir.len()
    );
    for kind in [
        "ADT-00", "ADT-61", "PPR-01", "OMP-01", "OML-11", "ADT-22", "ADT-52",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) > 10,
            "{kind}: {kinds:?}"
        );
    }
    // Sized for a demo that feels lived-in yet loads in seconds.
    assert!(
        (15_000..=50_000).contains(&history.ssmix2.len()),
        "{}",
        history.ssmix2.len()
    );
}

#[test]
fn adt00_carries_the_residents_demographics() {
    let (region, history) = demo();
    let mut by_local: HashMap<(usize, &str), &crate::DemoResident> = HashMap::new();
    for r in &region.residents {
        for (f, id) in &r.local_ids {
            by_local.insert((*f, id.as_str()), r);
        }
    }
    let mut seen: HashSet<(usize, &str)> = HashSet::new();
    for f in history
        .ssmix2
        .iter()
        .filter(|f| kind_of(&f.file_name) == "ADT-00")
    {
        assert!(
            seen.insert((f.facility, &f.patient_id)),
            "two ADT-00 for one patient: {}",
            f.file_name
        );
        let r = by_local[&(f.facility, f.patient_id.as_str())];
        let p = map_file(f).patient.expect("demographics");
        let spaced = |s: &str| s.replace('\u{3000}', " ");
        assert_eq!(p.name_kanji, r.name_kanji.as_deref().map(spaced));
        assert_eq!(p.name_kana.as_deref(), Some(spaced(&r.name_kana).as_str()));
        assert_eq!(p.sex, Some(r.sex));
        assert_eq!(p.birth_date, Some(r.birth_date));
        assert_eq!(p.postal_code, r.postal_code);
        assert_eq!(p.address, r.address);
        assert_eq!(p.phone, r.phone);
    }
    // Every patient with any file has exactly one ADT-00 there.
    let patients: HashSet<(usize, &str)> = history
        .ssmix2
        .iter()
        .map(|f| (f.facility, f.patient_id.as_str()))
        .collect();
    assert_eq!(patients, seen);
}

#[test]
fn file_names_are_unique_per_facility_and_dates_follow_the_consent() {
    let (region, history) = demo();
    let consent: HashMap<(usize, &str), Date> = region
        .residents
        .iter()
        .flat_map(|r| {
            r.local_ids
                .iter()
                .map(move |(f, id)| ((*f, id.as_str()), r.consent.signed_on))
        })
        .collect();
    let mut names = HashSet::new();
    let mut keys = HashSet::new();
    let (mut after, mut before) = (0usize, 0usize);
    for f in &history.ssmix2 {
        assert!(names.insert((f.facility, f.file_name.clone())));
        let name = FileName::parse(&f.file_name).unwrap();
        let key = name.logical_key();
        assert!(keys.insert((f.facility, key)), "{}", f.file_name);
        assert_eq!(timestamp_of(&f.file_name).len(), 17);
        assert_eq!(name.order_no().len(), 15);
        let day = name.date().unwrap_or_else(|| name.timestamp().date());
        assert!(day <= TODAY, "{}", f.file_name);
        if day >= consent[&(f.facility, f.patient_id.as_str())] {
            after += 1;
        } else {
            before += 1;
        }
    }
    let share_before = before as f64 / (after + before) as f64;
    assert!(before > 0, "some records predate the consent");
    assert!(share_before < 0.1, "{share_before}");
}

#[test]
fn files_of_a_facility_are_in_time_order() {
    let (_, history) = demo();
    for w in history.ssmix2.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        assert!(a.facility <= b.facility);
        if a.facility == b.facility {
            assert!(timestamp_of(&a.file_name) <= timestamp_of(&b.file_name));
        }
    }
}

#[test]
fn clinical_content_is_realistic() {
    let (_, history) = demo();
    let mut hba1c_high = 0;
    let mut flags = HashSet::new();
    let mut suspected = 0;
    let mut ended = 0;
    let mut amlodipine = 0;
    let mut allergy_patients = HashSet::new();
    let mut creatinine: HashMap<(usize, &str), Vec<f64>> = HashMap::new();
    for f in &history.ssmix2 {
        let kind = kind_of(&f.file_name);
        if !matches!(kind, "OML-11" | "PPR-01" | "OMP-01" | "ADT-61") {
            continue;
        }
        for r in map_file(f).records {
            let res = &r.resource;
            match kind {
                "OML-11" => {
                    if r.code.as_deref() == Some("3D046000001906202")
                        && res["valueQuantity"]["value"].as_f64().unwrap() >= 7.0
                    {
                        hba1c_high += 1;
                    }
                    if r.code.as_deref() == Some("3C015000002327101") {
                        let v = res["valueQuantity"]["value"].as_f64().unwrap();
                        creatinine
                            .entry((f.facility, f.patient_id.as_str()))
                            .or_default()
                            .push(v);
                    }
                    if let Some(c) = res["interpretation"][0]["coding"][0]["code"].as_str() {
                        flags.insert(c.to_owned());
                    }
                }
                "PPR-01" => {
                    if res["verificationStatus"]["coding"][0]["code"] == "unconfirmed" {
                        suspected += 1;
                    }
                    if res.get("abatementDateTime").is_some() {
                        ended += 1;
                    }
                }
                "OMP-01" => {
                    // Indexed under its YJ code, the preferred medicine code.
                    if r.code.as_deref() == Some("2171022F6276") {
                        amlodipine += 1;
                    }
                }
                _ => {
                    allergy_patients.insert((f.facility, f.patient_id.clone()));
                }
            }
        }
    }
    assert!(hba1c_high > 50, "diabetics have high HbA1c: {hba1c_high}");
    assert!(flags.contains("H") && flags.contains("L"), "{flags:?}");
    assert!(suspected > 5, "{suspected}");
    assert!(ended > 50, "{ended}");
    assert!(amlodipine > 100, "{amlodipine}");
    assert!(allergy_patients.len() > 100, "{}", allergy_patients.len());
    // Kidney disease shows as creatinine rising over a series (files are in time order).
    let rising = creatinine
        .values()
        .filter(|s| s.len() >= 4 && s[s.len() - 1] > s[0] * 1.15 && s[0] > 1.0)
        .count();
    assert!(rising >= 10, "{rising}");
}

#[test]
fn some_residents_get_the_same_ingredient_from_two_facilities() {
    let (region, history) = demo();
    let resident_of: HashMap<(usize, &str), usize> = region
        .residents
        .iter()
        .enumerate()
        .flat_map(|(i, r)| {
            r.local_ids
                .iter()
                .map(move |(f, id)| ((*f, id.as_str()), i))
        })
        .collect();
    let mut prescribers: HashMap<usize, HashSet<usize>> = HashMap::new();
    for f in history
        .ssmix2
        .iter()
        .filter(|f| kind_of(&f.file_name) == "OMP-01")
    {
        let text = decode(&f.bytes).unwrap().text;
        if text.contains("2171022F6276") {
            let r = resident_of[&(f.facility, f.patient_id.as_str())];
            prescribers.entry(r).or_default().insert(f.facility);
        }
    }
    let doubles = prescribers.values().filter(|f| f.len() > 1).count();
    assert!(doubles >= 3, "{doubles}");
}

/// One PPR-01 as (source key, ended) per diagnosis.
type Snapshot = Vec<(String, bool)>;

#[test]
fn problem_list_snapshots_add_and_end_diagnoses_over_time() {
    let (_, history) = demo();
    let mut lists: HashMap<(usize, &str), Vec<Snapshot>> = HashMap::new();
    for f in history
        .ssmix2
        .iter()
        .filter(|f| kind_of(&f.file_name) == "PPR-01")
    {
        let items = map_file(f)
            .records
            .into_iter()
            .map(|r| {
                let ended = r.resource.get("abatementDateTime").is_some();
                (r.source_key, ended)
            })
            .collect();
        lists
            .entry((f.facility, f.patient_id.as_str()))
            .or_default()
            .push(items);
    }
    let (mut added, mut ended, mut both) = (0, 0, 0);
    for snaps in lists.values() {
        for w in snaps.windows(2) {
            let known: HashSet<&String> = w[0].iter().map(|(k, _)| k).collect();
            let active: HashSet<&String> =
                w[0].iter().filter(|(_, e)| !e).map(|(k, _)| k).collect();
            let a = w[1].iter().any(|(k, _)| !known.contains(k));
            let e = w[1].iter().any(|(k, e)| *e && active.contains(k));
            added += usize::from(a);
            ended += usize::from(e);
            both += usize::from(a && e);
        }
    }
    assert!(
        added > 100 && ended > 100 && both > 10,
        "{added} {ended} {both}"
    );
    assert!(lists.values().any(|s| s.len() >= 3));
}

#[test]
fn every_fhir_document_passes_the_clins_rules() {
    let (region, history) = demo();
    let mut types = BTreeMap::new();
    for d in &history.fhir {
        let code = region.facilities[d.facility].code.as_str();
        let s = renkei_fhir::parse_submission(&d.bytes, code)
            .unwrap_or_else(|e| panic!("{}: {} ({e})", d.name, e.rule()));
        let renkei_fhir::SubmissionKind::DocumentBundle { doc_type } = s.kind else {
            panic!("{}: not a document", d.name);
        };
        *types.entry(doc_type.loinc()).or_insert(0) += 1;
        assert_eq!(s.patient.local_id.as_deref(), Some(d.patient_id.as_str()));
        let r = region
            .residents
            .iter()
            .find(|r| {
                r.local_ids
                    .iter()
                    .any(|(f, id)| *f == d.facility && id.as_str() == d.patient_id)
            })
            .expect("the patient is a resident");
        assert_eq!(s.patient.birth_date, Some(r.birth_date));
        assert_eq!(s.patient.sex, Some(r.sex));
        assert_eq!(
            s.patient.name_kanji,
            r.name_kanji.as_ref().map(|n| n.replace('\u{3000}', " "))
        );
        assert_eq!(
            s.patient.name_kana.as_deref(),
            Some(r.name_kana.replace('\u{3000}', " ").as_str())
        );
        let id = s.bundle_identifier.unwrap_or_default();
        assert!(id.contains(&format!("|{code}^")), "{id}");
        // The document and what it carries: diagnoses, prescriptions, lab results.
        let kinds: HashSet<&str> = s.records.iter().map(|r| r.resource_type.as_str()).collect();
        for t in ["Bundle", "Condition", "Observation"] {
            assert!(kinds.contains(t), "{}: {kinds:?}", d.name);
        }
        if d.name.ends_with("_referral.json") {
            assert!(kinds.contains("MedicationRequest"), "{}: {kinds:?}", d.name);
        }
        assert!(s.skipped.is_empty(), "{}: {:?}", d.name, s.skipped);
    }
    eprintln!("FHIR documents by type: {types:?}");
    assert!(types.get("57133-1").copied().unwrap_or(0) >= 5, "{types:?}");
    assert!(types.get("18842-5").copied().unwrap_or(0) >= 5, "{types:?}");
    // Referral letters go from clinics, discharge summaries from hospitals.
    for d in &history.fhir {
        let kind = region.facilities[d.facility].kind;
        if d.name.ends_with("_referral.json") {
            assert_eq!(kind, FacilityKind::MedicalClinic);
        } else {
            assert_eq!(kind, FacilityKind::Hospital);
        }
    }
}

#[test]
fn some_letters_carry_a_wound_photo_or_their_printed_form_under_a_section() {
    use renkei_fhir::attachment::{FileKind, attachments, decode_base64};
    let (region, history) = demo();
    let mut kinds = BTreeMap::new();
    for d in &history.fhir {
        let code = region.facilities[d.facility].code.as_str();
        let s = renkei_fhir::parse_submission(&d.bytes, code).unwrap();
        let files = attachments(&s.records[0].resource);
        for f in &files {
            assert!(f.section.is_some(), "{}: a section names it", d.name);
            let bytes = decode_base64(f.data.unwrap()).unwrap();
            let kind = FileKind::sniff(&bytes);
            assert_eq!(
                Some(kind),
                f.content_type.map(FileKind::declared),
                "{}",
                d.name
            );
            *kinds.entry(format!("{kind:?}")).or_insert(0) += 1;
        }
    }
    eprintln!("attached files by kind: {kinds:?}");
    assert!(kinds.get("Png").copied().unwrap_or(0) >= 2, "{kinds:?}");
    assert!(kinds.get("Pdf").copied().unwrap_or(0) >= 2, "{kinds:?}");
    assert!(
        kinds.values().sum::<usize>() < history.fhir.len(),
        "only some letters"
    );
}

#[test]
fn generation_is_deterministic_and_depends_on_the_seed() {
    let region = generate(7, 150, TODAY);
    let a = clinical_history(&region, 7, TODAY);
    let b = clinical_history(&region, 7, TODAY);
    assert_eq!(a, b);
    let c = clinical_history(&region, 8, TODAY);
    assert_ne!(a.ssmix2, c.ssmix2);
}

#[test]
fn an_empty_region_has_no_history() {
    let region = generate(1, 0, TODAY);
    assert_eq!(
        clinical_history(&region, 1, TODAY),
        ClinicalHistory::default()
    );
}

#[test]
fn bench_messages_have_a_realistic_mix_and_all_map() {
    let ids: Vec<String> = (0..200).map(|i| format!("{:08}", 30_000_000 + i)).collect();
    let code = "1410001234";
    let files = bench_messages(1000, &ids, code, 3);
    assert_eq!(files.len(), 1000);
    assert_eq!(files, bench_messages(1000, &ids, code, 3));
    assert_ne!(files, bench_messages(1000, &ids, code, 4));
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut names = HashSet::new();
    for f in &files {
        assert!(names.insert(f.file_name.as_str()));
        assert!(ids.contains(&f.patient_id));
        assert_eq!(f.facility, 0);
        let m = map_file(f);
        assert!(m.notes.is_empty(), "{}: {:?}", f.file_name, m.notes);
        let text = decode(&f.bytes).unwrap().text;
        assert!(text.starts_with(&format!("MSH|^~\\&|HIS|{code}|")));
        *kinds.entry(kind_of(&f.file_name)).or_default() += 1;
    }
    for kind in [
        "ADT-00", "ADT-61", "PPR-01", "OMP-01", "OML-11", "ADT-22", "ADT-52",
    ] {
        assert!(
            kinds.get(kind).copied().unwrap_or(0) >= 10,
            "{kind}: {kinds:?}"
        );
    }
    assert!(kinds["OMP-01"] + kinds["OML-11"] > 500, "{kinds:?}");
    assert!(bench_messages(10, &[], code, 1).is_empty());
}

#[test]
fn encoding_keeps_text_and_marks_what_jis_lacks() {
    let text = "MSH|^~\\&|||||||ADT^A08|1|P|2.5||||||~ISO IR87\rPID|1||1^^^^PI||剤糖^𠮷田\r";
    let bytes = hl7::iso_2022_jp(text);
    let back = decode(&bytes).unwrap().text;
    // 𠮷 (the 'tsuchi-yoshi' variant) is not in JIS X 0208: it becomes the geta mark, never an
    // `&#…;` reference whose `&` would split the field.
    assert_eq!(back, text.replace('𠮷', "〓"));
    assert_eq!(hl7::esc("a|b^c~d\\e&f"), "a\\F\\b\\S\\c\\R\\d\\E\\e\\T\\f");
}
