//! `renkei`: the regional health and care information network's one binary.
//!
//! Thin: parses the command line and configuration, opens the store and the application, and
//! calls into `renkei-app` / `renkei-web`.
#![forbid(unsafe_code)]

mod admin;
mod audit_cmd;
mod bench;
mod bench_splink;
mod bench_view;
mod config;
mod demo;
mod gateway;
mod import_cmd;
mod link_cmd;
mod quarantine_cmd;

use anyhow::Result;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};
use config::ServeArgs;

/// Renkei (連携): regional health and care information network (地域医療介護連携ネットワーク).
#[derive(Parser)]
#[command(name = "renkei", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the network's web server.
    Serve(ServeArgs),
    /// Create a synthetic demo region (if the data directory is new) and serve it.
    Demo(demo::DemoArgs),
    /// Administer facilities and users.
    Admin(admin::AdminArgs),
    /// Verify, checkpoint and export the audit log.
    Audit(audit_cmd::AuditArgs),
    /// Measure (benchmarks print ratios against a baseline of the same run).
    Bench(bench::BenchArgs),
    /// Run at a facility: upload its SS-MIX2 storage to the network as it changes.
    Gateway(gateway::GatewayArgs),
    /// 名寄せ of a CSV of patient records into clusters (evaluation, migration).
    Link(link_cmd::LinkArgs),
    /// Load an SS-MIX2 storage or FHIR files for one facility.
    Import(import_cmd::ImportArgs),
    /// Input that could not be taken: list, show, retry.
    Quarantine(quarantine_cmd::QuarantineArgs),
}

fn main() -> Result<()> {
    // mimalloc asks for transparent huge pages on its arenas; each first touch of one zeroes
    // 2 MiB, which cost a third of ingestion's time on a 2-core VM (bench ingest: 7,000 →
    // 8,900 messages/s without). Small pages are plenty for this workload.
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("note: could not turn off transparent huge pages: {e}");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RENKEI_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Demo(args) => demo::run(args).await,
            Command::Admin(args) => admin::run(args).await,
            Command::Audit(args) => audit_cmd::run(args).await,
            Command::Quarantine(args) => quarantine_cmd::run(args).await,
            Command::Import(args) => import_cmd::run(args).await,
            Command::Gateway(args) => gateway::run(args).await,
            Command::Bench(args) => bench::run(args).await,
            Command::Link(args) => link_cmd::run(args),
        }
    })
}

async fn serve(args: ServeArgs) -> Result<()> {
    let settings = args.settings()?;
    let app = settings.open_app().await?;
    let url = settings.url();
    let listener = tokio::net::TcpListener::bind(settings.bind_addr()).await?;
    eprintln!(
        "Renkei is serving {url} (data: {})",
        settings.data_dir.display()
    );
    run_server(app, listener, settings.secure_cookies).await
}

/// Serve, and sign an audit checkpoint every ten minutes and at shutdown.
pub(crate) async fn run_server(
    app: renkei_app::App,
    listener: tokio::net::TcpListener,
    secure_cookies: bool,
) -> Result<()> {
    let ticker_app = app.clone();
    let ticker = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = ticker_app.signer.checkpoint(&ticker_app.store).await {
                tracing::warn!(error = %e, "audit checkpoint failed");
            }
        }
    });
    // The 名寄せ index is built in the background, so the server answers at once; the first
    // registration waits for it if it comes early.
    let warm_app = app.clone();
    tokio::spawn(async move { warm_app.warm_mpi_index().await });
    let state = renkei_web::AppState::new(app.clone(), secure_cookies);
    renkei_web::serve(state, listener).await?;
    ticker.abort();
    app.signer.checkpoint(&app.store).await?;
    app.store.close().await;
    Ok(())
}
