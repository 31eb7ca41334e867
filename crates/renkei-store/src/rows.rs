//! Row types as both databases return them, and their conversion into domain types.

use crate::users::{Session, SessionStage, UserAccount};
use crate::{Result, StoreError};
use renkei_domain::access::{BreakGlassReason, CareSource};
use renkei_domain::audit::{AuditAction, AuditEntry, AuditEvent, AuditOutcome};
use renkei_domain::consent::{ConsentMethod, ConsentMode, Proxy};
use renkei_domain::{
    BreakGlassGrant, CareRelationship, Consent, ConsentId, Facility, FacilityCode, FacilityId,
    GrantId, LinkMethod, LocalPatient, LocalPatientNumber, LoginName, Person, PersonId, Sex, User,
    UserId,
};
use sqlx::types::Json;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

fn corrupt<E>(what: &'static str) -> impl FnOnce(E) -> StoreError {
    move |_| StoreError::Corrupt(what)
}

#[derive(sqlx::FromRow)]
pub(crate) struct FacilityRow {
    facility_id: Uuid,
    code: String,
    name: String,
    kind: String,
    joined_on: Date,
    withdrawn_on: Option<Date>,
}

impl FacilityRow {
    pub(crate) fn into_domain(self) -> Result<Facility> {
        Ok(Facility {
            id: FacilityId::from_uuid(self.facility_id),
            code: FacilityCode::from_stored(self.code),
            name: self.name,
            kind: self.kind.parse().map_err(corrupt("facility kind"))?,
            joined_on: self.joined_on,
            withdrawn_on: self.withdrawn_on,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    user_id: Uuid,
    facility_id: Uuid,
    login: String,
    display_name: String,
    profession: String,
    roles: String,
    active: bool,
    password_hash: String,
    must_change_password: bool,
    totp_secret: Option<String>,
    totp_confirmed: bool,
    failed_logins: i32,
    locked_until: Option<OffsetDateTime>,
}

impl UserRow {
    pub(crate) fn into_domain(self) -> Result<UserAccount> {
        let roles = self
            .roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::parse)
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(corrupt("user roles"))?;
        Ok(UserAccount {
            user: User {
                id: UserId::from_uuid(self.user_id),
                facility_id: FacilityId::from_uuid(self.facility_id),
                login: LoginName::parse(&self.login).map_err(corrupt("login name"))?,
                display_name: self.display_name,
                profession: self.profession.parse().map_err(corrupt("profession"))?,
                roles,
                active: self.active,
            },
            password_hash: self.password_hash,
            must_change_password: self.must_change_password,
            totp_secret: self.totp_secret,
            totp_confirmed: self.totp_confirmed,
            failed_logins: self.failed_logins,
            locked_until: self.locked_until,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    token_hash: String,
    user_id: Uuid,
    csrf_token: String,
    stage: String,
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
}

impl SessionRow {
    pub(crate) fn into_domain(self) -> Result<Session> {
        Ok(Session {
            token_hash: self.token_hash,
            user_id: UserId::from_uuid(self.user_id),
            csrf_token: self.csrf_token,
            stage: SessionStage::parse(&self.stage).ok_or(StoreError::Corrupt("session stage"))?,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct PersonRow {
    person_id: Uuid,
    name_kanji: Option<String>,
    name_kana: String,
    sex: String,
    birth_date: Date,
    postal_code: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    created_at: OffsetDateTime,
}

impl PersonRow {
    pub(crate) fn into_domain(self) -> Result<Person> {
        Ok(Person {
            id: PersonId::from_uuid(self.person_id),
            name_kanji: self.name_kanji,
            name_kana: self.name_kana,
            sex: Sex::parse(&self.sex).ok_or(StoreError::Corrupt("sex"))?,
            birth_date: self.birth_date,
            postal_code: self.postal_code,
            address: self.address,
            phone: self.phone,
            created_at: self.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct LocalPatientRow {
    person_id: Uuid,
    facility_id: Uuid,
    local_id: String,
    method: String,
    linked_at: OffsetDateTime,
}

impl LocalPatientRow {
    pub(crate) fn into_domain(self) -> Result<LocalPatient> {
        Ok(LocalPatient {
            person_id: PersonId::from_uuid(self.person_id),
            facility_id: FacilityId::from_uuid(self.facility_id),
            local_id: LocalPatientNumber::parse(&self.local_id).map_err(corrupt("local id"))?,
            method: LinkMethod::parse(&self.method).ok_or(StoreError::Corrupt("link method"))?,
            linked_at: self.linked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ConsentRow {
    person_id: Uuid,
    consent_id: Uuid,
    signed_on: Date,
    method: String,
    proxy_name: Option<String>,
    proxy_relationship: Option<String>,
    scope_national: bool,
    mode: String,
    registered_at: OffsetDateTime,
    registered_by: Uuid,
    withdrawn_at: Option<OffsetDateTime>,
}

impl ConsentRow {
    pub(crate) fn into_domain(self) -> Result<Consent> {
        let mut scopes = vec![renkei_domain::ConsentScope::Regional];
        if self.scope_national {
            scopes.push(renkei_domain::ConsentScope::National);
        }
        let mode: ConsentMode =
            serde_json::from_str(&self.mode).map_err(corrupt("consent mode"))?;
        Ok(Consent {
            id: ConsentId::from_uuid(self.consent_id),
            person_id: PersonId::from_uuid(self.person_id),
            signed_on: self.signed_on,
            method: ConsentMethod::parse(&self.method)
                .ok_or(StoreError::Corrupt("consent method"))?,
            proxy: match (self.proxy_name, self.proxy_relationship) {
                (Some(name), Some(relationship)) => Some(Proxy { name, relationship }),
                _ => None,
            },
            scopes,
            mode,
            registered_at: self.registered_at,
            registered_by: FacilityId::from_uuid(self.registered_by),
            withdrawn_at: self.withdrawn_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RelationshipRow {
    person_id: Uuid,
    facility_id: Uuid,
    since: OffsetDateTime,
    source: String,
}

impl RelationshipRow {
    pub(crate) fn into_domain(self) -> Result<CareRelationship> {
        Ok(CareRelationship {
            person_id: PersonId::from_uuid(self.person_id),
            facility_id: FacilityId::from_uuid(self.facility_id),
            since: self.since,
            source: match self.source.as_str() {
                "local-patient" => CareSource::LocalPatient,
                "registration" => CareSource::Registration,
                _ => return Err(StoreError::Corrupt("care relationship source")),
            },
        })
    }
}

pub(crate) fn care_source_str(s: CareSource) -> &'static str {
    match s {
        CareSource::LocalPatient => "local-patient",
        CareSource::Registration => "registration",
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GrantRow {
    person_id: Uuid,
    grant_id: Uuid,
    user_id: Uuid,
    facility_id: Uuid,
    reason: String,
    reason_text: Option<String>,
    granted_at: OffsetDateTime,
    expires_at: OffsetDateTime,
}

impl GrantRow {
    pub(crate) fn into_domain(self) -> Result<BreakGlassGrant> {
        Ok(BreakGlassGrant {
            id: GrantId::from_uuid(self.grant_id),
            user_id: UserId::from_uuid(self.user_id),
            facility_id: FacilityId::from_uuid(self.facility_id),
            person_id: PersonId::from_uuid(self.person_id),
            reason: match (self.reason.as_str(), self.reason_text) {
                ("emergency", _) => BreakGlassReason::Emergency,
                ("first-visit", _) => BreakGlassReason::FirstVisit,
                ("other", Some(t)) => BreakGlassReason::Other(t),
                _ => return Err(StoreError::Corrupt("break-glass reason")),
            },
            granted_at: self.granted_at,
            expires_at: self.expires_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    seq: i64,
    entry_id: Uuid,
    at: OffsetDateTime,
    user_id: Option<Uuid>,
    facility_id: Option<Uuid>,
    profession: Option<String>,
    action: String,
    person_id: Option<Uuid>,
    items: Json<Vec<String>>,
    consent_state: Option<String>,
    access_method: Option<String>,
    outcome: String,
    request_id: Option<String>,
    client_addr: Option<String>,
    prev_hash: String,
    hash: String,
}

impl AuditRow {
    /// Rebuild the entry exactly as stored. A value that no longer parses (someone edited the
    /// row) is reported as corrupt rather than "fixed", so verification names the entry.
    pub(crate) fn into_domain(self) -> Result<AuditEntry> {
        Ok(AuditEntry {
            seq: self.seq,
            event: AuditEvent {
                id: self.entry_id,
                at: self.at,
                user_id: self.user_id.map(UserId::from_uuid),
                facility_id: self.facility_id.map(FacilityId::from_uuid),
                profession: self
                    .profession
                    .map(|p| p.parse())
                    .transpose()
                    .map_err(corrupt("audit profession"))?,
                action: AuditAction::parse(&self.action)
                    .ok_or(StoreError::Corrupt("audit action"))?,
                person_id: self.person_id.map(PersonId::from_uuid),
                items: self.items.0,
                consent_state: self.consent_state,
                access_method: self.access_method,
                outcome: AuditOutcome::decode(&self.outcome)
                    .ok_or(StoreError::Corrupt("audit outcome"))?,
                request_id: self.request_id,
                client_addr: self.client_addr,
            },
            prev_hash: crate::parse_hash(&self.prev_hash)?,
            hash: crate::parse_hash(&self.hash)?,
        })
    }
}
