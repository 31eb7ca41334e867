//! Accounts: passwords (argon2id), TOTP second factor with recovery codes, login with lockout,
//! sessions with idle timeout, and user administration.

use crate::secrets::{digest, random_bytes, readable, token};
use crate::{App, AppError, today_jst};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use renkei_domain::audit::{AuditAction, AuditEvent, AuditOutcome};
use renkei_domain::{Facility, LoginName, Profession, Role, User, UserId};
use renkei_store::{NewUser, Session, SessionStage, UserAccount};
use time::OffsetDateTime;
use totp_rs::{Algorithm, Secret, TOTP};

/// The signed-in user as every use case sees them.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user: User,
    pub facility: Facility,
    pub client_addr: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    /// An audit event for this actor, at `now`.
    pub fn event(&self, action: AuditAction, now: OffsetDateTime) -> AuditEvent {
        let mut ev = AuditEvent::new(action, now);
        ev.user_id = Some(self.user.id);
        ev.facility_id = Some(self.facility.id);
        ev.profession = Some(self.user.profession);
        ev.client_addr = self.client_addr.clone();
        ev.request_id = self.request_id.clone();
        ev
    }

    /// An audit event for `by`, or for the operator's CLI when `None`.
    pub fn event_by(by: Option<&Actor>, action: AuditAction, now: OffsetDateTime) -> AuditEvent {
        match by {
            Some(a) => a.event(action, now),
            None => AuditEvent::new(action, now),
        }
    }

    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.user.has_role(role) {
            Ok(())
        } else {
            Err(AppError::RoleRequired(role.as_str()))
        }
    }

    pub fn require_any(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.iter().any(|r| self.user.has_role(*r)) {
            Ok(())
        } else {
            Err(AppError::RoleRequired(
                roles.first().map(|r| r.as_str()).unwrap_or("?"),
            ))
        }
    }
}

/// What a login form or `POST /api/v1/login` supplies.
#[derive(Clone, Debug)]
pub struct LoginAttempt {
    pub facility_code: String,
    pub login: String,
    pub password: String,
    /// A 6-digit TOTP code, or a recovery code.
    pub second_factor: String,
    pub client_addr: Option<String>,
}

/// A successful login.
#[derive(Clone, Debug)]
pub struct LoginOutcome {
    /// The cookie value; only its digest is stored.
    pub token: String,
    pub session: Session,
}

/// Why a login failed. Deliberately vague towards the user: no hint whether the facility,
/// the login name or the password was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginError {
    #[error("wrong facility, login name, password or one-time code")]
    BadCredentials,
    #[error("account locked until {0}")]
    Locked(OffsetDateTime),
    #[error("storage failure")]
    Internal,
}

impl LoginError {
    pub fn message_ja(&self) -> String {
        match self {
            Self::BadCredentials => {
                "施設コード、ログインID、パスワードまたはワンタイムコードが正しくありません。"
                    .into()
            }
            Self::Locked(until) => {
                let t = until.to_offset(crate::JST);
                format!(
                    "ログインに続けて失敗したため、アカウントを{:02}:{:02}までロックしています。",
                    t.hour(),
                    t.minute()
                )
            }
            Self::Internal => "システムエラーが発生しました。".into(),
        }
    }
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadCredentials => "bad-credentials",
            Self::Locked(_) => "account-locked",
            Self::Internal => "internal",
        }
    }
}

impl From<renkei_store::StoreError> for LoginError {
    fn from(e: renkei_store::StoreError) -> Self {
        tracing::error!(error = %e, "login: storage failure");
        Self::Internal
    }
}

/// A user to create (CLI or facility admin).
#[derive(Clone, Debug)]
pub struct NewUserRequest {
    pub facility_code: String,
    pub login: String,
    pub display_name: String,
    pub profession: Profession,
    pub roles: Vec<Role>,
    /// Enrol TOTP now (CLI: the secret is printed once) or at first login (web).
    pub enrol_totp_now: bool,
}

/// A created user with the secrets shown exactly once.
#[derive(Clone, Debug)]
pub struct CreatedUser {
    pub user: User,
    pub facility: Facility,
    pub initial_password: String,
    /// Base32 TOTP secret, when enrolled at creation.
    pub totp_secret: Option<String>,
    /// One-time recovery codes, shown once, when enrolled at creation.
    pub recovery_codes: Vec<String>,
}

