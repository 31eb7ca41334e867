//! Visits and hospital stays: ADT-01 (担当医の変更), ADT-12 (外来受付), ADT-21/22 (入院予定・入院),
//! ADT-31/32 (外出泊・帰院), ADT-41/42 (転科・転棟予定・実施), ADT-51/52 (退院予定・退院) → one
//! Encounter (JP_Encounter) per message, category 診療記録.
//!
//! Follows JAMI "Segment ADT_XX_PV1 to Encounter" and the message page's rules for dates:
//! - status: MSH-9.2 by "Table v2-0003 to EncounterStatus" (A01 arrived, A03 finished, A11/A27
//!   cancelled, A21 onleave, …); a trigger outside the table falls back to the data kind
//!   ("Table SSMIX2DATATYPE to EncounterStatus"), with a note;
//! - class: PV1-2 by "Table v2-0004 to v3-ActCode" (O → AMB, I → IMP; E → EMER added); an empty
//!   or unknown PV1-2 falls back to the data kind (ADT-12 is outpatient, the others inpatient);
//! - period: PV1-44 (入院日時) start, PV1-45 (退院日時) end; for the planned kinds PV2-8 (予定入院
//!   日時) and PV2-9 (予定退院日時); for ADT-12 without PV1-44, EVN-6 (事象発生日時);
//! - location: PV1-3 (the ward, room and bed) with the status of "Table v2-0003 to
//!   EncounterLocationStatus" and its period (EVN-6 for ADT-31/32/41/42, PV1-44 for ADT-22,
//!   PV1-45 for ADT-52, PV2-8/PV2-9 for ADT-21/41/51, PV2-47 for ADT-31); PV1-6 (the previous
//!   location of a transfer) is kept as a completed location;
//! - participant: PV1-7 attending (ATND), PV1-17 admitting (ADM);
//! - serviceType: PV1-10 (診療科, SS-MIX2 table 0069); hospitalization.dischargeDisposition:
//!   PV1-36; identifier: PV1-19 (visit number).
//!
//! Each ADT file is its own record (its own SS-MIX2 logical key): an admission, a transfer and
//! a discharge appear as three Encounter records on the timeline, linked by PV1-19 when the
//! sender fills it. The category is 診療記録 because the council's matrix has no category for
//! visits and `renkei-fhir` files Encounters there too.

use renkei_domain::AccessCategory;
use serde_json::{Map, Value, json};

use super::codes::{self, CodeContext, profile};
use super::error::MapError;
use super::{Cx, Draft, v2};
use crate::ssmix2::DataKind;
use crate::time::Dtm;

/// Map an ADT message about a visit or stay: JAMI "Segment ADT_XX_PV1 to Encounter" rows
/// MSH-9, EVN-6, PV1-2, 3, 7, 17, 36, 44, 45 and PV2-8, 9, 47, with the status tables.
///
/// # Errors
/// [`MapError::MissingField`] without PV1; [`MapError::BadValue`] for an unreadable date.
pub(crate) fn map(cx: &mut Cx<'_, '_>) -> Result<(), MapError> {
    let pv1 = cx
        .msg
        .segment("PV1")
        .ok_or_else(|| MapError::missing("PV1 segment"))?;
    let evn = cx.msg.segment("EVN");
    let pv2 = cx.msg.segment("PV2");
    let kind = cx.kind().clone();
    let trigger = cx.trigger();

    let (status, location_status) = match by_trigger(trigger) {
        Some(s) => s,
        None => {
            cx.note(format!(
                "MSH-9.2 trigger event is not in JAMI's status table; status taken from data kind {kind}"
            ));
            by_kind(&kind)
        }
    };
    let class = match v2::text(&pv1, 2, 1).as_deref() {
        Some("O") => "AMB",
        Some("I") => "IMP",
        Some("E") => "EMER",
        other => {
            if other.is_some() {
                cx.note(format!(
                    "PV1-2 (segment {}) patient class is not O, I or E; class taken from data kind {kind}",
                    pv1.number()
                ));
            }
            if kind == DataKind::Adt12 {
                "AMB"
            } else {
                "IMP"
            }
        }
    };

    let event = match &evn {
        Some(e) => v2::dtm(e, 6)?,
        None => None,
    };
    let admitted = v2::dtm(&pv1, 44)?;
    let discharged = v2::dtm(&pv1, 45)?;
    let (planned_admit, planned_discharge, planned_return) = match &pv2 {
        Some(p) => (v2::dtm(p, 8)?, v2::dtm(p, 9)?, v2::dtm(p, 47)?),
        None => (None, None, None),
    };
    let planned = matches!(kind, DataKind::Adt21 | DataKind::Adt41 | DataKind::Adt51);
    let start = admitted
        .or(if kind == DataKind::Adt21 {
            planned_admit
        } else {
            None
        })
        .or(if kind == DataKind::Adt12 { event } else { None });
    let end = discharged.or(if planned { planned_discharge } else { None });

    let mut d = Draft::new(
        cx,
        &pv1,
        "Encounter",
        profile::JP_Encounter,
        AccessCategory::ClinicalNotes,
        Some("subject"),
    );
    d.set("status", Some(json!(status)));
    d.set(
        "class",
        Some(json!({ "system": codes::ACT_CODE, "code": class, "display": class_display(class) })),
    );
    d.set("period", period(start.as_ref(), end.as_ref()));
    if let Some(visit) = v2::text(&pv1, 19, 1) {
        d.set("identifier", Some(json!([{ "value": visit }])));
    }
    if let Some(dept) = v2::text(&pv1, 10, 1) {
        d.set(
            "serviceType",
            Some(json!({ "coding": [{ "system": codes::DEPARTMENT, "code": dept }] })),
        );
    }
    let participants: Vec<Value> = [(7, "ATND"), (17, "ADM")]
        .into_iter()
        .filter_map(|(n, role)| {
            let individual = v2::field_person(&pv1, n)?;
            Some(json!({
                "type": [{ "coding": [{ "system": codes::PARTICIPATION_TYPE, "code": role }] }],
                "individual": individual
            }))
        })
        .collect();
    d.set_list("participant", participants);
    if let Some(code) = v2::text(&pv1, 36, 1) {
        let coding = v2::Coded {
            code: Some(code),
            display: None,
            system_name: Some("HL70112".into()),
        };
        d.set(
            "hospitalization",
            Some(json!({ "dischargeDisposition": coding.concept(CodeContext::General) })),
        );
    }

    let location_start = match kind {
        DataKind::Adt31 | DataKind::Adt32 | DataKind::Adt41 | DataKind::Adt42 => {
            event.or(if kind == DataKind::Adt41 {
                planned_admit
            } else {
                None
            })
        }
        DataKind::Adt22 => admitted,
        DataKind::Adt21 => planned_admit,
        _ => None,
    };
    let location_end = match kind {
        DataKind::Adt52 => discharged,
        DataKind::Adt51 => planned_discharge,
        DataKind::Adt31 => planned_return,
        _ => None,
    };
    let mut locations = Vec::new();
    if let Some(place) = v2::place(&pv1, 3) {
        let mut l = Map::new();
        l.insert("location".into(), json!({ "display": place }));
        l.insert("status".into(), json!(location_status));
        if let Some(p) = period(location_start.as_ref(), location_end.as_ref()) {
            l.insert("period".into(), p);
        }
        locations.push(Value::Object(l));
    }
    if let Some(previous) = v2::place(&pv1, 6) {
        let mut l = Map::new();
        l.insert("location".into(), json!({ "display": previous }));
        l.insert("status".into(), json!("completed"));
        if let Some(p) = period(None, event.as_ref()) {
            l.insert("period".into(), p);
        }
        locations.push(Value::Object(l));
    }
    d.set_list("location", locations);

    let cancelled = matches!(
        trigger,
        "A11" | "A27" | "A52" | "A53" | "A26" | "A12" | "A25" | "A13" | "A55"
    );
    let label = label(&kind);
    let display = if cancelled {
        format!("{label}（取消）")
    } else {
        label.to_owned()
    };
    d.index = Some((
        Some(codes::ACT_CODE.to_owned()),
        Some(class.to_owned()),
        Some(display),
    ));
    d.effective_on = start
        .or(location_start)
        .or(end)
        .or(location_end)
        .map(|t| t.date());
    d.source_key = match v2::text(&pv1, 19, 1) {
        Some(visit) => format!("PV1|{visit}"),
        None => "PV1".to_owned(),
    };
    cx.consume(&pv1);
    if let Some(e) = &evn {
        cx.consume(e);
    }
    if let Some(p) = &pv2 {
        cx.consume(p);
    }
    cx.drafts.push(d);
    Ok(())
}

