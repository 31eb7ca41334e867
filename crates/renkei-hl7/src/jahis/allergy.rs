//! Allergies: ADT-61 (アレルギー情報, ADT^A60 with IAM segments) and AL1 segments wherever JAMI
//! maps them (ADT-00, ADT-61, OMP-*) → AllergyIntolerance (JP_AllergyIntolerance), category
//! アレルギー.
//!
//! Follows JAMI "Segment ADT_61_IAM to AllergyIntolerance" (IAM-2 category, IAM-3 code, IAM-4
//! reaction.severity, IAM-5 reaction.description/manifestation, IAM-6 clinicalStatus, IAM-9 type,
//! IAM-11 onsetDateTime, IAM-12 onsetString, IAM-13 recordedDate, IAM-17 verificationStatus) and
//! "Segment ADT_00_AL1 to AllergyIntolerance" (AL1-2 category, AL1-3 code; AL1-4 and AL1-5 read
//! like IAM-4/5, AL1-6 as recordedDate), with the tables "v2-0127 to AllergyIntoleranceCategory"
//! and "v2-0128 to ReactionEventSeverity".
//!
//! The allergen code keeps its coding system: JLAC10 allergen codes, HOT9 drugs, or the
//! facility's own `99…` table under the local prefix. An allergen type FHIR has no category for
//! (MA, MC, local codes) is kept in an [`codes::SOURCE_VALUE`] extension.

use renkei_domain::AccessCategory;
use serde_json::{Value, json};

use super::codes::{self, CodeContext, profile};
use super::error::MapError;
use super::{Cx, Draft, v2};
use crate::message::Segment;

/// ADT-61: one AllergyIntolerance per IAM (and per AL1, should a sender use the older
/// segment), following JAMI "Message ADT_61 to Bundle" (IAM → JP_AllergyIntolerance). EVN and
/// PV1 are context.
///
/// # Errors
/// [`MapError::MissingField`] for an IAM/AL1 without allergen (field 3);
/// [`MapError::BadValue`] for unreadable dates.
pub(crate) fn map_adt61(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    for seg in cx.segments() {
        match seg.name().as_str() {
            "IAM" | "AL1" => allergy(cx, &seg)?,
            "EVN" | "PV1" => cx.consume(&seg),
            _ => {}
        }
    }
    Ok(())
}

