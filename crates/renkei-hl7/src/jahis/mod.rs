//! JAHIS / SS-MIX2 messages mapped to FHIR R4 resources (JP Core v1.x profiles), following
//! JAMI's SS-MIX2→FHIR mapping tables (`jami-fhir-jp-wg/ssmix2-to-fhir`, ConceptMaps
//! "Message … to Bundle" and "Segment … to …").
//!
//! [`map_message`] takes a tokenized message and the SS-MIX2 [`FileName`] it was stored under and
//! returns [`Mapped`]: the patient's demographics (ADT-00 only), the clinical records
//! ([`RecordInput`]: FHIR JSON plus the index columns) and notes about what was not mapped.
//!
//! Submodules, one per message family (private; each module's docs give the JAMI table rows it
//! follows and the decisions it makes):
//! - `patient`: ADT-00 (patient demographics, IN1 → Coverage, OBX → Observation, AL1);
//! - `encounter`: ADT-01/12/21/22/31/32/41/42/51/52 → Encounter;
//! - `allergy`: ADT-61 (IAM, AL1) → AllergyIntolerance;
//! - `problem`: PPR-01 (PRB + ZPR) → Condition;
//! - `pharmacy`: OMP-01/02 (RXE) → MedicationRequest, OMP-11/12 (RXA) →
//!   MedicationAdministration;
//! - `lab`: OML-01 → ServiceRequest, OML-11 (OBX) → Observation;
//! - `imaging`: OMG-01/02/03 → ServiceRequest, OMG-11/12/13 → DiagnosticReport and
//!   ImagingStudy;
//! - `diet`: OMD → NutritionOrder;
//! - `observation` and `v2`: the shared OBX reader and HL7 value readers;
//! - [`codes`]: coding-system names → URIs, profile and extension URLs (public, so callers can
//!   recognise the local-code prefix and the unmapped-segment extension);
//! - [`error`]: the [`MapError`] type.
//!
//! # Decisions
//! - **The message must agree with its storage.** [`ssmix2::check_message`] runs first: a PID-3
//!   naming another patient than the file name and folder is [`MapError::PatientMismatch`] (so is
//!   a second PID segment naming someone else), never a record filed under either patient. A
//!   missing PID or MSH-9 is [`MapError::MissingField`]; an MSH-9.1 message code that contradicts
//!   the data kind is [`MapError::UnknownMessageType`] (the segments would be read as the wrong
//!   message). An MSH-9.2 trigger event JAHIS does not list for the data kind only adds a note:
//!   the structure is that of the message code, and the data kind decides the mapping.
//! - **Nothing is dropped silently.** A segment no mapping consumes is attached as an
//!   [`codes::UNMAPPED_SEGMENT`] extension (raw HL7 text) to the resource made from the nearest
//!   segment before it (HL7 Z-segments and extra segments extend the group they follow), and a
//!   note says so. NTE comments become `note` where the resource has one. A segment before every
//!   resource, or in a message without resources, can only be noted. Local codes keep their
//!   coding system under [`codes::LOCAL_SYSTEM_PREFIX`].
//! - **Strict where identity or time is at stake, lenient elsewhere.** An unreadable timestamp,
//!   birth date or sex is [`MapError::BadValue`]; a numeric result that is not a number is kept
//!   as text with a note; an unknown code is kept as sent.
//! - **Patient references** follow JAMI's logical-id rule: `Patient/{患者ID}.ADT-00`. People
//!   (ORC-12, PV1-7, RXA-10) are logical references (local staff ID + name), not resources.
//! - **Source keys** are unique within the file's logical key and stable across resends of the
//!   same content (built from HL7 identifiers and codes, never from positions alone); a
//!   collision gets `#2`, `#3` appended and a note.
//! - **`effective_on`** is the record's clinical date (onset, authored, observed, admitted)
//!   and otherwise the file name's 診療日, then its 発生日時.
//!
//! Notes never contain values, only segment and field positions and code-system names.

