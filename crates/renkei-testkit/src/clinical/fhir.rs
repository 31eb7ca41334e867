//! JP-CLINS document Bundles: 診療情報提供書 (57133-1) from clinics to the core hospital and
//! 退院時サマリー (18842-5) from hospitals, modelled on the guide's
//! `Bundle-CLINS-Referral-Example-01`.
//!
//! What `renkei-fhir` checks, and how the letters meet it:
//! - the Composition comes first; the Bundle identifier is `医療機関番号^発行年^施設内ID` under
//!   `http://jpfhir.jp/fhir/clins/bundle-identifier` with the *sending* facility's code;
//! - one Patient, identified by the sender's local patient ID under
//!   `urn:oid:1.2.392.100495.20.3.51.1` + facility code, every other entry referring to it by
//!   its `fullUrl`;
//! - diagnoses carry a MEDIS 病名管理番号 (or `99999999`), medicines a YJ code or the `NOCODED`
//!   marker, lab results the laboratory's own code plus JLAC10 (the CLINS core system only for
//!   items of the 43-item set), and every clinical entry the `JP_eCS_InstitutionNumber`
//!   extension with the sender's code;
//! - every section has a narrative (`text.div`).
//!
//! About one letter in three carries a synthetic file in a DocumentReference that a section
//! names: a referral a placeholder wound photo (PNG, under 身体所見), a discharge summary its
//! printed form (a one-page PDF, under 入院中経過).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use renkei_domain::Sex;
use serde_json::{Value, json};
use time::{Date, PrimitiveDateTime};

use super::FhirInput;
use super::catalog::{DISEASE_UNCODED, Dept, Drug, Dx, Lab};
use super::hl7::ymd;
use super::messages::{AllergyEntry, Outcome, Problem, Ward, flag, range_text};
use super::person::{Doctor, Person};
use crate::DemoRegion;

const BUNDLE_IDENTIFIER: &str = "http://jpfhir.jp/fhir/clins/bundle-identifier";
const DOC_TYPE: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
const SECTION: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";
const LOCAL_PATIENT_ID: &str = "urn:oid:1.2.392.100495.20.3.51.1";
const INSTITUTION_NUMBER: &str =
    "http://jpfhir.jp/fhir/clins/Extension/StructureDefinition/JP_eCS_InstitutionNumber";
const INSTITUTION_NUMBER_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
const RESOURCE_INSTANCE: &str = "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
const EN_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
const DISEASE_KEY_NUMBER: &str = "http://medis.or.jp/CodeSystem/master-disease-keyNumber";
const DISEASE_EXCHANGE: &str = "http://medis.or.jp/CodeSystem/master-disease-exCode";
const ICD10: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full";
const YJ: &str = "http://capstandard.jp/iyaku.info/CodeSystem/YJ-code";
const HOT9: &str = "http://medis.or.jp/CodeSystem/master-HOT9";
const NOCODED: &str = "http://jpfhir.jp/fhir/eCS/CodeSystem/MedicationCodeNocoded_CS";
const JAMI_USAGE: &str = "http://jami.jp/CodeSystem/MedicationUsage";
const MERIT9_UNIT: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationUnitMERIT9Code";
const LAB_LOCAL: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";
const LAB_CORE: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JLAC10/JP_CLINS_ObsLabResult_CoreLabo_CS";
const JLAC10: &str = "http://medis.or.jp/CodeSystem/master-JLAC10-17digits";
const UCUM: &str = "http://unitsofmeasure.org";
const ECS: &str = "http://jpfhir.jp/fhir/eCS/StructureDefinition/";

/// What kind of letter.
pub(crate) enum LetterKind {
    Referral {
        /// Index of the receiving facility.
        to: usize,
        purpose: String,
        history: String,
    },
    Discharge {
        admitted: PrimitiveDateTime,
        discharged: PrimitiveDateTime,
        reason: Dx,
        course: String,
        ward: Ward,
        visit: String,
        dept: Dept,
    },
}

