//! Specimen tests: OML-11 (検体検査結果, OUL^R22) → one Observation per OBX
//! (JP_Observation_LabResult), and OML-01 (検体検査オーダ, OML^O33) → one ServiceRequest per OBR
//! (JP_ServiceRequest_Common); category 検査結果.
//!
//! Observation, after JAMI "Segment OML_11_OBX to Observation" (see also the shared OBX reader):
//! OBX-3 code (JLAC10 `JC10` and local codes side by side), OBX-5 value by OBX-2, OBX-6 unit,
//! OBX-7 referenceRange, OBX-8 interpretation, OBX-11 status, OBX-14 effective (else SPM-17,
//! else OBR-7); the specimen of the group ("Segment OML_11_SPM to Specimen": SPM-4 type, SPM-8
//! body site, SPM-17 collection time, SPM-2 identifier) is contained and referenced; the order
//! ("Segment OML_11_ORC to ServiceRequest": ORC-2 / OBR-2) is `basedOn` by identifier, with
//! OBR-4 as its display; OBR-22 is `issued`. JAMI also makes a DiagnosticReport per OBR; here
//! the report adds nothing the Observations do not carry, so none is made.
//!
//! ServiceRequest (JAMI "Segment OML_11_ORC to ServiceRequest", used for the order itself):
//! ORC-1/ORC-5 status, ORC-2/ORC-3 identifiers, OBR-4 code, the ordered items (OBX-3 of the
//! OBX after the OBR) as orderDetail, OBR-7 occurrence (else SPM-17), ORC-9 authoredOn, ORC-12
//! (else OBR-16) requester, the specimen contained.

use renkei_domain::AccessCategory;
use serde_json::{Map, Value, json};

use super::codes::{self, CodeContext, profile};
use super::error::MapError;
use super::{Cx, Draft, observation, v2};
use crate::message::Segment;
use crate::time::Dtm;

/// The contained Specimen of an SPM, and its collection time.
pub(crate) fn specimen(spm: &Segment<'_>) -> Result<(Value, Option<Dtm>), MapError> {
    let mut s = Map::new();
    s.insert("resourceType".into(), json!("Specimen"));
    s.insert("id".into(), json!("spm"));
    s.insert(
        "meta".into(),
        json!({ "profile": [profile::JP_Specimen_Common] }),
    );
    if let Some(id) = v2::text(spm, 2, 1) {
        s.insert("identifier".into(), json!([{ "value": id }]));
    }
    if let Some(t) = v2::field_concept(spm, 4, CodeContext::Specimen) {
        s.insert("type".into(), t);
    }
    let collected = v2::dtm(spm, 17)?;
    let mut collection = Map::new();
    if let Some(c) = &collected {
        collection.insert("collectedDateTime".into(), json!(c.to_string()));
    }
    if let Some(site) = v2::field_concept(spm, 8, CodeContext::General) {
        collection.insert("bodySite".into(), site);
    }
    if !collection.is_empty() {
        s.insert("collection".into(), Value::Object(collection));
    }
    Ok((Value::Object(s), collected))
}

fn laboratory() -> Value {
    json!([{ "coding": [{ "system": codes::OBSERVATION_CATEGORY, "code": "laboratory" }] }])
}

/// OML-11 → Observation per OBX: JAMI "Message OML_11 to Bundle", "Segment OML_11_OBX to
/// Observation" rows OBX-2, 3, 5, 6, 7, 8, 11, 14 and ORC-2, "Segment OML_11_SPM to Specimen"
/// rows SPM-4, 8, 17, "Segment OML_11_OBR to DiagnosticReport" rows OBR-2, 7, 22.
///
/// # Errors
/// [`MapError::MissingField`] for an OBX without OBX-3; [`MapError::BadValue`] for an
/// unreadable timestamp.
pub(crate) fn map_results(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let mut spm: Option<(Value, Option<Dtm>)> = None;
    let mut obr: Option<Segment<'_>> = None;
    let mut orc: Option<Segment<'_>> = None;
    for seg in cx.segments() {
        match seg.name().as_str() {
            "PV1" | "PV2" => cx.consume(&seg),
            "SPM" => {
                spm = Some(specimen(&seg)?);
                obr = None;
                cx.consume(&seg);
            }
            "OBR" => {
                obr = Some(seg);
                orc = None;
                cx.consume(&seg);
            }
            "ORC" => {
                orc = Some(seg);
                cx.consume(&seg);
            }
            "OBX" => result(cx, &seg, spm.as_ref(), obr.as_ref(), orc.as_ref())?,
            _ => {}
        }
    }
    Ok(())
}

