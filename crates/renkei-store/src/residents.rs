//! Residents (参加住民): persons, local patient links, consents, care relationships and
//! break-the-glass grants. Every table here leads its key with `person_id`.

use crate::audit::append_in_tx;
use crate::rows::{
    ConsentRow, GrantRow, LocalPatientRow, PersonRow, RelationshipRow, care_source_str,
};
use crate::{Result, Store, StoreError, in_tx, with_pool};
use renkei_domain::audit::{AuditEntry, AuditEvent};
use renkei_domain::{
    BreakGlassGrant, CareRelationship, Consent, ConsentId, FacilityId, LocalPatient, Person,
    PersonId, UserId,
};
use time::OffsetDateTime;
use uuid::Uuid;

/// What authorization needs to know about one person for one user at one facility.
#[derive(Clone, Debug, Default)]
pub struct AccessFacts {
    pub consents: Vec<Consent>,
    pub care_relationship: Option<CareRelationship>,
    pub grants: Vec<BreakGlassGrant>,
}

/// Everything recorded when a clerk registers a resident from a consent form, written at once.
#[derive(Clone, Debug)]
pub struct NewResident {
    pub person: Person,
    pub local: Option<LocalPatient>,
    pub consent: Consent,
    pub relationship: CareRelationship,
}

/// One line of a facility's resident list.
#[derive(Clone, Debug)]
pub struct ResidentSummary {
    pub person: Person,
    pub local_id: String,
    pub active_consents: i64,
}

