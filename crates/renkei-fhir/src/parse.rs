//! The three shapes of input — collection Bundle, document Bundle, single resource — and the
//! order in which their rules are checked: facility first, then patient, then content.

use crate::clins::{
    self, BUNDLE_IDENTIFIER_SYSTEM, BUNDLE_RESOURCE_TYPE_CS, CLINS_PROFILE_PREFIX, DOC_TYPE_CS,
    JP_BUNDLE_CLINS, LOINC, PROFILE_CONDITION, PROFILE_MEDICATION_REQUEST, PROFILE_OBSERVATION_LAB,
};
use crate::error::{
    FhirError, IdentifierProblem, InstitutionProblem, NotFhirReason, PatientProblem,
    ResourceTypeTagProblem,
};
use crate::json::{
    claims_profile, claims_profile_prefix, codings, fhir_date, list, meta_codings, one_or_many,
    safe_token, sha256_hex, str_of,
};
use crate::model::{
    DocumentType, ExtractedRecord, PatientInfo, SkipReason, Skipped, Submission, SubmissionKind,
};
use crate::patient::{BundlePatient, patient_info, standalone_patient};
use crate::records::{Role, base_source_key, disambiguate, extract, primary_code, role};
use crate::terminology::Terminology;
use renkei_domain::AccessCategory;
use serde_json::Value;

struct Ctx<'a> {
    facility: &'a str,
    terminology: &'a Terminology,
}

/// Records and skipped resources of one submission, keys not yet made unique.
#[derive(Default)]
struct Collected {
    records: Vec<ExtractedRecord>,
    skipped: Vec<(Skipped, Option<String>)>,
}

impl Collected {
    fn skip(&mut self, path: &str, resource_type: &str, resource: &Value, reason: SkipReason) {
        let (system, code, _) = primary_code(resource_type, resource);
        self.skipped.push((
            Skipped {
                path: path.to_owned(),
                resource_type: resource_type.to_owned(),
                source_key: base_source_key(resource_type, resource),
                reason,
            },
            code_suffix(system.as_deref(), code.as_deref()),
        ));
    }

    /// Make every key unique across records and skipped resources, in payload order.
    fn finish(self) -> (Vec<ExtractedRecord>, Vec<Skipped>) {
        let mut keys: Vec<(String, Option<String>)> = self
            .records
            .iter()
            .map(|r| {
                (
                    r.source_key.clone(),
                    code_suffix(r.code_system.as_deref(), r.code.as_deref()),
                )
            })
            .chain(
                self.skipped
                    .iter()
                    .map(|(s, suffix)| (s.source_key.clone(), suffix.clone())),
            )
            .collect();
        disambiguate(&mut keys);
        let mut keys = keys.into_iter().map(|(k, _)| k);
        let records = self
            .records
            .into_iter()
            .map(|mut r| {
                if let Some(k) = keys.next() {
                    r.source_key = k;
                }
                r
            })
            .collect();
        let skipped = self
            .skipped
            .into_iter()
            .map(|(mut s, _)| {
                if let Some(k) = keys.next() {
                    s.source_key = k;
                }
                s
            })
            .collect();
        (records, skipped)
    }
}

fn code_suffix(system: Option<&str>, code: Option<&str>) -> Option<String> {
    code.map(|c| format!("{}|{c}", system.unwrap_or_default()))
}

/// A FHIR resource type name: `[A-Z][A-Za-z]*`, at most 64 characters.
fn resource_type(resource: &Value) -> Option<&str> {
    let rt = str_of(resource, "resourceType")?;
    let mut chars = rt.chars();
    let ok = rt.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_alphabetic());
    ok.then_some(rt)
}

