//! Who a submission is about: [`PatientInfo`] from a Patient resource, and the checks that every
//! record of a submission is about that same patient at the submitting facility.
//!
//! Filing data under the wrong patient or facility is the worst outcome this network can have,
//! so every doubt is an error (`patient-mismatch`, `missing-patient`) rather than a guess.

use crate::clins::{INSURANCE_MEMBER_ID_SYSTEM, LOCAL_PATIENT_ID_OID_PREFIX};
use crate::error::{FhirError, PatientProblem};
use crate::json::{fhir_date, identifiers, list, str_of};
use crate::model::PatientInfo;
use renkei_domain::Sex;
use serde_json::Value;

const EN_REPRESENTATION: &str =
    "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

/// How a `system` relates to this facility's local patient IDs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LocalIdSystem {
    /// `urn:oid:1.2.392.100495.20.3.51.1` + this facility's number.
    Ours,
    /// Under the local-ID arc but another facility's (or malformed).
    Other,
    /// Not a local patient ID system.
    NotLocal,
}

fn classify(system: Option<&str>, facility: &str) -> LocalIdSystem {
    match system.and_then(|s| s.strip_prefix(LOCAL_PATIENT_ID_OID_PREFIX)) {
        None => LocalIdSystem::NotLocal,
        Some(rest) if rest.strip_prefix('1') == Some(facility) => LocalIdSystem::Ours,
        Some(_) => LocalIdSystem::Other,
    }
}

/// The local patient ID among identifiers, checking R1010/R1011: a local-ID system naming another
/// facility is refused, and so are two different IDs for this facility.
fn local_id(
    ids: &[(Option<&str>, &str)],
    facility: &str,
    path: &str,
) -> Result<Option<String>, FhirError> {
    let mut found: Option<&str> = None;
    for (system, value) in ids {
        match classify(*system, facility) {
            LocalIdSystem::NotLocal => {}
            LocalIdSystem::Other => {
                return Err(FhirError::PatientMismatch {
                    path: path.to_owned(),
                    problem: PatientProblem::OtherFacility,
                });
            }
            LocalIdSystem::Ours => {
                let value = value.trim();
                if found.is_some_and(|f| f != value) {
                    return Err(FhirError::PatientMismatch {
                        path: path.to_owned(),
                        problem: PatientProblem::Ambiguous,
                    });
                }
                found = Some(value);
            }
        }
    }
    Ok(found.map(str::to_owned))
}

fn insurance(ids: &[(Option<&str>, &str)]) -> Option<String> {
    ids.iter()
        .find(|(system, _)| *system == Some(INSURANCE_MEMBER_ID_SYSTEM))
        .map(|(_, value)| value.trim().to_owned())
}

/// Demographics and identifiers of a Patient resource. `path` locates it in the payload.
pub(crate) fn patient_info(
    patient: &Value,
    facility: &str,
    path: &str,
) -> Result<PatientInfo, FhirError> {
    let ids = identifiers(patient);
    let (name_kanji, name_kana) = names(patient);
    let (postal_code, address) = address(patient);
    Ok(PatientInfo {
        local_id: local_id(&ids, facility, &format!("{path}.identifier"))?,
        name_kanji,
        name_kana,
        sex: str_of(patient, "gender").map(|g| match g {
            "male" => Sex::Male,
            "female" => Sex::Female,
            // FHIR's "other" has no place in the network's three-valued 性別.
            _ => Sex::Unknown,
        }),
        // Only a full date: a partial birth date would mislead patient matching.
        birth_date: str_of(patient, "birthDate")
            .filter(|d| d.trim().len() == 10)
            .and_then(fhir_date),
        postal_code,
        address,
        phone: phone(patient),
        insurance: insurance(&ids),
        resource_id: str_of(patient, "id").map(str::to_owned),
    })
}

