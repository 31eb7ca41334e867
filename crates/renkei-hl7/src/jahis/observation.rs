//! One OBX segment → the body of an Observation, shared by ADT-00 (身長・体重・血液型), OML-11
//! (検体検査結果) and the OMG families (orders' clinical information, results' measurements).
//!
//! JAMI "Segment OML_11_OBX to Observation" / "Segment ADT_00_OBX to Observation": OBX-2 decides
//! the value type (NM → valueQuantity, ST/TX/FT → valueString, CWE → valueCodeableConcept), OBX-3
//! → code, OBX-5 → value, OBX-6 → unit, OBX-7 → referenceRange, OBX-8 → interpretation, OBX-11 →
//! status, OBX-14 → effective. Beyond the table: SN (comparator and ranges), TS/DT
//! (valueDateTime), XCN (the person's name as text) and JAHIS ZRD (a drug with its amount) are
//! read too; a value of another or no type is kept as text with a note.

use serde_json::{Map, Value, json};

use super::codes::{self, CodeContext};
use super::error::MapError;
use super::v2::{self, Coded};
use crate::message::Segment;
use crate::time::Dtm;

/// An Observation body made from an OBX.
pub(crate) struct Obx {
    pub resource: Map<String, Value>,
    /// OBX-14.
    pub observed: Option<Dtm>,
}

/// Read an OBX. The caller adds meta, subject, category, specimen and context.
///
/// # Errors
/// [`MapError::MissingField`] without OBX-3; [`MapError::BadValue`] for an unreadable OBX-14 or
/// a TS/DT value that is not a timestamp.
pub(crate) fn read(notes: &mut Vec<String>, obx: &Segment<'_>) -> Result<Obx, MapError> {
    let code = v2::field_concept(obx, 3, CodeContext::General)
        .ok_or_else(|| MapError::missing(format!("OBX-3 (segment {})", obx.number())))?;
    let mut r = Map::new();
    r.insert("resourceType".into(), json!("Observation"));
    r.insert(
        "status".into(),
        json!(status(v2::text(obx, 11, 1).as_deref())),
    );
    r.insert("code".into(), code);
    if let Some((key, value)) = value(notes, obx)? {
        r.insert(key.into(), value);
    }
    let interpretation: Vec<Value> = v2::field(obx, 8)
        .map(|f| {
            f.repetitions()
                .filter_map(|rep| {
                    let code = rep.component(1).and_then(|c| v2::comp_text(&c))?;
                    let display = rep.component(2).and_then(|c| v2::comp_text(&c));
                    Some(interpretation(&code, display))
                })
                .collect()
        })
        .unwrap_or_default();
    if !interpretation.is_empty() {
        r.insert("interpretation".into(), Value::Array(interpretation));
    }
    if let Some(range) = v2::whole(obx, 7) {
        let unit = v2::field_triplets(obx, 6).into_iter().next();
        r.insert(
            "referenceRange".into(),
            json!([reference_range(&range, unit.as_ref())]),
        );
    }
    let observed = v2::dtm(obx, 14)?;
    if let Some(d) = &observed {
        r.insert("effectiveDateTime".into(), json!(d.to_string()));
    }
    if let Some(method) = v2::field_concept(obx, 17, CodeContext::General) {
        r.insert("method".into(), method);
    }
    Ok(Obx {
        resource: r,
        observed,
    })
}

/// OBX-11 (HL7 table 0085) → Observation.status. JAMI fixes `final`; a sender that says its
/// result is preliminary or cancelled is believed, and an empty OBX-11 is `final` as JAMI says.
fn status(code: Option<&str>) -> &'static str {
    match code {
        Some("C") => "corrected",
        Some("P" | "R" | "S") => "preliminary",
        Some("X") => "cancelled",
        Some("D" | "W") => "entered-in-error",
        Some("I" | "O") => "registered",
        Some("A") => "amended",
        _ => "final",
    }
}

