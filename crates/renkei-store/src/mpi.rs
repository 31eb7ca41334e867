//! 名寄せ persistence: the model, match results awaiting or carrying a decision, and merges
//! with the exact list of what they moved, so that an unmerge puts everything back.

use crate::audit::append_in_tx;
use crate::rows::PersonRow;
use crate::{Result, Store, StoreError, in_tx, with_pool};
use renkei_domain::audit::{AuditEntry, AuditEvent};
use renkei_domain::{FacilityId, Person, PersonId, UserId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A match found by 名寄せ between a person and an existing one.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchResult {
    pub id: Uuid,
    pub person: PersonId,
    pub candidate: PersonId,
    pub score: f64,
    /// `link`, `review`.
    pub outcome: String,
    /// JSON list of `{field, level, weight}`.
    pub evidence: String,
    /// `open`, `same` (merged), `different` (remembered: never asked again), `linked` (auto).
    pub status: String,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// What a merge moved from the merged person to the survivor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub local_patients: Vec<(Uuid, String)>,
    pub consents: Vec<Uuid>,
    pub relationships: Vec<Uuid>,
    /// Relationships both had: the merged person's copy was removed, kept here to restore.
    pub dropped_relationships: Vec<(Uuid, OffsetDateTime, String)>,
    pub records: Vec<Uuid>,
    pub provisions: Vec<Uuid>,
    pub group_versions: Vec<(Uuid, String)>,
    pub grants: Vec<Uuid>,
}

/// A merge as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Merge {
    pub id: Uuid,
    pub survivor: PersonId,
    pub merged: PersonId,
    pub moved: Moved,
    pub merged_at: OffsetDateTime,
    pub unmerged_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct MatchRow {
    person_id: Uuid,
    match_id: Uuid,
    candidate_id: Uuid,
    score: f64,
    outcome: String,
    evidence: String,
    status: String,
    decided_by: Option<Uuid>,
    decided_at: Option<OffsetDateTime>,
    created_at: OffsetDateTime,
}

impl MatchRow {
    fn into_domain(self) -> MatchResult {
        MatchResult {
            id: self.match_id,
            person: PersonId::from_uuid(self.person_id),
            candidate: PersonId::from_uuid(self.candidate_id),
            score: self.score,
            outcome: self.outcome,
            evidence: self.evidence,
            status: self.status,
            decided_by: self.decided_by.map(UserId::from_uuid),
            decided_at: self.decided_at,
            created_at: self.created_at,
        }
    }
}

/// Insert a `MatchResult` through an executor (a pool or a transaction) of either backend.
macro_rules! insert_match {
    ($executor:expr, $m:expr) => {{
        let m: &MatchResult = $m;
        sqlx::query(
            "INSERT INTO match_results (person_id, match_id, candidate_id, score, outcome, \
             evidence, status, decided_by, decided_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(m.person.as_uuid())
        .bind(m.id)
        .bind(m.candidate.as_uuid())
        .bind(m.score)
        .bind(&m.outcome)
        .bind(&m.evidence)
        .bind(&m.status)
        .bind(m.decided_by.map(|u| u.as_uuid()))
        .bind(m.decided_at)
        .bind(m.created_at)
        .execute($executor)
        .await?;
    }};
}

/// The latest demographics a facility's system sent for one of its patients, as the 名寄せ
/// matcher's record (JSON text, which the store does not read).
#[derive(Clone, Debug, PartialEq)]
pub struct ArrivedDemographicsRow {
    pub facility_id: FacilityId,
    pub local_id: String,
    pub record: String,
    pub source_time: Option<OffsetDateTime>,
}

/// Rows per upsert of arrived demographics (five binds each).
const ARRIVED_PER_STATEMENT: usize = 500;

impl Store {
    /// Keep what arrived for these local patients, replacing what was kept for them. One row
    /// per (facility, patient ID) in `rows`: the caller decided each is news.
    pub async fn keep_arrived_demographics(
        &self,
        rows: &[ArrivedDemographicsRow],
        now: OffsetDateTime,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let now = renkei_domain::to_micros(now);
        in_tx!(self, tx => {
            for chunk in rows.chunks(ARRIVED_PER_STATEMENT) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO arrived_demographics (facility_id, local_id, record, source_time, \
                     received_at) ",
                );
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.facility_id.as_uuid())
                        .push_bind(r.local_id.as_str())
                        .push_bind(r.record.as_str())
                        .push_bind(r.source_time)
                        .push_bind(now);
                });
                qb.push(
                    " ON CONFLICT (facility_id, local_id) DO UPDATE SET record = excluded.record, \
                     source_time = excluded.source_time, received_at = excluded.received_at",
                );
                qb.build().execute(&mut *tx).await?;
            }
        })
    }

    /// Every kept arrival, for building the 名寄せ index.
    pub async fn arrived_demographics(&self) -> Result<Vec<ArrivedDemographicsRow>> {
        let rows: Vec<(Uuid, String, String, Option<OffsetDateTime>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT facility_id, local_id, record, source_time FROM arrived_demographics \
                 ORDER BY facility_id, local_id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(f, local_id, record, source_time)| ArrivedDemographicsRow {
                    facility_id: FacilityId::from_uuid(f),
                    local_id,
                    record,
                    source_time,
                },
            )
            .collect())
    }

    /// Save a trained model as the next version.
    pub async fn save_mpi_model(
        &self,
        json: &str,
        audit: impl FnOnce(i64) -> AuditEvent,
    ) -> Result<(i64, AuditEntry)> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM mpi_models")
                .fetch_one(&mut *tx)
                .await?;
            let v = current.unwrap_or(0) + 1;
            sqlx::query("INSERT INTO mpi_models (version, model, created_at) VALUES ($1, $2, $3)")
                .bind(v)
                .bind(json)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let entry = append_in_tx!(tx, audit(v));
            (v, entry)
        })
    }

    /// The newest trained model with its version, if any.
    pub async fn mpi_model_versioned(&self) -> Result<Option<(i64, String)>> {
        let m: Option<(i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT version, model FROM mpi_models ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await?
        });
        Ok(m)
    }

    /// The version of the newest trained model, if any (cheap: no model text is read).
    pub async fn mpi_model_version(&self) -> Result<Option<i64>> {
        let v: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM mpi_models")
                .fetch_one(pool)
                .await?
        });
        Ok(v)
    }

    /// A person, if not merged into another.
    pub async fn live_person(&self, id: PersonId) -> Result<Option<Person>> {
        let row: Option<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, name_kanji, name_kana, sex, birth_date, postal_code, address, \
                 phone, created_at FROM persons WHERE person_id = $1 AND merged_into IS NULL",
            )
            .bind(id.as_uuid())
            .fetch_optional(pool)
            .await?
        });
        row.map(PersonRow::into_domain).transpose()
    }

    /// Every person not merged into another, with their local patient IDs.
    pub async fn live_persons(&self) -> Result<Vec<(Person, Vec<(FacilityId, String)>)>> {
        let rows: Vec<PersonRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT person_id, name_kanji, name_kana, sex, birth_date, postal_code, address, \
                 phone, created_at FROM persons WHERE merged_into IS NULL ORDER BY person_id",
            )
            .fetch_all(pool)
            .await?
        });
        let links: Vec<(Uuid, Uuid, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT person_id, facility_id, local_id FROM local_patients")
                .fetch_all(pool)
                .await?
        });
        let mut by_person: std::collections::HashMap<Uuid, Vec<(FacilityId, String)>> =
            std::collections::HashMap::new();
        for (p, f, l) in links {
            by_person
                .entry(p)
                .or_default()
                .push((FacilityId::from_uuid(f), l));
        }
        rows.into_iter()
            .map(|r| {
                let p = r.into_domain()?;
                let l = by_person.remove(&p.id.as_uuid()).unwrap_or_default();
                Ok((p, l))
            })
            .collect()
    }

    /// Whether 名寄せ has proposed this pair before, in either direction and whatever became
    /// of it: still open, decided different, or merged (and perhaps unmerged since).
    pub async fn pair_proposed(&self, a: PersonId, b: PersonId) -> Result<bool> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM match_results WHERE \
                 (person_id = $1 AND candidate_id = $2) OR (person_id = $2 AND candidate_id = $1)",
            )
            .bind(a.as_uuid())
            .bind(b.as_uuid())
            .fetch_one(pool)
            .await?
        });
        Ok(n > 0)
    }

    pub async fn insert_match(&self, m: &MatchResult) -> Result<()> {
        with_pool!(self, pool => {
            insert_match!(pool, m);
        });
        Ok(())
    }

    /// Matches with `status`, oldest first.
    pub async fn matches(&self, status: &str, limit: i64) -> Result<Vec<MatchResult>> {
        const SQL: &str = "SELECT person_id, match_id, candidate_id, score, outcome, evidence, \
             status, decided_by, decided_at, created_at FROM match_results WHERE status = $1 \
             ORDER BY created_at LIMIT $2";
        let rows: Vec<MatchRow> = with_pool!(self, pool => {
            sqlx::query_as(SQL).bind(status).bind(limit).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(MatchRow::into_domain).collect())
    }

    pub async fn match_result(&self, id: Uuid) -> Result<Option<MatchResult>> {
        const SQL: &str = "SELECT person_id, match_id, candidate_id, score, outcome, evidence, \
             status, decided_by, decided_at, created_at FROM match_results WHERE match_id = $1";
        let row: Option<MatchRow> = with_pool!(self, pool => {
            sqlx::query_as(SQL).bind(id).fetch_optional(pool).await?
        });
        Ok(row.map(MatchRow::into_domain))
    }

    /// Record a decision on an open match ("different" is remembered).
    pub async fn decide_match(
        &self,
        id: Uuid,
        status: &str,
        by: Option<UserId>,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let done = sqlx::query(
                "UPDATE match_results SET status = $2, decided_by = $3, decided_at = $4 \
                 WHERE match_id = $1 AND status = 'open'",
            )
            .bind(id)
            .bind(status)
            .bind(by.map(|u| u.as_uuid()))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("match already decided"));
            }
            append_in_tx!(tx, audit)
        })
    }

    /// Merge `merged` into `survivor`: every row of the merged person moves to the survivor,
    /// and the list of what moved is kept for an exact unmerge. One transaction.
    pub async fn merge_persons(
        &self,
        survivor: PersonId,
        merged: PersonId,
        match_id: Option<Uuid>,
        by: Option<UserId>,
        audit: AuditEvent,
    ) -> Result<(Uuid, AuditEntry)> {
        self.merge_persons_recording(survivor, merged, match_id, by, audit, None)
            .await
    }

    /// An automatic link: record the match (outcome `link`) and merge its person into its
    /// candidate, in one transaction — a crash leaves neither, never a match without its merge.
    pub async fn record_and_merge(
        &self,
        m: &MatchResult,
        audit: AuditEvent,
    ) -> Result<(Uuid, AuditEntry)> {
        self.merge_persons_recording(m.candidate, m.person, Some(m.id), None, audit, Some(m))
            .await
    }

    async fn merge_persons_recording(
        &self,
        survivor: PersonId,
        merged: PersonId,
        match_id: Option<Uuid>,
        by: Option<UserId>,
        audit: AuditEvent,
        new_match: Option<&MatchResult>,
    ) -> Result<(Uuid, AuditEntry)> {
        let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
        let merge_id = Uuid::now_v7();
        let (s, m) = (survivor.as_uuid(), merged.as_uuid());
        in_tx!(self, tx => {
            if let Some(nm) = new_match {
                insert_match!(&mut *tx, nm);
            }
            // Write first (takes the lock), then read what there is to move.
            let done = sqlx::query(
                "UPDATE persons SET merged_into = $2 WHERE person_id = $1 AND merged_into IS NULL",
            )
            .bind(m)
            .bind(s)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 || s == m {
                return Err(StoreError::Conflict("person already merged"));
            }
            // Nor into someone who has been merged away since the pair was proposed: that
            // would chain one person's records through another.
            let survivor_live: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM persons WHERE person_id = $1 AND merged_into IS NULL",
            )
            .bind(s)
            .fetch_one(&mut *tx)
            .await?;
            if survivor_live != 1 {
                return Err(StoreError::Conflict("person already merged"));
            }
            let mut moved = Moved {
                local_patients: sqlx::query_as(
                    "SELECT facility_id, local_id FROM local_patients WHERE person_id = $1",
                )
                .bind(m)
                .fetch_all(&mut *tx)
                .await?,
                consents: sqlx::query_scalar("SELECT consent_id FROM consents WHERE person_id = $1")
                    .bind(m)
                    .fetch_all(&mut *tx)
                    .await?,
                records: sqlx::query_scalar("SELECT record_id FROM records WHERE person_id = $1")
                    .bind(m)
                    .fetch_all(&mut *tx)
                    .await?,
                provisions: sqlx::query_scalar(
                    "SELECT provision_id FROM provisions WHERE person_id = $1",
                )
                .bind(m)
                .fetch_all(&mut *tx)
                .await?,
                group_versions: sqlx::query_as(
                    "SELECT facility_id, source_group FROM group_versions WHERE person_id = $1",
                )
                .bind(m)
                .fetch_all(&mut *tx)
                .await?,
                grants: sqlx::query_scalar(
                    "SELECT grant_id FROM break_glass_grants WHERE person_id = $1",
                )
                .bind(m)
                .fetch_all(&mut *tx)
                .await?,
                ..Moved::default()
            };
            let rels: Vec<(Uuid, OffsetDateTime, String)> = sqlx::query_as(
                "SELECT facility_id, since, source FROM care_relationships WHERE person_id = $1",
            )
            .bind(m)
            .fetch_all(&mut *tx)
            .await?;
            let survivor_rels: Vec<Uuid> = sqlx::query_scalar(
                "SELECT facility_id FROM care_relationships WHERE person_id = $1",
            )
            .bind(s)
            .fetch_all(&mut *tx)
            .await?;
            for (f, since, source) in rels {
                if survivor_rels.contains(&f) {
                    sqlx::query("DELETE FROM care_relationships WHERE person_id = $1 AND facility_id = $2")
                        .bind(m)
                        .bind(f)
                        .execute(&mut *tx)
                        .await?;
                    moved.dropped_relationships.push((f, since, source));
                } else {
                    moved.relationships.push(f);
                }
            }
            for table in [
                "local_patients",
                "consents",
                "care_relationships",
                "records",
                "record_history",
                "provisions",
                "group_versions",
                "break_glass_grants",
            ] {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE {table} SET person_id = $1 WHERE person_id = $2"
                )))
                .bind(s)
                .bind(m)
                .execute(&mut *tx)
                .await?;
            }
            // Both persons' records changed: the viewer's kept heads of them are stale.
            sqlx::query(
                "UPDATE persons SET records_version = records_version + 1 \
                 WHERE person_id IN ($1, $2)",
            )
            .bind(s)
            .bind(m)
            .execute(&mut *tx)
            .await?;
            let moved_json = serde_json::to_string(&moved)
                .map_err(|_| StoreError::Corrupt("merge list"))?;
            sqlx::query(
                "INSERT INTO person_merges (survivor_id, merge_id, merged_id, moved, merged_at, \
                 merged_by, unmerged_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
            )
            .bind(s)
            .bind(merge_id)
            .bind(m)
            .bind(moved_json)
            .bind(now)
            .bind(by.map(|u| u.as_uuid()))
            .execute(&mut *tx)
            .await?;
            if let Some(id) = match_id {
                // Two reviewers deciding one pair at once: the first decision stands.
                let done = sqlx::query(
                    "UPDATE match_results SET status = 'same', decided_by = $2, decided_at = $3 \
                     WHERE match_id = $1 AND status = 'open'",
                )
                .bind(id)
                .bind(by.map(|u| u.as_uuid()))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict("match already decided"));
                }
            }
            let entry = append_in_tx!(tx, audit);
            (merge_id, entry)
        })
    }

    /// Undo a merge: exactly the rows it moved go back, and the merged person lives again.
    pub async fn unmerge(&self, merge_id: Uuid, audit: AuditEvent) -> Result<(Merge, AuditEntry)> {
        let now = renkei_domain::to_micros(OffsetDateTime::now_utc());
        in_tx!(self, tx => {
            let done = sqlx::query(
                "UPDATE person_merges SET unmerged_at = $2 WHERE merge_id = $1 AND unmerged_at IS NULL",
            )
            .bind(merge_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("merge missing or already undone"));
            }
            let (s, m, moved_json, merged_at): (Uuid, Uuid, String, OffsetDateTime) = sqlx::query_as(
                "SELECT survivor_id, merged_id, moved, merged_at FROM person_merges WHERE merge_id = $1",
            )
            .bind(merge_id)
            .fetch_one(&mut *tx)
            .await?;
            let moved: Moved =
                serde_json::from_str(&moved_json).map_err(|_| StoreError::Corrupt("merge list"))?;
            for (f, l) in &moved.local_patients {
                sqlx::query("UPDATE local_patients SET person_id = $1 WHERE person_id = $2 AND facility_id = $3 AND local_id = $4")
                    .bind(m).bind(s).bind(f).bind(l).execute(&mut *tx).await?;
            }
            for c in &moved.consents {
                sqlx::query("UPDATE consents SET person_id = $1 WHERE person_id = $2 AND consent_id = $3")
                    .bind(m).bind(s).bind(c).execute(&mut *tx).await?;
            }
            for f in &moved.relationships {
                sqlx::query("UPDATE care_relationships SET person_id = $1 WHERE person_id = $2 AND facility_id = $3")
                    .bind(m).bind(s).bind(f).execute(&mut *tx).await?;
            }
            for (f, since, source) in &moved.dropped_relationships {
                sqlx::query("INSERT INTO care_relationships (person_id, facility_id, since, source) VALUES ($1, $2, $3, $4)")
                    .bind(m).bind(f).bind(since).bind(source).execute(&mut *tx).await?;
            }
            for r in &moved.records {
                sqlx::query("UPDATE records SET person_id = $1 WHERE person_id = $2 AND record_id = $3")
                    .bind(m).bind(s).bind(r).execute(&mut *tx).await?;
                sqlx::query("UPDATE record_history SET person_id = $1 WHERE person_id = $2 AND record_id = $3")
                    .bind(m).bind(s).bind(r).execute(&mut *tx).await?;
            }
            for p in &moved.provisions {
                sqlx::query("UPDATE provisions SET person_id = $1 WHERE person_id = $2 AND provision_id = $3")
                    .bind(m).bind(s).bind(p).execute(&mut *tx).await?;
            }
            for (f, g) in &moved.group_versions {
                sqlx::query("UPDATE group_versions SET person_id = $1 WHERE person_id = $2 AND facility_id = $3 AND source_group = $4")
                    .bind(m).bind(s).bind(f).bind(g).execute(&mut *tx).await?;
            }
            for g in &moved.grants {
                sqlx::query("UPDATE break_glass_grants SET person_id = $1 WHERE person_id = $2 AND grant_id = $3")
                    .bind(m).bind(s).bind(g).execute(&mut *tx).await?;
            }
            sqlx::query("UPDATE persons SET merged_into = NULL WHERE person_id = $1")
                .bind(m)
                .execute(&mut *tx)
                .await?;
            // Both persons' records changed: the viewer's kept heads of them are stale.
            sqlx::query(
                "UPDATE persons SET records_version = records_version + 1 \
                 WHERE person_id IN ($1, $2)",
            )
            .bind(s)
            .bind(m)
            .execute(&mut *tx)
            .await?;
            let entry = append_in_tx!(tx, audit);
            let merge = Merge {
                id: merge_id,
                survivor: PersonId::from_uuid(s),
                merged: PersonId::from_uuid(m),
                moved,
                merged_at,
                unmerged_at: Some(now),
            };
            (merge, entry)
        })
    }

    /// Merges, newest first.
    pub async fn merges(&self, limit: i64) -> Result<Vec<Merge>> {
        let rows: Vec<(
            Uuid,
            Uuid,
            Uuid,
            String,
            OffsetDateTime,
            Option<OffsetDateTime>,
        )> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT merge_id, survivor_id, merged_id, moved, merged_at, unmerged_at \
                 FROM person_merges ORDER BY merged_at DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(id, s, m, moved, merged_at, unmerged_at)| {
                Ok(Merge {
                    id,
                    survivor: PersonId::from_uuid(s),
                    merged: PersonId::from_uuid(m),
                    moved: serde_json::from_str(&moved)
                        .map_err(|_| StoreError::Corrupt("merge list"))?,
                    merged_at,
                    unmerged_at,
                })
            })
            .collect()
    }
}
