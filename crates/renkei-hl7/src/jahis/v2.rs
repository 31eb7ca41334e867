//! Reading HL7 v2 values into FHIR JSON pieces: text, coded values (CWE → CodeableConcept),
//! timestamps (DTM → dateTime), quantities, people (XCN) and places (PL).
//!
//! Every reader treats an absent value, an empty one and the HL7 explicit null `""` alike (as
//! absent) and returns unescaped, trimmed text. Timestamps that cannot be read are errors
//! ([`MapError::BadValue`]): a wrong date on a clinical record is worse than a quarantined file.

use serde_json::{Map, Number, Value, json};

use super::codes::{self, CodeContext};
use super::error::{self, MapError};
use crate::message::{Component, Field, Repetition, Segment, Subcomponent};
use crate::time::Dtm;

/// Text of a value: unescaped, trimmed; `None` when empty or the HL7 null `""`.
pub(crate) fn clean(raw: &str, unescaped: std::borrow::Cow<'_, str>) -> Option<String> {
    if raw.is_empty() || raw == "\"\"" {
        return None;
    }
    let t = unescaped.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub(crate) fn field_text(f: &Field<'_>) -> Option<String> {
    clean(f.as_str(), f.unescaped())
}

pub(crate) fn rep_text(r: &Repetition<'_>) -> Option<String> {
    clean(r.as_str(), r.unescaped())
}

pub(crate) fn comp_text(c: &Component<'_>) -> Option<String> {
    clean(c.as_str(), c.unescaped())
}

pub(crate) fn sub_text(s: &Subcomponent<'_>) -> Option<String> {
    clean(s.as_str(), s.unescaped())
}

/// A present (non-empty, non-null) field.
pub(crate) fn field<'a>(seg: &Segment<'a>, n: usize) -> Option<Field<'a>> {
    seg.field(n).filter(|f| !f.is_empty() && !f.is_null())
}

/// Component `c` of the first repetition of field `n`, as text.
pub(crate) fn text(seg: &Segment<'_>, n: usize, c: usize) -> Option<String> {
    field(seg, n)?.component(c).and_then(|c| comp_text(&c))
}

/// The whole field `n` as text (all repetitions and components, escapes decoded). For ST/TX
/// fields that a sender may have split by accident.
pub(crate) fn whole(seg: &Segment<'_>, n: usize) -> Option<String> {
    field(seg, n).and_then(|f| field_text(&f))
}

/// Each repetition's whole text of field `n`.
pub(crate) fn repetitions_text(seg: &Segment<'_>, n: usize) -> Vec<String> {
    field(seg, n)
        .map(|f| f.repetitions().filter_map(|r| rep_text(&r)).collect())
        .unwrap_or_default()
}

/// One coded triplet: code, display, coding-system name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Coded {
    pub code: Option<String>,
    pub display: Option<String>,
    pub system_name: Option<String>,
}

impl Coded {
    pub(crate) fn is_empty(&self) -> bool {
        self.code.is_none() && self.display.is_none()
    }

    /// The FHIR coding, or `None` without a code.
    pub(crate) fn coding(&self, context: CodeContext) -> Option<Value> {
        let code = self.code.as_deref()?;
        let mut c = Map::new();
        if let Some(system) = self
            .system_name
            .as_deref()
            .and_then(|s| codes::system_uri(s, code, context))
        {
            c.insert("system".into(), Value::String(system.into_owned()));
        }
        c.insert("code".into(), Value::String(code.to_owned()));
        if let Some(d) = &self.display {
            c.insert("display".into(), Value::String(d.clone()));
        }
        Some(Value::Object(c))
    }

    /// A CodeableConcept of this triplet alone.
    pub(crate) fn concept(&self, context: CodeContext) -> Option<Value> {
        concept(std::slice::from_ref(self), context, None)
    }
}

