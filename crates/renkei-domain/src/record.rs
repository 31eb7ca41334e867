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

/// One record as extracted from input, before storage. `R` is how the resource is held: a
/// JSON tree to read and build (the default), or its encoded text on the way to storage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordInput<R = serde_json::Value> {
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
    pub resource: R,
}

/// A record input with its resource serialised once, as the JSON text to store, and that
/// text's hash. Ingestion encodes records while mapping, on as many cores as there are, and
/// drops the JSON trees there, so the storage transaction only copies text.
#[derive(Clone, Debug)]
pub struct EncodedRecord {
    pub input: RecordInput<Box<serde_json::value::RawValue>>,
    /// SHA-256 (hex) of the resource text: what decides "unchanged" on a resend.
    pub hash: String,
}

impl EncodedRecord {
    /// The record with its resource as a JSON tree again.
    pub fn decode(&self) -> Result<RecordInput, serde_json::Error> {
        let i = &self.input;
        Ok(RecordInput {
            source_key: i.source_key.clone(),
            resource_type: i.resource_type.clone(),
            category: i.category,
            code_system: i.code_system.clone(),
            code: i.code.clone(),
            display: i.display.clone(),
            effective_on: i.effective_on,
            sensitive: i.sensitive,
            resource: serde_json::from_str(i.resource.get())?,
        })
    }
}

impl From<RecordInput> for EncodedRecord {
    fn from(i: RecordInput) -> Self {
        // Serialising a `Value` cannot fail (its keys are strings): the default is unreachable.
        let json = serde_json::value::to_raw_value(&i.resource).unwrap_or_default();
        let hash = hex::encode(Sha256::digest(json.get().as_bytes()));
        Self {
            input: RecordInput {
                source_key: i.source_key,
                resource_type: i.resource_type,
                category: i.category,
                code_system: i.code_system,
                code: i.code,
                display: i.display,
                effective_on: i.effective_on,
                sensitive: i.sensitive,
                resource: json,
            },
            hash,
        }
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

/// A live record's *head*: what authorization, ordering and paging need, without its
/// resource. The viewer works on heads and loads the resources of what a page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordHead {
    pub id: Uuid,
    pub facility_id: FacilityId,
    pub resource_type: String,
    pub category: AccessCategory,
    pub code: Option<String>,
    pub display: Option<String>,
    pub effective_on: Option<Date>,
    pub sensitive: bool,
    pub received_at: OffsetDateTime,
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
