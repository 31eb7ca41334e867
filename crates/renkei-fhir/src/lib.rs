//! FHIR R4 ingestion for Renkei: a facility's JSON payload in, the records to store out.
//!
//! [`parse_submission`] accepts the three shapes facilities send:
//! - **JP-CLINS 5情報 collection Bundles** (`JP_Bundle_CLINS`): one patient's allergies,
//!   diagnoses, lab results or prescriptions, keyed by a Bundle-ID that later Bundles replace;
//! - **document Bundles**: 診療情報提供書 (57133-1), 退院時サマリー (18842-5),
//!   健診結果報告書 (53576-5) — kept whole as one document record, plus a record for each
//!   diagnosis, allergy, prescription and lab result they carry;
//! - **single JP Core / eCS resources**.
//!
//! It checks the JP-CLINS rules (module [`clins`], each rule with its source in the
//! implementation guide), checks that everything is about one patient of the submitting facility
//! (module `patient`), and maps each clinical resource to an [`ExtractedRecord`]: access
//! category, index code, clinical date, source key and sensitivity (module `records`). A refused
//! input gets a [`FhirError`] that names the rule it breaks, in English and Japanese, without
//! any patient data.
//!
//! Photos attached to documents (JPEG, PNG) lose their metadata — EXIF with GPS, XMP, text
//! chunks — before any record is made (module [`attachment`], which also finds the files of a
//! stored record for the viewer).
//!
//! Layout: `parse` (the three shapes and the order of checks), `clins` (rules and system
//! URLs), `lab_codes` (the CLINS lab code set, data in `data/clins-lab-codes.tsv`), `patient`
//! (PatientInfo and patient references), `records` (category, code, date, key, sensitivity),
//! `terminology` (optional large code tables the caller loads), `model` (the public types),
//! `error`, `json` (panic-free JSON access).
//!
//! This crate does no I/O. Keeping the original bytes is the caller's job; the submission
//! carries their SHA-256.

#![forbid(unsafe_code)]

pub mod attachment;
pub mod clins;
mod error;
mod json;
mod lab_codes;
mod model;
mod parse;
mod patient;
mod records;
mod terminology;

pub use error::{
    FhirError, IdentifierProblem, InstitutionProblem, NotFhirReason, PatientProblem,
    ResourceTypeTagProblem,
};
pub use lab_codes::{LabCode, LabSet, lab_code_set};
pub use model::{
    DocumentType, ExtractedRecord, PatientInfo, SkipReason, Skipped, Submission, SubmissionKind,
};
pub use terminology::Terminology;

/// Parse one payload sent by the facility whose 10-digit code is `facility_code`.
///
/// The code is the one the facility authenticated as (its credential), not one read from the
/// payload: everything in the payload that names a facility (the Bundle-ID, the
/// `JP_eCS_InstitutionNumber` extension, the local patient ID system) must agree with it.
pub fn parse_submission(bytes: &[u8], facility_code: &str) -> Result<Submission, FhirError> {
    parse::parse(bytes, facility_code, &Terminology::new())
}

/// [`parse_submission`] with optional code tables: with the MHLW 一般名処方マスタ loaded, an
/// 一般名処方 code that is not in it is refused (`clins-medication-code-unknown`).
pub fn parse_submission_with(
    bytes: &[u8],
    facility_code: &str,
    terminology: &Terminology,
) -> Result<Submission, FhirError> {
    parse::parse(bytes, facility_code, terminology)
}