/// The triplets of a CWE/CE repetition: (1, 2, 3) and the alternate (4, 5, 6), non-empty ones.
pub(crate) fn triplets(rep: &Repetition<'_>) -> Vec<Coded> {
    let get = |n: usize| rep.component(n).and_then(|c| comp_text(&c));
    [(1, 2, 3), (4, 5, 6)]
        .into_iter()
        .map(|(a, b, c)| Coded {
            code: get(a),
            display: get(b),
            system_name: get(c),
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// The triplets of the first repetition of field `n`.
pub(crate) fn field_triplets(seg: &Segment<'_>, n: usize) -> Vec<Coded> {
    field(seg, n)
        .and_then(|f| f.repetition(1))
        .map(|r| triplets(&r))
        .unwrap_or_default()
}

/// CWE-9 original text of a repetition.
pub(crate) fn original_text(rep: &Repetition<'_>) -> Option<String> {
    rep.component(9).and_then(|c| comp_text(&c))
}

/// A coded triplet written in the subcomponents of one component (`code&text&system`), as in
/// TQ1-3 (RPT.1), OBX-6 inside a CQ, RXE-19.
pub(crate) fn sub_triplet(comp: &Component<'_>) -> Coded {
    let get = |n: usize| comp.subcomponent(n).and_then(|s| sub_text(&s));
    Coded {
        code: get(1),
        display: get(2),
        system_name: get(3),
    }
}

/// A CodeableConcept from triplets: one coding per triplet with a code, `text` from the
/// original text or the first display. `None` when there is nothing at all.
pub(crate) fn concept(
    triplets: &[Coded],
    context: CodeContext,
    original: Option<String>,
) -> Option<Value> {
    let codings: Vec<Value> = triplets.iter().filter_map(|t| t.coding(context)).collect();
    let text = original.or_else(|| triplets.iter().find_map(|t| t.display.clone()));
    if codings.is_empty() && text.is_none() {
        return None;
    }
    let mut cc = Map::new();
    if !codings.is_empty() {
        cc.insert("coding".into(), Value::Array(codings));
    }
    if let Some(t) = text {
        cc.insert("text".into(), Value::String(t));
    }
    Some(Value::Object(cc))
}

/// The CodeableConcept of a CWE repetition (both triplets and the original text).
pub(crate) fn rep_concept(rep: &Repetition<'_>, context: CodeContext) -> Option<Value> {
    concept(&triplets(rep), context, original_text(rep))
}

/// The CodeableConcept of the first repetition of field `n`.
pub(crate) fn field_concept(seg: &Segment<'_>, n: usize, context: CodeContext) -> Option<Value> {
    field(seg, n)
        .and_then(|f| f.repetition(1))
        .and_then(|r| rep_concept(&r, context))
}

/// One CodeableConcept per repetition of field `n`.
pub(crate) fn field_concepts(seg: &Segment<'_>, n: usize, context: CodeContext) -> Vec<Value> {
    field(seg, n)
        .map(|f| {
            f.repetitions()
                .filter_map(|r| rep_concept(&r, context))
                .collect()
        })
        .unwrap_or_default()
}

/// A timestamp in field `n` (component 1, the DTM of a TS), or `None` when absent.
///
/// # Errors
/// [`MapError::BadValue`] naming the field when the value is not an HL7 timestamp.
pub(crate) fn dtm(seg: &Segment<'_>, n: usize) -> Result<Option<Dtm>, MapError> {
    let Some(f) = field(seg, n) else {
        return Ok(None);
    };
    let Some(c) = f.component(1) else {
        return Ok(None);
    };
    let Some(t) = comp_text(&c) else {
        return Ok(None);
    };
    Dtm::parse(&t)
        .map(Some)
        .map_err(|_| MapError::bad(c.location(), error::TIMESTAMP))
}

/// A timestamp read from text at a known location (a value inside another data type).
pub(crate) fn dtm_text(
    text: Option<String>,
    location: crate::message::Location,
) -> Result<Option<Dtm>, MapError> {
    match text {
        None => Ok(None),
        Some(t) => Dtm::parse(&t)
            .map(Some)
            .map_err(|_| MapError::bad(location, error::TIMESTAMP)),
    }
}

/// FHIR `instant` text of a timestamp with a time of day (FHIR requires seconds and an offset,
/// which [`Dtm`]'s display always writes for such values); `None` for a date-only value.
pub(crate) fn instant(d: &Dtm) -> Option<String> {
    (!d.is_date_only()).then(|| d.to_string())
}

/// A decimal for FHIR: integers stay integers, others become the nearest `f64`. Returns the
/// number and the count of decimals written (to keep "7.20" as 2 decimals).
pub(crate) fn decimal(text: &str) -> Option<(Number, usize)> {
    let t = text.trim();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let well_formed = !(int_part.is_empty() && frac_part.is_empty())
        && int_part.bytes().all(|b| b.is_ascii_digit())
        && frac_part.bytes().all(|b| b.is_ascii_digit())
        && !(unsigned.contains('.') && frac_part.is_empty() && int_part.is_empty());
    if !well_formed {
        return None;
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    if !t.contains('.')
        && let Ok(i) = t.parse::<i64>()
    {
        return Some((Number::from(i), 0));
    }
    let f: f64 = t.parse().ok()?;
    Number::from_f64(f).map(|n| (n, frac_part.len()))
}

/// A FHIR Quantity from a number text and an optional unit triplet. `None` when the number is
/// not a decimal.
pub(crate) fn quantity(value: &str, unit: Option<&Coded>, context: CodeContext) -> Option<Value> {
    let (number, decimals) = decimal(value)?;
    let mut q = Map::new();
    q.insert("value".into(), Value::Number(number.clone()));
    if decimals > 0
        && number
            .to_string()
            .split_once('.')
            .map_or(0, |(_, f)| f.len())
            < decimals
    {
        // The sender wrote trailing zeros ("7.20"): say how many decimals were meant.
        q.insert(
            "extension".into(),
            json!([{
                "url": "http://hl7.org/fhir/StructureDefinition/quantity-precision",
                "valueInteger": decimals
            }]),
        );
    }
    if let Some(u) = unit {
        add_unit(&mut q, u, context);
    }
    Some(Value::Object(q))
}

/// Add `unit`, `system` and `code` of a unit triplet to a Quantity object.
pub(crate) fn add_unit(q: &mut Map<String, Value>, u: &Coded, context: CodeContext) {
    if let Some(text) = u.display.clone().or_else(|| u.code.clone()) {
        q.insert("unit".into(), Value::String(text));
    }
    if let Some(code) = &u.code
        && let Some(system) = u
            .system_name
            .as_deref()
            .and_then(|s| codes::system_uri(s, code, context))
    {
        q.insert("system".into(), Value::String(system.into_owned()));
        q.insert("code".into(), Value::String(code.clone()));
    }
}

/// A reference to a person from an XCN repetition: the local staff ID as identifier value and
/// the name as display. `None` when the repetition holds neither.
pub(crate) fn person(rep: &Repetition<'_>) -> Option<Value> {
    let get = |n: usize| rep.component(n).and_then(|c| comp_text(&c));
    let id = get(1);
    let name: Vec<String> = [get(2), get(3)].into_iter().flatten().collect();
    let mut r = Map::new();
    if let Some(id) = id {
        r.insert("identifier".into(), json!({ "value": id }));
    }
    if !name.is_empty() {
        r.insert("display".into(), Value::String(name.join(" ")));
    }
    (!r.is_empty()).then_some(Value::Object(r))
}

/// The person named in the first repetition of field `n`.
pub(crate) fn field_person(seg: &Segment<'_>, n: usize) -> Option<Value> {
    field(seg, n)
        .and_then(|f| f.repetition(1))
        .and_then(|r| person(&r))
}

/// A display text for a PL (ward, room, bed) in field `n`.
pub(crate) fn place(seg: &Segment<'_>, n: usize) -> Option<String> {
    let f = field(seg, n)?;
    let r = f.repetition(1)?;
    let parts: Vec<String> = (1..=4)
        .filter_map(|i| r.component(i).and_then(|c| comp_text(&c)))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// The resource reference to the patient, following JAMI's logical-id rule for the Patient made
/// from ADT-00: `Patient/{患者ID}.ADT-00`.
pub(crate) fn subject(patient_id: &str) -> Value {
    json!({ "reference": format!("Patient/{patient_id}.ADT-00") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Message;

    #[test]
    fn decimals_keep_integers_and_precision() {
        assert_eq!(decimal("67").map(|d| d.0.to_string()), Some("67".into()));
        assert_eq!(decimal("-14").map(|d| d.0.to_string()), Some("-14".into()));
        assert_eq!(
            decimal("2.505").map(|d| d.0.to_string()),
            Some("2.505".into())
        );
        assert_eq!(decimal("+.5").map(|d| d.0.to_string()), Some("0.5".into()));
        assert_eq!(decimal("7.20").map(|d| d.1), Some(2));
        for bad in ["", "-", ".", "1.2.3", "1e5", "<5", "NaN", "1,5"] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
        let q = quantity("7.20", None, CodeContext::Unit).unwrap();
        assert_eq!(q["value"], json!(7.2));
        assert_eq!(q["extension"][0]["valueInteger"], json!(2));
        assert!(
            quantity("7.2", None, CodeContext::Unit)
                .unwrap()
                .get("extension")
                .is_none()
        );
    }

    #[test]
    fn coded_values_become_codeable_concepts() {
        let text =
            "MSH|^~\\&|||||||X^Y|1|P|2.5\rRXE||108665201^ダーゼン錠^HOT9^620^Local^99X|\"\"|\r";
        let msg = Message::parse(text).unwrap();
        let rxe = msg.segment("RXE").unwrap();
        let cc = field_concept(&rxe, 2, CodeContext::General).unwrap();
        assert_eq!(cc["coding"][0]["system"], json!(codes::HOT9));
        assert_eq!(
            cc["coding"][1]["system"],
            json!(format!("{}99X", codes::LOCAL_SYSTEM_PREFIX))
        );
        assert_eq!(cc["text"], json!("ダーゼン錠"));
        assert_eq!(text_at(&rxe, 3), None);
    }

    fn text_at(seg: &Segment<'_>, n: usize) -> Option<String> {
        text(seg, n, 1)
    }
}
