//! `renkei quarantine`: input that could not be taken, with its reason, for the office and
//! the facilities' administrators.

use crate::config::CommonArgs;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use renkei_store::QuarantineStatus;

#[derive(Args)]
pub struct QuarantineArgs {
    #[command(subcommand)]
    cmd: QuarantineCommand,
}

#[derive(Subcommand)]
enum QuarantineCommand {
    /// List quarantined input (held by default).
    List {
        /// Only this facility's.
        #[arg(long)]
        facility: Option<String>,
        /// Include resolved and discarded input.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
    /// Show one quarantined input, with its original bytes (written to --output).
    Show {
        id: String,
        /// Write the original bytes here.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
    /// Run quarantined input through ingestion again (after a fix or a registration).
    Retry {
        /// One input, or every held input with --all.
        id: Option<String>,
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(args: QuarantineArgs) -> Result<()> {
    match args.cmd {
        QuarantineCommand::List {
            facility,
            all,
            common,
            json,
        } => {
            let app = common.settings(None, None)?.open_app().await?;
            let f = match facility {
                Some(code) => Some(
                    app.store
                        .facility_by_code(code.trim())
                        .await?
                        .with_context(|| format!("no facility with code {code}"))?,
                ),
                None => None,
            };
            let status = (!all).then_some(QuarantineStatus::Held);
            let list = app.quarantine_list(f.as_ref(), status).await?;
            let codes: std::collections::HashMap<_, _> = app
                .facilities()
                .await?
                .into_iter()
                .map(|f| (f.id, f.code.to_string()))
                .collect();
            if json {
                let rows: Vec<_> = list
                    .iter()
                    .map(|q| {
                        serde_json::json!({
                            "id": q.id, "facility_code": codes.get(&q.facility_id),
                            "channel": q.channel, "source_name": q.source_name,
                            "reason": q.reason_code, "detail": q.reason_detail,
                            "status": q.status.as_str(), "attempts": q.attempts,
                            "received_at": q.received_at, "bytes": q.payload.len(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if list.is_empty() {
                println!("nothing quarantined");
            } else {
                for q in list {
                    println!(
                        "{}  {}  {:<8} {:<9} {:<26} {}",
                        q.id,
                        codes.get(&q.facility_id).map(String::as_str).unwrap_or("?"),
                        q.channel,
                        q.status.as_str(),
                        q.reason_code,
                        q.source_name.as_deref().unwrap_or("-"),
                    );
                }
            }
        }
        QuarantineCommand::Show {
            id,
            output,
            common,
            json,
        } => {
            let app = common.settings(None, None)?.open_app().await?;
            let id = uuid::Uuid::parse_str(id.trim()).context("not a quarantine id")?;
            let q = app
                .store
                .quarantined_one(id)
                .await?
                .context("no quarantined input with that id")?;
            if let Some(path) = &output {
                std::fs::write(path, &q.payload)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            let v = serde_json::json!({
                "id": q.id, "channel": q.channel, "source_name": q.source_name,
                "reason": q.reason_code, "detail": q.reason_detail, "status": q.status.as_str(),
                "attempts": q.attempts, "received_at": q.received_at, "updated_at": q.updated_at,
                "bytes": q.payload.len(), "sha256": q.payload_hash,
            });
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "{} ({} bytes, sha256 {})",
                    q.id,
                    q.payload.len(),
                    q.payload_hash
                );
                println!(
                    "source:   {} {}",
                    q.channel,
                    q.source_name.as_deref().unwrap_or("-")
                );
                println!(
                    "status:   {} after {} attempt(s)",
                    q.status.as_str(),
                    q.attempts
                );
                println!("reason:   {}: {}", q.reason_code, q.reason_detail);
            }
        }
        QuarantineCommand::Retry {
            id,
            all,
            common,
            json,
        } => {
            let app = common.settings(None, None)?.open_app().await?;
            let ids: Vec<uuid::Uuid> = match (id, all) {
                (Some(id), _) => {
                    vec![uuid::Uuid::parse_str(id.trim()).context("not a quarantine id")?]
                }
                (None, true) => app
                    .quarantine_list(None, Some(QuarantineStatus::Held))
                    .await?
                    .into_iter()
                    .map(|q| q.id)
                    .collect(),
                (None, false) => anyhow::bail!("name an id, or --all"),
            };
            let mut results = Vec::new();
            for id in ids {
                let r = match app.retry_quarantined(None, id).await {
                    Ok(r) => r,
                    Err(renkei_app::AppError::Invalid { .. }) => {
                        println!(
                            "{id}: misfiled at the source: fix the storage and let the gateway send it again"
                        );
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                };
                results.push(serde_json::json!({"id": id, "taken": r.quarantined.is_none(), "outcome": r.outcome}));
                if !json {
                    match r.quarantined {
                        None => println!(
                            "{id}: taken ({} accepted, {} replaced, {} deleted)",
                            r.outcome.accepted, r.outcome.replaced, r.outcome.deleted
                        ),
                        Some(_) => println!("{id}: still held"),
                    }
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&results)?);
            }
        }
    }
    Ok(())
}