/// Session lookup results the web layer distinguishes.
#[derive(Clone, Debug)]
pub enum SessionState {
    Valid(Box<(Actor, Session)>),
    /// Idle too long or past its lifetime: the user must sign in again.
    Expired,
    Missing,
}

pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|_| AppError::Hashing)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AppError::Hashing)
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid argon2id hash of a random value, verified against when the account does not exist
/// so that a wrong login name costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8cS2Y4hO0nZ0sQyq5mR3j1l7c6t0pUe0v0o5x2Xb3Gg"
}

/// The TOTP generator for a base32 secret (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step).
pub fn totp(secret_b32: &str, account: &str) -> Result<TOTP, AppError> {
    let bytes = Secret::Encoded(secret_b32.to_owned())
        .to_bytes()
        .map_err(|_| AppError::Key("TOTP secret is not base32".into()))?;
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Renkei".to_owned()),
        account.to_owned(),
    )
    .map_err(|e| AppError::Key(e.to_string()))
}

pub fn new_totp_secret() -> Result<String, AppError> {
    Ok(Secret::Raw(random_bytes::<20>()?.to_vec())
        .to_encoded()
        .to_string())
}

/// The time step (RFC 6238, 30 s) whose code `code` is, within one step of `now`.
fn totp_step(secret: &str, code: &str, now: OffsetDateTime) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 {
        return None;
    }
    let t = totp(secret, "x").ok()?;
    let step = now.unix_timestamp().max(0) / 30;
    [step, step - 1, step + 1].into_iter().find(|s| {
        let at = u64::try_from(s * 30).unwrap_or(0);
        subtle::ConstantTimeEq::ct_eq(t.generate(at).as_bytes(), code.as_bytes()).into()
    })
}

fn totp_ok(secret: &str, code: &str, now: OffsetDateTime) -> bool {
    totp_step(secret, code, now).is_some()
}

fn account_label(facility: &Facility, login: &str) -> String {
    // The otpauth label may not contain a colon.
    format!("{login}@{}", facility.code)
}

impl App {
    /// Password + second factor. Failures count towards a lockout and are audited.
    pub async fn login(&self, attempt: &LoginAttempt) -> Result<LoginOutcome, LoginError> {
        let now = OffsetDateTime::now_utc();
        let facility = self
            .store
            .facility_by_code(attempt.facility_code.trim())
            .await?;
        let account = match (&facility, LoginName::parse(&attempt.login)) {
            (Some(f), Ok(login)) => self.store.user_account(f.id, login.as_str()).await?,
            _ => None,
        };
        let (Some(facility), Some(account)) = (facility, account) else {
            verify_password(&attempt.password, dummy_hash());
            let mut ev = AuditEvent::new(AuditAction::LoginFailed, now);
            ev.outcome = AuditOutcome::Denied("unknown-account".into());
            ev.client_addr = attempt.client_addr.clone();
            let (entry, _) = self
                .store
                .record_failed_login(None, now, 0, self.config.lockout_duration, ev)
                .await?;
            self.after_append(entry.seq).await;
            return Err(LoginError::BadCredentials);
        };
        let actor = Actor {
            user: account.user.clone(),
            facility: facility.clone(),
            client_addr: attempt.client_addr.clone(),
            request_id: None,
        };
        if let Some(until) = account.locked_until
            && until > now
        {
            let mut ev = actor.event(AuditAction::LoginFailed, now);
            ev.outcome = AuditOutcome::Denied("account-locked".into());
            self.audit(ev).await.map_err(|_| LoginError::Internal)?;
            return Err(LoginError::Locked(until));
        }
        let password_ok = verify_password(&attempt.password, &account.password_hash);
        let factor_ok = password_ok
            && self
                .second_factor_ok(&account, &attempt.second_factor, now)
                .await?;
        let usable = account.user.active && facility.is_active_on(today_jst(now));
        if !(password_ok && factor_ok && usable) {
            let mut ev = actor.event(AuditAction::LoginFailed, now);
            ev.outcome = AuditOutcome::Denied(
                if !password_ok {
                    "bad-password"
                } else if !factor_ok {
                    "bad-second-factor"
                } else {
                    "account-inactive"
                }
                .into(),
            );
            let (entry, locked) = self
                .store
                .record_failed_login(
                    Some(account.user.id),
                    now,
                    self.config.lockout_threshold,
                    self.config.lockout_duration,
                    ev,
                )
                .await?;
            self.after_append(entry.seq).await;
            return Err(match locked {
                Some(until) => LoginError::Locked(until),
                None => LoginError::BadCredentials,
            });
        }
        let token = token().map_err(|_| LoginError::Internal)?;
        let session = Session {
            token_hash: digest(&token),
            user_id: account.user.id,
            csrf_token: crate::secrets::token().map_err(|_| LoginError::Internal)?,
            stage: if account.must_change_password {
                SessionStage::ChangePassword
            } else if account.totp_confirmed {
                SessionStage::Full
            } else {
                SessionStage::EnrolTotp
            },
            created_at: renkei_domain::to_micros(now),
            last_seen_at: renkei_domain::to_micros(now),
        };
        let entry = self
            .store
            .start_session(&session, actor.event(AuditAction::Login, now))
            .await?;
        self.after_append(entry.seq).await;
        Ok(LoginOutcome { token, session })
    }

