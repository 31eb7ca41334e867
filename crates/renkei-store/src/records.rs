//! Clinical records, their history, provision log (情報提供の記録) and quarantine.

use crate::{Result, Store, StoreError, in_tx, with_pool};
use renkei_domain::record::{GroupOutcome, Record, RecordInput};
use renkei_domain::{AccessCategory, FacilityId, PersonId};
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// What to log about one provided group.
#[derive(Clone, Debug)]
pub struct NewProvision {
    /// `ssmix2`, `fhir`, `hl7`.
    pub channel: &'static str,
    /// The SS-MIX2 file name or Bundle identifier (no patient data beyond the facility's ID).
    pub source_name: Option<String>,
    /// SHA-256 of the original bytes.
    pub payload_hash: String,
    /// When the source made this version (SS-MIX2 発生日時): an input older than the last
    /// one applied to its group is not applied. `None` when the source gives no time.
    pub source_time: Option<OffsetDateTime>,
}

/// Where quarantined input stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuarantineStatus {
    /// Waiting for a fix or a retry.
    Held,
    /// Taken on a retry.
    Resolved,
    /// Dismissed by the facility or the office.
    Discarded,
}

impl QuarantineStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Resolved => "resolved",
            Self::Discarded => "discarded",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "held" => Some(Self::Held),
            "resolved" => Some(Self::Resolved),
            "discarded" => Some(Self::Discarded),
            _ => None,
        }
    }
}

/// Input to quarantine.
#[derive(Clone, Debug)]
pub struct NewQuarantine {
    pub facility_id: FacilityId,
    pub channel: &'static str,
    pub source_name: Option<String>,
    pub payload: Vec<u8>,
    pub payload_hash: String,
    /// A stable code (`undecodable`, `wrong-folder`, `clins-lab-code-set`, …).
    pub reason_code: String,
    /// English detail for operators; never patient data.
    pub reason_detail: String,
}

/// A quarantined input as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    pub id: Uuid,
    pub facility_id: FacilityId,
    pub channel: String,
    pub source_name: Option<String>,
    pub payload: Vec<u8>,
    pub payload_hash: String,
    pub reason_code: String,
    pub reason_detail: String,
    pub status: QuarantineStatus,
    pub attempts: i32,
    pub received_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    record_id: Uuid,
    source_key: String,
    content_hash: String,
    version: i64,
    deleted_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    person_id: Uuid,
    record_id: Uuid,
    facility_id: Uuid,
    source_group: String,
    source_key: String,
    resource_type: String,
    category: String,
    code_system: Option<String>,
    code: Option<String>,
    display: Option<String>,
    effective_on: Option<Date>,
    sensitive: bool,
    resource: Json<serde_json::Value>,
    content_hash: String,
    version: i64,
    received_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    deleted_at: Option<OffsetDateTime>,
}

