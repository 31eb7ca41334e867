//! The clinician viewer (閲覧): patient search, summary, timeline, labs, documents with their
//! attached files, and break-the-glass. Every function here that shows patient data calls `authorize()` for the
//! categories it shows, filters each record through `Authorized::permits_record`, and writes
//! exactly one audit entry — allowed or denied.

mod access;
mod attachments;
mod heads;
mod read;
mod summary;
mod timeline;

pub use access::{AccessLine, DocumentSection, DocumentView, PersonHit, PersonQuery};
pub use attachments::{AttachmentFile, AttachmentInfo, Presentation};
pub(crate) use heads::HeadsCache;
pub use renkei_fhir::attachment::FileKind;
pub use summary::{
    AllergyItem, EncounterItem, FacilityShare, LabItem, MedicineItem, ProblemItem, Summary, Warning,
};
pub use timeline::{LabPoint, LabSeries, LabTable, TimelineEntry, TimelineFilter, TimelinePage};

use crate::{Actor, App, AppError, today_jst};
use renkei_domain::audit::{AuditAction, AuditOutcome};
use renkei_domain::authorize::{AccessPurpose, AccessRequest, Decision, Rule, authorize};
use renkei_domain::{AccessCategory, Authorized, PersonId, Record, RecordHead, Role};
use std::collections::HashMap;
use time::{Date, OffsetDateTime};

/// The date a record counts as for rule 5 and for ordering: its clinical date, else the day it
/// was received (JST). An undated allergy sent after registration is shown; one cannot date a
/// record earlier than its source did.
pub fn record_date(r: &impl Dated) -> Date {
    r.effective_on()
        .unwrap_or_else(|| today_jst(r.received_at()))
}

/// A record or its head: what [`record_date`] reads.
pub trait Dated {
    fn effective_on(&self) -> Option<Date>;
    fn received_at(&self) -> OffsetDateTime;
}

impl Dated for Record {
    fn effective_on(&self) -> Option<Date> {
        self.input.effective_on
    }
    fn received_at(&self) -> OffsetDateTime {
        self.received_at
    }
}

impl Dated for RecordHead {
    fn effective_on(&self) -> Option<Date> {
        self.effective_on
    }
    fn received_at(&self) -> OffsetDateTime {
        self.received_at
    }
}

impl<T: Dated> Dated for &T {
    fn effective_on(&self) -> Option<Date> {
        (**self).effective_on()
    }
    fn received_at(&self) -> OffsetDateTime {
        (**self).received_at()
    }
}

/// What a viewer call opened: the decision and the heads of the records it may show (their
/// resources are loaded by [`App::load`] for what a page actually shows).
pub(crate) struct Opened {
    pub decision: Decision,
    pub auth: Authorized,
    /// All of the person's heads, as kept; `shown` picks those this access may show.
    heads: std::sync::Arc<[RecordHead]>,
    shown: Vec<usize>,
    pub facility_names: std::sync::Arc<FacilityNames>,
}

/// Facility names for display, by id.
pub(crate) type FacilityNames = HashMap<renkei_domain::FacilityId, String>;

impl Opened {
    /// The heads of the records this access may show, oldest first.
    pub fn records(&self) -> impl DoubleEndedIterator<Item = &RecordHead> + Clone {
        self.shown.iter().filter_map(|&i| self.heads.get(i))
    }
}

impl App {
    /// Rules 1–4 for a care access by `actor` to `person`.
    pub async fn care_decision(
        &self,
        actor: &Actor,
        person: PersonId,
        categories: &[AccessCategory],
        now: OffsetDateTime,
    ) -> Result<Decision, AppError> {
        self.care_decisions(actor, &[person], categories, now)
            .await?
            .remove(&person)
            .ok_or(AppError::Internal("no decision"))
    }

    /// Rules 1–4 for care accesses by `actor` to several persons, with a fixed number of reads.
    pub async fn care_decisions(
        &self,
        actor: &Actor,
        persons: &[PersonId],
        categories: &[AccessCategory],
        now: OffsetDateTime,
    ) -> Result<HashMap<PersonId, Decision>, AppError> {
        let facts = self
            .store
            .access_facts(persons, actor.facility.id, actor.user.id)
            .await?;
        let matrix = self.matrix().await?;
        Ok(facts
            .into_iter()
            .map(|(person, f)| {
                let d = authorize(&AccessRequest {
                    user: &actor.user,
                    facility: &actor.facility,
                    person,
                    consents: &f.consents,
                    care_relationship: f.care_relationship.as_ref(),
                    grants: &f.grants,
                    matrix: &matrix,
                    categories,
                    purpose: AccessPurpose::Care,
                    now,
                    today: today_jst(now),
                });
                (person, d)
            })
            .collect())
    }

    /// Patient records are for clinical users: an account that only administers (a clerk, a
    /// facility admin) is refused whatever its profession. Every way into a record (a page,
    /// a search, break-the-glass) asks here, so that the refusal is logged like any denial,
    /// naming what was asked for.
    pub(crate) async fn require_clinical(
        &self,
        actor: &Actor,
        action: AuditAction,
        person: Option<PersonId>,
        what: &[String],
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let Err(e) = actor.require(Role::Clinical) else {
            return Ok(());
        };
        let mut ev = actor.event(action, now);
        ev.person_id = person;
        ev.items = what.to_vec();
        ev.outcome = AuditOutcome::Denied("role-required".into());
        self.audit(ev).await?;
        Err(e)
    }

