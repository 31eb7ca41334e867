//! Synthetic clinical histories for the demo region, as the facilities' systems would send them:
//! SS-MIX2 standardized-storage files (JAHIS HL7 v2.5, ISO-2022-JP) and JP-CLINS FHIR documents.
//!
//! [`clinical_history`] gives every resident a history at each hospital and medical clinic where
//! they have a local patient ID:
//! - **ADT-00** once per patient and facility (kanji and kana name, sex, birth date, address,
//!   phone, exactly as the resident was registered, so 名寄せ can link them);
//! - **ADT-61** allergies for about 15% of residents (penicillins, iodinated contrast, NSAIDs,
//!   egg, buckwheat, …);
//! - **PPR-01** problem-list snapshots whenever a facility's list changes: chronic diagnoses
//!   (hypertension, type 2 diabetes, dyslipidaemia, heart failure, CKD, dementia, …), suspected
//!   ones (「…の疑い」), ended ones (治癒, 中止), with MEDIS 病名管理番号 where known for certain and
//!   the uncoded placeholder otherwise, and ICD-10;
//! - **OMP-01** prescriptions every 4–8 weeks for chronic patients (a few medicines from two
//!   facilities share an ingredient, e.g. amlodipine for hypertension at a clinic and for angina
//!   at a hospital), and short courses for episodes;
//! - **OML-11** lab series with JLAC10 codes, UCUM units, JCCLS reference ranges and H/L flags:
//!   diabetics' HbA1c high and improving, creatinine rising in CKD, inflammation on admission;
//! - **ADT-22 / ADT-52** admissions and discharges of some older patients at hospitals;
//! - **FHIR**: referral letters (診療情報提供書) from clinics to the core hospital and discharge
//!   summaries (退院時サマリー) from hospitals, as JP-CLINS document Bundles.
//!
//! Dates start at the resident's consent (for about one facility in eight somewhat before: such
//! records exist but are not shared) and never pass `today`. Within a facility the SS-MIX2 files
//! are in order of 発生日時, so ingesting them in order replays the history (a newer PPR-01
//! snapshot after the older one).
//!
//! [`bench_messages`] makes a realistic mix of messages for one facility and given patient IDs,
//! for `renkei bench ingest`.
//!
//! Everything is synthetic: people are the demo region's invented residents, staff are its demo
//! accounts, codes are national codes only where the repository's test data shows them (see
//! `catalog`), and everything else uses facility-local code tables.

mod catalog;
mod fhir;
mod history;
mod hl7;
mod messages;
mod person;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use renkei_domain::Sex;
use time::Date;
use time::macros::date;

use crate::DemoRegion;
use catalog::{ALLERGENS, Dx, INTERNAL, Lab, Rx};
use history::{at, mix};
use messages::{AllergyEntry, Cx, Numbers, Outcome, Problem, RxCategory, Ward};
use person::{Doctor, Person, day_in};

/// One SS-MIX2 file: where it belongs and its bytes (ISO-2022-JP, CR segment ends, MSH-18
/// `~ISO IR87`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ssmix2File {
    /// Index into `DemoRegion.facilities` (0 for [`bench_messages`]).
    pub facility: usize,
    /// The patient's ID at that facility (the first field of the file name).
    pub patient_id: String,
    /// `患者ID_診療日_データ種別_オーダNo_発生日時_診療科_1`.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// One FHIR JSON input (a JP-CLINS document Bundle: referral 57133-1 or discharge summary
/// 18842-5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FhirInput {
    /// Index into `DemoRegion.facilities` of the facility that sends it.
    pub facility: usize,
    /// The patient's ID at the sending facility.
    pub patient_id: String,
    /// A file name for it, e.g. `1410001234_0012345_20240512_referral.json`.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What [`clinical_history`] makes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClinicalHistory {
    /// Ordered by facility, then 発生日時.
    pub ssmix2: Vec<Ssmix2File>,
    /// Ordered by facility, then name.
    pub fhir: Vec<FhirInput>,
}

/// The 発生日時 field of a file name (sorts chronologically: it is fixed-width).
fn timestamp_of(name: &str) -> &str {
    name.split('_').nth(4).unwrap_or_default()
}

