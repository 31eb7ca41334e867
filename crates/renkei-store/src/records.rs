//! Clinical records, their history, provision log (情報提供の記録) and quarantine.

use crate::{Result, Store, StoreError, in_tx, with_pool};
use renkei_domain::audit::{AuditEntry, AuditEvent};
use renkei_domain::record::{EncodedRecord, GroupOutcome, Record, RecordHead, RecordInput};
use renkei_domain::{AccessCategory, FacilityId, PersonId};
use serde_json::value::RawValue;
use sqlx::types::Json;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use time::format_description::well_known::Rfc3339;
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

/// A category as stored; anything else means the row was not written by this store.
fn stored_category(s: &str) -> Result<AccessCategory> {
    s.parse::<AccessCategory>()
        .map_err(|_| StoreError::Corrupt("record category"))
}

/// A record's head as PostgreSQL gives it, in order.
#[derive(sqlx::FromRow)]
struct PgHeadRow {
    record_id: Uuid,
    facility_id: Uuid,
    resource_type: String,
    category: String,
    code: Option<String>,
    display: Option<String>,
    effective_on: Option<Date>,
    sensitive: bool,
    received_at: OffsetDateTime,
}

impl PgHeadRow {
    fn into_domain(self) -> Result<RecordHead> {
        Ok(RecordHead {
            id: self.record_id,
            facility_id: FacilityId::from_uuid(self.facility_id),
            resource_type: self.resource_type,
            category: stored_category(&self.category)?,
            code: self.code,
            display: self.display,
            effective_on: self.effective_on,
            sensitive: self.sensitive,
            received_at: self.received_at,
        })
    }
}

/// A record's head as the SQLite heads query gives it: a JSON array of record ID and facility
/// ID (hex), resource type, category, code, display, clinical date, sensitive (0/1), arrival
/// (RFC 3339) and source key.
///
/// Borrowed from the JSON where it can be: a person's heads are a thousand of these, and the
/// ids, category, dates and key are only parsed or compared, never kept as text.
#[derive(serde::Deserialize)]
struct HeadRow<'a>(
    &'a str,
    &'a str,
    String,
    &'a str,
    Option<String>,
    Option<String>,
    Option<&'a str>,
    serde_json::Value,
    &'a str,
    #[serde(borrow)] std::borrow::Cow<'a, str>,
);

impl<'a> HeadRow<'a> {
    /// The head, and its source key (to order by).
    fn into_domain(self) -> Result<(RecordHead, std::borrow::Cow<'a, str>)> {
        let corrupt = |_| StoreError::Corrupt("record head");
        let HeadRow(id, facility, resource_type, category, code, display, on, sensitive, at, key) =
            self;
        let date = time::macros::format_description!("[year]-[month]-[day]");
        Ok((
            RecordHead {
                id: Uuid::parse_str(id).map_err(|_| StoreError::Corrupt("record head"))?,
                facility_id: FacilityId::from_uuid(
                    Uuid::parse_str(facility).map_err(|_| StoreError::Corrupt("record head"))?,
                ),
                resource_type,
                category: stored_category(category)?,
                code,
                display,
                effective_on: on
                    .map(|d| Date::parse(d, date))
                    .transpose()
                    .map_err(corrupt)?,
                sensitive: match sensitive {
                    serde_json::Value::Bool(b) => b,
                    serde_json::Value::Number(n) => n.as_i64() != Some(0),
                    _ => return Err(StoreError::Corrupt("record head")),
                },
                received_at: OffsetDateTime::parse(at, &Rfc3339).map_err(corrupt)?,
            },
            key,
        ))
    }
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
                category: stored_category(&self.category)?,
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
    pub records: Vec<EncodedRecord>,
    pub mode: GroupWriteMode,
    pub provision: NewProvision,
}

/// Longest chain of merges followed when a batch's person was merged away meanwhile.
const MAX_MERGE_CHAIN: usize = 8;

/// Groups per lookup statement (two binds each).
const GROUPS_PER_LOOKUP: usize = 300;
/// Rows per multi-row statement: at most 18 binds a row, far below SQLite's 32,766 and
/// PostgreSQL's 65,535.
const ROWS_PER_STATEMENT: usize = 500;

