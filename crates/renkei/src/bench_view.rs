//! `renkei bench view`: the clinician viewer against a region-sized database. A region of
//! persons and records is generated once (kept with `--data-dir`), then the summary and the
//! first timeline page of persons with many records are timed in-process — authorization and
//! the audit write included — next to the bare read of the same records, and over HTTP with
//! concurrent clients.

use anyhow::{Context, Result, bail};
use clap::Args;
use renkei_app::residents::{ConsentInput, RegistrationForm};
use renkei_app::view::TimelineFilter;
use renkei_app::{Actor, App, AppConfig, NewUserRequest, Store};
use renkei_domain::record::EncodedRecord;
use renkei_domain::{FacilityCode, PersonId, Profession, Role};
use renkei_store::{GroupWrite, GroupWriteMode, NewProvision};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

#[derive(Args)]
pub struct ViewArgs {
    /// Residents in the region.
    #[arg(long, default_value_t = 100_000)]
    persons: usize,
    /// Records in the region, in all.
    #[arg(long, default_value_t = 10_000_000)]
    records: usize,
    /// Persons measured, each with `--their-records` records.
    #[arg(long, default_value_t = 20)]
    measured: usize,
    #[arg(long, default_value_t = 1_000)]
    their_records: usize,
    /// In-process rounds (one summary and one timeline page per round).
    #[arg(long, default_value_t = 500)]
    rounds: usize,
    /// Concurrent HTTP clients, and how long they run.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Keep the generated region here and reuse it on the next run (SQLite).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Database (default: SQLite in the data directory).
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long)]
    json: bool,
}

/// What the generated region needs to be measured again.
#[derive(serde::Serialize, serde::Deserialize)]
struct Region {
    persons: usize,
    /// As asked for, and as written (the share per person is rounded down).
    asked_records: usize,
    records: usize,
    facility_code: String,
    login: String,
    password: String,
    totp_secret: String,
    measured: Vec<PersonId>,
}

const REGION_FILE: &str = "bench-view-region.json";

pub async fn run(a: ViewArgs) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let dir = a
        .data_dir
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let url = a
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("bench-view.db").display()));
    let store = Store::connect(&url)
        .await
        .context("cannot open the bench database")?;
    let app = App::open(store, AppConfig::new(dir.clone())).await?;
    let region_file = dir.join(REGION_FILE);
    let region = match std::fs::read(&region_file) {
        Ok(bytes) => {
            let r: Region = serde_json::from_slice(&bytes)?;
            if r.persons != a.persons || r.asked_records != a.records {
                bail!(
                    "{} holds a region of {} persons and {} records; use another --data-dir",
                    dir.display(),
                    r.persons,
                    r.records
                );
            }
            eprintln!("reusing the region in {}", dir.display());
            r
        }
        Err(_) => {
            // The bench adds a region of its own: never into a database that holds one.
            if !app.store.facilities().await?.is_empty() {
                bail!(
                    "the bench database already holds facilities but {} has no bench region; \
                     give an empty database",
                    dir.display()
                );
            }
            let started = Instant::now();
            let r = generate(&app, &a).await?;
            std::fs::write(&region_file, serde_json::to_vec(&r)?)?;
            eprintln!(
                "generated {} persons and {} records in {:.0} s",
                r.persons,
                r.records,
                started.elapsed().as_secs_f64()
            );
            r
        }
    };
    let report = measure(&app, &region, &a).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    app.store.close().await;
    Ok(())
}