/// (漢字, カナ) names. JP Core marks them with the iso21090-EN-representation extension: `IDE`
/// (ideographic) for kanji and `SYL` (syllabic) for kana; an unmarked name counts as kana when it
/// is written in kana only.
fn names(patient: &Value) -> (Option<String>, Option<String>) {
    let mut kanji = None;
    let mut kana = None;
    for name in list(patient, "name") {
        if str_of(name, "use") == Some("old") {
            continue;
        }
        let Some(text) = name_text(name) else {
            continue;
        };
        let representation = list(name, "extension")
            .iter()
            .find(|e| str_of(e, "url") == Some(EN_REPRESENTATION))
            .and_then(|e| str_of(e, "valueCode"));
        let is_kana = match representation {
            Some("SYL") => true,
            Some("IDE") => false,
            Some(_) => continue, // ABC (alphabetic) and others are neither.
            None => text.chars().all(|c| is_kana_char(c) || c.is_whitespace()),
        };
        let slot = if is_kana { &mut kana } else { &mut kanji };
        if slot.is_none() {
            *slot = Some(text);
        }
    }
    (kanji, kana)
}

fn is_kana_char(c: char) -> bool {
    matches!(c, '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}')
}

fn name_text(name: &Value) -> Option<String> {
    if let Some(text) = str_of(name, "text")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        return Some(text.to_owned());
    }
    let family = str_of(name, "family").unwrap_or_default().trim();
    let given: Vec<&str> = list(name, "given")
        .iter()
        .filter_map(Value::as_str)
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    let joined = std::iter::once(family)
        .filter(|f| !f.is_empty())
        .chain(given)
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// (postal code, address) of the current home address (else the first current one). Japanese
/// addresses run from prefecture to building: `text`, or state + city + lines.
fn address(patient: &Value) -> (Option<String>, Option<String>) {
    let current: Vec<&Value> = list(patient, "address")
        .iter()
        .filter(|a| str_of(a, "use") != Some("old"))
        .collect();
    let Some(addr) = current
        .iter()
        .find(|a| str_of(a, "use") == Some("home"))
        .or_else(|| current.first())
    else {
        return (None, None);
    };
    let postal = str_of(addr, "postalCode")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    let text = str_of(addr, "text")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            let parts: String = [str_of(addr, "state"), str_of(addr, "city")]
                .into_iter()
                .flatten()
                .chain(list(addr, "line").iter().filter_map(Value::as_str))
                .map(str::trim)
                .collect();
            (!parts.is_empty()).then_some(parts)
        });
    (postal, text)
}

/// The patient's own phone number with the best (lowest) rank; contacts' numbers are not the
/// patient's.
fn phone(patient: &Value) -> Option<String> {
    list(patient, "telecom")
        .iter()
        .filter(|t| str_of(t, "system") == Some("phone") && str_of(t, "use") != Some("old"))
        .filter_map(|t| {
            let value = str_of(t, "value")?.trim();
            let rank = t.get("rank").and_then(Value::as_u64).unwrap_or(u64::MAX);
            (!value.is_empty()).then_some((rank, value))
        })
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, v)| v.to_owned())
}

/// The element naming a resource's patient, and its name: `subject` for most types, `patient`
/// for AllergyIntolerance and Immunization.
pub(crate) fn patient_reference(resource: &Value) -> Option<(&'static str, &Value)> {
    if let Some(r) = resource.get("subject") {
        return Some(("subject", r));
    }
    resource.get("patient").map(|r| ("patient", r))
}

/// `<id>` of a reference `Patient/<id>` (relative, or absolute on the facility's server, with or
/// without `/_history/<version>`).
fn referenced_patient_id(reference: &str) -> Option<&str> {
    let without_history = reference
        .split_once("/_history/")
        .map_or(reference, |(head, _)| head);
    let mut segments = without_history.rsplit('/');
    let id = segments.next()?;
    (segments.next() == Some("Patient") && !id.is_empty()).then_some(id)
}

/// A contained resource by its local id (`#id` references).
fn contained<'a>(resource: &'a Value, local_id: &str) -> Option<(usize, &'a Value)> {
    list(resource, "contained")
        .iter()
        .enumerate()
        .find(|(_, c)| str_of(c, "id") == Some(local_id))
}

/// The patient of a Bundle, against which every entry's patient reference is checked.
pub(crate) struct BundlePatient<'a> {
    pub info: PatientInfo,
    pub full_url: Option<&'a str>,
    pub id: Option<&'a str>,
    pub identifiers: Vec<(Option<&'a str>, &'a str)>,
}

