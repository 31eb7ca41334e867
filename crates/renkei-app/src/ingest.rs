//! Ingestion: what arrives from a facility's systems is identified, stored idempotently and
//! logged as a provision; what cannot be taken is quarantined with its reason and its original
//! bytes, and never blocks what follows.
//!
//! Formats (SS-MIX2 / HL7 v2, FHIR R4) turn their input into [`IngestUnit`]s; everything after
//! that — patient identification, storage, quarantine — is here, once.

use crate::mpi::ArrivedDemographics;
use crate::{App, AppError};
use renkei_domain::record::{EncodedRecord, GroupOutcome, RecordInput};
use renkei_domain::{Facility, PersonId};
use renkei_store::{NewProvision, NewQuarantine, QuarantineStatus, Quarantined};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Files per transaction when a storage is imported: large enough that each index page a
/// batch touches is written once for many records (500 ran at two thirds of this speed), small
/// enough that a crash costs seconds of work, redone idempotently.
pub const IMPORT_BATCH: usize = 2000;

/// What to do with one group of records (encoded while mapping, off the storage path).
#[derive(Clone, Debug)]
pub enum GroupAction {
    /// Store this as the group's current content.
    Replace(Vec<EncodedRecord>),
    /// The source deleted the group (SS-MIX2 flag 0).
    Delete,
    /// A full snapshot (SS-MIX2 PPR-01 problem list): items of the group missing from it are
    /// not deleted but *ended* on `ended_on` — a diagnosis that is no longer listed has ended,
    /// and the doctor should still see that it existed.
    Snapshot {
        records: Vec<EncodedRecord>,
        ended_on: time::Date,
    },
}

/// One group of records for one patient of the sending facility.
#[derive(Clone, Debug)]
pub struct IngestUnit {
    /// The facility's patient ID (患者ID) the records belong to.
    pub local_patient_id: String,
    /// The group's identity within the facility (SS-MIX2 logical key, Bundle identifier, …).
    pub group: String,
    pub action: GroupAction,
    /// When the source made this version (SS-MIX2 発生日時): an older version arriving after a
    /// newer one is not applied.
    pub source_time: Option<OffsetDateTime>,
}

/// Why an input was quarantined: a stable code and an English detail without patient data,
/// plus the Japanese text facility admins see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: String,
    pub detail: String,
}

impl Rejection {
    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            detail: detail.into(),
        }
    }
}

/// The result of one input (file, message, Bundle).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    pub outcome: GroupOutcome,
    /// Records by FHIR resource type, for the import summary.
    pub by_resource_type: BTreeMap<String, u32>,
    /// Set when the input was quarantined.
    pub quarantined: Option<String>,
}

