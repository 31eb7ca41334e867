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
        /// Also link the same records with Splink (DuckDB backend) and score its clusters
        /// the same way, side by side. Needs `pip install splink duckdb`.
        #[arg(long)]
        splink: bool,
        /// The Python interpreter that has Splink.
        #[arg(long, default_value = "python3", requires = "splink")]
        python: std::path::PathBuf,
        /// Keep Splink's input CSV, script and clusters in this directory, with the truth
        /// (`truth.csv`).
        #[arg(long, requires = "splink")]
        splink_dir: Option<std::path::PathBuf>,
    },
    /// The clinician viewer on a region-sized database: summary and timeline latency
    /// in-process (authorization and audit included) against the bare read, and pages/s over
    /// HTTP with concurrent clients.
    View(crate::bench_view::ViewArgs),
    /// End-to-end SS-MIX2 ingestion (decode, parse, map, link, store) against the bare insert
    /// of the same resulting rows.
    Ingest {
        /// Messages to ingest.
        #[arg(long, default_value_t = 20_000)]
        messages: usize,
        /// Patients they are spread over.
        #[arg(long, default_value_t = 500)]
        patients: usize,
        /// Files per transaction, as `renkei import` writes them.
        #[arg(long, default_value_t = renkei_app::ingest::IMPORT_BATCH)]
        batch: usize,
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
            splink,
            python,
            splink_dir,
        } => crate::bench_splink::link(&crate::bench_splink::LinkBench {
            persons,
            threads,
            seed,
            json,
            splink,
            python,
            splink_dir,
        }),
        BenchCommand::Ingest {
            messages,
            patients,
            batch,
            database_url,
            seed,
            json,
        } => ingest(messages, patients, batch, database_url, seed, json).await,
        BenchCommand::View(a) => crate::bench_view::run(a).await,
    }
}

