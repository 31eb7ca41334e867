//! `renkei import`: load an SS-MIX2 standardized storage or FHIR files for one facility, with a
//! progress bar on a terminal and a summary (JSON with `--json`).

use crate::config::CommonArgs;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use renkei_app::App;
use renkei_app::ingest::{IngestReport, Rejection, Source};
use renkei_domain::Facility;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    cmd: ImportCommand,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Every file of an SS-MIX2 standardized storage (its root, or one patient's folder).
    Ssmix2 {
        root: PathBuf,
        /// The facility whose storage this is (its code).
        #[arg(long)]
        facility: String,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
    /// FHIR R4 JSON files (Bundles or resources), or folders of them.
    Fhir {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        facility: String,
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long)]
        json: bool,
    },
}

/// What an import did.
#[derive(Default, Serialize)]
pub struct Summary {
    pub files: u64,
    pub accepted: u64,
    pub unchanged: u64,
    pub replaced: u64,
    pub deleted: u64,
    pub quarantined: u64,
    /// Inputs older than what their group already holds (not applied).
    pub stale: u64,
    /// Files that could not be read (run the import again).
    pub unreadable: u64,
    pub by_resource_type: BTreeMap<String, u64>,
}

impl Summary {
    fn add(&mut self, r: &IngestReport) {
        self.files += 1;
        self.accepted += u64::from(r.outcome.accepted);
        self.unchanged += u64::from(r.outcome.unchanged);
        self.replaced += u64::from(r.outcome.replaced);
        self.deleted += u64::from(r.outcome.deleted);
        self.stale += u64::from(r.outcome.stale);
        if r.quarantined.is_some() {
            self.quarantined += 1;
        }
        for (t, n) in &r.by_resource_type {
            *self.by_resource_type.entry(t.clone()).or_default() += u64::from(*n);
        }
    }

    fn print(&self, json: bool) -> Result<()> {
        if json {
            println!("{}", serde_json::to_string_pretty(self)?);
        } else {
            println!(
                "{} files: {} accepted, {} unchanged, {} replaced, {} deleted, {} quarantined, {} stale, {} unreadable",
                self.files,
                self.accepted,
                self.unchanged,
                self.replaced,
                self.deleted,
                self.quarantined,
                self.stale,
                self.unreadable
            );
            for (t, n) in &self.by_resource_type {
                println!("  {t}: {n}");
            }
            if self.quarantined > 0 {
                println!("see `renkei quarantine list` for the reasons");
            }
        }
        Ok(())
    }
}

pub(crate) fn progress(len: u64) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(len);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} files {elapsed_precise} eta {eta}")
        {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    }
}

async fn facility(app: &App, code: &str) -> Result<Facility> {
    app.store
        .facility_by_code(code.trim())
        .await?
        .with_context(|| format!("no facility with code {code}"))
}

pub async fn run(args: ImportArgs) -> Result<()> {
    match args.cmd {
        ImportCommand::Ssmix2 {
            root,
            facility: code,
            common,
            json,
        } => {
            let app = common.settings(None, None)?.open_app().await?;
            let f = facility(&app, &code).await?;
            let summary = import_ssmix2(&app, &f, &root).await?;
            summary.print(json)
        }
        ImportCommand::Fhir {
            paths,
            facility: code,
            common,
            json,
        } => {
            let app = common.settings(None, None)?.open_app().await?;
            let f = facility(&app, &code).await?;
            let mut files = Vec::new();
            for p in &paths {
                collect_json(p, &mut files)?;
            }
            let bar = progress(files.len() as u64);
            let mut summary = Summary::default();
            for path in files {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                let r = app.ingest_fhir(&f, name.as_deref(), &bytes).await?;
                summary.add(&r);
                bar.inc(1);
            }
            bar.finish_and_clear();
            summary.print(json)
        }
    }
}

fn collect_json(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "json") {
                collect_json(&e, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Walk the storage, apply every version of every record in the order it happened, and
/// quarantine what is misfiled. One bad file never stops the rest.
pub async fn import_ssmix2(app: &App, f: &Facility, root: &Path) -> Result<Summary> {
    let mut files = Vec::new();
    let mut summary = Summary::default();
    for item in renkei_hl7::ssmix2::walk(root) {
        match item {
            Ok(file) => files.push(file),
            Err(e) => {
                use renkei_hl7::ssmix2::StorageError as E;
                let code = match &e {
                    E::Misfiled { .. } | E::UnexpectedFile { .. } => "wrong-folder",
                    E::InvalidFileName { .. } | E::NonUtf8Name { .. } => "bad-file-name",
                    // Nothing to hold: a folder out of place, or an entry that cannot be read
                    // now (the EMR may be writing it), which the next run reads again.
                    E::UnexpectedDirectory { .. } | E::Io { .. } => {
                        // The path may name a patient: not logged.
                        tracing::warn!("a storage entry was skipped (unreadable, or a folder)");
                        summary.unreadable += 1;
                        continue;
                    }
                };
                let Ok(bytes) = std::fs::read(e.path()) else {
                    tracing::warn!("a storage file could not be read");
                    summary.unreadable += 1;
                    continue;
                };
                let name = e
                    .path()
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                let source = Source {
                    channel: "ssmix2",
                    name: name.as_deref(),
                    bytes: &bytes,
                };
                let r = app
                    .quarantine_input(f, &source, Rejection::new(code, e.to_string()))
                    .await?;
                summary.add(&r);
            }
        }
    }
    // Versions of one record in the order they happened, so the newest wins.
    files.sort_by_cached_key(|f| renkei_app::ingest::ssmix2_order_key(&f.name));
    let bar = progress(files.len() as u64);
    // Batches commit together: a crash loses at most the batch in flight, which the next run
    // stores again (idempotently). The next batch is read and mapped while one is stored.
    let unreadable = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let batches = {
        let unreadable = unreadable.clone();
        let bar = bar.clone();
        let mut files = files.into_iter();
        std::iter::from_fn(move || {
            let chunk: Vec<_> = files
                .by_ref()
                .take(renkei_app::ingest::IMPORT_BATCH)
                .collect();
            (!chunk.is_empty()).then_some(chunk)
        })
        .map(move |chunk| {
            let mut loaded = Vec::with_capacity(chunk.len());
            for file in chunk {
                match file.read() {
                    Ok(bytes) => loaded.push((file.name.as_str().to_owned(), bytes)),
                    Err(e) => {
                        // Locked or vanished (the EMR may be writing it): count it and go on.
                        tracing::warn!(error = %e.kind(), "a storage file could not be read");
                        unreadable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        bar.inc(1);
                    }
                }
            }
            loaded
        })
    };
    app.ingest_ssmix2_stream(f, batches, |reports| {
        for r in &reports {
            summary.add(r);
        }
        bar.inc(reports.len() as u64);
    })
    .await?;
    summary.unreadable += unreadable.load(std::sync::atomic::Ordering::Relaxed);
    bar.finish_and_clear();
    Ok(summary)
}
