//! Renkei use cases: what a user, a clerk, the office or an operator can do, decided here and
//! nowhere else. The web and CLI crates only parse input, call these functions and render.
//!
//! Every function that reads patient data calls [`renkei_domain::authorize()`] and writes exactly
//! one audit entry; every change writes its audit entry in the same transaction.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod audit;
mod error;
pub mod facilities;
pub mod ingest;
pub mod mpi;
pub mod residents;
mod secrets;
pub mod view;

pub use accounts::{Actor, CreatedUser, LoginAttempt, LoginOutcome, NewUserRequest};
pub use audit::{AuditSigner, VerifyReport};
pub use error::AppError;
pub use renkei_store::{QuarantineStatus, Session, SessionStage, Store};

use renkei_domain::AccessMatrix;
use std::path::PathBuf;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

/// Settings the use cases need (the binary reads them from file and environment).
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Where keys and (for SQLite) the database live.
    pub data_dir: PathBuf,
    /// A session ends after this long without a request (default 30 min).
    pub idle_timeout: Duration,
    /// A session ends after this long in any case.
    pub absolute_timeout: Duration,
    /// Failed logins before the account locks.
    pub lockout_threshold: i32,
    pub lockout_duration: Duration,
    /// Sign an audit checkpoint after this many entries.
    pub checkpoint_every: i64,
    /// How long a break-the-glass grant lasts.
    pub break_glass_lifetime: Duration,
    /// Keep each viewed person's record heads in memory between pages (checked against the
    /// store at every page). Off, every page reads them; the bench measures both.
    pub keep_record_heads: bool,
}

impl AppConfig {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(12),
            lockout_threshold: 5,
            lockout_duration: Duration::minutes(15),
            checkpoint_every: 256,
            break_glass_lifetime: renkei_domain::BreakGlassGrant::DEFAULT_LIFETIME,
            keep_record_heads: true,
        }
    }
}

/// The application: a store, the audit signing key, the settings, and the 名寄せ index it
/// keeps in memory (see [`mpi`]).
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub signer: AuditSigner,
    pub config: AppConfig,
    mpi: std::sync::Arc<mpi::Kept>,
    heads: std::sync::Arc<view::HeadsCache>,
    facility_names: std::sync::Arc<std::sync::RwLock<std::sync::Arc<view::FacilityNames>>>,
    /// Seals TOTP secrets for the database.
    totp_box: std::sync::Arc<secrets::SecretBox>,
}

/// Japan has one time zone and no daylight saving; dates on forms are JST dates.
pub const JST: UtcOffset = match UtcOffset::from_hms(9, 0, 0) {
    Ok(o) => o,
    Err(_) => UtcOffset::UTC,
};

/// Today's date in Japan at `now`.
pub fn today_jst(now: OffsetDateTime) -> Date {
    now.to_offset(JST).date()
}

impl App {
    /// Open the application on a store; creates the audit key and the default access matrix
    /// on first use.
    pub async fn open(store: Store, config: AppConfig) -> Result<Self, AppError> {
        let signer = AuditSigner::load_or_create(&config.data_dir)?;
        let totp_box = std::sync::Arc::new(secrets::SecretBox::load_or_create(&config.data_dir)?);
        let app = Self {
            store,
            signer,
            config,
            mpi: std::sync::Arc::default(),
            heads: std::sync::Arc::default(),
            facility_names: std::sync::Arc::default(),
            totp_box,
        };
        if app.store.current_matrix().await?.is_none() {
            let mut ev = renkei_domain::AuditEvent::new(
                renkei_domain::AuditAction::PolicyChange,
                OffsetDateTime::now_utc(),
            );
            ev.items = vec!["access-matrix:v1".into()];
            match app
                .store
                .insert_matrix(&AccessMatrix::default_policy(), None, ev)
                .await
            {
                Ok(_) => {}
                // Another process starting at the same moment installed it first.
                Err(
                    renkei_store::StoreError::Conflict(_) | renkei_store::StoreError::Duplicate(_),
                ) if app.store.current_matrix().await?.is_some() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(app)
    }

    /// The matrix in force.
    pub async fn matrix(&self) -> Result<AccessMatrix, AppError> {
        Ok(self
            .store
            .current_matrix()
            .await?
            .unwrap_or_else(AccessMatrix::default_policy))
    }

    /// Append an audit event that accompanies no other change, and checkpoint when due.
    pub async fn audit(
        &self,
        event: renkei_domain::AuditEvent,
    ) -> Result<renkei_domain::AuditEntry, AppError> {
        let entry = self.store.append_audit(event).await?;
        self.after_append(entry.seq).await;
        Ok(entry)
    }

    /// Called after any write that appended to the audit log.
    pub(crate) async fn after_append(&self, seq: i64) {
        if seq % self.config.checkpoint_every == 0
            && let Err(e) = self.signer.checkpoint(&self.store).await
        {
            tracing::warn!(error = %e, "audit checkpoint failed");
        }
    }
}

impl App {
    /// The council's new access matrix (アクセス権限表) becomes the next version. Only the
    /// network office (or the operator's CLI, `by = None`) may change it; every change is
    /// audited and the old versions stay.
    pub async fn set_matrix(
        &self,
        by: Option<&Actor>,
        mut matrix: AccessMatrix,
    ) -> Result<AccessMatrix, AppError> {
        if let Some(actor) = by {
            actor.require(renkei_domain::Role::NetworkOffice)?;
        }
        let current = self.matrix().await?;
        matrix.version = current.version.saturating_add(1);
        let now = OffsetDateTime::now_utc();
        let mut ev = crate::Actor::event_by(by, renkei_domain::AuditAction::PolicyChange, now);
        ev.items = vec![format!("access-matrix:v{}", matrix.version)];
        let entry = self
            .store
            .insert_matrix(&matrix, by.map(|a| a.user.id), ev)
            .await?;
        self.after_append(entry.seq).await;
        Ok(matrix)
    }
}
