//! Browser end-to-end tests in headless Chromium (fantoccini + chromedriver).
//!
//! The test command sets `RENKEI_E2E_CHROMEDRIVER` (and installs Debian's chromium and
//! chromium-driver); without it these tests say so and do nothing, so that a plain
//! `cargo test` works on a machine without a browser.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use fantoccini::{Client, ClientBuilder, Locator};
use renkei_app::facilities::NewFacility;
use renkei_app::{App, AppConfig, NewUserRequest, Store};
use renkei_domain::{FacilityKind, Profession, Role};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn browser() -> Option<Browser> {
    let Ok(driver_path) = std::env::var("RENKEI_E2E_CHROMEDRIVER") else {
        eprintln!(
            "RENKEI_E2E_CHROMEDRIVER is not set: skipping the browser test (scripts/test sets it)"
        );
        return None;
    };
    let port = free_port();
    let driver = Command::new(driver_path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let profile = tempfile::tempdir().unwrap();
    let mut chrome = serde_json::json!({
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
            format!("--user-data-dir={}", profile.path().display()),
        ]
    });
    if let Ok(bin) = std::env::var("RENKEI_E2E_CHROMIUM") {
        chrome["binary"] = serde_json::Value::String(bin);
    }
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), chrome);
    let url = format!("http://127.0.0.1:{port}");
    let mut last_err = None;
    for _ in 0..50 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                return Some(Browser {
                    client,
                    driver,
                    _profile: profile,
                });
            }
            Err(e) => {
                last_err = Some(e);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    panic!("cannot reach chromedriver: {last_err:?}");
}

/// A network with one hospital and one clerk, served on a free loopback port.
async fn server() -> (App, String, String, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("renkei.db").display()
    ))
    .await
    .unwrap();
    let app = App::open(store, AppConfig::new(dir.path().to_path_buf()))
        .await
        .unwrap();
    let hospital = app
        .add_facility(
            None,
            &NewFacility {
                code: "1410000010".into(),
                name: "なぎさ市立みなと総合病院".into(),
                kind: FacilityKind::Hospital,
                joined_on: None,
            },
        )
        .await
        .unwrap();
    let clerk = app
        .create_user(
            None,
            &NewUserRequest {
                facility_code: hospital.code.to_string(),
                login: "clerk".into(),
                display_name: "受付　花子".into(),
                profession: Profession::Clerk,
                roles: vec![Role::Clerk],
                enrol_totp_now: true,
            },
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = renkei_web::AppState::new(app.clone(), false);
    tokio::spawn(renkei_web::serve(state, listener));
    (
        app,
        base,
        clerk.initial_password,
        clerk.totp_secret.unwrap(),
        dir,
    )
}

fn current_totp(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        "e2e".into(),
    )
    .unwrap()
    .generate_current()
    .unwrap()
}

