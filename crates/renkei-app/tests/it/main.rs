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
async fn a_user_enrolled_at_creation_gets_recovery_codes_that_work_once() {
    for w in worlds().await {
        let u = w
            .app
            .create_user(
                None,
                &NewUserRequest {
                    facility_code: "1410000010".into(),
                    login: "dr.r".into(),
                    display_name: "医師".into(),
                    profession: Profession::Physician,
                    roles: vec![Role::Clinical],
                    enrol_totp_now: true,
                },
            )
            .await
            .unwrap();
        assert_eq!(u.recovery_codes.len(), 10);
        // The database keeps the TOTP secret sealed, not as the authenticator shows it.
        let stored = w
            .app
            .store
            .user_account_by_id(u.user.id)
            .await
            .unwrap()
            .unwrap()
            .totp_secret
            .unwrap();
        assert!(!stored.contains(u.totp_secret.as_deref().unwrap()));
        let with = |second: &str| LoginAttempt {
            login: "dr.r".into(),
            ..attempt(&u.initial_password, second)
        };
        let first = u.recovery_codes.first().unwrap();
        assert!(w.app.login(&with(first)).await.is_ok());
        assert_eq!(
            w.app.login(&with(first)).await.unwrap_err(),
            LoginError::BadCredentials,
            "a recovery code works once"
        );
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

// ---- ingestion -------------------------------------------------------------------------------

mod ingest {
    use super::*;
    use renkei_app::ingest::IngestReport;
    use renkei_domain::PersonId;
    use std::path::PathBuf;

    fn testdata(rel: &str) -> Option<PathBuf> {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/testdata")
            .join(rel);
        if p.exists() {
            Some(p)
        } else {
            eprintln!("{} is absent: skipping", p.display());
            None
        }
    }

    /// The JP-CLINS examples' hospital (its code is a dummy without a valid check digit, so it
    /// is added the way a migration would, not through the form).
    async fn clins_hospital(w: &World) -> renkei_domain::Facility {
        let f = renkei_domain::Facility {
            id: renkei_domain::FacilityId::new(),
            code: renkei_domain::FacilityCode::from_stored("1318814790".into()),
            name: "JP-CLINS 例示病院".into(),
            kind: FacilityKind::Hospital,
            joined_on: time::macros::date!(2020 - 01 - 01),
            withdrawn_on: None,
        };
        w.app
            .store
            .insert_facility(
                &f,
                renkei_domain::AuditEvent::new(
                    renkei_domain::AuditAction::AdminChange,
                    time::OffsetDateTime::now_utc(),
                ),
            )
            .await
            .unwrap();
        f
    }

    async fn register_at(w: &World, f: &renkei_domain::Facility, local_id: &str) -> PersonId {
        let admin = w
            .app
            .create_user(
                None,
                &NewUserRequest {
                    facility_code: f.code.to_string(),
                    login: format!("clerk{}", &local_id[local_id.len().saturating_sub(3)..]),
                    display_name: "受付".into(),
                    profession: Profession::Clerk,
                    roles: vec![Role::Clerk],
                    enrol_totp_now: true,
                },
            )
            .await
            .unwrap();
        let actor = Actor {
            user: admin.user,
            facility: f.clone(),
            client_addr: None,
            request_id: None,
        };
        let mut form = form(local_id);
        form.consent.consent_signed_on = "2000-01-01".into();
        w.app.register_resident(&actor, &form).await.unwrap()
    }

    fn total(r: &IngestReport) -> u32 {
        r.outcome.accepted + r.outcome.replaced + r.outcome.unchanged
    }

    #[tokio::test]
    async fn a_clins_lab_bundle_is_stored_once_however_often_it_is_sent() {
        let Some(dir) = testdata("fhir/jp-clins") else {
            return;
        };
        for w in worlds().await {
            let f = clins_hospital(&w).await;
            let person = register_at(&w, &f, "000999739").await;
            let bytes = std::fs::read(dir.join("Bundle-Bundle-CLINS-Observations-Example-01.json"))
                .unwrap();
            let first = w
                .app
                .ingest_fhir(&f, Some("obs.json"), &bytes)
                .await
                .unwrap();
            assert_eq!(first.quarantined, None);
            assert!(first.outcome.accepted >= 3, "{first:?}");
            assert_eq!(
                first.by_resource_type.get("Observation"),
                Some(&first.outcome.accepted)
            );
            let again = w
                .app
                .ingest_fhir(&f, Some("obs.json"), &bytes)
                .await
                .unwrap();
            assert_eq!(again.outcome.unchanged, first.outcome.accepted);
            assert!(again.outcome.is_noop());
            assert_eq!(w.app.store.provision_count(f.id).await.unwrap(), 1);
            let records = w.app.store.records_of(person, false).await.unwrap();
            assert_eq!(records.len() as u32, first.outcome.accepted);
            assert!(
                records
                    .iter()
                    .all(|r| r.input.category == renkei_domain::AccessCategory::Labs)
            );
        }
    }

    #[tokio::test]
    async fn a_referral_document_is_kept_whole_with_its_diagnoses_and_allergies() {
        let Some(dir) = testdata("fhir/jp-clins") else {
            return;
        };
        let w = world().await;
        let f = clins_hospital(&w).await;
        let person = register_at(&w, &f, "000999739").await;
        let bytes =
            std::fs::read(dir.join("Bundle-Bundle-CLINS-Referral-Example-01.json")).unwrap();
        let r = w.app.ingest_fhir(&f, None, &bytes).await.unwrap();
        assert_eq!(r.quarantined, None, "{r:?}");
        let records = w.app.store.records_of(person, false).await.unwrap();
        let cats: Vec<_> = records.iter().map(|r| r.input.category).collect();
        assert!(cats.contains(&renkei_domain::AccessCategory::Documents));
        assert!(cats.contains(&renkei_domain::AccessCategory::Diagnoses));
        assert!(cats.contains(&renkei_domain::AccessCategory::Allergies));
    }

    #[tokio::test]
    async fn an_error_example_is_quarantined_with_the_rule_it_breaks_and_its_bytes() {
        let Some(dir) = testdata("fhir/jp-clins") else {
            return;
        };
        for w in worlds().await {
            let f = clins_hospital(&w).await;
            register_at(&w, &f, "000999739").await;
            let bytes =
                std::fs::read(dir.join("Observation-ErrorExample-ObsLabo-eGFR.json")).unwrap();
            let r = w
                .app
                .ingest_fhir(&f, Some("bad.json"), &bytes)
                .await
                .unwrap();
            assert!(r.quarantined.is_some());
            let held = w.app.quarantine_list(Some(&f), None).await.unwrap();
            assert_eq!(held.len(), 1);
            assert!(
                held[0].reason_code.starts_with("clins-"),
                "{}",
                held[0].reason_code
            );
            assert_eq!(held[0].payload, bytes);
            // Sending it again holds it once, with another attempt counted.
            w.app
                .ingest_fhir(&f, Some("bad.json"), &bytes)
                .await
                .unwrap();
            let held = w.app.quarantine_list(Some(&f), None).await.unwrap();
            assert_eq!((held.len(), held[0].attempts), (1, 2));
        }
    }

    #[tokio::test]
    async fn data_for_an_unregistered_patient_waits_and_is_taken_after_registration() {
        let Some(dir) = testdata("fhir/jp-clins") else {
            return;
        };
        let w = world().await;
        let f = clins_hospital(&w).await;
        let bytes =
            std::fs::read(dir.join("Bundle-Bundle-CLINS-Observations-Example-01.json")).unwrap();
        let r = w.app.ingest_fhir(&f, None, &bytes).await.unwrap();
        let id: uuid::Uuid = r.quarantined.unwrap().parse().unwrap();
        let held = w.app.store.quarantined_one(id).await.unwrap().unwrap();
        assert_eq!(held.reason_code, "unknown-patient");
        assert_eq!(
            w.app.store.count_persons().await.unwrap(),
            0,
            "no person made up"
        );
        let person = register_at(&w, &f, "000999739").await;
        let retried = w.app.retry_quarantined(None, id).await.unwrap();
        assert_eq!(retried.quarantined, None);
        assert!(total(&retried) >= 3);
        assert_eq!(
            w.app
                .store
                .quarantined_one(id)
                .await
                .unwrap()
                .unwrap()
                .status,
            renkei_app::QuarantineStatus::Resolved
        );
        assert!(
            !w.app
                .store
                .records_of(person, false)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn an_ssmix2_storage_is_taken_except_what_contradicts_it() {
        let Some(root) = testdata("ssmix2/nho-sample/sampleData/999/901/9999013") else {
            return;
        };
        for w in worlds().await {
            let f = w.clerk.facility.clone();
            let person = register_at(&w, &f, "9999013").await;
            let mut taken = 0;
            let mut held = Vec::new();
            let mut files: Vec<_> = renkei_hl7::ssmix2::walk(&root)
                .map(|f| f.unwrap())
                .collect();
            files.sort_by(|a, b| a.path.cmp(&b.path));
            for file in &files {
                let bytes = file.read().unwrap();
                let r = w
                    .app
                    .ingest_ssmix2(&f, file.name.as_str(), &bytes)
                    .await
                    .unwrap();
                match r.quarantined {
                    None => taken += 1,
                    Some(_) => held.push(file.name.as_str().to_owned()),
                }
            }
            assert_eq!(taken, 9, "held: {held:?}");
            assert_eq!(held.len(), 10);
            let reasons: std::collections::BTreeSet<_> = w
                .app
                .quarantine_list(Some(&f), None)
                .await
                .unwrap()
                .into_iter()
                .map(|q| q.reason_code)
                .collect();
            assert_eq!(
                reasons.into_iter().collect::<Vec<_>>(),
                vec!["patient-mismatch"]
            );
            let stored = w.app.store.records_of(person, false).await.unwrap();
            assert!(stored.len() >= 9);
            // The whole storage again: nothing new.
            for file in &files {
                let bytes = file.read().unwrap();
                let r = w
                    .app
                    .ingest_ssmix2(&f, file.name.as_str(), &bytes)
                    .await
                    .unwrap();
                assert!(r.outcome.is_noop());
            }
            assert_eq!(
                w.app.store.records_of(person, false).await.unwrap().len(),
                stored.len()
            );
        }
    }

    #[tokio::test]
    async fn a_deleted_flag_hides_the_record_and_keeps_it() {
        let Some(root) = testdata("ssmix2/nho-sample/sampleData/999/901/9999013") else {
            return;
        };
        let w = world().await;
        let f = w.clerk.facility.clone();
        let person = register_at(&w, &f, "9999013").await;
        let file = renkei_hl7::ssmix2::walk(&root)
            .map(|f| f.unwrap())
            .find(|f| f.name.as_str().contains("_OMP-01_"))
            .unwrap();
        let bytes = file.read().unwrap();
        let r = w
            .app
            .ingest_ssmix2(&f, file.name.as_str(), &bytes)
            .await
            .unwrap();
        assert!(r.outcome.accepted > 0);
        let deleted_name = format!("{}0", &file.name.as_str()[..file.name.as_str().len() - 1]);
        let r = w
            .app
            .ingest_ssmix2(&f, &deleted_name, &bytes)
            .await
            .unwrap();
        assert!(r.outcome.deleted >= 1, "{r:?}");
        assert!(
            w.app
                .store
                .records_of(person, false)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            !w.app
                .store
                .records_of(person, true)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn undecodable_and_misnamed_input_is_quarantined_with_a_reason() {
        let w = world().await;
        let f = w.clerk.facility.clone();
        let r = w
            .app
            .ingest_ssmix2(&f, "not-a-name", b"MSH|^~\\&|")
            .await
            .unwrap();
        assert!(r.quarantined.is_some());
        let name = "9999013_20111220_OML-11_000000011000354_20111220103059000_01_1";
        let junk = [b'M', b'S', b'H', b'|', 0x1b, b'$', b'B', 0xff, 0xfe];
        let r = w.app.ingest_ssmix2(&f, name, &junk).await.unwrap();
        assert!(r.quarantined.is_some());
        let reasons: Vec<_> = w
            .app
            .quarantine_list(Some(&f), None)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.reason_code)
            .collect();
        assert!(reasons.contains(&"bad-file-name".to_owned()), "{reasons:?}");
        assert_eq!(reasons.len(), 2);
    }

    async fn admin_at(w: &World, code: &str, name: &str) -> Actor {
        let facility = match w.app.store.facility_by_code(code).await.unwrap() {
            Some(f) => f,
            None => w
                .app
                .add_facility(
                    None,
                    &NewFacility {
                        code: code.into(),
                        name: name.into(),
                        kind: FacilityKind::MedicalClinic,
                        joined_on: None,
                    },
                )
                .await
                .unwrap(),
        };
        let u = w
            .app
            .create_user(
                None,
                &NewUserRequest {
                    facility_code: code.into(),
                    login: "admin".into(),
                    display_name: "管理者".into(),
                    profession: Profession::Clerk,
                    roles: vec![Role::FacilityAdmin],
                    enrol_totp_now: true,
                },
            )
            .await
            .unwrap();
        Actor {
            user: u.user,
            facility,
            client_addr: None,
            request_id: None,
        }
    }

    #[tokio::test]
    async fn only_the_facilitys_own_admin_or_the_office_may_retry_or_discard_its_held_input() {
        let w = world().await;
        let f = w.clerk.facility.clone();
        let held = w
            .app
            .ingest_ssmix2(&f, "not-a-name", b"MSH|^~\\&|")
            .await
            .unwrap();
        let id: uuid::Uuid = held.quarantined.unwrap().parse().unwrap();
        let elsewhere = admin_at(&w, "1410001018", "東町内科医院").await;
        for by in [&w.clerk, &elsewhere] {
            assert!(w.app.retry_quarantined(Some(by), id).await.is_err());
            assert!(w.app.discard_quarantined(Some(by), id).await.is_err());
        }
        let status = async || {
            w.app
                .store
                .quarantined_one(id)
                .await
                .unwrap()
                .unwrap()
                .status
        };
        assert_eq!(status().await, renkei_app::QuarantineStatus::Held);
        let own = admin_at(&w, "1410000010", "試験病院").await;
        w.app.discard_quarantined(Some(&own), id).await.unwrap();
        assert_eq!(status().await, renkei_app::QuarantineStatus::Discarded);
    }

    fn ppr01(problems: &[(&str, &str, &str)]) -> Vec<u8> {
        let mut m = String::from(
            "MSH|^~\\&|HIS|SEND|GW|RCV|20260301100000||PPR^ZD1^PPR_ZD1|1|P|2.5\r\
             PID|0001||9999013^^^^PI||試験^太郎^^^^^L^I||19650415|M\r",
        );
        for (id, code, name) in problems {
            m.push_str(&format!(
                "PRB|AD|20260301|{code}^{name}^MDCDX2|{id}|||20250101||||||||||{name}\r"
            ));
        }
        m.into_bytes()
    }

    #[tokio::test]
    async fn a_diagnosis_missing_from_a_newer_problem_list_ends_but_stays_visible() {
        for w in worlds().await {
            let f = w.clerk.facility.clone();
            let person = register_at(&w, &f, "9999013").await;
            let first = ppr01(&[("P1", "20054174", "胃炎"), ("P2", "20061234", "高血圧症")]);
            let r = w
                .app
                .ingest_ssmix2(
                    &f,
                    "9999013_-_PPR-01_999999999999999_20260301100000000_01_1",
                    &first,
                )
                .await
                .unwrap();
            assert_eq!(
                (r.quarantined.clone(), r.outcome.accepted),
                (None, 2),
                "{r:?}"
            );
            // The next snapshot, under another order number, lists only the hypertension.
            let second = ppr01(&[("P2", "20061234", "高血圧症")]);
            let r = w
                .app
                .ingest_ssmix2(
                    &f,
                    "9999013_-_PPR-01_000000000000002_20260315090000000_01_1",
                    &second,
                )
                .await
                .unwrap();
            assert_eq!(r.outcome.replaced, 1, "{r:?}");
            let live = w.app.store.records_of(person, false).await.unwrap();
            assert_eq!(live.len(), 2, "the ended diagnosis is still shown");
            let gastritis = live
                .iter()
                .find(|r| r.input.resource.to_string().contains("胃炎"))
                .unwrap();
            assert_eq!(
                gastritis.input.resource["clinicalStatus"]["coding"][0]["code"],
                "resolved"
            );
            assert_eq!(gastritis.input.resource["abatementDateTime"], "2026-03-15");
        }
    }

    #[tokio::test]
    async fn an_older_version_arriving_late_does_not_overwrite_a_newer_one() {
        let w = world().await;
        let f = w.clerk.facility.clone();
        let person = register_at(&w, &f, "9999013").await;
        let both = ppr01(&[("P1", "20054174", "胃炎"), ("P2", "20061234", "高血圧症")]);
        let newer = ppr01(&[("P2", "20061234", "高血圧症")]);
        let older_name = "9999013_-_PPR-01_999999999999999_20260301100000000_01_1";
        let newer_name = "9999013_-_PPR-01_999999999999999_20260315090000000_01_1";
        w.app.ingest_ssmix2(&f, newer_name, &newer).await.unwrap();
        let late = w.app.ingest_ssmix2(&f, older_name, &both).await.unwrap();
        assert!(
            late.outcome.stale > 0 && late.outcome.accepted == 0,
            "{late:?}"
        );
        let live = w.app.store.records_of(person, false).await.unwrap();
        assert_eq!(live.len(), 1, "the late snapshot did not bring 胃炎 back");
    }

    #[tokio::test]
    async fn a_nul_character_quarantines_the_input_instead_of_failing_the_batch() {
        for w in worlds().await {
            let f = w.clerk.facility.clone();
            let person = register_at(&w, &f, "9999013").await;
            let bad = ppr01(&[("P1", "20054174", "胃\\X00\\炎")]);
            let good = ppr01(&[("P2", "20061234", "高血圧症")]);
            let reports = w
                .app
                .ingest_ssmix2_batch(
                    &f,
                    &[
                        (
                            "9999013_-_PPR-01_000000000000001_20260301100000000_01_1",
                            &bad,
                        ),
                        (
                            "9999013_20260301_OML-11_000000000000009_20260301100000000_01_1",
                            b"junk",
                        ),
                        (
                            "9999013_-_PPR-01_000000000000002_20260302100000000_01_1",
                            &good,
                        ),
                    ],
                )
                .await
                .unwrap();
            assert!(reports[0].quarantined.is_some());
            assert!(reports[1].quarantined.is_some());
            assert_eq!(reports[2].outcome.accepted, 1, "{:?}", reports[2]);
            let reasons: Vec<String> = w
                .app
                .quarantine_list(Some(&f), None)
                .await
                .unwrap()
                .into_iter()
                .map(|q| q.reason_code)
                .collect();
            assert!(
                reasons.contains(&"control-character".to_owned()),
                "{reasons:?}"
            );
            assert_eq!(
                w.app.store.records_of(person, false).await.unwrap().len(),
                1
            );
        }
    }

    /// A referral from `facility` whose 身体所見 section names a DocumentReference with one file.
    fn referral_with_file(
        facility: &str,
        local_id: &str,
        content_type: &str,
        data: &str,
    ) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "resourceType": "Bundle",
            "type": "document",
            "identifier": { "system": "urn:ietf:rfc:3986", "value": "urn:uuid:0b6a3c1e-0000-4000-8000-0000000000a1" },
            "entry": [
                { "fullUrl": "urn:uuid:c", "resource": {
                    "resourceType": "Composition", "status": "final",
                    "type": { "coding": [{ "system": "http://loinc.org", "code": "57133-1" }] },
                    "subject": { "reference": "urn:uuid:p" },
                    "date": "2025-04-01", "title": "診療情報提供書",
                    "section": [{ "title": "身体所見", "text": { "div": "<div>創部写真を添付</div>" },
                        "entry": [{ "reference": "urn:uuid:d" }] }]
                } },
                { "fullUrl": "urn:uuid:p", "resource": {
                    "resourceType": "Patient",
                    "identifier": [{ "system": format!("urn:oid:1.2.392.100495.20.3.51.1{facility}"), "value": local_id }]
                } },
                { "fullUrl": "urn:uuid:d", "resource": {
                    "resourceType": "DocumentReference", "status": "current",
                    "subject": { "reference": "urn:uuid:p" },
                    "content": [{ "attachment": { "contentType": content_type, "title": "創部写真", "data": data } }]
                } }
            ]
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn gps_metadata_is_stripped_from_photos_before_storage() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        use renkei_testkit::attachments::{FAKE_GPS_TEXT, grey_jpeg, photo_with_gps_jpeg};
        for w in worlds().await {
            let f = w.clerk.facility.clone();
            let person = register_at(&w, &f, "0777").await;
            let photo = photo_with_gps_jpeg();
            let bytes = referral_with_file(
                f.code.as_str(),
                "0777",
                "image/jpeg",
                &STANDARD.encode(&photo),
            );
            let r = w
                .app
                .ingest_fhir(&f, Some("ref.json"), &bytes)
                .await
                .unwrap();
            assert_eq!(r.quarantined, None, "{r:?}");
            let records = w.app.store.records_of(person, false).await.unwrap();
            let doc = records
                .iter()
                .find(|r| r.input.resource_type == "Bundle")
                .expect("the document is stored");
            let stored_json = serde_json::to_string(&doc.input.resource).unwrap();
            let files = renkei_fhir::attachment::attachments(&doc.input.resource);
            assert_eq!(files.len(), 1);
            let stored = STANDARD.decode(files[0].data.unwrap()).unwrap();
            let has = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|x| x == needle);
            assert!(
                !has(&stored, FAKE_GPS_TEXT.as_bytes()),
                "no position in the photo"
            );
            assert!(!has(&stored, b"Exif") && !has(&stored, b"xmpmeta"));
            assert_eq!(stored, grey_jpeg(), "the picture itself is kept");
            assert!(
                !stored_json.contains(&STANDARD.encode(&photo)),
                "the original is nowhere in the record"
            );
        }
    }

    #[tokio::test]
    async fn a_quarantined_document_keeps_no_photo_metadata_and_is_taken_on_retry() {
        use base64::Engine;
        use base64::engine::general_purpose::STANDARD;
        use renkei_testkit::attachments::{FAKE_GPS_TEXT, photo_with_gps_jpeg};
        let w = world().await;
        let f = w.clerk.facility.clone();
        let photo = STANDARD.encode(photo_with_gps_jpeg());
        // Sent before the patient is registered: held, twice, as one row.
        let bytes = referral_with_file(f.code.as_str(), "0779", "image/jpeg", &photo);
        for _ in 0..2 {
            let r = w
                .app
                .ingest_fhir(&f, Some("ref.json"), &bytes)
                .await
                .unwrap();
            assert!(r.quarantined.is_some());
        }
        let held = w.app.quarantine_list(Some(&f), None).await.unwrap();
        assert_eq!(held.len(), 1, "a resend meets the same held row");
        assert_eq!(held[0].reason_code, "unknown-patient");
        let kept = String::from_utf8(held[0].payload.clone()).unwrap();
        assert!(
            !kept.contains(&photo),
            "the photo with its metadata is not kept"
        );
        let files = {
            let v: serde_json::Value = serde_json::from_str(&kept).unwrap();
            renkei_fhir::attachment::attachments(&v)
                .iter()
                .filter_map(|a| a.data.map(|d| STANDARD.decode(d).unwrap()))
                .collect::<Vec<_>>()
        };
        assert_eq!(files.len(), 1);
        assert!(
            !files[0]
                .windows(FAKE_GPS_TEXT.len())
                .any(|x| x == FAKE_GPS_TEXT.as_bytes())
        );
        // Once the patient is registered, the held document is taken as it is kept.
        let person = register_at(&w, &f, "0779").await;
        let r = w.app.retry_quarantined(None, held[0].id).await.unwrap();
        assert_eq!(r.quarantined, None, "{r:?}");
        let records = w.app.store.records_of(person, false).await.unwrap();
        assert!(records.iter().any(|r| r.input.resource_type == "Bundle"));
    }

    #[tokio::test]
    async fn an_attachment_that_is_not_base64_quarantines_the_input_with_its_rule() {
        let w = world().await;
        let f = w.clerk.facility.clone();
        let person = register_at(&w, &f, "0778").await;
        let bytes = referral_with_file(f.code.as_str(), "0778", "application/pdf", "%%%not base64");
        let r = w
            .app
            .ingest_fhir(&f, Some("ref.json"), &bytes)
            .await
            .unwrap();
        assert!(r.quarantined.is_some());
        let held = w.app.quarantine_list(Some(&f), None).await.unwrap();
        assert_eq!(held[0].reason_code, "attachment-data-not-base64");
        assert!(
            held[0].reason_detail.contains("content[0].attachment"),
            "{}",
            held[0].reason_detail
        );
        assert!(
            w.app
                .store
                .records_of(person, false)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

// ---- 名寄せ ------------------------------------------------------------------------------------

mod mpi_online;

mod mpi {
    use super::*;

    pub(super) async fn second_clerk(w: &World) -> Actor {
        let f = w
            .app
            .add_facility(
                None,
                &NewFacility {
                    code: "1410001018".into(),
                    name: "東町内科医院".into(),
                    kind: FacilityKind::MedicalClinic,
                    joined_on: None,
                },
            )
            .await
            .unwrap();
        let u = w
            .app
            .create_user(
                None,
                &NewUserRequest {
                    facility_code: "1410001018".into(),
                    login: "clerk".into(),
                    display_name: "受付".into(),
                    profession: Profession::Clerk,
                    roles: vec![Role::Clerk],
                    enrol_totp_now: true,
                },
            )
            .await
            .unwrap();
        Actor {
            user: u.user,
            facility: f,
            client_addr: None,
            request_id: None,
        }
    }

    pub(super) fn resident(
        local: &str,
        kanji: &str,
        kana: &str,
        sex: &str,
        birth: &str,
        address: &str,
    ) -> RegistrationForm {
        let mut f = form(local);
        f.name_kanji = kanji.into();
        f.name_kana = kana.into();
        f.sex = sex.into();
        f.birth_date = birth.into();
        f.postal_code = "240-0001".into();
        f.address = address.into();
        f
    }

    /// A network of a few hundred residents so the model has something to learn from.
    pub(super) async fn trained(w: &World) {
        let names = [
            ("佐藤", "サトウ"),
            ("鈴木", "スズキ"),
            ("高橋", "タカハシ"),
            ("田中", "タナカ"),
            ("伊藤", "イトウ"),
            ("渡辺", "ワタナベ"),
            ("山本", "ヤマモト"),
            ("中村", "ナカムラ"),
        ];
        let given = [
            ("太郎", "タロウ", "male"),
            ("花子", "ハナコ", "female"),
            ("一郎", "イチロウ", "male"),
            ("洋子", "ヨウコ", "female"),
        ];
        let mut n = 0;
        for (fk, fr) in names {
            for (gk, gr, sex) in given {
                for year in [1931, 1944, 1957, 1968, 1979] {
                    n += 1;
                    let r = resident(
                        &format!("T{n}"),
                        &format!("{fk}　{gk}"),
                        &format!("{fr} {gr}"),
                        sex,
                        &format!("{year}-0{}-1{}", 1 + n % 9, n % 10),
                        &format!("横浜市中区本町{}-{}-{}", n % 5 + 1, n % 7 + 1, n),
                    );
                    w.app.register_resident(&w.clerk, &r).await.unwrap();
                }
            }
        }
        w.app.train_mpi(None).await.unwrap();
    }

    pub(super) async fn live_count(w: &World) -> usize {
        w.app.store.live_persons().await.unwrap().len()
    }

    #[tokio::test]
    async fn the_same_resident_registered_at_two_facilities_becomes_one_person_and_unmerges_exactly()
     {
        for w in worlds().await {
            trained(&w).await;
            let clinic = second_clerk(&w).await;
            let at_hospital = resident(
                "H1",
                "髙橋　清子",
                "タカハシ キヨコ",
                "female",
                "1938-07-07",
                "横浜市中区山下町1-2-3",
            );
            let a = w
                .app
                .register_resident(&w.clerk, &at_hospital)
                .await
                .unwrap();
            let before = live_count(&w).await;
            let links_a = w.app.store.local_patients(a).await.unwrap();
            // The clinic writes the name with the common kanji and the address in full.
            let at_clinic = resident(
                "C77",
                "高橋　清子",
                "タカハシ キヨコ",
                "female",
                "1938-07-07",
                "神奈川県横浜市中区山下町１丁目２番地３号",
            );
            let b = w.app.register_resident(&clinic, &at_clinic).await.unwrap();
            assert_eq!(b, a, "linked to the existing person");
            assert_eq!(live_count(&w).await, before, "no second person");
            assert_eq!(w.app.store.local_patients(a).await.unwrap().len(), 2);

            let merge = w.app.store.merges(10).await.unwrap().remove(0);
            let back = w.app.unmerge(None, merge.id).await.unwrap();
            assert_eq!(live_count(&w).await, before + 1);
            assert_eq!(
                w.app.store.local_patients(a).await.unwrap(),
                links_a,
                "exactly the earlier links"
            );
            let merged = w.app.store.local_patients(back.merged).await.unwrap();
            assert_eq!(merged.len(), 1);
            assert_eq!(merged[0].local_id.as_str(), "C77");
            assert_eq!(w.app.store.consents(back.merged).await.unwrap().len(), 1);
            assert!(
                w.app
                    .store
                    .care_relationship(back.merged, clinic.facility.id)
                    .await
                    .unwrap()
                    .is_some()
            );
            let actions: Vec<_> = w
                .app
                .store
                .audit_entries(&Default::default(), 0, 10_000)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.event.action)
                .collect();
            assert!(actions.contains(&renkei_domain::AuditAction::Merge));
            assert!(actions.contains(&renkei_domain::AuditAction::Unmerge));
        }
    }

    #[tokio::test]
    async fn twins_are_not_merged_and_a_reviewed_pair_is_never_proposed_again() {
        let w = world().await;
        trained(&w).await;
        let clinic = second_clerk(&w).await;
        let a = w
            .app
            .register_resident(
                &w.clerk,
                &resident(
                    "H2",
                    "山田　一樹",
                    "ヤマダ カズキ",
                    "male",
                    "1990-03-03",
                    "横浜市中区本町9-9-9",
                ),
            )
            .await
            .unwrap();
        let b = w
            .app
            .register_resident(
                &clinic,
                &resident(
                    "C2",
                    "山田　直樹",
                    "ヤマダ ナオキ",
                    "male",
                    "1990-03-03",
                    "横浜市中区本町9-9-9",
                ),
            )
            .await
            .unwrap();
        assert_ne!(a, b, "twins stay two people");
        // Namesakes with one birth date in different towns: a reviewer decides.
        let c = w
            .app
            .register_resident(
                &w.clerk,
                &resident(
                    "H3",
                    "田中　太郎",
                    "タナカ タロウ",
                    "male",
                    "1950-05-05",
                    "横浜市中区本町1-1-1",
                ),
            )
            .await
            .unwrap();
        let mut other = resident(
            "C3",
            "田中　太郎",
            "タナカ タロウ",
            "male",
            "1950-05-05",
            "川崎市幸区南幸町3-3-3",
        );
        other.postal_code = "212-0016".into();
        let d = w.app.register_resident(&clinic, &other).await.unwrap();
        assert_ne!(c, d, "strangers are not linked automatically");
        let queue = w.app.review_queue(&w.clerk).await.unwrap();
        let item = queue
            .iter()
            .find(|i| {
                (i.person.id == d && i.candidate.id == c)
                    || (i.person.id == c && i.candidate.id == d)
            })
            .expect("the namesakes are in the review queue with their evidence");
        assert!(!item.evidence.is_empty());
        w.app
            .decide_match(&w.clerk, item.match_id, false)
            .await
            .unwrap();
        // A second reviewer's "same" that was on its way loses to the first decision: the
        // store refuses the merge and nothing moves.
        let late = w
            .app
            .store
            .merge_persons(
                item.candidate.id,
                item.person.id,
                Some(item.match_id),
                None,
                renkei_domain::AuditEvent::new(
                    renkei_domain::AuditAction::Merge,
                    time::OffsetDateTime::now_utc(),
                ),
            )
            .await;
        assert!(
            matches!(late, Err(renkei_store::StoreError::Conflict(_))),
            "{late:?}"
        );
        assert!(w.app.store.merges(10).await.unwrap().is_empty());
        // Matching the same person again does not ask about that pair again.
        w.app.match_new_person(d).await.unwrap();
        let again = w.app.review_queue(&w.clerk).await.unwrap();
        assert!(
            !again
                .iter()
                .any(|i| (i.person.id == d && i.candidate.id == c)
                    || (i.person.id == c && i.candidate.id == d))
        );
    }
}