/// Realistic synthetic histories for the region's residents at the facilities where they have
/// local IDs. Deterministic: the same region, seed and `today` give the same bytes.
pub fn clinical_history(region: &DemoRegion, seed: u64, today: Date) -> ClinicalHistory {
    let mut g = history::Generator::new(region, seed, today);
    g.run(seed);
    let mut ssmix2 = std::mem::take(&mut g.ssmix2);
    ssmix2.sort_by(|a, b| {
        (a.facility, timestamp_of(&a.file_name), &a.file_name).cmp(&(
            b.facility,
            timestamp_of(&b.file_name),
            &b.file_name,
        ))
    });
    let mut fhir: Vec<FhirInput> = g
        .letters
        .iter()
        .enumerate()
        .filter_map(|(n, l)| fhir::render(l, region, mix(seed ^ 0xF41E, n as u64)))
        .collect();
    fhir.sort_by(|a, b| (a.facility, &a.name).cmp(&(b.facility, &b.name)));
    ClinicalHistory { ssmix2, fhir }
}

/// The message families of the benchmark mix, with relative weights as in a hospital's
/// storage: prescriptions and lab results dominate.
const BENCH_MIX: [(&str, u32); 7] = [
    ("OMP-01", 34),
    ("OML-11", 33),
    ("PPR-01", 10),
    ("ADT-00", 9),
    ("ADT-61", 4),
    ("ADT-22", 5),
    ("ADT-52", 5),
];

/// A value for `lab` around the middle of its reference range, out of range about one time in
/// five (the benchmark has no patient model).
fn bench_value(rng: &mut StdRng, lab: Lab, sex: Sex) -> f64 {
    let t = lab.test();
    let (lo, hi) = if sex == Sex::Female {
        t.range.female
    } else {
        t.range.male
    };
    let (lo, hi) = match (lo, hi) {
        (Some(l), Some(h)) => (l, h),
        (None, Some(h)) => (h * 0.2, h),
        (Some(l), None) => (l, l * 1.6),
        (None, None) => (1.0, 2.0),
    };
    let span = (hi - lo).max(0.01);
    let v = if rng.gen_bool(0.2) {
        hi + span * rng.gen_range(0.05..0.6)
    } else {
        lo + span * rng.gen_range(0.1..0.9)
    };
    v.max(0.01)
}