async fn ingest(
    n: usize,
    patients: usize,
    batch: usize,
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
    // The ceiling empties the records table: never on a database that holds a region.
    if !store.facilities().await?.is_empty() {
        anyhow::bail!(
            "the bench database already holds facilities; bench ingest needs an empty database"
        );
    }
    let pids: Vec<String> = (1..=patients.max(1)).map(|i| format!("{i:07}")).collect();
    let (app, facility) = bench_region(store, dir.path(), &pids).await?;
    let code = facility.code.as_str().to_owned();
    let mut files = renkei_testkit::clinical::bench_messages(n, &pids, &code, seed);
    // In the order `renkei import` stores a storage's files: by group (patient first), then
    // time. The messages are generated in random patient order, as a live feed sends them.
    files.sort_by_cached_key(|f| {
        renkei_hl7::ssmix2::FileName::parse(&f.file_name)
            .map(|name| renkei_app::ingest::ssmix2_order_key(&name))
            .ok()
    });
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

    // Storing alone: the same batches mapped beforehand (untimed), stored into a second,
    // fresh region (default SQLite only). With mapping out of the way this is the store's
    // serial path, the part of a batch nothing else can overlap.
    let store_only = if database_url.is_none() {
        let store = Store::connect(&format!(
            "sqlite://{}",
            dir.path().join("store-only.db").display()
        ))
        .await?;
        let other_dir = dir.path().join("store-only");
        std::fs::create_dir_all(&other_dir)?;
        let (other, other_facility) = bench_region(store, &other_dir, &pids).await?;
        let prepared: Vec<_> = files
            .chunks(batch.max(1))
            .map(|c| {
                renkei_app::ingest::prepare_ssmix2_files(
                    c.iter()
                        .map(|f| (f.file_name.clone(), f.bytes.clone()))
                        .collect(),
                )
            })
            .collect();
        let start = Instant::now();
        for b in prepared {
            other.store_ssmix2_batch(&other_facility, b).await?;
        }
        Some(start.elapsed())
    } else {
        None
    };

    // End to end as `renkei import` does it: batches of files, one transaction each, the next
    // batch mapped while one is stored. The copy of the input is the import's file reading.
    let start = Instant::now();
    let cpu_start = process_cpu_seconds();
    let mut quarantined = 0usize;
    let batches: Vec<Vec<(String, Vec<u8>)>> = files
        .chunks(batch.max(1))
        .map(|c| {
            c.iter()
                .map(|f| (f.file_name.clone(), f.bytes.clone()))
                .collect()
        })
        .collect();
    app.ingest_ssmix2_stream(&facility, batches, |reports| {
        quarantined += reports.iter().filter(|r| r.quarantined.is_some()).count();
    })
    .await?;
    let e2e = start.elapsed();
    let e2e_cpu = process_cpu_seconds()
        .zip(cpu_start)
        .map(|(end, start)| end - start);

    // The same messages again, one request at a time as the gateway sends them: everything
    // is unchanged, so this measures the per-message path (lookups, hashing, no writes).
    let start = Instant::now();
    for f in files.iter().take(2000) {
        app.ingest_ssmix2(&facility, &f.file_name, &f.bytes).await?;
    }
    let per_message = files.len().min(2000) as f64 / start.elapsed().as_secs_f64();

    // The ceiling: the same resulting rows inserted bare into the emptied records table.
    let mut rows = Vec::new();
    for pid in &pids {
        if let Some(person) = app.store.person_by_local_id(facility.id, pid).await? {
            rows.extend(app.store.records_of(person, true).await?);
        }
    }
    let ceiling = bare_insert(&app.store, &rows, files.len().div_ceil(batch.max(1))).await?;

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
        "end_to_end_cpu_seconds": e2e_cpu,
        "store_only_seconds": store_only.map(|d| d.as_secs_f64()),
        "store_only_messages_per_second": store_only.map(|d| msgs / d.as_secs_f64()),
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
        if let Some(cpu) = e2e_cpu {
            println!(
                "               {cpu:>10.2} CPU seconds ({:.0} µs a message, all threads)",
                cpu / msgs * 1e6
            );
        }
        if let Some(d) = store_only {
            println!(
                "  store only:  {:>10.0} messages/s (the same batches mapped beforehand)",
                msgs / d.as_secs_f64()
            );
        }
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

/// The bench's region: one hospital with `pids` registered (consent on file).
async fn bench_region(
    store: Store,
    data_dir: &std::path::Path,
    pids: &[String],
) -> Result<(App, renkei_domain::Facility)> {
    let app = App::open(store, AppConfig::new(data_dir.to_path_buf())).await?;
    let actor = hospital_with_clerk(&app, "1410000010", "ベンチ病院").await?;
    for pid in pids {
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
    Ok((app, actor.facility))
}

/// CPU time this process has used so far, all threads (Linux `/proc/self/stat`, clock ticks
/// of 10 ms), or `None` where that cannot be read.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A hospital joined to the bench's network, and its clerk (who registers residents).
pub(crate) async fn hospital_with_clerk(app: &App, code: &str, name: &str) -> Result<Actor> {
    let facility = app
        .add_facility(
            None,
            &NewFacility {
                code: code.into(),
                name: name.into(),
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
                login: "clerk".into(),
                display_name: "受付".into(),
                profession: Profession::Clerk,
                roles: vec![Role::Clerk],
                enrol_totp_now: true,
            },
        )
        .await?;
    Ok(Actor {
        user: clerk.user,
        facility,
        client_addr: None,
        request_id: None,
    })
}

/// Insert `rows` bare into the emptied records table (same columns, keys and indexes as
/// ingestion met): multi-row statements of 500 rows in as many transactions as ingestion
/// used, resource JSON already serialised. No lookups, versions, history or provision log:
/// what the storage alone costs.
async fn bare_insert(
    store: &Store,
    rows: &[renkei_domain::Record],
    transactions: usize,
) -> Result<std::time::Duration> {
    let per_tx = rows.len().div_ceil(transactions.max(1)).max(1);
    let encoded: Vec<Box<serde_json::value::RawValue>> = rows
        .iter()
        .map(|r| serde_json::value::to_raw_value(&r.input.resource))
        .collect::<Result<_, _>>()?;
    let rows: Vec<_> = rows.iter().zip(&encoded).collect();
    macro_rules! run {
        ($pool:expr) => {{
            sqlx::query("DELETE FROM record_history").execute($pool).await?;
            sqlx::query("DELETE FROM records").execute($pool).await?;
            let start = Instant::now();
            for tx_rows in rows.chunks(per_tx) {
                let mut tx = $pool.begin().await?;
                for chunk in tx_rows.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::new(
                        "INSERT INTO records (person_id, record_id, facility_id, source_group, \
                         source_key, resource_type, category, code_system, code, display, \
                         effective_on, sensitive, resource, content_hash, version, received_at, \
                         updated_at, deleted_at) ",
                    );
                    qb.push_values(chunk, |mut b, (r, json)| {
                        b.push_bind(r.person_id.as_uuid())
                            .push_bind(r.id)
                            .push_bind(r.facility_id.as_uuid())
                            .push_bind(&r.source_group)
                            .push_bind(&r.input.source_key)
                            .push_bind(&r.input.resource_type)
                            .push_bind(r.input.category.as_str())
                            .push_bind(r.input.code_system.as_deref())
                            .push_bind(r.input.code.as_deref())
                            .push_bind(r.input.display.as_deref())
                            .push_bind(r.input.effective_on)
                            .push_bind(r.input.sensitive)
                            .push_bind(sqlx::types::Json(&**json))
                            .push_bind(&r.content_hash)
                            .push_bind(r.version)
                            .push_bind(r.received_at)
                            .push_bind(r.updated_at)
                            .push_bind(r.deleted_at);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            start.elapsed()
        }};
    }
    Ok(match store {
        Store::Sqlite(pool) => run!(pool),
        Store::Postgres(pool) => run!(pool),
    })
}
