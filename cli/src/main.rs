//! `kontingent`: check catalog files, inspect and verify journals.
//!
//! Exit status of `verify`: 0 ok, 1 torn tail (would be cut on open), 2 corrupt,
//! 3 not a journal or unreadable. `check`: 0 valid, 1 errors.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kontingent::journal::Journal;
use kontingent::storage::FileStorage;
use kontingent::{Catalog, Delta, JournalError, Ledger};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "kontingent",
    version,
    about = "A durable, linearizable ledger of quotas"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Validate a catalog file (TOML or JSON); errors name the field, line and column.
    Check { catalog: PathBuf },
    /// Replay a journal (read-only) and show its commands, events and availability.
    Inspect {
        journal: PathBuf,
        /// Stop after this many records (availability "at seq").
        #[arg(long)]
        records: Option<u64>,
        /// Print every command as JSON.
        #[arg(long)]
        commands: bool,
        /// Print every event as JSON.
        #[arg(long)]
        events: bool,
    },
    /// Check a journal's checksums and sequence without changing it.
    Verify { journal: PathBuf },
    /// Write a checkpoint beside the journal so a restart replays only what follows.
    /// (Opens the journal: a torn tail is cut, as on any open.)
    Checkpoint { journal: PathBuf },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Check { catalog } => check(catalog),
        Cmd::Inspect {
            journal,
            records,
            commands,
            events,
        } => inspect(journal, records, commands, events),
        Cmd::Verify { journal } => verify(journal),
        Cmd::Checkpoint { journal } => checkpoint(journal),
    }
}

fn check(path: PathBuf) -> ExitCode {
    match Catalog::from_path(&path) {
        Ok(c) => {
            let slots = c.offers.iter().filter(|o| o.slot.is_some()).count();
            println!(
                "{}: ok — {} pools, {} offers ({} generated slots), {} rules, channels {}",
                path.display(),
                c.pools.len(),
                c.offers.len(),
                slots,
                c.rules.len(),
                c.channels.join(", ")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn progress() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {pos} records replayed ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar
}

fn open(path: &std::path::Path) -> Result<FileStorage, ExitCode> {
    if !path.exists() {
        eprintln!("{}: no such file", path.display());
        return Err(ExitCode::from(3));
    }
    // Opened for append but never written: scan() only reads.
    FileStorage::open(path).map_err(|e| {
        eprintln!("{}: {e}", path.display());
        ExitCode::from(3)
    })
}

fn report(path: &std::path::Path, e: &JournalError) -> ExitCode {
    eprintln!("{}: {e}", path.display());
    match e {
        JournalError::Corrupt { .. } => ExitCode::from(2),
        _ => ExitCode::from(3),
    }
}

fn inspect(path: PathBuf, records: Option<u64>, commands: bool, events: bool) -> ExitCode {
    let storage = match open(&path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let bar = progress();
    let mut ledger = Ledger::new();
    let mut n = 0u64;
    let limit = records.unwrap_or(u64::MAX);
    let scanned = Journal::scan(storage, |cmd| {
        if n >= limit {
            return Ok(());
        }
        n += 1;
        if n.is_multiple_of(65_536) {
            bar.set_position(n);
        }
        if commands {
            bar.suspend(|| println!("#{n} {}", serde_json::to_string(&cmd).unwrap_or_default()));
        }
        let applied = ledger.apply(cmd).map_err(|e| e.to_string())?;
        if events {
            for e in &applied.events {
                bar.suspend(|| {
                    println!(
                        "  {}",
                        serde_json::to_string(&Delta::from_event(e)).unwrap_or_default()
                    )
                });
            }
        }
        Ok(())
    });
    bar.finish_and_clear();
    let (recovery, _) = match scanned {
        Ok(r) => r,
        Err(e) => return report(&path, &e),
    };
    println!(
        "{}: {} records{}; at record {n}: time {} ms, seq {}, digest {}",
        path.display(),
        recovery.records,
        if recovery.torn_bytes > 0 {
            format!(", then a torn tail of {} bytes", recovery.torn_bytes)
        } else {
            String::new()
        },
        ledger.now(),
        ledger.seq(),
        ledger.digest()
    );
    println!(
        "{:<40} {:>12} {:>12} {:>12} {:>12}",
        "pool", "capacity", "held", "confirmed", "available"
    );
    for p in ledger.pools() {
        println!(
            "{:<40} {:>12} {:>12} {:>12} {:>12}",
            p.name, p.capacity, p.held, p.confirmed, p.available
        );
    }
    ExitCode::SUCCESS
}

fn checkpoint(path: PathBuf) -> ExitCode {
    if !path.exists() {
        eprintln!("{}: no such file", path.display());
        return ExitCode::from(3);
    }
    let started = std::time::Instant::now();
    let ledger = match Ledger::open(&path, kontingent::Durability::Full) {
        Ok(l) => l,
        Err(e) => return report(&path, &e),
    };
    match ledger.checkpoint() {
        Ok(records) => {
            let size = std::fs::metadata(kontingent::checkpoint::path_for(&path))
                .map(|m| m.len())
                .unwrap_or(0);
            println!(
                "{}: checkpoint of {records} records ({:.1} MB) written in {:.2} s",
                path.display(),
                size as f64 / 1e6,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            ExitCode::from(3)
        }
    }
}

fn verify(path: PathBuf) -> ExitCode {
    let storage = match open(&path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let bar = progress();
    let mut n = 0u64;
    // Replaying through the ledger also proves every record is an acceptable command.
    let mut ledger = Ledger::new();
    let scanned = Journal::scan(storage, |cmd| {
        n += 1;
        if n.is_multiple_of(65_536) {
            bar.set_position(n);
        }
        ledger.apply(cmd).map(drop).map_err(|e| e.to_string())
    });
    bar.finish_and_clear();
    match scanned {
        Ok((r, end)) if r.torn_bytes > 0 => {
            println!(
                "{}: torn tail — {} records ok, then {} bytes ({} partial records) after offset {end}; opening the journal will cut them",
                path.display(),
                r.records,
                r.torn_bytes,
                r.torn_records
            );
            ExitCode::from(1)
        }
        Ok((r, _)) => {
            println!(
                "{}: ok — {} records, digest {}",
                path.display(),
                r.records,
                ledger.digest()
            );
            ExitCode::SUCCESS
        }
        Err(e) => report(&path, &e),
    }
}
