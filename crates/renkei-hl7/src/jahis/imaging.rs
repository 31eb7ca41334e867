//! Imaging, endoscopy and physiology: OMG-01/02/03 (放射線・内視鏡・生理検査オーダ, OMG^O19) →
//! ServiceRequest; OMG-11/12 (実施通知, OMI^Z23) and OMG-13 (生理検査結果, ORU^R01) →
//! DiagnosticReport, plus one ImagingStudy per DICOM study UID (IPC-3); category 画像.
//!
//! JAMI publishes no table for these kinds yet. The mapping follows its OML-11 tables for the
//! shared segments (ORC → ServiceRequest, OBR → DiagnosticReport, OBX → Observation) and JP
//! Core's DiagnosticReport/ImagingStudy profiles:
//! - an order group is an ORC with the TQ1, OBR, OBX, IPC after it. JAHIS sends the whole order
//!   twice, as `NW` and as the parent `PA`; groups with the same ORC-2 and OBR-4 are one
//!   resource (with a note), the children `CH` are their own resources, `basedOn` the parent
//!   (OBR-29, else ORC-8);
//! - ServiceRequest: ORC-1/5 status, ORC-2 identifier, OBR-4 code (JJ1017, JED `LENDO`, JLAC10,
//!   local), ORC-9 authoredOn, ORC-12 (else OBR-16) requester, TQ1-9 priority, TQ1-7 (else OBR-7)
//!   occurrence; the order's OBX (身長・体重, 臨床病名, 検査目的, …) become contained
//!   Observations in `supportingInfo`;
//! - DiagnosticReport: OBR-25 status (F final, P preliminary, C corrected, X cancelled; without
//!   it final when there are results, else registered), OBR-4 code, OBR-7 effective, OBR-22
//!   issued, ORC-2 `basedOn`; text results (OBX-2 TX/FT/ST) make `conclusion` and a text/plain
//!   `presentedForm` ("項目：所見" lines); other OBX (measurements, staff, times, drugs, devices)
//!   become contained Observations in `result`; the study UID of the group's IPC is
//!   `imagingStudy` (by identifier);
//! - ImagingStudy: IPC-3 study UID and IPC-1 accession number, IPC-5 modality (DICOM), OBR-4
//!   procedureCode, OBR-7 started.
//! - JAHIS's ZE1 (実施情報) has no mapping and is kept as an unmapped-segment extension on the
//!   resource of its group.

use std::collections::BTreeMap;

use base64::Engine as _;
use renkei_domain::AccessCategory;
use serde_json::{Map, Value, json};

use super::codes::{self, CodeContext, profile};
use super::error::MapError;
use super::{Cx, Draft, lab, observation, v2};
use crate::message::Segment;
use crate::ssmix2::DataKind;

/// One ORC and what follows it up to the next ORC.
struct Group<'a> {
    orc: Segment<'a>,
    members: Vec<Segment<'a>>,
}

impl<'a> Group<'a> {
    fn first(&self, name: &str) -> Option<Segment<'a>> {
        self.members
            .iter()
            .find(|s| s.name().as_str() == name)
            .copied()
    }

    fn all(&self, name: &str) -> Vec<Segment<'a>> {
        self.members
            .iter()
            .filter(|s| s.name().as_str() == name)
            .copied()
            .collect()
    }
}

fn groups<'a>(cx: &mut Cx<'_, 'a>) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for seg in cx.segments() {
        match seg.name().as_str() {
            "ORC" => groups.push(Group {
                orc: seg,
                members: Vec::new(),
            }),
            "PV1" | "PV2" => cx.consume(&seg),
            _ => {
                if let Some(g) = groups.last_mut() {
                    g.members.push(seg);
                }
            }
        }
    }
    // ORU^R01 (OMG-13) has no ORC: each OBR starts a group and stands for its own ORC.
    if groups.is_empty() {
        let segments = cx.segments();
        for seg in segments {
            match seg.name().as_str() {
                "OBR" => groups.push(Group {
                    orc: seg,
                    members: vec![seg],
                }),
                "PV1" | "PV2" => {}
                _ => {
                    if let Some(g) = groups.last_mut() {
                        g.members.push(seg);
                    }
                }
            }
        }
    }
    groups
}

