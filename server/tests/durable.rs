//! Durable before the 2xx, seen from outside: the server runs with every
//! `fdatasync`/`fsync` slowed to 300 ms (an LD_PRELOAD shim built here with the
//! system's C compiler), so an answer that left before its sync would come back in
//! a millisecond, and requests that did not share syncs would take 300 ms each.

mod common;

use common::Server;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const DELAY: Duration = Duration::from_millis(300);

const SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>
static void slow(void) {
    const char *us = getenv("KONTINGENT_TEST_SYNC_US");
    if (us) usleep((useconds_t)atol(us));
}
int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    slow();
    return real(fd);
}
int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    slow();
    return real(fd);
}
"#;

fn shim(dir: &Path) -> std::path::PathBuf {
    let (src, lib) = (dir.join("slow_sync.c"), dir.join("slow_sync.so"));
    std::fs::write(&src, SHIM).unwrap();
    let built = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .arg("-ldl")
        .status()
        .expect("a C compiler (cc) to build the shim");
    assert!(built.success());
    lib
}

fn syncs(s: &Server) -> f64 {
    let mut r = s
        .agent
        .get(format!("{}/metrics", s.base))
        .header("Authorization", format!("Bearer {}", common::OPERATOR))
        .call()
        .unwrap();
    let text = r.body_mut().read_to_string().unwrap();
    let name = r#"kontingent_journal{ledger="emstek",counter="fdatasyncs"} "#;
    let line = text
        .lines()
        .find(|l| l.starts_with(name))
        .expect("the counter");
    line[name.len()..].parse().unwrap()
}

#[test]
fn no_answer_leaves_before_its_fdatasync_and_concurrent_requests_share_one() {
    let dir = tempfile::tempdir().unwrap();
    let lib = shim(dir.path());
    let catalog =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emstek-vouchers/catalog.toml");
    let noon = 1_795_950_000_000u64 + 11 * 3_600_000; // inside the campaign's window
    let s = Server::start_with(
        &dir.path().join("emstek.journal"),
        &catalog,
        &format!("fixed:{noon}"),
        |c| {
            c.env("LD_PRELOAD", &lib)
                .env("KONTINGENT_TEST_SYNC_US", DELAY.as_micros().to_string());
        },
    );
    // The shim is in the server: the answer waits for the slow sync.
    let started = Instant::now();
    let (status, first) = s.reserve("d0", "anna", "zur-post-20");
    let took = started.elapsed();
    assert_eq!(
        (status, first["status"].as_str()),
        (200, Some("held")),
        "{first}"
    );
    assert!(
        took >= DELAY,
        "answered {took:?} after sending: before its {DELAY:?} fdatasync"
    );

    // 16 at once: answered together after a few syncs, not one sync each.
    let before = syncs(&s);
    let started = Instant::now();
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    s.reserve(&format!("d{}", i + 1), &format!("c{i}"), "zur-post-20")
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let took = started.elapsed();
    assert!(
        answers
            .iter()
            .all(|(st, o)| *st == 200 && o["status"] == "held"),
        "{answers:?}"
    );
    let shared = syncs(&s) - before;
    assert!(took >= DELAY, "{took:?}");
    assert!(
        shared <= 4.0 && took < DELAY * 8,
        "16 requests took {shared} fdatasyncs and {took:?}: they should share"
    );
}