/// One AL1 or IAM → an AllergyIntolerance draft (fields 1-5 are the same in both segments):
/// JAMI "Segment ADT_61_IAM to AllergyIntolerance" rows IAM-2 to IAM-17, "Segment ADT_00_AL1 to
/// AllergyIntolerance" rows AL1-2 and AL1-3.
///
/// # Errors
/// As [`map_adt61`].
pub(crate) fn allergy(cx: &mut Cx<'_, '_>, seg: &Segment<'_>) -> Result<(), MapError> {
    let name = seg.name();
    let is_iam = name.as_str() == "IAM";
    let code_triplets = v2::field_triplets(seg, 3);
    let code = v2::field_concept(seg, 3, CodeContext::General)
        .ok_or_else(|| MapError::missing(format!("{name}-3 (segment {})", seg.number())))?;
    let mut d = Draft::new(
        cx,
        seg,
        "AllergyIntolerance",
        profile::JP_AllergyIntolerance,
        AccessCategory::Allergies,
        Some("patient"),
    );
    d.set("code", Some(code));

    let type_code = v2::text(seg, 2, 1);
    match type_code.as_deref().and_then(category) {
        Some(c) => d.set("category", Some(Value::Array(vec![Value::from(c)]))),
        None => {
            if let Some(t) = v2::field_concept(seg, 2, CodeContext::General) {
                d.push(
                    "extension",
                    json!({ "url": codes::SOURCE_VALUE, "valueCodeableConcept": t }),
                );
            }
        }
    }

    let severity = v2::text(seg, 4, 1).as_deref().and_then(severity);
    let reactions = v2::repetitions_text(seg, 5);
    if severity.is_some() || !reactions.is_empty() {
        let description = (!reactions.is_empty()).then(|| reactions.join("、"));
        let manifestation: Vec<Value> = if reactions.is_empty() {
            // JAMI: a reaction without description gets a stated absence.
            vec![json!({ "text": "アレルギー反応情報なし" })]
        } else {
            reactions.iter().map(|r| json!({ "text": r })).collect()
        };
        let mut reaction = serde_json::Map::new();
        reaction.insert("manifestation".into(), Value::Array(manifestation));
        if let Some(desc) = description {
            reaction.insert("description".into(), json!(desc));
        }
        if let Some(s) = severity {
            reaction.insert("severity".into(), json!(s));
        }
        d.set("reaction", Some(Value::Array(vec![Value::from(reaction)])));
    }

    let mut clinical = "active";
    let mut entered_in_error = false;
    let mut onset = None;
    let recorded;
    if is_iam {
        if v2::text(seg, 6, 1).as_deref() == Some("D") {
            // IAM-6 D: the source removed the allergy.
            clinical = "inactive";
        }
        if let Some(id) = v2::text(seg, 7, 1) {
            d.set("identifier", Some(json!([{ "value": id }])));
        }
        match v2::text(seg, 9, 1).as_deref() {
            Some("AL") => d.set("type", Some(json!("allergy"))),
            Some("IN") => d.set("type", Some(json!("intolerance"))),
            _ => {}
        }
        onset = v2::dtm(seg, 11)?;
        if let Some(o) = &onset {
            d.set("onsetDateTime", Some(json!(o.to_string())));
        }
        if let Some(text) = v2::whole(seg, 12) {
            if onset.is_some() {
                d.push("note", json!({ "text": text }));
            } else {
                d.set("onsetString", Some(json!(text)));
            }
        }
        recorded = v2::dtm(seg, 13)?;
        let verification = match v2::text(seg, 17, 1).as_deref() {
            Some("C") => Some("confirmed"),
            Some("I") => {
                clinical = "inactive";
                Some("confirmed")
            }
            Some("D" | "P" | "S" | "U") => Some("unconfirmed"),
            Some("E") => {
                entered_in_error = true;
                Some("entered-in-error")
            }
            _ => None,
        };
        if let Some(v) = verification {
            d.set(
                "verificationStatus",
                Some(json!({ "coding": [{ "system": codes::ALLERGY_VERIFICATION, "code": v }] })),
            );
        }
    } else {
        recorded = v2::dtm(seg, 6)?;
    }
    if let Some(r) = &recorded {
        d.set("recordedDate", Some(json!(r.to_string())));
    }
    if !entered_in_error {
        d.set(
            "clinicalStatus",
            Some(json!({ "coding": [{ "system": codes::ALLERGY_CLINICAL, "code": clinical }] })),
        );
    }
    d.effective_on = onset.or(recorded).map(|t| t.date());

    let id_key = if is_iam { v2::text(seg, 7, 1) } else { None };
    let first = code_triplets.first();
    d.source_key = match id_key {
        Some(id) => format!("{name}|{id}"),
        None => format!(
            "{name}|{}|{}",
            first
                .and_then(|t| t.system_name.clone())
                .unwrap_or_default(),
            first
                .and_then(|t| t.code.clone().or_else(|| t.display.clone()))
                .unwrap_or_default()
        ),
    };
    cx.consume(seg);
    cx.drafts.push(d);
    Ok(())
}

/// JAMI "Table v2-0127 to AllergyIntoleranceCategory".
fn category(code: &str) -> Option<&'static str> {
    match code {
        "DA" => Some("medication"),
        "FA" => Some("food"),
        "EA" | "PA" | "LA" => Some("environment"),
        "AA" => Some("biologic"),
        _ => None,
    }
}

/// JAMI "Table v2-0128 to ReactionEventSeverity".
fn severity(code: &str) -> Option<&'static str> {
    match code {
        "MI" => Some("mild"),
        "MO" => Some("moderate"),
        "SV" => Some("severe"),
        _ => None,
    }
}