macro_rules! insert_local_patient {
    ($tx:expr, $lp:expr) => {{
        let lp: &LocalPatient = $lp;
        sqlx::query(
            "INSERT INTO local_patients (person_id, facility_id, local_id, method, linked_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(lp.person_id.as_uuid())
        .bind(lp.facility_id.as_uuid())
        .bind(lp.local_id.as_str())
        .bind(lp.method.as_str())
        .bind(lp.linked_at)
        .execute(&mut *$tx)
        .await
        .map_err(crate::duplicate_as("local patient ID"))?;
    }};
}

macro_rules! insert_relationship {
    ($tx:expr, $rel:expr) => {{
        let r: &CareRelationship = $rel;
        sqlx::query(
            "INSERT INTO care_relationships (person_id, facility_id, since, source) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (person_id, facility_id) DO NOTHING",
        )
        .bind(r.person_id.as_uuid())
        .bind(r.facility_id.as_uuid())
        .bind(r.since)
        .bind(care_source_str(r.source))
        .execute(&mut *$tx)
        .await?;
    }};
}

macro_rules! insert_consent {
    ($tx:expr, $c:expr) => {{
        let c: &Consent = $c;
        let mode =
            serde_json::to_string(&c.mode).map_err(|_| StoreError::Corrupt("consent mode"))?;
        sqlx::query(
            "INSERT INTO consents (person_id, consent_id, signed_on, method, proxy_name, \
             proxy_relationship, scope_national, mode, registered_at, registered_by, withdrawn_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(c.person_id.as_uuid())
        .bind(c.id.as_uuid())
        .bind(c.signed_on)
        .bind(c.method.as_str())
        .bind(c.proxy.as_ref().map(|p| p.name.as_str()))
        .bind(c.proxy.as_ref().map(|p| p.relationship.as_str()))
        .bind(c.scopes.contains(&renkei_domain::ConsentScope::National))
        .bind(mode)
        .bind(c.registered_at)
        .bind(c.registered_by.as_uuid())
        .bind(c.withdrawn_at)
        .execute(&mut *$tx)
        .await?;
    }};
}

impl Store {
    /// Register a resident: person, local ID, consent and care relationship, with the audit
    /// entry, in one transaction. A duplicate local ID writes nothing.
    pub async fn register_resident(
        &self,
        r: &NewResident,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        in_tx!(self, tx => {
            let p = &r.person;
            sqlx::query(
                "INSERT INTO persons (person_id, name_kanji, name_kana, sex, birth_date, postal_code, \
                 address, phone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(p.id.as_uuid())
            .bind(p.name_kanji.as_deref())
            .bind(&p.name_kana)
            .bind(p.sex.as_str())
            .bind(p.birth_date)
            .bind(p.postal_code.as_deref())
            .bind(p.address.as_deref())
            .bind(p.phone.as_deref())
            .bind(p.created_at)
            .execute(&mut *tx)
            .await?;
            if let Some(lp) = &r.local {
                insert_local_patient!(tx, lp);
            }
            insert_consent!(tx, &r.consent);
            insert_relationship!(tx, &r.relationship);
            append_in_tx!(tx, audit)
        })
    }

    /// How many times the person's records have changed; `None` if there is no such person.
    /// A person merged away still answers (their records are gone, so their version moved).
    pub async fn records_version(&self, id: PersonId) -> Result<Option<i64>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT records_version FROM persons WHERE person_id = $1")
                .bind(id.as_uuid())
                .fetch_optional(pool)
                .await?
        }))
    }

    pub async fn person(&self, id: PersonId) -> Result<Option<Person>> {
        let row: Option<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, name_kanji, name_kana, sex, birth_date, postal_code, address, \
                 phone, created_at FROM persons WHERE person_id = $1",
            )
            .bind(id.as_uuid())
            .fetch_optional(pool)
            .await?
        });
        row.map(PersonRow::into_domain).transpose()
    }

    /// The person a facility's local patient ID is linked to.
    pub async fn person_by_local_id(
        &self,
        facility: FacilityId,
        local_id: &str,
    ) -> Result<Option<PersonId>> {
        let id: Option<Uuid> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT person_id FROM local_patients WHERE facility_id = $1 AND local_id = $2",
            )
            .bind(facility.as_uuid())
            .bind(local_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(id.map(PersonId::from_uuid))
    }

    /// The persons several local patient IDs of one facility are linked to (IDs not linked are
    /// absent from the answer). One query per 500 IDs.
    pub async fn persons_by_local_ids(
        &self,
        facility: FacilityId,
        local_ids: &[String],
    ) -> Result<std::collections::HashMap<String, PersonId>> {
        let mut out = std::collections::HashMap::new();
        for chunk in local_ids.chunks(500) {
            let rows: Vec<(String, Uuid)> = with_pool!(self, pool => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT local_id, person_id FROM local_patients WHERE facility_id = ",
                );
                qb.push_bind(facility.as_uuid());
                qb.push(" AND local_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id.as_str());
                }
                sep.push_unseparated(")");
                qb.build_query_as().fetch_all(pool).await?
            });
            out.extend(rows.into_iter().map(|(l, p)| (l, PersonId::from_uuid(p))));
        }
        Ok(out)
    }

    pub async fn local_patients(&self, person: PersonId) -> Result<Vec<LocalPatient>> {
        let rows: Vec<LocalPatientRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, facility_id, local_id, method, linked_at FROM local_patients \
                 WHERE person_id = $1 ORDER BY linked_at",
            )
            .bind(person.as_uuid())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(LocalPatientRow::into_domain).collect()
    }

    /// Link a facility's local patient ID to a person; the facility gains a care relationship.
    pub async fn link_local_patient(
        &self,
        lp: &LocalPatient,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        let rel = CareRelationship {
            person_id: lp.person_id,
            facility_id: lp.facility_id,
            since: lp.linked_at,
            source: renkei_domain::access::CareSource::LocalPatient,
        };
        in_tx!(self, tx => {
            insert_local_patient!(tx, lp);
            insert_relationship!(tx, &rel);
            append_in_tx!(tx, audit)
        })
    }

    pub async fn consents(&self, person: PersonId) -> Result<Vec<Consent>> {
        let rows: Vec<ConsentRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, consent_id, signed_on, method, proxy_name, proxy_relationship, \
                 scope_national, mode, registered_at, registered_by, withdrawn_at FROM consents \
                 WHERE person_id = $1 ORDER BY registered_at",
            )
            .bind(person.as_uuid())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(ConsentRow::into_domain).collect()
    }

    /// Record a further consent for a registered person (e.g. after a withdrawal).
    pub async fn record_consent(&self, c: &Consent, audit: AuditEvent) -> Result<AuditEntry> {
        in_tx!(self, tx => {
            insert_consent!(tx, c);
            append_in_tx!(tx, audit)
        })
    }

    /// 同意撤回, effective at `at`. Refused if the consent is already withdrawn, even when two
    /// clerks press the button at once.
    pub async fn withdraw_consent(
        &self,
        person: PersonId,
        consent: ConsentId,
        at: OffsetDateTime,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        in_tx!(self, tx => {
            let done = sqlx::query(
                "UPDATE consents SET withdrawn_at = $3 \
                 WHERE person_id = $1 AND consent_id = $2 AND withdrawn_at IS NULL",
            )
            .bind(person.as_uuid())
            .bind(consent.as_uuid())
            .bind(at)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("consent missing or already withdrawn"));
            }
            append_in_tx!(tx, audit)
        })
    }

    pub async fn care_relationship(
        &self,
        person: PersonId,
        facility: FacilityId,
    ) -> Result<Option<CareRelationship>> {
        let row: Option<RelationshipRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, facility_id, since, source FROM care_relationships \
                 WHERE person_id = $1 AND facility_id = $2",
            )
            .bind(person.as_uuid())
            .bind(facility.as_uuid())
            .fetch_optional(pool)
            .await?
        });
        row.map(RelationshipRow::into_domain).transpose()
    }

    /// Break-the-glass grants one user holds for one person (expired ones included; the domain
    /// decides validity).
    pub async fn grants(&self, person: PersonId, user: UserId) -> Result<Vec<BreakGlassGrant>> {
        let rows: Vec<GrantRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, grant_id, user_id, facility_id, reason, reason_text, granted_at, \
                 expires_at FROM break_glass_grants WHERE person_id = $1 AND user_id = $2 \
                 ORDER BY granted_at",
            )
            .bind(person.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(GrantRow::into_domain).collect()
    }

    /// What authorization needs about several persons for one user at one facility, in three
    /// reads whatever their number (patient search decides for every hit).
    pub async fn access_facts(
        &self,
        persons: &[PersonId],
        facility: FacilityId,
        user: UserId,
    ) -> Result<std::collections::HashMap<PersonId, AccessFacts>> {
        let mut out: std::collections::HashMap<PersonId, AccessFacts> = persons
            .iter()
            .map(|p| (*p, AccessFacts::default()))
            .collect();
        for chunk in persons.chunks(500) {
            let ids: Vec<Uuid> = chunk.iter().map(|p| p.as_uuid()).collect();
            let (consents, relationships, grants): (
                Vec<ConsentRow>,
                Vec<RelationshipRow>,
                Vec<GrantRow>,
            ) = with_pool!(self, pool => {
                // `lead`: the user or facility bound before the list of persons.
                let list = |sql: &str, lead: Option<Uuid>| {
                    let mut qb = sqlx::QueryBuilder::new(sql);
                    if let Some(l) = lead {
                        qb.push_bind(l);
                        qb.push(" AND person_id IN (");
                    }
                    let mut sep = qb.separated(", ");
                    for id in &ids {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                    qb
                };
                let mut c = list(
                    "SELECT person_id, consent_id, signed_on, method, proxy_name, \
                     proxy_relationship, scope_national, mode, registered_at, registered_by, \
                     withdrawn_at FROM consents WHERE person_id IN (",
                    None,
                );
                c.push(" ORDER BY registered_at");
                let mut r = list(
                    "SELECT person_id, facility_id, since, source FROM care_relationships \
                     WHERE facility_id = ",
                    Some(facility.as_uuid()),
                );
                let mut g = list(
                    "SELECT person_id, grant_id, user_id, facility_id, reason, reason_text, \
                     granted_at, expires_at FROM break_glass_grants WHERE user_id = ",
                    Some(user.as_uuid()),
                );
                g.push(" ORDER BY granted_at");
                (
                    c.build_query_as().fetch_all(pool).await?,
                    r.build_query_as().fetch_all(pool).await?,
                    g.build_query_as().fetch_all(pool).await?,
                )
            });
            for c in consents {
                let c = c.into_domain()?;
                if let Some(f) = out.get_mut(&c.person_id) {
                    f.consents.push(c);
                }
            }
            for r in relationships {
                let r = r.into_domain()?;
                if let Some(f) = out.get_mut(&r.person_id) {
                    f.care_relationship = Some(r);
                }
            }
            for g in grants {
                let g = g.into_domain()?;
                if let Some(f) = out.get_mut(&g.person_id) {
                    f.grants.push(g);
                }
            }
        }
        Ok(out)
    }

    /// Each person's local patient ID at one facility, where there is one.
    pub async fn local_ids_at(
        &self,
        facility: FacilityId,
        persons: &[PersonId],
    ) -> Result<std::collections::HashMap<PersonId, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in persons.chunks(500) {
            let rows: Vec<(Uuid, String)> = with_pool!(self, pool => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT person_id, local_id FROM local_patients WHERE facility_id = ",
                );
                qb.push_bind(facility.as_uuid());
                qb.push(" AND person_id IN (");
                let mut sep = qb.separated(", ");
                for p in chunk {
                    sep.push_bind(p.as_uuid());
                }
                qb.push(") ORDER BY linked_at");
                qb.build_query_as().fetch_all(pool).await?
            });
            for (p, l) in rows {
                out.entry(PersonId::from_uuid(p)).or_insert(l);
            }
        }
        Ok(out)
    }

    pub async fn insert_grant(&self, g: &BreakGlassGrant, audit: AuditEvent) -> Result<AuditEntry> {
        let text = match &g.reason {
            renkei_domain::BreakGlassReason::Other(t) => Some(t.as_str()),
            _ => None,
        };
        in_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO break_glass_grants (person_id, grant_id, user_id, facility_id, reason, \
                 reason_text, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(g.person_id.as_uuid())
            .bind(g.id.as_uuid())
            .bind(g.user_id.as_uuid())
            .bind(g.facility_id.as_uuid())
            .bind(g.reason.code())
            .bind(text)
            .bind(g.granted_at)
            .bind(g.expires_at)
            .execute(&mut *tx)
            .await?;
            append_in_tx!(tx, audit)
        })
    }

    /// Residents with a local ID at `facility`, newest link first.
    pub async fn residents_of_facility(
        &self,
        facility: FacilityId,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ResidentSummary>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            person: PersonRow,
            local_id: String,
            active_consents: i64,
        }
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT p.person_id, p.name_kanji, p.name_kana, p.sex, p.birth_date, p.postal_code, \
                 p.address, p.phone, p.created_at, lp.local_id, \
                 (SELECT COUNT(*) FROM consents c WHERE c.person_id = p.person_id \
                  AND c.withdrawn_at IS NULL) AS active_consents \
                 FROM local_patients lp JOIN persons p ON p.person_id = lp.person_id \
                 WHERE lp.facility_id = $1 ORDER BY lp.linked_at DESC, lp.local_id LIMIT $2 OFFSET $3",
            )
            .bind(facility.as_uuid())
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(ResidentSummary {
                    person: r.person.into_domain()?,
                    local_id: r.local_id,
                    active_consents: r.active_consents,
                })
            })
            .collect()
    }

    pub async fn count_persons(&self) -> Result<i64> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM persons").fetch_one(pool).await?
        });
        Ok(n)
    }
}

