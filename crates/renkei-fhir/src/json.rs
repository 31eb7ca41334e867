//! Small, panic-free helpers for reading FHIR JSON (`serde_json::Value`): element access,
//! codings, identifiers, profile claims, FHIR dates, and the canonical form used for hashing.
//!
//! FHIR input is untrusted: every accessor tolerates a missing element or one of the wrong JSON
//! type by returning `None` or an empty list, and the callers decide whether that breaks a rule.

use serde_json::Value;
use sha2::{Digest, Sha256};
use time::{Date, Month};

/// A string element of an object.
pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A repeating element as a slice (empty when absent or not an array).
pub(crate) fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// An element that FHIR defines as repeating but some senders write as a single object (and the
/// reverse: `Bundle.identifier` is single in R4, yet the CLINS guide prints it as a list).
pub(crate) fn one_or_many<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    match v.get(key) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    }
}

/// One `Coding`, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Coding<'a> {
    pub system: Option<&'a str>,
    pub code: Option<&'a str>,
    pub display: Option<&'a str>,
}

impl<'a> Coding<'a> {
    pub(crate) fn from_value(v: &'a Value) -> Self {
        Self {
            system: str_of(v, "system"),
            code: str_of(v, "code"),
            display: str_of(v, "display"),
        }
    }
}

/// The codings of a `CodeableConcept` (which may also be given as a bare `Coding`, as
/// `Encounter.class` is).
pub(crate) fn codings(concept: &Value) -> Vec<Coding<'_>> {
    if concept.get("coding").is_some() {
        list(concept, "coding")
            .iter()
            .map(Coding::from_value)
            .collect()
    } else if concept.get("code").is_some() {
        vec![Coding::from_value(concept)]
    } else {
        Vec::new()
    }
}

/// `identifier` entries as (system, value) pairs; entries without a value are ignored because
/// they identify nothing.
pub(crate) fn identifiers(v: &Value) -> Vec<(Option<&str>, &str)> {
    one_or_many(v, "identifier")
        .into_iter()
        .filter_map(|id| {
            let value = str_of(id, "value")?;
            (!value.trim().is_empty()).then_some((str_of(id, "system"), value))
        })
        .collect()
}

/// Whether `meta.profile` claims `base` (with or without a `|version` suffix), which is how the
/// CLINS invariants themselves compare profiles (R0212, R0213).
pub(crate) fn claims_profile(resource: &Value, base: &str) -> bool {
    let Some(meta) = resource.get("meta") else {
        return false;
    };
    list(meta, "profile")
        .iter()
        .filter_map(Value::as_str)
        .any(|p| p.split('|').next() == Some(base))
}

/// Whether any profile claimed in `meta.profile` starts with `prefix`.
pub(crate) fn claims_profile_prefix(resource: &Value, prefix: &str) -> bool {
    let Some(meta) = resource.get("meta") else {
        return false;
    };
    list(meta, "profile")
        .iter()
        .filter_map(Value::as_str)
        .any(|p| p.starts_with(prefix))
}

/// The codings of `meta.tag` or `meta.security`.
pub(crate) fn meta_codings<'a>(resource: &'a Value, key: &str) -> Vec<Coding<'a>> {
    match resource.get("meta") {
        Some(meta) => list(meta, key).iter().map(Coding::from_value).collect(),
        None => Vec::new(),
    }
}

/// The calendar date of a FHIR `date`, `dateTime` or `instant`.
///
/// The date is taken as written: `2021-07-05T11:19:41+09:00` is 5 July, the day in the sender's
/// own time zone, which is the clinically meaningful day. A reduced-precision value (`2018`,
/// `2022-05`) gives its first day: the earliest day it can mean, so that the consent-start rule
/// (records dated before consent start are not shared) errs towards not sharing.
pub(crate) fn fhir_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(range)?;
        if part.bytes().all(|b| b.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let year = i32::try_from(digits(0..4)?).ok()?;
    let (month, day) = match s.len() {
        4 => (1, 1),
        7 if s.get(4..5) == Some("-") => (digits(5..7)?, 1),
        n if n >= 10 && s.get(4..5) == Some("-") && s.get(7..8) == Some("-") => {
            // A date, or the date part of a dateTime / instant.
            if n > 10 && s.get(10..11) != Some("T") {
                return None;
            }
            (digits(5..7)?, digits(8..10)?)
        }
        _ => return None,
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// The first of several candidate elements that holds a parsable date. Each candidate is a path
/// of object keys, e.g. `["effectivePeriod", "start"]`.
pub(crate) fn first_date(resource: &Value, candidates: &[&[&str]]) -> Option<Date> {
    candidates.iter().find_map(|path| {
        let mut v = resource;
        for key in *path {
            v = v.get(*key)?;
        }
        v.as_str().and_then(fhir_date)
    })
}

/// Canonical JSON text: object keys sorted, no whitespace. Two resources that differ only in
/// key order or formatting have the same canonical text, and so the same hash.
pub(crate) fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&Value::String(s.clone()).to_string()),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
    }
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A value from the input that may be echoed in an error message: only short code-like strings
/// (codes from code systems, resource type names, facility numbers). Anything else — which could
/// be a name, an address or a patient ID typed into the wrong element — is never echoed.
pub(crate) fn safe_token(s: &str) -> Option<String> {
    let ok = (1..=40).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    ok.then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::date;

    #[test]
    fn fhir_dates_keep_the_senders_calendar_day() {
        assert_eq!(
            fhir_date("2021-07-05T23:19:41+09:00"),
            Some(date!(2021 - 07 - 05))
        );
        assert_eq!(fhir_date("2021-07-05"), Some(date!(2021 - 07 - 05)));
        assert_eq!(
            fhir_date("2021-07-05T14:11:13.000Z"),
            Some(date!(2021 - 07 - 05))
        );
    }

    #[test]
    fn reduced_precision_dates_give_their_first_day() {
        assert_eq!(fhir_date("2018"), Some(date!(2018 - 01 - 01)));
        assert_eq!(fhir_date("2022-05"), Some(date!(2022 - 05 - 01)));
    }

    #[test]
    fn malformed_dates_are_none() {
        for s in [
            "",
            "20",
            "2021-13-01",
            "2021-02-30",
            "2021/07/05",
            "2021-07-05X",
            "２０２１",
        ] {
            assert_eq!(fhir_date(s), None, "{s}");
        }
    }

    #[test]
    fn canonical_json_ignores_key_order_and_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{"b": [1, {"y": 2, "x": "é"}], "a": null}"#).unwrap();
        let b = json!({"a": null, "b": [1, {"x": "é", "y": 2}]});
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&b), r#"{"a":null,"b":[1,{"x":"é","y":2}]}"#);
    }

    #[test]
    fn only_code_like_values_are_echoed() {
        assert_eq!(
            safe_token("3A015000001827101").as_deref(),
            Some("3A015000001827101")
        );
        assert_eq!(safe_token("牧野 爛漫"), None);
        assert_eq!(safe_token("a b"), None);
        assert_eq!(safe_token(""), None);
    }
}