impl RecordRow {
    fn into_domain(self) -> Result<Record> {
        Ok(Record {
            id: self.record_id,
            person_id: PersonId::from_uuid(self.person_id),
            facility_id: FacilityId::from_uuid(self.facility_id),
            source_group: self.source_group,
            input: RecordInput {
                source_key: self.source_key,
                resource_type: self.resource_type,
                category: self
                    .category
                    .parse::<AccessCategory>()
                    .map_err(|_| StoreError::Corrupt("record category"))?,
                code_system: self.code_system,
                code: self.code,
                display: self.display,
                effective_on: self.effective_on,
                sensitive: self.sensitive,
                resource: self.resource.0,
            },
            content_hash: self.content_hash,
            version: self.version,
            received_at: self.received_at,
            updated_at: self.updated_at,
            deleted_at: self.deleted_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct QuarantineRow {
    quarantine_id: Uuid,
    facility_id: Uuid,
    channel: String,
    source_name: Option<String>,
    payload: Vec<u8>,
    payload_hash: String,
    reason_code: String,
    reason_detail: String,
    status: String,
    attempts: i32,
    received_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl QuarantineRow {
    fn into_domain(self) -> Result<Quarantined> {
        Ok(Quarantined {
            id: self.quarantine_id,
            facility_id: FacilityId::from_uuid(self.facility_id),
            channel: self.channel,
            source_name: self.source_name,
            payload: self.payload,
            payload_hash: self.payload_hash,
            reason_code: self.reason_code,
            reason_detail: self.reason_detail,
            status: QuarantineStatus::parse(&self.status)
                .ok_or(StoreError::Corrupt("quarantine status"))?,
            attempts: self.attempts,
            received_at: self.received_at,
            updated_at: self.updated_at,
        })
    }
}

/// How one group of a batch is to be written.
#[derive(Clone, Debug)]
pub enum GroupWriteMode {
    /// The records are the group's current content.
    Replace,
    /// The source deleted the group.
    Delete,
    /// A full snapshot: live records missing from it are kept, passed through `end`.
    Snapshot {
        ended_on: Date,
        end: fn(RecordInput, Date) -> RecordInput,
    },
}

/// One group of a batch written in one transaction.
#[derive(Clone, Debug)]
pub struct GroupWrite {
    pub person: PersonId,
    pub group: String,
    pub records: Vec<RecordInput>,
    pub mode: GroupWriteMode,
    pub provision: NewProvision,
}

/// Store one group inside the caller's transaction (see [`Store::store_group`]).
macro_rules! store_group_in_tx {
    ($tx:expr, $person:expr, $facility:expr, $group:expr, $inputs:expr, $provision:expr, $now:expr) => {{
            let existing: Vec<ExistingRow> = sqlx::query_as(
                "SELECT record_id, source_key, content_hash, version, deleted_at FROM records \
                 WHERE person_id = $1 AND facility_id = $2 AND source_group = $3",
            )
            .bind($person.as_uuid())
            .bind($facility.as_uuid())
            .bind($group)
            .fetch_all(&mut *$tx)
            .await?;
            let mut outcome = GroupOutcome::default();
            for input in $inputs {
                let hash = input.content_hash();
                let old = existing.iter().find(|e| e.source_key == input.source_key);
                match old {
                    Some(e) if e.content_hash == hash && e.deleted_at.is_none() => {
                        outcome.unchanged += 1;
                    }
                    Some(e) => {
                        sqlx::query(
                            "INSERT INTO record_history (person_id, record_id, version, resource, \
                             content_hash, superseded_at) SELECT person_id, record_id, version, \
                             resource, content_hash, $3 FROM records \
                             WHERE person_id = $1 AND record_id = $2",
                        )
                        .bind($person.as_uuid())
                        .bind(e.record_id)
                        .bind($now)
                        .execute(&mut *$tx)
                        .await?;
                        sqlx::query(
                            "UPDATE records SET resource_type = $3, category = $4, code_system = $5, \
                             code = $6, display = $7, effective_on = $8, sensitive = $9, \
                             resource = $10, content_hash = $11, version = $12, updated_at = $13, \
                             deleted_at = NULL WHERE person_id = $1 AND record_id = $2",
                        )
                        .bind($person.as_uuid())
                        .bind(e.record_id)
                        .bind(&input.resource_type)
                        .bind(input.category.as_str())
                        .bind(input.code_system.as_deref())
                        .bind(input.code.as_deref())
                        .bind(input.display.as_deref())
                        .bind(input.effective_on)
                        .bind(input.sensitive)
                        .bind(Json(&input.resource))
                        .bind(&hash)
                        .bind(e.version + 1)
                        .bind($now)
                        .execute(&mut *$tx)
                        .await?;
                        outcome.replaced += 1;
                    }
                    None => {
                        sqlx::query(
                            "INSERT INTO records (person_id, record_id, facility_id, source_group, \
                             source_key, resource_type, category, code_system, code, display, \
                             effective_on, sensitive, resource, content_hash, version, received_at, \
                             updated_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                             $10, $11, $12, $13, $14, 1, $15, $15, NULL)",
                        )
                        .bind($person.as_uuid())
                        .bind(Uuid::now_v7())
                        .bind($facility.as_uuid())
                        .bind($group)
                        .bind(&input.source_key)
                        .bind(&input.resource_type)
                        .bind(input.category.as_str())
                        .bind(input.code_system.as_deref())
                        .bind(input.code.as_deref())
                        .bind(input.display.as_deref())
                        .bind(input.effective_on)
                        .bind(input.sensitive)
                        .bind(Json(&input.resource))
                        .bind(&hash)
                        .bind($now)
                        .execute(&mut *$tx)
                        .await
                        .map_err(crate::duplicate_as("record source key"))?;
                        outcome.accepted += 1;
                    }
                }
            }
            for e in existing.iter().filter(|e| e.deleted_at.is_none()) {
                if !$inputs.iter().any(|i| i.source_key == e.source_key) {
                    sqlx::query(
                        "UPDATE records SET deleted_at = $3, updated_at = $3 \
                         WHERE person_id = $1 AND record_id = $2",
                    )
                    .bind($person.as_uuid())
                    .bind(e.record_id)
                    .bind($now)
                    .execute(&mut *$tx)
                    .await?;
                    outcome.deleted += 1;
                }
            }
            if !outcome.is_noop() {
                insert_provision!($tx, $person, $facility, $group, $provision, outcome, $now);
            }
        outcome
    }};
}

impl Store {
    /// Store one group of records from one facility for one person, as a whole: new records
    /// are added, changed ones replaced (the old content kept in history), records missing from
    /// the group deleted. Identical input changes nothing, not even the provision log.
    pub async fn store_group(
        &self,
        person: PersonId,
        facility: FacilityId,
        group: &str,
        inputs: &[RecordInput],
        provision: &NewProvision,
        now: OffsetDateTime,
    ) -> Result<GroupOutcome> {
        let write = GroupWrite {
            person,
            group: group.to_owned(),
            records: inputs.to_vec(),
            mode: GroupWriteMode::Replace,
            provision: provision.clone(),
        };
        let out = self.store_groups(facility, &[write], now).await?;
        Ok(out.into_iter().next().unwrap_or_default())
    }

    /// Write many groups of one facility in one transaction, in order (later versions of a
    /// group after earlier ones): all of them or none.
    pub async fn store_groups(
        &self,
        facility: FacilityId,
        writes: &[GroupWrite],
        now: OffsetDateTime,
    ) -> Result<Vec<GroupOutcome>> {
        let now = renkei_domain::to_micros(now);
        in_tx!(self, tx => {
            let mut outcomes = Vec::with_capacity(writes.len());
            for w in writes {
                let person = w.person;
                let group = w.group.as_str();
                if let Some(t) = w.provision.source_time {
                    let newest: Option<OffsetDateTime> = sqlx::query_scalar(
                        "SELECT source_time FROM group_versions \
                         WHERE person_id = $1 AND facility_id = $2 AND source_group = $3",
                    )
                    .bind(person.as_uuid())
                    .bind(facility.as_uuid())
                    .bind(group)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if newest.is_some_and(|n| n > t) {
                        outcomes.push(GroupOutcome {
                            stale: u32::try_from(w.records.len().max(1)).unwrap_or(u32::MAX),
                            ..GroupOutcome::default()
                        });
                        continue;
                    }
                    sqlx::query(
                        "INSERT INTO group_versions (person_id, facility_id, source_group, source_time) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, facility_id, source_group) \
                         DO UPDATE SET source_time = excluded.source_time",
                    )
                    .bind(person.as_uuid())
                    .bind(facility.as_uuid())
                    .bind(group)
                    .bind(t)
                    .execute(&mut *tx)
                    .await?;
                }
                let out = match &w.mode {
                    GroupWriteMode::Replace => {
                        store_group_in_tx!(tx, person, facility, group, &w.records, &w.provision, now)
                    }
                    GroupWriteMode::Snapshot { ended_on, end } => {
                        let live: Vec<RecordRow> = sqlx::query_as(GROUP_LIVE)
                            .bind(person.as_uuid())
                            .bind(facility.as_uuid())
                            .bind(group)
                            .fetch_all(&mut *tx)
                            .await?;
                        let mut all = w.records.clone();
                        for row in live {
                            let old = row.into_domain()?;
                            if !w.records.iter().any(|r| r.source_key == old.input.source_key) {
                                all.push(end(old.input, *ended_on));
                            }
                        }
                        store_group_in_tx!(tx, person, facility, group, &all, &w.provision, now)
                    }
                    GroupWriteMode::Delete => {
                        let done = sqlx::query(
                            "UPDATE records SET deleted_at = $4, updated_at = $4 WHERE person_id = $1 \
                             AND facility_id = $2 AND source_group = $3 AND deleted_at IS NULL",
                        )
                        .bind(person.as_uuid())
                        .bind(facility.as_uuid())
                        .bind(group)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        let outcome = GroupOutcome {
                            deleted: u32::try_from(done.rows_affected()).unwrap_or(u32::MAX),
                            ..GroupOutcome::default()
                        };
                        if !outcome.is_noop() {
                            insert_provision!(tx, person, facility, group, &w.provision, outcome, now);
                        }
                        outcome
                    }
                };
                outcomes.push(out);
            }
            outcomes
        })
    }

    /// The source deleted a whole group (SS-MIX2 flag 0): hide its records, keep them.
    pub async fn delete_group(
        &self,
        person: PersonId,
        facility: FacilityId,
        group: &str,
        provision: &NewProvision,
        now: OffsetDateTime,
    ) -> Result<GroupOutcome> {
        let write = GroupWrite {
            person,
            group: group.to_owned(),
            records: Vec::new(),
            mode: GroupWriteMode::Delete,
            provision: provision.clone(),
        };
        let out = self.store_groups(facility, &[write], now).await?;
        Ok(out.into_iter().next().unwrap_or_default())
    }

    /// A person's records (deleted ones included when asked), oldest first. Callers filter
    /// through `Authorized::permits_record`; this is storage, not access control.
    pub async fn records_of(&self, person: PersonId, include_deleted: bool) -> Result<Vec<Record>> {
        let sql = if include_deleted {
            RECORDS_OF_ALL
        } else {
            RECORDS_OF_LIVE
        };
        let rows: Vec<RecordRow> = with_pool!(self, pool => {
            sqlx::query_as(sql).bind(person.as_uuid()).fetch_all(pool).await?
        });
        rows.into_iter().map(RecordRow::into_domain).collect()
    }

    /// The live records of one group (to carry a snapshot's missing items forward).
    pub async fn group_records(
        &self,
        person: PersonId,
        facility: FacilityId,
        group: &str,
    ) -> Result<Vec<Record>> {
        let rows: Vec<RecordRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, record_id, facility_id, source_group, source_key, resource_type, \
                 category, code_system, code, display, effective_on, sensitive, resource, \
                 content_hash, version, received_at, updated_at, deleted_at FROM records \
                 WHERE person_id = $1 AND facility_id = $2 AND source_group = $3 \
                 AND deleted_at IS NULL ORDER BY source_key",
            )
            .bind(person.as_uuid())
            .bind(facility.as_uuid())
            .bind(group)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(RecordRow::into_domain).collect()
    }

    /// How many provisions a facility made (statistics, tests).
    pub async fn provision_count(&self, facility: FacilityId) -> Result<i64> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM provisions WHERE facility_id = $1")
                .bind(facility.as_uuid())
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }

    /// Keep bad input with its reason. The same bytes held again only count another attempt.
    pub async fn quarantine(&self, q: &NewQuarantine, now: OffsetDateTime) -> Result<Uuid> {
        let now = renkei_domain::to_micros(now);
        in_tx!(self, tx => {
            let held: Option<Uuid> = sqlx::query_scalar(
                "SELECT quarantine_id FROM quarantine WHERE facility_id = $1 AND payload_hash = $2 \
                 AND status = 'held' AND channel = $3 AND COALESCE(source_name, '') = $4",
            )
            .bind(q.facility_id.as_uuid())
            .bind(&q.payload_hash)
            .bind(q.channel)
            .bind(q.source_name.as_deref().unwrap_or(""))
            .fetch_optional(&mut *tx)
            .await?;
            match held {
                Some(id) => {
                    sqlx::query(
                        "UPDATE quarantine SET attempts = attempts + 1, reason_code = $3, \
                         reason_detail = $4, updated_at = $5 WHERE facility_id = $1 AND quarantine_id = $2",
                    )
                    .bind(q.facility_id.as_uuid())
                    .bind(id)
                    .bind(&q.reason_code)
                    .bind(&q.reason_detail)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
                None => {
                    let id = Uuid::now_v7();
                    sqlx::query(
                        "INSERT INTO quarantine (facility_id, quarantine_id, channel, source_name, \
                         payload, payload_hash, reason_code, reason_detail, status, attempts, \
                         received_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'held', 1, $9, $9)",
                    )
                    .bind(q.facility_id.as_uuid())
                    .bind(id)
                    .bind(q.channel)
                    .bind(q.source_name.as_deref())
                    .bind(&q.payload)
                    .bind(&q.payload_hash)
                    .bind(&q.reason_code)
                    .bind(&q.reason_detail)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    id
                }
            }
        })
    }

    /// Quarantined input of one facility (or all, for the office), newest first.
    pub async fn quarantined(
        &self,
        facility: Option<FacilityId>,
        status: Option<QuarantineStatus>,
        limit: i64,
    ) -> Result<Vec<Quarantined>> {
        let rows: Vec<QuarantineRow> = with_pool!(self, pool => {
            sqlx::query_as(QUARANTINE_LIST)
                .bind(facility.map(|f| f.as_uuid()))
                .bind(status.map(|s| s.as_str()))
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(QuarantineRow::into_domain).collect()
    }

    pub async fn quarantined_one(&self, id: Uuid) -> Result<Option<Quarantined>> {
        let row: Option<QuarantineRow> = with_pool!(self, pool => {
            sqlx::query_as(QUARANTINE_ONE).bind(id).fetch_optional(pool).await?
        });
        row.map(QuarantineRow::into_domain).transpose()
    }

    /// Move a quarantined input on (resolved after a successful retry, or discarded), or record
    /// another failed attempt with its new reason.
    pub async fn update_quarantine(
        &self,
        id: Uuid,
        status: QuarantineStatus,
        reason: Option<(&str, &str)>,
        now: OffsetDateTime,
    ) -> Result<()> {
        let now = renkei_domain::to_micros(now);
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE quarantine SET status = $2, attempts = attempts + 1, \
                 reason_code = COALESCE($3, reason_code), reason_detail = COALESCE($4, reason_detail), \
                 updated_at = $5 WHERE quarantine_id = $1",
            )
            .bind(id)
            .bind(status.as_str())
            .bind(reason.map(|r| r.0))
            .bind(reason.map(|r| r.1))
            .bind(now)
            .execute(pool)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound("quarantined input"));
            }
        });
        Ok(())
    }
}

/// Log a provision inside the caller's transaction.
macro_rules! insert_provision {
    ($tx:expr, $person:expr, $facility:expr, $group:expr, $p:expr, $o:expr, $now:expr) => {{
        sqlx::query(
            "INSERT INTO provisions (person_id, provision_id, facility_id, channel, source_group, \
             source_name, payload_hash, accepted, replaced, deleted, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind($person.as_uuid())
        .bind(Uuid::now_v7())
        .bind($facility.as_uuid())
        .bind($p.channel)
        .bind($group)
        .bind($p.source_name.as_deref())
        .bind(&$p.payload_hash)
        .bind(i64::from($o.accepted))
        .bind(i64::from($o.replaced))
        .bind(i64::from($o.deleted))
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}
use insert_provision;

const RECORDS_OF_ALL: &str = "SELECT person_id, record_id, facility_id, source_group, source_key, \
     resource_type, category, code_system, code, display, effective_on, sensitive, resource, \
     content_hash, version, received_at, updated_at, deleted_at FROM records \
     WHERE person_id = $1 ORDER BY effective_on, received_at, source_key";
const RECORDS_OF_LIVE: &str = "SELECT person_id, record_id, facility_id, source_group, source_key, \
     resource_type, category, code_system, code, display, effective_on, sensitive, resource, \
     content_hash, version, received_at, updated_at, deleted_at FROM records \
     WHERE person_id = $1 AND deleted_at IS NULL ORDER BY effective_on, received_at, source_key";
const GROUP_LIVE: &str = "SELECT person_id, record_id, facility_id, source_group, source_key, \
     resource_type, category, code_system, code, display, effective_on, sensitive, resource, \
     content_hash, version, received_at, updated_at, deleted_at FROM records \
     WHERE person_id = $1 AND facility_id = $2 AND source_group = $3 AND deleted_at IS NULL \
     ORDER BY source_key";
const QUARANTINE_LIST: &str = "SELECT quarantine_id, facility_id, channel, source_name, payload, \
     payload_hash, reason_code, reason_detail, status, attempts, received_at, updated_at \
     FROM quarantine WHERE ($1 IS NULL OR facility_id = $1) AND ($2 IS NULL OR status = $2) \
     ORDER BY received_at DESC LIMIT $3";
const QUARANTINE_ONE: &str = "SELECT quarantine_id, facility_id, channel, source_name, payload, \
     payload_hash, reason_code, reason_detail, status, attempts, received_at, updated_at \
     FROM quarantine WHERE quarantine_id = $1";