mod allergy;
pub mod codes;
mod diet;
mod encounter;
pub mod error;
mod imaging;
mod lab;
mod observation;
mod patient;
mod pharmacy;
mod problem;
mod v2;

use std::collections::BTreeMap;

use renkei_domain::{AccessCategory, RecordInput, Sex};
use serde_json::{Map, Value, json};
use time::Date;

pub use error::MapError;

use crate::message::{Message, Segment};
use crate::ssmix2::{self, ContentMismatch, DataKind, FileName};

/// Who the patient is, as ADT-00 (患者基本情報) describes them. Only ADT-00 fills it; the ingest
/// pipeline uses it for the local patient and for matching residents (名寄せ).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientDemographics {
    /// 漢字氏名: the PID-5 repetition whose name representation (XPN-8) is `I` (ideographic),
    /// family and given names joined with a space.
    pub name_kanji: Option<String>,
    /// カナ氏名: the PID-5 repetition with representation `P` (phonetic).
    pub name_kana: Option<String>,
    /// PID-8: M, F; O (other), U, A and N are recorded as unknown.
    pub sex: Option<Sex>,
    /// PID-7, a full date only (a year or month alone would mislead patient matching).
    pub birth_date: Option<Date>,
    /// PID-11 XAD-5 of the home address (else the first).
    pub postal_code: Option<String>,
    /// PID-11 XAD-8 (the whole address as JAHIS writes it), else state, city and street joined.
    pub address: Option<String>,
    /// PID-13: the home number (PRN) first, else the first number; XTN-12, else XTN-1.
    pub phone: Option<String>,
    /// IN1-3 of the first IN1 (保険者番号).
    pub insurer_number: Option<String>,
    /// IN1-10 of that IN1 (被保険者証記号).
    pub insured_symbol: Option<String>,
    /// IN1-11 of that IN1 (被保険者証番号).
    pub insured_number: Option<String>,
    /// 被保険者証枝番. JAMI's table names IN1-10 for it without saying where in the field; no
    /// sample shows it, so it stays `None` rather than guessing.
    pub insured_branch: Option<String>,
}

/// What one message maps to.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// ADT-00 only: the patient's demographics (Patient is not stored as a record).
    pub patient: Option<PatientDemographics>,
    /// The clinical records, with unique source keys.
    pub records: Vec<RecordInput>,
    /// What was not mapped or was mapped with an assumption, by segment and field position.
    pub notes: Vec<String>,
}

/// Map one message stored in an SS-MIX2 storage under `name`.
///
/// # Errors
/// [`MapError::PatientMismatch`] when PID-3 names another patient than `name`;
/// [`MapError::UnknownMessageType`] for a data kind without mapping or a message code that
/// contradicts it; [`MapError::MissingField`] when PID, MSH-9 or a field that identifies a
/// record is absent; [`MapError::BadValue`] for an unreadable timestamp, birth date or sex, or a
/// second message in the file.
pub fn map_message(name: &FileName, msg: &Message<'_>) -> Result<Mapped, MapError> {
    let mut cx = Cx::new(name, msg);
    cx.verify()?;
    match name.kind() {
        DataKind::Adt00 => patient::map(&mut cx)?,
        DataKind::Adt01
        | DataKind::Adt12
        | DataKind::Adt21
        | DataKind::Adt22
        | DataKind::Adt31
        | DataKind::Adt32
        | DataKind::Adt41
        | DataKind::Adt42
        | DataKind::Adt51
        | DataKind::Adt52 => encounter::map(&mut cx)?,
        DataKind::Adt61 => allergy::map_adt61(&mut cx)?,
        DataKind::Ppr01 => problem::map(&mut cx)?,
        DataKind::Omp01 | DataKind::Omp02 => pharmacy::map_orders(&mut cx)?,
        DataKind::Omp11 | DataKind::Omp12 => pharmacy::map_administrations(&mut cx)?,
        DataKind::Oml01 => lab::map_orders(&mut cx)?,
        DataKind::Oml11 => lab::map_results(&mut cx)?,
        DataKind::Omg01 | DataKind::Omg02 | DataKind::Omg03 => imaging::map_orders(&mut cx)?,
        DataKind::Omg11 | DataKind::Omg12 | DataKind::Omg13 => imaging::map_results(&mut cx)?,
        DataKind::Omd => diet::map(&mut cx)?,
        DataKind::Other(kind) => {
            return Err(MapError::UnknownMessageType {
                kind: kind.clone(),
                message_type: None,
            });
        }
    }
    Ok(cx.finish())
}

