//! `kontingent`: check catalog files, inspect and verify journals, serve ledgers
//! over HTTP, and run the operator's verbs against a running server.
//!
//! Exit status of `verify`: 0 ok, 1 torn tail (would be cut on open), 2 corrupt,
//! 3 not a journal or unreadable. `check`: 0 valid, 1 errors. `repair`: 0 nothing
//! to repair (unchanged) or repaired, 2 corruption it cannot cut away (a damaged
//! base state), 3 not a journal, unreadable, or the side file already exists.

mod remote;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kontingent::durable::replay::apply_entry;
use kontingent::journal::{Entry, Journal};
use kontingent::storage::FileStorage;
use kontingent::{Delta, JournalError, Ledger};
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
    /// Retire the journal's records into one base state at its start (the file is
    /// replaced atomically; processes that have it open follow on their next write).
    Compact { journal: PathBuf },
    /// Serve ledgers over HTTP (docs/SERVER.md).
    Serve(Box<kontingent_server::ServeArgs>),
    /// Pause a ledger on a running server: every later reserve is refused `paused`.
    Pause(remote::Target),
    /// Resume a paused ledger on a running server.
    Resume(remote::Target),
    /// Set a pool's capacity on a running server.
    Capacity {
        #[command(flatten)]
        target: remote::Target,
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Its new capacity.
        #[arg(long)]
        capacity: u64,
    },
    /// Load a catalog file (TOML, or JSON if it ends in .json) into a ledger on a
    /// running server, or change the loaded one; a bad one is refused with every
    /// issue and its line.
    LoadCatalog {
        #[command(flatten)]
        target: remote::Target,
        /// The catalog file.
        file: PathBuf,
    },
    /// Print who holds what on a running server, as CSV (all pools, or one).
    Export {
        #[command(flatten)]
        target: remote::Target,
        /// Only this pool.
        #[arg(long)]
        pool: Option<String>,
    },
    /// Where opening refuses a journal as corrupt at offset o: save the bytes from o
    /// to `JOURNAL.cut-at-<o>`, then cut the journal at o (and fsync). Never done
    /// automatically; a journal without corruption is left unchanged.
    Repair { journal: PathBuf },
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
        Cmd::Compact { journal } => compact(journal),
        Cmd::Repair { journal } => repair(journal),
        Cmd::Serve(args) => serve(*args),
        Cmd::Pause(t) => remote::verb(&t, "pause", remote::Body::Json(serde_json::json!({}))),
        Cmd::Resume(t) => remote::verb(&t, "resume", remote::Body::Json(serde_json::json!({}))),
        Cmd::Capacity {
            target,
            pool,
            capacity,
        } => remote::verb(
            &target,
            "capacity",
            remote::Body::Json(serde_json::json!({ "pool": pool, "capacity": capacity })),
        ),
        Cmd::LoadCatalog { target, file } => match std::fs::read_to_string(&file) {
            Ok(text) => {
                let json = file.extension().is_some_and(|e| e == "json");
                remote::verb(&target, "catalog", remote::Body::Catalog { text, json })
            }
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                ExitCode::from(1)
            }
        },
        Cmd::Export { target, pool } => {
            // The pool goes into the query string %-escaped.
            let path = match pool {
                None => "reservations.csv".to_owned(),
                Some(p) => {
                    let escaped: String = p
                        .bytes()
                        .map(|b| match b {
                            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                                (b as char).to_string()
                            }
                            _ => format!("%{b:02X}"),
                        })
                        .collect();
                    format!("reservations.csv?pool={escaped}")
                }
            };
            remote::verb(&target, &path, remote::Body::Get)
        }
    }
}

fn serve(args: kontingent_server::ServeArgs) -> ExitCode {
    kontingent_server::log::init();
    let served = args
        .config()
        .and_then(|c| kontingent_server::serve(c, |addr| println!("listening on http://{addr}")));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kontingent serve: {e}");
            ExitCode::from(2)
        }
    }
}

