//! Servers on the PostgreSQL log (`--postgres URL --ledger NAME`), against a real
//! PostgreSQL 15 started for each test: two servers ride out a PostgreSQL crash
//! and restart by themselves (reconnect, re-tail; requests in flight answer 503
//! and are safe to retry with their request id), a server started later streams
//! every event from the log, and 64 HTTP clients over two servers are linearizable.

mod common;

use common::target::{catalog, many_clients, Http};
use common::{Server, CLIENT};
use kontingent_pg::cluster::Cluster;
use kontingent_verify::harness::{self, AT};
use kontingent_verify::Recorder;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn hot_catalog(dir: &std::path::Path, capacity: u64) -> std::path::PathBuf {
    let path = dir.join("hot.json");
    let c = json!({
        "pools": [{"name": "hot", "capacity": capacity}],
        "offers": [{"name": "hot-unit", "draws": {"hot": 1}}],
    });
    std::fs::write(&path, c.to_string()).unwrap();
    path
}

fn reserve(s: &Server, id: &str) -> (u16, Value) {
    let body =
        json!({"request_id": id, "customer": id, "lines": [{"offer": "hot-unit", "quantity": 1}]});
    s.post(
        "/v1/ledgers/emstek/reserve",
        Some(CLIENT),
        &body.to_string(),
    )
}

fn held(s: &Server) -> u64 {
    let (status, a) = s.get("/v1/ledgers/emstek/availability", None);
    assert_eq!(status, 200, "{a}");
    let pool = a["pools"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "hot"))
        .unwrap_or_else(|| panic!("pool hot in {a}"));
    pool["held"]
        .as_u64()
        .unwrap_or_else(|| panic!("held in {pool}"))
}

#[test]
fn two_servers_ride_out_a_postgres_crash_and_restart_by_themselves() {
    let pg = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let cat = hot_catalog(dir.path(), 150);
    let clock = format!("fixed:{AT}");
    let servers = [
        Server::on_postgres(&pg.url(), &cat, &clock),
        Server::on_postgres(&pg.url(), &cat, &clock),
    ];
    let (threads, per_thread) = (8, 40);
    let answered = AtomicUsize::new(0);
    let unavailable = AtomicUsize::new(0);
    let finals: Vec<Vec<(String, Value)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (servers, answered, unavailable) = (&servers, &answered, &unavailable);
                s.spawn(move || {
                    let mut out = Vec::new();
                    for i in 0..per_thread {
                        let id = format!("t{t}-{i}");
                        let deadline = Instant::now() + Duration::from_secs(60);
                        // Retried with the same request id, on either server, until answered.
                        let mut attempt = 0;
                        let outcome = loop {
                            let (status, body) = reserve(&servers[(i + attempt) % 2], &id);
                            match status {
                                200 => break body,
                                503 => {
                                    unavailable.fetch_add(1, Ordering::Relaxed);
                                    assert!(
                                        Instant::now() < deadline,
                                        "{id}: still 503 after 60 s: {body}"
                                    );
                                    std::thread::sleep(Duration::from_millis(50));
                                    attempt += 1;
                                }
                                other => panic!("{id}: {other} {body}"),
                            }
                        };
                        answered.fetch_add(1, Ordering::Relaxed);
                        out.push((id, outcome));
                    }
                    out
                })
            })
            .collect();
        // PostgreSQL goes down hard while the servers are busy, and comes back.
        while answered.load(Ordering::Relaxed) < 60 {
            std::thread::sleep(Duration::from_millis(5));
        }
        pg.stop_immediate();
        // A load balancer sees it: health says which ledger is out, then back.
        let health = |want: u16| {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let (status, body) = servers[0].get("/v1/health", None);
                if status == want {
                    return body;
                }
                assert!(
                    Instant::now() < deadline,
                    "health never {want}: {status} {body}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        assert_eq!(
            health(503),
            json!({"status": "unavailable", "poisoned": ["emstek"]})
        );
        pg.restart();
        assert_eq!(health(200), json!({"status": "ok"}));
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let finals: Vec<(String, Value)> = finals.into_iter().flatten().collect();
    assert!(
        unavailable.load(Ordering::Relaxed) > 0,
        "the crash happened while requests were in flight"
    );
    let promised: Vec<&(String, Value)> = finals
        .iter()
        .filter(|(_, o)| o["status"] == "held")
        .collect();
    // 320 requests for 150 units: exactly the capacity promised, none twice, the
    // rest refused sold out, and both servers agree.
    assert_eq!(promised.len(), 150, "{finals:?}");
    assert!(finals
        .iter()
        .all(|(_, o)| o["status"] == "held" || o["reason"] == "sold_out"));
    for s in &servers {
        assert_eq!(held(s), 150);
        for (id, o) in &promised {
            // Every acknowledged hold is there, and a repeat answers it again.
            let r = &o["reservation"];
            let (status, found) = s.get(
                &format!("/v1/ledgers/emstek/reservations/{r}"),
                Some(CLIENT),
            );
            assert_eq!(
                (status, &found["state"]),
                (200, &json!("held")),
                "{id}: {found}"
            );
            assert_eq!(&reserve(s, id).1, o, "{id} repeated");
        }
    }
}

