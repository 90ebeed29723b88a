//! The main demo: the Emstek voucher campaign's opening rush, replayed.
//!
//! `cargo run --release -p kontingent-examples --bin emstek-vouchers [-- --seed N] [--catalog FILE]`

use kontingent_examples::{cli, emstek};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args = match cli::parse(emstek::DEFAULT_SEED, std::env::args().skip(1)) {
        Ok(a) => a,
        Err(problem) => return usage(&problem),
    };
    let seed = args.seed;
    let catalog = match cli::catalog(args.catalog.as_deref(), emstek::catalog) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("the catalog has errors:\n{e}");
            return ExitCode::FAILURE;
        }
    };
    let started = Instant::now();
    let report = emstek::run_with(catalog, seed);
    let took = started.elapsed();
    println!("{report}");
    println!("(simulated in {:.2} s)", took.as_secs_f64());
    if report.oversold > 0
        || report.false_confirmations > 0
        || report.repeat_mismatches > 0
        || report.unexpected > 0
        || !report.oracle_mismatches.is_empty()
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("{problem}\nusage: emstek-vouchers [--seed N] [--catalog FILE]");
    ExitCode::from(2)
}