impl<'a> BundlePatient<'a> {
    pub(crate) fn new(
        patient: &'a Value,
        full_url: Option<&'a str>,
        facility: &str,
        path: &str,
    ) -> Result<Self, FhirError> {
        Ok(Self {
            info: patient_info(patient, facility, path)?,
            full_url,
            id: str_of(patient, "id"),
            identifiers: identifiers(patient),
        })
    }

    fn has_identifier(&self, system: Option<&str>, value: &str) -> bool {
        self.identifiers
            .iter()
            .any(|(s, v)| *s == system && v.trim() == value.trim())
    }

    fn has_system(&self, system: Option<&str>) -> bool {
        self.identifiers.iter().any(|(s, _)| *s == system)
    }

    /// Check that an entry is about this patient. An entry without a patient reference belongs
    /// to the Bundle's patient (a Bundle holds one patient's data; JP_Bundle_CLINS notes "異なる
    /// 患者のデータをひとつのBundleリソースに含めてはならない").
    pub(crate) fn check_entry(
        &self,
        resource: &Value,
        path: &str,
        facility: &str,
    ) -> Result<(), FhirError> {
        let Some((field, reference)) = patient_reference(resource) else {
            return Ok(());
        };
        let rpath = format!("{path}.{field}");
        let mismatch = |problem| FhirError::PatientMismatch {
            path: rpath.clone(),
            problem,
        };
        if let Some(r) = str_of(reference, "reference") {
            let resolves = if Some(r) == self.full_url {
                true
            } else if let Some(local) = r.strip_prefix('#') {
                // A contained Patient must share an identifier with the Bundle's Patient.
                contained(resource, local).is_some_and(|(_, p)| {
                    identifiers(p)
                        .iter()
                        .any(|(s, v)| self.has_identifier(*s, v))
                })
            } else if let Some(id) = referenced_patient_id(r) {
                Some(id) == self.id
            } else {
                false
            };
            if !resolves {
                return Err(mismatch(PatientProblem::UnresolvedReference));
            }
        }
        if let Some(identifier) = reference.get("identifier") {
            let system = str_of(identifier, "system");
            if let Some(value) = str_of(identifier, "value") {
                match classify(system, facility) {
                    LocalIdSystem::Other => return Err(mismatch(PatientProblem::OtherFacility)),
                    _ if self.has_identifier(system, value) => {}
                    _ if self.has_system(system) => {
                        return Err(mismatch(PatientProblem::DifferentPatient));
                    }
                    // An identifier the Bundle's Patient does not carry cannot be verified.
                    _ => return Err(mismatch(PatientProblem::UnresolvedReference)),
                }
            }
        }
        Ok(())
    }
}

