//! Use-case tests against a real SQLite store: login lockout, consent withdrawal and audit
//! verification after every kind of tampering.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use renkei_app::accounts::LoginError;
use renkei_app::facilities::NewFacility;
use renkei_app::residents::RegistrationForm;
use renkei_app::{Actor, App, AppConfig, AppError, LoginAttempt, NewUserRequest, Store};
use renkei_domain::{FacilityKind, Profession, Role};

struct World {
    app: App,
    clerk: Actor,
    password: String,
    secret: String,
    _dir: tempfile::TempDir,
}

async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("r.db").display()))
        .await
        .unwrap();
    let mut config = AppConfig::new(dir.path().to_path_buf());
    config.checkpoint_every = 4;
    let app = App::open(store, config).await.unwrap();
    let f = app
        .add_facility(
            None,
            &NewFacility {
                code: "1410000010".into(),
                name: "試験病院".into(),
                kind: FacilityKind::Hospital,
                joined_on: None,
            },
        )
        .await
        .unwrap();
    let u = app
        .create_user(
            None,
            &NewUserRequest {
                facility_code: "1410000010".into(),
                login: "clerk".into(),
                display_name: "受付".into(),
                profession: Profession::Clerk,
                roles: vec![Role::Clerk],
                enrol_totp_now: true,
            },
        )
        .await
        .unwrap();
    World {
        clerk: Actor {
            user: u.user,
            facility: f,
            client_addr: None,
            request_id: None,
        },
        password: u.initial_password,
        secret: u.totp_secret.unwrap(),
        app,
        _dir: dir,
    }
}

fn attempt(password: &str, otp: &str) -> LoginAttempt {
    LoginAttempt {
        facility_code: "1410000010".into(),
        login: "clerk".into(),
        password: password.into(),
        second_factor: otp.into(),
        client_addr: Some("127.0.0.1".into()),
    }
}

fn code(secret: &str) -> String {
    renkei_app::accounts::totp(secret, "t")
        .unwrap()
        .generate_current()
        .unwrap()
}

fn form(local_id: &str) -> RegistrationForm {
    RegistrationForm {
        local_id: local_id.into(),
        name_kanji: "試験　花子".into(),
        name_kana: "シケン ハナコ".into(),
        sex: "female".into(),
        birth_date: "1940-01-02".into(),
        consent_signed_on: "2026-01-05".into(),
        consent_method: "paper".into(),
        ..RegistrationForm::default()
    }
}

#[tokio::test]
async fn password_and_totp_sign_in_and_five_failures_lock_the_account() {
    let w = world().await;
    assert!(
        w.app
            .login(&attempt(&w.password, &code(&w.secret)))
            .await
            .is_ok()
    );
    for _ in 0..4 {
        assert_eq!(
            w.app.login(&attempt("wrong", "000000")).await.unwrap_err(),
            LoginError::BadCredentials
        );
    }
    assert!(matches!(
        w.app.login(&attempt("wrong", "000000")).await.unwrap_err(),
        LoginError::Locked(_)
    ));
    // Even the right credentials are refused while locked.
    assert!(matches!(
        w.app
            .login(&attempt(&w.password, &code(&w.secret)))
            .await
            .unwrap_err(),
        LoginError::Locked(_)
    ));
}

#[tokio::test]
async fn consent_dated_in_the_future_writes_nothing() {
    let w = world().await;
    let before = w.app.store.audit_head().await.unwrap();
    let mut f = form("1");
    f.consent_signed_on = "2099-01-01".into();
    let err = w.app.register_resident(&w.clerk, &f).await.unwrap_err();
    assert_eq!(err.code(), "consent-signed-in-future");
    assert!(err.message_ja().contains("未来"));
    assert_eq!(w.app.store.count_persons().await.unwrap(), 0);
    assert_eq!(w.app.store.audit_head().await.unwrap(), before);
}