pub(crate) fn parse(
    bytes: &[u8],
    facility_code: &str,
    terminology: &Terminology,
) -> Result<Submission, FhirError> {
    let facility = facility_code.trim();
    if facility.len() != 10 || !facility.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FhirError::InvalidFacilityCode);
    }
    // A UTF-8 byte order mark is common in files exported on Windows; it is not JSON.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut root: Value = serde_json::from_slice(text).map_err(|e| FhirError::InvalidJson {
        line: e.line(),
        column: e.column(),
    })?;
    if !root.is_object() {
        return Err(FhirError::NotFhir {
            what: NotFhirReason::NotAnObject,
        });
    }
    // Photos lose their metadata before any record is taken from the payload, so that it never
    // reaches storage. A file that cannot be read is reported after the facility and patient
    // checks, like every content rule.
    let files = crate::attachment::sanitize(&mut root);
    let rt = resource_type(&root).ok_or(FhirError::NotFhir {
        what: NotFhirReason::NoResourceType,
    })?;
    let ctx = Ctx {
        facility,
        terminology,
    };
    let (kind, bundle_identifier, patient, collected) = if rt == "Bundle" {
        match str_of(&root, "type") {
            Some("collection") => collection(&root, &ctx)?,
            Some("document") => document(&root, &ctx)?,
            other => {
                return Err(FhirError::UnsupportedBundleType {
                    bundle_type: other.and_then(safe_token),
                });
            }
        }
    } else {
        single(&root, rt, &ctx)?
    };
    files?;
    let (records, skipped) = collected.finish();
    Ok(Submission {
        kind,
        bundle_identifier,
        patient,
        records,
        payload_sha256: sha256_hex(bytes),
        skipped,
    })
}

type Parsed = (SubmissionKind, Option<String>, PatientInfo, Collected);

/// The CLINS content rules for one resource, where they apply: inside a CLINS Bundle, or when the
/// resource claims the eCS profile.
fn content_rules(
    rt: &str,
    resource: &Value,
    path: &str,
    in_clins: bool,
    ctx: &Ctx<'_>,
) -> Result<(), FhirError> {
    match rt {
        "Condition" if in_clins || claims_profile(resource, PROFILE_CONDITION) => {
            clins::check_condition(resource, path)
        }
        "Observation"
            if clins::is_lab_observation(resource)
                && (in_clins || claims_profile(resource, PROFILE_OBSERVATION_LAB)) =>
        {
            clins::check_lab(resource, path)
        }
        "MedicationRequest" if in_clins || claims_profile(resource, PROFILE_MEDICATION_REQUEST) => {
            clins::check_medication(resource, path, ctx.terminology)
        }
        _ => Ok(()),
    }
}

/// `Bundle.identifier` entries with a value, as (system, value).
fn bundle_identifiers(bundle: &Value) -> Vec<(Option<&str>, &str)> {
    one_or_many(bundle, "identifier")
        .into_iter()
        .filter_map(|id| {
            let value = str_of(id, "value").filter(|v| !v.trim().is_empty())?;
            Some((str_of(id, "system"), value))
        })
        .collect()
}

/// R02151/R2152 for a CLINS Bundle, and the facility check: the 医療機関番号 in the Bundle-ID is
/// the submitting facility's. Returns `system|value`.
fn clins_identifier(bundle: &Value, facility: &str) -> Result<String, FhirError> {
    let ids = bundle_identifiers(bundle);
    let (system, value) = ids
        .iter()
        .find(|(s, _)| *s == Some(BUNDLE_IDENTIFIER_SYSTEM))
        .or_else(|| ids.first())
        .ok_or(FhirError::ClinsBundleIdentifier {
            problem: IdentifierProblem::Missing,
        })?;
    let institution = clins::check_bundle_identifier(*system, value)?;
    if institution != facility {
        return Err(FhirError::ClinsInstitutionNumber {
            path: "identifier.value".to_owned(),
            problem: InstitutionProblem::OtherFacility,
            found: safe_token(institution),
        });
    }
    Ok(format!("{BUNDLE_IDENTIFIER_SYSTEM}|{value}"))
}

fn uses_clins_identifier(bundle: &Value) -> bool {
    bundle_identifiers(bundle)
        .iter()
        .any(|(s, _)| *s == Some(BUNDLE_IDENTIFIER_SYSTEM))
}