/// HL7 table 0078 flags that are also v3 ObservationInterpretation codes.
const V3_INTERPRETATIONS: &[&str] = &[
    "L", "H", "LL", "HH", "N", "A", "AA", "<", ">", "U", "D", "B", "W", "S", "R", "I", "NEG",
    "POS", "IND", "DET", "ND",
];

fn interpretation(code: &str, display: Option<String>) -> Value {
    let system = if V3_INTERPRETATIONS.contains(&code) {
        codes::INTERPRETATION.to_owned()
    } else {
        "http://terminology.hl7.org/CodeSystem/v2-0078".to_owned()
    };
    let mut coding = Map::new();
    coding.insert("system".into(), json!(system));
    coding.insert("code".into(), json!(code));
    if let Some(d) = &display {
        coding.insert("display".into(), json!(d));
    }
    json!({ "coding": [coding], "text": display.unwrap_or_else(|| code.to_owned()) })
}

/// OBX-7 as written ("6.70-8.3", "<5", ">=10", "陰性"): low/high when numeric, and the text.
fn reference_range(text: &str, unit: Option<&Coded>) -> Value {
    let mut range = Map::new();
    let q = |s: &str| v2::quantity(s, unit, CodeContext::Unit);
    let t = text.trim();
    let bound = |prefixes: &[&str]| {
        prefixes
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .and_then(|rest| q(rest.trim()))
    };
    if let Some(high) = bound(&["<=", "≦", "<", "＜", "≤"]) {
        range.insert("high".into(), high);
    } else if let Some(low) = bound(&[">=", "≧", ">", "＞", "≥"]) {
        range.insert("low".into(), low);
    } else if let Some((low, high)) = split_range(t)
        && let (Some(l), Some(h)) = (q(low), q(high))
    {
        range.insert("low".into(), l);
        range.insert("high".into(), h);
    }
    range.insert("text".into(), json!(t));
    Value::Object(range)
}

/// "a-b", "a～b", "a~b" with both sides numbers (a leading minus belongs to `a`).
fn split_range(t: &str) -> Option<(&str, &str)> {
    for sep in ['～', '~', '－', '-'] {
        let start = t.chars().next().map_or(0, char::len_utf8);
        let rest = t.get(start..)?;
        if let Some(i) = rest.find(sep) {
            let low = t.get(..start + i)?.trim();
            let high = rest.get(i + sep.len_utf8()..)?.trim();
            if v2::decimal(low).is_some() && v2::decimal(high).is_some() {
                return Some((low, high));
            }
        }
    }
    None
}