/// Whether to keep a statement of `n` rows prepared: small shapes recur (one message per
/// call), large ones rarely do and would crowd the connection's statement cache.
fn reuse(n: usize) -> bool {
    n <= 8 || n == ROWS_PER_STATEMENT || n == GROUPS_PER_LOOKUP
}

/// A stored record of a group the batch writes to.
#[derive(sqlx::FromRow)]
struct StoredRow {
    person_id: Uuid,
    source_group: String,
    source_key: String,
    record_id: Uuid,
    content_hash: String,
    version: i64,
    deleted_at: Option<OffsetDateTime>,
    #[sqlx(flatten)]
    content: StoredContent,
}

#[derive(sqlx::FromRow)]
struct StoredContent {
    resource_type: String,
    category: String,
    code_system: Option<String>,
    code: Option<String>,
    display: Option<String>,
    effective_on: Option<Date>,
    sensitive: bool,
    /// Kept raw: copied to history as stored, parsed only for a snapshot.
    resource: Json<Box<RawValue>>,
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    person_id: Uuid,
    source_group: String,
    source_time: OffsetDateTime,
}

/// A record's content: as stored, or as written by this batch.
enum Content<'a> {
    Stored(Box<StoredContent>),
    Written(Cow<'a, EncodedRecord>),
}

impl Content<'_> {
    fn resource_type(&self) -> &str {
        match self {
            Content::Stored(c) => &c.resource_type,
            Content::Written(i) => &i.input.resource_type,
        }
    }
    fn category(&self) -> &str {
        match self {
            Content::Stored(c) => &c.category,
            Content::Written(i) => i.input.category.as_str(),
        }
    }
    fn code_system(&self) -> Option<&str> {
        match self {
            Content::Stored(c) => c.code_system.as_deref(),
            Content::Written(i) => i.input.code_system.as_deref(),
        }
    }
    fn code(&self) -> Option<&str> {
        match self {
            Content::Stored(c) => c.code.as_deref(),
            Content::Written(i) => i.input.code.as_deref(),
        }
    }
    fn display(&self) -> Option<&str> {
        match self {
            Content::Stored(c) => c.display.as_deref(),
            Content::Written(i) => i.input.display.as_deref(),
        }
    }
    fn effective_on(&self) -> Option<Date> {
        match self {
            Content::Stored(c) => c.effective_on,
            Content::Written(i) => i.input.effective_on,
        }
    }
    fn sensitive(&self) -> bool {
        match self {
            Content::Stored(c) => c.sensitive,
            Content::Written(i) => i.input.sensitive,
        }
    }
    fn resource(&self) -> Json<&RawValue> {
        Json(match self {
            Content::Stored(c) => &c.resource.0,
            Content::Written(i) => &i.input.resource,
        })
    }
    fn to_input(&self, source_key: &str) -> Result<RecordInput> {
        match self {
            Content::Written(i) => i
                .decode()
                .map_err(|_| StoreError::Corrupt("record resource")),
            Content::Stored(c) => Ok(RecordInput {
                source_key: source_key.to_owned(),
                resource_type: c.resource_type.clone(),
                category: stored_category(&c.category)?,
                code_system: c.code_system.clone(),
                code: c.code.clone(),
                display: c.display.clone(),
                effective_on: c.effective_on,
                sensitive: c.sensitive,
                resource: serde_json::from_str(c.resource.0.get())
                    .map_err(|_| StoreError::Corrupt("record resource"))?,
            }),
        }
    }
}

/// What the batch must do to a record's row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Kept,
    Inserted,
    /// Content changed (and maybe deleted since): rewrite the row.
    Rewritten,
    /// Only marked deleted.
    Deleted,
}

/// A record as it stands after the writes applied so far.
struct Slot<'a> {
    record_id: Uuid,
    hash: String,
    version: i64,
    deleted_at: Option<OffsetDateTime>,
    content: Content<'a>,
    fate: Fate,
}

/// An earlier version of a record, for `record_history`.
struct History<'a> {
    person: PersonId,
    record_id: Uuid,
    version: i64,
    hash: String,
    content: Content<'a>,
}

struct Provided<'a> {
    id: Uuid,
    person: PersonId,
    group: &'a str,
    provision: &'a NewProvision,
    outcome: GroupOutcome,
}

