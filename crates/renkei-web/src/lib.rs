//! Renkei web: axum routes, askama templates (Japanese UI), vendored htmx, and the JSON API.
//!
//! Handlers only parse, call `renkei-app` and render; they decide nothing about access.
#![forbid(unsafe_code)]

mod admin;
mod api;
mod chart;
mod error;
mod ingest_api;
mod pages;
mod session;
mod throttle;
mod viewer;
mod views;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{get, post};
use renkei_app::App;
use std::net::SocketAddr;

/// A date as a form or query gives it (`2026-03-01`, the HTML date input's format).
pub(crate) fn parse_day(s: &str) -> Option<time::Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &fmt).ok()
}

pub use error::WebError;
pub use throttle::LoginThrottle;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    /// Mark cookies `Secure` (when served over TLS or behind a TLS proxy).
    pub secure_cookies: bool,
    /// Login attempts per client address.
    pub throttle: LoginThrottle,
}

impl AppState {
    pub fn new(app: App, secure_cookies: bool) -> Self {
        Self {
            app,
            secure_cookies,
            throttle: LoginThrottle::default(),
        }
    }
}

/// The largest single upload: a document Bundle with attached PDFs or images.
const INGEST_LIMIT: usize = 64 * 1024 * 1024;

/// Content-Security-Policy: only our own scripts and styles, no inline script, no framing.
/// Two handlers set their own instead: the document page adds `frame-src 'self'` for the PDFs
/// it frames, and an attached file is served sandboxed, framable by this site only.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry patient data: never keep them in a shared or disk cache.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Over TLS, tell browsers to use nothing else for a year.
async fn hsts(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    res
}

/// All routes.
pub fn router(state: AppState) -> Router {
    let secure = state.secure_cookies;
    let router = Router::new()
        .route("/", get(pages::root))
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/logout", post(pages::logout))
        .route("/home", get(pages::home))
        .route(
            "/password",
            get(pages::password_page).post(pages::password_submit),
        )
        .route(
            "/totp/enrol",
            get(pages::totp_enrol_page).post(pages::totp_enrol_submit),
        )
        .route(
            "/residents",
            get(pages::residents).post(pages::register_submit),
        )
        .route("/residents/new", get(pages::register_page))
        .route("/residents/{id}", get(pages::resident))
        .route("/residents/{id}/consents", post(pages::record_consent))
        .route(
            "/residents/{id}/consents/{consent}/withdraw",
            post(pages::withdraw_consent),
        )
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route(
            "/admin/users/{login}/reset-password",
            post(admin::reset_password),
        )
        .route("/admin/users/{login}/active", post(admin::set_active))
        .route(
            "/admin/facilities",
            get(admin::facilities).post(admin::add_facility),
        )
        .route(
            "/admin/facilities/{code}/withdraw",
            post(admin::withdraw_facility),
        )
        .route("/patients", get(viewer::search))
        .route("/patients/{id}", get(viewer::summary))
        .route("/patients/{id}/break-glass", post(viewer::break_glass))
        .route("/patients/{id}/timeline", get(viewer::timeline))
        .route("/patients/{id}/labs", get(viewer::labs))
        .route("/patients/{id}/documents/{record}", get(viewer::document))
        .route(
            "/patients/{id}/documents/{record}/attachments/{n}",
            get(viewer::attachment),
        )
        .route("/me/accesses", get(viewer::my_accesses))
        .route("/office/access-report", get(viewer::access_report))
        .route("/office/break-glass", get(viewer::break_glass_list))
        .route("/office/mpi", get(admin::mpi_queue))
        .route("/office/mpi/{id}/{decision}", post(admin::mpi_decide))
        .route("/office/mpi/merges/{id}/unmerge", post(admin::mpi_unmerge))
        .route("/admin/quarantine", get(admin::quarantine))
        .route(
            "/admin/quarantine/{id}/retry",
            post(admin::quarantine_retry),
        )
        .route(
            "/admin/quarantine/{id}/discard",
            post(admin::quarantine_discard),
        )
        .route("/static/htmx.min.js", get(pages::htmx))
        .route("/static/renkei.css", get(pages::css))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/api/v1/ingest/ssmix2",
            post(ingest_api::ssmix2).layer(axum::extract::DefaultBodyLimit::max(INGEST_LIMIT)),
        )
        .route(
            "/api/v1/ingest/fhir",
            post(ingest_api::fhir).layer(axum::extract::DefaultBodyLimit::max(INGEST_LIMIT)),
        )
        .route("/api/v1/login", post(api::login))
        .route("/api/v1/logout", post(api::logout))
        .route("/api/v1/persons", get(api::persons))
        .route("/api/v1/persons/{id}/summary", get(api::person_summary))
        .route("/api/v1/persons/{id}/timeline", get(api::person_timeline))
        .route(
            "/api/v1/persons/{id}/break-glass",
            post(api::person_break_glass),
        )
        .route("/api/v1/audit", get(api::audit))
        .route("/api/v1/residents", post(api::register))
        .route("/api/v1/residents/{id}", get(api::resident))
        .route("/api/v1/residents/{id}/consents", post(api::record_consent))
        .route(
            "/api/v1/residents/{id}/consents/{consent}/withdraw",
            post(api::withdraw_consent),
        )
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state);
    if secure {
        router.layer(axum::middleware::map_response(hsts))
    } else {
        router
    }
}

/// Serve until Ctrl-C / SIGTERM.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