/// A letter's content, taken from the sending facility's history at the time it was written.
pub(crate) struct Letter {
    pub kind: LetterKind,
    /// The sending facility.
    pub facility: usize,
    /// The patient's ID at the sending facility.
    pub patient_id: String,
    pub person: Person,
    pub doctor: Doctor,
    pub written: PrimitiveDateTime,
    pub problems: Vec<Problem>,
    pub allergies: Vec<AllergyEntry>,
    /// (medicine, days, prescribed on)
    pub meds: Vec<(Drug, u32, Date)>,
    pub labs: Vec<(Lab, f64, PrimitiveDateTime)>,
    pub sex: Sex,
}

/// `2024-05-01`.
fn date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `2024-05-01T10:20:30+09:00` (the demo region is in Japan).
fn date_time(t: PrimitiveDateTime) -> String {
    format!(
        "{}T{:02}:{:02}:{:02}+09:00",
        date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A random (version 4 layout) UUID from the letter's own stream, so Bundles are reproducible.
fn uuid(rng: &mut StdRng) -> String {
    let a: u128 = rng.r#gen();
    let a = (a & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    let h = format!("{a:032x}");
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

fn div(text: &str) -> Value {
    json!({
        "status": "additional",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{}</div>", xml_escape(text))
    })
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn section(code: &str, title: &str, text: &str, entries: &[(String, &str)]) -> Value {
    let mut s = json!({
        "title": title,
        "code": { "coding": [{ "system": SECTION, "code": code, "display": format!("{title}セクション") }] },
        "text": div(text),
    });
    if !entries.is_empty()
        && let Some(obj) = s.as_object_mut()
    {
        let refs: Vec<Value> = entries
            .iter()
            .map(|(url, t)| json!({ "reference": url, "type": t }))
            .collect();
        obj.insert("entry".into(), Value::Array(refs));
    }
    s
}

fn institution(code: &str) -> Value {
    json!([{
        "url": INSTITUTION_NUMBER,
        "valueIdentifier": { "system": INSTITUTION_NUMBER_SYSTEM, "value": code }
    }])
}

fn human_name(family: &str, given: &str, representation: &str) -> Value {
    json!({
        "extension": [{ "url": EN_REPRESENTATION, "valueCode": representation }],
        "use": "official",
        "text": format!("{family} {given}"),
        "family": family,
        "given": [given]
    })
}

fn patient(l: &Letter, code: &str) -> Value {
    let p = &l.person;
    let mut names = Vec::new();
    if let Some((f, g)) = &p.kanji {
        names.push(human_name(f, g, "IDE"));
    }
    names.push(human_name(&p.kana.0, &p.kana.1, "SYL"));
    let mut r = json!({
        "resourceType": "Patient",
        "meta": { "profile": [format!("{ECS}JP_Patient_eCS")] },
        "identifier": [{ "system": format!("{LOCAL_PATIENT_ID}{code}"), "value": l.patient_id }],
        "name": names,
        "gender": match p.sex { Sex::Male => "male", Sex::Female => "female", Sex::Unknown => "unknown" },
        "birthDate": date(p.birth_date),
    });
    if let Some(obj) = r.as_object_mut() {
        if p.address.is_some() || p.postal_code.is_some() {
            let mut a = serde_json::Map::new();
            a.insert("use".into(), json!("home"));
            if let Some(t) = &p.address {
                a.insert("text".into(), json!(t));
            }
            if let Some(z) = &p.postal_code {
                a.insert("postalCode".into(), json!(z));
            }
            a.insert("country".into(), json!("JP"));
            obj.insert("address".into(), json!([a]));
        }
        if let Some(phone) = &p.phone {
            obj.insert(
                "telecom".into(),
                json!([{ "system": "phone", "value": phone, "use": "home", "rank": 1 }]),
            );
        }
    }
    r
}

fn organization(code: &str, name: &str) -> Value {
    json!({
        "resourceType": "Organization",
        "meta": { "profile": [format!("{ECS}JP_Organization_eCS")] },
        "identifier": [{ "system": INSTITUTION_NUMBER_SYSTEM, "value": code }],
        "type": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov" }] }],
        "extension": [
            {
                "url": "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_PrefectureNo",
                "valueCoding": { "system": "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/PrefectureNo-2digits", "code": code.get(0..2).unwrap_or_default() }
            },
            {
                "url": "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationCategory",
                "valueCoding": { "system": "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationFeeScoreType", "code": code.get(2..3).unwrap_or_default() }
            },
            {
                "url": "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Organization_InsuranceOrganizationNo",
                "valueIdentifier": { "system": "http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicalOrganizationID", "value": code.get(3..10).unwrap_or_default() }
            }
        ],
        "name": name,
        "address": [{ "text": "神奈川県なぎさ市", "country": "JP" }]
    })
}

fn practitioner(d: &Doctor) -> Value {
    json!({
        "resourceType": "Practitioner",
        "meta": { "profile": [format!("{ECS}JP_Practitioner_eCS")] },
        "name": [human_name(&d.family, &d.given, "IDE")]
    })
}

fn condition(p: &Problem, code: &str, patient: &str, inpatient: bool) -> Value {
    let d = p.disease;
    let mut codings = vec![match d.medis {
        Some(key) => json!({ "system": DISEASE_KEY_NUMBER, "code": key, "display": d.name }),
        None => {
            json!({ "system": DISEASE_KEY_NUMBER, "code": DISEASE_UNCODED, "display": "未コード化傷病名" })
        }
    }];
    if let Some(ex) = d.exchange {
        codings.push(json!({ "system": DISEASE_EXCHANGE, "code": ex, "display": d.name }));
    }
    codings.push(json!({ "system": ICD10, "code": d.icd10 }));
    let clinical = match p.ended {
        Some((_, Outcome::Cured)) => "resolved",
        Some((_, Outcome::Stopped)) => "inactive",
        None => "active",
    };
    let mut r = json!({
        "resourceType": "Condition",
        "meta": { "profile": [format!("{ECS}JP_Condition_eCS")] },
        "extension": institution(code),
        "identifier": [{ "system": RESOURCE_INSTANCE, "value": p.id }],
        "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical }] },
        "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": if p.suspected { "provisional" } else { "confirmed" } }] },
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": if inpatient { "encounter-diagnosis" } else { "problem-list-item" } }] }],
        "code": { "coding": codings, "text": p.text() },
        "subject": { "reference": patient },
        "onsetDateTime": date(p.recorded),
        "recordedDate": date(p.recorded),
    });
    if let (Some((end, _)), Some(obj)) = (p.ended, r.as_object_mut()) {
        obj.insert("abatementDateTime".into(), json!(date(end)));
    }
    r
}

fn allergy(a: &AllergyEntry, code: &str, patient: &str) -> Value {
    json!({
        "resourceType": "AllergyIntolerance",
        "meta": { "profile": [format!("{ECS}JP_AllergyIntolerance_eCS")] },
        "extension": institution(code),
        "identifier": [{ "system": RESOURCE_INSTANCE, "value": a.id }],
        "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active" }] },
        "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed" }] },
        "type": "allergy",
        "category": [a.allergen.kind.fhir()],
        "criticality": if a.severe { "high" } else { "low" },
        "code": { "text": a.allergen.name },
        "patient": { "reference": patient },
        "recordedDate": date(a.recorded),
        "reaction": [{ "manifestation": [{ "text": a.reaction }] }]
    })
}