/// Where an input came from, for the provision log and the quarantine.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    /// `ssmix2`, `fhir`.
    pub channel: &'static str,
    /// SS-MIX2 file name, or a file name / Bundle identifier.
    pub name: Option<&'a str>,
    pub bytes: &'a [u8],
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl App {
    /// Take parsed units from one input. Any unit that cannot be placed quarantines the whole
    /// input (one file or Bundle is one provision: half of it is never stored).
    pub async fn ingest_units(
        &self,
        facility: &Facility,
        source: &Source<'_>,
        units: Result<Vec<IngestUnit>, Rejection>,
    ) -> Result<IngestReport, AppError> {
        let now = OffsetDateTime::now_utc();
        let units = match units.and_then(check_text) {
            Ok(u) => u,
            Err(r) => return self.hold(facility, source, r, now).await,
        };
        // Identify every patient before writing anything.
        let mut placed: Vec<(PersonId, IngestUnit)> = Vec::new();
        for u in units {
            match self
                .store
                .person_by_local_id(facility.id, u.local_patient_id.trim())
                .await?
            {
                Some(p) => placed.push((p, u)),
                None => {
                    let r = Rejection::new(
                        "unknown-patient",
                        "the patient ID is not registered at this facility in the network \
                         (no consent on file); retry after registration",
                    );
                    return self.hold(facility, source, r, now).await;
                }
            }
        }
        let mut report = IngestReport::default();
        let payload_hash = sha256_hex(source.bytes);
        let writes: Vec<renkei_store::GroupWrite> = placed
            .into_iter()
            .map(|(person, unit)| group_write(person, unit, source, &payload_hash, &mut report))
            .collect();
        // One input, one transaction: stored whole or not at all.
        for out in self.store.store_groups(facility.id, &writes, now).await? {
            report.outcome.add(out);
        }
        Ok(report)
    }

    async fn hold(
        &self,
        facility: &Facility,
        source: &Source<'_>,
        r: Rejection,
        now: OffsetDateTime,
    ) -> Result<IngestReport, AppError> {
        tracing::info!(channel = source.channel, reason = %r.code, "input quarantined");
        // Photos lose their metadata here too; the hash is of what is kept, so a resend of
        // the same input (or a failed retry) meets the same held row.
        let payload = match source.channel {
            "fhir" => renkei_fhir::attachment::scrub_payload(source.bytes)
                .unwrap_or_else(|| source.bytes.to_vec()),
            _ => source.bytes.to_vec(),
        };
        let payload_hash = sha256_hex(&payload);
        let id = self
            .store
            .quarantine(
                &NewQuarantine {
                    facility_id: facility.id,
                    channel: source.channel,
                    source_name: source.name.map(str::to_owned),
                    payload,
                    payload_hash,
                    reason_code: r.code,
                    reason_detail: r.detail,
                },
                now,
            )
            .await?;
        Ok(IngestReport {
            quarantined: Some(id.to_string()),
            ..IngestReport::default()
        })
    }

    /// Quarantined input a user may see: their own facility's, or all for the office.
    pub async fn quarantine_list(
        &self,
        facility: Option<&Facility>,
        status: Option<QuarantineStatus>,
    ) -> Result<Vec<Quarantined>, AppError> {
        Ok(self
            .store
            .quarantined(facility.map(|f| f.id), status, 500)
            .await?)
    }
}

impl App {
    /// A held input `by` may act on: its own facility's for a facility admin, any for the
    /// network office or the operator's CLI (`None`).
    pub async fn quarantined_for(
        &self,
        by: Option<&crate::Actor>,
        id: uuid::Uuid,
    ) -> Result<Quarantined, AppError> {
        if let Some(a) = by {
            a.require_any(&[
                renkei_domain::Role::FacilityAdmin,
                renkei_domain::Role::NetworkOffice,
            ])?;
        }
        let q = self
            .store
            .quarantined_one(id)
            .await?
            .ok_or(AppError::NotFound("quarantined input"))?;
        match by {
            Some(a)
                if q.facility_id != a.facility.id
                    && !a.user.has_role(renkei_domain::Role::NetworkOffice) =>
            {
                // Another facility's input is not even confirmed to exist.
                Err(AppError::NotFound("quarantined input"))
            }
            _ => Ok(q),
        }
    }

    /// Run a held input through ingestion again; it is marked resolved once taken. `by` is
    /// the facility admin or office user (audited), `None` the operator's CLI.
    pub async fn retry_quarantined(
        &self,
        by: Option<&crate::Actor>,
        id: uuid::Uuid,
    ) -> Result<IngestReport, AppError> {
        let q = self.quarantined_for(by, id).await?;
        if q.reason_code == "wrong-folder" {
            // The file name alone would file it under the patient it names, which is what the
            // storage contradicted: it must be filed correctly at the source and sent again.
            return Err(AppError::Invalid {
                field: "quarantine",
                message_ja: "フォルダが誤っていたデータは再取り込みできません。施設側で正しい場所に保存し直してください。",
            });
        }
        let now = OffsetDateTime::now_utc();
        let mut ev = crate::Actor::event_by(by, renkei_domain::AuditAction::AdminChange, now);
        ev.items = vec![format!("quarantine-retry:{id}")];
        self.audit(ev).await?;
        let facility = self
            .store
            .facility(q.facility_id)
            .await?
            .ok_or(AppError::NotFound("facility"))?;
        let report = self
            .ingest_input(&facility, &q.channel, q.source_name.as_deref(), &q.payload)
            .await?;
        if report.quarantined.is_none() {
            // The retry itself was audited above.
            self.store
                .update_quarantine(
                    id,
                    QuarantineStatus::Resolved,
                    None,
                    OffsetDateTime::now_utc(),
                    None,
                )
                .await?;
        }
        Ok(report)
    }

