//! ADT-00 (患者基本情報の更新, ADT^A08; ADT^A23 deletes): the patient's demographics, and the
//! records JAMI's "Message ADT_00 to Bundle" makes besides the Patient.
//!
//! - PID → [`PatientDemographics`] (JAMI "Segment PID to Patient": PID-5 names, PID-7 birth
//!   date, PID-8 sex, PID-11 address, PID-13 phone). The Patient is not a record: the pipeline
//!   keeps it as the facility's local patient and uses it for matching.
//! - IN1 → Coverage (JP_Coverage, category 基本情報; JAMI "Segment ADT_00_IN1 to Coverage":
//!   IN1-2 type, IN1-3 payor (保険者番号), IN1-10 記号, IN1-11 番号, IN1-12/13 period, IN1-17
//!   relationship). The first IN1 also fills the insurance fields of the demographics.
//! - OBX → Observation (JP_Observation_Common; JAMI "Segment ADT_00_OBX to Observation"): height
//!   and weight (JLAC10 `9N…`) are vital signs (category 診療記録), anything else such as blood
//!   type is a lab value (category 検査結果).
//! - AL1 → AllergyIntolerance (see [`super::allergy`]).
//! - EVN, PV1, NK1 and DB1 are noted, not mapped: the network keeps demographics, not the
//!   current visit, next of kin or disability details.

use renkei_domain::{AccessCategory, Sex};
use serde_json::{Value, json};
use time::Date;

use super::codes::{self, CodeContext, extension, profile};
use super::error::{self, MapError};
use super::{Cx, Draft, PatientDemographics, allergy, observation, v2};
use crate::message::{Repetition, Segment};
use crate::time::Dtm;

/// Map an ADT-00 message: JAMI "Message ADT_00 to Bundle" with "Segment PID to Patient" rows
/// PID-5, 7, 8, 11, 13 (into the demographics), "Segment ADT_00_IN1 to Coverage", "Segment
/// ADT_00_OBX to Observation" and "Segment ADT_00_AL1 to AllergyIntolerance".
///
/// # Errors
/// [`MapError::BadValue`] for an unreadable PID-7 or PID-8, or an unreadable date elsewhere;
/// [`MapError::MissingField`] for an IN1 without IN1-3, an OBX without OBX-3 or an AL1 without
/// AL1-3.
pub(crate) fn map(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    if cx.trigger() == "A23" {
        cx.note(
            "MSH-9 ADT^A23 deletes the patient at the source: no demographics or records mapped"
                .to_owned(),
        );
        for seg in cx.segments() {
            cx.consume(&seg);
        }
        return Ok(());
    }
    let pid = cx
        .msg
        .segment("PID")
        .ok_or_else(|| MapError::missing("PID segment"))?;
    let mut demographics = demographics(cx, &pid)?;
    let mut first_in1 = true;
    for seg in cx.segments() {
        match seg.name().as_str() {
            "EVN" => cx.consume(&seg),
            "PV1" => cx.skip(
                &seg,
                "the current visit in ADT-00 is not mapped to an Encounter",
            ),
            "NK1" => cx.skip(
                &seg,
                "next of kin is not part of the network's demographics",
            ),
            "DB1" => cx.skip(
                &seg,
                "disability information has no field in the demographics",
            ),
            "OBX" => body_observation(cx, &seg)?,
            "AL1" => allergy::allergy(cx, &seg)?,
            "IN1" => {
                coverage(cx, &seg)?;
                if first_in1 {
                    first_in1 = false;
                    demographics.insurer_number = v2::text(&seg, 3, 1);
                    demographics.insured_symbol = v2::text(&seg, 10, 1);
                    demographics.insured_number = v2::text(&seg, 11, 1);
                }
            }
            _ => {}
        }
    }
    cx.patient = Some(demographics);
    Ok(())
}

