//! Finding a patient, break-the-glass (緊急時アクセス), documents, and access reports.

use super::attachments::{self, AttachmentInfo, DOCUMENT_CATEGORIES};
use super::read::{concept, s};
use super::record_date;
use crate::{Actor, App, AppError};
use renkei_domain::audit::{AuditAction, AuditEntry, AuditOutcome};
use renkei_domain::authorize::Rule;
use renkei_domain::{
    AccessCategory, BreakGlassGrant, BreakGlassReason, GrantId, Person, PersonId, Role,
};
use serde::Serialize;
use time::OffsetDateTime;

/// One search result.
#[derive(Clone, Debug, Serialize)]
pub struct PersonHit {
    pub person: Person,
    /// The user's facility's own patient ID, when it has one.
    pub local_id: Option<String>,
    /// No care relationship: opening the record needs break-the-glass.
    pub needs_break_glass: bool,
}

/// A search: by the facility's patient ID, a kana name (prefix, folded as in 名寄せ), a birth
/// date, or kana + birth date together (which also finds, for an emergency, residents the
/// facility has never seen).
#[derive(Clone, Debug, Default)]
pub struct PersonQuery {
    pub text: String,
    pub birth_date: Option<time::Date>,
}

/// A rendered document (紹介状・退院時サマリー・健診結果), or a report with its printed form.
#[derive(Clone, Debug, Serialize)]
pub struct DocumentView {
    pub title: String,
    pub date: time::Date,
    pub facility: String,
    pub author: Option<String>,
    /// In document order, subsections after their parent.
    pub sections: Vec<DocumentSection>,
    /// Files no section names (a DocumentReference or report sent alone, or a Bundle entry
    /// outside the sections).
    pub attachments: Vec<AttachmentInfo>,
}

/// One section of a document.
#[derive(Clone, Debug, Serialize)]
pub struct DocumentSection {
    pub title: String,
    /// Plain text: markup from the source is never rendered as HTML.
    pub text: String,
    /// The files of the resources this section names.
    pub attachments: Vec<AttachmentInfo>,
}

/// One line of an access report (開示・本人への説明用).
#[derive(Clone, Debug, Serialize)]
pub struct AccessLine {
    pub at: OffsetDateTime,
    pub facility: String,
    pub user: String,
    pub profession: String,
    pub action: String,
    pub items: Vec<String>,
    pub method: Option<String>,
    pub outcome: String,
}