/// The patient of a single resource sent alone: a contained Patient it references, the
/// identifier in its subject (this facility's local ID, or the insurance identifier), or a
/// `Patient/<id>` reference to the facility's own Patient resource. Anything else — no subject,
/// a `urn:uuid:` reference that only means something inside the Bundle it came from — cannot be
/// attributed, and is refused rather than guessed.
pub(crate) fn standalone_patient(
    resource: &Value,
    path: &str,
    facility: &str,
) -> Result<PatientInfo, FhirError> {
    let Some((field, reference)) = patient_reference(resource) else {
        // No subject at all: a contained Patient is the only possible answer.
        let patients: Vec<(usize, &Value)> = list(resource, "contained")
            .iter()
            .enumerate()
            .filter(|(_, c)| str_of(c, "resourceType") == Some("Patient"))
            .collect();
        return match patients.as_slice() {
            [(i, p)] => contained_patient(p, facility, &format!("{path}.contained[{i}]")),
            [] => Err(FhirError::MissingPatient {
                path: format!("{path}.subject"),
            }),
            _ => Err(FhirError::PatientMismatch {
                path: format!("{path}.contained"),
                problem: PatientProblem::MultiplePatients,
            }),
        };
    };
    let rpath = format!("{path}.{field}");
    let mut info = PatientInfo::default();
    if let Some(r) = str_of(reference, "reference") {
        if let Some(local) = r.strip_prefix('#') {
            match contained(resource, local) {
                Some((i, p)) if str_of(p, "resourceType") == Some("Patient") => {
                    info = contained_patient(p, facility, &format!("{path}.contained[{i}]"))?;
                }
                _ => {
                    return Err(FhirError::PatientMismatch {
                        path: rpath,
                        problem: PatientProblem::UnresolvedReference,
                    });
                }
            }
        } else if let Some(id) = referenced_patient_id(r) {
            info.resource_id = Some(id.to_owned());
        }
    }
    if let Some(identifier) = reference.get("identifier") {
        let system = str_of(identifier, "system");
        if let Some(value) = str_of(identifier, "value").map(str::trim) {
            let conflict =
                |existing: &Option<String>| existing.as_deref().is_some_and(|e| e != value);
            match classify(system, facility) {
                LocalIdSystem::Other => {
                    return Err(FhirError::PatientMismatch {
                        path: rpath,
                        problem: PatientProblem::OtherFacility,
                    });
                }
                LocalIdSystem::Ours if conflict(&info.local_id) => {
                    return Err(FhirError::PatientMismatch {
                        path: rpath,
                        problem: PatientProblem::DifferentPatient,
                    });
                }
                LocalIdSystem::Ours => info.local_id = Some(value.to_owned()),
                LocalIdSystem::NotLocal if system == Some(INSURANCE_MEMBER_ID_SYSTEM) => {
                    if conflict(&info.insurance) {
                        return Err(FhirError::PatientMismatch {
                            path: rpath,
                            problem: PatientProblem::DifferentPatient,
                        });
                    }
                    info.insurance = Some(value.to_owned());
                }
                // Other identifier systems carry no facility namespace and are not used to file.
                LocalIdSystem::NotLocal => {}
            }
        }
    }
    if info.is_identified() {
        Ok(info)
    } else {
        Err(FhirError::MissingPatient { path: rpath })
    }
}

