//! `renkei bench link`, and with `--splink` the comparison issue 4 asks for: Splink (DuckDB
//! backend, configured by `bench/splink_link.py`) links the same generated records in a child
//! process, and its clusters are scored by the same code as ours against the same truth
//! (`renkei_mpi::score_clustering`).
//!
//! Times: ours is train + link (the records are already in memory, folding included); Splink's
//! is its training, prediction and clustering (after loading and normalising the CSV), and
//! the whole child process is reported beside it. Peak memory is the peak resident set of each
//! process: ours from `/proc/self/status` (VmHWM, generation of the population included),
//! Splink's from `getrusage` inside the script (Python and DuckDB are one process).

use anyhow::{Context, Result, bail};
use renkei_mpi::synth::Population;
use renkei_mpi::{ClusteringScores, EvalReport, clusters_from_assignments, score_clustering};
use serde::{Deserialize, Serialize};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The Splink script, built into the binary so that the bench runs from any directory.
const SCRIPT: &str = include_str!("../bench/splink_link.py");

/// What a user without Splink is told to run.
const INSTALL: &str = "pip install splink duckdb";

/// The options of `renkei bench link`.
pub struct LinkBench {
    pub persons: usize,
    pub threads: usize,
    pub seed: u64,
    pub json: bool,
    /// Also run Splink on the same records.
    pub splink: bool,
    /// The Python interpreter that has Splink.
    pub python: PathBuf,
    /// Keep Splink's input and output here instead of in a temporary directory, with the
    /// truth (`truth.csv`: record_id, person_id) for tuning the script.
    pub splink_dir: Option<PathBuf>,
}

/// The last line the script prints on stdout.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SplinkRun {
    pub splink_version: String,
    pub duckdb_version: String,
    /// Match probability at and above which pairs are clustered.
    pub threshold: f64,
    pub threads: usize,
    /// Reading and normalising the CSV, loading it into DuckDB.
    pub load_secs: f64,
    /// λ, u by random sampling, m by EM.
    pub train_secs: f64,
    /// Blocking and scoring pairs.
    pub predict_secs: f64,
    /// Connected components at the threshold.
    pub cluster_secs: f64,
    /// The whole script, as it measured itself.
    pub elapsed_secs: f64,
    /// Peak resident set of the Python process (KiB, `ru_maxrss` on Linux).
    pub max_rss_kib: u64,
    /// Pairs its blocking rules generate (Splink's estimate from a sample; absent with
    /// Splink 4).
    pub pairs_blocked: Option<u64>,
    /// Of those, pairs at or above the threshold.
    pub pairs_above_threshold: u64,
}

/// Splink's side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct SplinkSide {
    #[serde(flatten)]
    pub run: SplinkRun,
    /// Train + predict + cluster: what compares with our train + link.
    pub link_secs: f64,
    /// The child process as the bench timed it (interpreter start and imports included).
    pub process_wall_secs: f64,
    pub peak_rss_bytes: u64,
    #[serde(flatten)]
    pub result: ClusteringScores,
}

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    renkei: &'a EvalReport,
    /// Peak resident set of this process after our run (generation included).
    peak_rss_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    splink: Option<&'a SplinkSide>,
}

/// `renkei bench link`.
pub fn link(opts: &LinkBench) -> Result<()> {
    if opts.splink {
        let version = splink_version(&opts.python)?;
        eprintln!("comparing with Splink {version}");
    }
    let (mut r, population) =
        renkei_mpi::evaluate_keeping_population(opts.persons, opts.seed, opts.threads);
    let our_peak = peak_rss_bytes();
    let splink = if opts.splink {
        Some(run_splink(opts, &population)?)
    } else {
        None
    };
    drop(population);
    if opts.json {
        r.model_report.clear();
        let report = Report {
            renkei: &r,
            peak_rss_bytes: our_peak,
            splink: splink.as_ref(),
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} persons, {} records: precision {:.5}, recall {:.5}, F1 {:.5}",
        r.persons, r.records, r.scores.precision, r.scores.recall, r.scores.f1
    );
    println!(
        "  train {:.1} s + link {:.1} s = {:.1} s on {} threads",
        r.train_secs, r.link_secs, r.total_secs, r.threads
    );
    if let Some(b) = our_peak {
        println!("  peak memory {} (generation included)", mib(b));
    }
    println!("  online match: {:?}", r.online);
    for t in &r.traps {
        println!("  trap {t:?}");
    }
    if let Some(s) = &splink {
        print_side_by_side(&r, our_peak, s);
    }
    Ok(())
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Peak resident set of this process (VmHWM), where `/proc` has it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line
        .trim_start_matches("VmHWM:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Splink's version, or an error that says how to install it.
fn splink_version(python: &Path) -> Result<String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import splink, duckdb; print(splink.__version__, duckdb.__version__)",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let v = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            let mut parts = v.split_whitespace();
            let splink = parts.next().unwrap_or("?");
            let duckdb = parts.next().unwrap_or("?");
            Ok(format!("{splink} (DuckDB {duckdb})"))
        }
        Ok(_) => bail!(
            "Splink is not installed for {}: install it with `{INSTALL}` \
             (or point --python at an interpreter that has it)",
            python.display()
        ),
        Err(e) => bail!(
            "cannot run {} ({e}): --splink needs Python 3 with Splink; install it with \
             `{INSTALL}` and pass --python if it is not `python3`",
            python.display()
        ),
    }
}

