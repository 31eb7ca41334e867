//! Audit log persistence: append under the head-row lock, read back in order, checkpoints.

use crate::rows::AuditRow;
use crate::{Result, Store, StoreError, with_pool};
use renkei_domain::audit::{AuditEntry, AuditEvent, ChainHash};
use time::OffsetDateTime;

pub(crate) const BUMP_HEAD: &str =
    "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash";
pub(crate) const SET_HEAD_HASH: &str = "UPDATE audit_head SET hash = $1 WHERE id = 1 AND seq = $2";
pub(crate) const INSERT: &str = "INSERT INTO audit_log (seq, entry_id, at, user_id, facility_id, \
     profession, action, person_id, items, consent_state, access_method, outcome, request_id, \
     client_addr, prev_hash, hash) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";

/// Append one event inside the caller's transaction. The first statement takes the write lock
/// on the single head row (a row lock in PostgreSQL, the database write lock in SQLite), so
/// concurrent appenders queue instead of forking the chain.
macro_rules! append_in_tx {
    ($tx:expr, $event:expr) => {{
        let event: renkei_domain::audit::AuditEvent = $event;
        let (seq, prev): (i64, String) = sqlx::query_as($crate::audit::BUMP_HEAD)
            .fetch_one(&mut *$tx)
            .await?;
        let entry = event.seal(seq, $crate::parse_hash(&prev)?);
        let e = &entry.event;
        sqlx::query($crate::audit::INSERT)
            .bind(entry.seq)
            .bind(e.id)
            .bind(e.at)
            .bind(e.user_id.map(|u| u.as_uuid()))
            .bind(e.facility_id.map(|f| f.as_uuid()))
            .bind(e.profession.map(|p| p.as_str()))
            .bind(e.action.as_str())
            .bind(e.person_id.map(|p| p.as_uuid()))
            .bind(sqlx::types::Json(&e.items))
            .bind(e.consent_state.as_deref())
            .bind(e.access_method.as_deref())
            .bind(e.outcome.encode())
            .bind(e.request_id.as_deref())
            .bind(e.client_addr.as_deref())
            .bind(entry.prev_hash.to_hex())
            .bind(entry.hash.to_hex())
            .execute(&mut *$tx)
            .await?;
        sqlx::query($crate::audit::SET_HEAD_HASH)
            .bind(entry.hash.to_hex())
            .bind(entry.seq)
            .execute(&mut *$tx)
            .await?;
        entry
    }};
}
pub(crate) use append_in_tx;

/// A signed statement of the chain head at `seq`, made with the key kept outside the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: ChainHash,
    pub signed_at: OffsetDateTime,
    pub key_id: String,
    /// Hex Ed25519 signature over `checkpoint_message(seq, hash, signed_at)`.
    pub signature: String,
}

/// Which entries an export or a report wants.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
    pub person: Option<renkei_domain::PersonId>,
    pub user: Option<renkei_domain::UserId>,
}

/// A row that no longer decodes (an edited action name, a broken hash): verification reports
/// it by its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnreadableEntry {
    pub seq: i64,
    pub what: &'static str,
}

impl Store {
    /// Append one event on its own (for events that change nothing else, such as a view).
    pub async fn append_audit(&self, event: AuditEvent) -> Result<AuditEntry> {
        crate::in_tx!(self, tx => append_in_tx!(tx, event))
    }

    /// The chain head as recorded: (last seq, its hash).
    pub async fn audit_head(&self) -> Result<(i64, ChainHash)> {
        let (seq, hash): (i64, String) = with_pool!(self, pool => {
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(pool).await?
        });
        Ok((seq, crate::parse_hash(&hash)?))
    }

    /// Up to `limit` entries after `after_seq`, in order, each decoded or reported unreadable.
    pub async fn audit_entries_after(
        &self,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<std::result::Result<AuditEntry, UnreadableEntry>>> {
        const SQL: &str = "SELECT seq, entry_id, at, user_id, facility_id, profession, action, \
             person_id, items, consent_state, access_method, outcome, request_id, client_addr, \
             prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";
        let rows: Vec<(i64, std::result::Result<AuditRow, ()>)> = with_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(after_seq).bind(limit).fetch_all(pool).await?;
            rows.iter().map(|r| {
                use sqlx::{FromRow, Row};
                let seq: i64 = r.try_get("seq").unwrap_or(-1);
                (seq, AuditRow::from_row(r).map_err(|_| ()))
            }).collect()
        });
        Ok(rows
            .into_iter()
            .map(|(seq, row)| match row {
                Ok(row) => row.into_domain().map_err(|e| UnreadableEntry {
                    seq,
                    what: match e {
                        StoreError::Corrupt(w) => w,
                        _ => "row",
                    },
                }),
                Err(()) => Err(UnreadableEntry { seq, what: "row" }),
            })
            .collect())
    }

    /// Entries matching `filter`, oldest first, at most `limit` after `after_seq`.
    pub async fn audit_entries(
        &self,
        filter: &AuditFilter,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        const SQL: &str = "SELECT seq, entry_id, at, user_id, facility_id, profession, action, \
             person_id, items, consent_state, access_method, outcome, request_id, client_addr, \
             prev_hash, hash FROM audit_log \
             WHERE seq > $1 AND ($2 IS NULL OR at >= $2) AND ($3 IS NULL OR at < $3) \
             AND ($4 IS NULL OR person_id = $4) AND ($5 IS NULL OR user_id = $5) \
             ORDER BY seq LIMIT $6";
        let rows: Vec<AuditRow> = with_pool!(self, pool => {
            sqlx::query_as(SQL)
                .bind(after_seq)
                .bind(filter.from)
                .bind(filter.to)
                .bind(filter.person.map(|p| p.as_uuid()))
                .bind(filter.user.map(|u| u.as_uuid()))
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(AuditRow::into_domain).collect()
    }

    pub async fn insert_checkpoint(&self, cp: &Checkpoint) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(cp.seq)
            .bind(cp.hash.to_hex())
            .bind(cp.signed_at)
            .bind(&cp.key_id)
            .bind(&cp.signature)
            .execute(pool)
            .await
            .map_err(crate::duplicate_as("checkpoint"))?;
        });
        Ok(())
    }

    pub async fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let rows: Vec<(i64, String, OffsetDateTime, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT seq, hash, signed_at, key_id, signature FROM audit_checkpoints ORDER BY seq",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(seq, hash, signed_at, key_id, signature)| {
                Ok(Checkpoint {
                    seq,
                    hash: crate::parse_hash(&hash)?,
                    signed_at,
                    key_id,
                    signature,
                })
            })
            .collect()
    }

    /// The newest checkpoint's position, if any.
    pub async fn last_checkpoint_seq(&self) -> Result<Option<i64>> {
        let seq: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(seq) FROM audit_checkpoints").fetch_one(pool).await?
        });
        Ok(seq)
    }
}
