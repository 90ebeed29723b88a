//! A bare reserve+confirm loop for profilers (`perf record`, `valgrind --tool=callgrind`).
//! `cargo run --release -p kontingent --example hot_loop -- 2000000`
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)
use kontingent_core::limits::CAPACITY_MAX;
use kontingent_core::{Action, Command, Draw, Ledger, Outcome, Request};
use std::time::Instant;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let mut l = Ledger::new();
    l.apply(&Command::new(
        0,
        Action::DefinePool {
            pool: "zur-post".into(),
            capacity: CAPACITY_MAX,
        },
    ))
    .unwrap();
    l.apply(&Command::new(
        0,
        Action::DefineOffer {
            offer: "voucher".into(),
            draws: vec![Draw::new("zur-post", 1)],
            waitlist: Default::default(),
        },
    ))
    .unwrap();
    let cmds: Vec<Command> = (0..n)
        .map(|i| {
            Command::new(
                1,
                Action::Reserve(
                    Request::new(format!("r{i}"), format!("c{}", i % 10_000)).line("voucher", 1),
                ),
            )
        })
        .collect();
    let mut events = Vec::with_capacity(4);
    let start = Instant::now();
    for cmd in &cmds {
        events.clear();
        let Outcome::Held { reservation, .. } = l.apply_into(cmd, &mut events).unwrap() else {
            panic!()
        };
        events.clear();
        l.apply_into(
            &Command::new(1, Action::Confirm { reservation }),
            &mut events,
        )
        .unwrap();
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{n} reserve+confirm pairs in {s:.3} s: {:.0} pairs/s",
        n as f64 / s
    );
}