    /// TOTP (when enrolled) or a one-time recovery code. Accounts without TOTP yet pass here
    /// and are sent to enrolment by their session stage.
    async fn second_factor_ok(
        &self,
        account: &UserAccount,
        given: &str,
        now: OffsetDateTime,
    ) -> Result<bool, LoginError> {
        match (&account.totp_secret, account.totp_confirmed) {
            (Some(stored), true) => {
                // A secret that does not open (the key was lost or replaced) fails the code;
                // recovery codes still work.
                let secret = match self.totp_box.open(account.user.id, stored) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        tracing::error!(error = %e, "login: a TOTP secret does not open");
                        None
                    }
                };
                if let Some(step) = secret.and_then(|s| totp_step(&s, given, now)) {
                    // A code is good once: a replayed (or older) step is refused.
                    return Ok(self.store.use_totp_step(account.user.id, step).await?);
                }
                let code = normalise_recovery_code(given);
                if code.len() == 10 {
                    return Ok(self
                        .store
                        .use_recovery_code(account.user.id, &digest(&code), now)
                        .await?);
                }
                Ok(false)
            }
            _ => Ok(true),
        }
    }

    /// The session behind a cookie token, enforcing idle and absolute timeouts.
    pub async fn session(
        &self,
        token: &str,
        client_addr: Option<String>,
    ) -> Result<SessionState, AppError> {
        let now = OffsetDateTime::now_utc();
        let hash = digest(token);
        let Some((session, account, facility)) = self.store.session_with_account(&hash).await?
        else {
            return Ok(SessionState::Missing);
        };
        if now - session.last_seen_at > self.config.idle_timeout
            || now - session.created_at > self.config.absolute_timeout
        {
            self.store.delete_session(&hash).await?;
            return Ok(SessionState::Expired);
        }
        if !account.user.active || !facility.is_active_on(today_jst(now)) {
            self.store.delete_session(&hash).await?;
            return Ok(SessionState::Expired);
        }
        // Write the idle clock at most once a minute: a page view should not always write.
        if now - session.last_seen_at > time::Duration::minutes(1) {
            self.store.touch_session(&hash, now).await?;
        }
        Ok(SessionState::Valid(Box::new((
            Actor {
                user: account.user,
                facility,
                client_addr,
                request_id: None,
            },
            session,
        ))))
    }

    pub async fn logout(&self, actor: &Actor, token: &str) -> Result<(), AppError> {
        self.store.delete_session(&digest(token)).await?;
        self.audit(actor.event(AuditAction::Logout, OffsetDateTime::now_utc()))
            .await?;
        Ok(())
    }

    /// Create a user with a random initial password. `by` is `None` for the operator's CLI.
    pub async fn create_user(
        &self,
        by: Option<&Actor>,
        req: &NewUserRequest,
    ) -> Result<CreatedUser, AppError> {
        let now = OffsetDateTime::now_utc();
        let facility = self
            .store
            .facility_by_code(req.facility_code.trim())
            .await?
            .ok_or(AppError::NotFound("facility"))?;
        if let Some(actor) = by {
            // Facility admins manage their own facility's users; the office manages any.
            let own = actor.facility.id == facility.id && actor.user.has_role(Role::FacilityAdmin);
            if !own && !actor.user.has_role(Role::NetworkOffice) {
                return Err(AppError::RoleRequired("facility-admin"));
            }
            if req.roles.contains(&Role::NetworkOffice) && !actor.user.has_role(Role::NetworkOffice)
            {
                return Err(AppError::RoleRequired("network-office"));
            }
        }
        let login = LoginName::parse(&req.login).map_err(|_| AppError::Invalid {
            field: "login",
            message_ja: "ログインIDは英小文字・数字・「.」「_」「-」の3〜32文字で入力してください。",
        })?;
        let display_name = req.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 60 {
            return Err(AppError::Invalid {
                field: "display_name",
                message_ja: "氏名を60文字以内で入力してください。",
            });
        }
        if req.roles.is_empty() {
            return Err(AppError::Invalid {
                field: "roles",
                message_ja: "役割を1つ以上選んでください。",
            });
        }
        let password = readable(16)?;
        // Enrolled now (the operator hands the secret over), the user gets recovery codes now
        // too: there will be no enrolment page to show them on.
        let (totp_secret, (recovery_codes, recovery_code_hashes)) = if req.enrol_totp_now {
            (Some(new_totp_secret()?), new_recovery_codes()?)
        } else {
            (None, (Vec::new(), Vec::new()))
        };
        let user = User {
            id: UserId::new(),
            facility_id: facility.id,
            login,
            display_name: display_name.to_owned(),
            profession: req.profession,
            roles: req.roles.clone(),
            active: true,
        };
        let mut ev = crate::Actor::event_by(by, AuditAction::AdminChange, now);
        ev.items = vec![format!("user-created:{}", user.id)];
        let entry = self
            .store
            .insert_user(
                &NewUser {
                    user: user.clone(),
                    password_hash: hash_password(&password)?,
                    // Someone else saw this password: its owner must replace it (the operator's
                    // CLI is trusted to hand it over in person).
                    must_change_password: by.is_some(),
                    totp_secret: totp_secret
                        .as_deref()
                        .map(|t| self.totp_box.seal(user.id, t))
                        .transpose()?,
                    totp_confirmed: totp_secret.is_some(),
                    recovery_code_hashes,
                },
                ev,
            )
            .await?;
        self.after_append(entry.seq).await;
        Ok(CreatedUser {
            user,
            facility,
            initial_password: password,
            totp_secret,
            recovery_codes,
        })
    }

    /// Give a user a new random password (and unlock the account); ends their sessions.
    pub async fn reset_password(
        &self,
        by: Option<&Actor>,
        facility_code: &str,
        login: &str,
    ) -> Result<(User, String), AppError> {
        let now = OffsetDateTime::now_utc();
        let facility = self
            .store
            .facility_by_code(facility_code.trim())
            .await?
            .ok_or(AppError::NotFound("facility"))?;
        let account = self
            .store
            .user_account(facility.id, login.trim())
            .await?
            .ok_or(AppError::NotFound("user"))?;
        if let Some(actor) = by {
            let own = actor.facility.id == facility.id && actor.user.has_role(Role::FacilityAdmin);
            if !own && !actor.user.has_role(Role::NetworkOffice) {
                return Err(AppError::RoleRequired("facility-admin"));
            }
            require_office_for_office_accounts(actor, &account.user)?;
        }
        let password = readable(16)?;
        let mut ev = crate::Actor::event_by(by, AuditAction::AdminChange, now);
        ev.items = vec![format!("password-reset:{}", account.user.id)];
        let entry = self
            .store
            .set_password(
                account.user.id,
                &hash_password(&password)?,
                by.is_some(),
                ev,
            )
            .await?;
        self.after_append(entry.seq).await;
        Ok((account.user, password))
    }

    /// Start TOTP enrolment: a fresh secret (unconfirmed) and its otpauth URL for the QR code.
    pub async fn begin_totp_enrolment(&self, actor: &Actor) -> Result<(String, String), AppError> {
        // Never replace an enrolled authenticator here: that would switch off the second factor.
        let account = self
            .store
            .user_account_by_id(actor.user.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        if account.totp_confirmed {
            return Err(AppError::Invalid {
                field: "totp",
                message_ja: "二要素認証はすでに登録されています。",
            });
        }
        let secret = new_totp_secret()?;
        self.store
            .set_totp(
                actor.user.id,
                &self.totp_box.seal(actor.user.id, &secret)?,
                false,
                &[],
                None,
                None,
            )
            .await?;
        let url = totp(
            &secret,
            &account_label(&actor.facility, actor.user.login.as_str()),
        )?
        .get_url();
        Ok((secret, url))
    }

    /// Confirm enrolment with a code from the authenticator; returns the recovery codes, shown
    /// once. The session becomes a full session.
    pub async fn confirm_totp_enrolment(
        &self,
        actor: &Actor,
        session: &Session,
        code: &str,
    ) -> Result<Vec<String>, AppError> {
        let now = OffsetDateTime::now_utc();
        let account = self
            .store
            .user_account_by_id(actor.user.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        let Some(stored) = account.totp_secret.filter(|_| !account.totp_confirmed) else {
            return Err(AppError::Invalid {
                field: "totp",
                message_ja: "二要素認証の登録を最初からやり直してください。",
            });
        };
        let secret = self.totp_box.open(actor.user.id, &stored)?;
        if !totp_ok(&secret, code, now) {
            return Err(AppError::Invalid {
                field: "totp",
                message_ja: "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください。",
            });
        }
        let (shown, hashes) = new_recovery_codes()?;
        self.store
            .set_totp(
                actor.user.id,
                &self.totp_box.seal(actor.user.id, &secret)?,
                true,
                &hashes,
                Some(&session.token_hash),
                Some(actor.event(AuditAction::TotpEnrolled, now)),
            )
            .await?;
        Ok(shown)
    }
}

/// The smallest password a user may choose.
pub const MIN_PASSWORD_CHARS: usize = 12;

impl App {
    /// The user replaces their password (forced after an initial or reset password).
    pub async fn change_password(
        &self,
        actor: &Actor,
        session: &Session,
        current: &str,
        new: &str,
        repeated: &str,
    ) -> Result<SessionStage, AppError> {
        let now = OffsetDateTime::now_utc();
        let account = self
            .store
            .user_account_by_id(actor.user.id)
            .await?
            .ok_or(AppError::NotFound("user"))?;
        if !verify_password(current, &account.password_hash) {
            return Err(AppError::Invalid {
                field: "current_password",
                message_ja: "現在のパスワードが正しくありません。",
            });
        }
        if new != repeated {
            return Err(AppError::Invalid {
                field: "new_password",
                message_ja: "新しいパスワードが確認用と一致しません。",
            });
        }
        if new.chars().count() < MIN_PASSWORD_CHARS || new.chars().count() > 128 {
            return Err(AppError::Invalid {
                field: "new_password",
                message_ja: "新しいパスワードは12文字以上128文字以内にしてください。",
            });
        }
        if new == current || new.to_lowercase().contains(actor.user.login.as_str()) {
            return Err(AppError::Invalid {
                field: "new_password",
                message_ja: "現在のパスワードやログインIDを含まないパスワードにしてください。",
            });
        }
        let next = match session.stage {
            SessionStage::ChangePassword if !account.totp_confirmed => SessionStage::EnrolTotp,
            SessionStage::EnrolTotp => SessionStage::EnrolTotp,
            _ => SessionStage::Full,
        };
        let mut ev = actor.event(AuditAction::AdminChange, now);
        ev.items = vec![format!("password-changed:{}", actor.user.id)];
        let entry = self
            .store
            .change_own_password(
                actor.user.id,
                &hash_password(new)?,
                &session.token_hash,
                next,
                ev,
            )
            .await?;
        self.after_append(entry.seq).await;
        Ok(next)
    }
}

/// Only the network office manages accounts that hold the network-office role: a facility
/// admin must not be able to take one over by resetting its password.
fn require_office_for_office_accounts(actor: &Actor, target: &User) -> Result<(), AppError> {
    if target.has_role(Role::NetworkOffice) && !actor.user.has_role(Role::NetworkOffice) {
        return Err(AppError::RoleRequired("network-office"));
    }
    Ok(())
}

/// Recovery codes are shown as `abcde-fghij`; accept them with or without the hyphen and
/// spaces, in either case as typed.
/// Ten one-time recovery codes: as shown to the user once (`abcde-fghij`), and as kept (hashes).
fn new_recovery_codes() -> Result<(Vec<String>, Vec<String>), AppError> {
    let codes: Vec<String> = (0..10).map(|_| readable(10)).collect::<Result<_, _>>()?;
    let hashes = codes
        .iter()
        .map(|c| digest(&normalise_recovery_code(c)))
        .collect();
    let shown = codes
        .iter()
        .map(|c| format!("{}-{}", c.get(..5).unwrap_or(c), c.get(5..).unwrap_or("")))
        .collect();
    Ok((shown, hashes))
}

fn normalise_recovery_code(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
}

impl App {
    /// The facility whose users `actor` may manage: their own as facility admin, any as the
    /// network office.
    pub async fn managed_facility(
        &self,
        actor: &Actor,
        code: Option<&str>,
    ) -> Result<Facility, AppError> {
        let facility = match code.map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) if c != actor.facility.code.as_str() => {
                actor.require(Role::NetworkOffice)?;
                self.store
                    .facility_by_code(c)
                    .await?
                    .ok_or(AppError::NotFound("facility"))?
            }
            _ => {
                actor.require_any(&[Role::FacilityAdmin, Role::NetworkOffice])?;
                actor.facility.clone()
            }
        };
        Ok(facility)
    }

    /// The users of a facility, for its admin or the office.
    pub async fn users_of(
        &self,
        actor: &Actor,
        facility_code: Option<&str>,
    ) -> Result<(Facility, Vec<UserAccount>), AppError> {
        let facility = self.managed_facility(actor, facility_code).await?;
        let users = self.store.users_of_facility(facility.id).await?;
        Ok((facility, users))
    }

    /// Enable or disable an account (disabling ends its sessions). Nobody disables themselves.
    pub async fn set_user_active(
        &self,
        actor: &Actor,
        facility_code: &str,
        login: &str,
        active: bool,
    ) -> Result<(), AppError> {
        let facility = self.managed_facility(actor, Some(facility_code)).await?;
        let account = self
            .store
            .user_account(facility.id, login.trim())
            .await?
            .ok_or(AppError::NotFound("user"))?;
        if account.user.id == actor.user.id {
            return Err(AppError::Invalid {
                field: "login",
                message_ja: "自分自身のアカウントは無効にできません。",
            });
        }
        require_office_for_office_accounts(actor, &account.user)?;
        let now = OffsetDateTime::now_utc();
        let mut ev = actor.event(AuditAction::AdminChange, now);
        ev.items = vec![format!(
            "user-{}:{}",
            if active { "enabled" } else { "disabled" },
            account.user.id
        )];
        let entry = self
            .store
            .set_user_active(account.user.id, active, ev)
            .await?;
        self.after_append(entry.seq).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn totp_accepts_the_current_code_only() {
        let secret = new_totp_secret().unwrap();
        let now = OffsetDateTime::now_utc();
        let code = totp(&secret, "a")
            .unwrap()
            .generate(now.unix_timestamp() as u64);
        assert!(totp_ok(&secret, &code, now));
        assert!(!totp_ok(&secret, &code, now + time::Duration::minutes(5)));
        assert!(!totp_ok(&secret, "12345", now));
    }

    #[test]
    fn the_matching_step_is_reported() {
        let secret = new_totp_secret().unwrap();
        let now = OffsetDateTime::now_utc();
        let t = totp(&secret, "a").unwrap();
        let step = now.unix_timestamp() / 30;
        let previous = t.generate(((step - 1) * 30) as u64);
        assert_eq!(totp_step(&secret, &previous, now), Some(step - 1));
    }

    #[test]
    fn recovery_codes_normalise() {
        assert_eq!(normalise_recovery_code(" abcDE-fghij "), "abcDEfghij");
    }
}
