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
    c.goto(&format!("{base}/login")).await.unwrap();
    fill(c, "facility_code", "1410000010").await;
    fill(c, "login", "clerk").await;
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