fn run_splink(opts: &LinkBench, population: &Population) -> Result<SplinkSide> {
    let tmp = tempfile::tempdir()?;
    let dir = match &opts.splink_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            d.clone()
        }
        None => tmp.path().to_path_buf(),
    };
    let script = dir.join("splink_link.py");
    let input = dir.join("records.csv");
    let output = dir.join("splink_clusters.csv");
    std::fs::write(&script, SCRIPT)?;
    let mut w = BufWriter::new(std::fs::File::create(&input)?);
    renkei_mpi::write_csv(&mut w, &population.records)?;
    w.flush()?;
    drop(w);
    if opts.splink_dir.is_some() {
        let mut w = csv::Writer::from_path(dir.join("truth.csv"))?;
        w.write_record(["record_id", "person_id"])?;
        for (r, t) in population.records.iter().zip(&population.truth) {
            w.write_record([r.record_id.as_str(), t.as_str()])?;
        }
        w.flush()?;
    }

    eprintln!("running Splink on {} records", population.records.len());
    let start = Instant::now();
    let child = Command::new(&opts.python)
        .arg(&script)
        .arg(&input)
        .arg(&output)
        .args(["--threads", &opts.threads.to_string()])
        .args(["--seed", &opts.seed.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", opts.python.display()))?;
    let process_wall_secs = start.elapsed().as_secs_f64();
    if !child.status.success() {
        bail!("the Splink script failed ({})", child.status);
    }
    let stdout = String::from_utf8_lossy(&child.stdout);
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .context("the Splink script printed nothing")?;
    let run: SplinkRun = serde_json::from_str(last)
        .context("the last line of the Splink script is not its JSON summary")?;

    let mut reader = csv::Reader::from_path(&output)
        .with_context(|| format!("cannot read {}", output.display()))?;
    let mut rows = Vec::with_capacity(population.records.len());
    for row in reader.records() {
        let row = row.context("Splink's clusters are not valid CSV")?;
        rows.push((
            row.get(0).unwrap_or_default().to_owned(),
            row.get(1).unwrap_or_default().to_owned(),
        ));
    }
    let clusters = clusters_from_assignments(&population.records, rows)?;
    let result = score_clustering(population, &clusters);
    Ok(SplinkSide {
        link_secs: run.train_secs + run.predict_secs + run.cluster_secs,
        process_wall_secs,
        peak_rss_bytes: run.max_rss_kib * 1024,
        run,
        result,
    })
}

fn print_side_by_side(r: &EvalReport, our_peak: Option<u64>, s: &SplinkSide) {
    let (a, b) = (&r.scores, &s.result.scores);
    println!();
    println!(
        "Same {} records, same truth, same scoring (Splink {}, DuckDB {}, threshold {}):",
        r.records, s.run.splink_version, s.run.duckdb_version, s.run.threshold
    );
    println!("  {:<34} {:>14} {:>14}", "", "renkei", "Splink");
    let row = |name: &str, x: String, y: String| println!("  {name:<34} {x:>14} {y:>14}");
    row(
        "precision",
        format!("{:.5}", a.precision),
        format!("{:.5}", b.precision),
    );
    row(
        "recall",
        format!("{:.5}", a.recall),
        format!("{:.5}", b.recall),
    );
    row("F1", format!("{:.5}", a.f1), format!("{:.5}", b.f1));
    row(
        "predicted pairs",
        a.predicted_pairs.to_string(),
        b.predicted_pairs.to_string(),
    );
    row(
        "true positive pairs",
        a.true_positive_pairs.to_string(),
        b.true_positive_pairs.to_string(),
    );
    row(
        "clusters",
        r.clusters.to_string(),
        s.result.clusters.to_string(),
    );
    row(
        "pairs compared",
        r.pairs_compared.to_string(),
        s.run
            .pairs_blocked
            .map_or_else(|| "?".to_owned(), |n| format!("~{n}")),
    );
    for (ours, theirs) in r.traps.iter().zip(&s.result.traps) {
        row(
            &format!("trap {} merged", ours.kind),
            format!("{}/{}", ours.merged, ours.pairs),
            format!("{}/{}", theirs.merged, theirs.pairs),
        );
    }
    row(
        "train + link (s)",
        format!("{:.1}", r.total_secs),
        format!("{:.1}", s.link_secs),
    );
    row(
        "load + normalise (s)",
        "-".to_owned(),
        format!("{:.1}", s.run.load_secs),
    );
    row(
        "whole Splink process (s)",
        "-".to_owned(),
        format!("{:.1}", s.process_wall_secs),
    );
    row(
        "peak memory",
        our_peak.map_or_else(|| "?".to_owned(), mib),
        mib(s.peak_rss_bytes),
    );
}