/// `n` messages of a realistic mix (prescriptions, lab results, problem lists, demographics,
/// allergies, admissions and discharges) for patients `patient_ids` at the facility whose code
/// goes into MSH-4, for `renkei bench ingest`. Deterministic by seed. Every file is a new
/// logical key (order numbers never repeat). IDs that cannot be SS-MIX2 patient IDs (anything
/// but ASCII letters and digits) are not used; with none left the result is empty.
pub fn bench_messages(
    n: usize,
    patient_ids: &[String],
    facility_code: &str,
    seed: u64,
) -> Vec<Ssmix2File> {
    let patient_ids: Vec<&String> = patient_ids
        .iter()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .collect();
    if patient_ids.is_empty() {
        return Vec::new();
    }
    let mut rng = StdRng::seed_from_u64(mix(seed, 0xBE7C));
    let people: Vec<Person> = patient_ids
        .iter()
        .map(|_| Person::random(&mut rng))
        .collect();
    let doctor = Doctor::generic();
    let mut numbers = Numbers::new(rng.gen_range(0..3_000_000));
    let total: u32 = BENCH_MIX.iter().map(|m| m.1).sum();
    let drugs = [
        Rx::Amlodipine10,
        Rx::Olmesartan20,
        Rx::Metformin250,
        Rx::Atorvastatin10,
        Rx::Lansoprazole15,
        Rx::MagnesiumOxide330,
        Rx::Loxoprofen60,
        Rx::Rebamipide100,
        Rx::Furosemide20,
        Rx::Lemborexant25,
        Rx::Carbocisteine250,
        Rx::Calonal300,
    ];
    let chronic = [
        Dx::Hypertension,
        Dx::Diabetes,
        Dx::Dyslipidaemia,
        Dx::HeartFailure,
        Dx::Ckd,
        Dx::Gerd,
        Dx::Constipation,
        Dx::Insomnia,
        Dx::Angina,
        Dx::Gastritis,
        Dx::Uri,
    ];
    let panels: [&[Lab]; 4] = [
        &[
            Lab::Creatinine,
            Lab::Egfr,
            Lab::Ast,
            Lab::Alt,
            Lab::K,
            Lab::Na,
        ],
        &[Lab::HbA1c, Lab::Glucose, Lab::Creatinine, Lab::Egfr],
        &[Lab::Ldl, Lab::Hdl, Lab::Tg, Lab::Ast, Lab::Alt],
        &[Lab::Hb, Lab::Wbc, Lab::Plt, Lab::Crp],
    ];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let k = rng.gen_range(0..patient_ids.len());
        let (Some(pid), Some(person)) = (patient_ids.get(k), people.get(k)) else {
            continue;
        };
        let cx = Cx {
            facility: 0,
            facility_code,
            facility_name: None,
            patient_id: pid,
            person,
            doctor: &doctor,
        };
        let on = day_in(&mut rng, date!(2023 - 01 - 01), date!(2025 - 12 - 31));
        let t = at(&mut rng, on, 9, 17);
        let mut pick = rng.gen_range(0..total);
        let kind = BENCH_MIX
            .iter()
            .find(|(_, w)| {
                if pick < *w {
                    true
                } else {
                    pick -= w;
                    false
                }
            })
            .map_or("OMP-01", |(k, _)| *k);
        let ward = Ward {
            ward: "5E".to_owned(),
            room: format!("5{:02}", rng.gen_range(1..=20)),
            bed: rng.gen_range(1..=4).to_string(),
        };
        let file = match kind {
            "ADT-00" => messages::adt00(&cx, &mut numbers, t),
            "ADT-61" => {
                let count = rng.gen_range(1..=2);
                let allergies: Vec<AllergyEntry> = ALLERGENS
                    .choose_multiple(&mut rng, count)
                    .enumerate()
                    .map(|(i, a)| AllergyEntry {
                        allergen: *a,
                        reaction: a.reactions.first().copied().unwrap_or("発疹"),
                        since: "数年前",
                        recorded: on,
                        id: format!("ALG{pid}{:02}", i + 1),
                        severe: false,
                    })
                    .collect();
                messages::adt61(&cx, &mut numbers, t, &allergies)
            }
            "PPR-01" => {
                let count = rng.gen_range(1..=5);
                let problems: Vec<Problem> = chronic
                    .choose_multiple(&mut rng, count)
                    .enumerate()
                    .map(|(i, dx)| Problem {
                        disease: dx.disease(),
                        id: format!("PRB{pid}{:03}", i + 1),
                        recorded: on,
                        ended: dx.acute().then_some((on, Outcome::Cured)),
                        suspected: *dx == Dx::Angina,
                        main: i == 0,
                        inpatient: false,
                    })
                    .collect();
                let refs: Vec<&Problem> = problems.iter().collect();
                messages::ppr01(&cx, &mut numbers, t, &refs, None, INTERNAL)
            }
            "OML-11" => {
                let panel = panels.choose(&mut rng).copied().unwrap_or(&[Lab::Crp]);
                let values: Vec<(Lab, f64)> = panel
                    .iter()
                    .map(|l| (*l, bench_value(&mut rng, *l, person.sex)))
                    .collect();
                let drawn = t.checked_sub(time::Duration::minutes(60)).unwrap_or(t);
                messages::oml11(&cx, &mut numbers, drawn, t, &values, INTERNAL, None)
            }
            "ADT-22" => messages::adt22(
                &cx,
                &mut numbers,
                t,
                &ward,
                INTERNAL,
                &format!("{}{:04}", hl7::ymd(on), rng.gen_range(1..=9999)),
            ),
            "ADT-52" => {
                let admitted = t
                    .checked_sub(time::Duration::days(rng.gen_range(5..=20)))
                    .unwrap_or(t);
                messages::adt52(
                    &cx,
                    &mut numbers,
                    admitted,
                    t,
                    &ward,
                    INTERNAL,
                    &format!(
                        "{}{:04}",
                        hl7::ymd(admitted.date()),
                        rng.gen_range(1..=9999)
                    ),
                )
            }
            _ => {
                let count = rng.gen_range(1..=5);
                let days = *[14, 28, 28, 42, 56].choose(&mut rng).unwrap_or(&28);
                let rps: Vec<_> = drugs
                    .choose_multiple(&mut rng, count)
                    .map(|rx| (rx.drug(), days))
                    .collect();
                messages::omp01(
                    &cx,
                    &mut numbers,
                    t,
                    &rps,
                    INTERNAL,
                    RxCategory::HospitalOutpatient,
                    None,
                )
            }
        };
        out.push(file);
    }
    out
}

#[cfg(test)]
mod tests;
