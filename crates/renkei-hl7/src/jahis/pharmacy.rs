//! Prescriptions and injections: OMP-01/02 (処方・注射オーダ, RDE^O11) → MedicationRequest, and
//! OMP-11/12 (処方・注射実施, RAS^O17) → MedicationAdministration; category 処方・調剤.
//!
//! An order group starts at ORC and holds the RXE (or RXA) and the TQ1, RXR and RXC after it.
//! AL1 segments become AllergyIntolerance records as in ADT-00 (JAMI lists them for OMP).
//!
//! MedicationRequest (JP_MedicationRequest for OMP-01, JP_MedicationRequest_Injection for
//! OMP-02), after JAMI "Segment OMP_01_RXE to MedicationRequest":
//! - identifier: ORC-2 (requestIdentifier), the Rp number and the order within the Rp from ORC-4
//!   (`Rp` alone, or JAHIS's `オーダ番号_Rp_連番`), RXE-15 (処方箋番号);
//! - medication: RXE-2 (HOT9/YJ/local, with its alternate triplet and RXE-31); an injection
//!   with RXC segments gets a contained Medication whose ingredients are the RXCs (RXC-2 drug,
//!   RXC-3/RXC-4 amount), and RXE-2 (注射種別) becomes a category;
//! - dosageInstruction: TQ1-3 usage (JAMI 用法 `JAMISDP01`) as timing.code and text, TQ1-6 days
//!   (`JP_MedicationDosage_UsageDuration`), TQ1-7/8 period (`JP_MedicationDosage_PeriodOfUse`;
//!   for injections timing.repeat.boundsPeriod), RXE-3/4 dose with RXE-5 unit (MERIT-9), RXE-19
//!   daily dose as rateRatio, RXE-23/24 rate, RXE-7 instructions, RXR-1 route, RXR-2 site,
//!   RXR-3 device, RXR-4 method;
//! - dispenseRequest: RXE-10/11 quantity, TQ1-6 expectedSupplyDuration;
//! - category: RXE-21 (MERIT-9 外来処方/院内処方, local), ORC-29 (入院/外来);
//! - authoredOn: RXE-32, else ORC-9; requester: ORC-12; recorder: ORC-10; status: ORC-5, else
//!   ORC-1.
//!
//! MedicationAdministration (JP_MedicationAdministration / …_Injection), after JAMI "Segment
//! OMP_12_RXA to MedicationAdministration": RXA-3/4 effectivePeriod, RXA-5 medication, RXA-6/7
//! dose, RXA-9 note, RXA-10 performer, RXA-11 location, RXA-12 rate, RXA-20 status (RXA-21 `D`
//! → entered-in-error), the group's RXR for route, site, device and method, and ORC-9/12/17 as
//! JP Core's request extensions. JAMI marks the order segments of RAS^O17 (RXE, TQ1, RXC)
//! "disjoint": they are kept as unmapped-segment extensions. A vaccination (RXE-2 `06`) would
//! also make an Immunization in JAMI's draft; here it is noted only.

use renkei_domain::AccessCategory;
use serde_json::{Map, Value, json};

use super::codes::{self, CodeContext, extension, profile};
use super::error::MapError;
use super::v2::{self, Coded};
use super::{Cx, Draft, allergy};
use crate::message::Segment;
use crate::ssmix2::DataKind;

/// One ORC and the segments after it, up to the next ORC.
struct Group<'a> {
    orc: Segment<'a>,
    members: Vec<Segment<'a>>,
}

/// Split the message into ORC groups; AL1 anywhere becomes an allergy, PV1 is context.
fn groups<'a>(cx: &mut Cx<'_, 'a>) -> Result<Vec<Group<'a>>, MapError> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for seg in cx.segments() {
        match seg.name().as_str() {
            "ORC" => {
                cx.consume(&seg);
                groups.push(Group {
                    orc: seg,
                    members: Vec::new(),
                });
            }
            "AL1" => allergy::allergy(cx, &seg)?,
            "PV1" | "PV2" => cx.consume(&seg),
            _ => {
                if let Some(g) = groups.last_mut() {
                    g.members.push(seg);
                }
            }
        }
    }
    Ok(groups)
}

