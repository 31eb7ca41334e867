//! `renkei bench`: measurements, not tests. Each prints its figures next to a baseline measured
//! in the same run, so the ratio is what to compare between machines.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use renkei_app::facilities::NewFacility;
use renkei_app::residents::{ConsentInput, RegistrationForm};
use renkei_app::{Actor, App, AppConfig, NewUserRequest, Store};
use renkei_domain::{FacilityKind, Profession, Role};
use std::time::Instant;

#[derive(Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    cmd: BenchCommand,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// 名寄せ on synthetic residents with known truth: precision, recall, F1, time, and
    /// online matching latency.
    Link {
        /// Residents to generate (each seen at one or more facilities).
        #[arg(long, default_value_t = 100_000)]
        persons: usize,
        #[arg(long, default_value_t = 0)]
        threads: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// End-to-end SS-MIX2 ingestion (decode, parse, map, link, store) against the bare insert
    /// of the same resulting rows.
    Ingest {
        /// Messages to ingest.
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        /// Patients they are spread over.
        #[arg(long, default_value_t = 500)]
        patients: usize,
        /// Database (default: a fresh SQLite file in a temporary directory).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(args: BenchArgs) -> Result<()> {
    match args.cmd {
        BenchCommand::Link {
            persons,
            threads,
            seed,
            json,
        } => {
            let mut r = renkei_mpi::evaluate(persons, seed, threads);
            if json {
                r.model_report.clear();
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{} persons, {} records: precision {:.5}, recall {:.5}, F1 {:.5}",
                    r.persons, r.records, r.scores.precision, r.scores.recall, r.scores.f1
                );
                println!(
                    "  train {:.1} s + link {:.1} s = {:.1} s on {} threads",
                    r.train_secs, r.link_secs, r.total_secs, r.threads
                );
                println!("  online match: {:?}", r.online);
                for t in &r.traps {
                    println!("  trap {t:?}");
                }
            }
            Ok(())
        }
        BenchCommand::Ingest {
            messages,
            patients,
            database_url,
            seed,
            json,
        } => ingest(messages, patients, database_url, seed, json).await,
    }
}