fn check(path: PathBuf) -> ExitCode {
    match kontingent::read_catalog(&path) {
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
    let scanned = Journal::scan(storage, |entry| {
        let cmd = match entry {
            Entry::Base { records, .. } => {
                // A compacted journal: its first records live on as one state.
                n = records;
                bar.suspend(|| println!("records 1..={records}: retired into the base state"));
                return apply_entry(&mut ledger, entry);
            }
            Entry::Command(cmd) => cmd,
        };
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
            format!(", then {} bytes: {}", recovery.torn_bytes, cut(&recovery))
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

/// Open an existing journal for writing (a torn tail is cut, as on any open).
fn open_ledger(path: &std::path::Path) -> Result<kontingent::DurableLedger, ExitCode> {
    if !path.exists() {
        eprintln!("{}: no such file", path.display());
        return Err(ExitCode::from(3));
    }
    kontingent::open(path, kontingent::Durability::Full).map_err(|e| report(path, &e))
}

fn checkpoint(path: PathBuf) -> ExitCode {
    let started = std::time::Instant::now();
    let ledger = match open_ledger(&path) {
        Ok(l) => l,
        Err(code) => return code,
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

fn compact(path: PathBuf) -> ExitCode {
    let started = std::time::Instant::now();
    let ledger = match open_ledger(&path) {
        Ok(l) => l,
        Err(code) => return code,
    };
    match ledger.compact() {
        Ok(c) => {
            println!(
                "{}: {} records retired; {:.1} MB → {:.1} MB in {:.2} s",
                path.display(),
                c.records,
                c.bytes_before as f64 / 1e6,
                c.bytes_after as f64 / 1e6,
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

/// What opening cuts after the last good record (`docs/FORMAT.md`, decision table).
fn cut(r: &kontingent::journal::Recovery) -> String {
    if r.torn_batch {
        format!(
            "torn group commit (a hole, then {} records of the same group commit, never acknowledged: no later one follows)",
            r.torn_records
        )
    } else {
        format!("torn tail ({} partial records)", r.torn_records)
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
    let mut base = 0;
    let scanned = Journal::scan(storage, |entry| {
        if let Entry::Base { records, .. } = entry {
            base = records;
        }
        n += 1;
        if n.is_multiple_of(65_536) {
            bar.set_position(n);
        }
        apply_entry(&mut ledger, entry)
    });
    bar.finish_and_clear();
    match scanned {
        Ok((r, end)) if r.torn_bytes > 0 => {
            println!(
                "{}: {} — {} records ok, then {} bytes after offset {end}; opening the journal will cut them",
                path.display(),
                cut(&r),
                r.records,
                r.torn_bytes,
            );
            ExitCode::from(1)
        }
        Ok((r, _)) => {
            println!(
                "{}: ok — {} records{}, digest {}",
                path.display(),
                r.records,
                if base > 0 {
                    format!(" after a base state of {base} retired records")
                } else {
                    String::new()
                },
                ledger.digest()
            );
            ExitCode::SUCCESS
        }
        Err(e) => report(&path, &e),
    }
}

/// The records the bytes `cut` (from offset `at` of the journal) appear to hold:
/// frames whose CRC matches, found at any offset, as (count, lowest and highest
/// sequence number).
fn records_in(cut: &[u8]) -> (u64, Option<(u64, u64)>) {
    let (mut n, mut range) = (0u64, None::<(u64, u64)>);
    let mut o = 0usize;
    while o + 16 <= cut.len() {
        let len = u32::from_le_bytes([cut[o], cut[o + 1], cut[o + 2], cut[o + 3]]) as usize;
        let crc = u32::from_le_bytes([cut[o + 4], cut[o + 5], cut[o + 6], cut[o + 7]]);
        let end = o + 16 + len;
        if len > 0 && end <= cut.len() && crc32c::crc32c(&cut[o + 8..end]) == crc {
            let seq = u64::from_le_bytes(cut[o + 8..o + 16].try_into().unwrap_or_default());
            n += 1;
            range = Some(range.map_or((seq, seq), |(a, b)| (a.min(seq), b.max(seq))));
            o = end;
        } else {
            o += 1;
        }
    }
    (n, range)
}

fn repair(path: PathBuf) -> ExitCode {
    let storage = match open(&path) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let mut ledger = Ledger::new();
    let (offset, reason) = match Journal::scan(storage, |e| apply_entry(&mut ledger, e)) {
        Ok((r, end)) => {
            println!(
                "{}: no corruption — {} records ok{}; nothing changed",
                path.display(),
                r.records,
                if r.torn_bytes > 0 {
                    format!(
                        ", then a torn tail of {} bytes after offset {end}, which opening cuts by itself",
                        r.torn_bytes
                    )
                } else {
                    String::new()
                }
            );
            return ExitCode::SUCCESS;
        }
        Err(JournalError::Corrupt { offset, reason }) => (offset, reason),
        Err(e) => return report(&path, &e),
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", path.display());
            return ExitCode::from(3);
        }
    };
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    let base_len = u64::from_le_bytes(bytes[40..48].try_into().unwrap_or_default());
    if offset <= kontingent::journal::HEADER_LEN && (version == 2 || base_len > 0) {
        eprintln!(
            "{}: the base state is damaged ({reason}); cutting cannot repair that: restore the journal from a backup",
            path.display()
        );
        return ExitCode::from(2);
    }
    let mut side = path.clone().into_os_string();
    side.push(format!(".cut-at-{offset}"));
    let side = PathBuf::from(side);
    let cut = &bytes[offset as usize..];
    let saved = (|| -> std::io::Result<()> {
        use std::io::Write as _;
        // Never overwrite an earlier side file.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&side)?;
        f.write_all(cut)?;
        f.sync_all()?;
        if let Some(dir) = side.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        let j = std::fs::OpenOptions::new().write(true).open(&path)?;
        j.set_len(offset)?;
        j.sync_all()
    })();
    if let Err(e) = saved {
        eprintln!(
            "{}: not repaired, the journal is unchanged ({}: {e})",
            path.display(),
            side.display()
        );
        return ExitCode::from(3);
    }
    let (records, range) = records_in(cut);
    println!(
        "{}: corrupted at byte offset {offset} ({reason}); cut {} bytes from offset {offset}, holding {records} intact-looking records{}; saved to {}",
        path.display(),
        cut.len(),
        match range {
            Some((a, b)) => format!(" (numbers {a} ..= {b})"),
            None => String::new(),
        },
        side.display()
    );
    ExitCode::SUCCESS
}
