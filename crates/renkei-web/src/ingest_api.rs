//! Ingestion endpoints for facility systems (the gateway, an EMR's FHIR client). They are
//! authenticated by a facility credential issued by the network office — never a user
//! session — so they need no CSRF token.

use crate::AppState;
use crate::api::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renkei_domain::Facility;

async fn facility(state: &AppState, headers: &HeaderMap) -> Result<Facility, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    match state.app.facility_for_token(token).await {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad-facility-credential",
            "施設の認証情報が無効です。事務局が発行した認証情報を確認してください。",
        )),
        Err(e) => Err(e.into()),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn report(r: renkei_app::ingest::IngestReport) -> Response {
    // A quarantined input was received and kept: the sender must not resend it blindly, so it
    // is 202 Accepted with the reason to look up, not an error.
    let status = if r.quarantined.is_some() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    (status, Json(r)).into_response()
}

/// `POST /api/v1/ingest/ssmix2`: one SS-MIX2 file, its file name in `X-SSMIX2-File-Name`.
pub(crate) async fn ssmix2(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let f = facility(&state, &headers).await?;
    let Some(name) = header_str(&headers, "x-ssmix2-file-name") else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing-file-name",
            "SS-MIX2 のファイル名（X-SSMIX2-File-Name ヘッダ）がありません。",
        ));
    };
    // The gateway found this file misfiled in its storage: keep it, with the reason.
    let r = match header_str(&headers, "x-ssmix2-problem") {
        Some(problem) => {
            let source = renkei_app::ingest::Source {
                channel: "ssmix2",
                name: Some(name),
                bytes: &body,
            };
            let reason = renkei_app::ingest::Rejection::new(
                "wrong-folder",
                problem.chars().take(300).collect::<String>(),
            );
            state.app.quarantine_input(&f, &source, reason).await?
        }
        None => state.app.ingest_ssmix2(&f, name, &body).await?,
    };
    Ok(report(r))
}

/// `POST /api/v1/ingest/fhir`: a FHIR R4 Bundle or resource (JSON).
pub(crate) async fn fhir(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let f = facility(&state, &headers).await?;
    let name = header_str(&headers, "x-source-name");
    let r = state.app.ingest_fhir(&f, name, &body).await?;
    Ok(report(r))
}
