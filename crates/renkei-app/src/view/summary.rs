//! The patient summary (サマリー): the allergy banner, active problems, current medicines with
//! duplicate-ingredient and allergy warnings, the latest result of each lab, recent admissions
//! and which facilities hold data.

use super::read::{code_in, concept, days, dosage, quantity, s};
use super::{Opened, record_date};
use crate::{Actor, App, AppError};
use renkei_domain::audit::AuditAction;
use renkei_domain::consent::ConsentState;
use renkei_domain::{AccessCategory, Person, PersonId, Record, RecordHead};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration, OffsetDateTime};

/// Every category the summary may show.
const SUMMARY_CATEGORIES: [AccessCategory; 7] = [
    AccessCategory::Demographics,
    AccessCategory::Allergies,
    AccessCategory::Diagnoses,
    AccessCategory::Medications,
    AccessCategory::Labs,
    AccessCategory::ClinicalNotes,
    AccessCategory::Documents,
];

/// Recent admissions and visits shown, one line per stay.
const SHOWN_STAYS: usize = 10;
/// Encounter records read per stay shown: an admission, its transfers and its discharge.
const ENCOUNTERS_PER_STAY: usize = 6;

/// A medicine prescribed within this many days counts as current.
const CURRENT_MEDICINE_DAYS: i64 = 120;

