//! `renkei demo`: a synthetic region (synthetic names only) served on loopback, so a tester can
//! sign in at once. The region is created on first start; its demo accounts (passwords and TOTP
//! secrets) are kept in `DATA_DIR/demo-accounts.json` and printed at every start.

use crate::config::CommonArgs;
use anyhow::{Context, Result};
use clap::Args;
use renkei_app::facilities::NewFacility;
use renkei_app::residents::RegistrationForm;
use renkei_app::{Actor, App, NewUserRequest};
use renkei_domain::{ConsentMethod, FacilityCode, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Port to listen on.
    #[arg(long, env = "RENKEI_PORT", default_value_t = 8080)]
    port: u16,
    /// Residents to create in a new demo region.
    #[arg(long, default_value_t = 2000)]
    residents: usize,
    /// Seed of the synthetic region.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Create the region and exit without serving.
    #[arg(long)]
    no_serve: bool,
}

#[derive(Serialize, Deserialize, Clone)]
struct DemoAccount {
    facility_code: String,
    facility_name: String,
    login: String,
    display_name: String,
    profession: String,
    roles: Vec<String>,
    password: String,
    totp_secret: String,
}

/// The accounts printed at start; all are in the JSON file.
const SHOWN: [&str; 9] = [
    "dr.sato",
    "ns.suzuki",
    "clerk",
    "office",
    "dr.tanaka",
    "ph.ito",
    "cw.yamada",
    "cm.kato",
    "admin",
];