/// PID → demographics.
fn demographics(cx: &mut Cx<'_, '_>, pid: &Segment<'_>) -> Result<PatientDemographics, MapError> {
    let mut d = PatientDemographics::default();
    if let Some(names) = v2::field(pid, 5) {
        for rep in names.repetitions() {
            let Some(full) = full_name(&rep) else {
                continue;
            };
            let representation = rep.component(8).and_then(|c| v2::comp_text(&c));
            let is_kana = match representation.as_deref() {
                Some("P") => true,
                Some("I") => false,
                Some(_) => continue,
                None => full.chars().all(|c| is_kana(c) || c.is_whitespace()),
            };
            let slot = if is_kana {
                &mut d.name_kana
            } else {
                &mut d.name_kanji
            };
            if slot.is_none() {
                *slot = Some(full);
            }
        }
    }
    d.birth_date = birth_date(cx, pid)?;
    d.sex = sex(cx, pid)?;
    if let Some(addresses) = v2::field(pid, 11) {
        let reps: Vec<Repetition<'_>> = addresses.repetitions().collect();
        let home = reps
            .iter()
            .find(|r| r.component(7).and_then(|c| v2::comp_text(&c)).as_deref() == Some("H"))
            .or_else(|| reps.first());
        if let Some(a) = home {
            let get = |n: usize| a.component(n).and_then(|c| v2::comp_text(&c));
            d.postal_code = get(5);
            d.address = get(8).or_else(|| {
                let joined: String = [get(4), get(3), get(1), get(2)]
                    .into_iter()
                    .flatten()
                    .collect();
                (!joined.is_empty()).then_some(joined)
            });
        }
    }
    if let Some(phones) = v2::field(pid, 13) {
        let number = |r: &Repetition<'_>| {
            r.component(12)
                .and_then(|c| v2::comp_text(&c))
                .or_else(|| r.component(1).and_then(|c| v2::comp_text(&c)))
        };
        let reps: Vec<Repetition<'_>> = phones.repetitions().collect();
        d.phone = reps
            .iter()
            .filter(|r| r.component(2).and_then(|c| v2::comp_text(&c)).as_deref() == Some("PRN"))
            .find_map(number)
            .or_else(|| reps.iter().find_map(number));
    }
    Ok(d)
}

/// Family and given name of an XPN, joined with a space.
fn full_name(rep: &Repetition<'_>) -> Option<String> {
    let parts: Vec<String> = [1, 2]
        .into_iter()
        .filter_map(|n| rep.component(n).and_then(|c| v2::comp_text(&c)))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}')
}

/// PID-7: a full date, or `None` with a note for a year or month alone.
fn birth_date(cx: &mut Cx<'_, '_>, pid: &Segment<'_>) -> Result<Option<Date>, MapError> {
    let Some(c) = v2::field(pid, 7).and_then(|f| f.component(1)) else {
        return Ok(None);
    };
    let Some(t) = v2::comp_text(&c) else {
        return Ok(None);
    };
    let dtm = Dtm::parse(&t).map_err(|_| MapError::bad(c.location(), error::BIRTH_DATE))?;
    if dtm.precision() < crate::Precision::Day {
        cx.note(format!(
            "PID-7 (segment {}) is not a full date; not used as the birth date",
            pid.number()
        ));
        return Ok(None);
    }
    Ok(Some(dtm.date()))
}

/// PID-8 (HL7 table 0001).
fn sex(cx: &mut Cx<'_, '_>, pid: &Segment<'_>) -> Result<Option<Sex>, MapError> {
    let Some(c) = v2::field(pid, 8).and_then(|f| f.component(1)) else {
        return Ok(None);
    };
    let Some(code) = v2::comp_text(&c) else {
        return Ok(None);
    };
    match code.as_str() {
        "M" => Ok(Some(Sex::Male)),
        "F" => Ok(Some(Sex::Female)),
        "U" => Ok(Some(Sex::Unknown)),
        "O" | "A" | "N" => {
            cx.note(format!(
                "PID-8 (segment {}) has a code without a counterpart in the network's sex; recorded as unknown",
                pid.number()
            ));
            Ok(Some(Sex::Unknown))
        }
        _ => Err(MapError::bad(c.location(), error::SEX)),
    }
}

