//! Memory per live hold: heap bytes allocated by the ledger divided by live holds.
//! `cargo bench -p kontingent-core --bench memory`. Counts with a wrapping global allocator,
//! so the figure includes map slack, vector growth and allocator rounding to 16 bytes
//! (not glibc's per-chunk header, which adds ~8 bytes per allocation).
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::{Action, Command, Draw, Ledger, Request};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

fn rounded(size: usize) -> usize {
    size.div_ceil(16) * 16
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(rounded(layout.size()), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(rounded(layout.size()), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(rounded(layout.size()), Ordering::Relaxed);
        LIVE.fetch_add(rounded(new_size), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn measure(
    label: &str,
    holds: u64,
    request_id: impl Fn(u64) -> String,
    customer: impl Fn(u64) -> String,
) {
    let mut l = Ledger::new();
    l.apply(&Command::new(
        0,
        Action::DefinePool {
            pool: "zur-post".into(),
            capacity: 1 << 40,
        },
    ))
    .unwrap();
    l.apply(&Command::new(
        0,
        Action::DefinePool {
            pool: "budget".into(),
            capacity: 1 << 50,
        },
    ))
    .unwrap();
    l.apply(&Command::new(
        0,
        Action::DefineOffer {
            offer: "voucher-20".into(),
            draws: vec![Draw::new("zur-post", 1), Draw::new("budget", 20)],
            waitlist: Default::default(),
        },
    ))
    .unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    let mut events = Vec::with_capacity(8);
    for i in 0..holds {
        let cmd = Command::new(
            1,
            Action::Reserve(Request::new(request_id(i), customer(i)).line("voucher-20", 1)),
        );
        events.clear();
        l.apply_into(&cmd, &mut events).unwrap();
    }
    let after = LIVE.load(Ordering::Relaxed);
    assert_eq!(l.pool("zur-post").unwrap().held, holds);
    println!(
        "{label}: {} live holds, {:.1} bytes per hold",
        holds,
        (after - before) as f64 / holds as f64
    );
}

fn main() {
    let n = 1_000_000;
    measure(
        "distinct customers, ids like r-0001234",
        n,
        |i| format!("r-{i:07}"),
        |i| format!("customer-{i}"),
    );
    measure(
        "distinct customers, UUID-length ids",
        n,
        |i| format!("{i:08x}-0000-4000-8000-000000000000"),
        |i| format!("customer-{i}@example.org"),
    );
    measure(
        "10 holds per customer",
        n,
        |i| format!("r-{i:07}"),
        |i| format!("customer-{}", i / 10),
    );
}
