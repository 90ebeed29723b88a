//! The main demo: the Emstek voucher campaign's opening rush, replayed.
//!
//! `cargo run --release -p kontingent-examples --bin emstek-vouchers [-- --seed N] [--catalog FILE]`

use kontingent::Catalog;
use kontingent_examples::emstek;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut seed = emstek::DEFAULT_SEED;
    let mut catalog_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--seed", Some(v)) => match v.parse() {
                Ok(s) => seed = s,
                Err(_) => return usage(&format!("--seed: not a number: {v}")),
            },
            ("--catalog", Some(v)) => catalog_path = Some(v),
            _ => return usage(&format!("unknown argument: {arg}")),
        }
    }
    let catalog = match catalog_path {
        Some(path) => Catalog::from_path(&path).map_err(|e| e.to_string()),
        None => emstek::catalog(),
    };
    let catalog = match catalog {
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
