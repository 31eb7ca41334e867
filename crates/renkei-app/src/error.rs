//! The application's error: one variant per thing a caller can tell the user.

use renkei_domain::authorize::Rule;
use renkei_domain::consent::ConsentError;
use renkei_domain::facility::FacilityCodeError;
use renkei_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A form field is invalid; the message is for the user (Japanese).
    #[error("invalid {field}")]
    Invalid {
        field: &'static str,
        message_ja: &'static str,
    },
    #[error("consent: {0}")]
    Consent(#[from] ConsentError),
    #[error("facility code: {0}")]
    FacilityCode(#[from] FacilityCodeError),
    #[error("{0} already exists")]
    Duplicate(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("access denied by {}", .0.code())]
    Denied(Rule),
    #[error("this action needs the {0} role")]
    RoleRequired(&'static str),
    #[error("the consent was already withdrawn")]
    AlreadyWithdrawn,
    #[error("key file: {0}")]
    Key(String),
    #[error("password hashing failed")]
    Hashing,
    #[error("storage: {0}")]
    Store(StoreError),
    /// A worker of the application itself stopped (a bug, not bad input).
    #[error("internal: {0}")]
    Internal(&'static str),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Duplicate(what) => AppError::Duplicate(what),
            StoreError::NotFound(what) => AppError::NotFound(what),
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    /// What the Japanese UI shows.
    pub fn message_ja(&self) -> String {
        match self {
            Self::Invalid { message_ja, .. } => (*message_ja).to_owned(),
            Self::Consent(e) => e.message_ja().to_owned(),
            Self::FacilityCode(e) => e.message_ja().to_owned(),
            Self::Duplicate("local patient ID") => {
                "この患者IDはすでに貴施設で登録されています。".to_owned()
            }
            Self::Duplicate("login name") => "このログインIDはすでに使われています。".to_owned(),
            Self::Duplicate("facility code") => {
                "この施設コードはすでに登録されています。".to_owned()
            }
            Self::Duplicate(_) => "すでに登録されています。".to_owned(),
            Self::NotFound(_) => "該当するデータが見つかりません。".to_owned(),
            Self::Denied(rule) => rule.message_ja().to_owned(),
            Self::RoleRequired(_) => "この操作を行う権限がありません。".to_owned(),
            Self::AlreadyWithdrawn => "この同意はすでに撤回されています。".to_owned(),
            Self::Key(_) | Self::Hashing | Self::Store(_) | Self::Internal(_) => {
                "システムエラーが発生しました。時間をおいて再度お試しください。".to_owned()
            }
        }
    }

    /// A stable code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid { field, .. } => field,
            Self::Consent(ConsentError::SignedInFuture) => "consent-signed-in-future",
            Self::Consent(ConsentError::AlreadyWithdrawn) | Self::AlreadyWithdrawn => {
                "consent-already-withdrawn"
            }
            Self::Consent(ConsentError::IncompleteProxy) => "consent-incomplete-proxy",
            Self::Consent(ConsentError::NoFacilityNamed) => "consent-no-facility",
            Self::FacilityCode(_) => "invalid-facility-code",
            Self::Duplicate("local patient ID") => "duplicate-local-id",
            Self::Duplicate("login name") => "duplicate-login",
            Self::Duplicate("facility code") => "duplicate-facility-code",
            Self::Duplicate(_) => "duplicate",
            Self::NotFound(_) => "not-found",
            Self::Denied(rule) => rule.code(),
            Self::RoleRequired(_) => "role-required",
            Self::Key(_) | Self::Hashing | Self::Store(_) | Self::Internal(_) => "internal",
        }
    }
}