async fn generate(app: &App, a: &ViewArgs) -> Result<Region> {
    if a.measured > a.persons || a.measured * a.their_records > a.records {
        bail!("--measured persons with --their-records each must fit in the region");
    }
    // Ten facilities; the viewer's is the first. Codes from the prefecture 13 range.
    let mut facilities = Vec::new();
    for i in 0..10u32 {
        let code = FacilityCode::with_check_digit(&format!("131{:06}", 1000 + i))
            .context("facility code")?;
        facilities.push(
            crate::bench::hospital_with_clerk(app, code.as_str(), &format!("ベンチ病院{i}"))
                .await?,
        );
    }
    let viewer_facility = facilities.first().context("no facility")?.facility.clone();
    let doctor = app
        .create_user(
            None,
            &NewUserRequest {
                facility_code: viewer_facility.code.as_str().to_owned(),
                login: "doctor".into(),
                display_name: "ベンチ医師".into(),
                profession: Profession::Physician,
                roles: vec![Role::Clinical],
                enrol_totp_now: true,
            },
        )
        .await?;

    // Residents, each registered (with consent) at one facility; the measured ones at the
    // viewer's, so the doctor has a care relationship with them.
    let bar = crate::import_cmd::progress(a.persons as u64);
    bar.set_message("residents");
    let mut persons: Vec<(PersonId, usize)> = Vec::with_capacity(a.persons);
    for i in 0..a.persons {
        let fi = if i < a.measured {
            0
        } else {
            i % facilities.len()
        };
        let actor = facilities.get(fi).context("facility")?;
        let p = app
            .register_resident(
                actor,
                &RegistrationForm {
                    local_id: format!("{i:08}"),
                    name_kana: format!("ベンチ {}", kana_name(i)),
                    sex: if i % 2 == 0 { "male" } else { "female" }.into(),
                    birth_date: format!("19{:02}-{:02}-{:02}", 30 + i % 60, 1 + i % 12, 1 + i % 28),
                    consent: ConsentInput {
                        consent_signed_on: "2015-04-01".into(),
                        consent_method: "paper".into(),
                        ..ConsentInput::default()
                    },
                    ..RegistrationForm::default()
                },
            )
            .await?;
        persons.push((p, fi));
        bar.inc(1);
    }
    bar.finish_and_clear();

    // Record templates: a realistic mix of mapped SS-MIX2 messages, encoded once.
    let templates = templates()?;
    // Records arrive over time for everyone at once, as in a running region, so one person's
    // records are spread through the database rather than stored together.
    let ordinary = (a.records - a.measured * a.their_records) / (a.persons - a.measured).max(1);
    let per_group = 10usize;
    let rounds = a.their_records.max(ordinary).div_ceil(per_group);
    let bar = crate::import_cmd::progress(a.records as u64);
    bar.set_message("records");
    let now = OffsetDateTime::now_utc();
    let start_day = time::macros::date!(2016 - 01 - 01);
    let mut written = 0usize;
    let mut t = 0usize;
    for round in 0..rounds {
        let mut by_facility: Vec<Vec<GroupWrite>> = vec![Vec::new(); facilities.len()];
        for (i, &(person, fi)) in persons.iter().enumerate() {
            let wanted = if i < a.measured {
                a.their_records
            } else {
                ordinary
            };
            let from = round * per_group;
            if from >= wanted || written >= a.records {
                continue;
            }
            let n = per_group.min(wanted - from);
            let day = start_day + time::Duration::days(((round * 3650) / rounds) as i64);
            let mut records = Vec::with_capacity(n);
            for k in 0..n {
                let mut r = templates
                    .get(t % templates.len())
                    .context("no templates")?
                    .clone();
                t += 1;
                r.input.source_key = format!("{}#{k}", r.input.source_key);
                r.input.effective_on = Some(day);
                records.push(r);
            }
            written += n;
            if let Some(w) = by_facility.get_mut(fi) {
                w.push(GroupWrite {
                    person,
                    group: format!("bench:{i}:{round}"),
                    records,
                    mode: GroupWriteMode::Replace,
                    provision: NewProvision {
                        channel: "ssmix2",
                        source_name: None,
                        payload_hash: format!("{i}:{round}"),
                        source_time: None,
                    },
                });
            }
        }
        for (f, writes) in facilities.iter().zip(by_facility) {
            for chunk in writes.chunks(1000) {
                app.store.store_groups(f.facility.id, chunk, now).await?;
                bar.inc(chunk.iter().map(|w| w.records.len() as u64).sum());
            }
        }
    }
    bar.finish_and_clear();
    Ok(Region {
        persons: a.persons,
        asked_records: a.records,
        records: written,
        facility_code: viewer_facility.code.as_str().to_owned(),
        login: "doctor".into(),
        password: doctor.initial_password,
        totp_secret: doctor.totp_secret.context("TOTP secret")?,
        measured: persons.iter().take(a.measured).map(|p| p.0).collect(),
    })
}

fn kana_name(i: usize) -> String {
    const KANA: [char; 10] = ['ア', 'イ', 'ウ', 'エ', 'オ', 'カ', 'キ', 'ク', 'ケ', 'コ'];
    let mut n = i;
    let mut s = String::new();
    for _ in 0..5 {
        s.extend(KANA.get(n % 10));
        n /= 10;
    }
    s
}