/// The FHIR category for the kind, and the profiles (report, study).
fn family(kind: &DataKind) -> (Value, &'static str, &'static str) {
    match kind {
        DataKind::Omg02 | DataKind::Omg12 => (
            json!({ "coding": [{ "system": codes::LOINC, "code": "LP7796-8", "display": "Endoscopy" }], "text": "内視鏡検査" }),
            profile::JP_DiagnosticReport_Endoscopy,
            profile::JP_ImagingStudy_Endoscopy,
        ),
        DataKind::Omg03 | DataKind::Omg13 => (
            json!({ "text": "生理検査" }),
            profile::JP_DiagnosticReport_Common,
            profile::JP_ImagingStudy_Radiology,
        ),
        _ => (
            json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD", "display": "Radiology" }], "text": "放射線検査" }),
            profile::JP_DiagnosticReport_Radiology,
            profile::JP_ImagingStudy_Radiology,
        ),
    }
}

/// An OBX as a contained Observation with id `obx{segment number}`.
fn contained_observation(
    cx: &mut Cx<'_, '_>,
    obx: &Segment<'_>,
) -> Result<(String, Value), MapError> {
    let o = observation::read(&mut cx.notes, obx)?;
    let id = format!("obx{}", obx.number());
    let mut r = o.resource;
    r.insert("id".into(), json!(id));
    Ok((id, Value::Object(r)))
}

/// The order a CH group belongs to: OBR-29 (parent), else ORC-8.
fn parent(group: &Group<'_>, obr: &Segment<'_>) -> Option<String> {
    v2::text(obr, 29, 1).or_else(|| v2::text(&group.orc, 8, 1))
}

/// OMG-01/02/03 → ServiceRequest per order group, by analogy with JAMI "Segment OML_11_ORC to
/// ServiceRequest" (ORC-2, 5, 12; OBR-4, 7, 16) and "… OBX to Observation" (no OMG table yet).
///
/// # Errors
/// [`MapError::MissingField`] for a group without OBR or OBR-4; [`MapError::BadValue`] for an
/// unreadable timestamp.
pub(crate) fn map_orders(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let (category, _, _) = family(cx.kind());
    let mut by_order: BTreeMap<(String, String), usize> = BTreeMap::new();
    for g in groups(cx) {
        cx.consume(&g.orc);
        let obr = g.first("OBR").ok_or_else(|| {
            MapError::missing(format!("OBR after ORC (segment {})", g.orc.number()))
        })?;
        let code = v2::field_concept(&obr, 4, CodeContext::General)
            .ok_or_else(|| MapError::missing(format!("OBR-4 (segment {})", obr.number())))?;
        cx.consume(&obr);
        let placer = v2::text(&g.orc, 2, 1).or_else(|| v2::text(&obr, 2, 1));
        let code_key = v2::text(&obr, 4, 1).unwrap_or_default();
        let merge_key = (placer.clone().unwrap_or_default(), code_key.clone());
        let mut supporting = Vec::new();
        let mut contained = Vec::new();
        for obx in g.all("OBX") {
            let (id, resource) = contained_observation(cx, &obx)?;
            supporting.push(json!({ "reference": format!("#{id}") }));
            contained.push(resource);
            cx.consume(&obx);
        }
        let tq1 = g.first("TQ1");
        if let Some(t) = &tq1 {
            cx.consume(t);
        }
        if let Some(&i) = by_order.get(&merge_key)
            && let Some(existing) = cx.drafts.get_mut(i)
        {
            for c in contained {
                existing.push("contained", c);
            }
            for s in supporting {
                existing.push("supportingInfo", s);
            }
            cx.note(format!(
                "ORC (segment {}) repeats the order of an earlier ORC with the same ORC-2 and OBR-4; merged into one ServiceRequest",
                g.orc.number()
            ));
            continue;
        }
        let mut d = Draft::new(
            cx,
            &g.orc,
            "ServiceRequest",
            profile::JP_ServiceRequest_Common,
            AccessCategory::Imaging,
            Some("subject"),
        );
        d.set("status", Some(json!(lab::order_status(Some(&g.orc)))));
        d.set("intent", Some(json!("order")));
        d.set("category", Some(json!([category.clone()])));
        d.set("code", Some(code));
        if let Some(p) = &placer {
            d.set(
                "identifier",
                Some(json!([{
                    "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PLAC" }] },
                    "value": p
                }])),
            );
        }
        if v2::text(&g.orc, 1, 1).as_deref() == Some("CH")
            && let Some(parent) = parent(&g, &obr)
        {
            d.set(
                "basedOn",
                Some(json!([{ "identifier": { "value": parent } }])),
            );
        }
        let authored = v2::dtm(&g.orc, 9)?;
        if let Some(a) = &authored {
            d.set("authoredOn", Some(json!(a.to_string())));
        }
        d.set(
            "requester",
            v2::field_person(&g.orc, 12).or_else(|| v2::field_person(&obr, 16)),
        );
        let mut occurrence = None;
        if let Some(t) = &tq1 {
            let priority = match v2::text(t, 9, 1).as_deref() {
                Some("S") => Some("stat"),
                Some("A") => Some("asap"),
                Some("R") => Some("routine"),
                _ => None,
            };
            d.set_str("priority", priority.map(str::to_owned));
            occurrence = v2::dtm(t, 7)?;
        }
        let occurrence = match occurrence {
            Some(o) => Some(o),
            None => v2::dtm(&obr, 7)?,
        };
        if let Some(o) = &occurrence {
            d.set("occurrenceDateTime", Some(json!(o.to_string())));
        }
        d.set_list("contained", contained);
        d.set_list("supportingInfo", supporting);
        d.effective_on = occurrence.or(authored).map(|t| t.date());
        d.source_key = format!("ORC|{}|{}", placer.unwrap_or_default(), code_key);
        by_order.insert(merge_key, cx.drafts.len());
        cx.drafts.push(d);
    }
    Ok(())
}

