//! `cargo run --release -p renkei-mpi --example bench_link -- PERSONS [SEED] [THREADS]`
fn main() {
    let mut args = std::env::args().skip(1);
    let persons = args.next().and_then(|s| s.parse().ok()).unwrap_or(3_000);
    let seed = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let threads = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let report = renkei_mpi::evaluate(persons, seed, threads);
    if std::env::var_os("MODEL").is_some() {
        println!("{}", report.model_report);
    }
    println!("{report}");
}
