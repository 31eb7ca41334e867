//! The operator's command line: admin commands, audit verify after tampering, export, config.

use std::path::Path;
use std::process::{Command, Output};

fn renkei(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_renkei"))
        .args(args)
        .env_remove("RENKEI_DATA_DIR")
        .env_remove("RENKEI_DATABASE_URL")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn dir_arg(dir: &Path) -> String {
    dir.display().to_string()
}

#[test]
fn facilities_and_users_are_added_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir_arg(dir.path());
    let bad = renkei(&[
        "admin",
        "facility",
        "add",
        "--code",
        "1410000011",
        "--name",
        "病院",
        "--kind",
        "hospital",
        "--data-dir",
        &d,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("check digit"));

    ok(&renkei(&[
        "admin",
        "facility",
        "add",
        "--code",
        "1410000010",
        "--name",
        "なぎさ病院",
        "--kind",
        "hospital",
        "--data-dir",
        &d,
    ]));
    let list: serde_json::Value = serde_json::from_str(&ok(&renkei(&[
        "admin",
        "facility",
        "list",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    assert_eq!(list[0]["code"], "1410000010");
    assert_eq!(list[0]["kind"], "hospital");

    let user: serde_json::Value = serde_json::from_str(&ok(&renkei(&[
        "admin",
        "user",
        "add",
        "--facility",
        "1410000010",
        "--login",
        "dr.sato",
        "--profession",
        "physician",
        "--role",
        "clinical",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    assert_eq!(user["initial_password"].as_str().unwrap().len(), 16);
    let secret = user["totp_secret"].as_str().unwrap();
    assert!(
        secret.len() >= 32
            && secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
    );

    let dup = renkei(&[
        "admin",
        "user",
        "add",
        "--facility",
        "1410000010",
        "--login",
        "dr.sato",
        "--profession",
        "physician",
        "--role",
        "clinical",
        "--data-dir",
        &d,
    ]);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("login name already exists"));

    let reset: serde_json::Value = serde_json::from_str(&ok(&renkei(&[
        "admin",
        "user",
        "reset-password",
        "--facility",
        "1410000010",
        "--login",
        "dr.sato",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    assert_ne!(reset["password"], user["initial_password"]);
}

#[tokio::test]
async fn audit_verify_fails_after_a_row_is_edited_and_export_writes_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir_arg(dir.path());
    ok(&renkei(&[
        "admin",
        "facility",
        "add",
        "--code",
        "1410000010",
        "--name",
        "なぎさ病院",
        "--kind",
        "hospital",
        "--data-dir",
        &d,
    ]));
    for login in ["a.one", "b.two", "c.three"] {
        ok(&renkei(&[
            "admin",
            "user",
            "add",
            "--facility",
            "1410000010",
            "--login",
            login,
            "--profession",
            "nurse",
            "--role",
            "clinical",
            "--data-dir",
            &d,
        ]));
    }
    ok(&renkei(&["audit", "checkpoint", "--data-dir", &d]));
    let out = ok(&renkei(&["audit", "verify", "--data-dir", &d]));
    assert!(
        out.contains("intact: 5 entries, 1 signed checkpoints"),
        "{out}"
    );

    let csv = ok(&renkei(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--data-dir",
        &d,
    ]));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("seq,time_jst,facility_code"));
    assert_eq!(lines.len(), 6);
    let none = ok(&renkei(&[
        "audit",
        "export",
        "--format",
        "csv",
        "--from",
        "2000-01-01",
        "--to",
        "2000-01-31",
        "--data-dir",
        &d,
    ]));
    assert_eq!(none.lines().count(), 1, "only the header");

    // Edit one row the way someone with the sqlite3 shell would.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            dir.path().join("renkei.db").display()
        ))
        .await
        .unwrap();
        sqlx::query("UPDATE audit_log SET action = 'login' WHERE seq = 3")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let out = renkei(&["audit", "verify", "--data-dir", &d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BROKEN at entry 3"));
}

#[test]
fn settings_come_from_a_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("from-file");
    let cfg = dir.path().join("renkei.toml");
    std::fs::write(
        &cfg,
        format!(
            "data_dir = {:?}\nidle_timeout_minutes = 10\n",
            data.display().to_string()
        ),
    )
    .unwrap();
    ok(&renkei(&[
        "admin",
        "facility",
        "add",
        "--code",
        "1410000010",
        "--name",
        "x",
        "--kind",
        "hospital",
        "--config",
        &cfg.display().to_string(),
    ]));
    assert!(data.join("renkei.db").exists());
    assert!(data.join("keys/audit-ed25519.key").exists());

    std::fs::write(&cfg, "data_dir = 3\n").unwrap();
    let bad = renkei(&[
        "admin",
        "facility",
        "list",
        "--config",
        &cfg.display().to_string(),
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid config file"));
}

#[test]
fn the_access_matrix_is_shown_and_replaced_as_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir_arg(dir.path());
    let shown = ok(&renkei(&["admin", "policy", "show", "--data-dir", &d]));
    assert!(shown.contains("access matrix version 1") && shown.contains("care-worker"));
    let mut m: serde_json::Value = serde_json::from_str(&ok(&renkei(&[
        "admin",
        "policy",
        "show",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    // The council lets care workers see lab values.
    m["by_profession"]["care-worker"]
        .as_array_mut()
        .unwrap()
        .push("labs".into());
    let file = dir.path().join("matrix.json");
    std::fs::write(&file, m.to_string()).unwrap();
    let out = ok(&renkei(&[
        "admin",
        "policy",
        "set",
        "--file",
        &file.display().to_string(),
        "--data-dir",
        &d,
    ]));
    assert!(out.contains("version 2"), "{out}");
    let now: serde_json::Value = serde_json::from_str(&ok(&renkei(&[
        "admin",
        "policy",
        "show",
        "--json",
        "--data-dir",
        &d,
    ])))
    .unwrap();
    assert_eq!(now["version"], 2);
    assert!(
        now["by_profession"]["care-worker"]
            .as_array()
            .unwrap()
            .contains(&"labs".into())
    );

    std::fs::write(&file, "{\"version\": 1}").unwrap();
    let bad = renkei(&[
        "admin",
        "policy",
        "set",
        "--file",
        &file.display().to_string(),
        "--data-dir",
        &d,
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not an access matrix"));
}

#[test]
fn link_clusters_a_csv_and_explains_a_bad_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("records.csv");
    std::fs::write(
        &input,
        "record_id,facility,local_id,name_kanji,name_kana,sex,birth_date,postal_code,address,insurer_number,insured_symbol,insured_number,insured_branch\n\
         r1,1410000010,001,髙橋　花子,ﾀｶﾊｼ ﾊﾅｺ,2,19400102,240-0001,神奈川県横浜市中区山下町１丁目２番地３号,06140013,12,345,01\n\
         r2,1410001018,A9,高橋　花子,タカハシ ハナコ,F,1940-01-02,2400001,横浜市中区山下町1-2-3,6140013,12,345,1\n\
         r3,1410000010,002,佐藤　太郎,サトウ タロウ,1,19550505,240-0002,横浜市中区本町2-1,,,,\n",
    )
    .unwrap();
    let output = dir.path().join("clusters.csv");
    ok(&renkei(&[
        "link",
        "--input",
        &input.display().to_string(),
        "--output",
        &output.display().to_string(),
        "--threads",
        "1",
    ]));
    let out = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "record_id,cluster_id");
    let cluster = |id: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        cluster("r1"),
        cluster("r2"),
        "itaiji, half-width kana and formats link"
    );
    assert_ne!(cluster("r1"), cluster("r3"));

    std::fs::write(
        &input,
        "record_id,facility,local_id,name_kanji,name_kana,sex,birth_date,postal_code,address,insurer_number,insured_symbol,insured_number,insured_branch\n\
         r1,,,,ヤマダ,X,19400102,,,,,,\n",
    )
    .unwrap();
    let bad = renkei(&[
        "link",
        "--input",
        &input.display().to_string(),
        "--output",
        &output.display().to_string(),
    ]);
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("sex") && !err.contains("ヤマダ"), "{err}");
}
