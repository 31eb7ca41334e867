//! PPR-01 (病名（歴）情報, PPR^ZD1): the facility's whole problem list as one snapshot → one
//! Condition (JP_Condition) per PRB, category 病名.
//!
//! Follows JAMI "Segment PPR_01_PRB to Condition" and JP Core's Condition notes:
//! - code: PRB-3 (MEDIS `MDCDX2`: an 8-digit 病名管理番号 or a 病名交換用コード), ZPR-2 (病名管理番号)
//!   and ZPR-5 (病名交換用コード), PRB-10's ICD-10 triplet; text: PRB-17, else the name with its
//!   modifiers;
//! - modifiers: ZPR-1/ZPR-4 (接頭語) and ZPR-3/ZPR-6 (接尾語), one repetition per modifier →
//!   `JP_Condition_DiseasePrefixModifier` / `…PostfixModifier` on `code`;
//! - verificationStatus: PRB-1 `DE` → entered-in-error (JAMI); a suspected diagnosis (疑い) →
//!   unconfirmed, otherwise confirmed. JAHIS writes 疑い as the postfix modifier 「の疑い」 (its
//!   display, or modifier code 8002, the レセプト電算 code for it); some senders put it in PRB-13
//!   (S, P, U) or only in the name. Any of these counts (a heuristic: no sample shows PRB-13
//!   filled), and `code.text` then ends in 「の疑い」 as JP Core asks;
//! - clinicalStatus and abatement: PRB-14 is the 転帰 (HL7 table 0241 or JHSD 0006), kept in
//!   `JP_Condition_DiseaseOutcome`. A problem has ended when PRB-9 (実際の解決日) is present or the
//!   outcome says so (F 全治, S 後遺症, D 死亡, M 寛解, I 中止); then clinicalStatus is resolved (F,
//!   S), remission (M) or inactive (others) and abatementDateTime is PRB-9, else PRB-15. Otherwise
//!   it is active;
//! - onsetDateTime: PRB-16; recordedDate: PRB-7; identifier: PRB-4; recorder: ORC-12;
//! - category: encounter-diagnosis, plus PRB-10's second triplet (入外区分, JHSD 0004) and PRB-18
//!   (主病名, JHSD 0007) as sent;
//! - PRB-25 (HL7 table 0177) V or R, or a sensitivity such as PSY/HIV/ETH, labels `meta.security`
//!   and marks the record sensitive: the facility said so.
//!
//! Source keys must survive successive snapshots: `PRB|{PRB-4}` (the problem instance ID),
//! else `PRB|{code}|{onset}`.

use renkei_domain::AccessCategory;
use serde_json::{Map, Value, json};

use super::codes::{self, CodeContext, extension, profile};
use super::error::MapError;
use super::v2::{self, Coded};
use super::{Cx, Draft};
use crate::message::Segment;

/// Map a PPR-01 message: JAMI "Message PPR_01 to Bundle" (PRB → JP_Condition, ZPR related)
/// and "Segment PPR_01_PRB to Condition" rows PRB-1, 3, 4, 7, 9, 10, 13, 14, 15, 16, 17 and
/// ORC-12; the ZPR rows JAMI leaves unmapped are mapped to JP Core's code and modifiers.
///
/// # Errors
/// [`MapError::MissingField`] for a PRB without PRB-3; [`MapError::BadValue`] for an unreadable
/// date.
pub(crate) fn map(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let segments = cx.segments();
    let mut recorder = None;
    for seg in &segments {
        match seg.name().as_str() {
            "ORC" => {
                if recorder.is_none() {
                    recorder = v2::field_person(seg, 12);
                }
                cx.consume(seg);
            }
            "PV1" => cx.consume(seg),
            _ => {}
        }
    }
    let mut i = 0;
    while let Some(seg) = segments.get(i) {
        i += 1;
        if seg.name().as_str() != "PRB" {
            continue;
        }
        let zpr = segments
            .get(i)
            .filter(|s| s.name().as_str() == "ZPR")
            .copied();
        if zpr.is_some() {
            i += 1;
        }
        condition(cx, seg, zpr.as_ref(), recorder.clone())?;
    }
    Ok(())
}