/// One (person, group) of a batch.
struct GroupState<'a> {
    person: PersonId,
    group: &'a str,
    /// By source key (byte order, as SQLite sorts them).
    slots: BTreeMap<String, Slot<'a>>,
    /// Some write carries a source time: read `group_versions`.
    timed: bool,
    /// The newest applied source time as the database holds it (compared against).
    newest: Option<OffsetDateTime>,
    /// The last applied source time, to store.
    upsert: Option<OffsetDateTime>,
}

/// A `store_groups` call worked out in memory: the stored state of its groups, read in a few
/// statements, then every write applied in order so that a later write sees the earlier ones
/// exactly as one-by-one statements would.
struct Batch<'a> {
    groups: Vec<GroupState<'a>>,
    index: HashMap<(Uuid, &'a str), usize>,
    /// The group of each write.
    of_write: Vec<usize>,
    outcomes: Vec<GroupOutcome>,
    history: Vec<History<'a>>,
    provisions: Vec<Provided<'a>>,
}

impl<'a> Batch<'a> {
    /// `survivors` maps a person merged away to the person who now holds their records.
    fn new(writes: &'a [GroupWrite], survivors: &HashMap<Uuid, PersonId>) -> Self {
        let mut groups: Vec<GroupState<'a>> = Vec::new();
        let mut index = HashMap::new();
        let mut of_write = Vec::with_capacity(writes.len());
        for w in writes {
            let person = survivors
                .get(&w.person.as_uuid())
                .copied()
                .unwrap_or(w.person);
            let gi = *index
                .entry((person.as_uuid(), w.group.as_str()))
                .or_insert_with(|| {
                    groups.push(GroupState {
                        person,
                        group: &w.group,
                        slots: BTreeMap::new(),
                        timed: false,
                        newest: None,
                        upsert: None,
                    });
                    groups.len() - 1
                });
            if w.provision.source_time.is_some()
                && let Some(g) = groups.get_mut(gi)
            {
                g.timed = true;
            }
            of_write.push(gi);
        }
        Self {
            groups,
            index,
            of_write,
            outcomes: Vec::with_capacity(writes.len()),
            history: Vec::new(),
            provisions: Vec::new(),
        }
    }