    /// Authorize, and on denial write the one audit entry (its items: `what`) and return the
    /// rule. On success the caller shows what it opened and writes the one audit entry with
    /// [`App::audit_view`].
    pub(crate) async fn open_for_view(
        &self,
        actor: &Actor,
        person: PersonId,
        categories: &[AccessCategory],
        action: AuditAction,
        what: &[&str],
        now: OffsetDateTime,
    ) -> Result<Opened, AppError> {
        let what: Vec<String> = what.iter().map(|w| (*w).to_owned()).collect();
        self.require_clinical(actor, action, Some(person), &what, now)
            .await?;
        let Some(version) = self.store.records_version(person).await? else {
            // The same answer as for a person the facility does not care for, so that an ID
            // cannot be probed for existence; and, like every denial, it is logged.
            let mut ev = actor.event(action, now);
            ev.items = what;
            ev.items.push(format!("unknown-person:{person}"));
            ev.outcome = AuditOutcome::Denied(Rule::NoCareRelationship.code().into());
            self.audit(ev).await?;
            return Err(AppError::Denied(Rule::NoCareRelationship));
        };
        let decision = self.care_decision(actor, person, categories, now).await?;
        let Some(auth) = decision.authorized().cloned() else {
            let rule = decision.first_denial().unwrap_or(Rule::NoCareRelationship);
            let mut ev = actor.event(action, now);
            ev.person_id = Some(person);
            ev.items = what;
            ev.consent_state = Some(decision.consent_state.as_str().into());
            ev.outcome = AuditOutcome::Denied(rule.code().into());
            self.audit(ev).await?;
            return Err(AppError::Denied(rule));
        };
        let kept = self
            .config
            .keep_record_heads
            .then(|| self.heads.get(person, version))
            .flatten();
        let heads = match kept {
            Some(h) => h,
            None => {
                let h: std::sync::Arc<[RecordHead]> = self.store.record_heads(person).await?.into();
                if self.config.keep_record_heads {
                    self.heads.put(person, version, h.clone());
                }
                h
            }
        };
        let shown = heads
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                auth.permits_record(r.category, record_date(*r), r.sensitive)
                    .is_ok()
            })
            .map(|(i, _)| i)
            .collect();
        let facility_names = self.facility_names(&heads).await?;
        Ok(Opened {
            decision,
            auth,
            heads,
            shown,
            facility_names,
        })
    }

    /// The names of the facilities the heads come from. Kept in memory and read again only
    /// when a head names a facility not yet known: facilities join, but never change name.
    async fn facility_names(
        &self,
        heads: &[RecordHead],
    ) -> Result<std::sync::Arc<FacilityNames>, AppError> {
        let kept = self
            .facility_names
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if heads.iter().all(|h| kept.contains_key(&h.facility_id)) {
            return Ok(kept);
        }
        let fresh: std::sync::Arc<FacilityNames> = std::sync::Arc::new(
            self.store
                .facilities()
                .await?
                .into_iter()
                .map(|f| (f.id, f.name))
                .collect(),
        );
        *self
            .facility_names
            .write()
            .unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
    }

    /// The whole records of some opened heads, in their order. Each is authorized again as
    /// loaded: a record replaced or deleted since its head was read is shown only if its new
    /// content is still allowed.
    pub(crate) async fn load<'a>(
        &self,
        opened: &Opened,
        person: PersonId,
        heads: impl IntoIterator<Item = &'a RecordHead>,
    ) -> Result<Vec<Record>, AppError> {
        let ids: Vec<uuid::Uuid> = heads.into_iter().map(|h| h.id).collect();
        let mut by_id: HashMap<uuid::Uuid, Record> = self
            .store
            .records_by_ids(person, &ids)
            .await?
            .into_iter()
            .filter(|r| {
                r.deleted_at.is_none()
                    && opened
                        .auth
                        .permits_record(r.input.category, record_date(r), r.input.sensitive)
                        .is_ok()
            })
            .map(|r| (r.id, r))
            .collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// The patient's name for a page header, only when the decision allows demographics.
    pub(crate) async fn shown_name(
        &self,
        opened: &Opened,
        person: PersonId,
    ) -> Result<Option<String>, AppError> {
        if !opened
            .auth
            .categories()
            .contains(&AccessCategory::Demographics)
        {
            return Ok(None);
        }
        Ok(self
            .store
            .person(person)
            .await?
            .map(|p| p.name_kanji.unwrap_or(p.name_kana)))
    }

    /// The one audit entry of a successful view.
    pub(crate) async fn audit_view(
        &self,
        actor: &Actor,
        person: PersonId,
        opened: &Opened,
        action: AuditAction,
        items: Vec<String>,
        now: OffsetDateTime,
    ) -> Result<(), AppError> {
        let mut ev = actor.event(action, now);
        ev.person_id = Some(person);
        ev.items = items;
        ev.consent_state = Some(opened.decision.consent_state.as_str().into());
        ev.access_method = Some(opened.auth.method().code().into());
        self.audit(ev).await?;
        Ok(())
    }
}