/// The one Patient entry of a Bundle (its index and the checker for the other entries). More
/// than one Patient is refused: a Bundle holds one patient's data. The Patient must carry the
/// facility's local patient ID or the insurance identifier.
fn bundle_patient<'a>(
    entries: &'a [Value],
    facility: &str,
) -> Result<(usize, BundlePatient<'a>), FhirError> {
    let patients: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| entry_type(e) == Some("Patient"))
        .map(|(i, _)| i)
        .collect();
    let pi = match patients.as_slice() {
        [] => {
            return Err(FhirError::MissingPatient {
                path: "entry".to_owned(),
            });
        }
        [i] => *i,
        [_, second, ..] => {
            return Err(FhirError::PatientMismatch {
                path: format!("entry[{second}].resource"),
                problem: PatientProblem::MultiplePatients,
            });
        }
    };
    let path = format!("entry[{pi}].resource");
    let entry = entries.get(pi);
    let patient = entry
        .and_then(|e| e.get("resource"))
        .ok_or_else(|| FhirError::MissingField { path: path.clone() })?;
    let full_url = entry.and_then(|e| str_of(e, "fullUrl"));
    let bp = BundlePatient::new(patient, full_url, facility, &path)?;
    if bp.info.local_id.is_none() && bp.info.insurance.is_none() {
        return Err(FhirError::MissingPatient {
            path: format!("{path}.identifier"),
        });
    }
    Ok((pi, bp))
}

/// The PatientInfo of a Bundle's patient. `Patient.id` inside a Bundle is whatever the exporter
/// wrote for this one message (often a fixed or per-message value), not a stable name of the
/// patient on the facility's server, so it is not reported as `resource_id`; a Bundle's patient
/// must carry the local patient ID or the insurance identifier.
fn bundle_patient_info(bp: BundlePatient<'_>) -> PatientInfo {
    PatientInfo {
        resource_id: None,
        ..bp.info
    }
}

fn undelivered(resource: &Value) -> bool {
    clins::has_indication(resource, "UNDELIVERED")
}

/// The resource type of a Bundle entry's resource.
fn entry_type(entry: &Value) -> Option<&str> {
    entry.get("resource").and_then(resource_type)
}

/// A collection Bundle. A JP-CLINS 5情報 Bundle (claiming JP_Bundle_CLINS, tagged with
/// BundleResourceType_CS, or identified by a CLINS Bundle-ID) is held to its rules:
/// - R02151/R2152: the Bundle-ID, whose 医療機関番号 must be the submitting facility's;
/// - R0211: the first entry is the Patient;
/// - R02141/R02142 and the closed entry slicing: one tagged resource type, every other entry of it;
/// - R9011/R9012: every other entry carries the submitting facility's 医療機関番号.
///
/// Any collection: exactly one Patient, every entry about that Patient, one record per clinical
/// entry (context entries are not records; 未提供 and unsupported entries are reported as skipped).
/// A CLINS Bundle carrying only the Patient is valid: it withdraws everything sent before under
/// its Bundle-ID (JP_Bundle_CLINS notes), so it yields no records.
fn collection(bundle: &Value, ctx: &Ctx<'_>) -> Result<Parsed, FhirError> {
    let entries = list(bundle, "entry");
    let is_clins = claims_profile(bundle, JP_BUNDLE_CLINS)
        || meta_codings(bundle, "tag")
            .iter()
            .any(|c| c.system == Some(BUNDLE_RESOURCE_TYPE_CS))
        || uses_clins_identifier(bundle);
    let bundle_identifier = if is_clins {
        Some(clins_identifier(bundle, ctx.facility)?)
    } else {
        bundle_identifiers(bundle)
            .first()
            .map(|(s, v)| format!("{}|{v}", s.unwrap_or_default()))
    };
    if is_clins {
        if entries.first().and_then(entry_type) != Some("Patient") {
            return Err(FhirError::ClinsPatientFirst);
        }
        let tagged: Vec<&str> = meta_codings(bundle, "tag")
            .iter()
            .filter(|c| c.system == Some(BUNDLE_RESOURCE_TYPE_CS))
            .filter_map(|c| c.code)
            .collect();
        let tag = match tagged.as_slice() {
            [] => {
                return Err(FhirError::ClinsBundleResourceType {
                    path: "meta.tag".to_owned(),
                    problem: ResourceTypeTagProblem::Missing,
                });
            }
            [one @ ("AllergyIntolerance" | "Condition" | "Observation" | "MedicationRequest")] => {
                *one
            }
            _ => {
                return Err(FhirError::ClinsBundleResourceType {
                    path: "meta.tag".to_owned(),
                    problem: ResourceTypeTagProblem::Unknown,
                });
            }
        };
        if let Some(i) = entries
            .iter()
            .skip(1)
            .position(|e| entry_type(e) != Some(tag))
        {
            return Err(FhirError::ClinsBundleResourceType {
                path: format!("entry[{}].resource", i + 1),
                problem: ResourceTypeTagProblem::MixedEntries,
            });
        }
    }

    let (pi, bp) = bundle_patient(entries, ctx.facility)?;
    // A restriction on the whole Bundle restricts everything in it.
    let restricted = crate::records::security_restricted(bundle);

    let mut out = Collected::default();
    for (i, entry) in entries.iter().enumerate() {
        if i == pi {
            continue;
        }
        let path = format!("entry[{i}].resource");
        let resource = entry
            .get("resource")
            .ok_or_else(|| FhirError::MissingField { path: path.clone() })?;
        let rt = resource_type(resource).ok_or_else(|| FhirError::MissingField {
            path: format!("{path}.resourceType"),
        })?;
        clins::check_institution_number(resource, &path, ctx.facility, is_clins)?;
        // Every entry, record or not, must be about the Bundle's patient.
        bp.check_entry(resource, &path, ctx.facility)?;
        match role(rt, resource) {
            Role::Context => {}
            Role::Unsupported => out.skip(&path, rt, resource, SkipReason::UnsupportedType),
            Role::Record(category) => {
                content_rules(rt, resource, &path, is_clins, ctx)?;
                if undelivered(resource) {
                    out.skip(&path, rt, resource, SkipReason::Undelivered);
                } else {
                    let mut record = extract(rt, resource, category);
                    record.sensitive |= restricted;
                    out.records.push(record);
                }
            }
        }
    }
    Ok((
        SubmissionKind::CollectionBundle,
        bundle_identifier,
        bundle_patient_info(bp),
        out,
    ))
}