    fn group_mut(&mut self, person: Uuid, group: &str) -> Option<&mut GroupState<'a>> {
        let gi = *self.index.get(&(person, group))?;
        self.groups.get_mut(gi)
    }

    fn load_versions(&mut self, rows: Vec<VersionRow>, sqlite: bool) {
        for r in rows {
            if let Some(g) = self.group_mut(r.person_id, &r.source_group) {
                g.newest = Some(stored_time(sqlite, r.source_time));
            }
        }
    }

    fn load_records(&mut self, rows: Vec<StoredRow>) {
        for r in rows {
            if let Some(g) = self.group_mut(r.person_id, &r.source_group) {
                g.slots.insert(
                    r.source_key,
                    Slot {
                        record_id: r.record_id,
                        hash: r.content_hash,
                        version: r.version,
                        deleted_at: r.deleted_at,
                        content: Content::Stored(Box::new(r.content)),
                        fate: Fate::Kept,
                    },
                );
            }
        }
    }

    /// Apply the writes in order, as `store_groups` defines them.
    fn apply(&mut self, writes: &'a [GroupWrite], now: OffsetDateTime, sqlite: bool) -> Result<()> {
        for (w, &gi) in writes.iter().zip(&self.of_write) {
            let g = self
                .groups
                .get_mut(gi)
                .ok_or(StoreError::Corrupt("record batch"))?;
            if let Some(t) = w.provision.source_time {
                if g.newest.is_some_and(|n| n > t) {
                    self.outcomes.push(GroupOutcome {
                        stale: u32::try_from(w.records.len().max(1)).unwrap_or(u32::MAX),
                        ..GroupOutcome::default()
                    });
                    continue;
                }
                encodable(sqlite, t)?;
                g.newest = Some(stored_time(sqlite, t));
                g.upsert = Some(t);
            }
            let outcome = match &w.mode {
                GroupWriteMode::Replace => {
                    let inputs = w.records.iter().map(Cow::Borrowed).collect();
                    g.write(inputs, now, &mut self.history)?
                }
                GroupWriteMode::Snapshot { ended_on, end } => {
                    let given: HashSet<&str> = w
                        .records
                        .iter()
                        .map(|r| r.input.source_key.as_str())
                        .collect();
                    let mut inputs: Vec<Cow<'a, EncodedRecord>> =
                        w.records.iter().map(Cow::Borrowed).collect();
                    for (key, slot) in &g.slots {
                        if slot.deleted_at.is_none() && !given.contains(key.as_str()) {
                            let ended = end(slot.content.to_input(key)?, *ended_on);
                            inputs.push(Cow::Owned(ended.into()));
                        }
                    }
                    g.write(inputs, now, &mut self.history)?
                }
                GroupWriteMode::Delete => {
                    let mut outcome = GroupOutcome::default();
                    for slot in g.slots.values_mut() {
                        if slot.deleted_at.is_none() {
                            slot.delete(now);
                            outcome.deleted += 1;
                        }
                    }
                    outcome
                }
            };
            if !outcome.is_noop() {
                self.provisions.push(Provided {
                    id: Uuid::now_v7(),
                    person: g.person,
                    group: &w.group,
                    provision: &w.provision,
                    outcome,
                });
            }
            self.outcomes.push(outcome);
        }
        Ok(())
    }

    /// The records whose rows the batch must write as `fate` says.
    fn rows(&self, fate: Fate) -> Vec<(&GroupState<'a>, &str, &Slot<'a>)> {
        let mut rows: Vec<_> = self
            .groups
            .iter()
            .flat_map(|g| {
                g.slots
                    .iter()
                    .filter(move |(_, s)| s.fate == fate)
                    .map(move |(k, s)| (g, k.as_str(), s))
            })
            .collect();
        // Person first, as the key and most indexes: each index page is written while hot.
        rows.sort_by(|a, b| {
            (a.0.person.as_uuid(), a.0.group, a.1).cmp(&(b.0.person.as_uuid(), b.0.group, b.1))
        });
        rows
    }

    fn writes_anything(&self) -> bool {
        !self.provisions.is_empty()
    }
}

impl<'a> GroupState<'a> {
    /// Store `inputs` as the group's content: new records added, changed ones replaced (the
    /// old content to history), live ones missing deleted.
    fn write(
        &mut self,
        inputs: Vec<Cow<'a, EncodedRecord>>,
        now: OffsetDateTime,
        history: &mut Vec<History<'a>>,
    ) -> Result<GroupOutcome> {
        // What each input meets is read before any change: (hash, unchanged, version).
        let met: Vec<(String, Option<(bool, i64)>)> = inputs
            .iter()
            .map(|i| {
                let hash = i.hash.clone();
                let met = self
                    .slots
                    .get(&i.input.source_key)
                    .map(|s| (s.hash == hash && s.deleted_at.is_none(), s.version));
                (hash, met)
            })
            .collect();
        let mut outcome = GroupOutcome::default();
        let given: HashSet<&str> = inputs.iter().map(|i| i.input.source_key.as_str()).collect();
        for (key, slot) in self.slots.iter_mut() {
            if slot.deleted_at.is_none() && !given.contains(key.as_str()) {
                slot.delete(now);
                outcome.deleted += 1;
            }
        }
        for (input, (hash, met)) in inputs.into_iter().zip(met) {
            match (met, self.slots.get_mut(&input.input.source_key)) {
                (Some((true, _)), _) => outcome.unchanged += 1,
                (Some((false, version)), Some(slot)) => {
                    history.push(History {
                        person: self.person,
                        record_id: slot.record_id,
                        version: slot.version,
                        hash: std::mem::replace(&mut slot.hash, hash),
                        content: std::mem::replace(&mut slot.content, Content::Written(input)),
                    });
                    // As the one-by-one UPDATE did: the version read before this write, plus one.
                    slot.version = version + 1;
                    slot.deleted_at = None;
                    if slot.fate != Fate::Inserted {
                        slot.fate = Fate::Rewritten;
                    }
                    outcome.replaced += 1;
                }
                // The same source key twice in one group: the one-by-one INSERT failed so.
                (None, Some(_)) => return Err(StoreError::Duplicate("record source key")),
                (_, None) => {
                    self.slots.insert(
                        input.input.source_key.clone(),
                        Slot {
                            record_id: Uuid::now_v7(),
                            hash,
                            version: 1,
                            deleted_at: None,
                            content: Content::Written(input),
                            fate: Fate::Inserted,
                        },
                    );
                    outcome.accepted += 1;
                }
            }
        }
        Ok(outcome)
    }
}