/// (Rp number, order within the Rp) from ORC-4: JAHIS `order_Rp_seq`, or the Rp alone.
fn rp_of(orc: &Segment<'_>) -> (Option<String>, Option<String>) {
    let Some(raw) = v2::text(orc, 4, 1) else {
        return (None, None);
    };
    let parts: Vec<&str> = raw.split('_').collect();
    let unpad = |s: &str| {
        let t = s.trim_start_matches('0');
        if t.is_empty() {
            "0".to_owned()
        } else {
            t.to_owned()
        }
    };
    match parts.as_slice() {
        [_, rp, seq] => (Some(unpad(rp)), Some(unpad(seq))),
        [rp] => (Some(unpad(rp)), None),
        _ => (Some(raw.clone()), None),
    }
}

/// ORC-5, else ORC-1 → MedicationRequest.status.
fn request_status(orc: &Segment<'_>) -> &'static str {
    match v2::text(orc, 5, 1).as_deref() {
        Some("CM") => return "completed",
        Some("CA") => return "cancelled",
        Some("DC") => return "stopped",
        Some("HD") => return "on-hold",
        _ => {}
    }
    match v2::text(orc, 1, 1).as_deref() {
        Some("CA" | "OC" | "CR") => "cancelled",
        Some("DC" | "OD" | "DR") => "stopped",
        Some("HD" | "OH") => "on-hold",
        _ => "active",
    }
}

/// OMP-01 / OMP-02 → MedicationRequest per RXE: JAMI "Message OMP_01 to Bundle" and "Segment
/// OMP_01_RXE to MedicationRequest" rows ORC-2, 4, 10, 12; RXE-2, 3, 4, 5, 7, 10, 11, 15, 19,
/// 21, 31, 32; TQ1-3, 7, 8; RXR-1, 2, 4 (plus TQ1-6, RXE-23/24 and RXC, which JAMI's table has no
/// rows for).
///
/// # Errors
/// [`MapError::MissingField`] for an RXE without RXE-2; [`MapError::BadValue`] for an
/// unreadable timestamp.
pub(crate) fn map_orders(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let injection = *cx.kind() == DataKind::Omp02;
    let mut seen_in_rp: std::collections::BTreeMap<String, usize> = Default::default();
    for g in groups(cx)? {
        // Each RXE with the TQ1/RXR/RXC after it. The first one's resource also carries the
        // unmapped segments between the ORC and it.
        let mut first_in_group = true;
        let mut i = 0;
        while let Some(rxe) = g.members.get(i) {
            i += 1;
            if rxe.name().as_str() != "RXE" {
                continue;
            }
            let mut tail = Vec::new();
            while let Some(s) = g.members.get(i) {
                if s.name().as_str() == "RXE" {
                    break;
                }
                tail.push(*s);
                i += 1;
            }
            let (rp, seq) = rp_of(&g.orc);
            let rp_key = v2::text(&g.orc, 4, 1).unwrap_or_default();
            let order = seq.unwrap_or_else(|| {
                let n = seen_in_rp
                    .entry(rp.clone().unwrap_or_default())
                    .or_insert(0);
                *n += 1;
                n.to_string()
            });
            let anchor = if first_in_group {
                g.orc.number()
            } else {
                rxe.number()
            };
            first_in_group = false;
            request(
                cx, &g.orc, rxe, &tail, injection, rp, &order, &rp_key, anchor,
            )?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn request(
    cx: &mut Cx<'_, '_>,
    orc: &Segment<'_>,
    rxe: &Segment<'_>,
    tail: &[Segment<'_>],
    injection: bool,
    rp: Option<String>,
    order: &str,
    rp_key: &str,
    anchor: usize,
) -> Result<(), MapError> {
    let drug = v2::field_triplets(rxe, 2);
    let first = drug.first().cloned().unwrap_or_default();
    if first.is_empty() {
        return Err(MapError::missing(format!(
            "RXE-2 (segment {})",
            rxe.number()
        )));
    }
    let tq1 = tail.iter().find(|s| s.name().as_str() == "TQ1");
    let rxr = tail.iter().find(|s| s.name().as_str() == "RXR");
    let rxcs: Vec<&Segment<'_>> = tail.iter().filter(|s| s.name().as_str() == "RXC").collect();
    let mut d = Draft::new(
        cx,
        orc,
        "MedicationRequest",
        if injection {
            profile::JP_MedicationRequest_Injection
        } else {
            profile::JP_MedicationRequest
        },
        AccessCategory::Medications,
        Some("subject"),
    );
    d.anchor = anchor;

    // Identifiers.
    let order_no = v2::text(orc, 2, 1);
    let mut ids = Vec::new();
    if let Some(o) = &order_no {
        ids.push(json!({
            "system": codes::RESOURCE_INSTANCE,
            "value": format!("{o}.{}.{order}", rp.clone().unwrap_or_default())
        }));
    }
    if let Some(r) = &rp {
        ids.push(json!({ "system": codes::RP_NUMBER, "value": r }));
        ids.push(json!({ "system": codes::ORDER_IN_RP, "value": order }));
    }
    if let Some(p) = v2::text(rxe, 15, 1) {
        ids.push(json!({ "type": { "text": "処方箋番号" }, "value": p }));
    }
    d.set_list("identifier", ids);
    d.set("status", Some(json!(request_status(orc))));
    d.set("intent", Some(json!("order")));

    // Categories.
    let mut categories = v2::field_concepts(rxe, 21, CodeContext::DispenseCategory);
    if let Some(c) = v2::field_concept(orc, 29, CodeContext::General) {
        categories.push(c);
    }

    // Medication.
    let mut medication = v2::field(rxe, 2)
        .and_then(|f| f.repetition(1))
        .map(|r| v2::triplets(&r))
        .unwrap_or_default();
    medication.extend(v2::field_triplets(rxe, 31));
    if injection && !rxcs.is_empty() {
        if let Some(kind) = v2::field_concept(rxe, 2, CodeContext::General) {
            categories.push(kind);
        }
        d.set("contained", Some(json!([ingredients(rxe, &rxcs)])));
        d.set("medicationReference", Some(json!({ "reference": "#med" })));
    } else {
        d.set(
            "medicationCodeableConcept",
            v2::concept(&medication, CodeContext::General, None),
        );
    }
    d.set_list("category", categories);

    let authored = match v2::dtm(rxe, 32)? {
        Some(a) => Some(a),
        None => v2::dtm(orc, 9)?,
    };
    if let Some(a) = &authored {
        d.set("authoredOn", Some(json!(a.to_string())));
    }
    d.set("requester", v2::field_person(orc, 12));
    d.set("recorder", v2::field_person(orc, 10));

    // Dosage.
    let mut dosage = Map::new();
    let mut dosage_ext = Vec::new();
    let mut texts = Vec::new();
    let mut start = None;
    let mut duration = None;
    if let Some(t) = tq1 {
        cx.consume(t);
        if let Some(pattern) = v2::field(t, 3).and_then(|f| f.component(1)) {
            let usage = v2::sub_triplet(&pattern);
            if let Some(text) = &usage.display {
                texts.push(text.clone());
            }
            if let Some(cc) = usage.concept(CodeContext::General) {
                dosage.insert("timing".into(), json!({ "code": cc }));
            }
        }
        start = v2::dtm(t, 7)?;
        let end = v2::dtm(t, 8)?;
        if start.is_some() || end.is_some() {
            let mut p = Map::new();
            if let Some(s) = &start {
                p.insert("start".into(), json!(s.to_string()));
            }
            if let Some(e) = &end {
                p.insert("end".into(), json!(e.to_string()));
            }
            if injection {
                if let Some(timing) = dosage
                    .entry("timing")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                {
                    timing.insert(
                        "repeat".into(),
                        Value::Object(Map::from_iter([("boundsPeriod".into(), Value::Object(p))])),
                    );
                }
            } else {
                dosage_ext.push(json!({
                    "url": extension::JP_MedicationDosage_PeriodOfUse,
                    "valuePeriod": p
                }));
            }
        }
        duration = v2::field(t, 6).and_then(|f| {
            let value = f.component(1).and_then(|c| v2::comp_text(&c))?;
            let unit = f.component(2).map(|c| v2::sub_triplet(&c));
            time_quantity(&value, unit.as_ref())
        });
        if let Some(dur) = &duration
            && !injection
        {
            dosage_ext.push(json!({
                "url": extension::JP_MedicationDosage_UsageDuration,
                "valueDuration": dur
            }));
        }
    }
    if let Some(instruction) = v2::field_concept(rxe, 7, CodeContext::General) {
        if let Some(t) = instruction.get("text").and_then(Value::as_str) {
            texts.push(t.to_owned());
        }
        dosage.insert(
            "additionalInstruction".into(),
            Value::Array(vec![instruction]),
        );
    }
    if let Some(r) = rxr {
        cx.consume(r);
        route_site_method(&mut dosage, r);
        if let Some(device) = v2::field_concept(r, 3, CodeContext::General)
            .and_then(|c| c.get("text").and_then(Value::as_str).map(str::to_owned))
        {
            dosage_ext.push(json!({
                "url": extension::JP_MedicationDosage_Device,
                "valueReference": { "display": device }
            }));
        }
    }
    let mut dose_and_rate = Map::new();
    dose_and_rate.insert(
        "type".into(),
        json!({ "coding": [{ "system": codes::STRENGTH_TYPE, "code": "1", "display": "製剤量" }] }),
    );
    let unit = v2::field_triplets(rxe, 5).into_iter().next();
    let min = v2::text(rxe, 3, 1).and_then(|t| v2::quantity(&t, unit.as_ref(), CodeContext::Unit));
    let max = v2::text(rxe, 4, 1).and_then(|t| v2::quantity(&t, unit.as_ref(), CodeContext::Unit));
    match (min, max) {
        (Some(low), Some(high)) if low != high => {
            dose_and_rate.insert("doseRange".into(), json!({ "low": low, "high": high }));
        }
        (Some(q), _) | (None, Some(q)) => {
            dose_and_rate.insert("doseQuantity".into(), q);
        }
        (None, None) => {}
    }
    let daily = v2::field(rxe, 19).and_then(|f| {
        let value = f.component(1).and_then(|c| v2::comp_text(&c))?;
        let unit = f.component(2).map(|c| v2::sub_triplet(&c));
        v2::quantity(&value, unit.as_ref(), CodeContext::Unit)
    });
    if let Some(numerator) = daily {
        dose_and_rate.insert(
            "rateRatio".into(),
            json!({
                "numerator": numerator,
                "denominator": { "value": 1, "unit": "日", "system": codes::UCUM, "code": "d" }
            }),
        );
    } else if let Some(rate) = v2::text(rxe, 23, 1) {
        let unit = v2::field_triplets(rxe, 24).into_iter().next();
        if let Some(q) = v2::quantity(&rate, unit.as_ref(), CodeContext::Unit) {
            dose_and_rate.insert("rateQuantity".into(), q);
        }
    }
    if dose_and_rate.len() > 1 {
        dosage.insert(
            "doseAndRate".into(),
            Value::Array(vec![Value::from(dose_and_rate)]),
        );
    }
    if !texts.is_empty() {
        dosage.insert("text".into(), json!(texts.join(" ")));
    }
    if !dosage_ext.is_empty() {
        dosage.insert("extension".into(), Value::Array(dosage_ext));
    }
    if !dosage.is_empty() {
        d.set(
            "dosageInstruction",
            Some(Value::Array(vec![Value::from(dosage)])),
        );
    }

    // Dispense request.
    let mut dispense = Map::new();
    let dispense_unit = v2::field_triplets(rxe, 11).into_iter().next();
    if let Some(q) = v2::text(rxe, 10, 1)
        .and_then(|t| v2::quantity(&t, dispense_unit.as_ref(), CodeContext::Unit))
    {
        dispense.insert("quantity".into(), q);
    }
    if let Some(dur) = duration
        && !injection
    {
        dispense.insert("expectedSupplyDuration".into(), dur);
    }
    if !dispense.is_empty() {
        d.set("dispenseRequest", Some(Value::Object(dispense)));
    }
    for rxc in &rxcs {
        cx.consume(rxc);
    }

    d.effective_on = authored.or(start).map(|t| t.date());
    d.source_key = format!(
        "RXE|{rp_key}|{order}|{}",
        first.code.or(first.display).unwrap_or_default()
    );
    cx.consume(rxe);
    cx.drafts.push(d);
    Ok(())
}

/// The contained Medication of an injection: RXE-6 form, one ingredient per RXC.
fn ingredients(rxe: &Segment<'_>, rxcs: &[&Segment<'_>]) -> Value {
    let mut med = Map::new();
    med.insert("resourceType".into(), json!("Medication"));
    med.insert("id".into(), json!("med"));
    med.insert(
        "meta".into(),
        json!({ "profile": [profile::JP_Medication] }),
    );
    let mut names = Vec::new();
    let mut items = Vec::new();
    let mut first_concept = None;
    for (n, rxc) in rxcs.iter().enumerate() {
        let Some(item) = v2::field_concept(rxc, 2, CodeContext::General) else {
            continue;
        };
        if let Some(t) = item.get("text").and_then(Value::as_str) {
            names.push(t.to_owned());
        }
        if first_concept.is_none() {
            first_concept = Some(item.clone());
        }
        let mut ingredient = Map::new();
        ingredient.insert(
            "extension".into(),
            json!([{ "url": extension::JP_Medication_Ingredient_DrugNo, "valueInteger": n + 1 }]),
        );
        ingredient.insert("itemCodeableConcept".into(), item);
        let unit = v2::field_triplets(rxc, 4).into_iter().next();
        if let Some(q) =
            v2::text(rxc, 3, 1).and_then(|t| v2::quantity(&t, unit.as_ref(), CodeContext::Unit))
        {
            ingredient.insert(
                "strength".into(),
                json!({
                    "numerator": q,
                    "denominator": { "value": 1, "unit": "回", "system": codes::MERIT9_UNIT, "code": "TIME" }
                }),
            );
        }
        items.push(Value::Object(ingredient));
    }
    if let Some(Value::Object(mut code)) = first_concept {
        if !names.is_empty() {
            code.insert("text".into(), json!(names.join("＋")));
        }
        med.insert("code".into(), Value::Object(code));
    }
    if let Some(form) = v2::field_concept(rxe, 6, CodeContext::DoseForm) {
        med.insert("form".into(), form);
    }
    if !items.is_empty() {
        med.insert("ingredient".into(), Value::Array(items));
    }
    Value::Object(med)
}

/// RXR-1 route, RXR-2 site, RXR-4 method into a dosage object.
fn route_site_method(dosage: &mut Map<String, Value>, rxr: &Segment<'_>) {
    for (n, key) in [(1, "route"), (2, "site"), (4, "method")] {
        if let Some(cc) = v2::field_concept(rxr, n, CodeContext::General) {
            dosage.insert(key.into(), cc);
        }
    }
}

/// A Duration from TQ1-6 (`5^d`): UCUM for the units JAHIS uses.
fn time_quantity(value: &str, unit: Option<&Coded>) -> Option<Value> {
    let (number, _) = v2::decimal(value)?;
    let code = unit.and_then(|u| u.code.clone());
    let (ucum, label) = match code.as_deref() {
        Some("d" | "D") => ("d", "日"),
        Some("wk" | "w" | "W") => ("wk", "週"),
        Some("mo" | "M") => ("mo", "月"),
        Some("h" | "H") => ("h", "時間"),
        Some("min") => ("min", "分"),
        _ => {
            let mut q = Map::new();
            q.insert("value".into(), Value::Number(number));
            if let Some(u) = unit.and_then(|u| u.display.clone().or_else(|| u.code.clone())) {
                q.insert("unit".into(), json!(u));
            }
            return Some(Value::Object(q));
        }
    };
    Some(json!({ "value": number, "unit": label, "system": codes::UCUM, "code": ucum }))
}

/// OMP-11 / OMP-12 → MedicationAdministration per RXA: JAMI "Message OMP_12 to Bundle" and
/// "Segment OMP_12_RXA to MedicationAdministration" rows RXA-3, 4, 5, 6, 7, 9, 10, 12, 20 and
/// RXR-1 to 4; ORC-9/12/17 go to JP Core's request extensions.
///
/// # Errors
/// [`MapError::MissingField`] for an RXA without RXA-5; [`MapError::BadValue`] for an
/// unreadable timestamp.
pub(crate) fn map_administrations(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let injection = *cx.kind() == DataKind::Omp12;
    for g in groups(cx)? {
        let rxas: Vec<&Segment<'_>> = g
            .members
            .iter()
            .filter(|s| s.name().as_str() == "RXA")
            .collect();
        // The RXR after the RXAs of a group applies to all of them.
        let rxr = g
            .members
            .iter()
            .skip_while(|s| s.name().as_str() != "RXA")
            .find(|s| s.name().as_str() == "RXR");
        if let Some(rxe) = g.members.iter().find(|s| s.name().as_str() == "RXE")
            && v2::text(rxe, 2, 1).as_deref() == Some("06")
        {
            cx.note(format!(
                "RXE-2 (segment {}) says vaccination: mapped as MedicationAdministration; no Immunization is made",
                rxe.number()
            ));
        }
        for (n, rxa) in rxas.into_iter().enumerate() {
            let before = cx.drafts.len();
            administration(cx, &g.orc, rxa, rxr, injection)?;
            if n == 0
                && let Some(d) = cx.drafts.get_mut(before)
            {
                // The first administration also carries the unmapped segments after the ORC.
                d.anchor = g.orc.number();
            }
        }
        if let Some(r) = rxr {
            cx.consume(r);
        }
    }
    Ok(())
}

fn administration(
    cx: &mut Cx<'_, '_>,
    orc: &Segment<'_>,
    rxa: &Segment<'_>,
    rxr: Option<&Segment<'_>>,
    injection: bool,
) -> Result<(), MapError> {
    let drug = v2::field_triplets(rxa, 5);
    let first = drug.first().cloned().unwrap_or_default();
    if first.is_empty() {
        return Err(MapError::missing(format!(
            "RXA-5 (segment {})",
            rxa.number()
        )));
    }
    let mut d = Draft::new(
        cx,
        rxa,
        "MedicationAdministration",
        if injection {
            profile::JP_MedicationAdministration_Injection
        } else {
            profile::JP_MedicationAdministration
        },
        AccessCategory::Medications,
        Some("subject"),
    );
    let authored = v2::dtm(orc, 9)?;
    let mut ext = Vec::new();
    if let Some(a) = &authored {
        ext.push(json!({ "url": extension::JP_MedicationAdministration_RequestAuthoredOn, "valueDateTime": a.to_string() }));
    }
    if let Some(p) = v2::field_person(orc, 12) {
        ext.push(
            json!({ "url": extension::JP_MedicationAdministration_Requester, "valueReference": p }),
        );
    }
    if let Some(dept) = v2::field_concept(orc, 17, CodeContext::General) {
        ext.push(json!({ "url": extension::JP_MedicationAdministration_RequestDepartment, "valueCodeableConcept": dept }));
    }
    if let Some(place) = v2::place(rxa, 11) {
        ext.push(json!({ "url": extension::JP_MedicationAdministration_Location, "valueReference": { "display": place } }));
    }
    d.set_list("extension", ext);

    let (rp, _) = rp_of(orc);
    let mut ids = Vec::new();
    if let Some(o) = v2::text(orc, 2, 1) {
        ids.push(json!({ "system": codes::RESOURCE_INSTANCE, "value": o }));
    }
    if let Some(r) = rp {
        ids.push(json!({ "system": codes::RP_NUMBER, "value": r }));
    }
    d.set_list("identifier", ids);

    let status = if v2::text(rxa, 21, 1).as_deref() == Some("D") {
        "entered-in-error"
    } else {
        match v2::text(rxa, 20, 1).as_deref() {
            Some("RE" | "NA") => "not-done",
            Some("PA") => "stopped",
            _ => "completed",
        }
    };
    d.set("status", Some(json!(status)));
    if let Some(c) = v2::field_concept(orc, 29, CodeContext::General) {
        d.set("category", Some(c));
    }
    d.set(
        "medicationCodeableConcept",
        v2::field(rxa, 5)
            .and_then(|f| f.repetition(1))
            .and_then(|r| v2::rep_concept(&r, CodeContext::General)),
    );
    let started = v2::dtm(rxa, 3)?;
    let ended = v2::dtm(rxa, 4)?;
    let mut period = Map::new();
    if let Some(s) = &started {
        period.insert("start".into(), json!(s.to_string()));
    }
    if let Some(e) = &ended {
        period.insert("end".into(), json!(e.to_string()));
    }
    if period.is_empty() {
        cx.note(format!(
            "RXA-3 and RXA-4 (segment {}) are empty: the administration has no time",
            rxa.number()
        ));
    } else {
        d.set("effectivePeriod", Some(Value::Object(period)));
    }
    if let Some(p) = v2::field_person(rxa, 10) {
        d.set("performer", Some(json!([{ "actor": p }])));
    }
    let notes: Vec<Value> = v2::field_concepts(rxa, 9, CodeContext::General)
        .into_iter()
        .filter_map(|c| {
            c.get("text")
                .and_then(Value::as_str)
                .map(|t| json!({ "text": t }))
        })
        .collect();
    d.set_list("note", notes);

    let mut dosage = Map::new();
    if let Some(r) = rxr {
        route_site_method(&mut dosage, r);
        if let Some(device) = v2::field_concept(r, 3, CodeContext::General)
            .and_then(|c| c.get("text").and_then(Value::as_str).map(str::to_owned))
        {
            d.set("device", Some(json!([{ "display": device }])));
        }
    }
    let unit = v2::field_triplets(rxa, 7).into_iter().next();
    if let Some(q) =
        v2::text(rxa, 6, 1).and_then(|t| v2::quantity(&t, unit.as_ref(), CodeContext::Unit))
    {
        dosage.insert("dose".into(), q);
    }
    if let Some(rate) = v2::whole(rxa, 12) {
        // RXA-12 is text such as "102ml/hr": a number and a unit when it reads so.
        let split = rate
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map_or(rate.len(), |(i, _)| i);
        let (number, unit) = rate.split_at(split);
        match v2::decimal(number) {
            Some((n, _)) if !unit.trim().is_empty() => {
                dosage.insert(
                    "rateQuantity".into(),
                    json!({ "value": n, "unit": unit.trim() }),
                );
            }
            _ => {
                dosage.insert("text".into(), json!(rate));
            }
        }
    }
    if !dosage.is_empty() {
        d.set("dosage", Some(Value::Object(dosage)));
    }
    d.effective_on = started.or(ended).map(|t| t.date());
    d.source_key = format!(
        "RXA|{}|{}|{}|{}",
        v2::text(orc, 4, 1).unwrap_or_default(),
        v2::text(rxa, 1, 1).unwrap_or_default(),
        v2::text(rxa, 2, 1).unwrap_or_default(),
        first.code.or(first.display).unwrap_or_default()
    );
    cx.consume(rxa);
    cx.drafts.push(d);
    Ok(())
}
