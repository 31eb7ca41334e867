//! Facilities (参加施設): the network office's master list.

use crate::audit::append_in_tx;
use crate::rows::FacilityRow;
use crate::{Result, Store, StoreError, in_tx, with_pool};
use renkei_domain::audit::{AuditEntry, AuditEvent};
use renkei_domain::{Facility, FacilityId};
use time::{Date, OffsetDateTime};

impl Store {
    /// Add a facility and its audit entry together.
    pub async fn insert_facility(&self, f: &Facility, audit: AuditEvent) -> Result<AuditEntry> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO facilities (facility_id, code, name, kind, joined_on, withdrawn_on, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(f.id.as_uuid())
            .bind(f.code.as_str())
            .bind(&f.name)
            .bind(f.kind.as_str())
            .bind(f.joined_on)
            .bind(f.withdrawn_on)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(crate::duplicate_as("facility code"))?;
            append_in_tx!(tx, audit)
        })
    }

    /// Every facility, by code.
    pub async fn facilities(&self) -> Result<Vec<Facility>> {
        const SQL: &str = "SELECT facility_id, code, name, kind, joined_on, withdrawn_on \
                           FROM facilities ORDER BY code";
        let rows: Vec<FacilityRow> =
            with_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
        rows.into_iter().map(FacilityRow::into_domain).collect()
    }

    pub async fn facility(&self, id: FacilityId) -> Result<Option<Facility>> {
        const SQL: &str = "SELECT facility_id, code, name, kind, joined_on, withdrawn_on \
                           FROM facilities WHERE facility_id = $1";
        let row: Option<FacilityRow> = with_pool!(self, pool => {
            sqlx::query_as(SQL).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        row.map(FacilityRow::into_domain).transpose()
    }

    pub async fn facility_by_code(&self, code: &str) -> Result<Option<Facility>> {
        const SQL: &str = "SELECT facility_id, code, name, kind, joined_on, withdrawn_on \
                           FROM facilities WHERE code = $1";
        let row: Option<FacilityRow> = with_pool!(self, pool => {
            sqlx::query_as(SQL).bind(code).fetch_optional(pool).await?
        });
        row.map(FacilityRow::into_domain).transpose()
    }

    /// 脱退: from `on`, the facility neither sees nor provides records.
    pub async fn withdraw_facility(
        &self,
        id: FacilityId,
        on: Date,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        in_tx!(self, tx => {
            let done = sqlx::query(
                "UPDATE facilities SET withdrawn_on = $2 WHERE facility_id = $1 AND withdrawn_on IS NULL",
            )
            .bind(id.as_uuid())
            .bind(on)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::Conflict("facility missing or already withdrawn"));
            }
            append_in_tx!(tx, audit)
        })
    }
}

impl Store {
    /// Record a new upload credential for a facility (its token's digest only).
    pub async fn insert_facility_credential(
        &self,
        id: uuid::Uuid,
        facility: FacilityId,
        token_hash: &str,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO facility_credentials (credential_id, facility_id, token_hash, created_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, NULL)",
            )
            .bind(id)
            .bind(facility.as_uuid())
            .bind(token_hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            append_in_tx!(tx, audit)
        })
    }

    /// The facility and token digest of an unrevoked credential.
    pub async fn facility_credential(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<(FacilityId, String)>> {
        let row: Option<(uuid::Uuid, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT facility_id, token_hash FROM facility_credentials \
                 WHERE credential_id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(f, h)| (FacilityId::from_uuid(f), h)))
    }

    /// Revoke every credential of a facility (a leaked token, or the facility leaves).
    pub async fn revoke_facility_credentials(
        &self,
        facility: FacilityId,
        audit: AuditEvent,
    ) -> Result<u64> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let n = sqlx::query(
                "UPDATE facility_credentials SET revoked_at = $2 \
                 WHERE facility_id = $1 AND revoked_at IS NULL",
            )
            .bind(facility.as_uuid())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            append_in_tx!(tx, audit);
            n
        })
    }
}