impl Slot<'_> {
    fn delete(&mut self, now: OffsetDateTime) {
        self.deleted_at = Some(now);
        if self.fate == Fate::Kept {
            self.fate = Fate::Deleted;
        }
    }
}

/// A time as the backend gives it back: SQLite keeps RFC 3339 text exactly, PostgreSQL whole
/// microseconds from 2000-01-01 (truncated, as sqlx encodes).
fn stored_time(sqlite: bool, t: OffsetDateTime) -> OffsetDateTime {
    if sqlite {
        return t;
    }
    const EPOCH: OffsetDateTime = time::macros::datetime!(2000-01-01 0:00 UTC);
    i64::try_from((t - EPOCH).whole_microseconds())
        .ok()
        .and_then(|us| EPOCH.checked_add(time::Duration::microseconds(us)))
        .unwrap_or(t)
}

/// Fail as binding would on SQLite (RFC 3339 text), rather than let `QueryBuilder` panic.
fn encodable(sqlite: bool, t: OffsetDateTime) -> Result<()> {
    if sqlite {
        t.format(&Rfc3339)
            .map_err(|e| StoreError::Database(sqlx::Error::Encode(Box::new(e))))?;
    }
    Ok(())
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
            records: inputs.iter().cloned().map(EncodedRecord::from).collect(),
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
        let sqlite = matches!(self, Store::Sqlite(_));
        let mut persons: Vec<Uuid> = writes.iter().map(|w| w.person.as_uuid()).collect();
        persons.sort_unstable();
        persons.dedup();
        // Few statements per batch: per-statement overhead dominates ingestion.
        in_tx!(self, tx => {
            // The caller looked its patients up before this transaction; one may have been
            // merged away since. Its records go to the survivor, never to the merged person.
            // On PostgreSQL, FOR SHARE makes a merge that starts now wait for this commit.
            let mut survivors: HashMap<Uuid, PersonId> = HashMap::new();
            let mut ask = persons;
            for _ in 0..MAX_MERGE_CHAIN {
                let mut next = Vec::new();
                for chunk in ask.chunks(ROWS_PER_STATEMENT) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "SELECT person_id, merged_into FROM persons WHERE person_id IN (",
                    );
                    let mut list = qb.separated(", ");
                    for p in chunk {
                        list.push_bind(*p);
                    }
                    qb.push(")");
                    if !sqlite {
                        qb.push(" FOR SHARE");
                    }
                    let rows: Vec<(Uuid, Option<Uuid>)> =
                        qb.build_query_as().fetch_all(&mut *tx).await?;
                    for (p, into) in rows {
                        let Some(into) = into else { continue };
                        // Point everyone who led to `p` at its survivor.
                        for v in survivors.values_mut() {
                            if v.as_uuid() == p {
                                *v = PersonId::from_uuid(into);
                            }
                        }
                        survivors.entry(p).or_insert(PersonId::from_uuid(into));
                        next.push(into);
                    }
                }
                if next.is_empty() {
                    break;
                }
                ask = next;
            }
            let mut batch = Batch::new(writes, &survivors);
            let timed: Vec<&GroupState<'_>> = batch.groups.iter().filter(|g| g.timed).collect();
            let mut versions: Vec<VersionRow> = Vec::new();
            for chunk in timed.chunks(GROUPS_PER_LOOKUP) {
                let mut qb = sqlx::QueryBuilder::new("WITH k(p, g) AS (");
                qb.push_values(chunk, |mut b, g| {
                    b.push_bind(g.person.as_uuid()).push_bind(g.group);
                });
                qb.push(
                    ") SELECT v.person_id, v.source_group, v.source_time FROM k \
                     CROSS JOIN group_versions v WHERE v.person_id = k.p \
                     AND v.source_group = k.g AND v.facility_id = ",
                );
                qb.push_bind(facility.as_uuid());
                versions.extend(
                    qb.build_query_as::<VersionRow>()
                        .persistent(reuse(chunk.len()))
                        .fetch_all(&mut *tx)
                        .await?,
                );
            }
            // CROSS JOIN keeps k the outer loop on SQLite, which otherwise may scan all the
            // facility's records for a long k; PostgreSQL plans it as any inner join.
            let mut stored: Vec<StoredRow> = Vec::new();
            for chunk in batch.groups.chunks(GROUPS_PER_LOOKUP) {
                let mut qb = sqlx::QueryBuilder::new("WITH k(p, g) AS (");
                qb.push_values(chunk, |mut b, g| {
                    b.push_bind(g.person.as_uuid()).push_bind(g.group);
                });
                qb.push(
                    ") SELECT r.person_id, r.source_group, r.source_key, r.record_id, \
                     r.content_hash, r.version, r.deleted_at, r.resource_type, r.category, \
                     r.code_system, r.code, r.display, r.effective_on, r.sensitive, r.resource \
                     FROM k CROSS JOIN records r WHERE r.person_id = k.p \
                     AND r.source_group = k.g AND r.facility_id = ",
                );
                qb.push_bind(facility.as_uuid());
                stored.extend(
                    qb.build_query_as::<StoredRow>()
                        .persistent(reuse(chunk.len()))
                        .fetch_all(&mut *tx)
                        .await?,
                );
            }
            drop(timed);
            batch.load_versions(versions, sqlite);
            batch.load_records(stored);
            batch.apply(writes, now, sqlite)?;
            if batch.writes_anything() {
                encodable(sqlite, now)?;
            }

            let upserts: Vec<(&GroupState<'_>, OffsetDateTime)> = batch
                .groups
                .iter()
                .filter_map(|g| g.upsert.map(|t| (g, t)))
                .collect();
            for chunk in upserts.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO group_versions (person_id, facility_id, source_group, source_time) ",
                );
                qb.push_values(chunk, |mut b, &(g, t)| {
                    b.push_bind(g.person.as_uuid())
                        .push_bind(facility.as_uuid())
                        .push_bind(g.group)
                        .push_bind(t);
                });
                qb.push(
                    " ON CONFLICT (person_id, facility_id, source_group) \
                     DO UPDATE SET source_time = excluded.source_time",
                );
                qb.build().persistent(reuse(chunk.len())).execute(&mut *tx).await?;
            }

            for chunk in batch.rows(Fate::Inserted).chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO records (person_id, record_id, facility_id, source_group, \
                     source_key, resource_type, category, code_system, code, display, \
                     effective_on, sensitive, resource, content_hash, version, received_at, \
                     updated_at, deleted_at) ",
                );
                qb.push_values(chunk, |mut b, &(g, key, s)| {
                    let c = &s.content;
                    b.push_bind(g.person.as_uuid())
                        .push_bind(s.record_id)
                        .push_bind(facility.as_uuid())
                        .push_bind(g.group)
                        .push_bind(key)
                        .push_bind(c.resource_type())
                        .push_bind(c.category())
                        .push_bind(c.code_system())
                        .push_bind(c.code())
                        .push_bind(c.display())
                        .push_bind(c.effective_on())
                        .push_bind(c.sensitive())
                        .push_bind(c.resource())
                        .push_bind(s.hash.as_str())
                        .push_bind(s.version)
                        .push_bind(now)
                        .push_bind(now)
                        .push_bind(s.deleted_at);
                });
                qb.build()
                    .persistent(reuse(chunk.len()))
                    .execute(&mut *tx)
                    .await
                    .map_err(crate::duplicate_as("record source key"))?;
            }

            for chunk in batch.history.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO record_history (person_id, record_id, version, resource, \
                     content_hash, superseded_at) ",
                );
                qb.push_values(chunk, |mut b, h| {
                    b.push_bind(h.person.as_uuid())
                        .push_bind(h.record_id)
                        .push_bind(h.version)
                        .push_bind(h.content.resource())
                        .push_bind(h.hash.as_str())
                        .push_bind(now);
                });
                qb.build().persistent(reuse(chunk.len())).execute(&mut *tx).await?;
            }

            for chunk in batch.rows(Fate::Rewritten).chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new("UPDATE records SET updated_at = ");
                qb.push_bind(now);
                qb.push(
                    ", resource_type = k.column3, category = k.column4, code_system = k.column5, \
                     code = k.column6, display = k.column7, effective_on = k.column8, \
                     sensitive = k.column9, resource = k.column10, content_hash = k.column11, \
                     version = k.column12, deleted_at = k.column13 FROM (",
                );
                qb.push_values(chunk, |mut b, &(g, _, s)| {
                    let c = &s.content;
                    b.push_bind(g.person.as_uuid())
                        .push_bind(s.record_id)
                        .push_bind(c.resource_type())
                        .push_bind(c.category())
                        .push_bind(c.code_system())
                        .push_bind(c.code())
                        .push_bind(c.display())
                        .push_bind(c.effective_on())
                        .push_bind(c.sensitive())
                        .push_bind(c.resource())
                        .push_bind(s.hash.as_str())
                        .push_bind(s.version)
                        .push_bind(s.deleted_at);
                });
                qb.push(
                    ") AS k WHERE records.person_id = k.column1 AND records.record_id = k.column2",
                );
                qb.build().persistent(reuse(chunk.len())).execute(&mut *tx).await?;
            }

            for chunk in batch.rows(Fate::Deleted).chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new("UPDATE records SET deleted_at = ");
                qb.push_bind(now);
                qb.push(", updated_at = ");
                qb.push_bind(now);
                qb.push(" FROM (");
                qb.push_values(chunk, |mut b, &(g, _, s)| {
                    b.push_bind(g.person.as_uuid()).push_bind(s.record_id);
                });
                qb.push(
                    ") AS k WHERE records.person_id = k.column1 AND records.record_id = k.column2",
                );
                qb.build().persistent(reuse(chunk.len())).execute(&mut *tx).await?;
            }

            // Every person whose records changed: the viewer's kept heads of them are stale.
            let mut changed: Vec<Uuid> = batch.provisions.iter().map(|p| p.person.as_uuid()).collect();
            changed.sort_unstable();
            changed.dedup();
            for chunk in changed.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "UPDATE persons SET records_version = records_version + 1 WHERE person_id IN (",
                );
                let mut list = qb.separated(", ");
                for p in chunk {
                    list.push_bind(*p);
                }
                qb.push(")");
                qb.build().persistent(reuse(chunk.len())).execute(&mut *tx).await?;
            }

            for chunk in batch.provisions.chunks(ROWS_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO provisions (person_id, provision_id, facility_id, channel, \
                     source_group, source_name, payload_hash, accepted, replaced, deleted, \
                     received_at) ",
                );
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(p.person.as_uuid())
                        .push_bind(p.id)
                        .push_bind(facility.as_uuid())
                        .push_bind(p.provision.channel)
                        .push_bind(p.group)
                        .push_bind(p.provision.source_name.as_deref())
                        .push_bind(p.provision.payload_hash.as_str())
                        .push_bind(i64::from(p.outcome.accepted))
                        .push_bind(i64::from(p.outcome.replaced))
                        .push_bind(i64::from(p.outcome.deleted))
                        .push_bind(now);
                });
                qb.build().persistent(reuse(chunk.len())).execute(&mut *tx).await?;
            }
            std::mem::take(&mut batch.outcomes)
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

    /// A person's live record heads (no resource), oldest first (by clinical date, undated
    /// first, then arrival and source key): what authorization, ordering and paging need,
    /// without reading and parsing every resource.
    pub async fn record_heads(&self, person: PersonId) -> Result<Vec<RecordHead>> {
        // SQLite: one row holding every head as JSON, from the covering index
        // `records_heads`: sqlx-sqlite hands each result row across threads on its own, which
        // cost more than the rows themselves for a person with a thousand records.
        let json: Option<String> = match self {
            Store::Sqlite(pool) => {
                sqlx::query_scalar(RECORD_HEADS_SQLITE)
                    .bind(person.as_uuid())
                    .fetch_one(pool)
                    .await?
            }
            // PostgreSQL streams rows cheaply; building JSON there only costs.
            Store::Postgres(pool) => {
                let rows: Vec<PgHeadRow> = sqlx::query_as(RECORD_HEADS_POSTGRES)
                    .bind(person.as_uuid())
                    .fetch_all(pool)
                    .await?;
                return rows.into_iter().map(PgHeadRow::into_domain).collect();
            }
        };
        let json = json.unwrap_or_default();
        let rows: Vec<HeadRow> = if json.is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&json).map_err(|_| StoreError::Corrupt("record heads"))?
        };
        let mut heads = rows
            .into_iter()
            .map(HeadRow::into_domain)
            .collect::<Result<Vec<_>>>()?;
        heads.sort_by(|a, b| {
            (a.0.effective_on, a.0.received_at, &a.1).cmp(&(
                b.0.effective_on,
                b.0.received_at,
                &b.1,
            ))
        });
        Ok(heads.into_iter().map(|(h, _)| h).collect())
    }

    /// Some records of a person, whole, by id (in no particular order; ids not found, or of
    /// another person, are absent).
    pub async fn records_by_ids(&self, person: PersonId, ids: &[Uuid]) -> Result<Vec<Record>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let rows: Vec<RecordRow> = with_pool!(self, pool => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT person_id, record_id, facility_id, source_group, source_key, \
                     resource_type, category, code_system, code, display, effective_on, \
                     sensitive, resource, content_hash, version, received_at, updated_at, \
                     deleted_at FROM records WHERE person_id = ",
                );
                qb.push_bind(person.as_uuid());
                qb.push(" AND record_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build_query_as().persistent(reuse(chunk.len())).fetch_all(pool).await?
            });
            for r in rows {
                out.push(r.into_domain()?);
            }
        }
        Ok(out)
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
        audit: Option<AuditEvent>,
    ) -> Result<Option<AuditEntry>> {
        let now = renkei_domain::to_micros(now);
        in_tx!(self, tx => {
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
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound("quarantined input"));
            }
            match audit {
                Some(event) => Some(crate::audit::append_in_tx!(tx, event)),
                None => None,
            }
        })
    }
}

