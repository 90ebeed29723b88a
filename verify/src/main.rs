//! Check a quota history recorded elsewhere (a Python script, another
//! process) given as JSON lines, optionally against the ledger's journal.
//!
//! ```text
//! kontingent-verify --pool p0=2 --pool p1=3 [--journal FILE] [--max-steps N] HISTORY|-
//! ```
//!
//! Exit status: 0 linearizable, 1 not (or the journal contradicts the
//! history), 2 bad usage or unreadable input, 3 undecided (budget exhausted).

use kontingent_verify::harness::{check_witness, file_commands};
use kontingent_verify::quota::{check_reservation_ids, QuotaOp, QuotaRet, QuotaSpec};
use kontingent_verify::{check, Config, History, Verdict};
use std::io::BufReader;
use std::process::ExitCode;

const USAGE: &str = "usage: kontingent-verify --pool NAME=CAPACITY [--pool ...] \
                     [--journal FILE] [--max-steps N] HISTORY.jsonl|-";

struct Args {
    pools: Vec<(String, u64)>,
    journal: Option<String>,
    max_steps: Option<u64>,
    history: String,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut pools, mut journal, mut max_steps, mut history) = (Vec::new(), None, None, None);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--pool" => {
                let v = value()?;
                let (name, cap) = v
                    .split_once('=')
                    .ok_or(format!("--pool {v}: expected NAME=CAPACITY"))?;
                let cap = cap.parse().map_err(|e| format!("--pool {v}: {e}"))?;
                pools.push((name.to_owned(), cap));
            }
            "--journal" => journal = Some(value()?),
            "--max-steps" => {
                let v = value()?;
                max_steps = Some(v.parse().map_err(|e| format!("--max-steps {v}: {e}"))?);
            }
            "-h" | "--help" => return Err(String::new()),
            _ if history.is_none() && (a == "-" || !a.starts_with('-')) => history = Some(a),
            _ => return Err(format!("unexpected argument {a:?}")),
        }
    }
    let history = history.ok_or("no history file given")?;
    if pools.is_empty() {
        return Err("no --pool given".into());
    }
    Ok(Args {
        pools,
        journal,
        max_steps,
        history,
    })
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let read = if args.history == "-" {
        History::read_json_lines(std::io::stdin().lock())
    } else {
        match std::fs::File::open(&args.history) {
            Ok(f) => History::read_json_lines(BufReader::new(f)),
            Err(e) => {
                eprintln!("{}: {e}", args.history);
                return ExitCode::from(2);
            }
        }
    };
    let history: History<QuotaOp, QuotaRet> = match read {
        Ok(h) => h,
        Err(e) => {
            eprintln!("{}: {e}", args.history);
            return ExitCode::from(2);
        }
    };
    if let Err(e) = history.validate() {
        eprintln!("{}: {e}", args.history);
        return ExitCode::from(2);
    }
    if let Some(journal) = &args.journal {
        let log = match file_commands(journal.as_ref()) {
            Ok(log) => log,
            Err(e) => {
                eprintln!("{journal}: {e}");
                return ExitCode::from(2);
            }
        };
        match check_witness(&history, &log, &args.pools) {
            Ok(n) => println!("journal: {n} records match the history, in real-time order"),
            Err(e) => {
                println!("journal contradicts the history: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if let Err(e) = check_reservation_ids(&history) {
        println!("reservation ids: {e}");
        return ExitCode::from(1);
    }
    let mut config = Config::default();
    if let Some(n) = args.max_steps {
        config.max_steps = n;
    }
    let verdict = check(&QuotaSpec::per_pool(&args.pools), &history, &config);
    println!("{verdict}");
    match verdict {
        Verdict::Linearizable(_) => ExitCode::SUCCESS,
        Verdict::Violation(_) => ExitCode::from(1),
        Verdict::Undecided { .. } => ExitCode::from(3),
    }
}
