//! Storage conformance suite: the same stories against SQLite (always) and PostgreSQL (when
//! `RENKEI_TEST_PG_URL` is set, as the test command does).
//!
//! Why this exists: the two backends differ in types (BLOB vs UUID, text vs TIMESTAMPTZ) and in
//! locking; a query that works on one can silently misbehave on the other. Every storage
//! behaviour the application relies on is written down here once and run on both.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod audit;
mod records;
mod residents;
mod users;

use renkei_domain::audit::{AuditAction, AuditEvent};
use renkei_domain::{Facility, FacilityCode, FacilityId, FacilityKind};
use renkei_store::Store;
use time::OffsetDateTime;
use time::macros::date;

/// One fresh, migrated store per backend under test.
pub async fn backends() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("renkei.db").display());
    let mut out = vec![(Store::connect(&url).await.unwrap(), Some(dir))];
    if let Ok(pg) = std::env::var("RENKEI_TEST_PG_URL") {
        out.push((
            Store::connect(&fresh_pg_database(&pg).await).await.unwrap(),
            None,
        ));
    }
    out
}

/// Create an empty database on the test cluster and return its URL.
async fn fresh_pg_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("renkei_t_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{name}{query}")
}

pub fn facility(nine: &str, kind: FacilityKind) -> Facility {
    Facility {
        id: FacilityId::new(),
        code: FacilityCode::with_check_digit(nine).unwrap(),
        name: format!("テスト施設{nine}"),
        kind,
        joined_on: date!(2024 - 04 - 01),
        withdrawn_on: None,
    }
}

pub fn event(action: AuditAction) -> AuditEvent {
    AuditEvent::new(action, OffsetDateTime::now_utc())
}

pub async fn add_facility(store: &Store, nine: &str, kind: FacilityKind) -> Facility {
    let f = facility(nine, kind);
    store
        .insert_facility(&f, event(AuditAction::AdminChange))
        .await
        .unwrap();
    f
}
