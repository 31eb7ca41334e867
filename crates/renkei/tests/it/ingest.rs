//! Ingestion from the operator's and the facility's side: `renkei import`, `renkei quarantine`
//! and `renkei gateway` against a real server on loopback.

use renkei_app::facilities::NewFacility;
use renkei_app::residents::{ConsentInput, RegistrationForm};
use renkei_app::{Actor, App, AppConfig, NewUserRequest, Store};
use renkei_domain::{FacilityKind, Profession, Role};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sample_storage() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/ssmix2/nho-sample/sampleData/999/901/9999013");
    if p.exists() {
        Some(p)
    } else {
        eprintln!("{} is absent: skipping", p.display());
        None
    }
}

/// A data directory with one hospital and its registered patient 9999013.
async fn network(dir: &Path) -> App {
    let store = Store::connect(&format!("sqlite://{}", dir.join("renkei.db").display()))
        .await
        .unwrap();
    let app = App::open(store, AppConfig::new(dir.to_path_buf()))
        .await
        .unwrap();
    let f = app
        .add_facility(
            None,
            &NewFacility {
                code: "1410000010".into(),
                name: "なぎさ病院".into(),
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
    let actor = Actor {
        user: clerk.user,
        facility: f,
        client_addr: None,
        request_id: None,
    };
    app.register_resident(
        &actor,
        &RegistrationForm {
            local_id: "9999013".into(),
            name_kana: "テスト タロウ".into(),
            sex: "male".into(),
            birth_date: "1950-01-01".into(),
            consent: ConsentInput {
                consent_signed_on: "2000-01-01".into(),
                consent_method: "paper".into(),
                ..ConsentInput::default()
            },
            ..RegistrationForm::default()
        },
    )
    .await
    .unwrap();
    app
}

fn renkei(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_renkei"))
        .args(args)
        .env_remove("RENKEI_DATA_DIR")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

fn stdout_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_summarises_and_quarantine_explains_and_retries() {
    let Some(storage) = sample_storage() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    network(dir.path()).await.store.close().await;
    let d = dir.path().display().to_string();
    let root = storage.display().to_string();
    let summary: serde_json::Value = serde_json::from_str(&stdout_ok(&renkei(&[
        "import",
        "ssmix2",
        &root,
        "--facility",
        "1410000010",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    assert_eq!(summary["files"], 19);
    assert_eq!(summary["quarantined"], 10);
    assert!(summary["accepted"].as_u64().unwrap() >= 9);
    assert!(
        summary["by_resource_type"]["MedicationRequest"]
            .as_u64()
            .unwrap()
            >= 1
    );

    let again: serde_json::Value = serde_json::from_str(&stdout_ok(&renkei(&[
        "import",
        "ssmix2",
        &root,
        "--facility",
        "1410000010",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    assert_eq!(again["accepted"], 0);
    assert_eq!(again["replaced"], 0);
    assert_eq!(again["unchanged"], summary["accepted"]);

    let held: serde_json::Value = serde_json::from_str(&stdout_ok(&renkei(&[
        "quarantine",
        "list",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    let held = held.as_array().unwrap();
    assert_eq!(held.len(), 10, "the same files held once");
    assert!(held.iter().all(|q| q["reason"] == "patient-mismatch"));
    let id = held[0]["id"].as_str().unwrap();
    let out_file = dir.path().join("original.hl7");
    let shown = stdout_ok(&renkei(&[
        "quarantine",
        "show",
        id,
        "--output",
        &out_file.display().to_string(),
        "--data-dir",
        &d,
    ]));
    assert!(shown.contains("patient-mismatch"));
    assert!(std::fs::read(&out_file).unwrap().starts_with(b"MSH|"));
    let retried = stdout_ok(&renkei(&["quarantine", "retry", id, "--data-dir", &d]));
    assert!(
        retried.contains("still held"),
        "a contradiction does not go away by retrying"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_uploads_what_is_new_once_and_survives_a_restart() {
    let Some(sample) = sample_storage() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = network(dir.path()).await;
    let cred = app
        .issue_facility_credential(None, "1410000010")
        .await
        .unwrap();
    let cred_file = dir.path().join("credential.json");
    std::fs::write(&cred_file, serde_json::to_string(&cred).unwrap()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(renkei_web::serve(
        renkei_web::AppState::new(app.clone(), false),
        listener,
    ));
    // The facility's storage: the sample, under its root layout.
    let storage = dir.path().join("storage");
    copy_dir(&sample, &storage.join("999/901/9999013"));
    let args = |extra: &[&str]| {
        let mut v = vec![
            "gateway".to_owned(),
            "--storage".into(),
            storage.display().to_string(),
            "--server".into(),
            url.clone(),
            "--credential".into(),
            cred_file.display().to_string(),
            "--once".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let run = |a: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            renkei(&refs)
        })
    };
    let out = run(args(&[])).await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("19 files, 19 uploaded, 10 quarantined by the network, 0 pending"),
        "{err}"
    );
    let records = app.store.records_of(
        app.store
            .person_by_local_id(
                app.store
                    .facility_by_code("1410000010")
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
                "9999013",
            )
            .await
            .unwrap()
            .unwrap(),
        false,
    );
    let stored = records.await.unwrap().len();
    assert!(stored >= 9);

    // A restart sends nothing it already sent.
    let out = run(args(&[])).await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("19 files, 0 uploaded"), "{err}");

    // A new version of one file is sent, and only it.
    let day = storage.join("999/901/9999013/20110701/OMP-01");
    let old = std::fs::read_dir(&day)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let name = old
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace("_20110701224603984_", "_20110702090000000_");
    std::fs::copy(&old, day.join(name)).unwrap();
    let out = run(args(&[])).await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("20 files, 1 uploaded"), "{err}");
}

/// A storage of `n` versions-free records: the sample prescription under `n` order numbers.
fn big_storage(sample: &Path, root: &Path, n: usize) {
    let src_dir = sample.join("20110701/OMP-01");
    let src = std::fs::read_dir(&src_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(src).unwrap();
    let day = root.join("999/901/9999013/20110701/OMP-01");
    std::fs::create_dir_all(&day).unwrap();
    for i in 0..n {
        let name = format!("9999013_20110701_OMP-01_{i:015}_20110701224603984_01_1");
        std::fs::write(day.join(name), &bytes).unwrap();
    }
}

async fn count(db: &Path, sql: &str) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", db.display()))
        .await
        .unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&mut c)
        .await
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_mid_run_and_run_again_ends_with_exactly_the_expected_records() {
    let Some(sample) = sample_storage() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let storage = work.path().join("storage");
    big_storage(&sample, &storage, 4000);
    let root = storage.display().to_string();

    // The expected end state: one uninterrupted import.
    let clean = tempfile::tempdir().unwrap();
    network(clean.path()).await.store.close().await;
    let c = clean.path().display().to_string();
    stdout_ok(&renkei(&[
        "import",
        "ssmix2",
        &root,
        "--facility",
        "1410000010",
        "--data-dir",
        &c,
    ]));

    // The same import, killed (SIGKILL) once it has stored some, then run again.
    let crashed = tempfile::tempdir().unwrap();
    network(crashed.path()).await.store.close().await;
    let d = crashed.path().display().to_string();
    let db = crashed.path().join("renkei.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_renkei"))
        .args([
            "import",
            "ssmix2",
            &root,
            "--facility",
            "1410000010",
            "--data-dir",
            &d,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let killed_mid_run = loop {
        if let Ok(Some(_)) = child.try_wait() {
            break false;
        }
        if db.exists() && count(&db, "SELECT COUNT(*) FROM provisions").await >= 100 {
            child.kill().unwrap();
            child.wait().unwrap();
            break true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    };
    assert!(
        killed_mid_run,
        "the import finished before it could be killed: make the storage larger"
    );
    let partial = count(&db, "SELECT COUNT(*) FROM records").await;
    stdout_ok(&renkei(&[
        "import",
        "ssmix2",
        &root,
        "--facility",
        "1410000010",
        "--data-dir",
        &d,
    ]));

    let expected = count(
        &clean.path().join("renkei.db"),
        "SELECT COUNT(*) FROM records",
    )
    .await;
    assert!(
        expected > partial,
        "{partial} of {expected} stored before the kill"
    );
    for sql in [
        "SELECT COUNT(*) FROM records",
        "SELECT COUNT(*) FROM records WHERE deleted_at IS NULL",
        "SELECT COUNT(DISTINCT source_group) FROM records",
        "SELECT COUNT(*) FROM provisions",
        "SELECT COUNT(*) FROM quarantine",
    ] {
        assert_eq!(
            count(&db, sql).await,
            count(&clean.path().join("renkei.db"), sql).await,
            "{sql}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broken_storage_is_quarantined_with_reasons_and_nothing_else_is_affected() {
    let Some(good) = sample_storage() else { return };
    let broken = good.join("../../../000/000/0000001");
    let dir = tempfile::tempdir().unwrap();
    network(dir.path()).await.store.close().await;
    let d = dir.path().display().to_string();
    stdout_ok(&renkei(&[
        "import",
        "ssmix2",
        &good.display().to_string(),
        "--facility",
        "1410000010",
        "--data-dir",
        &d,
    ]));
    let before = count(
        &dir.path().join("renkei.db"),
        "SELECT COUNT(*) FROM records",
    )
    .await;
    let summary: serde_json::Value = serde_json::from_str(&stdout_ok(&renkei(&[
        "import",
        "ssmix2",
        &broken.display().to_string(),
        "--facility",
        "1410000010",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    assert_eq!(summary["files"], 3);
    assert_eq!(summary["quarantined"], 3, "{summary}");
    let held: serde_json::Value = serde_json::from_str(&stdout_ok(&renkei(&[
        "quarantine",
        "list",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    let reasons: std::collections::BTreeSet<String> = held
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["reason"].as_str().unwrap().to_owned())
        .collect();
    assert!(reasons.contains("wrong-folder"), "{reasons:?}");
    assert!(reasons.contains("unknown-patient"), "{reasons:?}");
    assert_eq!(
        count(
            &dir.path().join("renkei.db"),
            "SELECT COUNT(*) FROM records"
        )
        .await,
        before,
        "the good patient's records are untouched"
    );
}