/// A record under construction.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    /// The segment number the resource was made from; unmapped segments after it attach here.
    pub anchor: usize,
    pub source_key: String,
    pub resource_type: &'static str,
    pub category: AccessCategory,
    /// (system, code, display) for the index, when the mapper chooses it; otherwise taken from
    /// the resource's main code.
    pub index: Option<(Option<String>, Option<String>, Option<String>)>,
    pub effective_on: Option<Date>,
    pub sensitive: bool,
    pub resource: Map<String, Value>,
}

impl Draft {
    /// A draft with `resourceType`, `meta.profile` and the subject reference in `subject_key`
    /// (`subject` or `patient`, or none for `None`).
    pub(crate) fn new(
        cx: &Cx<'_, '_>,
        anchor: &Segment<'_>,
        resource_type: &'static str,
        profile: &str,
        category: AccessCategory,
        subject_key: Option<&str>,
    ) -> Self {
        let mut resource = Map::new();
        resource.insert("resourceType".into(), Value::String(resource_type.into()));
        resource.insert("meta".into(), json!({ "profile": [profile] }));
        if let Some(key) = subject_key {
            resource.insert(key.into(), v2::subject(cx.name.patient_id()));
        }
        Self {
            anchor: anchor.number(),
            source_key: String::new(),
            resource_type,
            category,
            index: None,
            effective_on: None,
            sensitive: false,
            resource,
        }
    }

    /// Set `key` when `value` is present.
    pub(crate) fn set(&mut self, key: &str, value: Option<Value>) {
        if let Some(v) = value {
            self.resource.insert(key.into(), v);
        }
    }

    /// Set `key` to a string when present.
    pub(crate) fn set_str(&mut self, key: &str, value: Option<String>) {
        self.set(key, value.map(Value::String));
    }

    /// Set `key` to an array when it is not empty.
    pub(crate) fn set_list(&mut self, key: &str, values: Vec<Value>) {
        if !values.is_empty() {
            self.resource.insert(key.into(), Value::Array(values));
        }
    }

    /// Append to the array at `key`.
    pub(crate) fn push(&mut self, key: &str, value: Value) {
        match self.resource.get_mut(key) {
            Some(Value::Array(a)) => a.push(value),
            _ => {
                self.resource.insert(key.into(), Value::Array(vec![value]));
            }
        }
    }
}

/// The mapping context: the message, the file name, which segments were used, the drafts and
/// the notes.
pub(crate) struct Cx<'m, 'a> {
    pub name: &'m FileName,
    pub msg: &'m Message<'a>,
    segments: Vec<Segment<'a>>,
    consumed: Vec<bool>,
    pub drafts: Vec<Draft>,
    pub notes: Vec<String>,
    pub patient: Option<PatientDemographics>,
}

impl<'m, 'a> Cx<'m, 'a> {
    fn new(name: &'m FileName, msg: &'m Message<'a>) -> Self {
        let segments: Vec<Segment<'a>> = msg.iter().collect();
        let consumed = vec![false; segments.len()];
        Self {
            name,
            msg,
            segments,
            consumed,
            drafts: Vec::new(),
            notes: Vec::new(),
            patient: None,
        }
    }