fn condition(
    cx: &mut Cx<'_, '_>,
    prb: &Segment<'_>,
    zpr: Option<&Segment<'_>>,
    recorder: Option<Value>,
) -> Result<(), MapError> {
    let prb3 = v2::field_triplets(prb, 3);
    if prb3.iter().all(Coded::is_empty) {
        return Err(MapError::missing(format!(
            "PRB-3 (segment {})",
            prb.number()
        )));
    }
    let mut d = Draft::new(
        cx,
        prb,
        "Condition",
        profile::JP_Condition,
        AccessCategory::Diagnoses,
        Some("subject"),
    );

    // Codings: 病名管理番号, 病名交換用コード, ICD-10, then whatever else PRB-3 carries.
    let mut codings: Vec<Value> = Vec::new();
    let mut push = |coding: Option<Value>| {
        if let Some(c) = coding
            && !codings
                .iter()
                .any(|e| e.get("system") == c.get("system") && e.get("code") == c.get("code"))
        {
            codings.push(c);
        }
    };
    let zpr_triplet = |n: usize| zpr.map(|z| v2::field_triplets(z, n)).unwrap_or_default();
    for t in zpr_triplet(2) {
        push(t.coding(CodeContext::DiseaseKeyNumber));
    }
    for t in &prb3 {
        push(t.coding(CodeContext::Disease));
    }
    for t in zpr_triplet(5) {
        push(t.coding(CodeContext::DiseaseExchange));
    }
    let prb10 = v2::field_triplets(prb, 10);
    if let Some(icd) = prb10.first().filter(|t| {
        t.system_name
            .as_deref()
            .is_some_and(|s| matches!(s.to_ascii_uppercase().as_str(), "I10" | "ICD10" | "I10P"))
    }) {
        push(icd.coding(CodeContext::General));
    }
    codings.sort_by_key(|c| match c.get("system").and_then(Value::as_str) {
        Some(codes::DISEASE_KEY_NUMBER) => 0,
        Some(codes::DISEASE_EXCHANGE) => 1,
        Some(codes::ICD10) => 2,
        _ => 3,
    });

    // Modifiers.
    let prefixes = modifiers(zpr, 1, 4);
    let postfixes = modifiers(zpr, 3, 6);
    let modifier_texts = |m: &[(Value, Option<String>, bool)]| -> String {
        m.iter().filter_map(|(_, t, _)| t.clone()).collect()
    };
    let base_name = prb3
        .iter()
        .find_map(|t| t.display.clone())
        .or_else(|| zpr.and_then(|z| v2::text(z, 2, 2)))
        .unwrap_or_default();
    let composed = format!(
        "{}{base_name}{}",
        modifier_texts(&prefixes),
        modifier_texts(&postfixes)
    );
    let mut text = v2::whole(prb, 17).unwrap_or(composed);

    let action = v2::text(prb, 1, 1);
    let confirmation = v2::text(prb, 13, 1);
    let suspected_by_code = matches!(
        confirmation.as_deref(),
        Some("S" | "P" | "U" | "unconfirmed" | "provisional" | "differential")
    ) || postfixes.iter().any(|(_, _, suspect)| *suspect);
    let suspected = suspected_by_code || text.ends_with("疑い") || base_name.ends_with("疑い");
    if suspected_by_code && !text.ends_with("疑い") {
        text.push_str("の疑い");
    }

    let mut code = Map::new();
    let mut code_ext: Vec<Value> = prefixes
        .into_iter()
        .map(|(cc, _, _)| json!({ "url": extension::JP_Condition_DiseasePrefixModifier, "valueCodeableConcept": cc }))
        .collect();
    code_ext.extend(postfixes.into_iter().map(|(cc, _, _)| {
        json!({ "url": extension::JP_Condition_DiseasePostfixModifier, "valueCodeableConcept": cc })
    }));
    if !code_ext.is_empty() {
        code.insert("extension".into(), Value::Array(code_ext));
    }
    if !codings.is_empty() {
        code.insert("coding".into(), Value::Array(codings.clone()));
    }
    if !text.is_empty() {
        code.insert("text".into(), json!(text));
    }
    d.set("code", Some(Value::Object(code)));

    // Categories.
    let mut categories = vec![json!({
        "coding": [{ "system": codes::CONDITION_CATEGORY, "code": "encounter-diagnosis" }]
    })];
    if let Some(inout) = prb10.get(1).and_then(|t| t.concept(CodeContext::General)) {
        categories.push(inout);
    }
    if let Some(rank) = v2::field_concept(prb, 18, CodeContext::General) {
        categories.push(rank);
    }
    d.set_list("category", categories);

    // Outcome, clinical and verification status.
    let outcome = v2::field_triplets(prb, 14);
    if let Some(cc) = v2::concept(&outcome, CodeContext::General, None) {
        d.push(
            "extension",
            json!({ "url": extension::JP_Condition_DiseaseOutcome, "valueCodeableConcept": cc }),
        );
    }
    let outcome_code = outcome.first().and_then(|t| {
        let system = t
            .system_name
            .as_deref()
            .unwrap_or_default()
            .to_ascii_uppercase();
        Some((system, t.code.clone()?))
    });
    let ended_by_outcome =
        outcome_code
            .as_ref()
            .and_then(|(system, code)| match (system.as_str(), code.as_str()) {
                ("HL70241", "F" | "S") => Some("resolved"),
                ("JHSD0006", "M") => Some("remission"),
                ("HL70241", "D") | ("JHSD0006", "I") => Some("inactive"),
                _ => None,
            });
    let resolved_on = v2::dtm(prb, 9)?;
    let life_cycle_on = v2::dtm(prb, 15)?;
    let ended = ended_by_outcome.or(resolved_on.map(|_| "inactive"));
    let entered_in_error = action.as_deref() == Some("DE");
    let verification = if entered_in_error {
        "entered-in-error"
    } else if suspected {
        "unconfirmed"
    } else {
        "confirmed"
    };
    d.set(
        "verificationStatus",
        Some(json!({ "coding": [{ "system": codes::CONDITION_VERIFICATION, "code": verification }] })),
    );
    if !entered_in_error {
        d.set(
            "clinicalStatus",
            Some(json!({ "coding": [{ "system": codes::CONDITION_CLINICAL, "code": ended.unwrap_or("active") }] })),
        );
        if ended.is_some()
            && let Some(at) = resolved_on.or(life_cycle_on)
        {
            d.set("abatementDateTime", Some(json!(at.to_string())));
        }
    }

    let onset = v2::dtm(prb, 16)?;
    let recorded = v2::dtm(prb, 7)?;
    if let Some(o) = &onset {
        d.set("onsetDateTime", Some(json!(o.to_string())));
    }
    if let Some(r) = &recorded {
        d.set("recordedDate", Some(json!(r.to_string())));
    }
    let instance = v2::text(prb, 4, 1);
    if let Some(id) = &instance {
        d.set("identifier", Some(json!([{ "value": id }])));
    }
    d.set("recorder", recorder);

    // Confidentiality.
    if let Some(security) = v2::text(prb, 25, 1) {
        let label = match security.as_str() {
            "V" | "R" => Some(json!({ "system": codes::CONFIDENTIALITY, "code": security })),
            "PSY" | "HIV" | "ETH" => Some(json!({ "system": codes::ACT_CODE, "code": security })),
            "AID" => Some(json!({ "system": codes::ACT_CODE, "code": "HIV" })),
            _ => None,
        };
        if let Some(l) = label {
            if let Some(Value::Object(meta)) = d.resource.get_mut("meta") {
                meta.insert("security".into(), Value::Array(vec![l]));
            }
            d.sensitive = true;
        }
    }

    d.effective_on = onset.or(recorded).map(|t| t.date());
    let best = codings
        .first()
        .and_then(|c| c.get("code"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or(base_name);
    d.source_key = match instance {
        Some(id) => format!("PRB|{id}"),
        None => format!(
            "PRB|{best}|{}",
            onset.map(|o| o.to_string()).unwrap_or_default()
        ),
    };
    cx.consume(prb);
    if let Some(z) = zpr {
        cx.consume(z);
    }
    cx.drafts.push(d);
    Ok(())
}

/// The modifiers in ZPR fields `key` (修飾語管理番号) and `exchange` (修飾語交換用コード), paired
/// by repetition: (CodeableConcept, display text, whether it is 「の疑い」).
fn modifiers(
    zpr: Option<&Segment<'_>>,
    key: usize,
    exchange: usize,
) -> Vec<(Value, Option<String>, bool)> {
    let Some(z) = zpr else {
        return Vec::new();
    };
    let reps = |n: usize| -> Vec<Option<Coded>> {
        v2::field(z, n)
            .map(|f| {
                f.repetitions()
                    .map(|r| v2::triplets(&r).into_iter().next())
                    .collect()
            })
            .unwrap_or_default()
    };
    let keys = reps(key);
    let exchanges = reps(exchange);
    (0..keys.len().max(exchanges.len()))
        .filter_map(|i| {
            let k = keys.get(i).cloned().flatten();
            let e = exchanges.get(i).cloned().flatten();
            let codings: Vec<Value> = [
                k.as_ref()
                    .and_then(|t| t.coding(CodeContext::ModifierKeyNumber)),
                e.as_ref()
                    .and_then(|t| t.coding(CodeContext::ModifierExchange)),
            ]
            .into_iter()
            .flatten()
            .collect();
            let text = k
                .as_ref()
                .and_then(|t| t.display.clone())
                .or_else(|| e.as_ref().and_then(|t| t.display.clone()));
            if codings.is_empty() && text.is_none() {
                return None;
            }
            let suspect = k.as_ref().and_then(|t| t.code.as_deref()) == Some("8002")
                || text.as_deref().is_some_and(|t| t.contains("疑い"));
            let mut cc = Map::new();
            if !codings.is_empty() {
                cc.insert("coding".into(), Value::Array(codings));
            }
            if let Some(t) = &text {
                cc.insert("text".into(), json!(t));
            }
            Some((Value::Object(cc), text, suspect))
        })
        .collect()
}
