//! 名寄せ in the running network: the model trained on the network's own residents, matching
//! each newly registered resident against everyone else, the review queue, and merge/unmerge.
//!
//! Linking never grants access by itself: a merge moves the person's local IDs, consents and
//! records together, and `authorize()` still decides by consent and care relationship.

use crate::{Actor, App, AppError};
use renkei_domain::audit::{AuditAction, AuditEvent};
use renkei_domain::{FacilityId, Person, PersonId, Role, Sex};
use renkei_store::{MatchResult, Merge};
use serde::Serialize;
use time::OffsetDateTime;

/// The network's view of a person for matching: one record per local patient ID.
fn link_record(p: &Person, facility: Option<FacilityId>, local_id: &str) -> renkei_mpi::LinkRecord {
    renkei_mpi::LinkRecord {
        record_id: p.id.to_string(),
        facility: facility.map(|f| f.to_string()).unwrap_or_default(),
        local_id: local_id.to_owned(),
        name_kanji: p.name_kanji.clone(),
        name_kana: Some(p.name_kana.clone()),
        sex: match p.sex {
            Sex::Unknown => None,
            s => Some(s),
        },
        birth_date: Some((
            p.birth_date.year(),
            u8::from(p.birth_date.month()),
            p.birth_date.day(),
        )),
        postal_code: p.postal_code.clone(),
        address: p.address.clone(),
        insurer_number: None,
        insured_symbol: None,
        insured_number: None,
        insured_branch: None,
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

impl App {
    /// Train the 名寄せ model on the network's residents (EM, from the data) and keep it.
    pub async fn train_mpi(&self, by: Option<&Actor>) -> Result<i64, AppError> {
        if let Some(a) = by {
            a.require(Role::NetworkOffice)?;
        }
        let records = self.mpi_records(None).await?;
        let model = tokio_free_train(&records);
        let version = self.store.save_mpi_model(&model.to_json()).await?;
        let now = OffsetDateTime::now_utc();
        let mut ev = match by {
            Some(a) => a.event(AuditAction::AdminChange, now),
            None => AuditEvent::new(AuditAction::AdminChange, now),
        };
        ev.items = vec![
            format!("mpi-model:v{version}"),
            format!("records:{}", records.len()),
        ];
        self.audit(ev).await?;
        Ok(version)
    }

    async fn mpi_records(
        &self,
        except: Option<PersonId>,
    ) -> Result<Vec<renkei_mpi::LinkRecord>, AppError> {
        let mut out = Vec::new();
        for (p, links) in self.store.live_persons().await? {
            if Some(p.id) == except {
                continue;
            }
            if links.is_empty() {
                out.push(link_record(&p, None, ""));
            }
            for (f, l) in links {
                out.push(link_record(&p, Some(f), &l));
            }
        }
        Ok(out)
    }

    /// Match a newly registered person against everyone else. A link merges the new person
    /// into the existing one (undoable); a possible match goes to the review queue; a pair a
    /// reviewer called different is never proposed again. Without a trained model, nothing.
    pub async fn match_new_person(
        &self,
        person: PersonId,
    ) -> Result<Option<MatchResult>, AppError> {
        let Some(json) = self.store.mpi_model().await? else {
            return Ok(None);
        };
        let model = renkei_mpi::Model::from_json(&json)
            .map_err(|_| AppError::Key("the stored 名寄せ model does not load".into()))?;
        let Some(p) = self.store.person(person).await? else {
            return Ok(None);
        };
        let links = self.store.local_patients(person).await?;
        let others = self.mpi_records(Some(person)).await?;
        let index = renkei_mpi::Index::build(&model, &others);
        let mut best: Option<(PersonId, renkei_mpi::Comparison)> = None;
        let probes: Vec<renkei_mpi::LinkRecord> = if links.is_empty() {
            vec![link_record(&p, None, "")]
        } else {
            links
                .iter()
                .map(|l| link_record(&p, Some(l.facility_id), l.local_id.as_str()))
                .collect()
        };
        for probe in &probes {
            for (i, c) in index.candidates(probe) {
                let Some(rec) = others.get(i) else { continue };
                let Ok(cand) = rec.record_id.parse::<PersonId>() else {
                    continue;
                };
                if best.as_ref().is_none_or(|(_, b)| c.score > b.score)
                    && !self.store.decided_different(person, cand).await?
                {
                    best = Some((cand, c));
                }
            }
        }
        let Some((candidate, c)) = best else {
            return Ok(None);
        };
        let outcome = index.classify(&c);
        let evidence = serde_json::to_string(&c.fields).unwrap_or_else(|_| "[]".into());
        let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
        let m = MatchResult {
            id: uuid::Uuid::now_v7(),
            person,
            candidate,
            score: c.score,
            outcome: match outcome {
                renkei_mpi::Outcome::Link => "link".into(),
                renkei_mpi::Outcome::Review => "review".into(),
                renkei_mpi::Outcome::NewPerson => return Ok(None),
            },
            evidence,
            status: "open".into(),
            decided_by: None,
            decided_at: None,
            created_at: now,
        };
        self.store.insert_match(&m).await?;
        if outcome == renkei_mpi::Outcome::Link {
            let mut ev = AuditEvent::new(AuditAction::Merge, now);
            ev.person_id = Some(candidate);
            ev.items = vec![
                "auto-link".into(),
                format!("merged:{person}"),
                format!("match:{}", m.id),
                format!("score:{:.1}", c.score),
            ];
            self.store
                .merge_persons(candidate, person, Some(m.id), None, ev)
                .await?;
        }
        Ok(Some(m))
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
            self.store
                .merge_persons(
                    m.candidate,
                    m.person,
                    Some(match_id),
                    Some(actor.user.id),
                    ev,
                )
                .await?;
        } else {
            let mut ev = actor.event(AuditAction::AdminChange, now);
            ev.person_id = Some(m.person);
            ev.items = vec![
                "mpi-different".into(),
                format!("candidate:{}", m.candidate),
                format!("match:{match_id}"),
            ];
            self.store
                .decide_match(match_id, "different", Some(actor.user.id), ev)
                .await?;
        }
        Ok(())
    }

    /// Undo a merge (the network office): everything it moved goes back.
    pub async fn unmerge(
        &self,
        actor: Option<&Actor>,
        merge_id: uuid::Uuid,
    ) -> Result<Merge, AppError> {
        if let Some(a) = actor {
            a.require(Role::NetworkOffice)?;
        }
        let now = OffsetDateTime::now_utc();
        let mut ev = match actor {
            Some(a) => a.event(AuditAction::Unmerge, now),
            None => AuditEvent::new(AuditAction::Unmerge, now),
        };
        ev.items = vec![format!("merge:{merge_id}")];
        Ok(self.store.unmerge(merge_id, ev).await?)
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