const RECORDS_OF_ALL: &str = "SELECT person_id, record_id, facility_id, source_group, source_key, \
     resource_type, category, code_system, code, display, effective_on, sensitive, resource, \
     content_hash, version, received_at, updated_at, deleted_at FROM records \
     WHERE person_id = $1 ORDER BY effective_on, received_at, source_key";
const RECORDS_OF_LIVE: &str = "SELECT person_id, record_id, facility_id, source_group, source_key, \
     resource_type, category, code_system, code, display, effective_on, sensitive, resource, \
     content_hash, version, received_at, updated_at, deleted_at FROM records \
     WHERE person_id = $1 AND deleted_at IS NULL ORDER BY effective_on, received_at, source_key";
/// Served from the partial covering index `records_heads` alone (its columns), in the order
/// `record_heads` defines (undated first, as SQLite sorts NULL).
const RECORD_HEADS_SQLITE: &str = "SELECT json_group_array(json_array(hex(record_id), \
     hex(facility_id), resource_type, category, code, display, effective_on, sensitive, \
     received_at, source_key)) FROM records WHERE person_id = $1 AND deleted_at IS NULL";
const RECORD_HEADS_POSTGRES: &str = "SELECT record_id, facility_id, resource_type, category, \
     code, display, effective_on, sensitive, received_at FROM records \
     WHERE person_id = $1 AND deleted_at IS NULL \
     ORDER BY effective_on NULLS FIRST, received_at, source_key";
const QUARANTINE_LIST: &str = "SELECT quarantine_id, facility_id, channel, source_name, payload, \
     payload_hash, reason_code, reason_detail, status, attempts, received_at, updated_at \
     FROM quarantine WHERE ($1 IS NULL OR facility_id = $1) AND ($2 IS NULL OR status = $2) \
     ORDER BY received_at DESC LIMIT $3";
const QUARANTINE_ONE: &str = "SELECT quarantine_id, facility_id, channel, source_name, payload, \
     payload_hash, reason_code, reason_detail, status, attempts, received_at, updated_at \
     FROM quarantine WHERE quarantine_id = $1";
