//! HTTP-level tests of the pages and the JSON API against a real SQLite store: sign-in with
//! TOTP, CSRF, session expiry, registration, the audit entry every patient-data read writes,
//! and administration permissions.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use renkei_app::facilities::NewFacility;
use renkei_app::{App, AppConfig, NewUserRequest, Store};
use renkei_domain::{AuditAction, AuditOutcome, FacilityKind, Profession, Role};
use serde_json::{Value, json};
use tower::ServiceExt;

mod viewer;

struct Net {
    app: App,
    router: Router,
    _dir: tempfile::TempDir,
}

struct Account {
    facility: String,
    login: String,
    password: String,
    totp: Option<String>,
}

async fn net(idle: Option<time::Duration>) -> Net {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let mut config = AppConfig::new(dir.path().to_path_buf());
    if let Some(idle) = idle {
        config.idle_timeout = idle;
    }
    let app = App::open(store, config).await.unwrap();
    for (code, kind) in [
        ("1410000010", FacilityKind::Hospital),
        ("1410001018", FacilityKind::MedicalClinic),
    ] {
        app.add_facility(
            None,
            &NewFacility {
                code: code.into(),
                name: format!("施設{code}"),
                kind,
                joined_on: None,
            },
        )
        .await
        .unwrap();
    }
    let router = renkei_web::router(renkei_web::AppState::new(app.clone(), false));
    Net {
        app,
        router,
        _dir: dir,
    }
}

impl Net {
    async fn user(
        &self,
        facility: &str,
        login: &str,
        profession: Profession,
        roles: &[Role],
        totp: bool,
    ) -> Account {
        let u = self
            .app
            .create_user(
                None,
                &NewUserRequest {
                    facility_code: facility.into(),
                    login: login.into(),
                    display_name: "試験 利用者".into(),
                    profession,
                    roles: roles.to_vec(),
                    enrol_totp_now: totp,
                },
            )
            .await
            .unwrap();
        Account {
            facility: facility.into(),
            login: login.into(),
            password: u.initial_password,
            totp: u.totp_secret,
        }
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).into_owned())
    }

    /// A new TOTP-enrolled user, signed in: the cookie header value and the CSRF token.
    async fn signed_in(
        &self,
        facility: &str,
        login: &str,
        profession: Profession,
        roles: &[Role],
    ) -> (String, String) {
        let a = self.user(facility, login, profession, roles, true).await;
        self.login(&a).await
    }

    /// Sign in through the API; returns the cookie header value and the CSRF token.
    async fn login(&self, a: &Account) -> (String, String) {
        let code = a.totp.as_deref().map(code).unwrap_or_default();
        let (status, headers, body) = self
            .send(json_req(
                Method::POST,
                "/api/v1/login",
                None,
                None,
                json!({
                    "facility": a.facility, "user": a.login, "password": a.password, "totp": code,
                }),
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let set_cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        let csrf = serde_json::from_str::<Value>(&body).unwrap()["csrf_token"]
            .as_str()
            .unwrap()
            .to_owned();
        (cookie, csrf)
    }

    async fn audit_len(&self) -> i64 {
        self.app.store.audit_head().await.unwrap().0
    }
}

fn code(secret: &str) -> String {
    renkei_app::accounts::totp(secret, "t")
        .unwrap()
        .generate_current()
        .unwrap()
}

fn json_req(
    method: Method,
    uri: &str,
    cookie: Option<&str>,
    csrf: Option<&str>,
    body: Value,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    if let Some(t) = csrf {
        b = b.header("x-csrf-token", t);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

fn form(uri: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_owned()))
        .unwrap()
}

fn resident_json(local_id: &str) -> Value {
    json!({
        "local_id": local_id, "name_kanji": "試験　花子", "name_kana": "シケン ハナコ",
        "sex": "female", "birth_date": "1940-01-02", "consent_signed_on": "2026-01-05",
        "consent_method": "paper",
    })
}

#[tokio::test]
async fn sign_in_needs_password_and_totp_and_sets_a_strict_cookie() {
    let n = net(None).await;
    let a = n
        .user(
            "1410000010",
            "clerk",
            Profession::Clerk,
            &[Role::Clerk],
            true,
        )
        .await;
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/login",
            None,
            None,
            json!({
                "facility": a.facility, "user": a.login, "password": a.password, "totp": "000000",
            }),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "bad-credentials");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("ワンタイムコード")
    );

    let res = n
        .router
        .clone()
        .oneshot(json_req(
            Method::POST,
            "/api/v1/login",
            None,
            None,
            json!({
                "facility": a.facility, "user": a.login, "password": a.password,
                "totp": code(a.totp.as_deref().unwrap()),
            }),
        ))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy() {
    let n = net(None).await;
    let (status, headers, body) = n.send(get("/login", None)).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!body.contains("<script>"), "no inline script");
    assert!(body.contains("施設コード"));
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused_and_writes_nothing() {
    let n = net(None).await;
    let (cookie, _csrf) = n
        .signed_in("1410000010", "clerk", Profession::Clerk, &[Role::Clerk])
        .await;
    let before = n.audit_len().await;
    let (status, _, body) = n
        .send(form(
            "/residents",
            &cookie,
            "csrf=forged&local_id=1&name_kana=%E3%82%A2&sex=male&birth_date=1950-01-01&consent_signed_on=2026-01-01&consent_method=paper",
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("不正な送信"), "{body}");
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/residents",
            Some(&cookie),
            None,
            resident_json("1"),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("csrf-mismatch"));
    assert_eq!(n.app.store.count_persons().await.unwrap(), 0);
    assert_eq!(n.audit_len().await, before);
}