impl Store {
    /// Persons the facility has a care relationship with (search at that facility).
    pub async fn persons_related_to(&self, facility: FacilityId) -> Result<Vec<Person>> {
        let rows: Vec<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT p.person_id, p.name_kanji, p.name_kana, p.sex, p.birth_date, p.postal_code, \
                 p.address, p.phone, p.created_at FROM persons p JOIN care_relationships c \
                 ON c.person_id = p.person_id WHERE c.facility_id = $1",
            )
            .bind(facility.as_uuid())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(PersonRow::into_domain).collect()
    }

    /// Persons born on `date` anywhere in the network (emergency search before break-the-glass).
    pub async fn persons_born_on(&self, date: time::Date) -> Result<Vec<Person>> {
        let rows: Vec<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, name_kanji, name_kana, sex, birth_date, postal_code, address, \
                 phone, created_at FROM persons WHERE birth_date = $1",
            )
            .bind(date)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(PersonRow::into_domain).collect()
    }

    /// Every break-the-glass grant, newest first (the office's review list), or only those on
    /// persons whose records `facility` holds (its notification list).
    pub async fn break_glass_grants(
        &self,
        facility_holding: Option<FacilityId>,
        limit: i64,
    ) -> Result<Vec<BreakGlassGrant>> {
        let rows: Vec<GrantRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT g.person_id, g.grant_id, g.user_id, g.facility_id, g.reason, g.reason_text, \
                 g.granted_at, g.expires_at FROM break_glass_grants g \
                 WHERE ($1 IS NULL OR EXISTS (SELECT 1 FROM records r \
                 WHERE r.person_id = g.person_id AND r.facility_id = $1)) \
                 ORDER BY g.granted_at DESC LIMIT $2",
            )
            .bind(facility_holding.map(|f| f.as_uuid()))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(GrantRow::into_domain).collect()
    }
}