    /// Dismiss a held input (e.g. a test message sent by mistake); it stays on record.
    pub async fn discard_quarantined(
        &self,
        by: Option<&crate::Actor>,
        id: uuid::Uuid,
    ) -> Result<(), AppError> {
        self.quarantined_for(by, id).await?;
        let now = OffsetDateTime::now_utc();
        let mut ev = crate::Actor::event_by(by, renkei_domain::AuditAction::AdminChange, now);
        ev.items = vec![format!("quarantine-discard:{id}")];
        // The change and its audit entry in one transaction.
        if let Some(entry) = self
            .store
            .update_quarantine(id, QuarantineStatus::Discarded, None, now, Some(ev))
            .await?
        {
            self.after_append(entry.seq).await;
        }
        Ok(())
    }

    /// Ingest one input of a channel: `fhir` (a Bundle or resource) or `ssmix2` (one file of
    /// a standardized storage, by its file name).
    pub async fn ingest_input(
        &self,
        facility: &Facility,
        channel: &str,
        name: Option<&str>,
        bytes: &[u8],
    ) -> Result<IngestReport, AppError> {
        match channel {
            "fhir" => self.ingest_fhir(facility, name, bytes).await,
            "ssmix2" => {
                self.ingest_ssmix2(facility, name.unwrap_or(""), bytes)
                    .await
            }
            _ => Err(AppError::Invalid {
                field: "channel",
                message_ja: "取り込みの種類が不明です。",
            }),
        }
    }
}

impl App {
    /// 電子カルテ情報共有サービス-style FHIR input: a JP-CLINS collection or document Bundle,
    /// or one JP Core resource. One input is one group (its Bundle identifier, or the
    /// resource's identity), so a corrected Bundle replaces the earlier one.
    pub async fn ingest_fhir(
        &self,
        facility: &Facility,
        name: Option<&str>,
        bytes: &[u8],
    ) -> Result<IngestReport, AppError> {
        let source = Source {
            channel: "fhir",
            name,
            bytes,
        };
        // The Patient's demographics, for 名寄せ once the input is taken.
        let mut demographics = None;
        let units = match renkei_fhir::parse_submission(bytes, facility.code.as_str()) {
            Err(e) => Err(Rejection::new(e.rule(), e.to_string())),
            Ok(sub) => match sub.patient.local_id.clone() {
                // Identification by insurance number or a bare resource id needs the MPI:
                // until then such input waits, rather than being filed under a guess.
                None => Err(Rejection::new(
                    "missing-patient-id",
                    "no Patient.identifier with this facility's patient ID system",
                )),
                Some(local) => {
                    demographics = Some(ArrivedDemographics::from_fhir(&local, &sub.patient));
                    if !sub.skipped.is_empty() {
                        tracing::info!(skipped = sub.skipped.len(), "FHIR resources not stored");
                    }
                    let group = sub
                        .group_key()
                        .unwrap_or_else(|| format!("sha256={}", sub.payload_sha256));
                    let group = format!("fhir:{group}");
                    let is_bundle = sub.bundle_identifier.is_some();
                    // A single resource re-sent as 未提供 (not to be shared) retracts what was
                    // shared of it before.
                    let retracted = !is_bundle && sub.records.is_empty() && !sub.skipped.is_empty();
                    let records: Vec<EncodedRecord> = sub
                        .records
                        .into_iter()
                        .map(|r| r.into_record_input().into())
                        .collect();
                    Ok(match (records.is_empty(), is_bundle || retracted) {
                        // JP-CLINS: a Bundle carrying only the Patient withdraws everything
                        // sent before under its identifier.
                        (true, true) => vec![IngestUnit {
                            local_patient_id: local,
                            group,
                            action: GroupAction::Delete,
                            source_time: None,
                        }],
                        // A Patient alone: demographics only, no clinical record.
                        (true, false) => Vec::new(),
                        (false, _) => vec![IngestUnit {
                            local_patient_id: local,
                            group,
                            action: GroupAction::Replace(records),
                            source_time: None,
                        }],
                    })
                }
            },
        };
        let report = self.ingest_units(facility, &source, units).await?;
        if report.quarantined.is_none() {
            self.match_arrived_demographics(facility, demographics.into_iter().collect())
                .await;
        }
        Ok(report)
    }
}