async fn wait_for_path(c: &Client, path: &str) {
    for _ in 0..100 {
        if c.current_url().await.unwrap().path() == path {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "never reached {path}: at {}",
        c.current_url().await.unwrap()
    );
}

async fn fill(c: &Client, id: &str, value: &str) {
    let el = c.find(Locator::Id(id)).await.unwrap();
    el.clear().await.unwrap();
    el.send_keys(value).await.unwrap();
}

async fn login(c: &Client, base: &str, password: &str, otp: &str) {
    login_as(c, base, "1410000010", "clerk", password, otp).await;
}

async fn login_as(c: &Client, base: &str, facility: &str, user: &str, password: &str, otp: &str) {
    c.delete_all_cookies().await.unwrap();
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "facility_code", facility).await;
    fill(c, "login", user).await;
    fill(c, "password", password).await;
    fill(c, "otp", otp).await;
    c.find(Locator::Id("login-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clerk_logs_in_with_password_and_totp_and_registers_a_resident() {
    let Some(b) = browser().await else { return };
    let c = &b.client;
    let (app, base, password, secret, _dir) = server().await;

    // A wrong one-time code is refused with a Japanese message.
    login(c, &base, &password, "000000").await;
    let body = c
        .wait()
        .for_element(Locator::Css("p.error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("ワンタイムコードが正しくありません"),
        "{body}"
    );

    login(c, &base, &password, &current_totp(&secret)).await;
    wait_for_path(c, "/home").await;

    c.goto(&format!("{base}/residents/new")).await.unwrap();
    fill(c, "local_id", "0012345").await;
    fill(c, "name_kanji", "連携　太郎").await;
    fill(c, "name_kana", "レンケイ タロウ").await;
    c.find(Locator::Css("#sex option[value=male]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // Date inputs take the browser's locale format; set them directly.
    c.execute(
        "document.getElementById('birth_date').value = '1941-03-15';",
        vec![],
    )
    .await
    .unwrap();
    fill(c, "proxy_name", "連携　一郎").await;
    fill(c, "proxy_relationship", "長男").await;
    c.find(Locator::Id("register-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let notice = c
        .wait()
        .for_element(Locator::Id("notice"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(notice, "住民を登録しました。");
    let page = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("連携　太郎") && page.contains("連携　一郎（長男）"),
        "{page}"
    );
    assert_eq!(
        c.find(Locator::Id("consent-state"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "同意あり（共有中）"
    );

    // Registering the same local ID again keeps the form and says why, writing nothing.
    let persons = app.store.count_persons().await.unwrap();
    c.goto(&format!("{base}/residents/new")).await.unwrap();
    fill(c, "local_id", "0012345").await;
    fill(c, "name_kana", "ベツ ジンブツ").await;
    c.find(Locator::Css("#sex option[value=female]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.execute(
        "document.getElementById('birth_date').value = '1950-01-01';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Id("register-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let err = c
        .wait()
        .for_element(Locator::Id("form-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(err.contains("すでに貴施設で登録されています"), "{err}");
    assert_eq!(app.store.count_persons().await.unwrap(), persons);

    // The log holds the login, the failed attempt and the registration, and verifies.
    let report = app.signer.verify(&app.store).await.unwrap();
    assert_eq!(report.problem, None);
    let entries = app
        .store
        .audit_entries(&renkei_store::AuditFilter::default(), 0, 1000)
        .await
        .unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.event.action.as_str()).collect();
    for expected in ["login-failed", "login", "register-resident", "view"] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    b.client.clone().close().await.unwrap();
}

/// One region for the viewer story: a hospital that registered the resident and holds lab
/// results, a care facility that also cares for them, and a clinic that never saw them.
struct Viewer {
    app: App,
    base: String,
    person: renkei_domain::PersonId,
    accounts: Vec<(String, String, String, String)>,
    _dir: tempfile::TempDir,
}

async fn viewer_region() -> Viewer {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("renkei.db").display()
    ))
    .await
    .unwrap();
    let app = App::open(store, AppConfig::new(dir.path().to_path_buf()))
        .await
        .unwrap();
    let mut facilities = Vec::new();
    for (code, name, kind) in [
        ("1410000010", "なぎさ病院", FacilityKind::Hospital),
        ("1499000001", "特養なぎさ苑", FacilityKind::CareFacility),
        ("1410001018", "東町内科医院", FacilityKind::MedicalClinic),
    ] {
        facilities.push(
            app.add_facility(
                None,
                &NewFacility {
                    code: code.into(),
                    name: name.into(),
                    kind,
                    joined_on: None,
                },
            )
            .await
            .unwrap(),
        );
    }
    let mut accounts = Vec::new();
    let mut clerk_user = None;
    for (code, login, profession, role) in [
        ("1410000010", "clerk", Profession::Clerk, Role::Clerk),
        (
            "1410000010",
            "dr.sato",
            Profession::Physician,
            Role::Clinical,
        ),
        (
            "1499000001",
            "cw.yamada",
            Profession::CareWorker,
            Role::Clinical,
        ),
        (
            "1410001018",
            "dr.tanaka",
            Profession::Physician,
            Role::Clinical,
        ),
    ] {
        let u = app
            .create_user(
                None,
                &NewUserRequest {
                    facility_code: code.into(),
                    login: login.into(),
                    display_name: login.into(),
                    profession,
                    roles: vec![role],
                    enrol_totp_now: true,
                },
            )
            .await
            .unwrap();
        if login == "clerk" {
            clerk_user = Some(u.user.clone());
        }
        accounts.push((
            code.to_owned(),
            login.to_owned(),
            u.initial_password,
            u.totp_secret.unwrap(),
        ));
    }
    let clerk = renkei_app::Actor {
        user: clerk_user.unwrap(),
        facility: facilities[0].clone(),
        client_addr: None,
        request_id: None,
    };
    let person = app
        .register_resident(
            &clerk,
            &renkei_app::residents::RegistrationForm {
                local_id: "0777".into(),
                name_kanji: "連携　花子".into(),
                name_kana: "レンケイ ハナコ".into(),
                sex: "female".into(),
                birth_date: "1938-05-05".into(),
                consent: renkei_app::residents::ConsentInput {
                    consent_signed_on: "2025-01-01".into(),
                    consent_method: "paper".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.link_local_patient(None, &facilities[1], person, "K-12")
        .await
        .unwrap();
    let lab = |key: &str, date: time::Date, v: f64| renkei_domain::RecordInput {
        source_key: key.into(),
        resource_type: "Observation".into(),
        category: renkei_domain::AccessCategory::Labs,
        code_system: None,
        code: Some("3D045000001906202".into()),
        display: Some("HbA1c".into()),
        effective_on: Some(date),
        sensitive: false,
        resource: serde_json::json!({"resourceType": "Observation", "code": {"text": "HbA1c"},
            "valueQuantity": {"value": v, "unit": "%"}, "interpretation": [{"coding": [{"code": "H"}]}],
            "referenceRange": [{"low": {"value": 4.9}, "high": {"value": 6.0}}]}),
    };
    let allergy = renkei_domain::RecordInput {
        source_key: "a".into(),
        resource_type: "AllergyIntolerance".into(),
        category: renkei_domain::AccessCategory::Allergies,
        code_system: None,
        code: None,
        display: Some("卵".into()),
        effective_on: Some(time::macros::date!(2025 - 02 - 01)),
        sensitive: false,
        resource: serde_json::json!({"resourceType": "AllergyIntolerance", "code": {"text": "卵"}}),
    };
    app.store
        .store_group(
            person,
            facilities[0].id,
            "labs",
            &[
                lab("1", time::macros::date!(2025 - 03 - 01), 8.2),
                lab("2", time::macros::date!(2025 - 06 - 01), 7.4),
                lab("3", time::macros::date!(2025 - 09 - 01), 6.9),
                allergy,
            ],
            &renkei_store::NewProvision {
                channel: "fhir",
                source_name: None,
                payload_hash: "0".into(),
                source_time: None,
            },
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(renkei_web::serve(
        renkei_web::AppState::new(app.clone(), false),
        listener,
    ));
    Viewer {
        app,
        base,
        person,
        accounts,
        _dir: dir,
    }
}

impl Viewer {
    /// Sign in; `again` uses the next time step's code, since a code is good only once.
    async fn sign_in(&self, c: &Client, login: &str, again: bool) {
        let (code, _, pw, secret) = self.accounts.iter().find(|a| a.1 == login).unwrap();
        let otp = if again {
            next_totp(secret)
        } else {
            current_totp(secret)
        };
        login_as(c, &self.base, code, login, pw, &otp).await;
        wait_for_path(c, "/home").await;
    }
}

fn next_totp(secret: &str) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let t = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        "e2e".into(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    t.generate(now + 30)
}

async fn main_text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_sees_exactly_what_the_rules_allow_in_the_browser() {
    let Some(b) = browser().await else { return };
    let c = &b.client;
    let v = viewer_region().await;
    let summary = format!("{}/patients/{}", v.base, v.person);

    // A physician at the hospital: timeline and a lab trend.
    v.sign_in(c, "dr.sato", false).await;
    c.goto(&format!("{}/patients?q=れんけい", v.base))
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("#hits")).await.unwrap();
    c.goto(&format!("{summary}/timeline")).await.unwrap();
    let t = main_text(c).await;
    assert!(t.contains("HbA1c") && t.contains("なぎさ病院"), "{t}");
    c.goto(&format!("{summary}/labs")).await.unwrap();
    c.wait()
        .for_element(Locator::Css("figure.chart svg polyline"))
        .await
        .unwrap();

    // A care worker at the care facility: allergies yes, lab values no.
    v.sign_in(c, "cw.yamada", false).await;
    c.goto(&summary).await.unwrap();
    let t = main_text(c).await;
    assert!(t.contains("卵"), "{t}");
    assert!(!t.contains("HbA1c") && !t.contains("8.2"), "{t}");
    assert!(c.find(Locator::Id("latest-labs")).await.is_err());

    // A physician at a clinic that never saw her: nothing until break-the-glass.
    v.sign_in(c, "dr.tanaka", false).await;
    c.goto(&summary).await.unwrap();
    c.wait()
        .for_element(Locator::Id("break-glass-warning"))
        .await
        .unwrap();
    assert!(!main_text(c).await.contains("卵"));
    c.find(Locator::Id("break-glass-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Id("break-glass-tag"))
        .await
        .unwrap();
    assert!(main_text(c).await.contains("卵"));

    // The resident withdraws: nobody sees anything, not even with a grant.
    let consent = v.app.store.consents(v.person).await.unwrap()[0].id;
    let clerk = v
        .app
        .store
        .facility_by_code("1410000010")
        .await
        .unwrap()
        .unwrap();
    let clerk_user = v
        .app
        .store
        .user_account(clerk.id, "clerk")
        .await
        .unwrap()
        .unwrap()
        .user;
    v.app
        .withdraw_consent(
            &renkei_app::Actor {
                user: clerk_user,
                facility: clerk,
                client_addr: None,
                request_id: None,
            },
            v.person,
            consent,
        )
        .await
        .unwrap();
    for login in ["dr.sato", "cw.yamada", "dr.tanaka"] {
        v.sign_in(c, login, true).await;
        c.goto(&summary).await.unwrap();
        let t = main_text(c).await;
        assert!(t.contains("撤回"), "{login}: {t}");
        assert!(!t.contains("卵") && !t.contains("HbA1c"), "{login}: {t}");
    }

    let report = v.app.signer.verify(&v.app.store).await.unwrap();
    assert_eq!(
        report.problem, None,
        "the audit log verifies after the browser story"
    );
    b.client.clone().close().await.unwrap();
}