/// OMG-11/12/13 → DiagnosticReport per order group and ImagingStudy per study UID, by analogy
/// with JAMI "Segment OML_11_OBR to DiagnosticReport" (OBR-2, 4, 7, 22; OBX → result) and
/// "… OBX to Observation" (no OMG table yet).
///
/// # Errors
/// [`MapError::MissingField`] for a group without OBR or OBR-4; [`MapError::BadValue`] for an
/// unreadable timestamp.
pub(crate) fn map_results(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let (category, report_profile, study_profile) = family(cx.kind());
    let mut by_order: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut studies: BTreeMap<String, usize> = BTreeMap::new();
    for g in groups(cx) {
        cx.consume(&g.orc);
        let obr = g.first("OBR").ok_or_else(|| {
            MapError::missing(format!("OBR after ORC (segment {})", g.orc.number()))
        })?;
        let code = v2::field_concept(&obr, 4, CodeContext::General)
            .ok_or_else(|| MapError::missing(format!("OBR-4 (segment {})", obr.number())))?;
        cx.consume(&obr);
        if let Some(t) = g.first("TQ1") {
            cx.consume(&t);
        }
        let placer = if g.orc.name().as_str() == "ORC" {
            v2::text(&g.orc, 2, 1).or_else(|| v2::text(&obr, 2, 1))
        } else {
            v2::text(&obr, 2, 1)
        };
        let code_key = v2::text(&obr, 4, 1).unwrap_or_default();
        let observed = v2::dtm(&obr, 7)?;

        // Results.
        let mut lines = Vec::new();
        let mut conclusion = Vec::new();
        let mut results = Vec::new();
        let mut contained = Vec::new();
        for obx in g.all("OBX") {
            let value_type = v2::text(&obx, 2, 1)
                .unwrap_or_default()
                .to_ascii_uppercase();
            if matches!(value_type.as_str(), "TX" | "FT" | "ST") {
                let texts: Vec<String> = v2::field(&obx, 5)
                    .map(|f| f.repetitions().filter_map(|r| v2::rep_text(&r)).collect())
                    .unwrap_or_default();
                if !texts.is_empty() {
                    let text = texts.join("\n");
                    let label = v2::text(&obx, 3, 2).unwrap_or_else(|| "所見".into());
                    lines.push(format!("{label}：{text}"));
                    conclusion.push(text);
                }
                // The code still has to be readable, as for any OBX.
                if v2::field_triplets(&obx, 3).is_empty() {
                    return Err(MapError::missing(format!(
                        "OBX-3 (segment {})",
                        obx.number()
                    )));
                }
            } else {
                let (id, resource) = contained_observation(cx, &obx)?;
                results.push(json!({ "reference": format!("#{id}") }));
                contained.push(resource);
            }
            cx.consume(&obx);
        }

        // Studies.
        let mut study_ids = Vec::new();
        for ipc in g.all("IPC") {
            cx.consume(&ipc);
            let Some(uid) = v2::text(&ipc, 3, 1) else {
                cx.note(format!("IPC-3 (segment {}) has no study UID", ipc.number()));
                continue;
            };
            let identifier =
                json!({ "system": codes::DICOM_UID, "value": format!("urn:oid:{uid}") });
            if !study_ids.contains(&identifier) {
                study_ids.push(identifier.clone());
            }
            if studies.contains_key(&uid) {
                continue;
            }
            let mut s = Draft::new(
                cx,
                &ipc,
                "ImagingStudy",
                study_profile,
                AccessCategory::Imaging,
                Some("subject"),
            );
            s.set("status", Some(json!("available")));
            let mut ids = vec![identifier];
            if let Some(accession) = v2::text(&ipc, 1, 1) {
                ids.push(json!({
                    "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN" }] },
                    "value": accession
                }));
            }
            s.set("identifier", Some(Value::Array(ids)));
            let modality: Vec<Value> = v2::field_triplets(&ipc, 5)
                .into_iter()
                .take(1)
                .filter_map(|t| t.coding(CodeContext::General))
                .collect();
            s.set_list("modality", modality);
            if let Some(o) = &observed {
                s.set("started", Some(json!(o.to_string())));
            }
            s.set("procedureCode", Some(json!([code.clone()])));
            s.set_str("description", v2::text(&obr, 4, 2));
            if let Some(p) = &placer {
                s.set("basedOn", Some(json!([{ "identifier": { "value": p } }])));
            }
            s.effective_on = observed.map(|t| t.date());
            s.source_key = format!("IPC|{uid}");
            studies.insert(uid, cx.drafts.len());
            cx.drafts.push(s);
        }

        let merge_key = (placer.clone().unwrap_or_default(), code_key.clone());
        if let Some(&i) = by_order.get(&merge_key)
            && let Some(existing) = cx.drafts.get_mut(i)
        {
            for c in contained {
                existing.push("contained", c);
            }
            for r in results {
                existing.push("result", r);
            }
            merge_text(existing, &lines, &conclusion);
            for s in study_ids {
                let known = existing
                    .resource
                    .get("imagingStudy")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x.get("identifier") == Some(&s)));
                if !known {
                    existing.push("imagingStudy", json!({ "identifier": s }));
                }
            }
            cx.note(format!(
                "segment {} repeats the order of an earlier group with the same ORC-2 and OBR-4; merged into one DiagnosticReport",
                g.orc.number()
            ));
            continue;
        }

        let mut d = Draft::new(
            cx,
            &g.orc,
            "DiagnosticReport",
            report_profile,
            AccessCategory::Imaging,
            Some("subject"),
        );
        let status = match v2::text(&obr, 25, 1).as_deref() {
            Some("F") => "final",
            Some("P") => "preliminary",
            Some("C") => "corrected",
            Some("X") => "cancelled",
            _ if !results.is_empty() || !conclusion.is_empty() => "final",
            _ => "registered",
        };
        d.set("status", Some(json!(status)));
        d.set("category", Some(json!([category.clone()])));
        d.set("code", Some(code));
        if let Some(o) = &observed {
            d.set("effectiveDateTime", Some(json!(o.to_string())));
        }
        if let Some(issued) = v2::dtm(&obr, 22)?.as_ref().and_then(v2::instant) {
            d.set("issued", Some(json!(issued)));
        }
        let mut based_on = Vec::new();
        if let Some(p) = &placer {
            based_on.push(json!({ "identifier": { "value": p } }));
        }
        if g.orc.name().as_str() == "ORC"
            && v2::text(&g.orc, 1, 1).as_deref() == Some("CH")
            && let Some(parent) = parent(&g, &obr)
        {
            based_on.push(json!({ "identifier": { "value": parent } }));
        }
        d.set_list("basedOn", based_on);
        d.set_list("contained", contained);
        d.set_list("result", results);
        merge_text(&mut d, &lines, &conclusion);
        d.set_list(
            "imagingStudy",
            study_ids
                .into_iter()
                .map(|s| json!({ "identifier": s }))
                .collect(),
        );
        d.effective_on = observed.map(|t| t.date());
        d.source_key = format!("OBR|{}|{}", placer.unwrap_or_default(), code_key);
        by_order.insert(merge_key, cx.drafts.len());
        cx.drafts.push(d);
    }
    Ok(())
}

/// Add report text to a DiagnosticReport: `conclusion` and a text/plain `presentedForm`.
fn merge_text(d: &mut Draft, lines: &[String], conclusion: &[String]) {
    if lines.is_empty() {
        return;
    }
    let mut all_conclusion: Vec<String> = d
        .resource
        .get("conclusion")
        .and_then(Value::as_str)
        .map(|s| vec![s.to_owned()])
        .unwrap_or_default();
    all_conclusion.extend(conclusion.iter().cloned());
    d.resource
        .insert("conclusion".into(), json!(all_conclusion.join("\n")));
    let mut all_lines: Vec<String> = d
        .resource
        .get("presentedForm")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|f| f.get("data"))
        .and_then(Value::as_str)
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| vec![s])
        .unwrap_or_default();
    all_lines.extend(lines.iter().cloned());
    let mut form = Map::new();
    form.insert("contentType".into(), json!("text/plain; charset=utf-8"));
    form.insert("language".into(), json!("ja"));
    form.insert(
        "data".into(),
        json!(base64::engine::general_purpose::STANDARD.encode(all_lines.join("\n"))),
    );
    d.resource
        .insert("presentedForm".into(), json!([Value::Object(form)]));
}