impl App {
    /// One file of an SS-MIX2 standardized storage, by its file name. The file name decides
    /// the patient and the group (the logical key); the message must agree with it.
    pub async fn ingest_ssmix2(
        &self,
        facility: &Facility,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<IngestReport, AppError> {
        let source = Source {
            channel: "ssmix2",
            name: Some(file_name),
            bytes,
        };
        let (units, demographics) = split_demographics(prepare_ssmix2(file_name, bytes));
        let report = self.ingest_units(facility, &source, units).await?;
        if report.quarantined.is_none() {
            self.match_arrived_demographics(facility, demographics.into_iter().collect())
                .await;
        }
        Ok(report)
    }

    /// Many files of one facility's storage (an import, a gateway batch): parsed and mapped
    /// outside the transaction, then written in one transaction — all or none, so a crash
    /// loses or duplicates nothing. Files that cannot be placed are quarantined one by one
    /// and never hold the others back.
    pub async fn ingest_ssmix2_batch(
        &self,
        facility: &Facility,
        files: &[(&str, &[u8])],
    ) -> Result<Vec<IngestReport>, AppError> {
        let owned = files
            .iter()
            .map(|(n, b)| ((*n).to_owned(), b.to_vec()))
            .collect();
        let prepared = tokio::task::spawn_blocking(move || prepare_ssmix2_files(owned))
            .await
            .map_err(|_| AppError::Internal("SS-MIX2 mapping stopped"))?;
        self.store_ssmix2_batch(facility, prepared).await
    }

    /// Batches of one facility's files as a pipeline: while one batch is stored (one
    /// transaction each), the next is read and mapped on other threads. `done` gets each
    /// batch's reports, in order. Reading happens in `batches`, off the async runtime.
    pub async fn ingest_ssmix2_stream<I, F>(
        &self,
        facility: &Facility,
        batches: I,
        mut done: F,
    ) -> Result<(), AppError>
    where
        I: IntoIterator<Item = Vec<(String, Vec<u8>)>> + Send + 'static,
        I::IntoIter: Send,
        F: FnMut(Vec<IngestReport>),
    {
        // One batch mapped ahead: enough to keep both stages busy, little memory.
        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        let producer = tokio::task::spawn_blocking(move || {
            for batch in batches {
                if tx.blocking_send(prepare_ssmix2_files(batch)).is_err() {
                    break; // the store side failed and stopped listening
                }
            }
        });
        while let Some(prepared) = rx.recv().await {
            done(self.store_ssmix2_batch(facility, prepared).await?);
        }
        producer
            .await
            .map_err(|_| AppError::Internal("SS-MIX2 mapping stopped"))
    }

    /// Store a prepared batch in one transaction; see [`Self::ingest_ssmix2_batch`].
    pub async fn store_ssmix2_batch(
        &self,
        facility: &Facility,
        files: Vec<PreparedFile>,
    ) -> Result<Vec<IngestReport>, AppError> {
        let now = OffsetDateTime::now_utc();
        let mut reports = vec![IngestReport::default(); files.len()];
        // Every patient of the batch in one lookup (file names carry the patient ID).
        let ids: Vec<String> = {
            let mut ids: Vec<String> = files
                .iter()
                .filter_map(|f| f.units.as_ref().ok())
                .flatten()
                .map(|u| u.local_patient_id.trim().to_owned())
                .collect();
            ids.sort();
            ids.dedup();
            ids
        };
        let persons = self.store.persons_by_local_ids(facility.id, &ids).await?;
        let mut writes = Vec::new();
        let mut owner = Vec::new();
        let mut arrived = Vec::new();
        for (i, file) in files.into_iter().enumerate() {
            let source = Source {
                channel: "ssmix2",
                name: Some(&file.name),
                bytes: &file.bytes,
            };
            let rejected = match file.units {
                Err(r) => Some(r),
                Ok(units) => {
                    let placed: Option<Vec<(PersonId, IngestUnit)>> = units
                        .into_iter()
                        .map(|u| {
                            let p = persons.get(u.local_patient_id.trim()).copied();
                            p.map(|p| (p, u))
                        })
                        .collect();
                    match placed {
                        Some(placed) => {
                            if let Some(rep) = reports.get_mut(i) {
                                for (person, unit) in placed {
                                    writes.push(group_write(
                                        person,
                                        unit,
                                        &source,
                                        &file.payload_hash,
                                        rep,
                                    ));
                                    owner.push(i);
                                }
                            }
                            arrived.extend(file.demographics);
                            None
                        }
                        None => Some(Rejection::new(
                            "unknown-patient",
                            "the patient ID is not registered at this facility in the network \
                             (no consent on file); retry after registration",
                        )),
                    }
                }
            };
            if let Some(r) = rejected
                && let Some(rep) = reports.get_mut(i)
            {
                *rep = self.hold(facility, &source, r, now).await?;
            }
        }
        let outcomes = self.store.store_groups(facility.id, &writes, now).await?;
        for (i, out) in owner.into_iter().zip(outcomes) {
            if let Some(rep) = reports.get_mut(i) {
                rep.outcome.add(out);
            }
        }
        self.match_arrived_demographics(facility, arrived).await;
        Ok(reports)
    }
}

/// One SS-MIX2 file made ready for storage without the database: parsed, checked, mapped and
/// its records encoded — the CPU-heavy part of ingestion, done in parallel.
pub struct PreparedFile {
    pub name: String,
    pub bytes: Vec<u8>,
    payload_hash: String,
    units: Result<Vec<IngestUnit>, Rejection>,
    /// ADT-00's demographics, for 名寄せ once the file is taken.
    demographics: Option<ArrivedDemographics>,
}

/// Prepare files (name, bytes) on all cores, keeping their order.
pub fn prepare_ssmix2_files(files: Vec<(String, Vec<u8>)>) -> Vec<PreparedFile> {
    use rayon::prelude::*;
    let prepare = move || {
        files
            .into_par_iter()
            .map(|(name, bytes)| {
                let (units, demographics) = split_demographics(prepare_ssmix2(&name, &bytes));
                PreparedFile {
                    units: units.and_then(check_text),
                    demographics,
                    payload_hash: sha256_hex(&bytes),
                    name,
                    bytes,
                }
            })
            .collect()
    };
    match mapping_pool() {
        Some(pool) => pool.install(prepare),
        None => prepare(),
    }
}

/// CPU priority of the mapping threads, as a nice value: below the store's writer and the
/// request handlers (0). On two cores an import maps on both while one batch is stored; at
/// equal priority the mapping threads took CPU from the writer, whose batches are the
/// critical path (bench ingest end to end, random order: 10.8–12.6k → 13.1–13.5k messages/s
/// at nice 10). At lower priority mapping takes the cores the writer leaves, and a clinician's page
/// is not slowed by a facility's bulk import.
const MAPPING_NICE: i32 = 10;

/// The threads that map input, one per core, at [`MAPPING_NICE`]. `None` if they cannot be
/// started (then the global pool maps).
fn mapping_pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .thread_name(|i| format!("renkei-map-{i}"))
            .start_handler(|_| lower_this_threads_priority())
            .build()
            .ok()
    })
    .as_ref()
}