pub async fn run(args: DemoArgs) -> Result<()> {
    let mut settings = args.common.settings(Some(args.port), None)?;
    settings.port = args.port;
    let app = settings.open_app().await?;
    let accounts_path = settings.data_dir.join("demo-accounts.json");
    let accounts: Vec<DemoAccount> = if app.facilities().await?.is_empty() {
        eprintln!(
            "creating the demo region in {} …",
            settings.data_dir.display()
        );
        let accounts = seed(&app, args.seed, args.residents).await?;
        std::fs::write(&accounts_path, serde_json::to_string_pretty(&accounts)?)
            .with_context(|| format!("cannot write {}", accounts_path.display()))?;
        app.signer.checkpoint(&app.store).await?;
        accounts
    } else {
        let text = std::fs::read_to_string(&accounts_path).with_context(|| {
            format!(
                "{} is not a demo data directory (no demo-accounts.json)",
                settings.data_dir.display()
            )
        })?;
        serde_json::from_str(&text)?
    };
    println!("Renkei demo region: {}", settings.url());
    println!(
        "Sign in with 施設コード, ログインID, パスワード and the 6-digit code from an authenticator app"
    );
    println!(
        "holding the TOTP secret (base32). All demo accounts: {}",
        accounts_path.display()
    );
    println!();
    println!(
        "{:<12} {:<10} {:<18} {:<18} TOTP secret",
        "facility", "login", "profession", "password"
    );
    for a in accounts
        .iter()
        .filter(|a| SHOWN.contains(&a.login.as_str()))
        .filter(|a| {
            !matches!(a.login.as_str(), "admin" | "clerk")
                || Some(&a.facility_code) == accounts.first().map(|f| &f.facility_code)
        })
    {
        println!(
            "{:<12} {:<10} {:<18} {:<18} {}",
            a.facility_code, a.login, a.profession, a.password, a.totp_secret
        );
    }
    if args.no_serve {
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(settings.bind_addr())
        .await
        .with_context(|| format!("cannot listen on {}", settings.bind_addr()))?;
    crate::run_server(app, listener, settings.secure_cookies).await
}

async fn seed(app: &App, seed: u64, residents: usize) -> Result<Vec<DemoAccount>> {
    let today = renkei_app::today_jst(time::OffsetDateTime::now_utc());
    let region = renkei_testkit::generate(seed, residents, today);
    let mut facilities = Vec::new();
    for f in &region.facilities {
        let created = app
            .add_facility(
                None,
                &NewFacility {
                    code: f.code.to_string(),
                    name: f.name.clone(),
                    kind: f.kind,
                    joined_on: Some(f.joined_on),
                },
            )
            .await?;
        facilities.push(created);
    }
    let mut accounts = Vec::new();
    let mut clerks: HashMap<FacilityCode, Actor> = HashMap::new();
    for u in &region.users {
        let created = app
            .create_user(
                None,
                &NewUserRequest {
                    facility_code: u.facility_code.to_string(),
                    login: u.login.to_string(),
                    display_name: u.display_name.clone(),
                    profession: u.profession,
                    roles: u.roles.clone(),
                    enrol_totp_now: true,
                },
            )
            .await?;
        if u.roles.contains(&Role::Clerk) && !clerks.contains_key(&u.facility_code) {
            clerks.insert(
                u.facility_code.clone(),
                Actor {
                    user: created.user.clone(),
                    facility: created.facility.clone(),
                    client_addr: None,
                    request_id: None,
                },
            );
        }
        accounts.push(DemoAccount {
            facility_code: created.facility.code.to_string(),
            facility_name: created.facility.name.clone(),
            login: created.user.login.to_string(),
            display_name: created.user.display_name.clone(),
            profession: created.user.profession.as_str().into(),
            roles: created
                .user
                .roles
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            password: created.initial_password,
            totp_secret: created.totp_secret.unwrap_or_default(),
        });
    }
    let clerk_at = |i: usize| -> Result<&Actor> {
        let code = &region
            .facilities
            .get(i)
            .context("demo resident refers to no facility")?
            .code;
        clerks.get(code).context("demo facility without a clerk")
    };
    let mut withdrawn = 0;
    for r in &region.residents {
        let clerk = clerk_at(r.registered_at_facility)?;
        let (_, first_local) = r
            .local_ids
            .first()
            .context("demo resident without a local ID")?;
        let form = RegistrationForm {
            local_id: first_local.to_string(),
            name_kanji: r.name_kanji.clone().unwrap_or_default(),
            name_kana: r.name_kana.clone(),
            sex: r.sex.as_str().into(),
            birth_date: r.birth_date.to_string(),
            postal_code: r.postal_code.clone().unwrap_or_default(),
            address: r.address.clone().unwrap_or_default(),
            phone: r.phone.clone().unwrap_or_default(),
            consent: renkei_app::residents::ConsentInput {
                consent_signed_on: r.consent.signed_on.to_string(),
                consent_method: match r.consent.method {
                    ConsentMethod::Paper => "paper".into(),
                    ConsentMethod::Web => "web".into(),
                },
                proxy_name: r
                    .consent
                    .proxy
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                proxy_relationship: r
                    .consent
                    .proxy
                    .as_ref()
                    .map(|p| p.relationship.clone())
                    .unwrap_or_default(),
                national: r.consent.national,
                consent_mode: "blanket".into(),
                consent_facilities: String::new(),
            },
        };
        let person = app.register_resident(clerk, &form).await?;
        for (i, local) in r.local_ids.iter().skip(1) {
            let facility = &clerk_at(*i)?.facility;
            app.link_local_patient(None, facility, person, local.as_str())
                .await?;
        }
        if r.withdrawn_after_days.is_some() {
            let consent = app
                .store
                .consents(person)
                .await?
                .first()
                .map(|c| c.id)
                .context("registered resident without consent")?;
            app.withdraw_consent(clerk, person, consent).await?;
            withdrawn += 1;
        }
    }
    eprintln!(
        "created {} facilities, {} users, {} residents ({} withdrawn)",
        facilities.len(),
        accounts.len(),
        region.residents.len(),
        withdrawn
    );

    // The 名寄せ model learns from the region's own residents.
    let version = app.train_mpi(None).await?;
    eprintln!("trained the 名寄せ model (version {version})");

    // Clinical histories arrive the way real ones do: SS-MIX2 files and FHIR documents
    // through the ingestion pipeline.
    let history = renkei_testkit::clinical::clinical_history(&region, seed, today);
    eprintln!(
        "ingesting {} SS-MIX2 files and {} FHIR documents through the pipeline …",
        history.ssmix2.len(),
        history.fhir.len()
    );
    let mut summary = renkei_domain::GroupOutcome::default();
    let mut held = 0usize;
    // The files come sorted by facility and time: batches of one facility's files, as an
    // import would send them.
    for run in history.ssmix2.chunk_by(|a, b| a.facility == b.facility) {
        let facility = facilities
            .get(run.first().map(|f| f.facility).unwrap_or(usize::MAX))
            .context("demo file refers to no facility")?;
        let batches: Vec<Vec<(String, Vec<u8>)>> = run
            .chunks(renkei_app::ingest::IMPORT_BATCH)
            .map(|c| {
                c.iter()
                    .map(|f| (f.file_name.clone(), f.bytes.clone()))
                    .collect()
            })
            .collect();
        app.ingest_ssmix2_stream(facility, batches, |reports| {
            for r in reports {
                summary.add(r.outcome);
                held += usize::from(r.quarantined.is_some());
            }
        })
        .await?;
    }
    for f in &history.fhir {
        let facility = &facilities
            .get(f.facility)
            .context("demo document refers to no facility")?;
        let r = app.ingest_fhir(facility, Some(&f.name), &f.bytes).await?;
        summary.add(r.outcome);
        held += usize::from(r.quarantined.is_some());
    }
    eprintln!(
        "ingested {} SS-MIX2 files and {} FHIR documents: {} records ({} quarantined inputs)",
        history.ssmix2.len(),
        history.fhir.len(),
        summary.accepted + summary.replaced,
        held
    );
    Ok(accounts)
}
