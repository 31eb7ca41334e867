//! Renkei storage: one [`Store`] over SQLite (the embedded default) and PostgreSQL (production).
//!
//! Both backends use their concrete sqlx driver (no `Any`): each method's body is written once and
//! type-checked against each driver by the `with_pool!`/`in_tx!` macros. SQL uses `$N`
//! placeholders, which both accept; only the DDL differs (`migrations/sqlite`,
//! `migrations/postgres`). Every write that must be audited takes its [`AuditEvent`] and appends
//! it in the same transaction, so a change and its audit entry land together or not at all.
#![forbid(unsafe_code)]

use renkei_domain::audit::ChainHash;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

mod audit;
mod facilities;
mod mpi;
mod policy;
mod records;
mod residents;
mod rows;
mod users;

pub use audit::{AuditFilter, Checkpoint};
pub use mpi::{ArrivedDemographicsRow, MatchResult, Merge, Moved};
pub use records::{
    GroupWrite, GroupWriteMode, NewProvision, NewQuarantine, QuarantineStatus, Quarantined,
};
pub use residents::{AccessFacts, NewResident, ResidentSummary};
pub use users::{NewUser, Session, SessionStage, UserAccount};

/// Storage failures a caller can act on. Messages never contain patient data.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL: use sqlite://PATH or postgres://…")]
    UnsupportedUrl,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("conflicting change: {0}")]
    Conflict(&'static str),
    #[error("stored {0} could not be read back")]
    Corrupt(&'static str),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The storage backend, chosen by URL.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Run `$body` with `$pool` bound to the concrete pool of whichever backend this is.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite($pool) => $body,
            $crate::Store::Postgres($pool) => $body,
        }
    };
}

/// Run `$body` in a transaction on whichever backend this is; commit if it returns `Ok`.
macro_rules! in_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match $store {
            $crate::Store::Sqlite(pool) => {
                // Every transaction here writes: take SQLite's write lock at BEGIN so that a
                // read-then-write transaction waits (busy timeout) instead of failing when
                // another writer got in between.
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
            $crate::Store::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
        }
    };
}

pub(crate) use {in_tx, with_pool};

/// WAL pages after which a committing connection checkpoints itself, should the background
/// checkpointer fall behind (16 KiB pages: 160 MiB).
const WAL_BACKSTOP_PAGES: u32 = 10_000;

/// How often the background checkpointer copies the WAL into the database. Under a steady
/// stream of writes (an import) a passive checkpoint never quite catches up, and what it
/// leaves is copied by the backstop inside some writer's commit; checking often keeps that
/// remainder small. bench ingest (60,000 messages), 500 → 100 ms: 18.4–20.1k → 19.9–21.2k
/// messages/s. An idle check only reads the WAL header.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Copy the WAL into the database file now and then, off every request's path, until the pool
/// closes. PASSIVE: it waits for no reader or writer and does what it can.
async fn checkpoint_wal(pool: sqlx::SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
            && !pool.is_closed()
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

impl Store {
    /// Connect by URL: `sqlite://PATH` (created if missing, WAL, busy timeout) or
    /// `postgres://…`. Runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                // 16 KiB pages for a new database (an existing one keeps its own): a record
                // is 1–3 KB of JSON, which on 4 KiB pages left a third of each page empty and
                // made each batch's commit write four times as many WAL frames.
                // bench ingest: 7,050 → 10,190 messages/s end to end.
                .page_size(16_384)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .pragma("cache_size", "-65536")
                .pragma("temp_store", "memory")
                // No memory map (mmap_size): it made storing alone about a fifth faster in bench
                // ingest, but cost the viewer 10–20% (bench view, 10,000 persons: p50 4.5–4.8 →
                // 5.2–5.3 ms, HTTP about 780 → 640 pages/s): each connection takes a page fault
                // on its first touch of every page, and a viewer's reads are scattered.
                // Checkpoints run in the background (below); this is only the backstop. Run by
                // the committing connection, a checkpoint copied the WAL and synced the file
                // inside whatever request committed: bench view's p99 went from 20 to 11 ms.
                .pragma("wal_autocheckpoint", WAL_BACKSTOP_PAGES.to_string());
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts)
                .await?;
            tokio::spawn(checkpoint_wal(pool.clone()));
            Store::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect(url)
                .await?;
            Store::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Store::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// `sqlite` or `postgres`, for logs and `--json` output.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

/// Map a unique-constraint violation to [`StoreError::Duplicate`].
pub(crate) fn duplicate_as(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(what),
        _ => StoreError::Database(e),
    }
}

pub(crate) fn parse_hash(s: &str) -> Result<ChainHash> {
    ChainHash::from_hex(s).ok_or(StoreError::Corrupt("audit hash"))
}
