//! Pampanin's delivery launch: the announcement-day rush, replayed.
//!
//! `cargo run --release -p kontingent-examples --bin pampanin-delivery [-- --seed N] [--catalog FILE]`

use kontingent_examples::{cli, pampanin};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args = match cli::parse(pampanin::DEFAULT_SEED, std::env::args().skip(1)) {
        Ok(a) => a,
        Err(problem) => return usage(&problem),
    };
    let seed = args.seed;
    let catalog = match cli::catalog(args.catalog.as_deref(), pampanin::catalog) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("the catalog has errors:\n{e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let report = pampanin::run_with(catalog, seed);
    let took = started.elapsed();
    println!("{report}");
    println!("(simulated in {:.2} s)", took.as_secs_f64());
    if report.oversold > 0
        || !report.violations.is_empty()
        || !report.oracle_mismatches.is_empty()
        || report.repeat_mismatches > 0
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\nusage: pampanin-delivery [--seed N] [--catalog FILE]");
    ExitCode::from(2)
}