/// A contained Patient: its `id` is local to the containing resource, so it is not a resource id.
fn contained_patient(
    patient: &Value,
    facility: &str,
    path: &str,
) -> Result<PatientInfo, FhirError> {
    let mut info = patient_info(patient, facility, path)?;
    info.resource_id = None;
    if info.is_identified() {
        Ok(info)
    } else {
        Err(FhirError::MissingPatient {
            path: format!("{path}.identifier"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const FACILITY: &str = "1318814790";

    fn patient() -> Value {
        json!({
            "resourceType": "Patient", "id": "p1",
            "identifier": [
                {"system": "urn:oid:1.2.392.100495.20.3.51.11318814790", "value": "000999739"},
                {"system": INSURANCE_MEMBER_ID_SYSTEM, "value": "00012345:あいう:１８７:05"}
            ],
            "name": [
                {"extension": [{"url": EN_REPRESENTATION, "valueCode": "IDE"}], "family": "牧野", "given": ["爛漫"]},
                {"extension": [{"url": EN_REPRESENTATION, "valueCode": "SYL"}], "text": "マキノ ランマン"}
            ],
            "gender": "female", "birthDate": "1930-06-28",
            "telecom": [{"system": "phone", "value": "03-0000-0002", "rank": 2}, {"system": "phone", "value": "03-0000-0001", "rank": 1}],
            "address": [{"use": "old", "text": "旧住所"}, {"postalCode": "781-8125", "state": "高知県", "city": "高知市", "line": ["五台山4200-6"]}]
        })
    }

    #[test]
    fn patient_info_reads_the_jp_core_conventions() {
        let info = patient_info(&patient(), FACILITY, "").unwrap();
        assert_eq!(info.local_id.as_deref(), Some("000999739"));
        assert_eq!(info.name_kanji.as_deref(), Some("牧野 爛漫"));
        assert_eq!(info.name_kana.as_deref(), Some("マキノ ランマン"));
        assert_eq!(info.sex, Some(Sex::Female));
        assert_eq!(info.birth_date, Some(time::macros::date!(1930 - 06 - 28)));
        assert_eq!(info.postal_code.as_deref(), Some("781-8125"));
        assert_eq!(info.address.as_deref(), Some("高知県高知市五台山4200-6"));
        assert_eq!(info.phone.as_deref(), Some("03-0000-0001"));
        assert_eq!(info.insurance.as_deref(), Some("00012345:あいう:１８７:05"));
        assert_eq!(info.resource_id.as_deref(), Some("p1"));
    }

    #[test]
    fn a_local_id_of_another_facility_is_a_mismatch_not_a_value() {
        let err = patient_info(&patient(), "1311234567", "entry[0].resource").unwrap_err();
        assert_eq!(err.rule(), "patient-mismatch");
        let mut two = patient();
        two["identifier"]
            .as_array_mut()
            .unwrap()
            .push(json!({"system": "urn:oid:1.2.392.100495.20.3.51.11318814790", "value": "1"}));
        assert_eq!(
            patient_info(&two, FACILITY, "").unwrap_err(),
            FhirError::PatientMismatch {
                path: ".identifier".into(),
                problem: PatientProblem::Ambiguous
            }
        );
    }

    #[test]
    fn bundle_entries_must_point_at_the_bundles_patient() {
        let p = patient();
        let bp = BundlePatient::new(&p, Some("urn:uuid:1"), FACILITY, "entry[0].resource").unwrap();
        let ok = [
            json!({"subject": {"reference": "urn:uuid:1"}}),
            json!({"subject": {"reference": "Patient/p1"}}),
            json!({"patient": {"identifier": {"system": INSURANCE_MEMBER_ID_SYSTEM, "value": "00012345:あいう:１８７:05"}}}),
            json!({}),
        ];
        for r in ok {
            assert!(bp.check_entry(&r, "e", FACILITY).is_ok(), "{r}");
        }
        let bad = [
            json!({"subject": {"reference": "urn:uuid:2"}}),
            json!({"subject": {"reference": "Patient/p2"}}),
            json!({"subject": {"identifier": {"system": "urn:oid:1.2.392.100495.20.3.51.11318814790", "value": "2"}}}),
            json!({"subject": {"identifier": {"system": "urn:oid:1.2.392.100495.20.3.51.11311234567", "value": "000999739"}}}),
        ];
        for r in bad {
            assert_eq!(
                bp.check_entry(&r, "e", FACILITY).unwrap_err().rule(),
                "patient-mismatch",
                "{r}"
            );
        }
    }

    #[test]
    fn a_resource_alone_names_its_patient_by_identifier_or_reference() {
        let by_local = json!({"subject": {"identifier": {"system": "urn:oid:1.2.392.100495.20.3.51.11318814790", "value": "42"}}});
        assert_eq!(
            standalone_patient(&by_local, "", FACILITY)
                .unwrap()
                .local_id
                .as_deref(),
            Some("42")
        );
        let by_ref =
            json!({"subject": {"reference": "http://ehr.example/fhir/Patient/p9/_history/3"}});
        assert_eq!(
            standalone_patient(&by_ref, "", FACILITY)
                .unwrap()
                .resource_id
                .as_deref(),
            Some("p9")
        );
        let contained = json!({"contained": [patient()], "subject": {"reference": "#p1"}});
        let info = standalone_patient(&contained, "", FACILITY).unwrap();
        assert_eq!(info.local_id.as_deref(), Some("000999739"));
        assert_eq!(info.resource_id, None);
        for orphan in [
            json!({}),
            json!({"subject": {"reference": "urn:uuid:0a48a4bf-0d87-4efb-aafd-d45e0842a4dd"}}),
            json!({"subject": {"identifier": {"system": "http://example.org/mrn", "value": "1"}}}),
        ] {
            assert_eq!(
                standalone_patient(&orphan, "", FACILITY)
                    .unwrap_err()
                    .rule(),
                "missing-patient"
            );
        }
        let foreign = json!({"subject": {"identifier": {"system": "urn:oid:1.2.392.100495.20.3.51.11311234567", "value": "42"}}});
        assert_eq!(
            standalone_patient(&foreign, "", FACILITY)
                .unwrap_err()
                .rule(),
            "patient-mismatch"
        );
    }
}
