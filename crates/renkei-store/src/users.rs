//! User accounts, credentials, recovery codes and login sessions.

use crate::audit::append_in_tx;
use crate::rows::{SessionRow, UserRow};
use crate::{Result, Store, StoreError, in_tx, with_pool};
use renkei_domain::audit::{AuditEntry, AuditEvent};
use renkei_domain::{FacilityId, User, UserId};
use time::OffsetDateTime;

/// A user with the credential state the login flow needs.
#[derive(Clone, Debug)]
pub struct UserAccount {
    pub user: User,
    /// argon2id PHC string.
    pub password_hash: String,
    pub must_change_password: bool,
    /// Base32 TOTP secret.
    pub totp_secret: Option<String>,
    pub totp_confirmed: bool,
    pub failed_logins: i32,
    pub locked_until: Option<OffsetDateTime>,
}

/// A user to create.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub user: User,
    pub password_hash: String,
    pub must_change_password: bool,
    pub totp_secret: Option<String>,
    pub totp_confirmed: bool,
    /// Hashes of one-time recovery codes (with a TOTP secret enrolled at creation).
    pub recovery_code_hashes: Vec<String>,
}

/// What a session may do yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionStage {
    /// Fully signed in with password and TOTP.
    Full,
    /// Password accepted; the user must enrol a TOTP authenticator before anything else.
    EnrolTotp,
    /// Signed in with an initial or reset password that must be replaced first.
    ChangePassword,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::EnrolTotp => "enrol-totp",
            Self::ChangePassword => "change-password",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "full" => Some(Self::Full),
            "enrol-totp" => Some(Self::EnrolTotp),
            "change-password" => Some(Self::ChangePassword),
            _ => None,
        }
    }
}

/// A login session. Only the SHA-256 of the cookie token is stored.
#[derive(Clone, Debug)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub stage: SessionStage,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
}