async fn ingest(
    n: usize,
    patients: usize,
    database_url: Option<String>,
    seed: u64,
    json: bool,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let store = Store::connect(&url)
        .await
        .context("cannot open the bench database")?;
    let app = App::open(store, AppConfig::new(dir.path().to_path_buf())).await?;
    let code = "1410000010";
    let facility = app
        .add_facility(
            None,
            &NewFacility {
                code: code.into(),
                name: "ベンチ病院".into(),
                kind: FacilityKind::Hospital,
                joined_on: None,
            },
        )
        .await?;
    let clerk = app
        .create_user(
            None,
            &NewUserRequest {
                facility_code: code.into(),
                login: "bench".into(),
                display_name: "bench".into(),
                profession: Profession::Clerk,
                roles: vec![Role::Clerk],
                enrol_totp_now: true,
            },
        )
        .await?;
    let actor = Actor {
        user: clerk.user,
        facility: facility.clone(),
        client_addr: None,
        request_id: None,
    };
    let pids: Vec<String> = (1..=patients.max(1)).map(|i| format!("{i:07}")).collect();
    for pid in &pids {
        app.register_resident(
            &actor,
            &RegistrationForm {
                local_id: pid.clone(),
                name_kana: "ベンチ タロウ".into(),
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
        .await?;
    }
    let files = renkei_testkit::clinical::bench_messages(n, &pids, code, seed);
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();

    // Decoding, tokenizing and mapping alone (no storage), to see where time goes.
    let start = Instant::now();
    let mut mapped_records = 0usize;
    for f in &files {
        if let (Ok(name), Ok(decoded)) = (
            renkei_hl7::ssmix2::FileName::parse(&f.file_name),
            renkei_hl7::decode(&f.bytes),
        ) && let Ok(msg) = renkei_hl7::Message::parse(&decoded.text)
            && let Ok(m) = renkei_hl7::jahis::map_message(&name, &msg)
        {
            mapped_records += m.records.len();
        }
    }
    let map_only = start.elapsed();

    // End to end as `renkei import` does it: batches of 500 files per transaction.
    let start = Instant::now();
    let mut quarantined = 0usize;
    for chunk in files.chunks(500) {
        let batch: Vec<(&str, &[u8])> = chunk
            .iter()
            .map(|f| (f.file_name.as_str(), f.bytes.as_slice()))
            .collect();
        for r in app.ingest_ssmix2_batch(&facility, &batch).await? {
            quarantined += usize::from(r.quarantined.is_some());
        }
    }
    let e2e = start.elapsed();

    // The same messages again, one request at a time as the gateway sends them: everything
    // is unchanged, so this measures the per-message path (lookups, hashing, no writes).
    let start = Instant::now();
    for f in files.iter().take(2000) {
        app.ingest_ssmix2(&facility, &f.file_name, &f.bytes).await?;
    }
    let per_message = files.len().min(2000) as f64 / start.elapsed().as_secs_f64();

    // The ceiling: the same resulting rows inserted bare into an empty records table.
    let mut rows = Vec::new();
    for pid in &pids {
        if let Some(person) = app.store.person_by_local_id(facility.id, pid).await? {
            rows.extend(app.store.records_of(person, true).await?);
        }
    }
    let ceiling = bare_insert(&app.store, &rows).await?;

    let msgs = files.len() as f64;
    let e2e_rate = msgs / e2e.as_secs_f64();
    let ceiling_rate = msgs / ceiling.as_secs_f64();
    let ratio = e2e_rate / ceiling_rate;
    let report = serde_json::json!({
        "backend": app.store.backend_name(),
        "messages": files.len(),
        "bytes": bytes,
        "records": rows.len(),
        "quarantined": quarantined,
        "end_to_end_seconds": e2e.as_secs_f64(),
        "end_to_end_messages_per_second": e2e_rate,
        "resend_one_by_one_messages_per_second": per_message,
        "map_only_seconds": map_only.as_secs_f64(),
        "map_only_messages_per_second": msgs / map_only.as_secs_f64(),
        "mapped_records": mapped_records,
        "bare_insert_seconds": ceiling.as_secs_f64(),
        "bare_insert_messages_per_second": ceiling_rate,
        "ratio_to_bare_insert": ratio,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!(
            "{} messages ({} records, {:.1} MB) on {}",
            files.len(),
            rows.len(),
            bytes as f64 / 1e6,
            app.store.backend_name()
        );
        println!(
            "  end to end:  {e2e_rate:>10.0} messages/s ({:.2} s)",
            e2e.as_secs_f64()
        );
        println!(
            "  bare insert: {ceiling_rate:>10.0} messages/s ({:.2} s)",
            ceiling.as_secs_f64()
        );
        println!(
            "  ratio:       {:>10.1} % of the bare insert",
            ratio * 100.0
        );
        println!(
            "  map only:    {:>10.0} messages/s (decode, tokenize, map; no storage)",
            msgs / map_only.as_secs_f64()
        );
        println!(
            "  resend 1×1:  {per_message:>10.0} messages/s (unchanged input, one request each)"
        );
        if quarantined > 0 {
            println!("  ({quarantined} messages quarantined)");
        }
    }
    Ok(())
}

/// Insert `rows` into a copy of the records table with plain prepared statements in
/// transactions of 1,000 rows: what the storage alone costs.
async fn bare_insert(store: &Store, rows: &[renkei_domain::Record]) -> Result<std::time::Duration> {
    const CREATE: &str = "CREATE TABLE bench_records AS SELECT * FROM records WHERE 1 = 0";
    const INSERT: &str = "INSERT INTO bench_records (person_id, record_id, facility_id, \
         source_group, source_key, resource_type, category, code_system, code, display, \
         effective_on, sensitive, resource, content_hash, version, received_at, updated_at, \
         deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18)";
    macro_rules! run {
        ($pool:expr) => {{
            sqlx::query(CREATE).execute($pool).await?;
            let start = Instant::now();
            for chunk in rows.chunks(1000) {
                let mut tx = $pool.begin().await?;
                for r in chunk {
                    sqlx::query(INSERT)
                        .bind(r.person_id.as_uuid())
                        .bind(r.id)
                        .bind(r.facility_id.as_uuid())
                        .bind(&r.source_group)
                        .bind(&r.input.source_key)
                        .bind(&r.input.resource_type)
                        .bind(r.input.category.as_str())
                        .bind(r.input.code_system.as_deref())
                        .bind(r.input.code.as_deref())
                        .bind(r.input.display.as_deref())
                        .bind(r.input.effective_on)
                        .bind(r.input.sensitive)
                        .bind(sqlx::types::Json(&r.input.resource))
                        .bind(&r.content_hash)
                        .bind(r.version)
                        .bind(r.received_at)
                        .bind(r.updated_at)
                        .bind(r.deleted_at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }
            let took = start.elapsed();
            sqlx::query("DROP TABLE bench_records")
                .execute($pool)
                .await?;
            took
        }};
    }
    Ok(match store {
        Store::Sqlite(pool) => run!(pool),
        Store::Postgres(pool) => run!(pool),
    })
}
