//! Session cookies, the signed-in user extractors and CSRF checks.

use crate::{AppState, WebError};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use renkei_app::Actor;
use renkei_app::accounts::SessionState;
use renkei_app::{Session, SessionStage};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

pub(crate) const SESSION_COOKIE: &str = "renkei_session";
pub(crate) const LOGIN_CSRF_COOKIE: &str = "renkei_login_csrf";

/// A cookie that scripts cannot read and other sites cannot send.
pub(crate) fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .path("/")
        .build()
}

pub(crate) fn removal(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, "")).path("/").build()
}

pub(crate) fn tokens_match(a: &str, b: &str) -> bool {
    !a.is_empty() && a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A signed-in user (any session stage).
pub(crate) struct AnySession {
    pub actor: Actor,
    pub session: Session,
    pub token: String,
}

/// A fully signed-in user (password and TOTP).
pub(crate) struct Signed(pub AnySession);

impl Signed {
    pub(crate) fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        if tokens_match(given, &self.0.session.csrf_token) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }
}

impl FromRequestParts<AppState> for AnySession {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let token = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .ok_or(WebError::Unauthenticated { expired: false })?;
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        match state.app.session(&token, addr).await? {
            SessionState::Valid(b) => {
                let (mut actor, session) = *b;
                actor.request_id = Some(uuid::Uuid::now_v7().simple().to_string());
                Ok(AnySession {
                    actor,
                    session,
                    token,
                })
            }
            SessionState::Expired => Err(WebError::Unauthenticated { expired: true }),
            SessionState::Missing => Err(WebError::Unauthenticated { expired: false }),
        }
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let any = AnySession::from_request_parts(parts, state).await?;
        match any.session.stage {
            SessionStage::Full => {}
            SessionStage::EnrolTotp => return Err(WebError::EnrolmentPending),
            SessionStage::ChangePassword => return Err(WebError::PasswordChangeRequired),
        }
        Ok(Signed(any))
    }
}

/// The client's IP address, when the server was started with connect info (tests without it
/// get `None`).
pub(crate) struct ClientAddr(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
        ))
    }
}