fn roles_str(user: &User) -> String {
    user.roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl Store {
    pub async fn insert_user(&self, u: &NewUser, audit: AuditEvent) -> Result<AuditEntry> {
        let now = OffsetDateTime::now_utc();
        in_tx!(self, tx => {
            sqlx::query(
                "INSERT INTO users (user_id, facility_id, login, display_name, profession, roles, \
                 active, password_hash, must_change_password, totp_secret, totp_confirmed, \
                 failed_logins, locked_until, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, NULL, $12)",
            )
            .bind(u.user.id.as_uuid())
            .bind(u.user.facility_id.as_uuid())
            .bind(u.user.login.as_str())
            .bind(&u.user.display_name)
            .bind(u.user.profession.as_str())
            .bind(roles_str(&u.user))
            .bind(u.user.active)
            .bind(&u.password_hash)
            .bind(u.must_change_password)
            .bind(u.totp_secret.as_deref())
            .bind(u.totp_confirmed)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(crate::duplicate_as("login name"))?;
            for h in &u.recovery_code_hashes {
                sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                    .bind(u.user.id.as_uuid())
                    .bind(h)
                    .execute(&mut *tx)
                    .await?;
            }
            append_in_tx!(tx, audit)
        })
    }

    pub async fn user_account(
        &self,
        facility: FacilityId,
        login: &str,
    ) -> Result<Option<UserAccount>> {
        let sql = const_str::WHERE_LOGIN;
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(sql).bind(facility.as_uuid()).bind(login).fetch_optional(pool).await?
        });
        row.map(UserRow::into_domain).transpose()
    }

    pub async fn user_account_by_id(&self, id: UserId) -> Result<Option<UserAccount>> {
        let row: Option<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(const_str::WHERE_ID).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        row.map(UserRow::into_domain).transpose()
    }

    pub async fn users_of_facility(&self, facility: FacilityId) -> Result<Vec<UserAccount>> {
        let rows: Vec<UserRow> = with_pool!(self, pool => {
            sqlx::query_as(const_str::WHERE_FACILITY).bind(facility.as_uuid()).fetch_all(pool).await?
        });
        rows.into_iter().map(UserRow::into_domain).collect()
    }

    /// Set a new password (and whether it must be changed at next login); unlocks the account.
    pub async fn set_password(
        &self,
        user: UserId,
        password_hash: &str,
        must_change: bool,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        in_tx!(self, tx => {
            let done = sqlx::query(
                "UPDATE users SET password_hash = $2, must_change_password = $3, failed_logins = 0, \
                 locked_until = NULL WHERE user_id = $1",
            )
            .bind(user.as_uuid())
            .bind(password_hash)
            .bind(must_change)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::NotFound("user"));
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user.as_uuid())
                .execute(&mut *tx)
                .await?;
            append_in_tx!(tx, audit)
        })
    }

    /// The user's own password change: the new hash, no forced change any more, every other
    /// session ended, and this session moved on to `next_stage`.
    pub async fn change_own_password(
        &self,
        user: UserId,
        password_hash: &str,
        session_token_hash: &str,
        next_stage: SessionStage,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        in_tx!(self, tx => {
            sqlx::query(
                "UPDATE users SET password_hash = $2, must_change_password = FALSE WHERE user_id = $1",
            )
            .bind(user.as_uuid())
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
                .bind(user.as_uuid())
                .bind(session_token_hash)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE sessions SET stage = $2 WHERE token_hash = $1")
                .bind(session_token_hash)
                .bind(next_stage.as_str())
                .execute(&mut *tx)
                .await?;
            append_in_tx!(tx, audit)
        })
    }

    /// Count a failed login atomically (parallel guesses cannot overwrite each other) and
    /// lock the account for `lock_for` once `threshold` failures are reached. A lock that has
    /// expired starts the count afresh. Returns the lock's end, if locked now.
    pub async fn record_failed_login(
        &self,
        user: Option<UserId>,
        now: OffsetDateTime,
        threshold: i32,
        lock_for: time::Duration,
        audit: AuditEvent,
    ) -> Result<(AuditEntry, Option<OffsetDateTime>)> {
        in_tx!(self, tx => {
            let mut locked = None;
            if let Some(user) = user {
                // The increment is the transaction's first statement: it takes the write lock.
                let (mut failed, until): (i32, Option<OffsetDateTime>) = sqlx::query_as(
                    "UPDATE users SET failed_logins = failed_logins + 1 WHERE user_id = $1 \
                     RETURNING failed_logins, locked_until",
                )
                .bind(user.as_uuid())
                .fetch_one(&mut *tx)
                .await?;
                if until.is_some_and(|t| t <= now) {
                    failed = 1;
                    sqlx::query("UPDATE users SET failed_logins = 1, locked_until = NULL WHERE user_id = $1")
                        .bind(user.as_uuid())
                        .execute(&mut *tx)
                        .await?;
                }
                if failed >= threshold {
                    let until = now + lock_for;
                    sqlx::query("UPDATE users SET locked_until = $2 WHERE user_id = $1")
                        .bind(user.as_uuid())
                        .bind(until)
                        .execute(&mut *tx)
                        .await?;
                    locked = Some(until);
                }
            }
            (append_in_tx!(tx, audit), locked)
        })
    }

    /// Start a session after a successful login; resets the failure count.
    pub async fn start_session(&self, s: &Session, audit: AuditEvent) -> Result<AuditEntry> {
        in_tx!(self, tx => {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE user_id = $1")
                .bind(s.user_id.as_uuid())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, stage, created_at, last_seen_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&s.token_hash)
            .bind(s.user_id.as_uuid())
            .bind(&s.csrf_token)
            .bind(s.stage.as_str())
            .bind(s.created_at)
            .bind(s.last_seen_at)
            .execute(&mut *tx)
            .await?;
            append_in_tx!(tx, audit)
        })
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row: Option<SessionRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT token_hash, user_id, csrf_token, stage, created_at, last_seen_at \
                 FROM sessions WHERE token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await?
        });
        row.map(SessionRow::into_domain).transpose()
    }

    /// A session with its user and the user's facility, in one read: every page starts here.
    pub async fn session_with_account(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Session, UserAccount, renkei_domain::Facility)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            session: SessionRow,
            #[sqlx(flatten)]
            user: UserRow,
            #[sqlx(flatten)]
            facility: crate::rows::FacilityRow,
        }
        // Joined columns that both sides carry (user_id, facility_id) are read once.
        const SQL: &str = "SELECT s.token_hash, s.user_id, s.csrf_token, s.stage, s.created_at, \
             s.last_seen_at, u.facility_id, u.login, u.display_name, u.profession, u.roles, \
             u.active, u.password_hash, u.must_change_password, u.totp_secret, \
             u.totp_confirmed, u.failed_logins, u.locked_until, f.code, f.name, f.kind, \
             f.joined_on, f.withdrawn_on FROM sessions s \
             JOIN users u ON u.user_id = s.user_id \
             JOIN facilities f ON f.facility_id = u.facility_id WHERE s.token_hash = $1";
        let row: Option<Row> = with_pool!(self, pool => {
            sqlx::query_as(SQL).bind(token_hash).fetch_optional(pool).await?
        });
        row.map(|r| {
            Ok((
                r.session.into_domain()?,
                r.user.into_domain()?,
                r.facility.into_domain()?,
            ))
        })
        .transpose()
    }

    pub async fn touch_session(&self, token_hash: &str, now: OffsetDateTime) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(token_hash)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Store a (new) TOTP secret; when `confirmed`, replace the recovery codes and promote the
    /// session that did the enrolment.
    pub async fn set_totp(
        &self,
        user: UserId,
        secret: &str,
        confirmed: bool,
        recovery_code_hashes: &[String],
        promote_session: Option<&str>,
        audit: Option<AuditEvent>,
    ) -> Result<()> {
        in_tx!(self, tx => {
            sqlx::query("UPDATE users SET totp_secret = $2, totp_confirmed = $3 WHERE user_id = $1")
                .bind(user.as_uuid())
                .bind(secret)
                .bind(confirmed)
                .execute(&mut *tx)
                .await?;
            if confirmed {
                sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
                    .bind(user.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                for h in recovery_code_hashes {
                    sqlx::query("INSERT INTO recovery_codes (user_id, code_hash, used_at) VALUES ($1, $2, NULL)")
                        .bind(user.as_uuid())
                        .bind(h)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            if let Some(token_hash) = promote_session {
                sqlx::query("UPDATE sessions SET stage = 'full' WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(audit) = audit {
                append_in_tx!(tx, audit);
            }
        })
    }

    /// Record that a TOTP code of time step `step` was used: true if no code of this or a later
    /// step was accepted before (so a code cannot be replayed).
    pub async fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE users SET totp_last_step = $2 \
                 WHERE user_id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
            )
            .bind(user.as_uuid())
            .bind(step)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Spend a recovery code: true if it existed and was unused.
    pub async fn use_recovery_code(
        &self,
        user: UserId,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE recovery_codes SET used_at = $3 \
                 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
            )
            .bind(user.as_uuid())
            .bind(code_hash)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done == 1)
    }

    /// Enable or disable an account; disabling ends its sessions.
    pub async fn set_user_active(
        &self,
        user: UserId,
        active: bool,
        audit: AuditEvent,
    ) -> Result<AuditEntry> {
        in_tx!(self, tx => {
            sqlx::query("UPDATE users SET active = $2 WHERE user_id = $1")
                .bind(user.as_uuid())
                .bind(active)
                .execute(&mut *tx)
                .await?;
            if !active {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user.as_uuid())
                    .execute(&mut *tx)
                    .await?;
            }
            append_in_tx!(tx, audit)
        })
    }
}

mod const_str {
    pub(super) const WHERE_LOGIN: &str = "SELECT user_id, facility_id, login, display_name, \
         profession, roles, active, password_hash, must_change_password, totp_secret, \
         totp_confirmed, failed_logins, locked_until FROM users WHERE facility_id = $1 AND login = $2";
    pub(super) const WHERE_ID: &str = "SELECT user_id, facility_id, login, display_name, \
         profession, roles, active, password_hash, must_change_password, totp_secret, \
         totp_confirmed, failed_logins, locked_until FROM users WHERE user_id = $1";
    pub(super) const WHERE_FACILITY: &str = "SELECT user_id, facility_id, login, display_name, \
         profession, roles, active, password_hash, must_change_password, totp_secret, \
         totp_confirmed, failed_logins, locked_until FROM users WHERE facility_id = $1 ORDER BY login";
}