#[tokio::test]
async fn an_idle_session_expires_with_a_clear_message() {
    let n = net(Some(time::Duration::milliseconds(300))).await;
    let (cookie, _) = n
        .signed_in("1410000010", "clerk", Profession::Clerk, &[Role::Clerk])
        .await;
    let (status, _, _) = n.send(get("/home", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (status, headers, _) = n.send(get("/home", Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login?expired=1");
    let (_, _, body) = n.send(get("/login?expired=1", None)).await;
    assert!(body.contains("一定時間操作がなかったため"));
    let (status, _, body) = n.send(get("/api/v1/residents/x", Some(&cookie))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("not-signed-in") || body.contains("session-expired"));
}

#[tokio::test]
async fn registration_by_api_and_duplicate_local_id() {
    let n = net(None).await;
    let (cookie, csrf) = n
        .signed_in("1410000010", "clerk", Profession::Clerk, &[Role::Clerk])
        .await;
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/residents",
            Some(&cookie),
            Some(&csrf),
            resident_json("0042"),
        ))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let before = (
        n.app.store.count_persons().await.unwrap(),
        n.audit_len().await,
    );
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/residents",
            Some(&cookie),
            Some(&csrf),
            resident_json("0042"),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "duplicate-local-id");
    assert_eq!(
        (
            n.app.store.count_persons().await.unwrap(),
            n.audit_len().await
        ),
        before
    );
    let mut future = resident_json("0043");
    future["consent_signed_on"] = json!("2999-01-01");
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/residents",
            Some(&cookie),
            Some(&csrf),
            future,
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("consent-signed-in-future") && body.contains("未来"));
}

