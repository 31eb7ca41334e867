//! The council's access matrix, versioned: every edit is a new row, the highest version rules.

use crate::audit::append_in_tx;
use crate::{Result, Store, StoreError, in_tx, with_pool};
use renkei_domain::AccessMatrix;
use renkei_domain::UserId;
use renkei_domain::audit::{AuditEntry, AuditEvent};
use sqlx::types::Json;
use time::OffsetDateTime;

impl Store {
    /// The matrix in force, if the network has one yet.
    pub async fn current_matrix(&self) -> Result<Option<AccessMatrix>> {
        let row: Option<Json<AccessMatrix>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT matrix FROM access_policies ORDER BY version DESC LIMIT 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|j| j.0))
    }

    /// Store a new version; it must be exactly one more than the current.
    pub async fn insert_matrix(
        &self,
        matrix: &AccessMatrix,
        created_by: Option<UserId>,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM access_policies")
                .fetch_one(&mut *tx)
                .await?;
            if i64::from(matrix.version) != current.unwrap_or(0) + 1 {
                return Err(StoreError::Conflict("access policy version is not the next one"));
            }
            sqlx::query(
                "INSERT INTO access_policies (version, matrix, created_at, created_by) VALUES ($1, $2, $3, $4)",
            )
            .bind(i64::from(matrix.version))
            .bind(Json(matrix))
            .bind(now)
            .bind(created_by.map(|u| u.as_uuid()))
            .execute(&mut *tx)
            .await
            .map_err(crate::duplicate_as("access policy version"))?;
            append_in_tx!(tx, audit)
        })
    }
}