/// OBX-5 by OBX-2 → (element name, value).
fn value(
    notes: &mut Vec<String>,
    obx: &Segment<'_>,
) -> Result<Option<(&'static str, Value)>, MapError> {
    let Some(field) = v2::field(obx, 5) else {
        return Ok(None);
    };
    let value_type = v2::text(obx, 2, 1).unwrap_or_default().to_ascii_uppercase();
    let reps: Vec<_> = field.repetitions().collect();
    let first = reps.first();
    let unit = v2::field_triplets(obx, 6).into_iter().next();
    let as_text = || -> Option<Value> {
        let texts: Vec<String> = reps.iter().filter_map(v2::rep_text).collect();
        (!texts.is_empty()).then(|| json!(texts.join("\n")))
    };
    let where_ = format!("OBX-5 (segment {})", obx.number());
    let more_than_one = |notes: &mut Vec<String>| {
        if reps.len() > 1 {
            notes.push(format!(
                "{where_} has {} repetitions; the first is the value",
                reps.len()
            ));
        }
    };
    let out = match value_type.as_str() {
        "NM" => {
            let text = first.and_then(v2::rep_text);
            match text
                .as_deref()
                .and_then(|t| v2::quantity(t, unit.as_ref(), CodeContext::Unit))
            {
                Some(q) => {
                    more_than_one(notes);
                    Some(("valueQuantity", q))
                }
                None => {
                    notes.push(format!(
                        "{where_} is typed NM but is not a number; kept as text"
                    ));
                    as_text().map(|v| ("valueString", v))
                }
            }
        }
        "SN" => first
            .and_then(|r| structured_numeric(r, unit.as_ref()))
            .or_else(|| {
                notes.push(format!("{where_} is typed SN but is not one; kept as text"));
                as_text().map(|v| ("valueString", v))
            }),
        "ST" | "TX" | "FT" => as_text().map(|v| ("valueString", v)),
        "CWE" | "CE" | "CNE" | "CF" => {
            more_than_one(notes);
            first
                .and_then(|r| v2::rep_concept(r, CodeContext::General))
                .map(|v| ("valueCodeableConcept", v))
        }
        "TS" | "DT" | "DTM" => {
            let c = first.and_then(|r| r.component(1));
            match c {
                Some(c) => v2::dtm_text(v2::comp_text(&c), c.location())?
                    .map(|d| ("valueDateTime", json!(d.to_string()))),
                None => None,
            }
        }
        "XCN" | "XPN" => {
            let names: Vec<String> = reps
                .iter()
                .filter_map(|r| {
                    let p = v2::person(r)?;
                    let name = p.get("display").and_then(Value::as_str).map(str::to_owned);
                    let id = p
                        .get("identifier")
                        .and_then(|i| i.get("value"))
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    match (name, id) {
                        (Some(n), Some(i)) => Some(format!("{n} ({i})")),
                        (Some(n), None) => Some(n),
                        (None, i) => i,
                    }
                })
                .collect();
            (!names.is_empty()).then(|| ("valueString", json!(names.join("\n"))))
        }
        "ZRD" => first.and_then(|r| {
            // JAHIS: drug code^name^system^amount^unit(&-separated triplet).
            let mut cc = v2::concept(
                &v2::triplets(r).into_iter().take(1).collect::<Vec<_>>(),
                CodeContext::General,
                None,
            )?;
            let amount = r.component(4).and_then(|c| v2::comp_text(&c));
            let unit = r.component(5).map(|c| v2::sub_triplet(&c));
            if let Some(a) = amount {
                let unit_text = unit.and_then(|u| u.display.or(u.code)).unwrap_or_default();
                let name = cc
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if let Some(obj) = cc.as_object_mut() {
                    obj.insert(
                        "text".into(),
                        json!(format!("{name} {a}{unit_text}").trim().to_owned()),
                    );
                }
            }
            Some(("valueCodeableConcept", cc))
        }),
        _ => {
            let shown = if value_type.is_empty() {
                "empty".to_owned()
            } else if value_type.len() <= 3 && value_type.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                value_type.clone()
            } else {
                "unknown".to_owned()
            };
            notes.push(format!(
                "OBX-2 (segment {}) value type {shown} has no mapping; OBX-5 kept as text",
                obx.number()
            ));
            as_text().map(|v| ("valueString", v))
        }
    };
    Ok(out)
}

