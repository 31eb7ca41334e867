//! JSON API (tablets, integrations, tests): the same use cases and rules as the pages.
//! Authenticated by the session cookie; state-changing calls also need `X-CSRF-Token`.

use crate::session::{
    AnySession, ClientAddr, SESSION_COOKIE, Signed, cookie, removal, tokens_match,
};
use crate::{AppState, WebError};
use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use renkei_app::accounts::LoginError;
use renkei_app::residents::RegistrationForm;
use renkei_app::{AppError, LoginAttempt};
use renkei_domain::{ConsentId, PersonId};
use serde::Deserialize;
use serde_json::json;

/// An API error: `{"error": code, "message": Japanese text}` with its status.
pub(crate) struct ApiError(StatusCode, &'static str, String);

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message_ja: &str) -> Self {
        Self(status, code, message_ja.to_owned())
    }
}

impl From<WebError> for ApiError {
    fn from(e: WebError) -> Self {
        ApiError(e.status(), e.code(), e.message_ja())
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        WebError::App(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1, "message": self.2}))).into_response()
    }
}

/// A JSON body; a malformed one gets a typed error. The parser's own message is not passed on:
/// it can quote the input, which may be patient data.
pub(crate) struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError(
                match rejection.status() {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                },
                "invalid-json",
                "送信された内容を読み取れません。JSON の形式と必須項目を確認してください。".into(),
            )),
        }
    }
}

/// A fully signed-in API caller; unauthenticated calls get 401 JSON, not a redirect.
pub(crate) struct ApiUser(Signed);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ApiUser(Signed::from_request_parts(parts, state).await?))
    }
}

impl ApiUser {
    fn check_csrf(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let given = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        Ok(self.0.check_csrf(given)?)
    }
}

#[derive(Deserialize)]
pub(crate) struct LoginBody {
    facility: String,
    user: String,
    password: String,
    #[serde(default)]
    totp: String,
}

pub(crate) async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    ClientAddr(addr): ClientAddr,
    ApiJson(b): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    if !state.throttle.allow(addr.as_deref()) {
        return Err(WebError::TooManyAttempts.into());
    }
    let attempt = LoginAttempt {
        facility_code: b.facility,
        login: b.user,
        password: b.password,
        second_factor: b.totp,
        client_addr: addr,
    };
    match state.app.login(&attempt).await {
        Ok(ok) => {
            let body = json!({
                "csrf_token": ok.session.csrf_token,
                "stage": ok.session.stage.as_str(),
            });
            let jar = jar.add(cookie(SESSION_COOKIE, ok.token, state.secure_cookies));
            Ok((jar, Json(body)).into_response())
        }
        Err(e) => {
            let status = match e {
                LoginError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::UNAUTHORIZED,
            };
            Err(ApiError(status, e.code(), e.message_ja()))
        }
    }
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    s: AnySession,
) -> Result<Response, ApiError> {
    let given = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !tokens_match(given, &s.session.csrf_token) {
        return Err(WebError::Csrf.into());
    }
    state.app.logout(&s.actor, &s.token).await?;
    Ok((jar.remove(removal(SESSION_COOKIE)), StatusCode::NO_CONTENT).into_response())
}

pub(crate) async fn register(
    State(state): State<AppState>,
    user: ApiUser,
    headers: HeaderMap,
    ApiJson(form): ApiJson<RegistrationForm>,
) -> Result<Response, ApiError> {
    user.check_csrf(&headers)?;
    let person = state.app.register_resident(&user.0.0.actor, &form).await?;
    Ok((StatusCode::CREATED, Json(json!({"person_id": person}))).into_response())
}

fn parse_person(id: &str) -> Result<PersonId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::from(AppError::NotFound("person")))
}

pub(crate) async fn resident(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let person = parse_person(&id)?;
    let r = state.app.resident_record(&user.0.0.actor, person).await?;
    Ok(Json(json!({
        "person": r.person,
        "consent_state": r.consent_state,
        "consents": r.consents,
        "local_ids": r.local_ids.iter().map(|(f, lp)| json!({
            "facility_code": f.code, "facility_name": f.name, "local_id": lp.local_id, "linked_at": lp.linked_at,
        })).collect::<Vec<_>>(),
    }))
    .into_response())
}

pub(crate) async fn withdraw_consent(
    State(state): State<AppState>,
    user: ApiUser,
    headers: HeaderMap,
    Path((id, consent)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    user.check_csrf(&headers)?;
    let person = parse_person(&id)?;
    let consent: ConsentId = consent
        .parse()
        .map_err(|_| ApiError::from(AppError::NotFound("consent")))?;
    state
        .app
        .withdraw_consent(&user.0.0.actor, person, consent)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn record_consent(
    State(state): State<AppState>,
    user: ApiUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<renkei_app::residents::ConsentInput>,
) -> Result<Response, ApiError> {
    user.check_csrf(&headers)?;
    let person = parse_person(&id)?;
    let consent = state
        .app
        .record_consent(&user.0.0.actor, person, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"consent_id": consent}))).into_response())
}