/// The SSE events of `s` from seq 0 until `last`, as (id, data) pairs.
fn events_until(s: &Server, last: u64) -> Vec<(u64, Value)> {
    let mut resp = s
        .agent
        .get(format!("{}/v1/ledgers/emstek/events?after=0", s.base))
        .call()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let mut lines = BufReader::new(resp.body_mut().as_reader()).lines();
    let (mut out, mut id) = (Vec::new(), None);
    while out.last().map(|(i, _)| *i) != Some(last) {
        let line = lines.next().expect("the stream goes on").unwrap();
        if let Some(v) = line.strip_prefix("id: ") {
            id = Some(v.parse::<u64>().unwrap());
        } else if let Some(d) = line.strip_prefix("data: ") {
            out.push((
                id.take().expect("an id before the data"),
                serde_json::from_str(d).unwrap(),
            ));
        }
    }
    out
}

#[test]
fn a_server_started_later_streams_every_event_from_the_log() {
    let pg = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let cat = hot_catalog(dir.path(), 10);
    let a = Server::on_postgres(&pg.url(), &cat, &format!("fixed:{AT}"));
    for i in 0..5 {
        assert_eq!(reserve(&a, &format!("r{i}")).1["status"], "held");
    }
    let seq = 7; // the catalog's pool and offer, then five holds
    let from_a = events_until(&a, seq);
    let b = Server::on_postgres(&pg.url(), &cat, &format!("fixed:{AT}"));
    let from_b = events_until(&b, seq);
    assert_eq!(
        from_b.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        (1..=seq).collect::<Vec<_>>()
    );
    assert_eq!(
        from_b, from_a,
        "the same deltas from the log as from memory"
    );
    // And what A commits now reaches B's stream.
    assert_eq!(reserve(&a, "late").1["status"], "held");
    let more = events_until(&b, seq + 1);
    assert_eq!(more.last().unwrap().0, seq + 1);
}

#[test]
fn histories_of_64_http_clients_on_two_postgres_servers_are_linearizable() {
    let (mut ops, mut overlapping, mut searched) = (0, 0, 0);
    for seed in 0..2u64 {
        let pg = Cluster::start();
        let w = many_clients(9_500 + seed);
        let dir = tempfile::tempdir().unwrap();
        let cat = dir.path().join("c.json");
        std::fs::write(&cat, catalog(&w).to_string()).unwrap();
        let clock = format!("fixed:{AT}");
        let (a, b) = (
            Server::on_postgres(&pg.url(), &cat, &clock),
            Server::on_postgres(&pg.url(), &cat, &clock),
        );
        let recorder = Recorder::new();
        harness::run_clients(&Http::new(vec![&a, &b]), &w, &recorder);
        drop((a, b));
        let history = recorder.into_history();
        let storage = kontingent_pg::PgStorage::connect(&pg.url(), "emstek").unwrap();
        let log = harness::journal_commands(storage).unwrap();
        // So wide (every operation overlaps every other) that the search alone
        // cannot decide it in a test's time: the log's witness proves it.
        match harness::verify_witnessed(&history, &log, &w.pools, 200_000) {
            Ok(c) => {
                assert!(c.witnessed > 0);
                ops += c.ops;
                searched += usize::from(c.search_complete);
            }
            Err(e) => panic!("seed {}: not linearizable over two servers:\n{e}", w.seed),
        }
        overlapping += history.overlapping();
    }
    println!("2 histories of 64 clients on two PostgreSQL servers, {ops} operations, {overlapping} overlapping pairs: all linearizable (witness; search decided {searched} of 2)");
    assert!(overlapping > 64, "the clients did run concurrently");
}

#[test]
fn a_server_frozen_under_load_costs_the_other_at_most_its_hold_limit() {
    let pg = Cluster::start();
    let dir = tempfile::tempdir().unwrap();
    let cat = hot_catalog(dir.path(), 100_000);
    let clock = format!("fixed:{AT}");
    // Both with a hold limit of 1 s (Server::on_postgres).
    let (a, b) = (
        Server::on_postgres(&pg.url(), &cat, &clock),
        Server::on_postgres(&pg.url(), &cat, &clock),
    );
    let stop = std::sync::atomic::AtomicBool::new(false);
    let worst = std::thread::scope(|s| {
        // A is kept busy, so it is likely to hold the ledger's lock when it freezes.
        let loaders: Vec<_> = (0..4)
            .map(|t| {
                let (a, stop) = (&a, &stop);
                s.spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            reserve(a, &format!("a{t}-{i}"))
                        }));
                        i += 1;
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(500));
        let pid = a.child.id().to_string();
        let signal = |sig: &str| {
            assert!(std::process::Command::new("kill")
                .args([sig, &pid])
                .status()
                .unwrap()
                .success())
        };
        signal("-STOP");
        // B goes on serving, each request within the hold limit and some slack.
        let mut worst = Duration::ZERO;
        for i in 0..20 {
            let started = Instant::now();
            let (status, body) = reserve(&b, &format!("b{i}"));
            worst = worst.max(started.elapsed());
            assert_eq!(
                (status, body["status"].as_str()),
                (200, Some("held")),
                "{body}"
            );
        }
        signal("-CONT");
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        for l in loaders {
            let _ = l.join();
        }
        worst
    });
    println!("with A frozen, B's slowest answer took {worst:?}");
    assert!(
        worst < Duration::from_secs(4),
        "B waited {worst:?} for a frozen A (hold limit 1 s)"
    );
    // A wakes to a session PostgreSQL ended: it reconnects and serves again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = reserve(&a, "a-after");
        if status == 200 {
            assert_eq!(body["status"], "held", "{body}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A never came back: {status} {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(held(&a), held(&b), "and both agree");
}