/// Strip XHTML markup to text: documents are shown as text, so nothing a source sends can run
/// in the viewer's page. Block ends become line breaks.
fn xhtml_to_text(div: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let mut tag = String::new();
    for c in div.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                let t = tag.trim_start_matches('/').to_ascii_lowercase();
                if ["p", "br", "br/", "div", "li", "tr", "h1", "h2", "h3", "h4"]
                    .iter()
                    .any(|b| t == *b || t.starts_with(&format!("{b} ")))
                    && !out.ends_with('\n')
                {
                    out.push('\n');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

impl App {
    /// 患者検索 within what the user may see. One audit entry naming everyone found.
    pub async fn search_persons(
        &self,
        actor: &Actor,
        q: &PersonQuery,
    ) -> Result<Vec<PersonHit>, AppError> {
        let now = OffsetDateTime::now_utc();
        // What was typed is patient data: the entry says only that a search was refused.
        self.require_clinical(
            actor,
            AuditAction::Search,
            None,
            &["person-search".to_owned()],
            now,
        )
        .await?;
        let text = q.text.trim();
        let key = renkei_text::fold_kana(text);
        let related = self.store.persons_related_to(actor.facility.id).await?;
        let mut hits: Vec<Person> = Vec::new();
        if !text.is_empty()
            && let Some(p) = self
                .store
                .person_by_local_id(actor.facility.id, text)
                .await?
            && let Some(person) = related.iter().find(|r| r.id == p)
        {
            hits.push(person.clone());
        }
        if hits.is_empty() {
            hits = related
                .into_iter()
                .filter(|p| {
                    (key.is_empty() || renkei_text::fold_kana(&p.name_kana).starts_with(&key))
                        && q.birth_date.is_none_or(|d| p.birth_date == d)
                })
                .filter(|_| !key.is_empty() || q.birth_date.is_some())
                .collect();
        }
        hits.sort_by(|a, b| a.name_kana.cmp(&b.name_kana));
        hits.truncate(100);
        // Every hit decided and its local ID read in a few reads, not a few per hit.
        let ids: Vec<PersonId> = hits.iter().map(|p| p.id).collect();
        let decisions = self
            .care_decisions(actor, &ids, &[AccessCategory::Demographics], now)
            .await?;
        let mut local_ids = self.store.local_ids_at(actor.facility.id, &ids).await?;
        let mut out = Vec::new();
        for p in hits {
            if decisions
                .get(&p.id)
                .is_some_and(|d| d.authorized().is_some())
            {
                out.push(PersonHit {
                    local_id: local_ids.remove(&p.id),
                    person: p,
                    needs_break_glass: false,
                });
            }
        }
        // Emergency: an exact kana name and birth date also find residents the facility has
        // never seen; they open only through break-the-glass.
        if out.is_empty()
            && !key.is_empty()
            && let Some(d) = q.birth_date
        {
            for p in self.store.persons_born_on(d).await? {
                if renkei_text::fold_kana(&p.name_kana) != key {
                    continue;
                }
                let decision = self
                    .care_decision(actor, p.id, &[AccessCategory::Demographics], now)
                    .await?;
                if decision.can_elevate() {
                    // Nothing beyond what the user typed, the sex and the birth date until a
                    // grant exists: no kanji name, address or phone.
                    let mut shown = p;
                    shown.name_kanji = None;
                    shown.address = None;
                    shown.postal_code = None;
                    shown.phone = None;
                    out.push(PersonHit {
                        person: shown,
                        local_id: None,
                        needs_break_glass: true,
                    });
                }
            }
        }
        let mut ev = actor.event(AuditAction::Search, now);
        ev.items = std::iter::once("person-search".to_owned())
            .chain(out.iter().map(|h| format!("person:{}", h.person.id)))
            .collect();
        self.audit(ev).await?;
        Ok(out)
    }

    /// 緊急時アクセス: open a record without a care relationship, for a stated reason; the
    /// grant lasts the configured time (24 h by default), is audited, and is reported to the
    /// office and to the facilities holding the records.
    pub async fn break_glass(
        &self,
        actor: &Actor,
        person: PersonId,
        reason: BreakGlassReason,
    ) -> Result<BreakGlassGrant, AppError> {
        let now = OffsetDateTime::now_utc();
        self.require_clinical(
            actor,
            AuditAction::BreakGlass,
            Some(person),
            &[format!("reason:{}", reason.code())],
            now,
        )
        .await?;
        if let BreakGlassReason::Other(text) = &reason
            && text.trim().chars().count() < 4
        {
            return Err(AppError::Invalid {
                field: "reason_text",
                message_ja: "「その他」の場合は理由を具体的に記入してください。",
            });
        }
        if self.store.person(person).await?.is_none() {
            // As a viewer page answers: an ID cannot be probed for existence, and the attempt
            // is logged.
            let mut ev = actor.event(AuditAction::BreakGlass, now);
            ev.items = vec![
                format!("reason:{}", reason.code()),
                format!("unknown-person:{person}"),
            ];
            ev.outcome = AuditOutcome::Denied(Rule::NoCareRelationship.code().into());
            self.audit(ev).await?;
            return Err(AppError::Denied(Rule::NoCareRelationship));
        }
        let decision = self
            .care_decision(actor, person, &[AccessCategory::Demographics], now)
            .await?;
        let mut ev = actor.event(AuditAction::BreakGlass, now);
        ev.person_id = Some(person);
        ev.items = vec![format!("reason:{}", reason.code())];
        ev.consent_state = Some(decision.consent_state.as_str().into());
        // Only a missing care relationship can be overcome; no consent cannot.
        let blocked = decision
            .first_denial()
            .filter(|r| *r != Rule::NoCareRelationship);
        if let Some(rule) = blocked {
            ev.outcome = AuditOutcome::Denied(rule.code().into());
            self.audit(ev).await?;
            return Err(AppError::Denied(rule));
        }
        if decision.method == Some(renkei_domain::AccessMethod::CareRelationship) {
            return Err(AppError::Invalid {
                field: "reason",
                message_ja: "貴施設はこの方と診療・介護の関係があるため、緊急時アクセスは不要です。",
            });
        }
        let grant = BreakGlassGrant {
            id: GrantId::new(),
            user_id: actor.user.id,
            facility_id: actor.facility.id,
            person_id: person,
            reason,
            granted_at: renkei_domain::to_micros(now),
            expires_at: renkei_domain::to_micros(now + self.config.break_glass_lifetime),
        };
        ev.access_method = Some("break-glass".into());
        let entry = self.store.insert_grant(&grant, ev).await?;
        self.after_append(entry.seq).await;
        tracing::info!(grant = %grant.id, "break-the-glass access granted");
        Ok(grant)
    }

    /// 文書: a referral letter, discharge summary or checkup report, as text by section with
    /// its files; or a report (DiagnosticReport, Media) that carries files.
    pub async fn document(
        &self,
        actor: &Actor,
        person: PersonId,
        record_id: uuid::Uuid,
    ) -> Result<DocumentView, AppError> {
        let now = OffsetDateTime::now_utc();
        let what = format!("record:{record_id}");
        let opened = self
            .open_for_view(
                actor,
                person,
                &DOCUMENT_CATEGORIES,
                AuditAction::View,
                &[&what],
                now,
            )
            .await?;
        let Some(record) = self.find_record(&opened, person, record_id).await? else {
            // Not there, or not visible to this user: the same answer, and still one entry.
            self.audit_view(actor, person, &opened, AuditAction::View, vec![what], now)
                .await?;
            return Err(AppError::NotFound("document"));
        };
        let r = &record;
        let res = &r.input.resource;
        // A document Bundle: the Composition is its first entry. A Composition may also come
        // alone.
        let composition = res
            .get("entry")
            .and_then(|e| e.as_array())
            .and_then(|e| {
                e.iter()
                    .map(|x| x.get("resource").unwrap_or(x))
                    .find(|x| s(x, &["resourceType"]) == Some("Composition"))
            })
            .or_else(|| (s(res, &["resourceType"]) == Some("Composition")).then_some(res));
        // What names the document: the Composition, else the record's own resource.
        let head = composition.unwrap_or(res);
        let mut files = attachments::list(res);
        let mut sections = Vec::new();
        fn walk(
            sec: &serde_json::Value,
            path: &mut Vec<usize>,
            files: &mut Vec<AttachmentInfo>,
            out: &mut Vec<DocumentSection>,
        ) {
            let title = s(sec, &["title"])
                .map(str::to_owned)
                .or_else(|| concept(sec.get("code")))
                .unwrap_or_default();
            let text = s(sec, &["text", "div"])
                .map(xhtml_to_text)
                .unwrap_or_default();
            let (here, rest): (Vec<_>, Vec<_>) = std::mem::take(files)
                .into_iter()
                .partition(|f| f.section.as_deref() == Some(path.as_slice()));
            *files = rest;
            if !title.is_empty() || !text.is_empty() || !here.is_empty() {
                out.push(DocumentSection {
                    title,
                    text,
                    attachments: here,
                });
            }
            if let Some(subs) = sec.get("section").and_then(|x| x.as_array()) {
                for (i, sub) in subs.iter().enumerate() {
                    path.push(i);
                    walk(sub, path, files, out);
                    path.pop();
                }
            }
        }
        if let Some(secs) = composition
            .and_then(|c| c.get("section"))
            .and_then(|x| x.as_array())
        {
            for (i, sec) in secs.iter().enumerate() {
                walk(sec, &mut vec![i], &mut files, &mut sections);
            }
        }
        let view = DocumentView {
            title: s(head, &["title"])
                .map(str::to_owned)
                .or_else(|| attachments::record_title(r))
                .unwrap_or_else(|| "文書".into()),
            date: record_date(r),
            facility: opened
                .facility_names
                .get(&r.facility_id)
                .cloned()
                .unwrap_or_default(),
            author: s(head, &["author", "0", "display"]).map(str::to_owned),
            sections,
            attachments: files,
        };
        self.audit_view(actor, person, &opened, AuditAction::View, vec![what], now)
            .await?;
        Ok(view)
    }

    /// Every access to one resident's records, for the resident who asks (the office only).
    pub async fn access_report(
        &self,
        actor: &Actor,
        person: PersonId,
    ) -> Result<Vec<AccessLine>, AppError> {
        actor.require(Role::NetworkOffice)?;
        let now = OffsetDateTime::now_utc();
        let filter = renkei_store::AuditFilter {
            person: Some(person),
            ..Default::default()
        };
        let lines = self.access_lines(&filter).await?;
        let mut ev = actor.event(AuditAction::Export, now);
        ev.person_id = Some(person);
        ev.items = vec!["access-report".into(), format!("entries:{}", lines.len())];
        self.audit(ev).await?;
        Ok(lines)
    }

    /// A user's own recent accesses.
    pub async fn my_accesses(&self, actor: &Actor) -> Result<Vec<AccessLine>, AppError> {
        let filter = renkei_store::AuditFilter {
            user: Some(actor.user.id),
            from: Some(OffsetDateTime::now_utc() - time::Duration::days(90)),
            ..Default::default()
        };
        self.access_lines(&filter).await
    }

    async fn access_lines(
        &self,
        filter: &renkei_store::AuditFilter,
    ) -> Result<Vec<AccessLine>, AppError> {
        let facilities: std::collections::HashMap<_, _> = self
            .store
            .facilities()
            .await?
            .into_iter()
            .map(|f| (f.id, f.name))
            .collect();
        let mut users = std::collections::HashMap::new();
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let batch: Vec<AuditEntry> = self.store.audit_entries(filter, after, 1000).await?;
            let Some(last) = batch.last() else { break };
            after = last.seq;
            for e in batch {
                let ev = e.event;
                let user = match ev.user_id {
                    Some(u) => match users.get(&u) {
                        Some(name) => String::clone(name),
                        None => {
                            let name = self
                                .store
                                .user_account_by_id(u)
                                .await?
                                .map(|a| a.user.display_name)
                                .unwrap_or_default();
                            users.insert(u, name.clone());
                            name
                        }
                    },
                    None => String::new(),
                };
                out.push(AccessLine {
                    at: ev.at,
                    facility: ev
                        .facility_id
                        .and_then(|f| facilities.get(&f).cloned())
                        .unwrap_or_default(),
                    user,
                    profession: ev
                        .profession
                        .map(|p| p.label_ja().to_owned())
                        .unwrap_or_default(),
                    action: ev.action.label_ja().to_owned(),
                    items: ev.items,
                    method: ev.access_method,
                    outcome: match ev.outcome {
                        AuditOutcome::Success => "許可".into(),
                        AuditOutcome::Denied(r) => format!("拒否（{r}）"),
                    },
                });
            }
        }
        out.reverse();
        Ok(out)
    }

    /// The office's review list of break-the-glass accesses, or a facility's notification list
    /// (accesses to persons whose records it holds).
    pub async fn break_glass_list(&self, actor: &Actor) -> Result<Vec<BreakGlassGrant>, AppError> {
        actor.require_any(&[Role::NetworkOffice, Role::FacilityAdmin])?;
        let holding = (!actor.user.has_role(Role::NetworkOffice)).then_some(actor.facility.id);
        Ok(self.store.break_glass_grants(holding, 500).await?)
    }
}