/// IN1 → Coverage.
fn coverage(cx: &mut Cx<'_, '_>, in1: &Segment<'_>) -> Result<(), MapError> {
    let insurer = v2::text(in1, 3, 1)
        .ok_or_else(|| MapError::missing(format!("IN1-3 (segment {})", in1.number())))?;
    let mut d = Draft::new(
        cx,
        in1,
        "Coverage",
        profile::JP_Coverage,
        AccessCategory::Demographics,
        Some("beneficiary"),
    );
    d.set("status", Some(json!("active")));
    d.set("type", v2::field_concept(in1, 2, CodeContext::General));
    let mut payor = serde_json::Map::new();
    payor.insert(
        "identifier".into(),
        json!({ "system": codes::INSURER_NUMBER, "value": insurer }),
    );
    if let Some(name) = v2::text(in1, 4, 1) {
        payor.insert("display".into(), json!(name));
    }
    d.set("payor", Some(Value::Array(vec![Value::from(payor)])));
    let symbol = v2::text(in1, 10, 1);
    let number = v2::text(in1, 11, 1);
    if let Some(s) = &symbol {
        d.push(
            "extension",
            json!({ "url": extension::JP_Coverage_InsuredPersonSymbol, "valueString": s }),
        );
    }
    if let Some(n) = &number {
        d.push(
            "extension",
            json!({ "url": extension::JP_Coverage_InsuredPersonNumber, "valueString": n }),
        );
    }
    let subscriber: Vec<String> = [symbol, number].into_iter().flatten().collect();
    if !subscriber.is_empty() {
        d.set("subscriberId", Some(json!(subscriber.join(":"))));
    }
    let start = v2::dtm(in1, 12)?;
    let end = v2::dtm(in1, 13)?;
    if start.is_some() || end.is_some() {
        let mut period = serde_json::Map::new();
        if let Some(s) = &start {
            period.insert("start".into(), json!(s.to_string()));
        }
        if let Some(e) = &end {
            period.insert("end".into(), json!(e.to_string()));
        }
        d.set("period", Some(Value::Object(period)));
    }
    if let Some(rel) = v2::field(in1, 17).and_then(|f| f.repetition(1)) {
        let fhir = match rel.component(1).and_then(|c| v2::comp_text(&c)).as_deref() {
            Some("SEL") => "self",
            Some("SPO") => "spouse",
            Some("CHD") => "child",
            Some("PAR") => "parent",
            _ => "other",
        };
        let mut codings = vec![json!({ "system": codes::SUBSCRIBER_RELATIONSHIP, "code": fhir })];
        if let Some(Value::Object(mut original)) = v2::rep_concept(&rel, CodeContext::General)
            && let Some(Value::Array(c)) = original.remove("coding")
        {
            codings.extend(c);
        }
        d.set("relationship", Some(json!({ "coding": codings })));
    }
    d.effective_on = start.map(|s| s.date());
    d.source_key = format!("IN1|{insurer}|{}", v2::text(in1, 2, 1).unwrap_or_default());
    cx.consume(in1);
    cx.drafts.push(d);
    Ok(())
}

/// ADT-00 OBX → Observation (JP_Observation_Common).
fn body_observation(cx: &mut Cx<'_, '_>, obx: &Segment<'_>) -> Result<(), MapError> {
    let o = observation::read(&mut cx.notes, obx)?;
    let code = v2::field_triplets(obx, 3)
        .into_iter()
        .next()
        .unwrap_or_default();
    let jlac = code
        .system_name
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("JC10"));
    let vital = jlac && code.code.as_deref().is_some_and(|c| c.starts_with("9N"));
    let (fhir_category, category) = if vital {
        ("vital-signs", AccessCategory::ClinicalNotes)
    } else {
        ("laboratory", AccessCategory::Labs)
    };
    let mut d = Draft::new(
        cx,
        obx,
        "Observation",
        profile::JP_Observation_Common,
        category,
        Some("subject"),
    );
    d.resource.extend(o.resource);
    d.set(
        "category",
        Some(json!([{ "coding": [{ "system": codes::OBSERVATION_CATEGORY, "code": fhir_category }] }])),
    );
    d.effective_on = o.observed.map(|t| t.date());
    d.source_key = format!(
        "OBX|{}|{}",
        v2::text(obx, 1, 1).unwrap_or_default(),
        code.code.unwrap_or_default()
    );
    cx.consume(obx);
    cx.drafts.push(d);
    Ok(())
}