    /// All segments in order.
    pub(crate) fn segments(&self) -> Vec<Segment<'a>> {
        self.segments.clone()
    }

    /// Mark a segment as mapped.
    pub(crate) fn consume(&mut self, seg: &Segment<'_>) {
        if let Some(c) = seg
            .number()
            .checked_sub(1)
            .and_then(|i| self.consumed.get_mut(i))
        {
            *c = true;
        }
    }

    /// Mark a segment as deliberately not mapped, with a note saying why.
    pub(crate) fn skip(&mut self, seg: &Segment<'_>, why: &str) {
        self.consume(seg);
        self.note(format!("{} (segment {}): {why}", seg.name(), seg.number()));
    }

    pub(crate) fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// The SS-MIX2 data kind code of the file, e.g. `OMP-01`.
    pub(crate) fn kind(&self) -> &DataKind {
        self.name.kind()
    }

    /// The check against the storage: patient, message type, one message per file.
    fn verify(&mut self) -> Result<(), MapError> {
        let found = ssmix2::check_message(self.msg, self.name);
        if found.contains(&ContentMismatch::PatientId) {
            return Err(MapError::PatientMismatch);
        }
        for mismatch in found {
            match mismatch {
                ContentMismatch::PatientId => return Err(MapError::PatientMismatch),
                ContentMismatch::MissingPid => return Err(MapError::missing("PID segment")),
                ContentMismatch::MissingMessageType => return Err(MapError::missing("MSH-9")),
                ContentMismatch::MessageCode => {
                    return Err(MapError::UnknownMessageType {
                        kind: self.name.kind().to_string(),
                        message_type: self.message_type_code(),
                    });
                }
                ContentMismatch::TriggerEvent => {
                    let shown = self
                        .message_type_code()
                        .unwrap_or_else(|| "(not a code)".into());
                    self.note(format!(
                        "MSH-9 message type {shown} is not one JAHIS assigns to data kind {}; mapped as {}",
                        self.name.kind(),
                        self.name.kind()
                    ));
                }
            }
        }
        // Every PID must name the file's patient, not just the first.
        for pid in self.msg.segments("PID").skip(1) {
            let names_the_patient = pid.field(3).is_some_and(|pid3| {
                pid3.repetitions().any(|r| {
                    r.component(1)
                        .is_some_and(|id| id.unescaped() == self.name.patient_id())
                })
            });
            if !names_the_patient {
                return Err(MapError::PatientMismatch);
            }
        }
        let segments = self.segments();
        for seg in &segments {
            if seg.name().as_str() == "PID" {
                self.consume(seg);
            }
        }
        if let Some(first) = segments.first() {
            self.consume(first);
        }
        for seg in segments.iter().skip(1) {
            if seg.name().as_str() == "MSH" {
                if seg.field_count() > 0 {
                    return Err(MapError::BadValue {
                        place: format!("MSH (segment {})", seg.number()),
                        expected: error::SINGLE_MESSAGE,
                    });
                }
                self.skip(seg, "empty MSH segment ignored");
            }
        }
        Ok(())
    }

    /// MSH-9.1^MSH-9.2 when both look like HL7 codes (so they can be shown without quoting
    /// arbitrary content).
    fn message_type_code(&self) -> Option<String> {
        let (code, trigger) = self.msg.message_type().ok()?;
        let code_like = |s: &str| {
            !s.is_empty()
                && s.len() <= 3
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        };
        (code_like(code) && code_like(trigger)).then(|| format!("{code}^{trigger}"))
    }

    /// MSH-9.2, the trigger event.
    pub(crate) fn trigger(&self) -> &'a str {
        self.msg.message_type().map(|(_, t)| t).unwrap_or_default()
    }

    /// The fallback clinical date: 診療日, else the date of 発生日時.
    fn fallback_date(&self) -> Date {
        self.name
            .date()
            .unwrap_or_else(|| self.name.timestamp().date())
    }

    /// Attach unmapped segments and NTEs, make source keys unique, fill the index and dates.
    fn finish(mut self) -> Mapped {
        let segments = self.segments();
        for seg in &segments {
            let used = seg
                .number()
                .checked_sub(1)
                .and_then(|i| self.consumed.get(i))
                .copied()
                .unwrap_or(true);
            if !used {
                self.attach_unmapped(seg);
            }
        }
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let fallback = self.fallback_date();
        let mut records = Vec::with_capacity(self.drafts.len());
        for mut draft in std::mem::take(&mut self.drafts) {
            let count = seen.entry(draft.source_key.clone()).or_insert(0);
            *count += 1;
            if *count > 1 {
                self.notes.push(format!(
                    "{} from segment {} has the same source key as an earlier record; numbered #{count}",
                    draft.resource_type, draft.anchor
                ));
                draft.source_key = format!("{}#{count}", draft.source_key);
            }
            let (code_system, code, display) = draft
                .index
                .take()
                .unwrap_or_else(|| index_of(draft.resource_type, &draft.resource));
            records.push(RecordInput {
                source_key: draft.source_key,
                resource_type: draft.resource_type.to_owned(),
                category: draft.category,
                code_system,
                code,
                display,
                effective_on: Some(draft.effective_on.unwrap_or(fallback)),
                sensitive: draft.sensitive,
                resource: Value::Object(draft.resource),
            });
        }
        Mapped {
            patient: self.patient,
            records,
            notes: self.notes,
        }
    }

    fn attach_unmapped(&mut self, seg: &Segment<'_>) {
        let host = self
            .drafts
            .iter()
            .enumerate()
            .filter(|(_, d)| d.anchor < seg.number())
            .max_by_key(|(_, d)| d.anchor)
            .map(|(i, _)| i);
        let Some(draft) = host.and_then(|i| self.drafts.get_mut(i)) else {
            self.notes.push(format!(
                "{} (segment {}) has no mapping and no resource before it to carry it; not stored",
                seg.name(),
                seg.number()
            ));
            return;
        };
        if seg.name().as_str() == "NTE" && has_note(draft.resource_type) {
            let comment: Vec<String> = seg
                .field(3)
                .map(|f| f.repetitions().filter_map(|r| v2::rep_text(&r)).collect())
                .unwrap_or_default();
            if !comment.is_empty() {
                draft.push("note", json!({ "text": comment.join("\n") }));
            }
            return;
        }
        draft.push(
            "extension",
            json!({ "url": codes::UNMAPPED_SEGMENT, "valueString": seg.as_str() }),
        );
        let note = format!(
            "{} (segment {}) has no mapping; kept as raw HL7 in an extension of {} from segment {}",
            seg.name(),
            seg.number(),
            draft.resource_type,
            draft.anchor
        );
        self.notes.push(note);
    }
}

