//! `renkei link`: batch 名寄せ of a CSV of patient records (evaluation, migration of a region's
//! existing patient lists). Trains the model on the input itself (EM), links, writes clusters.

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args)]
pub struct LinkArgs {
    /// Input CSV: record_id,facility,local_id,name_kanji,name_kana,sex,birth_date,postal_code,
    /// address,insurer_number,insured_symbol,insured_number,insured_branch (UTF-8).
    #[arg(long)]
    input: PathBuf,
    /// Output CSV: record_id,cluster_id.
    #[arg(long)]
    output: PathBuf,
    /// Worker threads (0: every core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Also write the trained model (m/u weights, thresholds) as JSON, to inspect it.
    #[arg(long)]
    model_out: Option<PathBuf>,
}

pub fn run(args: LinkArgs) -> Result<()> {
    let input = std::fs::File::open(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let records = renkei_mpi::read_csv(std::io::BufReader::new(input))?;
    eprintln!("{} records read; training the model …", records.len());
    let opts = renkei_mpi::TrainOptions {
        threads: args.threads,
        ..renkei_mpi::TrainOptions::default()
    };
    let model = renkei_mpi::train(&records, &opts);
    if let Some(path) = &args.model_out {
        std::fs::write(path, model.to_json())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(0);
        if let Ok(style) =
            ProgressStyle::with_template("linking {bar:40} {percent}% {elapsed_precise}")
        {
            b.set_style(style);
        }
        b
    } else {
        ProgressBar::hidden()
    };
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let clusters = renkei_mpi::link_batch(&records, &model, args.threads, &progress);
    bar.finish_and_clear();
    let out = std::fs::File::create(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let rows = renkei_mpi::assignments(&records, &clusters);
    renkei_mpi::write_clusters(std::io::BufWriter::new(out), &rows)?;
    eprintln!(
        "{} records in {} clusters written to {}",
        records.len(),
        clusters.len(),
        args.output.display()
    );
    Ok(())
}