fn result(
    cx: &mut Cx<'_, '_>,
    obx: &Segment<'_>,
    spm: Option<&(Value, Option<Dtm>)>,
    obr: Option<&Segment<'_>>,
    orc: Option<&Segment<'_>>,
) -> Result<(), MapError> {
    let o = observation::read(&mut cx.notes, obx)?;
    let mut d = Draft::new(
        cx,
        obx,
        "Observation",
        profile::JP_Observation_LabResult,
        AccessCategory::Labs,
        Some("subject"),
    );
    d.resource.extend(o.resource);
    d.set("category", Some(laboratory()));
    let mut effective = o.observed;
    if let Some((specimen, collected)) = spm {
        d.set("contained", Some(Value::Array(vec![specimen.clone()])));
        d.set("specimen", Some(json!({ "reference": "#spm" })));
        effective = effective.or(*collected);
    }
    if let Some(obr) = obr {
        let observed = v2::dtm(obr, 7)?;
        effective = effective.or(observed);
        let order = v2::text(obr, 2, 1).or_else(|| orc.and_then(|o| v2::text(o, 2, 1)));
        let mut based_on = Map::new();
        if let Some(o) = order {
            based_on.insert("identifier".into(), json!({ "value": o }));
        }
        if let Some(name) = v2::text(obr, 4, 2) {
            based_on.insert("display".into(), json!(name));
        }
        if !based_on.is_empty() {
            d.set("basedOn", Some(Value::Array(vec![Value::from(based_on)])));
        }
        if let Some(issued) = v2::dtm(obr, 22)?.as_ref().and_then(v2::instant) {
            d.set("issued", Some(json!(issued)));
        }
    }
    if o.observed.is_none()
        && let Some(e) = &effective
    {
        d.set("effectiveDateTime", Some(json!(e.to_string())));
    }
    d.effective_on = effective.map(|t| t.date());
    let code = v2::field_triplets(obx, 3)
        .into_iter()
        .next()
        .unwrap_or_default();
    let mut key = format!(
        "OBX|{}|{}|{}",
        obr.and_then(|o| v2::text(o, 4, 1))
            .unwrap_or_else(|| "-".into()),
        v2::text(obx, 1, 1).unwrap_or_default(),
        code.code.or(code.display).unwrap_or_default()
    );
    if let Some(sub) = v2::text(obx, 4, 1) {
        key.push('|');
        key.push_str(&sub);
    }
    d.source_key = key;
    cx.consume(obx);
    cx.drafts.push(d);
    Ok(())
}

