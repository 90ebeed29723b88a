//! `kill -9` of the server under HTTP load, again and again, on one journal.
//! Eight clients reserve, confirm and release over HTTP while the server is
//! SIGKILLed at a random moment. After each kill the journal is opened and
//! every answer a client got as 2xx must be in it: the reservation under its
//! id, the reserve under its request id (a repeat answers the same), and in a
//! state no earlier than the one answered; no pool is oversold. The restarted
//! server answers repeats of the last run's reserves as it first did.
//!
//! `KONTINGENT_KILLS=N` kills (5 by default; the long run is 200) and
//! `KONTINGENT_KILL_SEED` the run's seed. Each run of the server has its own
//! seed, derived from both and printed with any failure; the journal carries
//! the runs before it, so a failure is re-run with the same two variables.
//! Thread timing is not replayed: the seed fixes the choices, not the order.

mod common;

use common::{Server, CLIENT};
use kontingent::{Ledger, Outcome, Request, ReservationId, ReservationState};
use kontingent_verify::harness::SplitMix64;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
/// Each run's fixed clock stands this much after the last run's, beyond a
/// hold: the holds of one run have expired in the next, so the pools turn over.
const RUN_MS: u64 = 600_000;
const HOLD_MS: u64 = 300_000;
const T0: u64 = 1_800_000_000_000;
/// (pool, capacity): small enough to sell out, so promises race for the last units.
const POOLS: [(&str, u64); 3] = [("hot", 40), ("warm", 120), ("budget", 300)];
/// (offer, draws): one unit of an offer draws from one or two pools.
const OFFERS: [(&str, &[(&str, u64)]); 3] = [
    ("hot-1", &[("hot", 1), ("budget", 1)]),
    ("warm-2", &[("warm", 2), ("budget", 2)]),
    ("pair", &[("hot", 1), ("warm", 1)]),
];

/// How far a reservation got, as far as a 2xx told a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Answered {
    Held,
    Confirmed,
    Released,
}

/// A reserve answered with a promise.
#[derive(Clone, Debug)]
struct Promise {
    request: Request,
    outcome: Outcome,
}

/// What one client was told in one run.
#[derive(Default)]
struct Told {
    promises: Vec<Promise>,
    /// (reservation, state) for every 2xx that moved one, in order.
    moves: Vec<(u64, Answered)>,
    answers: usize,
    sold_out: usize,
}