#[cfg(target_os = "linux")]
fn lower_this_threads_priority() {
    // On Linux a nice value belongs to the thread: setpriority with the thread's ID changes
    // this thread only. Failing (a sandbox forbids it) only leaves the priority as it was.
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), MAPPING_NICE) {
        tracing::debug!(error = %e, "could not lower the mapping threads' priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_this_threads_priority() {}

/// The groups of one SS-MIX2 file, and the demographics it carries (ADT-00) for 名寄せ.
type Ssmix2Units = (Vec<IngestUnit>, Option<ArrivedDemographics>);

fn split_demographics(
    prepared: Result<Ssmix2Units, Rejection>,
) -> (
    Result<Vec<IngestUnit>, Rejection>,
    Option<ArrivedDemographics>,
) {
    match prepared {
        Ok((units, demographics)) => (Ok(units), demographics),
        Err(r) => (Err(r), None),
    }
}

/// The order in which an SS-MIX2 storage's files must be applied: versions of one group in the
/// order the source made them (PPR-01 snapshots are one group per patient).
pub fn ssmix2_order_key(name: &renkei_hl7::ssmix2::FileName) -> (String, OffsetDateTime) {
    (ssmix2_group(name), name.timestamp().start())
}

fn ssmix2_group(name: &renkei_hl7::ssmix2::FileName) -> String {
    let key = name.logical_key();
    if key.kind.as_str() == "PPR-01" {
        format!("ssmix2:{}|PPR-01", key.patient_id)
    } else {
        format!(
            "ssmix2:{}|{}|{}|{}",
            key.patient_id,
            name.date_folder(),
            key.kind.as_str(),
            key.order_no
        )
    }
}

/// Parse, check and map one SS-MIX2 file into the groups it writes. The file name decides the
/// patient and the group (the logical key); the message must agree with it.
fn prepare_ssmix2(file_name: &str, bytes: &[u8]) -> Result<Ssmix2Units, Rejection> {
    use renkei_hl7::ssmix2::{ConditionFlag, FileName};
    let name = FileName::parse(file_name.trim())
        .map_err(|e| Rejection::new("bad-file-name", e.to_string()))?;
    let key = name.logical_key();
    let problem_list = key.kind.as_str() == "PPR-01";
    // PPR-01 is the patient's whole problem list: one group per patient, whatever the order
    // number or date in the file name.
    let group = ssmix2_group(&name);
    let local_patient_id = key.patient_id.clone();
    let source_time = Some(name.timestamp().start());
    let mut demographics = None;
    let units = match name.flag() {
        // An older version of a record the source has since updated: the newer file (flag 1)
        // carries the current content, and our own history keeps what we had.
        ConditionFlag::Superseded => Vec::new(),
        ConditionFlag::Deleted => vec![IngestUnit {
            local_patient_id,
            group,
            action: GroupAction::Delete,
            source_time,
        }],
        ConditionFlag::Current => {
            let (records, patient) = map_ssmix2(&name, bytes)?;
            demographics = patient
                .map(|d| ArrivedDemographics::from_adt00(&local_patient_id, &d, source_time));
            let records: Vec<EncodedRecord> =
                records.into_iter().map(EncodedRecord::from).collect();
            if problem_list {
                let ended_on = name.timestamp().date();
                vec![IngestUnit {
                    local_patient_id,
                    group,
                    action: GroupAction::Snapshot { records, ended_on },
                    source_time,
                }]
            } else if records.is_empty() {
                Vec::new()
            } else {
                vec![IngestUnit {
                    local_patient_id,
                    group,
                    action: GroupAction::Replace(records),
                    source_time,
                }]
            }
        }
    };
    Ok((units, demographics))
}

/// Decode, tokenize and map one SS-MIX2 message into records, and ADT-00's demographics.
fn map_ssmix2(
    name: &renkei_hl7::ssmix2::FileName,
    bytes: &[u8],
) -> Result<
    (
        Vec<RecordInput>,
        Option<renkei_hl7::jahis::PatientDemographics>,
    ),
    Rejection,
> {
    let decoded =
        renkei_hl7::decode(bytes).map_err(|e| Rejection::new("undecodable", e.to_string()))?;
    let msg = renkei_hl7::Message::parse(&decoded.text)
        .map_err(|e| Rejection::new("malformed-message", e.to_string()))?;
    let mapped = renkei_hl7::jahis::map_message(name, &msg)
        .map_err(|e| Rejection::new(e.code(), e.to_string()))?;
    Ok((mapped.records, mapped.patient))
}

impl App {
    /// Quarantine an input that failed before it could be parsed at all (e.g. a file found
    /// in the wrong folder of a storage).
    pub async fn quarantine_input(
        &self,
        facility: &Facility,
        source: &Source<'_>,
        reason: Rejection,
    ) -> Result<IngestReport, AppError> {
        self.hold(facility, source, reason, OffsetDateTime::now_utc())
            .await
    }
}

/// The store's form of one unit, counting its records by type into `report`.
fn group_write(
    person: PersonId,
    unit: IngestUnit,
    source: &Source<'_>,
    payload_hash: &str,
    report: &mut IngestReport,
) -> renkei_store::GroupWrite {
    let (records, mode) = match unit.action {
        GroupAction::Replace(r) => (r, renkei_store::GroupWriteMode::Replace),
        GroupAction::Delete => (Vec::new(), renkei_store::GroupWriteMode::Delete),
        GroupAction::Snapshot { records, ended_on } => (
            records,
            renkei_store::GroupWriteMode::Snapshot {
                ended_on,
                end: ended,
            },
        ),
    };
    for r in &records {
        *report
            .by_resource_type
            .entry(r.input.resource_type.clone())
            .or_default() += 1;
    }
    renkei_store::GroupWrite {
        person,
        group: unit.group,
        records,
        mode,
        provision: NewProvision {
            channel: source.channel,
            source_name: source.name.map(str::to_owned),
            payload_hash: payload_hash.to_owned(),
            source_time: unit.source_time,
        },
    }
}

/// Text the databases cannot hold (NUL, which PostgreSQL refuses in text and JSON) is a
/// reason to quarantine the input, not to fail the whole batch it arrived in.
fn check_text(units: Vec<IngestUnit>) -> Result<Vec<IngestUnit>, Rejection> {
    let bad = units.iter().any(|u| match &u.action {
        GroupAction::Replace(r) | GroupAction::Snapshot { records: r, .. } => r.iter().any(|r| {
            let r = &r.input;
            json_has_nul(r.resource.get())
                || [&r.display, &r.code, &r.code_system]
                    .iter()
                    .any(|f| f.as_deref().is_some_and(|s| s.contains('\0')))
                || r.source_key.contains('\0')
        }),
        GroupAction::Delete => false,
    }) || units.iter().any(|u| u.group.contains('\0'));
    if bad {
        Err(Rejection::new(
            "control-character",
            "the input contains a NUL character, which cannot be stored",
        ))
    } else {
        Ok(units)
    }
}

/// Whether JSON text holds a NUL character: serde_json writes it as the escape `\u0000`
/// (a text containing a backslash and "u0000" is written `\\u0000`, which is not one).
fn json_has_nul(json: &str) -> bool {
    let mut bytes = json.bytes();
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            // The escaped character is consumed here, so `\\` never starts an escape.
            if bytes.next() == Some(b'u') {
                let hex: [Option<u8>; 4] = std::array::from_fn(|_| bytes.next());
                if hex == [Some(b'0'); 4] {
                    return true;
                }
            }
        } else if b == 0 {
            return true;
        }
    }
    false
}

/// A Condition that a newer snapshot no longer lists: resolved, with the snapshot's date as its
/// end unless it already has one.
fn ended(mut r: RecordInput, on: time::Date) -> RecordInput {
    if let Some(obj) = r.resource.as_object_mut() {
        if !obj.contains_key("abatementDateTime") && !obj.contains_key("abatementPeriod") {
            obj.insert(
                "abatementDateTime".into(),
                serde_json::Value::String(on.to_string()),
            );
        }
        obj.insert(
            "clinicalStatus".into(),
            serde_json::json!({"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "resolved"
            }]}),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::json_has_nul;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_nul_is_found_in_encoded_json_exactly_when_the_text_has_one(
            s in "(\\\\|u|0|\u{0}|a|\"|あ)*"
        ) {
            let json = serde_json::to_string(&serde_json::json!({ "k": s })).unwrap_or_default();
            prop_assert_eq!(json_has_nul(&json), s.contains('\0'));
        }
    }
}