/// The resources a document contributes as records of their own, besides the document itself:
/// the 5情報 types, as CLINS does ("2文書…に記述されている５情報に該当する情報は取り出され管理
/// される"; other types "取り出されて単独で利用されることはない", core6spec). Everything else stays
/// inside the document record only.
fn extracted_from_documents(rt: &str, resource: &Value) -> bool {
    match rt {
        "Condition" | "AllergyIntolerance" | "MedicationRequest" => true,
        "Observation" => clins::is_lab_observation(resource),
        _ => false,
    }
}

/// A document Bundle: the Composition first (FHIR bdl-11) with a supported type, an identifier
/// (FHIR bdl-9; for the CLINS documents the Bundle-ID of R02151/R2152, with the submitting
/// facility's 医療機関番号), the Composition's subject resolving to the one Patient entry.
///
/// Yields one record holding the whole Bundle (category 文書, code the LOINC document type, dated
/// by `Composition.date`) followed by a record for each 5情報 entry, so that the timeline and the
/// summary see the diagnoses, allergies, prescriptions and lab results a letter carries. The
/// document is sensitive when anything in it is (or when an entry is 未提供: the letter still
/// contains it, so it is shown only with the 機微情報 permission).
fn document(bundle: &Value, ctx: &Ctx<'_>) -> Result<Parsed, FhirError> {
    let entries = list(bundle, "entry");
    let composition = entries
        .first()
        .and_then(|e| e.get("resource"))
        .filter(|r| resource_type(r) == Some("Composition"))
        .ok_or(FhirError::DocumentCompositionFirst)?;
    let type_codings = composition.get("type").map(codings).unwrap_or_default();
    let doc_type = type_codings
        .iter()
        .filter(|c| matches!(c.system, None | Some(DOC_TYPE_CS | LOINC)))
        .find_map(|c| c.code.and_then(DocumentType::from_loinc))
        .ok_or_else(|| FhirError::UnsupportedDocumentType {
            code: type_codings
                .first()
                .and_then(|c| c.code)
                .and_then(safe_token),
        })?;

    let is_clins =
        claims_profile_prefix(bundle, CLINS_PROFILE_PREFIX) || uses_clins_identifier(bundle);
    let bundle_identifier = if is_clins {
        clins_identifier(bundle, ctx.facility)?
    } else {
        bundle_identifiers(bundle)
            .first()
            .map(|(s, v)| format!("{}|{v}", s.unwrap_or_default()))
            .ok_or_else(|| FhirError::MissingField {
                path: "identifier".to_owned(),
            })?
    };
    clins::check_institution_number(composition, "entry[0].resource", ctx.facility, false)?;

    // The patient: the one Patient entry, which the Composition's subject must name.
    let (pi, bp) = bundle_patient(entries, ctx.facility)?;
    if composition.get("subject").is_none() {
        return Err(FhirError::MissingPatient {
            path: "entry[0].resource.subject".to_owned(),
        });
    }
    bp.check_entry(composition, "entry[0].resource", ctx.facility)?;

    let mut out = Collected::default();
    let mut sensitive = crate::records::security_restricted(bundle)
        || crate::records::security_restricted(composition);
    for (i, entry) in entries.iter().enumerate().skip(1) {
        if i == pi {
            continue;
        }
        let path = format!("entry[{i}].resource");
        let resource = entry
            .get("resource")
            .ok_or_else(|| FhirError::MissingField { path: path.clone() })?;
        let rt = resource_type(resource).ok_or_else(|| FhirError::MissingField {
            path: format!("{path}.resourceType"),
        })?;
        // Every entry must be about the document's patient, even those kept only inside it.
        bp.check_entry(resource, &path, ctx.facility)?;
        if !extracted_from_documents(rt, resource) {
            continue;
        }
        let Role::Record(category) = role(rt, resource) else {
            continue;
        };
        content_rules(rt, resource, &path, is_clins, ctx)?;
        match clins::institution_number(resource) {
            Some(Some(n)) if n != ctx.facility && clins::is_institution_number(n) => {
                out.skip(&path, rt, resource, SkipReason::OtherFacility);
                continue;
            }
            Some(_) => clins::check_institution_number(resource, &path, ctx.facility, false)?,
            None => {}
        }
        if undelivered(resource) {
            sensitive = true;
            out.skip(&path, rt, resource, SkipReason::Undelivered);
            continue;
        }
        let record = extract(rt, resource, category);
        sensitive |= record.sensitive;
        out.records.push(record);
    }

    let type_text = composition
        .get("type")
        .and_then(|t| str_of(t, "text"))
        .or_else(|| {
            type_codings
                .iter()
                .find(|c| c.code == Some(doc_type.loinc()))
                .and_then(|c| c.display)
        });
    let display = str_of(composition, "title")
        .or(type_text)
        .unwrap_or(doc_type.label_ja());
    let doc = ExtractedRecord {
        resource_type: "Bundle".to_owned(),
        resource: bundle.clone(),
        category: AccessCategory::Documents,
        code_system: Some(LOINC.to_owned()),
        code: Some(doc_type.loinc().to_owned()),
        display: Some(display.to_owned()),
        effective_on: str_of(composition, "date").and_then(fhir_date),
        source_key: format!("Bundle?identifier={bundle_identifier}"),
        sensitive,
    };
    out.records.insert(0, doc);
    Ok((
        SubmissionKind::DocumentBundle { doc_type },
        Some(bundle_identifier),
        bundle_patient_info(bp),
        out,
    ))
}