#[tokio::test]
async fn reading_a_resident_writes_exactly_one_audit_entry_allowed_or_denied() {
    let n = net(None).await;
    let a = n
        .user(
            "1410000010",
            "clerk",
            Profession::Clerk,
            &[Role::Clerk],
            true,
        )
        .await;
    let (cookie, csrf) = n.login(&a).await;
    let (_, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/residents",
            Some(&cookie),
            Some(&csrf),
            resident_json("7"),
        ))
        .await;
    let person = serde_json::from_str::<Value>(&body).unwrap()["person_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let before = n.audit_len().await;
    let (status, _, body) = n
        .send(get(&format!("/api/v1/residents/{person}"), Some(&cookie)))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(n.audit_len().await, before + 1);
    let last = n
        .app
        .store
        .audit_entries(&Default::default(), before, 10)
        .await
        .unwrap();
    assert_eq!(last[0].event.action, AuditAction::View);
    assert_eq!(
        last[0].event.person_id.map(|p| p.to_string()),
        Some(person.clone())
    );
    assert!(last[0].event.items.contains(&"demographics".to_owned()));
    assert_eq!(
        last[0].event.access_method.as_deref(),
        Some("care-relationship")
    );

    // A clerk at a facility with no care relationship is refused, and that is logged once too.
    let (cookie2, _) = n
        .signed_in("1410001018", "clerk2", Profession::Clerk, &[Role::Clerk])
        .await;
    let before = n.audit_len().await;
    let (status, _, body) = n
        .send(get(&format!("/api/v1/residents/{person}"), Some(&cookie2)))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("rule3-no-care-relationship"), "{body}");
    assert!(!body.contains("シケン"), "no patient data in a denial");
    assert_eq!(n.audit_len().await, before + 1);
    let last = n
        .app
        .store
        .audit_entries(&Default::default(), before, 10)
        .await
        .unwrap();
    assert_eq!(
        last[0].event.outcome,
        AuditOutcome::Denied("rule3-no-care-relationship".into())
    );
}

#[tokio::test]
async fn withdrawal_by_api_is_refused_the_second_time() {
    let n = net(None).await;
    let (cookie, csrf) = n
        .signed_in("1410000010", "clerk", Profession::Clerk, &[Role::Clerk])
        .await;
    let (_, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/residents",
            Some(&cookie),
            Some(&csrf),
            resident_json("8"),
        ))
        .await;
    let person: renkei_domain::PersonId =
        serde_json::from_str::<Value>(&body).unwrap()["person_id"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
    let consent = n.app.store.consents(person).await.unwrap()[0].id;
    let uri = format!("/api/v1/residents/{person}/consents/{consent}/withdraw");
    let (status, _, _) = n
        .send(json_req(
            Method::POST,
            &uri,
            Some(&cookie),
            Some(&csrf),
            json!({}),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            &uri,
            Some(&cookie),
            Some(&csrf),
            json!({}),
        ))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("consent-already-withdrawn") && body.contains("すでに撤回"));
}