/// ORC-5, else ORC-1 → ServiceRequest.status.
pub(crate) fn order_status(orc: Option<&Segment<'_>>) -> &'static str {
    let Some(orc) = orc else {
        return "active";
    };
    match v2::text(orc, 5, 1).as_deref() {
        Some("CM") => return "completed",
        Some("CA" | "DC") => return "revoked",
        Some("HD") => return "on-hold",
        _ => {}
    }
    match v2::text(orc, 1, 1).as_deref() {
        Some("CA" | "OC" | "CR" | "DC" | "OD" | "DR") => "revoked",
        Some("HD" | "OH") => "on-hold",
        _ => "active",
    }
}

/// OML-01 → ServiceRequest per OBR: JAMI "Segment OML_11_ORC to ServiceRequest" rows ORC-2,
/// 3, 5, 12 and OBR-4, 7, 16, applied to the order message.
///
/// # Errors
/// [`MapError::MissingField`] for an OBR without OBR-4; [`MapError::BadValue`] for an
/// unreadable timestamp.
pub(crate) fn map_orders(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let segments = cx.segments();
    let mut spm: Option<(Value, Option<Dtm>)> = None;
    let mut orc: Option<Segment<'_>> = None;
    let mut i = 0;
    while let Some(seg) = segments.get(i) {
        i += 1;
        match seg.name().as_str() {
            "PV1" | "PV2" => cx.consume(seg),
            "SPM" => {
                spm = Some(specimen(seg)?);
                cx.consume(seg);
            }
            "ORC" => {
                orc = Some(*seg);
                cx.consume(seg);
            }
            "OBR" => {
                let mut items = Vec::new();
                while let Some(next) = segments.get(i) {
                    if next.name().as_str() != "OBX" {
                        break;
                    }
                    items.push(*next);
                    i += 1;
                }
                lab_order(cx, seg, orc.as_ref(), spm.as_ref(), &items)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn lab_order(
    cx: &mut Cx<'_, '_>,
    obr: &Segment<'_>,
    orc: Option<&Segment<'_>>,
    spm: Option<&(Value, Option<Dtm>)>,
    items: &[Segment<'_>],
) -> Result<(), MapError> {
    let code = v2::field_concept(obr, 4, CodeContext::General)
        .ok_or_else(|| MapError::missing(format!("OBR-4 (segment {})", obr.number())))?;
    let mut d = Draft::new(
        cx,
        obr,
        "ServiceRequest",
        profile::JP_ServiceRequest_Common,
        AccessCategory::Labs,
        Some("subject"),
    );
    d.set("status", Some(json!(order_status(orc))));
    d.set("intent", Some(json!("order")));
    d.set("category", Some(laboratory()));
    d.set("code", Some(code));
    let details: Vec<Value> = items
        .iter()
        .filter_map(|obx| v2::field_concept(obx, 3, CodeContext::General))
        .collect();
    d.set_list("orderDetail", details);
    let placer = orc
        .and_then(|o| v2::text(o, 2, 1))
        .or_else(|| v2::text(obr, 2, 1));
    let filler = orc
        .and_then(|o| v2::text(o, 3, 1))
        .or_else(|| v2::text(obr, 3, 1));
    let ids: Vec<Value> = [("PLAC", &placer), ("FILL", &filler)]
        .into_iter()
        .filter_map(|(t, v)| {
            v.as_ref().map(|v| {
                json!({
                    "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": t }] },
                    "value": v
                })
            })
        })
        .collect();
    d.set_list("identifier", ids);
    let authored = match orc {
        Some(o) => v2::dtm(o, 9)?,
        None => None,
    };
    if let Some(a) = &authored {
        d.set("authoredOn", Some(json!(a.to_string())));
    }
    d.set(
        "requester",
        orc.and_then(|o| v2::field_person(o, 12))
            .or_else(|| v2::field_person(obr, 16)),
    );
    let mut occurrence = v2::dtm(obr, 7)?;
    if let Some((specimen, collected)) = spm {
        d.set("contained", Some(Value::Array(vec![specimen.clone()])));
        d.set("specimen", Some(json!([{ "reference": "#spm" }])));
        occurrence = occurrence.or(*collected);
    }
    if let Some(o) = &occurrence {
        d.set("occurrenceDateTime", Some(json!(o.to_string())));
    }
    d.effective_on = occurrence.or(authored).map(|t| t.date());
    d.source_key = format!(
        "OBR|{}|{}|{}",
        placer.unwrap_or_default(),
        v2::text(obr, 4, 1).unwrap_or_default(),
        v2::text(obr, 1, 1).unwrap_or_default()
    );
    cx.consume(obr);
    for obx in items {
        cx.consume(obx);
    }
    cx.drafts.push(d);
    Ok(())
}