/// A single resource. A Patient gives the patient and no records; a context resource
/// (Practitioner, Organization, Specimen, an Encounter without a subject, ...) gives neither;
/// a clinical resource must name its patient (see `patient::standalone_patient`) and carries the
/// submitting facility's 医療機関番号 if it carries one at all.
fn single(resource: &Value, rt: &str, ctx: &Ctx<'_>) -> Result<Parsed, FhirError> {
    let mut out = Collected::default();
    if rt == "Patient" {
        let patient = patient_info(resource, ctx.facility, rt)?;
        return Ok((SubmissionKind::Resource, None, patient, out));
    }
    match role(rt, resource) {
        Role::Context => Ok((SubmissionKind::Resource, None, PatientInfo::default(), out)),
        Role::Unsupported => Err(FhirError::UnsupportedResource {
            path: rt.to_owned(),
            resource_type: safe_token(rt),
        }),
        Role::Record(category) => {
            clins::check_institution_number(resource, rt, ctx.facility, false)?;
            let patient = standalone_patient(resource, rt, ctx.facility)?;
            content_rules(rt, resource, rt, false, ctx)?;
            if undelivered(resource) {
                out.skip(rt, rt, resource, SkipReason::Undelivered);
            } else {
                out.records.push(extract(rt, resource, category));
            }
            Ok((SubmissionKind::Resource, None, patient, out))
        }
    }
}
