//! `renkei gateway`: runs at a facility, watches its SS-MIX2 standardized storage and uploads
//! new and changed files to the network with the facility's credential.
//!
//! The ledger (`ledger.jsonl`, one line per uploaded file version) is written only after the
//! server accepted the file, and fsynced: after a crash a file is at worst sent once more, which
//! the server's idempotent ingestion turns into "unchanged". Nothing is skipped: a file whose
//! upload fails stays pending and is tried again with backoff.

use anyhow::{Context, Result, bail};
use clap::Args;
use renkei_app::facilities::FacilityCredential;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

#[derive(Args)]
pub struct GatewayArgs {
    /// The facility's SS-MIX2 standardized storage root.
    #[arg(long)]
    storage: PathBuf,
    /// The network's address, e.g. https://renkei.example.jp/
    #[arg(long)]
    server: String,
    /// The credential file the network office issued (`renkei admin facility credential`).
    #[arg(long)]
    credential: PathBuf,
    /// Where to remember what was sent (default: `.renkei-gateway-ledger.jsonl` beside the
    /// credential file).
    #[arg(long)]
    ledger: Option<PathBuf>,
    /// Seconds between scans of the storage.
    #[arg(long, default_value_t = 30)]
    interval: u64,
    /// Scan and upload once, then exit (non-zero if anything is left pending).
    #[arg(long)]
    once: bool,
}

/// One uploaded version of one file.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
struct LedgerLine {
    path: String,
    size: u64,
    mtime_ns: u128,
    sha256: String,
}

struct Ledger {
    path: PathBuf,
    sent: HashMap<String, LedgerLine>,
}

impl Ledger {
    fn open(path: &Path) -> Result<Self> {
        let mut sent = HashMap::new();
        if let Ok(f) = std::fs::File::open(path) {
            for line in std::io::BufReader::new(f).lines() {
                let line = line.context("cannot read the gateway ledger")?;
                // A torn last line (a crash mid-write) is ignored: that file is sent again.
                if let Ok(l) = serde_json::from_str::<LedgerLine>(&line) {
                    sent.insert(l.path.clone(), l);
                }
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            sent,
        })
    }

    fn record(&mut self, line: LedgerLine) -> Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        writeln!(f, "{}", serde_json::to_string(&line)?)?;
        f.sync_data()?;
        self.sent.insert(line.path.clone(), line);
        Ok(())
    }
}

/// What one scan did.
#[derive(Default, Debug, Serialize)]
pub struct Round {
    pub scanned: u64,
    pub uploaded: u64,
    pub quarantined: u64,
    pub pending: u64,
}

