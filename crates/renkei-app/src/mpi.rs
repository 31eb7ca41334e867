//! 名寄せ in the running network: the model trained on the network's own residents, matching
//! each newly registered resident and each local patient's newly arrived demographics against
//! everyone else through a kept online index ([`online`]), the review queue, and merge/unmerge.
//!
//! Linking never grants access by itself: a merge moves the person's local IDs, consents and
//! records together, and `authorize()` still decides by consent and care relationship.
//!
//! **One server process per database.** The index is kept in this process's memory and follows
//! every change of who-is-who made through this [`App`] (registration, a local ID linked,
//! merge, unmerge, a new model). Changes made by another process show up as follows: a newer
//! model is noticed on the next match (one cheap query) and the index is rebuilt; a local
//! patient registered or relinked elsewhere is refreshed when demographics arrive for it, and a
//! candidate merged away elsewhere is dropped when proposed; anything else (a resident
//! registered or a merge undone by another process) is seen after a restart, which rebuilds the
//! index from the store.

mod online;

use crate::{Actor, App, AppError};
use online::{Arrival, Candidate, Online};
use renkei_domain::audit::{AuditAction, AuditEvent};
use renkei_domain::{Facility, FacilityId, Person, PersonId, Role};
use renkei_mpi::LinkRecord;
use renkei_store::{MatchResult, Merge};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use time::OffsetDateTime;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

/// The kept online index, shared by every clone of the [`App`].
///
/// A mutex rather than a read-write lock: every use of the index also changes it, and matching
/// a new record must be one step with putting it in — two residents registered at the same
/// moment are matched one after the other, so the second is compared with the first and
/// neither is lost. Every change of links made through the `App` (merge, unmerge, a linked
/// local ID) holds it too, so the index follows them in the order they were written.
#[derive(Default)]
pub(crate) struct Kept {
    index: Mutex<Option<Online>>,
    builds: AtomicU64,
}

/// What the kept index holds, for operators and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MpiIndexStats {
    /// Model version of the index, `None` while it is not built.
    pub model_version: Option<i64>,
    /// Records indexed (one per local patient ID of each live person, plus demographics that
    /// arrived by ingestion).
    pub records: usize,
    /// How often this process has built the index from the store.
    pub builds: u64,
}

/// Demographics a facility sent for one of its patients by ingestion (SS-MIX2 ADT-00's PID and
/// first IN1, or a FHIR Patient), for 名寄せ.
#[derive(Clone, Debug, PartialEq)]
pub struct ArrivedDemographics {
    /// The facility's patient ID.
    pub local_id: String,
    /// The fields for matching; `record_id`, `facility` and `local_id` are set on arrival.
    pub record: LinkRecord,
    /// When the source made them (SS-MIX2 発生日時): a version older than one already taken
    /// for this patient is ignored.
    pub source_time: Option<OffsetDateTime>,
}

/// Put the kept arrivals back into a freshly built index, as they were when they arrived
/// (owned by whoever holds the local patient now: merges move local patients).
fn replay_arrived(online: &mut Online, arrived: Vec<renkei_store::ArrivedDemographicsRow>) {
    let mut unreadable = 0usize;
    for a in arrived {
        let Some(owner) = online.owner_of_local(a.facility_id, &a.local_id) else {
            continue; // the local patient is gone
        };
        let Ok(mut rec) = serde_json::from_str::<LinkRecord>(&a.record) else {
            unreadable += 1;
            continue;
        };
        rec.record_id = owner.to_string();
        rec.facility = a.facility_id.to_string();
        rec.local_id.clone_from(&a.local_id);
        online.arrive(a.facility_id, &a.local_id, &rec, a.source_time);
    }
    if unreadable > 0 {
        tracing::warn!(
            unreadable,
            "kept demographics from ingestion that do not read"
        );
    }
}