/// Mapped records of a realistic message mix (labs, prescriptions, diagnoses, allergies,
/// encounters), encoded.
fn templates() -> Result<Vec<EncodedRecord>> {
    let pids: Vec<String> = (1..=50).map(|i| format!("{i:07}")).collect();
    let files = renkei_testkit::clinical::bench_messages(2_000, &pids, "1310001000", 11);
    let mut out = Vec::new();
    for f in &files {
        if let (Ok(name), Ok(decoded)) = (
            renkei_hl7::ssmix2::FileName::parse(&f.file_name),
            renkei_hl7::decode(&f.bytes),
        ) && let Ok(msg) = renkei_hl7::Message::parse(&decoded.text)
            && let Ok(m) = renkei_hl7::jahis::map_message(&name, &msg)
        {
            out.extend(m.records.into_iter().map(EncodedRecord::from));
        }
    }
    if out.is_empty() {
        bail!("no record templates");
    }
    Ok(out)
}

#[derive(serde::Serialize)]
struct Latency {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

fn latency(mut v: Vec<Duration>) -> Latency {
    v.sort();
    let at = |q: f64| {
        v.get(((v.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Latency {
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        max_ms: at(1.0),
    }
}

#[derive(serde::Serialize)]
struct Report {
    backend: &'static str,
    persons: usize,
    records: usize,
    measured_person_records: usize,
    /// The bare read of the same person's records (the baseline).
    bare_read: Latency,
    /// The same person's record heads alone, as every view reads them first.
    heads_read: Latency,
    summary: Latency,
    timeline_first_page: Latency,
    /// Summary and first timeline page together, as a doctor opens a patient (the heads kept
    /// since an earlier page of that patient).
    summary_and_timeline: Latency,
    summary_and_timeline_p99_over_bare_read_p99: f64,
    /// The same with no heads kept: each page reads them from the store.
    summary_and_timeline_heads_read_each_page: Latency,
    http_clients: usize,
    http_seconds: f64,
    http_pages: usize,
    http_pages_per_second: f64,
    http_errors: usize,
    http_page: Latency,
    http_pages_per_second_heads_read_each_page: f64,
    http_errors_heads_read_each_page: usize,
    http_page_heads_read_each_page: Latency,
}

async fn measure(app: &App, region: &Region, a: &ViewArgs) -> Result<Report> {
    let actor = sign_in(app, region).await?;
    let persons = &region.measured;
    if persons.is_empty() {
        bail!("no measured persons");
    }
    let their = app
        .store
        .records_of(*persons.first().context("person")?, false)
        .await?
        .len();
    // Warm the caches as a running server has them.
    for p in persons {
        app.patient_summary(&actor.0, *p).await?;
    }
    // A first open of a patient: every page reads the heads from the store.
    let mut cold_app = app.clone();
    cold_app.config.keep_record_heads = false;
    let mut cold = Vec::new();
    for round in 0..a.rounds {
        let p = *persons.get(round % persons.len()).context("person")?;
        let t = Instant::now();
        cold_app.patient_summary(&actor.0, p).await?;
        cold_app
            .timeline(&actor.0, p, &TimelineFilter::default())
            .await?;
        cold.push(t.elapsed());
    }
    let (mut bare, mut heads, mut summary, mut timeline, mut both) =
        (vec![], vec![], vec![], vec![], vec![]);
    for round in 0..a.rounds {
        let p = *persons.get(round % persons.len()).context("person")?;
        let t = Instant::now();
        std::hint::black_box(app.store.records_of(p, false).await?);
        bare.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(app.store.record_heads(p).await?);
        heads.push(t.elapsed());
        let t = Instant::now();
        app.patient_summary(&actor.0, p).await?;
        let s = t.elapsed();
        let t2 = Instant::now();
        app.timeline(&actor.0, p, &TimelineFilter::default())
            .await?;
        let tl = t2.elapsed();
        summary.push(s);
        timeline.push(tl);
        both.push(s + tl);
    }
    let (bare, heads, summary, timeline, both) = (
        latency(bare),
        latency(heads),
        latency(summary),
        latency(timeline),
        latency(both),
    );
    let http = http_load(app, region, &actor.1, a).await?;
    let http_cold = http_load(&cold_app, region, &actor.1, a).await?;
    Ok(Report {
        backend: app.store.backend_name(),
        persons: region.persons,
        records: region.records,
        measured_person_records: their,
        summary_and_timeline_p99_over_bare_read_p99: both.p99_ms / bare.p99_ms.max(1e-9),
        bare_read: bare,
        heads_read: heads,
        summary,
        timeline_first_page: timeline,
        summary_and_timeline: both,
        summary_and_timeline_heads_read_each_page: latency(cold),
        http_pages_per_second_heads_read_each_page: http_cold.pages as f64
            / http_cold.seconds.max(1e-9),
        http_page_heads_read_each_page: latency(http_cold.latencies),
        http_errors_heads_read_each_page: http_cold.errors,
        http_clients: a.clients,
        http_seconds: http.seconds,
        http_pages: http.pages,
        http_pages_per_second: http.pages as f64 / http.seconds.max(1e-9),
        http_errors: http.errors,
        http_page: latency(http.latencies),
    })
}

/// Sign in as the region's doctor (once: a one-time code cannot be used twice): the actor for
/// in-process calls and the session cookie.
async fn sign_in(app: &App, region: &Region) -> Result<(Actor, String)> {
    let totp = renkei_app::accounts::totp(&region.totp_secret, &region.login)?;
    let mut attempt = 0;
    let ok = loop {
        let code = totp.generate_current().context("clock")?;
        match app
            .login(&renkei_app::accounts::LoginAttempt {
                facility_code: region.facility_code.clone(),
                login: region.login.clone(),
                password: region.password.clone(),
                second_factor: code,
                client_addr: None,
            })
            .await
        {
            Ok(ok) => break ok,
            // A run a moment ago used this code: the next one comes within 30 s.
            Err(_) if attempt == 0 => {
                attempt += 1;
                eprintln!("waiting for the next one-time code …");
                tokio::time::sleep(Duration::from_secs(totp.ttl().unwrap_or(30).max(1))).await;
            }
            Err(e) => bail!("bench login failed: {e}"),
        }
    };
    match app.session(&ok.token, None).await? {
        renkei_app::accounts::SessionState::Valid(v) => Ok((v.0, ok.token)),
        _ => bail!("the bench session is not valid"),
    }
}

struct HttpRun {
    seconds: f64,
    pages: usize,
    errors: usize,
    latencies: Vec<Duration>,
}

/// `clients` concurrent clients, each opening the summary and the first timeline page of the
/// measured persons in turn, over keep-alive connections, for `seconds`.
async fn http_load(app: &App, region: &Region, token: &str, a: &ViewArgs) -> Result<HttpRun> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = renkei_web::AppState::new(app.clone(), false);
    let server = tokio::spawn(renkei_web::serve(state, listener));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..a.clients.max(1) {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .build()?;
        let cookie = format!("renkei_session={token}");
        let persons = region.measured.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0usize;
            let mut i = c;
            while Instant::now() < deadline {
                let p = persons.get(i % persons.len().max(1)).copied();
                let path = if i % 2 == 0 { "" } else { "/timeline" };
                i += 1;
                let Some(p) = p else { break };
                let t = Instant::now();
                let ok = client
                    .get(format!("http://{addr}/patients/{p}{path}"))
                    .header(reqwest::header::COOKIE, &cookie)
                    .send()
                    .await
                    .ok()
                    .filter(|r| r.status().is_success());
                let ok = match ok {
                    Some(r) => r.bytes().await.is_ok(),
                    None => false,
                };
                if ok {
                    lat.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        latencies.extend(l);
        errors += e;
    }
    let seconds = started.elapsed().as_secs_f64();
    server.abort();
    Ok(HttpRun {
        seconds,
        pages: latencies.len(),
        errors,
        latencies,
    })
}

fn print_report(r: &Report) {
    println!(
        "{} persons, {} records on {}; measured persons have {} records each",
        r.persons, r.records, r.backend, r.measured_person_records
    );
    let line = |name: &str, l: &Latency| {
        println!(
            "  {name:<22} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
            l.p50_ms, l.p99_ms, l.max_ms
        );
    };
    line("bare read (baseline)", &r.bare_read);
    line("heads read", &r.heads_read);
    line("summary", &r.summary);
    line("timeline, first page", &r.timeline_first_page);
    line("summary + timeline", &r.summary_and_timeline);
    println!(
        "  summary + timeline p99 is {:.1}× the bare read's",
        r.summary_and_timeline_p99_over_bare_read_p99
    );
    line(
        "  heads read each page",
        &r.summary_and_timeline_heads_read_each_page,
    );
    println!(
        "  HTTP, {} clients: {:.0} pages/s ({} pages in {:.1} s, {} errors)",
        r.http_clients, r.http_pages_per_second, r.http_pages, r.http_seconds, r.http_errors
    );
    line("HTTP page", &r.http_page);
    println!(
        "  HTTP, heads read each page: {:.0} pages/s ({} errors)",
        r.http_pages_per_second_heads_read_each_page, r.http_errors_heads_read_each_page
    );
    line("HTTP page", &r.http_page_heads_read_each_page);
}
