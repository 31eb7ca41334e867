//! Renkei domain: the plain types and rules of a regional health and care information network
//! (地域医療介護連携ネットワーク).
//!
//! This crate does no I/O: no database, no HTTP, no async, no clock. Callers pass `now` in.
//! Everything that decides who may see what lives here, in [`authorize()`], so that the storage
//! and web crates can stay thin.
#![forbid(unsafe_code)]

pub mod access;
pub mod audit;
pub mod authorize;
pub mod consent;
pub mod facility;
pub mod ids;
pub mod person;
pub mod record;
pub mod user;

pub use access::{
    AccessCategory, AccessMatrix, BreakGlassGrant, BreakGlassReason, CareRelationship,
};
pub use audit::{AuditAction, AuditEntry, AuditEvent, AuditOutcome, ChainHash};
pub use authorize::{AccessMethod, AccessRequest, Authorized, Decision, Rule, authorize};
pub use consent::{Consent, ConsentError, ConsentMethod, ConsentMode, ConsentScope, Proxy};
pub use facility::{Facility, FacilityCode, FacilityKind};
pub use ids::{ConsentId, FacilityId, GrantId, PersonId, UserId};
pub use person::{LinkMethod, LocalPatient, LocalPatientNumber, Person, Sex};
pub use record::{GroupOutcome, Record, RecordHead, RecordInput};
pub use user::{LoginName, Profession, Role, User};

/// Truncate a timestamp to whole microseconds: PostgreSQL keeps no more, and the audit hash
/// must be the same before and after a round trip through either database.
pub fn to_micros(t: time::OffsetDateTime) -> time::OffsetDateTime {
    let micros = t.unix_timestamp_nanos() / 1000;
    time::OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).unwrap_or(t)
}