fn ymd(d: time::Date) -> (i32, u8, u8) {
    (d.year(), u8::from(d.month()), d.day())
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl ArrivedDemographics {
    /// From SS-MIX2 ADT-00 (JAHIS PID-5 kanji and kana names, PID-7, PID-8, PID-11; IN1-3, 10,
    /// 11 of the first IN1).
    pub fn from_adt00(
        local_id: &str,
        d: &renkei_hl7::jahis::PatientDemographics,
        source_time: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            local_id: local_id.trim().to_owned(),
            record: LinkRecord {
                name_kanji: non_empty(&d.name_kanji),
                name_kana: non_empty(&d.name_kana),
                sex: d.sex.filter(|s| *s != renkei_domain::Sex::Unknown),
                birth_date: d.birth_date.map(ymd),
                postal_code: non_empty(&d.postal_code),
                address: non_empty(&d.address),
                insurer_number: non_empty(&d.insurer_number),
                insured_symbol: non_empty(&d.insured_symbol),
                insured_number: non_empty(&d.insured_number),
                insured_branch: non_empty(&d.insured_branch),
                ..LinkRecord::default()
            },
            source_time,
        }
    }

    /// From a FHIR Patient as `renkei-fhir` read it (JP Core: the kanji name is the `HumanName`
    /// marked `IDE`, the kana name `SYL`; gender, birthDate, the home address's postalCode and
    /// text; the 被保険者個人識別子 `保険者番号:記号:番号:枝番`).
    pub fn from_fhir(local_id: &str, p: &renkei_fhir::PatientInfo) -> Self {
        let card: Vec<Option<String>> = p
            .insurance
            .as_deref()
            .map(|v| {
                v.splitn(4, ':')
                    .map(|x| non_empty(&Some(x.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let part = |i: usize| card.get(i).cloned().flatten();
        Self {
            local_id: local_id.trim().to_owned(),
            record: LinkRecord {
                name_kanji: non_empty(&p.name_kanji),
                name_kana: non_empty(&p.name_kana),
                sex: p.sex.filter(|s| *s != renkei_domain::Sex::Unknown),
                birth_date: p.birth_date.map(ymd),
                postal_code: non_empty(&p.postal_code),
                address: non_empty(&p.address),
                insurer_number: part(0),
                insured_symbol: part(1),
                insured_number: part(2),
                insured_branch: part(3),
                ..LinkRecord::default()
            },
            source_time: None,
        }
    }
}

/// One item of the review queue, both persons side by side with the evidence.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewItem {
    pub match_id: uuid::Uuid,
    pub score: f64,
    pub person: Person,
    pub candidate: Person,
    pub evidence: Vec<(String, String, f64)>,
}

/// What set a match off, for the audit entry of an automatic link.
#[derive(Clone, Copy)]
enum Trigger {
    Registration,
    Ingestion,
}

impl Trigger {
    fn item(self) -> &'static str {
        match self {
            Self::Registration => "trigger:registration",
            Self::Ingestion => "trigger:ingestion",
        }
    }
}

impl App {
    /// Train the 名寄せ model on the network's residents (EM, from the data) and keep it. The
    /// kept index is dropped and rebuilt with the new model on its next use.
    pub async fn train_mpi(&self, by: Option<&Actor>) -> Result<i64, AppError> {
        if let Some(a) = by {
            a.require(Role::NetworkOffice)?;
        }
        let records = self.mpi_records().await?;
        let model = tokio_free_train(&records);
        let now = OffsetDateTime::now_utc();
        let mut ev = crate::Actor::event_by(by, AuditAction::AdminChange, now);
        // The model and its audit entry in one transaction; the version is known only there.
        let (version, entry) = self
            .store
            .save_mpi_model(&model.to_json(), |version| {
                ev.items = vec![
                    format!("mpi-model:v{version}"),
                    format!("records:{}", records.len()),
                ];
                ev
            })
            .await?;
        self.after_append(entry.seq).await;
        *self.mpi.index.lock().await = None;
        Ok(version)
    }

    async fn mpi_records(&self) -> Result<Vec<LinkRecord>, AppError> {
        let mut out = Vec::new();
        for (p, links) in self.store.live_persons().await? {
            if links.is_empty() {
                out.push(online::person_record(&p, None, ""));
            }
            for (f, l) in links {
                out.push(online::person_record(&p, Some(f), &l));
            }
        }
        Ok(out)
    }

    /// Build the kept index now if a model exists and it is not built (the server calls this
    /// at startup, so the first registration does not wait for it). Failures are logged.
    pub async fn warm_mpi_index(&self) {
        if let Err(e) = self.kept_index().await {
            tracing::warn!(error = %e, "building the 名寄せ index failed");
        }
    }

    /// What the kept index holds (does not build it).
    pub async fn mpi_index_stats(&self) -> MpiIndexStats {
        let guard = self.mpi.index.lock().await;
        MpiIndexStats {
            model_version: guard.as_ref().map(|o| o.version),
            records: guard.as_ref().map_or(0, Online::len),
            builds: self.mpi.builds.load(Ordering::Relaxed),
        }
    }

    /// The kept index, locked; built first when there is none, a newer model was trained (by
    /// this or another process) or an update failed half-way. `None` without a trained model.
    async fn kept_index(&self) -> Result<Option<MappedMutexGuard<'_, Online>>, AppError> {
        let mut guard = self.mpi.index.lock().await;
        let Some(latest) = self.store.mpi_model_version().await? else {
            *guard = None;
            return Ok(None);
        };
        if guard
            .as_ref()
            .is_none_or(|o| o.version != latest || o.stale)
        {
            // A failed build leaves no index rather than a stale one.
            *guard = None;
            *guard = Some(self.build_index().await?);
        }
        Ok(MutexGuard::try_map(guard, Option::as_mut).ok())
    }

    async fn build_index(&self) -> Result<Online, AppError> {
        let (version, json) = self
            .store
            .mpi_model_versioned()
            .await?
            .ok_or(AppError::NotFound("名寄せ model"))?;
        let persons = self.store.live_persons().await?;
        let arrived = self.store.arrived_demographics().await?;
        let online = tokio::task::spawn_blocking(move || {
            renkei_mpi::Model::from_json(&json)
                .map(|model| {
                    let mut online = Online::build(version, &model, persons);
                    replay_arrived(&mut online, arrived);
                    online
                })
                .map_err(|_| AppError::Key("the stored 名寄せ model does not load".into()))
        })
        .await
        .map_err(|_| AppError::Internal("building the 名寄せ index stopped"))??;
        self.mpi.builds.fetch_add(1, Ordering::Relaxed);
        tracing::info!(records = online.len(), version, "名寄せ index built");
        Ok(online)
    }

    async fn links_of(&self, person: PersonId) -> Result<Vec<(FacilityId, String)>, AppError> {
        Ok(self
            .store
            .local_patients(person)
            .await?
            .into_iter()
            .map(|l| (l.facility_id, l.local_id.as_str().to_owned()))
            .collect())
    }

    /// Put a person in the index as the store has them now, or take them out if they are no
    /// longer a live person. If the store cannot be read, the index is marked stale and rebuilt
    /// on its next use rather than kept wrong.
    async fn refresh(&self, online: &mut Online, person: PersonId) -> Result<(), AppError> {
        let now = match self.store.live_person(person).await {
            Ok(Some(p)) => self.links_of(person).await.map(|links| Some((p, links))),
            Ok(None) => Ok(None),
            Err(e) => Err(e.into()),
        };
        match now {
            Ok(Some((p, links))) => online.put(&p, &links),
            Ok(None) => online.forget(person),
            Err(e) => {
                online.stale = true;
                return Err(e);
            }
        }
        Ok(())
    }

    /// The kept index, locked as it is (not built if it is not), for a change of links.
    pub(crate) async fn lock_index(&self) -> MutexGuard<'_, Option<Online>> {
        self.mpi.index.lock().await
    }

    /// After links changed in the store (with the index lock held): refresh these persons.
    pub(crate) async fn index_changed(&self, slot: &mut Option<Online>, persons: &[PersonId]) {
        let Some(online) = slot.as_mut() else {
            return;
        };
        for &p in persons {
            if let Err(e) = self.refresh(online, p).await {
                tracing::warn!(error = %e, "名寄せ index to be rebuilt after a failed refresh");
                return;
            }
        }
    }

    /// Match a newly registered person against everyone else in the kept index, and put them
    /// in it. A link merges the new person into the existing one (undoable); a possible match
    /// goes to the review queue; a pair proposed before (open, decided, or merged and since
    /// unmerged) is never proposed again. Without a trained model, nothing.
    pub async fn match_new_person(
        &self,
        person: PersonId,
    ) -> Result<Option<MatchResult>, AppError> {
        let Some(mut online) = self.kept_index().await? else {
            return Ok(None);
        };
        let Some(p) = self.store.live_person(person).await? else {
            online.forget(person);
            return Ok(None);
        };
        let links = self.links_of(person).await?;
        online.put(&p, &links);
        let probes: Vec<LinkRecord> = if links.is_empty() {
            vec![online::person_record(&p, None, "")]
        } else {
            links
                .iter()
                .map(|(f, l)| online::person_record(&p, Some(*f), l))
                .collect()
        };
        self.propose(&mut online, person, &probes, Trigger::Registration)
            .await
    }

    /// 名寄せ of demographics that arrived by ingestion, after they were stored: for each
    /// registered local patient whose demographics tell something the index did not know (a
    /// new address or card, a kanji name where only kana was known), match them against
    /// everyone else; a possible match goes to the review queue, a link merges as at
    /// registration. Never fails ingestion: a failure is logged (without patient data).
    pub async fn match_arrived_demographics(
        &self,
        facility: &Facility,
        mut arrived: Vec<ArrivedDemographics>,
    ) {
        // A Bundle's Patient often carries the identifier alone.
        arrived.retain(|a| a.record != LinkRecord::default());
        if arrived.is_empty() {
            return;
        }
        if let Err(e) = self.try_match_arrived(facility, arrived).await {
            tracing::warn!(error = %e, "名寄せ of demographics from ingestion failed");
        }
    }

    async fn try_match_arrived(
        &self,
        facility: &Facility,
        arrived: Vec<ArrivedDemographics>,
    ) -> Result<(), AppError> {
        // The latest of each local patient (a batch holds its files in source order).
        let mut latest: HashMap<String, ArrivedDemographics> = HashMap::new();
        for a in arrived {
            let newer = latest.get(&a.local_id).is_none_or(
                |old| !matches!((a.source_time, old.source_time), (Some(n), Some(o)) if n < o),
            );
            if newer {
                latest.insert(a.local_id.clone(), a);
            }
        }
        let mut latest: Vec<ArrivedDemographics> = latest.into_values().collect();
        latest.sort_by(|a, b| a.local_id.cmp(&b.local_id));
        let Some(mut online) = self.kept_index().await? else {
            return Ok(());
        };
        let ids: Vec<String> = latest.iter().map(|a| a.local_id.clone()).collect();
        let owners = self.store.persons_by_local_ids(facility.id, &ids).await?;
        let (mut news, mut proposed) = (0usize, 0usize);
        // What was matched is kept, so that a restart's index matches on it too.
        let mut kept = Vec::new();
        for a in latest {
            let Some(&stored) = owners.get(&a.local_id) else {
                continue; // not registered at this facility: nobody to match
            };
            if online.owner_of_local(facility.id, &a.local_id) != Some(stored) {
                // Registered or relinked by another process since the index was built.
                self.refresh(&mut online, stored).await?;
            }
            let Some(owner) = online.owner_of_local(facility.id, &a.local_id) else {
                continue;
            };
            let mut rec = a.record;
            rec.record_id = owner.to_string();
            rec.facility = facility.id.to_string();
            rec.local_id.clone_from(&a.local_id);
            if online.arrive(facility.id, &a.local_id, &rec, a.source_time) == Arrival::NoNews {
                continue;
            }
            news += 1;
            match self
                .propose(
                    &mut online,
                    owner,
                    std::slice::from_ref(&rec),
                    Trigger::Ingestion,
                )
                .await
            {
                Ok(m) => proposed += usize::from(m.is_some()),
                Err(e) => {
                    // Not matched, yet taken into the index as known: a rebuild forgets it
                    // (it is not kept), so that the next time these demographics arrive they
                    // are matched.
                    online.stale = true;
                    drop(online);
                    self.keep_arrived(&kept).await;
                    return Err(e);
                }
            }
            // A record is plain strings and dates: encoding it cannot fail in practice, and if
            // it did the arrival would only be matched again after a restart.
            if let Ok(record) = serde_json::to_string(&rec) {
                kept.push(renkei_store::ArrivedDemographicsRow {
                    facility_id: facility.id,
                    local_id: a.local_id.clone(),
                    record,
                    source_time: a.source_time,
                });
            }
        }
        // Written after the index lock is released: other registrations need not wait for it.
        drop(online);
        self.keep_arrived(&kept).await;
        tracing::debug!(
            patients = ids.len(),
            news,
            proposed,
            "名寄せ of demographics from ingestion"
        );
        Ok(())
    }

    /// Keep arrived demographics; a failure is logged and costs only their use after a restart.
    async fn keep_arrived(&self, rows: &[renkei_store::ArrivedDemographicsRow]) {
        if let Err(e) = self
            .store
            .keep_arrived_demographics(rows, OffsetDateTime::now_utc())
            .await
        {
            tracing::warn!(error = %e, "demographics from ingestion not kept for 名寄せ");
        }
    }

    /// The best candidate of any probe that was never proposed with `person` and is still a
    /// live person: stored as a match (with score and evidence), and merged if a link.
    async fn propose(
        &self,
        online: &mut Online,
        person: PersonId,
        probes: &[LinkRecord],
        trigger: Trigger,
    ) -> Result<Option<MatchResult>, AppError> {
        let mut found: Vec<Candidate> = probes
            .iter()
            .flat_map(|p| online.candidates(p, person))
            .collect();
        found.sort_by(|a, b| b.comparison.score.total_cmp(&a.comparison.score));
        let mut seen: Vec<PersonId> = Vec::new();
        for c in found {
            if seen.contains(&c.person) {
                continue;
            }
            seen.push(c.person);
            if self.store.pair_proposed(person, c.person).await? {
                continue;
            }
            if self.store.live_person(c.person).await?.is_none() {
                // Merged away by another process.
                online.forget(c.person);
                continue;
            }
            return self
                .record_match(online, person, c, trigger)
                .await
                .map(Some);
        }
        Ok(None)
    }

    async fn record_match(
        &self,
        online: &mut Online,
        person: PersonId,
        c: Candidate,
        trigger: Trigger,
    ) -> Result<MatchResult, AppError> {
        let link = c.outcome == renkei_mpi::Outcome::Link;
        let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
        let m = MatchResult {
            id: uuid::Uuid::now_v7(),
            person,
            candidate: c.person,
            score: c.comparison.score,
            outcome: if link { "link" } else { "review" }.into(),
            evidence: serde_json::to_string(&c.comparison.fields).unwrap_or_else(|_| "[]".into()),
            status: "open".into(),
            decided_by: None,
            decided_at: None,
            created_at: now,
        };
        if link {
            let mut ev = AuditEvent::new(AuditAction::Merge, now);
            ev.person_id = Some(c.person);
            ev.items = vec![
                "auto-link".into(),
                trigger.item().into(),
                format!("merged:{person}"),
                format!("match:{}", m.id),
                format!("score:{:.1}", c.comparison.score),
            ];
            let (_, entry) = self.store.record_and_merge(&m, ev).await?;
            self.after_append(entry.seq).await;
            online.forget(person);
            self.refresh(online, c.person).await?;
        } else {
            self.store.insert_match(&m).await?;
        }
        Ok(m)
    }

    fn require_reviewer(actor: &Actor) -> Result<(), AppError> {
        actor.require_any(&[Role::NetworkOffice, Role::Clerk])
    }

    /// The open review queue (the office sees all; a clerk, the pairs involving residents of
    /// their facility). Showing it is a read of both persons' demographics: audited.
    pub async fn review_queue(&self, actor: &Actor) -> Result<Vec<ReviewItem>, AppError> {
        Self::require_reviewer(actor)?;
        let office = actor.user.has_role(Role::NetworkOffice);
        let mut out = Vec::new();
        for m in self.store.matches("open", 200).await? {
            if !office {
                let mine = self
                    .store
                    .care_relationship(m.person, actor.facility.id)
                    .await?
                    .is_some()
                    || self
                        .store
                        .care_relationship(m.candidate, actor.facility.id)
                        .await?
                        .is_some();
                if !mine {
                    continue;
                }
            }
            let (Some(person), Some(candidate)) = (
                self.store.person(m.person).await?,
                self.store.person(m.candidate).await?,
            ) else {
                continue;
            };
            let evidence: Vec<serde_json::Value> =
                serde_json::from_str(&m.evidence).unwrap_or_default();
            out.push(ReviewItem {
                match_id: m.id,
                score: m.score,
                person,
                candidate,
                evidence: evidence
                    .iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap_or("").to_owned(),
                            e["level"].as_str().unwrap_or("").to_owned(),
                            e["weight"].as_f64().unwrap_or(0.0),
                        )
                    })
                    .collect(),
            });
        }
        let mut ev = actor.event(AuditAction::View, OffsetDateTime::now_utc());
        ev.items = std::iter::once("mpi-review-queue".to_owned())
            .chain(out.iter().flat_map(|i| {
                [
                    format!("person:{}", i.person.id),
                    format!("person:{}", i.candidate.id),
                ]
            }))
            .collect();
        self.audit(ev).await?;
        Ok(out)
    }

    /// A reviewer's decision: the same person (merge, undoable) or different people
    /// (remembered: never proposed again). Audited.
    pub async fn decide_match(
        &self,
        actor: &Actor,
        match_id: uuid::Uuid,
        same: bool,
    ) -> Result<(), AppError> {
        Self::require_reviewer(actor)?;
        let m = self
            .store
            .match_result(match_id)
            .await?
            .filter(|m| m.status == "open")
            .ok_or(AppError::NotFound("match"))?;
        let now = OffsetDateTime::now_utc();
        if same {
            let mut ev = actor.event(AuditAction::Merge, now);
            ev.person_id = Some(m.candidate);
            ev.items = vec![format!("merged:{}", m.person), format!("match:{match_id}")];
            let mut index = self.lock_index().await;
            let (_, entry) = self
                .store
                .merge_persons(
                    m.candidate,
                    m.person,
                    Some(match_id),
                    Some(actor.user.id),
                    ev,
                )
                .await?;
            self.after_append(entry.seq).await;
            self.index_changed(&mut index, &[m.person, m.candidate])
                .await;
        } else {
            let mut ev = actor.event(AuditAction::AdminChange, now);
            ev.person_id = Some(m.person);
            ev.items = vec![
                "mpi-different".into(),
                format!("candidate:{}", m.candidate),
                format!("match:{match_id}"),
            ];
            let entry = self
                .store
                .decide_match(match_id, "different", Some(actor.user.id), ev)
                .await?;
            self.after_append(entry.seq).await;
        }
        Ok(())
    }

    /// Undo a merge (the network office): everything it moved goes back, and both persons are
    /// in the kept index again as they were.
    pub async fn unmerge(
        &self,
        actor: Option<&Actor>,
        merge_id: uuid::Uuid,
    ) -> Result<Merge, AppError> {
        if let Some(a) = actor {
            a.require(Role::NetworkOffice)?;
        }
        let now = OffsetDateTime::now_utc();
        let mut ev = crate::Actor::event_by(actor, AuditAction::Unmerge, now);
        ev.items = vec![format!("merge:{merge_id}")];
        let mut index = self.lock_index().await;
        let (merge, entry) = self.store.unmerge(merge_id, ev).await?;
        self.after_append(entry.seq).await;
        self.index_changed(&mut index, &[merge.survivor, merge.merged])
            .await;
        Ok(merge)
    }

    pub async fn merges(&self, actor: &Actor) -> Result<Vec<Merge>, AppError> {
        actor.require(Role::NetworkOffice)?;
        Ok(self.store.merges(200).await?)
    }
}