#[tokio::test]
async fn first_login_enrols_totp_with_a_qr_code_and_recovery_codes() {
    let n = net(None).await;
    let a = n
        .user(
            "1410000010",
            "newbie",
            Profession::Nurse,
            &[Role::Clinical],
            false,
        )
        .await;
    let (cookie, csrf) = n.login(&a).await;
    let (status, headers, _) = n.send(get("/home", Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/totp/enrol");
    let (status, _, page) = n.send(get("/totp/enrol", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<svg"), "QR code shown");
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let (status, _, page) = n
        .send(form(
            "/totp/enrol",
            &cookie,
            &format!("csrf={csrf}&code={}", code(&secret)),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("回復コード"));
    let recovery = page
        .split("<li>")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let (status, _, _) = n.send(get("/home", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);

    // A recovery code works once in place of the one-time code.
    let with_recovery = Account { totp: None, ..a };
    let body = json!({"facility": with_recovery.facility, "user": with_recovery.login,
        "password": with_recovery.password, "totp": recovery});
    let (status, _, _) = n
        .send(json_req(
            Method::POST,
            "/api/v1/login",
            None,
            None,
            body.clone(),
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = n
        .send(json_req(Method::POST, "/api/v1/login", None, None, body))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn facility_admins_add_users_and_clinicians_cannot() {
    let n = net(None).await;
    let admin = n
        .user(
            "1410000010",
            "admin",
            Profession::Clerk,
            &[Role::Clerk, Role::FacilityAdmin],
            true,
        )
        .await;
    let (cookie, csrf) = n.login(&admin).await;
    let (status, _, page) = n
        .send(form(
            "/admin/users",
            &cookie,
            &format!("csrf={csrf}&facility=1410000010&login=ns.new&display_name=%E7%9C%8B%E8%AD%B7&profession=nurse&role_clinical=true"),
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"new-password\""));
    let created = n
        .app
        .store
        .facility_by_code("1410000010")
        .await
        .unwrap()
        .unwrap();
    let users = n.app.store.users_of_facility(created.id).await.unwrap();
    assert!(
        users
            .iter()
            .any(|u| u.user.login.as_str() == "ns.new" && !u.totp_confirmed)
    );

    // An admin cannot add users to another facility.
    let (status, _, _) = n
        .send(form(
            "/admin/users",
            &cookie,
            &format!("csrf={csrf}&facility=1410001018&login=x.y&display_name=x&profession=nurse&role_clinical=true"),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (cookie, _) = n
        .signed_in(
            "1410000010",
            "dr.x",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let (status, _, body) = n.send(get("/admin/users", Some(&cookie))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("権限がありません"));
}

#[tokio::test]
async fn the_office_adds_facilities_and_a_bad_code_is_explained() {
    let n = net(None).await;
    let (cookie, csrf) = n
        .signed_in(
            "1410000010",
            "office",
            Profession::Clerk,
            &[Role::NetworkOffice],
        )
        .await;
    let (status, _, page) = n
        .send(form(
            "/admin/facilities",
            &cookie,
            &format!("csrf={csrf}&code=1410001019&name=x&kind=medical-clinic&joined_on=2026-01-01"),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("検証番号"), "{page}");
    let (status, headers, _) = n
        .send(form(
            "/admin/facilities",
            &cookie,
            &format!("csrf={csrf}&code=1440000014&name=%E8%96%AC%E5%B1%80&kind=pharmacy&joined_on=2026-01-01"),
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/admin/facilities?done=added");
    assert!(
        n.app
            .store
            .facility_by_code("1440000014")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_user_added_by_an_admin_changes_the_initial_password_then_enrols_totp() {
    let n = net(None).await;
    let admin = n
        .user(
            "1410000010",
            "admin",
            Profession::Clerk,
            &[Role::Clerk, Role::FacilityAdmin],
            true,
        )
        .await;
    let (cookie, csrf) = n.login(&admin).await;
    let (_, _, page) = n
        .send(form(
            "/admin/users",
            &cookie,
            &format!("csrf={csrf}&facility=1410000010&login=ns.new&display_name=x&profession=nurse&role_clinical=true"),
        ))
        .await;
    let password = page
        .split("id=\"new-password\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let nurse = Account {
        facility: "1410000010".into(),
        login: "ns.new".into(),
        password: password.clone(),
        totp: None,
    };
    let (cookie, csrf) = n.login(&nurse).await;
    let (status, headers, _) = n.send(get("/home", Some(&cookie))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/password");
    let (status, headers, _) = n.send(get("/totp/enrol", Some(&cookie))).await;
    assert_eq!(
        (status, &headers[header::LOCATION]),
        (StatusCode::SEE_OTHER, &"/password".parse().unwrap())
    );

    let (status, _, page) = n
        .send(form(
            "/password",
            &cookie,
            &format!(
                "csrf={csrf}&current_password={password}&new_password=short&repeat_password=short"
            ),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("12文字以上"));
    let new = "kaigo-renkei-2026-nagisa";
    let (status, headers, _) = n
        .send(form(
            "/password",
            &cookie,
            &format!(
                "csrf={csrf}&current_password={password}&new_password={new}&repeat_password={new}"
            ),
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/totp/enrol");
    // The old password no longer works.
    let (status, _, _) = n
        .send(json_req(
            Method::POST,
            "/api/v1/login",
            None,
            None,
            json!({
                "facility": "1410000010", "user": "ns.new", "password": password, "totp": "",
            }),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn submitting_the_enrolment_form_again_keeps_the_second_factor() {
    let n = net(None).await;
    let a = n
        .user(
            "1410000010",
            "newbie",
            Profession::Nurse,
            &[Role::Clinical],
            false,
        )
        .await;
    let (cookie, csrf) = n.login(&a).await;
    let (_, _, page) = n.send(get("/totp/enrol", Some(&cookie))).await;
    let secret = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let body = format!("csrf={csrf}&code={}", code(&secret));
    let (status, _, _) = n.send(form("/totp/enrol", &cookie, &body)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, _) = n.send(form("/totp/enrol", &cookie, &body)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/home");
    // Password alone still does not sign in.
    let (status, _, _) = n
        .send(json_req(
            Method::POST,
            "/api/v1/login",
            None,
            None,
            json!({
                "facility": a.facility, "user": a.login, "password": a.password, "totp": "",
            }),
        ))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_facility_admin_cannot_reset_a_network_office_account() {
    let n = net(None).await;
    n.user(
        "1410000010",
        "office",
        Profession::Clerk,
        &[Role::NetworkOffice],
        true,
    )
    .await;
    let admin = n
        .user(
            "1410000010",
            "admin",
            Profession::Clerk,
            &[Role::Clerk, Role::FacilityAdmin],
            true,
        )
        .await;
    let (cookie, csrf) = n.login(&admin).await;
    let (status, _, _) = n
        .send(form(
            "/admin/users/office/reset-password",
            &cookie,
            &format!("csrf={csrf}&facility=1410000010"),
        ))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn malformed_json_gets_a_typed_error_without_echoing_the_input() {
    let n = net(None).await;
    let (cookie, csrf) = n
        .signed_in("1410000010", "clerk", Profession::Clerk, &[Role::Clerk])
        .await;
    let (status, _, body) = n
        .send(json_req(
            Method::POST,
            "/api/v1/residents",
            Some(&cookie),
            Some(&csrf),
            json!({"name_kana": "ヒミツ タロウ"}),
        ))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "invalid-json");
    assert!(!body.to_string().contains("ヒミツ"));
}

#[tokio::test]
async fn facility_systems_upload_with_a_credential_not_a_session() {
    let n = net(None).await;
    let cred = n
        .app
        .issue_facility_credential(None, "1410000010")
        .await
        .unwrap();
    let name = "0000042_20260301_OML-11_000000000000001_20260301101010000_01_1";
    let upload = |token: Option<String>, body: &'static [u8]| {
        let mut b = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/ingest/ssmix2")
            .header("x-ssmix2-file-name", name);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        b.body(Body::from(body)).unwrap()
    };
    let (status, _, body) = n.send(upload(None, b"MSH|")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("bad-facility-credential"));
    let forged = format!("{}x", cred.token);
    let (status, _, _) = n.send(upload(Some(forged), b"MSH|")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A valid credential: the (unregistered, unreadable) input is received and held.
    let (status, _, body) = n
        .send(upload(Some(cred.token.clone()), b"MSH|\x1b$B\xff"))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert!(report["quarantined"].is_string());
    let f = n
        .app
        .store
        .facility_by_code("1410000010")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        n.app.quarantine_list(Some(&f), None).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn facility_admins_see_their_quarantine_and_clinicians_do_not() {
    let n = net(None).await;
    let f = n
        .app
        .store
        .facility_by_code("1410000010")
        .await
        .unwrap()
        .unwrap();
    n.app.ingest_ssmix2(&f, "bad name", b"junk").await.unwrap();
    let admin = n
        .user(
            "1410000010",
            "admin",
            Profession::Clerk,
            &[Role::Clerk, Role::FacilityAdmin],
            true,
        )
        .await;
    let (cookie, _) = n.login(&admin).await;
    let (status, _, page) = n.send(get("/admin/quarantine", Some(&cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("bad-file-name") && page.contains("SS-MIX2 のファイル名"),
        "{page}"
    );
    let (cookie, _) = n
        .signed_in(
            "1410000010",
            "dr.q",
            Profession::Physician,
            &[Role::Clinical],
        )
        .await;
    let (status, _, _) = n.send(get("/admin/quarantine", Some(&cookie))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
