//! Reading the display fields of stored FHIR resources. Input is whatever the sources sent:
//! every reader tolerates missing or odd elements and returns `None` rather than failing.

use serde_json::Value;

pub(crate) fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => cur.get(i)?,
            Err(_) => cur.get(*p)?,
        };
    }
    cur.as_str()
}

pub(crate) fn n(v: &Value, path: &[&str]) -> Option<f64> {
    let mut cur = v;
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => cur.get(i)?,
            Err(_) => cur.get(*p)?,
        };
    }
    cur.as_f64()
}

/// The human name of a CodeableConcept: its text, else the first coding's display or code.
pub(crate) fn concept(v: Option<&Value>) -> Option<String> {
    let v = v?;
    s(v, &["text"])
        .or_else(|| {
            v.get("coding")?
                .as_array()?
                .iter()
                .find_map(|c| c.get("display").and_then(Value::as_str))
        })
        .or_else(|| s(v, &["coding", "0", "code"]))
        .map(str::to_owned)
}

/// The first coding's code of a CodeableConcept.
pub(crate) fn code(v: Option<&Value>) -> Option<&str> {
    v?.get("coding")?
        .as_array()?
        .iter()
        .find_map(|c| c.get("code")?.as_str())
}

/// A coding of `system` in a CodeableConcept.
pub(crate) fn code_in<'a>(v: Option<&'a Value>, system_contains: &str) -> Option<&'a str> {
    v?.get("coding")?.as_array()?.iter().find_map(|c| {
        let sys = c.get("system")?.as_str()?;
        if sys.contains(system_contains) {
            c.get("code")?.as_str()
        } else {
            None
        }
    })
}

/// A quantity as text: "5.8 %".
pub(crate) fn quantity(v: Option<&Value>) -> Option<String> {
    let v = v?;
    let value = v.get("value")?;
    let num = match value.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
        Some(f) => format!("{f}"),
        None => value.as_str()?.to_owned(),
    };
    let unit = s(v, &["unit"]).or_else(|| s(v, &["code"])).unwrap_or("");
    Some(format!("{num} {unit}").trim().to_owned())
}

/// The dosage instruction as a clinician writes it: text, else dose + timing.
pub(crate) fn dosage(res: &Value) -> Option<String> {
    let d = res.get("dosageInstruction")?.get(0)?;
    if let Some(t) = s(d, &["text"]) {
        return Some(t.to_owned());
    }
    let dose = quantity(
        d.get("doseAndRate")
            .and_then(|x| x.get(0))
            .and_then(|x| x.get("doseQuantity")),
    );
    let timing = concept(d.get("timing").and_then(|t| t.get("code")));
    let parts: Vec<String> = [dose, timing].into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Days supplied.
pub(crate) fn days(res: &Value) -> Option<i64> {
    n(res, &["dispenseRequest", "expectedSupplyDuration", "value"]).map(|d| d as i64)
}