/// Training is CPU-bound and uses its own thread pool (rayon); it is called rarely.
fn tokio_free_train(records: &[renkei_mpi::LinkRecord]) -> renkei_mpi::Model {
    renkei_mpi::train(records, &renkei_mpi::TrainOptions::default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use renkei_domain::Sex;

    #[test]
    fn an_adt00_gives_names_sex_birth_date_address_and_card_for_matching() {
        let name = "7000001_-_ADT-00_000000000000011_20240105100000000_-_1";
        let text = [
            "MSH|^~\\&|HIS|SEND|GW|RCV|20240105091500||ADT^A08^ADT_A01|CTRL|P|2.5",
            "PID|0001||7000001^^^^PI||連携^花子^^^^^L^I~レンケイ^ハナコ^^^^^L^P||19800101|F|||\
             ^^^^410-0801^JPN^H^静岡県沼津市大手町1-2-3",
            "IN1|1|67^国民健康保険^JHSD0001|01140013|||||||１２|３４５６",
        ]
        .join("\r");
        let msg = renkei_hl7::Message::parse(&text).unwrap();
        let file = renkei_hl7::ssmix2::FileName::parse(name).unwrap();
        let mapped = renkei_hl7::jahis::map_message(&file, &msg).unwrap();
        let at = time::macros::datetime!(2024-01-05 10:00 UTC);
        let d = ArrivedDemographics::from_adt00(" 7000001 ", &mapped.patient.unwrap(), Some(at));
        assert_eq!(d.local_id, "7000001");
        assert_eq!(d.source_time, Some(at));
        let r = d.record;
        assert_eq!(r.name_kanji.as_deref(), Some("連携 花子"));
        assert_eq!(r.name_kana.as_deref(), Some("レンケイ ハナコ"));
        assert_eq!(r.sex, Some(Sex::Female));
        assert_eq!(r.birth_date, Some((1980, 1, 1)));
        assert_eq!(r.postal_code.as_deref(), Some("410-0801"));
        assert_eq!(r.address.as_deref(), Some("静岡県沼津市大手町1-2-3"));
        assert_eq!(r.insurer_number.as_deref(), Some("01140013"));
        assert_eq!(r.insured_symbol.as_deref(), Some("１２"));
        assert_eq!(r.insured_number.as_deref(), Some("３４５６"));
        assert_eq!(r.insured_branch, None);
    }

    #[test]
    fn a_jp_core_patient_gives_kanji_and_kana_names_by_representation_and_its_card() {
        let rep = |code: &str| {
            serde_json::json!([{
                "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                "valueCode": code
            }])
        };
        let patient = serde_json::json!({
            "resourceType": "Patient",
            "identifier": [
                { "system": "urn:oid:1.2.392.100495.20.3.51.11410000010", "value": "0042" },
                { "system": "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID",
                  "value": "06130123::0055:01" }
            ],
            "name": [
                { "extension": rep("SYL"), "family": "ワタナベ", "given": ["ユウコ"] },
                { "extension": rep("IDE"), "family": "渡辺", "given": ["裕子"] }
            ],
            "gender": "female",
            "birthDate": "1979-03-15",
            "address": [
                { "use": "old", "postalCode": "100-0001", "text": "東京都千代田区千代田1-1" },
                { "use": "home", "postalCode": "410-1101", "text": "静岡県裾野市今里100番地" }
            ]
        });
        let sub = renkei_fhir::parse_submission(
            serde_json::to_string(&patient).unwrap().as_bytes(),
            "1410000010",
        )
        .unwrap();
        let d = ArrivedDemographics::from_fhir("0042", &sub.patient);
        assert_eq!((d.local_id.as_str(), d.source_time), ("0042", None));
        let r = d.record;
        assert_eq!(r.name_kanji.as_deref(), Some("渡辺 裕子"));
        assert_eq!(r.name_kana.as_deref(), Some("ワタナベ ユウコ"));
        assert_eq!(r.sex, Some(Sex::Female));
        assert_eq!(r.birth_date, Some((1979, 3, 15)));
        assert_eq!(r.postal_code.as_deref(), Some("410-1101"));
        assert_eq!(r.address.as_deref(), Some("静岡県裾野市今里100番地"));
        assert_eq!(r.insurer_number.as_deref(), Some("06130123"));
        assert_eq!(r.insured_symbol, None, "an empty symbol is missing");
        assert_eq!(r.insured_number.as_deref(), Some("0055"));
        assert_eq!(r.insured_branch.as_deref(), Some("01"));
    }

    #[test]
    fn a_patient_without_demographics_gives_an_empty_record() {
        let info = renkei_fhir::PatientInfo::default();
        let r = ArrivedDemographics::from_fhir("1", &info).record;
        assert_eq!(r, LinkRecord::default());
    }
}