/// SN: comparator^number^separator^number.
fn structured_numeric(
    rep: &crate::message::Repetition<'_>,
    unit: Option<&Coded>,
) -> Option<(&'static str, Value)> {
    let get = |n: usize| rep.component(n).and_then(|c| v2::comp_text(&c));
    let comparator = get(1);
    let n1 = get(2)?;
    let separator = get(3);
    let n2 = get(4);
    match (separator.as_deref(), n2) {
        (Some("-"), Some(n2)) => {
            let low = v2::quantity(&n1, unit, CodeContext::Unit)?;
            let high = v2::quantity(&n2, unit, CodeContext::Unit)?;
            Some(("valueRange", json!({ "low": low, "high": high })))
        }
        (Some(":" | "/"), Some(n2)) => {
            let num = v2::quantity(&n1, None, CodeContext::Unit)?;
            let den = v2::quantity(&n2, None, CodeContext::Unit)?;
            Some((
                "valueRatio",
                json!({ "numerator": num, "denominator": den }),
            ))
        }
        _ => {
            let mut q = v2::quantity(&n1, unit, CodeContext::Unit)?;
            match comparator.as_deref() {
                Some(c @ ("<" | "<=" | ">=" | ">")) => {
                    if let Some(obj) = q.as_object_mut() {
                        obj.insert("comparator".into(), json!(c));
                    }
                }
                None | Some("=") => {}
                Some(_) => return None,
            }
            Some(("valueQuantity", q))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    fn obx(segment: &str) -> (Obx, Vec<String>) {
        let text = format!("MSH|^~\\&|||||||OUL^R22|1|P|2.5\r{segment}\r");
        let msg = Message::parse(&text).unwrap();
        let seg = msg.segment("OBX").unwrap();
        let mut notes = Vec::new();
        let o = read(&mut notes, &seg).unwrap();
        (o, notes)
    }

    #[test]
    fn numeric_results_have_quantity_range_and_flag() {
        let (o, notes) = obx(
            "OBX|2|NM|3A010000002327101^総蛋白^JC10||7.20|g/dl^g/dl^99XYZ|6.70-8.3|H|||F|||201112191500",
        );
        let r = Value::Object(o.resource);
        assert_eq!(r["code"]["coding"][0]["system"], json!(codes::JLAC10));
        assert_eq!(r["valueQuantity"]["value"], json!(7.2));
        assert_eq!(r["valueQuantity"]["unit"], json!("g/dl"));
        assert_eq!(r["referenceRange"][0]["low"]["value"], json!(6.7));
        assert_eq!(r["referenceRange"][0]["high"]["value"], json!(8.3));
        assert_eq!(r["interpretation"][0]["coding"][0]["code"], json!("H"));
        assert_eq!(r["effectiveDateTime"], json!("2011-12-19T15:00:00+09:00"));
        assert_eq!(r["status"], json!("final"));
        assert!(notes.is_empty());
    }

    #[test]
    fn other_value_types() {
        let (o, notes) = obx("OBX|1|NM|X^x^99L||<5|mg|||||P");
        let r = Value::Object(o.resource);
        assert_eq!(r["valueString"], json!("<5"));
        assert_eq!(r["status"], json!("preliminary"));
        assert_eq!(notes.len(), 1);
        let (o, _) = obx("OBX|1|SN|X^x^99L||<^5|mg");
        assert_eq!(
            Value::Object(o.resource)["valueQuantity"]["comparator"],
            json!("<")
        );
        let (o, _) = obx("OBX|1|TX|X^x^99L||line one~line two");
        assert_eq!(
            Value::Object(o.resource)["valueString"],
            json!("line one\nline two")
        );
        let (o, _) = obx("OBX|1|CWE|5H010000009199911^血液型-ABO式^JC10||A^A^JSHR002");
        assert_eq!(
            Value::Object(o.resource)["valueCodeableConcept"]["coding"][0]["code"],
            json!("A")
        );
        let (o, _) = obx("OBX|5|TS|TM-P1^開始時間^JSHR||20111120144512");
        assert_eq!(
            Value::Object(o.resource)["valueDateTime"],
            json!("2011-11-20T14:45:12+09:00")
        );
        let (o, _) = obx("OBX|8|ZRD|DE-02^薬品^JSHR||100555401^セルシン5mg^HOT9^1^AMP&管&MR9P");
        let r = Value::Object(o.resource);
        assert_eq!(
            r["valueCodeableConcept"]["coding"][0]["system"],
            json!(codes::HOT9)
        );
        assert_eq!(r["valueCodeableConcept"]["text"], json!("セルシン5mg 1管"));
        let (o, notes) = obx("OBX|1|ED|X^x^99L||abc");
        assert_eq!(Value::Object(o.resource)["valueString"], json!("abc"));
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn reference_ranges() {
        assert_eq!(reference_range("<5", None)["high"]["value"], json!(5));
        assert_eq!(reference_range("≧10", None)["low"]["value"], json!(10));
        assert_eq!(reference_range("-1.5-2", None)["low"]["value"], json!(-1.5));
        assert_eq!(
            reference_range("1.2～2.0", None)["high"]["value"],
            json!(2.0)
        );
        assert_eq!(reference_range("陰性", None), json!({ "text": "陰性" }));
    }
}
