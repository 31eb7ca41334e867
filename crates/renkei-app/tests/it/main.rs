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

/// A fresh network on SQLite, and on PostgreSQL too when `RENKEI_TEST_PG_URL` is set.
async fn worlds() -> Vec<World> {
    let mut out = vec![world().await];
    if let Ok(admin) = std::env::var("RENKEI_TEST_PG_URL") {
        out.push(world_on(Some(&fresh_pg_database(&admin).await)).await);
    }
    out
}

async fn fresh_pg_database(admin_url: &str) -> String {
    use sqlx::Connection;
    let name = format!("renkei_app_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let base = base.rsplit_once('/').map(|(b, _)| b).unwrap_or(base);
    format!("{base}/{name}{query}")
}

/// A fresh network on SQLite.
async fn world() -> World {
    world_on(None).await
}

async fn world_on(url: Option<&str>) -> World {
    let dir = tempfile::tempdir().unwrap();
    let url = url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("r.db").display()));
    let store = Store::connect(&url).await.unwrap();
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
        consent: renkei_app::residents::ConsentInput {
            consent_signed_on: "2026-01-05".into(),
            consent_method: "paper".into(),
            ..Default::default()
        },
        ..RegistrationForm::default()
    }
}

#[tokio::test]
async fn password_and_totp_sign_in_and_five_failures_lock_the_account() {
    for w in worlds().await {
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
}

#[tokio::test]
async fn consent_dated_in_the_future_writes_nothing() {
    for w in worlds().await {
        let before = w.app.store.audit_head().await.unwrap();
        let mut f = form("1");
        f.consent.consent_signed_on = "2099-01-01".into();
        let err = w.app.register_resident(&w.clerk, &f).await.unwrap_err();
        assert_eq!(err.code(), "consent-signed-in-future");
        assert!(err.message_ja().contains("未来"));
        assert_eq!(w.app.store.count_persons().await.unwrap(), 0);
        assert_eq!(w.app.store.audit_head().await.unwrap(), before);
    }
}

#[tokio::test]
async fn withdrawal_takes_effect_once_and_is_audited() {
    for w in worlds().await {
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
    for w in worlds().await {
        let c = code(&w.secret);
        assert!(w.app.login(&attempt(&w.password, &c)).await.is_ok());
        assert_eq!(
            w.app.login(&attempt(&w.password, &c)).await.unwrap_err(),
            LoginError::BadCredentials
        );
    }
}

#[tokio::test]
async fn parallel_wrong_guesses_still_lock_after_five() {
    for w in worlds().await {
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

async fn second_facility(w: &World) -> renkei_domain::Facility {
    w.app
        .add_facility(
            None,
            &NewFacility {
                code: "1440000014".into(),
                name: "試験薬局".into(),
                kind: FacilityKind::Pharmacy,
                joined_on: None,
            },
        )
        .await
        .unwrap()
}

#[tokio::test]
async fn a_blanket_consent_can_exclude_facilities_but_not_the_registering_one() {
    for w in worlds().await {
        let pharmacy = second_facility(&w).await;
        let mut f = form("10");
        f.consent.consent_facilities = "1440000014".into();
        let person = w.app.register_resident(&w.clerk, &f).await.unwrap();
        let consent = &w.app.store.consents(person).await.unwrap()[0];
        assert_eq!(
            consent.mode,
            renkei_domain::ConsentMode::Blanket {
                excluded: vec![pharmacy.id]
            }
        );
        assert!(!consent.covers(renkei_domain::ConsentScope::Regional, pharmacy.id));

        let mut f = form("11");
        f.consent.consent_facilities = "1410000010".into();
        let err = w.app.register_resident(&w.clerk, &f).await.unwrap_err();
        assert_eq!(err.code(), "consent_facilities");

        let mut f = form("12");
        f.consent.consent_facilities = "1499999999".into();
        assert!(w.app.register_resident(&w.clerk, &f).await.is_err());
        assert_eq!(w.app.store.count_persons().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn a_facility_specific_consent_always_includes_the_registering_facility() {
    for w in worlds().await {
        let pharmacy = second_facility(&w).await;
        let mut f = form("20");
        f.consent.consent_mode = "facility-specific".into();
        f.consent.consent_facilities = "1440000014".into();
        let person = w.app.register_resident(&w.clerk, &f).await.unwrap();
        let consent = &w.app.store.consents(person).await.unwrap()[0];
        assert_eq!(
            consent.mode,
            renkei_domain::ConsentMode::FacilitySpecific {
                facilities: vec![w.clerk.facility.id, pharmacy.id]
            }
        );
    }
}

#[tokio::test]
async fn a_resident_can_consent_again_after_withdrawing() {
    for w in worlds().await {
        let person = w
            .app
            .register_resident(&w.clerk, &form("30"))
            .await
            .unwrap();
        let input = renkei_app::residents::ConsentInput {
            consent_signed_on: "2026-02-01".into(),
            consent_method: "paper".into(),
            ..Default::default()
        };
        let err = w
            .app
            .record_consent(&w.clerk, person, &input)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "consent", "refused while a consent is active");
        let first = w.app.store.consents(person).await.unwrap()[0].id;
        w.app
            .withdraw_consent(&w.clerk, person, first)
            .await
            .unwrap();
        w.app
            .record_consent(&w.clerk, person, &input)
            .await
            .unwrap();
        let consents = w.app.store.consents(person).await.unwrap();
        assert_eq!(consents.len(), 2);
        assert_eq!(
            renkei_domain::consent::consent_state(&consents, time::OffsetDateTime::now_utc()),
            renkei_domain::consent::ConsentState::Active
        );
    }
}