/// Whether a resource type has an Annotation `note`.
fn has_note(resource_type: &str) -> bool {
    matches!(
        resource_type,
        "AllergyIntolerance"
            | "Condition"
            | "MedicationRequest"
            | "MedicationAdministration"
            | "Observation"
            | "ServiceRequest"
            | "NutritionOrder"
            | "ImagingStudy"
    )
}

/// Preferred code systems for the index, best first (the same order `renkei-fhir` uses, so one
/// thing from two sources is indexed under one code).
fn preferred(resource_type: &str) -> &'static [&'static str] {
    match resource_type {
        "Condition" => &[
            codes::DISEASE_KEY_NUMBER,
            codes::DISEASE_EXCHANGE,
            codes::ICD10,
        ],
        "Observation" => &[codes::JLAC10, codes::LOINC],
        "MedicationRequest" | "MedicationAdministration" => &[codes::YJ, codes::HOT9],
        _ => &[],
    }
}

/// (system, code, display) of a resource's main code.
fn index_of(
    resource_type: &str,
    r: &Map<String, Value>,
) -> (Option<String>, Option<String>, Option<String>) {
    let first = |key: &str| {
        r.get(key)
            .and_then(|v| v.as_array())
            .and_then(|a| a.first())
    };
    let concept = match resource_type {
        "MedicationRequest" | "MedicationAdministration" => {
            r.get("medicationCodeableConcept").or_else(|| {
                first("contained")
                    .filter(|c| c.get("resourceType") == Some(&json!("Medication")))
                    .and_then(|m| m.get("code"))
            })
        }
        "Coverage" => r.get("type"),
        "ImagingStudy" => first("procedureCode").or_else(|| first("modality")),
        "NutritionOrder" => r
            .get("oralDiet")
            .and_then(|d| d.get("type"))
            .and_then(|t| t.as_array())
            .and_then(|a| a.first()),
        "Encounter" => r.get("class"),
        _ => r.get("code"),
    };
    let Some(concept) = concept else {
        return (None, None, None);
    };
    // A bare Coding (Encounter.class) is its own single coding.
    let codings: Vec<&Value> = match concept.get("coding").and_then(|c| c.as_array()) {
        Some(a) => a.iter().collect(),
        None if concept.get("code").is_some() => vec![concept],
        None => Vec::new(),
    };
    let s = |v: &Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    let placeholder = |c: &&Value| {
        s(c, "system").as_deref() == Some(codes::DISEASE_KEY_NUMBER)
            && s(c, "code").as_deref() == Some("99999999")
    };
    let chosen = preferred(resource_type)
        .iter()
        .find_map(|system| {
            codings
                .iter()
                .find(|c| !placeholder(c) && s(c, "system").as_deref() == Some(system))
        })
        .or_else(|| codings.iter().find(|c| !placeholder(c)))
        .copied();
    let display = s(concept, "text").or_else(|| chosen.and_then(|c| s(c, "display")));
    (
        chosen.and_then(|c| s(c, "system")),
        chosen.and_then(|c| s(c, "code")),
        display,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(file: &str, segments: &[&str]) -> Result<Mapped, MapError> {
        let text = segments.join("\r");
        let msg = Message::parse(&text).unwrap();
        map_message(&FileName::parse(file).unwrap(), &msg)
    }

    const OML11: &str = "7000001_20240105_OML-11_000000000000001_20240105100000000_01_1";

    #[test]
    fn source_keys_within_one_file_are_unique() {
        // The same OBX twice (same set ID, same code) under the same OBR.
        let m = map(
            OML11,
            &[
                "MSH|^~\\&|||||||OUL^R22|1|P|2.5",
                "PID|1||7000001",
                "OBR|1|1||E001^血液学的検査^99O03",
                "OBX|1|NM|3A010000002327101^総蛋白^JC10||7.2|g/dl",
                "OBX|1|NM|3A010000002327101^総蛋白^JC10||7.3|g/dl",
                "OBX|2|NM|3A015000002327101^アルブミン^JC10||4.9|g/dl",
            ],
        )
        .unwrap();
        let keys: Vec<&str> = m.records.iter().map(|r| r.source_key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "OBX|E001|1|3A010000002327101",
                "OBX|E001|1|3A010000002327101#2",
                "OBX|E001|2|3A015000002327101"
            ]
        );
        let unique: std::collections::BTreeSet<&str> = keys.iter().copied().collect();
        assert_eq!(unique.len(), keys.len());
        assert_eq!(m.notes.len(), 1);
    }

    #[test]
    fn effective_on_falls_back_to_the_date_of_care() {
        let m = map(
            OML11,
            &[
                "MSH|^~\\&|||||||OUL^R22|1|P|2.5",
                "PID|1||7000001",
                "OBX|1|ST|X^x^99L||positive",
            ],
        )
        .unwrap();
        assert_eq!(
            m.records
                .first()
                .and_then(|r| r.effective_on)
                .map(|d| d.to_string()),
            Some("2024-01-05".to_owned())
        );
    }

    #[test]
    fn the_patient_check_comes_first() {
        let e = map(OML11, &["MSH|^~\\&|||||||ADT^A08|1|P|2.5", "PID|1||1234"]).unwrap_err();
        assert_eq!(e, MapError::PatientMismatch);
    }
}
