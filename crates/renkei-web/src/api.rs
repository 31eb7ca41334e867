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

#[derive(Deserialize, Default)]
pub(crate) struct PersonsQuery {
    #[serde(default)]
    q: String,
    birth_date: Option<String>,
}

/// `GET /api/v1/persons?q=…&birth_date=…`
pub(crate) async fn persons(
    State(state): State<AppState>,
    user: ApiUser,
    axum::extract::Query(q): axum::extract::Query<PersonsQuery>,
) -> Result<Response, ApiError> {
    let hits = state
        .app
        .search_persons(
            &user.0.0.actor,
            &renkei_app::view::PersonQuery {
                text: q.q,
                birth_date: q.birth_date.as_deref().and_then(crate::parse_day),
            },
        )
        .await?;
    Ok(Json(hits).into_response())
}

/// Denials say which rule denied, and whether break-the-glass would open the record.
fn viewer_error(e: AppError) -> ApiError {
    WebError::App(e).into()
}

/// `GET /api/v1/persons/{id}/summary`
pub(crate) async fn person_summary(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let person = parse_person(&id)?;
    let s = state
        .app
        .patient_summary(&user.0.0.actor, person)
        .await
        .map_err(viewer_error)?;
    Ok(Json(s).into_response())
}

#[derive(Deserialize, Default)]
pub(crate) struct TimelineParams {
    category: Option<String>,
    facility: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<usize>,
}

/// `GET /api/v1/persons/{id}/timeline?category=&facility=&from=&to=&page=`
pub(crate) async fn person_timeline(
    State(state): State<AppState>,
    user: ApiUser,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<TimelineParams>,
) -> Result<Response, ApiError> {
    let person = parse_person(&id)?;
    let category = match q.category.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(c.parse().map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-category",
                "区分の指定が正しくありません。",
            )
        })?),
        None => None,
    };
    let filter = renkei_app::view::TimelineFilter {
        category,
        facility: q.facility.as_deref().and_then(|f| f.parse().ok()),
        from: q.from.as_deref().and_then(crate::parse_day),
        to: q.to.as_deref().and_then(crate::parse_day),
        page: q.page.unwrap_or(0).min(100_000),
    };
    let t = state
        .app
        .timeline(&user.0.0.actor, person, &filter)
        .await
        .map_err(viewer_error)?;
    Ok(Json(t).into_response())
}

#[derive(Deserialize)]
pub(crate) struct BreakGlassBody {
    reason: String,
    #[serde(default)]
    text: String,
}

/// `POST /api/v1/persons/{id}/break-glass` with `{"reason": "emergency"|"first-visit"|"other", "text": …}`
pub(crate) async fn person_break_glass(
    State(state): State<AppState>,
    user: ApiUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BreakGlassBody>,
) -> Result<Response, ApiError> {
    user.check_csrf(&headers)?;
    let person = parse_person(&id)?;
    let reason = match b.reason.as_str() {
        "emergency" => renkei_domain::BreakGlassReason::Emergency,
        "first-visit" => renkei_domain::BreakGlassReason::FirstVisit,
        "other" => renkei_domain::BreakGlassReason::Other(b.text),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad-reason",
                "理由は救急・初診・その他から選んでください。",
            ));
        }
    };
    let g = state
        .app
        .break_glass(&user.0.0.actor, person, reason)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"grant_id": g.id, "expires_at": g.expires_at})),
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct AuditQuery {
    person: String,
}

/// `GET /api/v1/audit?person=…` (the network office): every access to one resident.
pub(crate) async fn audit(
    State(state): State<AppState>,
    user: ApiUser,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let person = parse_person(&q.person)?;
    let lines = state.app.access_report(&user.0.0.actor, person).await?;
    Ok(Json(lines).into_response())
}
