//! Diet orders: OMD (食事オーダ, OMD^O03) → one NutritionOrder per ORC group, category 診療記録
//! (the council's matrix has no category for meals; they are part of the clinical course).
//!
//! JAMI has no table for OMD yet and JP Core no NutritionOrder profile; the mapping follows the
//! HL7 v2.5 ODS/ODT definitions onto FHIR R4 NutritionOrder (`meta.profile` is the base
//! profile):
//! - status from ORC-1/ORC-5, intent `order`, dateTime ORC-9 (else the file's 発生日時), orderer
//!   ORC-12;
//! - ODS-1 `D` (diet) → oralDiet.type (ODS-3, local diet codes kept) and instruction (ODS-4);
//!   `S` (supplement) → supplement; `P` (preference) → foodPreferenceModifier;
//! - TQ1-3 (HL7 table 0335: TID, …) → oralDiet.schedule.code, TQ1-7/8 → its boundsPeriod;
//! - ODT (trays) and other segments are kept as unmapped-segment extensions.

use renkei_domain::AccessCategory;
use serde_json::{Map, Value, json};

use super::codes::CodeContext;
use super::error::MapError;
use super::{Cx, Draft, lab, v2};
use crate::message::Segment;

const BASE_PROFILE: &str = "http://hl7.org/fhir/StructureDefinition/NutritionOrder";

/// Map an OMD message (no JAMI table yet; HL7 v2.5 ORC/TQ1/ODS onto NutritionOrder as the
/// module docs say).
///
/// # Errors
/// [`MapError::BadValue`] for an unreadable timestamp.
pub(crate) fn map(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let mut groups: Vec<(Segment<'_>, Vec<Segment<'_>>)> = Vec::new();
    for seg in cx.segments() {
        match seg.name().as_str() {
            "ORC" => groups.push((seg, Vec::new())),
            "PV1" | "PV2" => cx.consume(&seg),
            _ => {
                if let Some((_, members)) = groups.last_mut() {
                    members.push(seg);
                }
            }
        }
    }
    for (orc, members) in groups {
        order(cx, &orc, &members)?;
    }
    Ok(())
}

fn order(cx: &mut Cx<'_, '_>, orc: &Segment<'_>, members: &[Segment<'_>]) -> Result<(), MapError> {
    let mut d = Draft::new(
        cx,
        orc,
        "NutritionOrder",
        BASE_PROFILE,
        AccessCategory::ClinicalNotes,
        Some("patient"),
    );
    d.set("status", Some(json!(lab::order_status(Some(orc)))));
    d.set("intent", Some(json!("order")));
    let ordered = v2::dtm(orc, 9)?;
    let date_time = ordered.unwrap_or_else(|| cx.name.timestamp());
    d.set("dateTime", Some(json!(date_time.to_string())));
    d.set("orderer", v2::field_person(orc, 12));
    if let Some(id) = v2::text(orc, 2, 1) {
        d.set("identifier", Some(json!([{ "value": id }])));
    }

    let mut diet_types = Vec::new();
    let mut instructions = Vec::new();
    let mut supplements = Vec::new();
    let mut preferences = Vec::new();
    let mut first_code = None;
    for ods in members.iter().filter(|s| s.name().as_str() == "ODS") {
        cx.consume(ods);
        let kinds = v2::field_concepts(ods, 3, CodeContext::General);
        if first_code.is_none() {
            first_code = v2::text(ods, 3, 1);
        }
        let text: Vec<String> = v2::repetitions_text(ods, 4);
        match v2::text(ods, 1, 1).as_deref() {
            Some("S") => {
                let mut s = Map::new();
                if let Some(k) = kinds.into_iter().next() {
                    s.insert("type".into(), k);
                }
                if !text.is_empty() {
                    s.insert("instruction".into(), json!(text.join("\n")));
                }
                if !s.is_empty() {
                    supplements.push(Value::Object(s));
                }
            }
            Some("P") => {
                preferences.extend(kinds);
                preferences.extend(text.into_iter().map(|t| json!({ "text": t })));
            }
            _ => {
                diet_types.extend(kinds);
                instructions.extend(text);
            }
        }
    }
    // Index: the first diet code, shown with its name, else the instruction (local diet codes
    // often come without a name).
    let first_coding = diet_types
        .first()
        .and_then(|t| t.get("coding"))
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .cloned();
    let field = |k: &str| {
        first_coding
            .as_ref()
            .and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let display = diet_types
        .first()
        .and_then(|t| t.get("text"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| (!instructions.is_empty()).then(|| instructions.join(" ")))
        .unwrap_or_else(|| "食事オーダ".to_owned());
    d.index = Some((field("system"), field("code"), Some(display)));
    let mut diet = Map::new();
    if !diet_types.is_empty() {
        diet.insert("type".into(), Value::Array(diet_types));
    }
    let mut start = None;
    if let Some(tq1) = members.iter().find(|s| s.name().as_str() == "TQ1") {
        cx.consume(tq1);
        let mut schedule = Map::new();
        if let Some(code) = v2::field(tq1, 3)
            .and_then(|f| f.component(1))
            .and_then(|c| v2::sub_triplet(&c).concept(CodeContext::General))
        {
            schedule.insert("code".into(), code);
        }
        start = v2::dtm(tq1, 7)?;
        let end = v2::dtm(tq1, 8)?;
        let mut bounds = Map::new();
        if let Some(s) = &start {
            bounds.insert("start".into(), json!(s.to_string()));
        }
        if let Some(e) = &end {
            bounds.insert("end".into(), json!(e.to_string()));
        }
        if !bounds.is_empty() {
            schedule.insert("repeat".into(), json!({ "boundsPeriod": bounds }));
        }
        if !schedule.is_empty() {
            diet.insert("schedule".into(), Value::Array(vec![Value::from(schedule)]));
        }
    }
    if !instructions.is_empty() {
        diet.insert("instruction".into(), json!(instructions.join("\n")));
    }
    if !diet.is_empty() {
        d.set("oralDiet", Some(Value::Object(diet)));
    }
    d.set_list("supplement", supplements);
    d.set_list("foodPreferenceModifier", preferences);
    d.effective_on = Some(start.unwrap_or(date_time).date());
    d.source_key = format!(
        "ORC|{}|{}",
        v2::text(orc, 2, 1).unwrap_or_default(),
        first_code.unwrap_or_default()
    );
    cx.consume(orc);
    cx.drafts.push(d);
    Ok(())
}