#[tokio::test]
async fn withdrawal_takes_effect_once_and_is_audited() {
    let w = world().await;
    let person = w
        .app
        .register_resident(&w.clerk, &form("77"))
        .await
        .unwrap();
    let consent = w.app.store.consents(person).await.unwrap()[0].id;
    w.app
        .withdraw_consent(&w.clerk, person, consent)
        .await
        .unwrap();
    let again = w.app.withdraw_consent(&w.clerk, person, consent).await;
    assert!(matches!(
        again,
        Err(AppError::Consent(_) | AppError::AlreadyWithdrawn)
    ));
    let record = w.app.resident_record(&w.clerk, person).await.unwrap();
    assert_eq!(
        record.consent_state,
        renkei_domain::consent::ConsentState::Withdrawn
    );
    let entries = w
        .app
        .store
        .audit_entries(&renkei_store::AuditFilter::default(), 0, 100)
        .await
        .unwrap();
    assert!(entries.iter().any(|e| {
        e.event.action == renkei_domain::AuditAction::WithdrawConsent
            && e.event.person_id == Some(person)
            && e.event.outcome == renkei_domain::AuditOutcome::Success
    }));
}

async fn tampered(sql: &[&'static str]) -> Option<i64> {
    let w = world().await;
    for i in 0..6 {
        w.app
            .register_resident(&w.clerk, &form(&format!("{i}")))
            .await
            .unwrap();
    }
    assert_eq!(
        w.app.signer.verify(&w.app.store).await.unwrap().problem,
        None
    );
    let Store::Sqlite(pool) = &w.app.store else {
        unreachable!()
    };
    for s in sql {
        sqlx::query(*s).execute(pool).await.unwrap();
    }
    w.app
        .signer
        .verify(&w.app.store)
        .await
        .unwrap()
        .problem
        .map(|p| p.seq)
}

#[tokio::test]
async fn verify_names_the_first_edited_deleted_inserted_or_reordered_entry() {
    assert_eq!(
        tampered(&["UPDATE audit_log SET action = 'view' WHERE seq = 5"]).await,
        Some(5)
    );
    assert_eq!(
        tampered(&["DELETE FROM audit_log WHERE seq = 5"]).await,
        Some(6)
    );
    // Reorder: swap two rows' positions.
    assert_eq!(
        tampered(&[
            "UPDATE audit_log SET seq = -1 WHERE seq = 5",
            "UPDATE audit_log SET seq = 5 WHERE seq = 6",
            "UPDATE audit_log SET seq = 6 WHERE seq = -1",
        ])
        .await,
        Some(5)
    );
    // Insert: a copy of an entry appended at the end.
    assert!(
        tampered(&[
            "INSERT INTO audit_log SELECT seq + 1000, randomblob(16), at, user_id, facility_id, profession, action, person_id, items, consent_state, access_method, outcome, request_id, client_addr, prev_hash, hash FROM audit_log WHERE seq = 3",
        ])
        .await
        .is_some()
    );
    // Truncation of signed entries.
    assert!(
        tampered(&["DELETE FROM audit_log WHERE seq >= 4"])
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_one_time_code_cannot_be_replayed() {
    let w = world().await;
    let c = code(&w.secret);
    assert!(w.app.login(&attempt(&w.password, &c)).await.is_ok());
    assert_eq!(
        w.app.login(&attempt(&w.password, &c)).await.unwrap_err(),
        LoginError::BadCredentials
    );
}

#[tokio::test]
async fn parallel_wrong_guesses_still_lock_after_five() {
    let w = world().await;
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let app = w.app.clone();
        tasks.push(tokio::spawn(async move {
            app.login(&attempt("wrong", "000000")).await
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_err());
    }
    let acc = w
        .app
        .store
        .user_account_by_id(w.clerk.user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(acc.locked_until.is_some());
    assert!(acc.failed_logins >= 5);
}

#[tokio::test]
async fn an_edited_outcome_is_caught() {
    assert_eq!(
        tampered(&["UPDATE audit_log SET outcome = 'failure' WHERE seq = 4"]).await,
        Some(4)
    );
}

#[tokio::test]
async fn dropping_the_newest_entries_with_their_checkpoint_rows_is_caught_by_the_journal() {
    let problem = tampered(&[
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_log WHERE seq > 4",
        "UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)",
    ])
    .await;
    assert_eq!(problem, Some(5));
}