fn medication(
    n: usize,
    (d, days, on): &(Drug, u32, Date),
    code: &str,
    patient: &str,
    id: &str,
) -> Value {
    let mut codings = Vec::new();
    match d.yj {
        Some(yj) => codings.push(json!({ "system": YJ, "code": yj, "display": d.name })),
        None => codings
            .push(json!({ "system": NOCODED, "code": "NOCODED", "display": "標準コードなし" })),
    }
    if let Some(hot) = d.hot9 {
        codings.push(json!({ "system": HOT9, "code": hot, "display": d.name }));
    }
    let (unit, unit_name) = d.unit;
    let daily = d.per_dose * d.usage.times_per_day;
    json!({
        "resourceType": "MedicationRequest",
        "meta": { "profile": [format!("{ECS}JP_MedicationRequest_eCS")] },
        "extension": institution(code),
        "identifier": [{ "system": RESOURCE_INSTANCE, "value": format!("{id}-{}", n + 1) }],
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": { "coding": codings, "text": d.name },
        "subject": { "reference": patient },
        "authoredOn": date(*on),
        "dosageInstruction": [{
            "text": d.usage.text,
            "timing": { "code": { "coding": [{ "system": JAMI_USAGE, "code": d.usage.code, "display": d.usage.text }] } },
            "route": { "coding": [{ "system": "http://jpfhir.jp/fhir/core/CodeSystem/route-codes", "code": "PO", "display": "口" }] },
            "doseAndRate": [{
                "type": { "coding": [{ "system": "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/MedicationIngredientStrengthStrengthType", "code": "1", "display": "製剤量" }] },
                "doseQuantity": { "value": d.per_dose, "unit": unit_name, "system": MERIT9_UNIT, "code": unit }
            }]
        }],
        "dispenseRequest": {
            "quantity": { "value": daily * days, "unit": unit_name, "system": MERIT9_UNIT, "code": unit },
            "expectedSupplyDuration": { "value": days, "unit": "日", "system": UCUM, "code": "d" }
        }
    })
}