fn mtime_ns(p: &Path) -> u128 {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

pub async fn run(args: GatewayArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.credential)
        .with_context(|| format!("cannot read {}", args.credential.display()))?;
    let cred: FacilityCredential =
        serde_json::from_str(&text).context("the credential file is not a Renkei credential")?;
    let ledger_path = args.ledger.clone().unwrap_or_else(|| {
        args.credential
            .parent()
            .unwrap_or(Path::new("."))
            .join(".renkei-gateway-ledger.jsonl")
    });
    let mut ledger = Ledger::open(&ledger_path)?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let base = args.server.trim_end_matches('/').to_owned();
    loop {
        let round = scan(&client, &base, &cred, &args.storage, &mut ledger).await?;
        eprintln!(
            "gateway {}: {} files, {} uploaded, {} quarantined by the network, {} pending",
            cred.facility_code, round.scanned, round.uploaded, round.quarantined, round.pending
        );
        if args.once {
            if round.pending > 0 {
                bail!("{} files could not be uploaded; run again", round.pending);
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(args.interval.max(1))).await;
    }
}

enum Sent {
    Taken,
    Quarantined,
}

async fn scan(
    client: &reqwest::Client,
    base: &str,
    cred: &FacilityCredential,
    storage: &Path,
    ledger: &mut Ledger,
) -> Result<Round> {
    let mut round = Round::default();
    // Misfiled files are sent too, marked, so the network quarantines them where the
    // facility and the office can see them.
    let mut items: Vec<(PathBuf, String, Option<String>)> = Vec::new();
    let mut files = Vec::new();
    for item in renkei_hl7::ssmix2::walk(storage) {
        match item {
            Ok(f) => files.push(f),
            Err(e) => {
                let p = e.path().to_path_buf();
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if p.is_file() {
                    items.push((p, name, Some(e.to_string())));
                }
            }
        }
    }
    files.sort_by_cached_key(|f| renkei_app::ingest::ssmix2_order_key(&f.name));
    items.extend(
        files
            .into_iter()
            .map(|f| (f.path.clone(), f.name.as_str().to_owned(), None)),
    );
    for (path, name, problem) in items {
        round.scanned += 1;
        let rel = path
            .strip_prefix(storage)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mtime = mtime_ns(&path);
        if let Some(prev) = ledger.sent.get(&rel)
            && prev.size == size
            && prev.mtime_ns == mtime
        {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                // Locked or vanished (the EMR may be writing it): pending, tried next scan.
                // The path names a patient: it is not logged.
                tracing::warn!(error = %e.kind(), "a storage file could not be read");
                round.pending += 1;
                continue;
            }
        };
        let sha = hex::encode(Sha256::digest(&bytes));
        let line = LedgerLine {
            path: rel,
            size,
            mtime_ns: mtime,
            sha256: sha.clone(),
        };
        if ledger.sent.get(&line.path).is_some_and(|p| p.sha256 == sha) {
            // Touched but unchanged: remember the new timestamp, send nothing.
            ledger.record(line)?;
            continue;
        }
        // HTTP headers carry ASCII only; SS-MIX2 names are ASCII by rule, so a name that is
        // not is a misfiled file the network should hold and show.
        let (name, problem) = if name.bytes().all(|b| b.is_ascii_graphic()) {
            (name, problem)
        } else {
            (
                "non-ascii-file-name".to_owned(),
                Some("the file name is not ASCII, so it is not an SS-MIX2 file name".to_owned()),
            )
        };
        match upload(client, base, cred, &name, problem.as_deref(), bytes).await {
            Ok(sent) => {
                ledger.record(line)?;
                round.uploaded += 1;
                if matches!(sent, Sent::Quarantined) {
                    round.quarantined += 1;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "upload failed; the file stays pending");
                round.pending += 1;
            }
        }
    }
    Ok(round)
}

/// POST one file, retrying with exponential backoff on network errors and server errors.
async fn upload(
    client: &reqwest::Client,
    base: &str,
    cred: &FacilityCredential,
    name: &str,
    problem: Option<&str>,
    bytes: Vec<u8>,
) -> Result<Sent> {
    let mut delay = Duration::from_millis(500);
    let mut last = String::new();
    for _ in 0..6 {
        let mut req = client
            .post(format!("{base}/api/v1/ingest/ssmix2"))
            .bearer_auth(&cred.token)
            .header("X-SSMIX2-File-Name", name)
            .body(bytes.clone());
        if let Some(p) = problem {
            req = req.header("X-SSMIX2-Problem", p);
        }
        match req.send().await {
            Ok(res) if res.status() == reqwest::StatusCode::OK => return Ok(Sent::Taken),
            Ok(res) if res.status() == reqwest::StatusCode::ACCEPTED => {
                return Ok(Sent::Quarantined);
            }
            Ok(res) if res.status() == reqwest::StatusCode::UNAUTHORIZED => {
                bail!("the network refused the credential: ask the office for a new one");
            }
            Ok(res) if res.status().is_client_error() => {
                bail!("the network refused the file ({})", res.status());
            }
            Ok(res) => last = format!("server answered {}", res.status()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(60));
    }
    bail!("upload failed: {last}")
}