#[derive(Clone, Debug, Serialize)]
pub struct AllergyItem {
    pub substance: String,
    pub reaction: Option<String>,
    pub criticality: Option<String>,
    pub facility: String,
    pub recorded_on: Date,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProblemItem {
    pub name: String,
    /// 疑い: unconfirmed.
    pub suspected: bool,
    pub onset: Option<String>,
    pub facility: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MedicineItem {
    pub name: String,
    pub code: Option<String>,
    pub dosage: Option<String>,
    pub days: Option<i64>,
    pub prescribed_on: Date,
    pub facility: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LabItem {
    pub code: Option<String>,
    pub name: String,
    pub value: String,
    /// `H`, `L`, … from the source.
    pub flag: Option<String>,
    pub taken_on: Date,
    pub facility: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct EncounterItem {
    pub kind: String,
    pub start: Option<String>,
    pub end: Option<String>,
    pub facility: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct FacilityShare {
    pub facility: String,
    pub records: usize,
    pub latest: Date,
}

/// Something the clinician must not miss.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Warning {
    /// 重複投薬: the same ingredient prescribed by two facilities.
    DuplicateIngredient {
        ingredient: String,
        medicines: Vec<String>,
        facilities: Vec<String>,
    },
    /// アレルギー・禁忌: a current medicine matches a recorded allergy.
    AllergyConflict { allergy: String, medicine: String },
}

impl Warning {
    pub fn message_ja(&self) -> String {
        match self {
            Warning::DuplicateIngredient {
                ingredient,
                facilities,
                ..
            } => format!(
                "重複投薬の可能性: 「{ingredient}」が複数の施設（{}）から処方されています。",
                facilities.join("、")
            ),
            Warning::AllergyConflict { allergy, medicine } => format!(
                "アレルギー注意: 「{medicine}」は登録されたアレルギー「{allergy}」に該当する可能性があります。"
            ),
        }
    }
}

/// The summary page.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// The resident's demographics (基本情報), absent when the matrix hides them.
    pub person: Option<Person>,
    pub consent_state: ConsentState,
    /// How this access was allowed (`care-relationship`, `break-glass`).
    pub access_method: String,
    pub allergies: Vec<AllergyItem>,
    pub problems: Vec<ProblemItem>,
    pub medicines: Vec<MedicineItem>,
    pub warnings: Vec<Warning>,
    pub latest_labs: Vec<LabItem>,
    pub encounters: Vec<EncounterItem>,
    pub facilities: Vec<FacilityShare>,
    pub documents: Vec<(String, String, Date, String)>,
    /// Categories shown; the others are absent, not greyed out.
    pub shown: BTreeSet<AccessCategory>,
}

/// One line per visit or stay. A facility sends an admission, its transfers and its discharge
/// as separate messages (SS-MIX2 ADT-22, ADT-42, ADT-52), each its own Encounter: those with the
/// same visit number (PV1-19), or without one but starting on the same day, are one stay, from
/// its earliest start to its latest end.
fn one_per_stay(
    encounters: impl Iterator<Item = (renkei_domain::FacilityId, Option<String>, EncounterItem)>,
) -> Vec<EncounterItem> {
    let mut stays: Vec<((renkei_domain::FacilityId, Option<String>), EncounterItem)> = Vec::new();
    for (facility, visit, e) in encounters {
        let same = |(f, v): &(renkei_domain::FacilityId, Option<String>), s: &EncounterItem| {
            *f == facility
                && match (v, &visit) {
                    (Some(a), Some(b)) => a == b,
                    (None, None) => s.start.is_some() && s.start == e.start,
                    _ => false,
                }
        };
        match stays.iter_mut().find(|(k, s)| same(k, s)) {
            Some((_, stay)) => {
                if e.start.is_some() && (stay.start.is_none() || e.start < stay.start) {
                    stay.start = e.start;
                }
                if e.end > stay.end {
                    stay.end = e.end;
                }
            }
            None => stays.push(((facility, visit), e)),
        }
    }
    stays.into_iter().map(|(_, s)| s).collect()
}

/// The newest of `records` for each key (the first of equally new ones).
fn newest_by<'a, K: Ord>(
    records: impl Iterator<Item = &'a RecordHead>,
    key: impl Fn(&RecordHead) -> K,
) -> Vec<&'a RecordHead> {
    let mut newest: BTreeMap<K, &'a RecordHead> = BTreeMap::new();
    // Heads come in date order, then arrival: on the same day the later arrival wins.
    for r in records {
        let e = newest.entry(key(r)).or_insert(r);
        if record_date(r) >= record_date(*e) {
            *e = r;
        }
    }
    newest.into_values().collect()
}

fn facility_of(opened: &Opened, r: &Record) -> String {
    facility_name(opened, r.facility_id)
}

fn facility_name(opened: &Opened, f: renkei_domain::FacilityId) -> String {
    opened.facility_names.get(&f).cloned().unwrap_or_default()
}

/// The generic name of a medicine for duplicate detection: its YJ ingredient (7 characters)
/// when coded in YJ, else its name up to the dosage form (アムロジピン錠5mg → アムロジピン).
fn ingredient_key(m: &Record) -> Option<String> {
    if let Some(yj) =
        code_in(m.input.resource.get("medicationCodeableConcept"), "YJ").filter(|c| c.len() >= 7)
    {
        return yj.get(..7).map(str::to_owned);
    }
    let name = m.input.display.clone()?;
    const FORMS: [&str; 16] = [
        "錠",
        "カプセル",
        "散",
        "細粒",
        "顆粒",
        "注",
        "液",
        "シロップ",
        "ＯＤ",
        "OD",
        "テープ",
        "軟膏",
        "クリーム",
        "ゲル",
        "（",
        "(",
    ];
    let cut = FORMS
        .iter()
        .filter_map(|f| name.find(f))
        .min()
        .unwrap_or(name.len());
    let key = name.get(..cut).unwrap_or(&name).trim().to_owned();
    (key.chars().count() >= 2).then_some(key)
}

/// Drug classes allergies are commonly recorded as, with the generic names that belong to them
/// (pharmacology facts, not a complete master: a class missing here still matches by name).
const ALLERGY_CLASSES: &[(&str, &[&str])] = &[
    (
        "ペニシリン",
        &[
            "アモキシシリン",
            "アンピシリン",
            "ベンジルペニシリン",
            "ピペラシリン",
            "スルタミシリン",
            "バカンピシリン",
            "クラブラン酸",
        ],
    ),
    (
        "セフェム",
        &[
            "セファレキシン",
            "セファクロル",
            "セフカペン",
            "セフジトレン",
            "セフジニル",
            "セフポドキシム",
            "セファゾリン",
            "セフトリアキソン",
            "セフォタキシム",
            "セフメタゾール",
            "セフェピム",
        ],
    ),
    (
        "ニューキノロン",
        &[
            "レボフロキサシン",
            "シプロフロキサシン",
            "モキシフロキサシン",
            "ガレノキサシン",
            "シタフロキサシン",
        ],
    ),
    (
        "キノロン",
        &[
            "レボフロキサシン",
            "シプロフロキサシン",
            "モキシフロキサシン",
            "ガレノキサシン",
            "シタフロキサシン",
        ],
    ),
    (
        "マクロライド",
        &["クラリスロマイシン", "アジスロマイシン", "エリスロマイシン"],
    ),
    (
        "サルファ",
        &["スルファメトキサゾール", "サラゾスルファピリジン"],
    ),
    (
        "NSAIDs",
        &[
            "ロキソプロフェン",
            "イブプロフェン",
            "ジクロフェナク",
            "アスピリン",
            "セレコキシブ",
            "メロキシカム",
            "ナプロキセン",
            "インドメタシン",
        ],
    ),
    (
        "非ステロイド性抗炎症",
        &[
            "ロキソプロフェン",
            "イブプロフェン",
            "ジクロフェナク",
            "アスピリン",
            "セレコキシブ",
            "メロキシカム",
            "ナプロキセン",
            "インドメタシン",
        ],
    ),
    (
        "アスピリン喘息",
        &[
            "ロキソプロフェン",
            "イブプロフェン",
            "ジクロフェナク",
            "アスピリン",
            "インドメタシン",
            "ナプロキセン",
        ],
    ),
    (
        "ヨード造影剤",
        &[
            "イオパミドール",
            "イオヘキソール",
            "イオメプロール",
            "イオベルソール",
        ],
    ),
    (
        "造影剤",
        &[
            "イオパミドール",
            "イオヘキソール",
            "イオメプロール",
            "イオベルソール",
            "ガドテリドール",
            "ガドブトロール",
        ],
    ),
];

/// Whether a medicine name falls under an allergy: the substance itself, or a member of the
/// drug class the allergy names.
fn allergy_matches(allergy: &str, stem: &str, medicine: &str) -> bool {
    if stem.chars().count() >= 2 && medicine.contains(stem) {
        return true;
    }
    ALLERGY_CLASSES
        .iter()
        .filter(|(class, _)| allergy.contains(class))
        .any(|(_, members)| members.iter().any(|m| medicine.contains(m)))
}

/// The substance word of an allergy, without 系/アレルギー/剤 endings, for matching names.
fn allergy_stem(s: &str) -> String {
    let mut t = s.trim().to_owned();
    for suffix in [
        "アレルギー",
        "過敏症",
        "系抗生物質",
        "系抗菌薬",
        "系",
        "剤",
        "類",
    ] {
        if let Some(x) = t.strip_suffix(suffix) {
            t = x.to_owned();
        }
    }
    t
}

impl App {
    /// サマリー: one page a doctor reads first. One audit entry.
    pub async fn patient_summary(
        &self,
        actor: &Actor,
        person: PersonId,
    ) -> Result<Summary, AppError> {
        let now = OffsetDateTime::now_utc();
        let opened = self
            .open_for_view(
                actor,
                person,
                &SUMMARY_CATEGORIES,
                AuditAction::View,
                &["summary"],
                now,
            )
            .await?;
        // The matrix may hide demographics from this user: then no name, sex, birth date,
        // address or phone at all, not a blanked copy.
        let person_row = if opened
            .auth
            .categories()
            .contains(&AccessCategory::Demographics)
        {
            Some(
                self.store
                    .person(person)
                    .await?
                    .ok_or(AppError::NotFound("person"))?,
            )
        } else {
            None
        };
        let today = crate::today_jst(now);
        let shown: BTreeSet<AccessCategory> = opened.auth.categories().clone();
        // Choose on the heads what the summary shows, and load only that: the newest record
        // of each allergy and problem, the recent encounters, the newest prescription of each
        // drug per facility (recent enough), the newest result of each test.
        let head_of = |t: &'static str| opened.records().filter(move |r| r.resource_type == t);
        let per_facility_code = |r: &RecordHead| {
            let key = r.code.clone().or_else(|| r.display.clone());
            (r.facility_id, key.unwrap_or_default())
        };
        let test = |r: &RecordHead| {
            let key = r.code.clone().or_else(|| r.display.clone());
            key.unwrap_or_default()
        };
        let mut needed: Vec<&RecordHead> = Vec::new();
        // The newest statement of each allergy and diagnosis per facility: a resend or a
        // repeated problem list says nothing new, and a newer "resolved" ends the problem.
        needed.extend(newest_by(head_of("AllergyIntolerance"), per_facility_code));
        needed.extend(newest_by(head_of("Condition"), per_facility_code));
        // Enough of the newest encounters for the stays shown (each stay is a few records).
        let encounters: Vec<&RecordHead> = head_of("Encounter").collect();
        needed.extend(
            encounters
                .iter()
                .rev()
                .take(SHOWN_STAYS * ENCOUNTERS_PER_STAY),
        );
        needed.extend(newest_by(
            head_of("MedicationRequest")
                .filter(|r| record_date(*r) >= today - Duration::days(CURRENT_MEDICINE_DAYS)),
            per_facility_code,
        ));
        needed.extend(newest_by(
            opened
                .records()
                .filter(|r| r.resource_type == "Observation" && r.category == AccessCategory::Labs),
            test,
        ));
        let loaded = self.load(&opened, person, needed).await?;
        let records = &loaded;
        let of_type = |t: &'static str| records.iter().filter(move |r| r.input.resource_type == t);

        let allergies: Vec<AllergyItem> = of_type("AllergyIntolerance")
            .map(|r| AllergyItem {
                substance: concept(r.input.resource.get("code"))
                    .or_else(|| r.input.display.clone())
                    .unwrap_or_else(|| "（名称なし）".into()),
                reaction: concept(
                    r.input
                        .resource
                        .get("reaction")
                        .and_then(|x| x.get(0))
                        .and_then(|x| x.get("manifestation"))
                        .and_then(|x| x.get(0)),
                ),
                criticality: s(&r.input.resource, &["criticality"]).map(str::to_owned),
                facility: facility_of(&opened, r),
                recorded_on: record_date(r),
            })
            .collect();

        let problems: Vec<ProblemItem> = of_type("Condition")
            .filter(|r| {
                !matches!(
                    s(
                        &r.input.resource,
                        &["clinicalStatus", "coding", "0", "code"]
                    ),
                    Some("resolved" | "inactive" | "remission")
                ) && s(
                    &r.input.resource,
                    &["verificationStatus", "coding", "0", "code"],
                ) != Some("entered-in-error")
            })
            .map(|r| ProblemItem {
                name: concept(r.input.resource.get("code"))
                    .or_else(|| r.input.display.clone())
                    .unwrap_or_default(),
                suspected: s(
                    &r.input.resource,
                    &["verificationStatus", "coding", "0", "code"],
                ) == Some("unconfirmed"),
                onset: s(&r.input.resource, &["onsetDateTime"])
                    .map(|d| d.chars().take(10).collect()),
                facility: facility_of(&opened, r),
            })
            .collect();

        // Current medicines: the newest prescription of each drug per facility, recent enough.
        let mut newest: BTreeMap<(renkei_domain::FacilityId, String), &Record> = BTreeMap::new();
        for r in of_type("MedicationRequest") {
            if record_date(r) < today - Duration::days(CURRENT_MEDICINE_DAYS) {
                continue;
            }
            let key = r
                .input
                .code
                .clone()
                .or_else(|| r.input.display.clone())
                .unwrap_or_default();
            let e = newest.entry((r.facility_id, key)).or_insert(r);
            if record_date(r) > record_date(e) {
                *e = r;
            }
        }
        let mut current: Vec<&Record> = newest.into_values().collect();
        current.sort_by_key(|r| std::cmp::Reverse(record_date(r)));
        let medicines: Vec<MedicineItem> = current
            .iter()
            .map(|r| MedicineItem {
                name: r
                    .input
                    .display
                    .clone()
                    .or_else(|| concept(r.input.resource.get("medicationCodeableConcept")))
                    .unwrap_or_default(),
                code: r.input.code.clone(),
                dosage: dosage(&r.input.resource),
                days: days(&r.input.resource),
                prescribed_on: record_date(r),
                facility: facility_of(&opened, r),
            })
            .collect();

        let mut warnings = Vec::new();
        let mut by_ingredient: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
        for r in &current {
            if let Some(k) = ingredient_key(r) {
                by_ingredient.entry(k).or_default().push(r);
            }
        }
        for (ingredient, rs) in by_ingredient {
            let facilities: BTreeSet<String> = rs.iter().map(|r| facility_of(&opened, r)).collect();
            if facilities.len() > 1 {
                warnings.push(Warning::DuplicateIngredient {
                    ingredient,
                    medicines: rs.iter().filter_map(|r| r.input.display.clone()).collect(),
                    facilities: facilities.into_iter().collect(),
                });
            }
        }
        for a in &allergies {
            let stem = allergy_stem(&a.substance);
            for m in &medicines {
                if allergy_matches(&a.substance, &stem, &m.name) {
                    warnings.push(Warning::AllergyConflict {
                        allergy: a.substance.clone(),
                        medicine: m.name.clone(),
                    });
                }
            }
        }

        // The latest result of each test, so a test is not repeated needlessly.
        let mut latest: BTreeMap<String, &Record> = BTreeMap::new();
        for r in records.iter().filter(|r| {
            r.input.resource_type == "Observation" && r.input.category == AccessCategory::Labs
        }) {
            let key = r
                .input
                .code
                .clone()
                .or_else(|| r.input.display.clone())
                .unwrap_or_default();
            let e = latest.entry(key).or_insert(r);
            if record_date(r) > record_date(e) {
                *e = r;
            }
        }
        let mut latest_labs: Vec<LabItem> = latest
            .into_values()
            .map(|r| LabItem {
                code: r.input.code.clone(),
                name: r
                    .input
                    .display
                    .clone()
                    .or_else(|| concept(r.input.resource.get("code")))
                    .unwrap_or_default(),
                value: quantity(r.input.resource.get("valueQuantity"))
                    .or_else(|| s(&r.input.resource, &["valueString"]).map(str::to_owned))
                    .or_else(|| concept(r.input.resource.get("valueCodeableConcept")))
                    .unwrap_or_default(),
                flag: super::read::code(
                    r.input
                        .resource
                        .get("interpretation")
                        .and_then(|i| i.get(0)),
                )
                .map(str::to_owned),
                taken_on: record_date(r),
                facility: facility_of(&opened, r),
            })
            .collect();
        latest_labs.sort_by(|a, b| b.taken_on.cmp(&a.taken_on).then(a.name.cmp(&b.name)));

        let encounters_of = of_type("Encounter").map(|r| {
            let visit = s(&r.input.resource, &["identifier", "0", "value"]).map(str::to_owned);
            let item = EncounterItem {
                kind: s(&r.input.resource, &["class", "code"])
                    .map(|c| match c {
                        "IMP" => "入院".to_owned(),
                        "AMB" => "外来".to_owned(),
                        "EMER" => "救急".to_owned(),
                        other => other.to_owned(),
                    })
                    .unwrap_or_else(|| "受診".into()),
                start: s(&r.input.resource, &["period", "start"])
                    .map(|d| d.chars().take(10).collect()),
                end: s(&r.input.resource, &["period", "end"]).map(|d| d.chars().take(10).collect()),
                facility: facility_of(&opened, r),
            };
            (r.facility_id, visit, item)
        });
        let mut encounters = one_per_stay(encounters_of);
        encounters.sort_by(|a, b| b.start.cmp(&a.start));
        encounters.truncate(SHOWN_STAYS);

        let mut shares: BTreeMap<String, (usize, Date)> = BTreeMap::new();
        for r in opened.records() {
            let e = shares
                .entry(facility_name(&opened, r.facility_id))
                .or_insert((0, record_date(r)));
            e.0 += 1;
            e.1 = e.1.max(record_date(r));
        }
        let facilities = shares
            .into_iter()
            .map(|(facility, (records, latest))| FacilityShare {
                facility,
                records,
                latest,
            })
            .collect();

        let documents: Vec<(String, String, Date, String)> = opened
            .records()
            .filter(|r| r.category == AccessCategory::Documents)
            .map(|r| {
                (
                    r.id.to_string(),
                    r.display.clone().unwrap_or_else(|| "文書".into()),
                    record_date(r),
                    facility_name(&opened, r.facility_id),
                )
            })
            .collect();

        // The records whose content the summary shows (the facility counts and the document
        // list show only that records exist, from their heads).
        let mut items = vec!["summary".to_owned()];
        if person_row.is_some() {
            items.push("demographics".to_owned());
        }
        items.extend(records.iter().map(|r| format!("record:{}", r.id)));
        items.extend(
            documents
                .iter()
                .map(|(id, ..)| format!("record:{id}"))
                .filter(|i| !items.contains(i))
                .collect::<Vec<_>>(),
        );
        self.audit_view(actor, person, &opened, AuditAction::View, items, now)
            .await?;
        Ok(Summary {
            consent_state: opened.decision.consent_state,
            access_method: opened.auth.method().code().to_owned(),
            person: person_row,
            allergies,
            problems,
            medicines,
            warnings,
            latest_labs,
            encounters,
            facilities,
            documents,
            shown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stay(start: Option<&str>, end: Option<&str>) -> EncounterItem {
        EncounterItem {
            kind: "入院".into(),
            start: start.map(str::to_owned),
            end: end.map(str::to_owned),
            facility: "A病院".into(),
        }
    }

    #[test]
    fn an_admission_and_its_discharge_are_one_stay() {
        let a = renkei_domain::FacilityId::new();
        let b = renkei_domain::FacilityId::new();
        let v = || Some("V1".to_owned());
        let stays = one_per_stay(
            [
                (a, v(), stay(Some("2026-01-05"), None)),
                (a, v(), stay(Some("2026-01-05"), Some("2026-01-20"))),
                // Another facility's visit with the same number is another stay.
                (b, v(), stay(Some("2026-01-05"), None)),
                // Without visit numbers: the same start day is the same stay.
                (a, None, stay(Some("2026-03-01"), None)),
                (a, None, stay(Some("2026-03-01"), Some("2026-03-09"))),
                (a, None, stay(Some("2026-04-01"), None)),
            ]
            .into_iter(),
        );
        let spans: Vec<(Option<&str>, Option<&str>)> = stays
            .iter()
            .map(|s| (s.start.as_deref(), s.end.as_deref()))
            .collect();
        assert_eq!(
            spans,
            vec![
                (Some("2026-01-05"), Some("2026-01-20")),
                (Some("2026-01-05"), None),
                (Some("2026-03-01"), Some("2026-03-09")),
                (Some("2026-04-01"), None),
            ]
        );
    }

    #[test]
    fn a_penicillin_allergy_flags_amoxicillin() {
        let a = "ペニシリン系抗生物質";
        assert!(allergy_matches(
            a,
            &allergy_stem(a),
            "サワシリン（アモキシシリン）カプセル250"
        ));
        assert!(!allergy_matches(a, &allergy_stem(a), "アムロジピン錠5mg"));
    }

    #[test]
    fn a_substance_allergy_flags_its_own_name() {
        let a = "ロキソプロフェン";
        assert!(allergy_matches(
            a,
            &allergy_stem(a),
            "ロキソプロフェンナトリウム錠60mg"
        ));
    }
}
