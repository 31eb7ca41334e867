//! Records: one clinical resource (FHIR R4 JSON) from one facility, with the index columns the
//! viewer and `authorize()` need, and the source identity that makes ingestion idempotent.
//!
//! A facility sends records in *groups*: an SS-MIX2 logical key (患者ID, 診療日, データ種別,
//! オーダNo), a FHIR Bundle identifier, or a single resource. A group is replaced as a whole:
//! records missing from a newer version of the group are deleted (kept in history, hidden
//! from clinicians).

use crate::access::AccessCategory;
use crate::ids::{FacilityId, PersonId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// One record as extracted from input, before storage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordInput {
    /// Unique within its group (e.g. `OBX-3` code and sub-ID, or the resource identifier).
    pub source_key: String,
    pub resource_type: String,
    pub category: AccessCategory,
    pub code_system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
    /// The clinically relevant date: shared only if on or after consent start.
    pub effective_on: Option<Date>,
    pub sensitive: bool,
    /// The FHIR resource.
    pub resource: serde_json::Value,
}

impl RecordInput {
    /// SHA-256 of the resource's JSON text: what decides "unchanged" on a resend.
    pub fn content_hash(&self) -> String {
        let text = serde_json::to_string(&self.resource).unwrap_or_default();
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// A stored record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: Uuid,
    pub person_id: PersonId,
    pub facility_id: FacilityId,
    pub source_group: String,
    pub input: RecordInput,
    pub content_hash: String,
    pub version: i64,
    pub received_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Deleted by the source (SS-MIX2 flag 0, or dropped from a newer group version).
    pub deleted_at: Option<OffsetDateTime>,
}

/// What storing one group did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOutcome {
    /// Records seen for the first time.
    pub accepted: u32,
    /// Records identical to what is stored.
    pub unchanged: u32,
    /// Records whose content changed.
    pub replaced: u32,
    /// Records deleted (dropped from the group, or the group deleted).
    pub deleted: u32,
    /// Records of an input older than what the group already holds (not applied).
    #[serde(default)]
    pub stale: u32,
}

impl GroupOutcome {
    /// Nothing was written.
    pub fn is_noop(&self) -> bool {
        self.accepted == 0 && self.replaced == 0 && self.deleted == 0
    }

    pub fn add(&mut self, other: GroupOutcome) {
        self.accepted += other.accepted;
        self.unchanged += other.unchanged;
        self.replaced += other.replaced;
        self.deleted += other.deleted;
        self.stale += other.stale;
    }
}
