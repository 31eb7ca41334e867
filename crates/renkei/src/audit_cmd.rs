//! `renkei audit`: verify the hash chain and checkpoints, sign a checkpoint, export for the office.

use crate::config::CommonArgs;
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use renkei_domain::{FacilityId, UserId};
use renkei_store::AuditFilter;
use std::collections::HashMap;
use time::{Date, OffsetDateTime, Time};

#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    cmd: AuditCommand,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every entry's hash, the chain's links, its head and the signed checkpoints.
    /// Exits 0 when intact, 1 naming the first bad entry otherwise.
    Verify {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
    /// Sign a checkpoint of the current head now.
    Checkpoint {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Export entries (JST dates, inclusive) for the network office.
    Export {
        /// First day (YYYY-MM-DD, JST).
        #[arg(long)]
        from: Option<String>,
        /// Last day (YYYY-MM-DD, JST), inclusive.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum)]
        format: Format,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
    },
}

fn jst_day_start(s: &str) -> Result<OffsetDateTime> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d =
        Date::parse(s.trim(), &fmt).with_context(|| format!("{s:?} is not a date (YYYY-MM-DD)"))?;
    Ok(d.with_time(Time::MIDNIGHT)
        .assume_offset(renkei_app::JST)
        .to_offset(time::UtcOffset::UTC))
}

pub async fn run(args: AuditArgs) -> Result<()> {
    match args.cmd {
        AuditCommand::Verify { common, json } => {
            // Read-only: never create a key or a database while checking one.
            let settings = common.settings(None, None)?;
            let store = settings.open_existing_store().await?;
            let signer = renkei_app::AuditSigner::load(&settings.data_dir)?;
            let r = signer.verify(&store).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "intact": r.problem.is_none(),
                        "entries": r.entries,
                        "checkpoints": r.checkpoints,
                        "first_bad_entry": r.problem.as_ref().map(|p| p.seq),
                        "problem": r.problem.as_ref().map(|p| p.message.clone()),
                    })
                );
            }
            match r.problem {
                None => {
                    if !json {
                        println!(
                            "audit log intact: {} entries, {} signed checkpoints",
                            r.entries, r.checkpoints
                        );
                    }
                    Ok(())
                }
                Some(p) => {
                    if !json {
                        eprintln!("audit log BROKEN at entry {}: {}", p.seq, p.message);
                    }
                    std::process::exit(1);
                }
            }
        }
        AuditCommand::Checkpoint { common } => {
            let app = common.settings(None, None)?.open_app().await?;
            match app.signer.checkpoint(&app.store).await? {
                Some(cp) => println!("signed checkpoint at entry {} (key {})", cp.seq, cp.key_id),
                None => println!("nothing new to checkpoint"),
            }
            Ok(())
        }
        AuditCommand::Export {
            from,
            to,
            format: Format::Csv,
            output,
            common,
        } => {
            let app = common.settings(None, None)?.open_app().await?;
            let filter = AuditFilter {
                from: from.as_deref().map(jst_day_start).transpose()?,
                to: to
                    .as_deref()
                    .map(|d| jst_day_start(d).map(|t| t + time::Duration::days(1)))
                    .transpose()?,
                ..AuditFilter::default()
            };
            let out: Box<dyn std::io::Write> = match &output {
                Some(p) => Box::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot create {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let n = export_csv(&app, &filter, out).await?;
            // The export itself shows who looked at whom: it is logged like any other access.
            let mut ev = renkei_domain::AuditEvent::new(
                renkei_domain::AuditAction::Export,
                OffsetDateTime::now_utc(),
            );
            ev.items = vec![
                "audit-log".into(),
                format!("from:{}", from.as_deref().unwrap_or("-")),
                format!("to:{}", to.as_deref().unwrap_or("-")),
                format!("entries:{n}"),
            ];
            app.audit(ev).await?;
            if output.is_some() {
                eprintln!("exported {n} entries");
            }
            Ok(())
        }
    }
}

async fn export_csv(
    app: &renkei_app::App,
    filter: &AuditFilter,
    out: Box<dyn std::io::Write>,
) -> Result<u64> {
    let facilities: HashMap<FacilityId, (String, String)> = app
        .facilities()
        .await?
        .into_iter()
        .map(|f| (f.id, (f.code.to_string(), f.name)))
        .collect();
    let mut logins: HashMap<UserId, String> = HashMap::new();
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "seq",
        "time_jst",
        "facility_code",
        "facility_name",
        "user_login",
        "profession",
        "action",
        "person_id",
        "items",
        "consent_state",
        "access_method",
        "outcome",
        "client_addr",
        "request_id",
        "hash",
    ])?;
    let mut after = 0;
    let mut n = 0u64;
    loop {
        let batch = app.store.audit_entries(filter, after, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for e in batch {
            let ev = &e.event;
            let (code, name) = ev
                .facility_id
                .and_then(|f| facilities.get(&f).cloned())
                .unwrap_or_default();
            let login = match ev.user_id {
                Some(u) => match logins.get(&u) {
                    Some(l) => l.clone(),
                    None => {
                        let l = app
                            .store
                            .user_account_by_id(u)
                            .await?
                            .map(|a| a.user.login.to_string())
                            .unwrap_or_default();
                        logins.insert(u, l.clone());
                        l
                    }
                },
                None => String::new(),
            };
            let t = ev.at.to_offset(renkei_app::JST);
            w.write_record([
                e.seq.to_string(),
                t.format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                code,
                name,
                login,
                ev.profession
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
                ev.action.as_str().to_owned(),
                ev.person_id.map(|p| p.to_string()).unwrap_or_default(),
                ev.items.join(";"),
                ev.consent_state.clone().unwrap_or_default(),
                ev.access_method.clone().unwrap_or_default(),
                ev.outcome.encode(),
                ev.client_addr.clone().unwrap_or_default(),
                ev.request_id.clone().unwrap_or_default(),
                e.hash.to_hex(),
            ])?;
            n += 1;
        }
    }
    w.flush()?;
    Ok(n)
}