fn catalog_json() -> Value {
    json!({
        "pools": POOLS.iter().map(|(p, c)| json!({"name": p, "capacity": c})).collect::<Vec<_>>(),
        "offers": OFFERS.iter().map(|(o, draws)| json!({
            "name": o,
            "draws": draws.iter().map(|(p, n)| ((*p).to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
    })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A request the kill leaves without an answer fails when its
        // connection does; this bounds one that hangs instead.
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// `None` when the connection failed: the server is gone.
fn send(agent: &ureq::Agent, base: &str, path: &str, body: &Value) -> Option<(u16, Value)> {
    let mut resp = agent
        .post(format!("{base}/v1/ledgers/emstek/{path}"))
        .header("Authorization", format!("Bearer {CLIENT}"))
        .header("Content-Type", "application/json")
        .send(body.to_string())
        .ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.body_mut().read_json().unwrap_or(Value::Null)))
}

/// One client of run `run`: requests until the server is gone. `mine` are
/// reservations it may confirm or release (confirmed ones from earlier runs).
fn client(base: &str, run: u64, seed: u64, t: usize, mut mine: Vec<(u64, Answered)>) -> Told {
    let mut rng = SplitMix64::new(seed ^ (t as u64).wrapping_mul(0xA076_1D64_78BD_642F));
    let agent = agent();
    let mut told = Told::default();
    for n in 0.. {
        let roll = rng.below(100);
        let (path, body, request) = if roll < 65 || mine.is_empty() {
            let (offer, _) = OFFERS[rng.below(OFFERS.len() as u64) as usize];
            let mut r = Request::new(format!("r{run}-c{t}-{n}"), format!("customer-{t}"))
                .line(offer, 1 + rng.below(3));
            r.hold_ms = Some(HOLD_MS);
            if rng.below(3) == 0 {
                r = r.confirm();
            }
            ("reserve", serde_json::to_value(&r).unwrap(), Some(r))
        } else {
            let (id, state) = mine[rng.below(mine.len() as u64) as usize];
            let path = if roll < 82 && state == Answered::Held {
                "confirm"
            } else {
                "release"
            };
            (path, json!({ "reservation": id }), None)
        };
        let Some((status, answer)) = send(&agent, base, path, &body) else {
            break;
        };
        told.answers += 1;
        if status != 200 {
            // 409 for a stale choice (released by a run whose answer was
            // lost), 503 for an answer not known: neither is a 2xx to keep.
            continue;
        }
        let outcome: Outcome = serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("a 200 is an outcome: {answer} ({e})"));
        let moved = match &outcome {
            Outcome::Held { reservation, .. } => Some((reservation.0, Answered::Held)),
            Outcome::Confirmed { reservation, .. } => Some((reservation.0, Answered::Confirmed)),
            Outcome::Released { reservation } => Some((reservation.0, Answered::Released)),
            Outcome::Refused(kontingent::Refusal::SoldOut { .. }) => {
                told.sold_out += 1;
                None
            }
            _ => None,
        };
        if let Some((id, state)) = moved {
            told.moves.push((id, state));
            mine.retain(|(m, _)| *m != id);
            if state != Answered::Released {
                mine.push((id, state));
            }
            if let Some(request) = request {
                told.promises.push(Promise { request, outcome });
            }
        }
    }
    told
}

/// The journal after a kill against everything a 2xx said; `Err` says what is wrong.
fn check(
    l: &Ledger,
    promises: &[Promise],
    furthest: &BTreeMap<u64, Answered>,
) -> Result<(), String> {
    for p in promises {
        let repeat = l.preview(&p.request, l.now()).map_err(|e| e.to_string());
        if repeat.as_ref() != Ok(&p.outcome) {
            return Err(format!(
                "request {} was answered {:?}; its repeat now answers {repeat:?}",
                p.request.request_id, p.outcome
            ));
        }
    }
    for (&id, &answered) in furthest {
        let Some(r) = l.reservation(ReservationId(id)) else {
            return Err(format!(
                "reservation {id} was answered {answered:?} and is missing"
            ));
        };
        let fits = match answered {
            Answered::Held => true,
            Answered::Confirmed => {
                matches!(
                    r.state,
                    ReservationState::Confirmed | ReservationState::Released
                )
            }
            Answered::Released => r.state == ReservationState::Released,
        };
        if !fits {
            return Err(format!(
                "reservation {id} was answered {answered:?} and is now {:?}",
                r.state
            ));
        }
    }
    for p in l.pools() {
        if p.held + p.confirmed > p.capacity {
            return Err(format!("pool {} is oversold: {p:?}", p.name));
        }
    }
    Ok(())
}

/// The restarted server answers a repeat of each of `promises` as it did first.
fn repeats_answer_the_same(s: &Server, promises: &[Promise]) -> Result<(), String> {
    let agent = agent();
    for p in promises {
        let body = serde_json::to_value(&p.request).unwrap();
        let answer = send(&agent, &s.base, "reserve", &body);
        let first = serde_json::to_value(&p.outcome).unwrap();
        if answer.as_ref() != Some(&(200, first.clone())) {
            return Err(format!(
                "request {} was answered {first}; after the restart {answer:?}",
                p.request.request_id
            ));
        }
    }
    Ok(())
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn every_2xx_survives_kill_9_under_http_load() {
    let kills = env_u64("KONTINGENT_KILLS", 5);
    let base_seed = env_u64("KONTINGENT_KILL_SEED", 0x6b69_6c6c);
    let dir = tempfile::tempdir().unwrap();
    let (journal, catalog) = (
        dir.path().join("crash.journal"),
        dir.path().join("crash.json"),
    );
    std::fs::write(&catalog, catalog_json().to_string()).unwrap();
    let mut seeds = SplitMix64::new(base_seed);
    let mut furthest: BTreeMap<u64, Answered> = BTreeMap::new();
    let mut last_promises: Vec<Promise> = Vec::new();
    let (mut answers, mut promised, mut sold_out, mut torn) = (0, 0, 0, 0);
    let started = Instant::now();
    for run in 0..kills {
        let seed = seeds.next_u64();
        let context = format!(
            "run {run} of {kills}, seed {seed:#x} \
             (re-run: KONTINGENT_KILL_SEED={base_seed} KONTINGENT_KILLS={})",
            run + 1
        );
        let mut rng = SplitMix64::new(seed);
        let mut s = Server::start(&journal, &catalog, &format!("fixed:{}", T0 + run * RUN_MS));
        let sample: Vec<Promise> = last_promises.iter().rev().take(16).cloned().collect();
        if let Err(e) = repeats_answer_the_same(&s, &sample) {
            panic!("{context}: {e}");
        }
        // Confirmed reservations of earlier runs may be released in this one.
        let mut shares: Vec<Vec<(u64, Answered)>> = vec![Vec::new(); CLIENTS];
        let live = furthest.iter().filter(|(_, a)| **a == Answered::Confirmed);
        for (i, (&id, &a)) in live.enumerate() {
            shares[i % CLIENTS].push((id, a));
        }
        let kill_after = Duration::from_millis(20 + rng.below(300));
        let told: Vec<Told> = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .into_iter()
                .enumerate()
                .map(|(t, mine)| {
                    let base = s.base.clone();
                    scope.spawn(move || client(&base, run, seed, t, mine))
                })
                .collect();
            std::thread::sleep(kill_after);
            s.child.kill().unwrap(); // SIGKILL
            s.child.wait().unwrap();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        last_promises.clear();
        for t in told {
            answers += t.answers;
            sold_out += t.sold_out;
            promised += t.promises.len();
            for (id, state) in t.moves {
                let f = furthest.entry(id).or_insert(state);
                *f = (*f).max(state);
            }
            last_promises.extend(t.promises);
        }
        let l = kontingent::open(&journal, kontingent::Durability::Full)
            .unwrap_or_else(|e| panic!("{context}: the journal does not open: {e}"));
        torn += u64::from(l.recovery().torn_bytes > 0);
        if let Err(e) = l.read(|l| check(l, &last_promises, &furthest)).unwrap() {
            panic!("{context}, killed after {kill_after:?}: {e}");
        }
    }
    assert!(
        promised > 0,
        "the clients were promised something: {answers} answers"
    );
    eprintln!(
        "{kills} kills in {:.1?}: {answers} answers, {promised} promises ({} reservations), \
         {sold_out} sold out, {torn} torn tails cut; every 2xx survived, nothing oversold",
        started.elapsed(),
        furthest.len()
    );
}

#[test]
fn the_catalog_is_what_the_clients_ask_for() {
    // The clients' offers and pools are the catalog's (a typo would make every
    // reserve unknown_offer, and the kill test would check nothing).
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("c.json");
    std::fs::write(&catalog, catalog_json().to_string()).unwrap();
    let s = Server::start(
        &dir.path().join("c.journal"),
        &catalog,
        &format!("fixed:{T0}"),
    );
    for (offer, _) in OFFERS {
        let (status, v) = s.reserve(&format!("probe-{offer}"), "probe", offer);
        assert_eq!(
            (status, v["status"].as_str()),
            (200, Some("held")),
            "{offer}: {v}"
        );
    }
    let pools = s.get("/v1/ledgers/emstek/availability", None).1["pools"].clone();
    let names: Vec<&str> = pools
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, POOLS.map(|(p, _)| p));
}