fn rounded(v: f64, decimals: usize) -> f64 {
    let scale = 10f64.powi(i32::try_from(decimals).unwrap_or(0));
    (v * scale).round() / scale
}

fn observation(
    n: usize,
    (lab, v, t): &(Lab, f64, PrimitiveDateTime),
    sex: Sex,
    code: &str,
    patient: &str,
    id: &str,
) -> Value {
    let test = lab.test();
    let mut codings =
        vec![json!({ "system": LAB_LOCAL, "code": test.local, "display": test.name })];
    if test.clins_core {
        codings.push(json!({ "system": LAB_CORE, "code": test.jlac10 }));
    }
    codings.push(json!({ "system": JLAC10, "code": test.jlac10, "display": test.name }));
    let quantity = |x: f64| json!({ "value": rounded(x, test.decimals), "unit": test.unit, "system": UCUM, "code": test.unit });
    let (lo, hi) = if sex == Sex::Female {
        test.range.female
    } else {
        test.range.male
    };
    let mut range = serde_json::Map::new();
    if let Some(l) = lo {
        range.insert("low".into(), quantity(l));
    }
    if let Some(h) = hi {
        range.insert("high".into(), quantity(h));
    }
    if let Some(t) = range_text(*lab, sex) {
        range.insert("text".into(), json!(t));
    }
    let mut r = json!({
        "resourceType": "Observation",
        "meta": { "profile": [format!("{ECS}JP_Observation_LabResult_eCS")] },
        "extension": institution(code),
        "identifier": [{ "system": RESOURCE_INSTANCE, "value": format!("{id}-{}", n + 1) }],
        "status": "final",
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory" }] }],
        "code": { "coding": codings, "text": test.name },
        "subject": { "reference": patient },
        "effectiveDateTime": date_time(*t),
        "valueQuantity": quantity(*v),
        "referenceRange": [range],
    });
    if let (Some(f), Some(obj)) = (flag(*lab, sex, *v), r.as_object_mut()) {
        obj.insert(
            "interpretation".into(),
            json!([{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": f }] }]),
        );
    }
    r
}

/// The entries of a document, each with its fullUrl.
struct Entries {
    rng: StdRng,
    list: Vec<(String, Value)>,
}

impl Entries {
    fn add(&mut self, resource: Value) -> String {
        let url = uuid(&mut self.rng);
        self.list.push((url.clone(), resource));
        url
    }
}

fn list_text(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.collect();
    if v.is_empty() {
        "特記事項なし".to_owned()
    } else {
        v.join("、")
    }
}

fn lab_text(labs: &[(Lab, f64, PrimitiveDateTime)]) -> String {
    list_text(labs.iter().map(|(l, v, t)| {
        let test = l.test();
        format!(
            "{} {} {}（{}）",
            test.name,
            super::messages::format_value(*v, test.decimals),
            test.unit,
            date(t.date())
        )
    }))
}

/// A DocumentReference carrying a synthetic file: a placeholder wound photo for a referral,
/// the printed form (one-page PDF) of a discharge summary.
fn attachment(kind: &LetterKind, patient: &str, written: PrimitiveDateTime, seed: u64) -> Value {
    use base64::Engine;
    let (doc_type, description, content_type, title, bytes) = match kind {
        LetterKind::Referral { .. } => (
            json!({ "system": "http://loinc.org", "code": "72170-4", "display": "Photographic image" }),
            "創部写真",
            "image/png",
            "創部写真（右下腿）",
            crate::attachments::wound_photo_png(seed),
        ),
        LetterKind::Discharge { .. } => (
            json!({ "system": "http://loinc.org", "code": "18842-5", "display": "Discharge summary" }),
            "退院時サマリー（印刷用）",
            "application/pdf",
            "退院時サマリー.pdf",
            crate::attachments::one_page_pdf(&[
                "Discharge summary - printed form",
                "Synthetic demo data: no real patient.",
            ]),
        ),
    };
    json!({
        "resourceType": "DocumentReference",
        "meta": { "profile": [format!("{ECS}JP_DocumentReference_eCS")] },
        "status": "current",
        "type": { "coding": [doc_type] },
        "subject": { "reference": patient },
        "date": date_time(written),
        "description": description,
        "content": [{ "attachment": {
            "contentType": content_type,
            "title": title,
            "size": bytes.len(),
            "creation": date_time(written),
            "data": base64::engine::general_purpose::STANDARD.encode(&bytes),
        } }]
    })
}

/// Render a letter as a JP-CLINS document Bundle. `None` if its facility is not in the region.
pub(crate) fn render(l: &Letter, region: &DemoRegion, stream: u64) -> Option<FhirInput> {
    let sender = region.facilities.get(l.facility)?;
    let code = sender.code.as_str();
    let mut e = Entries {
        rng: StdRng::seed_from_u64(stream),
        list: Vec::new(),
    };
    // The Composition is entry 0; it is filled in last, when every reference is known.
    let patient_url = e.add(patient(l, code));
    let author_url = e.add(practitioner(&l.doctor));
    let sender_url = e.add(organization(code, &sender.name));
    let written = l.written;
    let year = written.year();
    let (doc_code, doc_name, profile, local_id, file_kind) = match &l.kind {
        LetterKind::Referral { .. } => (
            "57133-1",
            "診療情報提供書",
            "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral",
            format!("RF-{}-{}", l.patient_id, ymd(written.date())),
            "referral",
        ),
        LetterKind::Discharge { visit, .. } => (
            "18842-5",
            "退院時サマリー",
            "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary",
            format!("DS-{visit}"),
            "discharge-summary",
        ),
    };
    let inpatient = matches!(l.kind, LetterKind::Discharge { .. });

    let conditions: Vec<(String, &Problem)> = l
        .problems
        .iter()
        .map(|p| (e.add(condition(p, code, &patient_url, inpatient)), p))
        .collect();
    let allergies: Vec<String> = l
        .allergies
        .iter()
        .map(|a| e.add(allergy(a, code, &patient_url)))
        .collect();
    let meds: Vec<String> = l
        .meds
        .iter()
        .enumerate()
        .map(|(n, m)| e.add(medication(n, m, code, &patient_url, &local_id)))
        .collect();
    let labs: Vec<String> = l
        .labs
        .iter()
        .enumerate()
        .map(|(n, x)| e.add(observation(n, x, l.sex, code, &patient_url, &local_id)))
        .collect();
    // About one letter in three carries a file: a referral a wound photo, a discharge summary
    // its printed form.
    let attached = stream
        .is_multiple_of(3)
        .then(|| e.add(attachment(&l.kind, &patient_url, written, stream)));
    let attached_refs = |t: &'static str| -> Vec<(String, &'static str)> {
        attached.iter().map(|u| (u.clone(), t)).collect()
    };
    let refs = |urls: &[String], t: &'static str| -> Vec<(String, &'static str)> {
        urls.iter().map(|u| (u.clone(), t)).collect()
    };
    let allergy_text = list_text(
        l.allergies
            .iter()
            .map(|a| format!("{}（{}）", a.allergen.name, a.reaction)),
    );
    let med_text = list_text(
        l.meds
            .iter()
            .map(|(d, days, _)| format!("{} {} {}日分", d.name, d.usage.text, days)),
    );

    let (sections, encounter_url, category) = match &l.kind {
        LetterKind::Referral {
            to,
            purpose,
            history,
        } => {
            let receiver = region.facilities.get(*to)?;
            let receiver_url = e.add(organization(receiver.code.as_str(), &receiver.name));
            let encounter_url = e.add(json!({
                "resourceType": "Encounter",
                "meta": { "profile": [format!("{ECS}JP_Encounter_eCS")] },
                "status": "finished",
                "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "外来" },
                "subject": { "reference": patient_url },
                "period": { "start": date(written.date()) },
                "reasonCode": [{ "text": purpose }]
            }));
            let problem_urls: Vec<(String, &str)> = conditions
                .iter()
                .map(|(u, _)| (u.clone(), "Condition"))
                .collect();
            let problem_text = list_text(l.problems.iter().map(Problem::text));
            let sections = vec![
                section(
                    "920",
                    "紹介元情報",
                    &format!("{}　{}", sender.name, l.doctor.display()),
                    &[
                        (sender_url.clone(), "Organization"),
                        (author_url.clone(), "Practitioner"),
                    ],
                ),
                section(
                    "910",
                    "紹介先情報",
                    &receiver.name,
                    &[(receiver_url, "Organization")],
                ),
                json!({
                    "title": "構造情報",
                    "code": { "coding": [{ "system": SECTION, "code": "300", "display": "構造情報セクション" }] },
                    "section": [
                        section("950", "紹介目的", purpose, &[(encounter_url.clone(), "Encounter")]),
                        section("340", "傷病名・主訴", &problem_text, &problem_urls),
                        section("360", "現病歴", history, &[]),
                        section("510", "アレルギー・不耐性反応", &allergy_text, &refs(&allergies, "AllergyIntolerance")),
                        section("430", "投薬指示", &med_text, &refs(&meds, "MedicationRequest")),
                        section("620", "検査結果", &lab_text(&l.labs), &refs(&labs, "Observation")),
                    ]
                }),
            ];
            let mut sections = sections;
            if attached.is_some()
                && let Some(structured) = sections
                    .last_mut()
                    .and_then(|s| s.get_mut("section"))
                    .and_then(Value::as_array_mut)
            {
                // After 現病歴, as the guide orders the sections.
                let at = structured.len().min(3);
                structured.insert(
                    at,
                    section(
                        "610",
                        "身体所見",
                        "右下腿に創部あり（写真を添付）。",
                        &attached_refs("DocumentReference"),
                    ),
                );
            }
            (
                sections,
                encounter_url,
                Some(
                    json!([{ "coding": [{ "system": "http://jpfhir.jp/fhir/Common/CodeSystem/doc-subtypecodes", "code": "OUTPATIENT", "display": "外来文書" }] }]),
                ),
            )
        }
        LetterKind::Discharge {
            admitted,
            discharged,
            reason,
            course,
            ward,
            visit,
            dept,
        } => {
            let encounter_url = e.add(json!({
                "resourceType": "Encounter",
                "meta": { "profile": [format!("{ECS}JP_Encounter_eCS")] },
                "identifier": [{ "system": RESOURCE_INSTANCE, "value": visit }],
                "status": "finished",
                "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "入院" },
                "subject": { "reference": patient_url },
                "period": { "start": date_time(*admitted), "end": date_time(*discharged) },
                "serviceType": { "coding": [{ "system": "http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment", "code": dept.code, "display": dept.name }] },
                "location": [{ "location": { "display": format!("{}病棟 {}号室", ward.ward, ward.room) } }],
                "hospitalization": { "dischargeDisposition": { "text": "自宅退院" } }
            }));
            let reason_name = reason.disease().name;
            let on_admission: Vec<(String, &str)> = conditions
                .iter()
                .filter(|(_, p)| p.disease == reason.disease())
                .map(|(u, _)| (u.clone(), "Condition"))
                .collect();
            let on_discharge: Vec<(String, &str)> = conditions
                .iter()
                .map(|(u, _)| (u.clone(), "Condition"))
                .collect();
            let discharge_text = list_text(l.problems.iter().map(|p| match p.ended {
                Some((_, Outcome::Cured)) => format!("{}（治癒）", p.text()),
                _ => p.text(),
            }));
            let sections = vec![json!({
                "title": "構造情報",
                "code": { "coding": [{ "system": SECTION, "code": "300", "display": "構造情報セクション" }] },
                "section": [
                    section("312", "入院理由", &format!("{reason_name}のため入院"), &[(encounter_url.clone(), "Encounter")]),
                    section("342", "入院時診断", reason_name, &on_admission),
                    section("333", "入院中経過", course, &attached_refs("DocumentReference")),
                    section("344", "退院時診断", &discharge_text, &on_discharge),
                    section("510", "アレルギー・不耐性反応", &allergy_text, &refs(&allergies, "AllergyIntolerance")),
                    section("623", "入院中検査結果", &lab_text(&l.labs), &refs(&labs, "Observation")),
                    section("444", "退院時投薬指示", &med_text, &refs(&meds, "MedicationRequest")),
                    section("424", "退院時方針指示", &format!("退院後は{}の外来にて経過観察予定。", sender.name), &[]),
                ]
            })];
            (sections, encounter_url, None)
        }
    };

    let composition_url = uuid(&mut e.rng);
    let mut composition = json!({
        "resourceType": "Composition",
        "meta": { "profile": [format!("http://jpfhir.jp/fhir/{}/StructureDefinition/JP_Composition_{}",
            if inpatient { "eDischargeSummary" } else { "eReferral" },
            if inpatient { "eDischargeSummary" } else { "eReferral" })] },
        "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber", "valueString": "1.0" }],
        "identifier": { "system": RESOURCE_INSTANCE, "value": format!("{code}-{year}-{local_id}") },
        "status": "final",
        "type": { "coding": [{ "system": DOC_TYPE, "code": doc_code, "display": doc_name }] },
        "subject": { "reference": patient_url, "type": "Patient" },
        "encounter": { "reference": encounter_url, "type": "Encounter" },
        "date": date_time(written),
        "author": [
            { "reference": author_url, "type": "Practitioner" },
            { "reference": sender_url, "type": "Organization" }
        ],
        "title": doc_name,
        "custodian": { "reference": sender_url, "type": "Organization" },
        "event": [{ "code": [{ "text": format!("{doc_name}発行") }], "period": { "start": date(written.date()) } }],
        "section": sections,
    });
    if let (Some(c), Some(obj)) = (category, composition.as_object_mut()) {
        obj.insert("category".into(), c);
    }
    let mut entries = vec![json!({ "fullUrl": composition_url, "resource": composition })];
    entries.extend(
        e.list
            .into_iter()
            .map(|(url, r)| json!({ "fullUrl": url, "resource": r })),
    );
    let bundle = json!({
        "resourceType": "Bundle",
        "meta": { "lastUpdated": date_time(written), "profile": [profile] },
        "identifier": { "system": BUNDLE_IDENTIFIER, "value": format!("{code}^{year}^{local_id}") },
        "type": "document",
        "timestamp": date_time(written),
        "entry": entries,
    });
    let bytes = serde_json::to_vec_pretty(&bundle).ok()?;
    let name = format!(
        "{code}_{}_{}_{file_kind}.json",
        l.patient_id,
        ymd(written.date())
    );
    Some(FhirInput {
        facility: l.facility,
        patient_id: l.patient_id.clone(),
        name,
        bytes,
    })
}
