//! One web error type: maps application errors to status codes and Japanese pages.

use crate::views::{ErrorPage, Nav, render};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use renkei_app::AppError;

#[derive(Debug)]
pub enum WebError {
    App(AppError),
    /// Not signed in, or the session ended.
    Unauthenticated {
        expired: bool,
    },
    /// Signed in with a password but TOTP enrolment is pending.
    EnrolmentPending,
    /// Signed in with an initial or reset password that must be changed first.
    PasswordChangeRequired,
    /// The form's CSRF token did not match the session's.
    Csrf,
    /// Too many login attempts from one address.
    TooManyAttempts,
    Internal,
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

impl WebError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            WebError::App(
                AppError::Invalid { .. } | AppError::Consent(_) | AppError::FacilityCode(_),
            ) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::App(AppError::Duplicate(_) | AppError::AlreadyWithdrawn) => {
                StatusCode::CONFLICT
            }
            WebError::App(AppError::NotFound(_)) => StatusCode::NOT_FOUND,
            WebError::App(AppError::Denied(_) | AppError::RoleRequired(_)) => StatusCode::FORBIDDEN,
            WebError::App(_) | WebError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::Unauthenticated { .. }
            | WebError::EnrolmentPending
            | WebError::PasswordChangeRequired => StatusCode::UNAUTHORIZED,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    pub(crate) fn message_ja(&self) -> String {
        match self {
            WebError::App(e) => e.message_ja(),
            WebError::Unauthenticated { expired: true } => {
                "一定時間操作がなかったため、ログアウトしました。再度ログインしてください。".into()
            }
            WebError::Unauthenticated { expired: false } => "ログインしてください。".into(),
            WebError::EnrolmentPending => "先に二要素認証を登録してください。".into(),
            WebError::PasswordChangeRequired => "先にパスワードを変更してください。".into(),
            WebError::Csrf => {
                "画面の有効期限が切れたか、不正な送信です。画面を開き直してから、もう一度操作してください。".into()
            }
            WebError::TooManyAttempts => {
                "ログインの試行が多すぎます。1分ほど待ってから再度お試しください。".into()
            }
            WebError::Internal => "システムエラーが発生しました。".into(),
        }
    }

    pub(crate) fn code(&self) -> &'static str {
        match self {
            WebError::App(e) => e.code(),
            WebError::Unauthenticated { expired: true } => "session-expired",
            WebError::Unauthenticated { expired: false } => "not-signed-in",
            WebError::EnrolmentPending => "totp-enrolment-pending",
            WebError::PasswordChangeRequired => "password-change-required",
            WebError::Csrf => "csrf-mismatch",
            WebError::TooManyAttempts => "too-many-attempts",
            WebError::Internal => "internal",
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match &self {
            WebError::Unauthenticated { expired } => {
                return Redirect::to(if *expired {
                    "/login?expired=1"
                } else {
                    "/login"
                })
                .into_response();
            }
            WebError::EnrolmentPending => return Redirect::to("/totp/enrol").into_response(),
            WebError::PasswordChangeRequired => return Redirect::to("/password").into_response(),
            WebError::App(e @ (AppError::Store(_) | AppError::Key(_) | AppError::Hashing)) => {
                tracing::error!(error = %e, "request failed");
            }
            _ => {}
        }
        let page = ErrorPage {
            nav: Nav::anonymous(),
            heading: "操作を完了できませんでした".into(),
            message: self.message_ja(),
            back: "/home".into(),
        };
        (self.status(), render(&page)).into_response()
    }
}