fn period(start: Option<&Dtm>, end: Option<&Dtm>) -> Option<Value> {
    let mut p = Map::new();
    if let Some(s) = start {
        p.insert("start".into(), json!(s.to_string()));
    }
    if let Some(e) = end {
        p.insert("end".into(), json!(e.to_string()));
    }
    (!p.is_empty()).then_some(Value::Object(p))
}

/// JAMI "Table v2-0003 to EncounterStatus" and "… to EncounterLocationStatus".
fn by_trigger(trigger: &str) -> Option<(&'static str, &'static str)> {
    Some(match trigger {
        "A54" | "A55" => ("in-progress", "active"),
        "A04" => ("arrived", "active"),
        "A14" => ("planned", "planned"),
        "A27" => ("cancelled", "planned"),
        "A01" => ("arrived", "active"),
        "A11" => ("cancelled", "active"),
        "A21" => ("onleave", "active"),
        "A52" => ("in-progress", "active"),
        "A22" => ("in-progress", "active"),
        "A53" => ("onleave", "active"),
        "A15" | "A26" => ("in-progress", "planned"),
        "A02" | "A12" => ("in-progress", "active"),
        "A16" | "A25" => ("in-progress", "planned"),
        "A03" => ("finished", "completed"),
        "A13" => ("in-progress", "active"),
        _ => return None,
    })
}

/// JAMI "Table SSMIX2DATATYPE to EncounterStatus" and "… to EncounterLocationStatus".
fn by_kind(kind: &DataKind) -> (&'static str, &'static str) {
    match kind {
        DataKind::Adt12 => ("arrived", "active"),
        DataKind::Adt21 => ("planned", "planned"),
        DataKind::Adt22 => ("arrived", "active"),
        DataKind::Adt31 => ("onleave", "active"),
        DataKind::Adt41 | DataKind::Adt51 => ("in-progress", "planned"),
        DataKind::Adt52 => ("finished", "completed"),
        _ => ("in-progress", "active"),
    }
}

fn class_display(class: &str) -> &'static str {
    match class {
        "AMB" => "ambulatory",
        "EMER" => "emergency",
        _ => "inpatient encounter",
    }
}

fn label(kind: &DataKind) -> &'static str {
    match kind {
        DataKind::Adt01 => "担当医の変更",
        DataKind::Adt12 => "外来受付",
        DataKind::Adt21 => "入院予定",
        DataKind::Adt22 => "入院",
        DataKind::Adt31 => "外出泊",
        DataKind::Adt32 => "外出泊帰院",
        DataKind::Adt41 => "転科・転棟予定",
        DataKind::Adt42 => "転科・転棟",
        DataKind::Adt51 => "退院予定",
        DataKind::Adt52 => "退院",
        _ => "来院",
    }
}
