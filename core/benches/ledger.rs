//! Core state-machine throughput, one core, no I/O. `cargo bench -p kontingent-core --bench ledger`.
//!
//! Commands are built before the clock starts: a caller builds its request anyway,
//! and the figure is the ledger's own cost per command.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use kontingent_core::limits::CAPACITY_MAX;
use kontingent_core::{Action, Command, Draw, Ledger, Outcome, Request};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn define(l: &mut Ledger, pools: &[&str], offers: &[(&str, Vec<&str>)]) {
    for p in pools {
        l.apply(&Command::new(
            0,
            Action::DefinePool {
                pool: (*p).into(),
                capacity: CAPACITY_MAX,
            },
        ))
        .unwrap();
    }
    for (o, draws) in offers {
        l.apply(&Command::new(
            0,
            Action::DefineOffer {
                offer: (*o).into(),
                draws: draws.iter().map(|p| Draw::new(*p, 1)).collect(),
                waitlist: Default::default(),
            },
        ))
        .unwrap();
    }
}

fn reserve_confirm(c: &mut Criterion) {
    let mut g = c.benchmark_group("reserve+confirm, 1 pool");
    g.throughput(Throughput::Elements(1));
    g.bench_function("pair", |b| {
        b.iter_custom(|iters| {
            let mut l = Ledger::new();
            define(&mut l, &["zur-post"], &[("voucher", vec!["zur-post"])]);
            let reserves: Vec<Command> = (0..iters)
                .map(|i| {
                    Command::new(
                        1,
                        Action::Reserve(
                            Request::new(format!("r{i}"), format!("c{}", i % 10_000))
                                .line("voucher", 1),
                        ),
                    )
                })
                .collect();
            let mut events = Vec::with_capacity(4);
            let start = Instant::now();
            for cmd in &reserves {
                events.clear();
                let Outcome::Held { reservation, .. } = l.apply_into(cmd, &mut events).unwrap()
                else {
                    panic!("not held")
                };
                events.clear();
                let out = l
                    .apply_into(
                        &Command::new(1, Action::Confirm { reservation }),
                        &mut events,
                    )
                    .unwrap();
                black_box(out);
            }
            let elapsed = start.elapsed();
            drop(reserves);
            elapsed
        })
    });
    g.finish();
}

fn three_by_three(c: &mut Criterion) {
    let pools: Vec<String> = (0..9).map(|i| format!("p{i}")).collect();
    let pool_refs: Vec<&str> = pools.iter().map(String::as_str).collect();
    let offers = vec![
        ("o0", vec!["p0", "p1", "p2"]),
        ("o1", vec!["p3", "p4", "p5"]),
        ("o2", vec!["p6", "p7", "p8"]),
    ];
    let mut g = c.benchmark_group("reserve, 3 lines x 3 pools");
    g.throughput(Throughput::Elements(1));
    g.bench_function("hold", |b| {
        b.iter_custom(|iters| {
            let mut l = Ledger::new();
            define(&mut l, &pool_refs, &offers);
            let cmds: Vec<Command> = (0..iters)
                .map(|i| {
                    Command::new(
                        1,
                        Action::Reserve(
                            Request::new(format!("r{i}"), format!("c{}", i % 10_000))
                                .line("o0", 1)
                                .line("o1", 2)
                                .line("o2", 1),
                        ),
                    )
                })
                .collect();
            let mut events = Vec::with_capacity(4);
            let start = Instant::now();
            for cmd in &cmds {
                events.clear();
                black_box(l.apply_into(cmd, &mut events).unwrap());
            }
            start.elapsed()
        })
    });
    g.finish();
}

fn expire_million(c: &mut Criterion) {
    const HOLDS: u64 = 1_000_000;
    let mut g = c.benchmark_group("expiry");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(HOLDS));
    for (label, spread) in [
        ("1M holds at one tick, same duration", false),
        ("1M holds at one tick, 1,000 durations", true),
    ] {
        g.bench_function(label, |b| {
            b.iter_batched(
                || {
                    let mut l = Ledger::new();
                    define(&mut l, &["zur-post"], &[("voucher", vec!["zur-post"])]);
                    for i in 0..HOLDS {
                        // Either all the default-like same duration (arrive in expiry order),
                        // or spread over 1,000 durations (out of order: the heap path).
                        let hold = if spread { 1 + i % 1000 } else { 1_000_000 };
                        let r = Request::new(format!("r{i}"), format!("c{i}"))
                            .line("voucher", 1)
                            .hold_ms(hold);
                        let at = if spread { 0 } else { i / 1000 };
                        l.apply(&Command::new(at, Action::Reserve(r))).unwrap();
                    }
                    l
                },
                |mut l| {
                    let mut events = Vec::with_capacity(HOLDS as usize);
                    l.apply_into(&Command::new(10_000_000, Action::Tick), &mut events)
                        .unwrap();
                    assert_eq!(events.len() as u64, HOLDS);
                    assert_eq!(l.pool("zur-post").unwrap().held, 0);
                    (l, events)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, reserve_confirm, three_by_three, expire_million);
criterion_main!(benches);
