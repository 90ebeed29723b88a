//! The server as a client sees it: a real `kontingent-server` process on
//! 127.0.0.1, a real journal, real HTTP. Outcomes are 200 (a refusal too), errors
//! carry their code and a fitting status, keys separate the roles, and every 2xx
//! reservation survives a SIGKILL of the server right after it.

mod common;

use common::{Server, CLIENT, OPERATOR};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// 2026-11-29 12:00 in Berlin: the Emstek campaign opens.
const NOON: u64 = 1_795_950_000_000;

fn emstek(dir: &Path, clock: &str) -> Server {
    let catalog =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emstek-vouchers/catalog.toml");
    Server::start(&dir.join("emstek.journal"), &catalog, clock)
}

#[test]
fn outcomes_are_200_and_refusals_are_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("manual:{}", NOON - 60_000));
    let (status, early) = s.reserve("r0", "ben", "zur-post-20");
    assert_eq!(
        (status, early),
        (
            200,
            json!({"status": "refused", "reason": "not_open_yet", "opens_at": NOON})
        )
    );

    // The clock a page counts down by is the one that judged: public, the rehearsal's.
    assert_eq!(
        s.get("/v1/clock", None),
        (200, json!({"now": NOON - 60_000}))
    );
    s.set_clock(NOON + 46_000);
    assert_eq!(
        s.get("/v1/clock", None),
        (200, json!({"now": NOON + 46_000}))
    );
    let (status, held) = s.reserve("r1", "anna", "zur-post-20");
    assert_eq!(status, 200);
    assert_eq!(held["status"], "held");
    assert_eq!(held["expires_at"], NOON + 46_000 + 5 * 60_000);
    // The same request again answers the first outcome; the key may be a header.
    let again = s.post(
        "/v1/ledgers/emstek/reserve",
        Some(CLIENT),
        &json!({"customer": "anna", "lines": [{"offer": "zur-post-20", "quantity": 1}]})
            .to_string(),
    );
    let mut by_header = s
        .agent
        .post(format!("{}/v1/ledgers/emstek/reserve", s.base))
        .header("Authorization", format!("Bearer {CLIENT}"))
        .header("Idempotency-Key", "r1")
        .send(
            json!({"customer": "anna", "lines": [{"offer": "zur-post-20", "quantity": 1}]})
                .to_string(),
        )
        .unwrap();
    assert_eq!(by_header.status().as_u16(), 200);
    assert_eq!(by_header.body_mut().read_json::<Value>().unwrap(), held);
    assert_eq!(again.0, 422, "a request id is needed: {}", again.1);
    assert_eq!(again.1["details"], json!({}));
    // The same id for another request is a conflict.
    let (status, reused) = s.reserve("r1", "anna", "zur-post-50");
    assert_eq!(
        (status, reused["code"].as_str()),
        (409, Some("request_id_reused"))
    );

    let id = held["reservation"].as_u64().unwrap();
    let (status, confirmed) = s.post(
        "/v1/ledgers/emstek/confirm",
        Some(CLIENT),
        &json!({"reservation": id}).to_string(),
    );
    assert_eq!(
        (status, confirmed),
        (
            200,
            json!({"status": "confirmed", "reservation": id, "units": 1})
        )
    );
    let (status, view) = s.get(
        &format!("/v1/ledgers/emstek/reservations/{id}"),
        Some(CLIENT),
    );
    assert_eq!(
        (status, view["state"].as_str(), view["customer"].as_str()),
        (200, Some("confirmed"), Some("anna"))
    );
}

#[test]
fn errors_name_their_field_with_a_fitting_status_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let before = s.get("/v1/ledgers/emstek/availability", None).1;
    let cases: &[(&str, &str, u16, &str)] = &[
        (
            "/v1/ledgers/emstek/reserve",
            r#"{"request_id":"a","customer":"x","lines":[{"offer":"nope","quantity":1}]}"#,
            404,
            "unknown_offer",
        ),
        (
            "/v1/ledgers/emstek/reserve",
            r#"{"request_id":"a","customer":"x","lines":[{"offer":"zur-post-20","qty":1}]}"#,
            422,
            "invalid_input",
        ),
        (
            "/v1/ledgers/emstek/reserve",
            r#"{"request_id":"a","customer":"x","lines":[{"offer":"zur-post-20","quantity":-1}]}"#,
            422,
            "out_of_range",
        ),
        (
            "/v1/ledgers/emstek/reserve",
            r#"{"request_id":"a","customer":"x","lines":[{"offer":"zur-post-20","quantity":1e3}]}"#,
            422,
            "invalid_input",
        ),
        (
            "/v1/ledgers/emstek/reserve",
            r#"{"request_id":"a","customer":"x","lines":[{"offer":"zur-post-20","quantity":0}]}"#,
            422,
            "zero",
        ),
        (
            "/v1/ledgers/emstek/reserve",
            r#"{"request_id":"a","customer":"x","lines":[{"offer":"zur-post-20","quantity":1}],"extra":1}"#,
            422,
            "invalid_input",
        ),
        (
            "/v1/ledgers/emstek/reserve",
            r#"{"request_id":"a","customer":"x","lines":[{"offer":"zur-post-20","quantity":1}]} trailing"#,
            422,
            "invalid_input",
        ),
        (
            "/v1/ledgers/emstek/reserve",
            "not json",
            422,
            "invalid_input",
        ),
        (
            "/v1/ledgers/emstek/confirm",
            r#"{"reservation":99}"#,
            404,
            "unknown_reservation",
        ),
        (
            "/v1/ledgers/emstek/confirm",
            r#"{"reservation":100000000000000000000000}"#,
            422,
            "out_of_range",
        ),
        (
            "/v1/ledgers/nowhere/reserve",
            r#"{}"#,
            404,
            "unknown_ledger",
        ),
        ("/v2/anything", r#"{}"#, 404, "not_found"),
    ];
    for (path, body, status, code) in cases {
        let (got, v) = s.post(path, Some(CLIENT), body);
        assert_eq!(
            (got, v["code"].as_str()),
            (*status, Some(*code)),
            "{path} {body}: {v}"
        );
        assert!(v["message"].as_str().unwrap().len() < 400, "bounded: {v}");
    }
    let (_, v) = s.post(
        "/v1/ledgers/emstek/reserve",
        Some(CLIENT),
        r#"{"request_id":"a","customer":"x","lines":[{"offer":"zur-post-20","qty":1}]}"#,
    );
    assert!(
        v["message"].as_str().unwrap().contains("lines[0]")
            && v["message"].as_str().unwrap().contains("qty"),
        "{v}"
    );
    let big = format!(
        r#"{{"request_id":"a","customer":"{}","lines":[]}}"#,
        "x".repeat(20_000)
    );
    let (got, v) = s.post("/v1/ledgers/emstek/reserve", Some(CLIENT), &big);
    assert_eq!((got, v["code"].as_str()), (413, Some("payload_too_large")));
    assert_eq!(
        s.get("/v1/ledgers/emstek/availability", None).1,
        before,
        "nothing changed"
    );
}

#[test]
fn keys_separate_clients_from_operators() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let r = r#"{"request_id":"k1","customer":"x","lines":[{"offer":"zur-post-20","quantity":1}]}"#;
    assert_eq!(
        s.post("/v1/ledgers/emstek/reserve", None, r).1["code"],
        "unauthorized"
    );
    assert_eq!(s.post("/v1/ledgers/emstek/reserve", None, r).0, 401);
    assert_eq!(
        s.post(
            "/v1/ledgers/emstek/reserve",
            Some("client-key-0123456788"),
            r
        )
        .0,
        401
    );
    let (status, v) = s.post("/v1/ledgers/emstek/pause", Some(CLIENT), "");
    assert_eq!((status, v["code"].as_str()), (403, Some("forbidden")));
    // Availability and the catalog are public: no customer data.
    assert_eq!(s.get("/v1/ledgers/emstek/availability", None).0, 200);
    assert_eq!(s.get("/v1/ledgers/emstek/catalog", None).0, 200);
    assert_eq!(s.get("/v1/ledgers/emstek/reservations/1", None).0, 401);

    assert_eq!(
        s.post("/v1/ledgers/emstek/pause", Some(OPERATOR), "").1,
        json!({"status": "done"})
    );
    assert_eq!(
        s.post("/v1/ledgers/emstek/reserve", Some(CLIENT), r).1,
        json!({"status": "refused", "reason": "paused"})
    );
    assert_eq!(
        s.get("/v1/ledgers/emstek/availability", None).1["paused"],
        true
    );
    s.post("/v1/ledgers/emstek/resume", Some(OPERATOR), "{}");
    let r2 = r#"{"request_id":"k2","customer":"x","lines":[{"offer":"zur-post-20","quantity":1}]}"#;
    assert_eq!(
        s.post("/v1/ledgers/emstek/reserve", Some(CLIENT), r2).1["status"],
        "held"
    );
    let (status, v) = s.post(
        "/v1/ledgers/emstek/capacity",
        Some(OPERATOR),
        r#"{"pool":"zur-post","capacity":1}"#,
    );
    assert_eq!((status, v), (200, json!({"status": "done"})));
    let r3 = r#"{"request_id":"k3","customer":"y","lines":[{"offer":"zur-post-20","quantity":1}]}"#;
    assert_eq!(
        s.post("/v1/ledgers/emstek/reserve", Some(CLIENT), r3).1["reason"],
        "sold_out"
    );
}

#[test]
fn concurrent_requests_get_exactly_the_capacity_and_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    // eiscafe-venezia has 15 vouchers; 40 people ask at once.
    let answers: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    s.reserve(
                        &format!("c{i}"),
                        &format!("customer{i}"),
                        "eiscafe-venezia-20",
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|(status, _)| *status == 200));
    let held: Vec<u64> = answers
        .iter()
        .filter(|(_, v)| v["status"] == "held")
        .map(|(_, v)| v["reservation"].as_u64().unwrap())
        .collect();
    assert_eq!(held.len(), 15, "exactly the capacity");
    assert_eq!(
        answers
            .iter()
            .filter(|(_, v)| v["reason"] == "sold_out")
            .count(),
        25
    );
    // Every 2xx was durable: kill -9 right after the answers, then read the journal.
    let mut s = s;
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    let ledger = kontingent::open(
        dir.path().join("emstek.journal"),
        kontingent::Durability::Full,
    )
    .unwrap();
    for id in held {
        let r = ledger
            .read(|l| l.reservation(kontingent::ReservationId(id)))
            .unwrap();
        assert!(
            r.is_some(),
            "acknowledged reservation {id} survives the kill"
        );
    }
}

#[test]
fn events_stream_the_deltas_with_their_seq() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let start = s.get("/v1/ledgers/emstek/availability", None).1["seq"]
        .as_u64()
        .unwrap();
    assert_eq!(s.reserve("e1", "anna", "zur-post-20").1["status"], "held");
    let resp = s
        .agent
        .get(format!("{}/v1/ledgers/emstek/events?after={start}", s.base))
        .call()
        .unwrap();
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut reader = BufReader::new(resp.into_body().into_reader());
    let (mut id, mut data) = (None, None);
    let mut line = String::new();
    while id.is_none() || data.is_none() {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if let Some(v) = line.strip_prefix("id: ") {
            id = Some(v.trim().parse::<u64>().unwrap());
        }
        if let Some(v) = line.strip_prefix("data: ") {
            data = Some(serde_json::from_str::<Value>(v.trim()).unwrap());
        }
    }
    assert_eq!(id, Some(start + 1));
    assert_eq!(data.unwrap()["seq"], start + 1);
}

#[test]
fn a_server_without_an_operator_key_does_not_start() {
    let (code, stderr) = common::refused_start(&[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("operator key"), "{stderr}");
}

#[test]
fn the_csv_export_lists_who_holds_what_per_pool() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let a = s.reserve("x1", "anna@example.org", "zur-post-20").1;
    s.reserve("x2", "=cmd|' /C calc'!A0", "zur-post-50");
    let released = s.reserve("x3", "cem", "zur-post-20").1["reservation"]
        .as_u64()
        .unwrap();
    s.post(
        "/v1/ledgers/emstek/release",
        Some(CLIENT),
        &json!({"reservation": released}).to_string(),
    );
    s.reserve("x4", "dora", "eiscafe-venezia-20");
    let csv =
        |q: &str, key: &str| s.get_text(&format!("/v1/ledgers/emstek/reservations.csv{q}"), key);
    let (status, text) = csv("?pool=zur-post", OPERATOR);
    assert_eq!(status, 200);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "reservation,state,customer,channel,offer,quantity,pool,units,expires_at"
    );
    let id = a["reservation"].as_u64().unwrap();
    assert_eq!(
        rows[1],
        format!(
            "{id},held,anna@example.org,web,zur-post-20,1,zur-post,1,{}",
            NOON + 1_000 + 300_000
        )
    );
    assert!(
        rows[2].contains(",'=cmd|' /C calc'!A0,"),
        "a formula is defused: {}",
        rows[2]
    );
    assert_eq!(
        rows.len(),
        3,
        "the released one and the other pool's are not listed: {text}"
    );
    // Every pool: the budget pool is drawn by every voucher.
    let (_, all) = csv("", OPERATOR);
    assert_eq!(all.lines().filter(|l| l.contains(",budget,")).count(), 3);
    assert_eq!(csv("?pool=nope", OPERATOR).0, 404);
    assert_eq!(csv("", CLIENT).0, 403, "customer data is for the operator");
}

#[test]
fn the_operator_changes_the_catalog_and_a_bad_one_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let root =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emstek-vouchers/catalog.toml");
    let text = std::fs::read_to_string(root).unwrap();
    let more = text.replacen(
        "name = \"zur-post\"\ncapacity = 80",
        "name = \"zur-post\"\ncapacity = 81",
        1,
    );
    assert_ne!(more, text);
    let toml = |body: &str, key: &str| {
        let mut r = s
            .agent
            .post(format!("{}/v1/ledgers/emstek/catalog", s.base))
            .header("Authorization", format!("Bearer {key}"))
            .header("Content-Type", "application/toml")
            .send(body)
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_json::<Value>().unwrap(),
        )
    };
    assert_eq!(toml(&more, OPERATOR), (200, json!({"status": "done"})));
    let pools = s.get("/v1/ledgers/emstek/availability", None).1["pools"].clone();
    assert!(
        pools
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["capacity"] == 81),
        "{pools}"
    );
    let before = s.get("/v1/ledgers/emstek/availability", None).1;
    let (status, v) = toml("[[pools]]\nname = 1\n", OPERATOR);
    assert_eq!((status, v["code"].as_str()), (422, Some("invalid_catalog")));
    assert!(
        !v["details"]["issues"].as_array().unwrap().is_empty(),
        "{v}"
    );
    assert_eq!(s.get("/v1/ledgers/emstek/availability", None).1, before);
    assert_eq!(toml(&more, CLIENT).0, 403);
    // JSON, by its content type: the same catalog, so nothing to change.
    let (status, v) = s.post(
        "/v1/ledgers/emstek/catalog",
        Some(OPERATOR),
        "{\"pools\": 3}",
    );
    assert_eq!((status, v["code"].as_str()), (422, Some("invalid_catalog")));
}

#[test]
fn metrics_count_outcomes_and_show_the_pools() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("manual:{}", NOON - 1_000));
    s.reserve("m1", "anna", "zur-post-20");
    s.set_clock(NOON + 1_000);
    s.reserve("m2", "anna", "zur-post-20");
    let scrape = |key: &str| s.get_text("/metrics", key);
    let (status, text) = scrape(OPERATOR);
    assert_eq!(status, 200);
    for line in [
        r#"kontingent_outcomes_total{ledger="emstek",command="reserve",status="refused",reason="not_open_yet"} 1"#,
        r#"kontingent_outcomes_total{ledger="emstek",command="reserve",status="held",reason=""} 1"#,
        r#"kontingent_pool_units{ledger="emstek",pool="zur-post",units="held"} 1"#,
        r#"kontingent_pool_units{ledger="emstek",pool="zur-post",units="capacity"} 80"#,
        r#"kontingent_poisoned{ledger="emstek"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    assert!(
        text.contains("kontingent_http_responses_total{status=\"200\"}"),
        "{text}"
    );
    // The histograms agree with the counters: one observation per batch written and
    // per fdatasync, and their +Inf buckets hold every observation.
    let value = |name: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
            .unwrap_or_else(|| panic!("{name} in:\n{text}"));
        line[name.len() + 1..].parse().unwrap()
    };
    let batches = value(r#"kontingent_journal{ledger="emstek",counter="batches"}"#);
    let syncs = value(r#"kontingent_journal{ledger="emstek",counter="fdatasyncs"}"#);
    let records = value(r#"kontingent_journal{ledger="emstek",counter="records"}"#);
    assert!(batches >= 2.0 && syncs >= 2.0, "{text}");
    for (name, want) in [
        (
            r#"kontingent_batch_records_count{ledger="emstek"}"#,
            batches,
        ),
        (r#"kontingent_batch_records_sum{ledger="emstek"}"#, records),
        (
            r#"kontingent_batch_records_bucket{le="+Inf",ledger="emstek"}"#,
            batches,
        ),
        (
            r#"kontingent_fdatasync_seconds_count{ledger="emstek"}"#,
            syncs,
        ),
        (
            r#"kontingent_fdatasync_seconds_bucket{le="+Inf",ledger="emstek"}"#,
            syncs,
        ),
    ] {
        assert_eq!(value(name), want, "{name} in:\n{text}");
    }
    assert!(value(r#"kontingent_fdatasync_seconds_sum{ledger="emstek"}"#) > 0.0);
    assert!(
        text.contains("# TYPE kontingent_fdatasync_seconds histogram"),
        "{text}"
    );
    assert_eq!(scrape(CLIENT).0, 403);
}

#[test]
fn sigterm_answers_what_is_in_flight_and_exits_0_and_a_restart_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let held = s.reserve("t1", "anna", "zur-post-20").1;
    assert_eq!(held["status"], "held");
    // 32 clients send at once and SIGTERM comes while they are being answered:
    // each request that was taken is answered whole (never a 5xx, never cut off),
    // the others find the door closed.
    let answered = std::sync::atomic::AtomicUsize::new(0);
    type Answer = Result<(u16, Value), String>;
    let results: Vec<(String, Answer)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..32)
            .map(|i| {
                let (base, answered) = (&s.base, &answered);
                scope.spawn(move || {
                    let id = format!("f{i}");
                    let body = json!({"request_id": id, "customer": id, "lines": [{"offer": "zur-post-20", "quantity": 1}]});
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .build()
                        .into();
                    let r = agent
                        .post(format!("{base}/v1/ledgers/emstek/reserve"))
                        .header("Authorization", format!("Bearer {CLIENT}"))
                        .header("Content-Type", "application/json")
                        .send(body.to_string())
                        .map_err(|e| e.to_string())
                        .and_then(|mut r| {
                            let status = r.status().as_u16();
                            let v = r.body_mut().read_json::<Value>().map_err(|e| e.to_string())?;
                            Ok((status, v))
                        });
                    answered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    (id, r)
                })
            })
            .collect();
        while answered.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        s.terminate();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(s.child.wait().unwrap().code(), Some(0), "a clean exit");
    let taken: Vec<(&String, &Value)> = results
        .iter()
        .filter_map(|(id, r)| {
            r.as_ref().ok().map(|(status, v)| {
                assert_eq!(*status, 200, "{id}: a request taken is answered: {v}");
                (id, v)
            })
        })
        .collect();
    assert!(!taken.is_empty());
    println!(
        "{} of 32 taken and answered, {} turned away",
        taken.len(),
        32 - taken.len()
    );
    // The stop wrote a checkpoint: the restart replays from it.
    assert!(dir.path().join("emstek.journal.checkpoint").exists());
    let again = emstek(dir.path(), &format!("fixed:{}", NOON + 2_000));
    assert_eq!(
        again.reserve("t1", "anna", "zur-post-20").1,
        held,
        "the restart replayed it"
    );
    for (id, outcome) in taken {
        assert_eq!(
            &again.reserve(id, id, "zur-post-20").1,
            outcome,
            "{id} after the restart"
        );
    }
}

#[test]
fn sigterm_ends_open_event_streams_and_exits_0_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let stream = s
        .agent
        .get(format!("{}/v1/ledgers/emstek/events", s.base))
        .call()
        .unwrap();
    let mut reader = BufReader::new(stream.into_body().into_reader());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("id: "), "the stream is open: {line:?}");
    s.terminate();
    // A stream never ends by itself: the drain would wait its full bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let exit = loop {
        if let Some(exit) = s.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still running 5 s after SIGTERM, with an event stream open"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0), "a clean exit");
    let mut rest = String::new();
    assert!(reader.read_to_string(&mut rest).is_ok(), "the stream ended");
}

/// The OpenAPI document against the server itself: every operation it lists is
/// routed (not `not_found`, not 405) and needs exactly the key its `x-role` says;
/// and its operations are the ones docs/SERVER.md's table lists.
#[test]
fn the_openapi_document_is_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("manual:{}", NOON + 1_000));
    let doc = s.get("/v1/openapi.json", None).1;
    let mut listed = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            listed.push(format!("{} {path}", method.to_uppercase()));
            let url = path
                .replace("{ledger}", "emstek")
                .replace("{id}", "1")
                .replace("{consumer}", "mailer");
            let call = |key: Option<&str>| -> u16 {
                let code = if method == "get" {
                    if url.ends_with("/events") {
                        // A stream: its headers are the answer.
                        let mut req = s.agent.get(format!("{}{url}", s.base));
                        if let Some(k) = key {
                            req = req.header("Authorization", format!("Bearer {k}"));
                        }
                        return req.call().unwrap().status().as_u16();
                    }
                    s.get(&url, key)
                } else {
                    s.post(&url, key, "")
                };
                assert_ne!(code.1["code"], "not_found", "{method} {path} is routed");
                code.0
            };
            let role = op["x-role"].as_str().unwrap();
            assert_ne!(call(Some(OPERATOR)), 405, "{method} {path}");
            match role {
                "public" => assert_ne!(call(None), 401, "{method} {path} is public"),
                "client" => {
                    assert_eq!(call(None), 401, "{method} {path} needs a key");
                    assert_ne!(
                        call(Some(CLIENT)),
                        403,
                        "{method} {path} takes the client key"
                    );
                }
                "operator" => assert_eq!(
                    call(Some(CLIENT)),
                    403,
                    "{method} {path} needs the operator key"
                ),
                other => panic!("x-role {other}"),
            }
        }
    }
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/SERVER.md"))
            .unwrap();
    let mut documented: Vec<String> = Vec::new();
    for line in docs
        .lines()
        .filter(|l| l.starts_with("| `GET ") || l.starts_with("| `POST "))
    {
        let cell = line.split('`').nth(1).unwrap();
        let (method, paths) = cell.split_once(' ').unwrap();
        // `POST /a/pause` / `resume`: the second shares the first's prefix.
        let first = paths.to_owned();
        documented.push(format!("{method} {first}"));
        for more in line.split('|').nth(1).unwrap().split(" / ").skip(1) {
            let name = more.trim().trim_matches('`');
            let base = first.rsplit_once('/').unwrap().0;
            documented.push(format!("{method} {base}/{name}"));
        }
    }
    listed.sort();
    documented.sort();
    assert_eq!(listed, documented);
}

#[test]
fn logs_are_json_lines_with_operator_verbs_and_never_a_customer() {
    let dir = tempfile::tempdir().unwrap();
    let catalog =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emstek-vouchers/catalog.toml");
    // Debug is the most a log shows of requests: even there, no customer.
    let mut s = Server::start_with(
        &dir.path().join("emstek.journal"),
        &catalog,
        &format!("fixed:{}", NOON + 1_000),
        |c| {
            c.env("KONTINGENT_LOG_FORMAT", "json")
                .env("KONTINGENT_LOG", "debug")
                .stderr(std::process::Stdio::piped());
        },
    );
    let customer = "customer-secret-4711";
    assert_eq!(s.reserve("l1", customer, "zur-post-20").1["status"], "held");
    let (status, _) = s.post("/v1/ledgers/emstek/pause", Some(OPERATOR), "{}");
    assert_eq!(status, 200);
    assert_eq!(s.get("/v1/ledgers/nowhere/availability", None).0, 404);
    let stderr = s.child.stderr.take().unwrap();
    s.terminate();
    let lines: Vec<Value> = BufReader::new(stderr)
        .lines()
        .map(|l| {
            let l = l.unwrap();
            assert!(!l.contains(customer), "a customer in the log: {l}");
            serde_json::from_str(&l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))
        })
        .collect();
    let find = |level: &str, message: &str| {
        lines
            .iter()
            .find(|l| l["level"] == level && l["fields"]["message"] == message)
            .unwrap_or_else(|| panic!("{level} {message:?} in {lines:#?}"))
    };
    assert_eq!(find("INFO", "ledger opened")["fields"]["ledger"], "emstek");
    find("INFO", "listening");
    let pause = find("INFO", "operator");
    assert_eq!(pause["fields"]["path"], "/v1/ledgers/emstek/pause");
    assert_eq!(pause["fields"]["status"], 200);
    let reserve = lines
        .iter()
        .find(|l| l["fields"]["path"] == "/v1/ledgers/emstek/reserve")
        .expect("the reserve at debug");
    assert_eq!(reserve["level"], "DEBUG");
    let unknown = lines
        .iter()
        .find(|l| l["fields"]["path"] == "/v1/ledgers/nowhere/availability")
        .expect("the 404 at debug");
    assert_eq!(unknown["fields"]["code"], "unknown_ledger");
    find(
        "INFO",
        "stopping: no new requests; answering those in flight",
    );
    find("INFO", "stopped: every answer given was synced");
    assert_eq!(s.child.wait().unwrap().code(), Some(0));
}

#[test]
fn the_overview_counts_refusals_per_minute_and_lists_the_next_holds() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("manual:{}", NOON - 60_000));
    let reserve = |id: &str, customer: &str, offer: &str, extra: Value| {
        let mut body = json!({"request_id": id, "customer": customer, "lines": [{"offer": offer, "quantity": 1}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s.post(
            "/v1/ledgers/emstek/reserve",
            Some(CLIENT),
            &body.to_string(),
        )
        .1
    };
    assert_eq!(
        s.reserve("o0", "ben", "zur-post-20").1["reason"],
        "not_open_yet"
    );
    s.set_clock(NOON + 30_000);
    s.post(
        "/v1/ledgers/emstek/capacity",
        Some(OPERATOR),
        r#"{"pool":"eiscafe-venezia","capacity":1}"#,
    );
    let late = reserve(
        "o1",
        "anna",
        "eiscafe-venezia-10",
        json!({"hold_ms": 600_000}),
    );
    let soon = reserve("o2", "ben", "zur-post-20", json!({"hold_ms": 120_000}));
    assert_eq!(
        reserve("o3", "cem", "zur-post-10", json!({"confirm": true}))["status"],
        "confirmed"
    );
    assert_eq!(
        reserve("o4", "dora", "eiscafe-venezia-10", json!({}))["reason"],
        "sold_out"
    );
    assert_eq!(
        reserve(
            "o5",
            "emil",
            "eiscafe-venezia-10",
            json!({"waitlist": true})
        )["status"],
        "waiting"
    );
    s.set_clock(NOON + 61_000);
    s.post("/v1/ledgers/emstek/pause", Some(OPERATOR), "");
    for id in ["o6", "o7"] {
        assert_eq!(s.reserve(id, "finn", "zur-post-20").1["reason"], "paused");
    }
    s.post("/v1/ledgers/emstek/resume", Some(OPERATOR), "");

    let (status, o) = s.get("/v1/ledgers/emstek/overview", Some(OPERATOR));
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["now"], NOON + 61_000);
    assert_eq!(
        o["refusals"],
        json!([
            {"minute": NOON - 60_000, "reasons": {"not_open_yet": 1}},
            {"minute": NOON, "reasons": {"sold_out": 1}},
            {"minute": NOON + 60_000, "reasons": {"paused": 2}},
        ])
    );
    let expiring: Vec<(&Value, &Value, &Value)> = o["expiring"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (&r["id"], &r["customer"], &r["expires_at"]))
        .collect();
    assert_eq!(
        expiring,
        vec![
            (&soon["reservation"], &json!("ben"), &json!(NOON + 150_000)),
            (&late["reservation"], &json!("anna"), &json!(NOON + 630_000)),
        ],
        "soonest first; the confirmed one is not a hold"
    );
    let waiting: Vec<&Value> = o["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["waiting"] != 0)
        .collect();
    assert_eq!(
        waiting,
        vec![&json!({"offer": "eiscafe-venezia-10", "waiting": 1})]
    );
    assert_eq!(o["waiting"].as_array().unwrap().len(), 30, "every offer");

    let one = s
        .get("/v1/ledgers/emstek/overview?holds=1", Some(OPERATOR))
        .1;
    assert_eq!(one["expiring"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.get("/v1/ledgers/emstek/overview?holds=x", Some(OPERATOR))
            .0,
        422
    );
    assert_eq!(
        s.get("/v1/ledgers/emstek/overview?from=1", Some(OPERATOR))
            .0,
        422
    );
    assert_eq!(
        s.get("/v1/ledgers/emstek/overview", Some(CLIENT)).0,
        403,
        "customers are for the operator"
    );
    assert_eq!(
        s.get("/v1/ledgers", Some(OPERATOR)),
        (200, json!({"ledgers": ["emstek"]}))
    );
    assert_eq!(s.get("/v1/ledgers", Some(CLIENT)).0, 403);
}

#[test]
fn the_console_is_one_static_page_with_its_own_script_and_style_only() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON));
    let fetch = |path: &str| {
        let mut r = s.agent.get(format!("{}{path}", s.base)).call().unwrap();
        let header = |h: &str| {
            r.headers()
                .get(h)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let (kind, policy) = (header("content-type"), header("content-security-policy"));
        (
            r.status().as_u16(),
            kind,
            policy,
            r.body_mut().read_to_string().unwrap(),
        )
    };
    let (status, kind, policy, html) = fetch("/console");
    assert_eq!(
        (status, kind.as_str()),
        (200, "text/html; charset=utf-8"),
        "no key: the page holds no data"
    );
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    // Every script and style the page names is served, and none is inline.
    let mut assets = 0;
    for tag in html.split('<').skip(1) {
        let name = tag.split([' ', '>']).next().unwrap();
        assert_ne!(name, "style", "an inline style: <{tag}");
        if name == "script" {
            assert!(
                tag.contains(" src=\"/console/"),
                "an inline or foreign script: <{tag}"
            );
        }
        for attribute in [" src=\"", " href=\""] {
            let Some((_, rest)) = tag.split_once(attribute) else {
                continue;
            };
            let url = rest.split('"').next().unwrap();
            if url == "data:," {
                continue; // no icon: the browser asks for none
            }
            let (status, kind, policy, _) = fetch(url);
            assert_eq!(status, 200, "{url}");
            assert!(
                kind.starts_with("text/javascript") || kind.starts_with("text/css"),
                "{url}: {kind}"
            );
            assert!(!policy.is_empty(), "{url}");
            assets += 1;
        }
    }
    assert_eq!(assets, 2, "the script and the style");
    // Data reaches the DOM as text only: the script never parses HTML.
    let (_, _, _, script) = fetch("/console/console.js");
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!script.contains(sink), "console.js uses {sink}");
    }
}

#[test]
fn public_reads_answer_any_origin_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let origin = |method: &str, path: &str, key: Option<&str>| {
        let url = format!("{}{path}", s.base);
        let auth = key.map(|k| format!("Bearer {k}"));
        let resp = match method {
            "GET" => {
                let mut r = s.agent.get(url).header("Origin", "http://shop.example");
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            _ => {
                let mut r = s.agent.post(url).header("Origin", "http://shop.example");
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.header("Content-Type", "application/json").send("{}")
            }
        }
        .unwrap();
        let allowed = resp
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned());
        (resp.status().as_u16(), allowed)
    };
    let any = Some("*".to_owned());
    for path in [
        "/v1/health",
        "/v1/openapi.json",
        "/v1/ledgers/emstek/availability",
        "/v1/ledgers/emstek/catalog",
        "/v1/ledgers/emstek/events?after=0",
    ] {
        assert_eq!(origin("GET", path, None), (200, any.clone()), "{path}");
    }
    // A public route's error is readable too (the page can show why).
    assert_eq!(
        origin("GET", "/v1/ledgers/nowhere/availability", None),
        (404, any.clone())
    );
    for (method, path, key) in [
        ("GET", "/v1/ledgers/emstek/reservations.csv", OPERATOR),
        ("GET", "/v1/ledgers/emstek/overview", OPERATOR),
        ("GET", "/v1/ledgers", OPERATOR),
        ("GET", "/metrics", OPERATOR),
        ("GET", "/console", OPERATOR),
        ("GET", "/v1/ledgers/emstek/reservations/1", CLIENT),
        (
            "GET",
            "/v1/ledgers/emstek/why-unavailable?offer=zur-post-20",
            CLIENT,
        ),
        ("POST", "/v1/ledgers/emstek/preview", CLIENT),
        ("POST", "/v1/ledgers/emstek/catalog", OPERATOR),
        ("POST", "/v1/ledgers/emstek/resume", OPERATOR),
    ] {
        assert_eq!(origin(method, path, Some(key)).1, None, "{method} {path}");
    }
    // An EventSource reconnecting from another origin sends Last-Event-ID: preflighted.
    let preflight = |path: &str| {
        s.agent
            .options(format!("{}{path}", s.base))
            .header("Origin", "http://shop.example")
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "last-event-id")
            .call()
            .unwrap()
    };
    let ok = preflight("/v1/ledgers/emstek/events");
    assert_eq!(ok.status().as_u16(), 204);
    let h = |name: &str| ok.headers().get(name).unwrap().to_str().unwrap();
    assert_eq!(h("access-control-allow-origin"), "*");
    assert_eq!(h("access-control-allow-methods"), "GET");
    assert_eq!(h("access-control-allow-headers"), "last-event-id");
    for path in ["/v1/ledgers/emstek/pause", "/v1/ledgers/emstek/reserve"] {
        let refused = preflight(path);
        assert!(
            refused
                .headers()
                .get("access-control-allow-origin")
                .is_none(),
            "{path}: {}",
            refused.status()
        );
    }
}

#[test]
fn a_lapsed_hold_expires_by_itself_in_a_quiet_hour() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("manual:{}", NOON + 1_000));
    let body = json!({"request_id": "q1", "customer": "anna", "hold_ms": 60_000,
                      "lines": [{"offer": "zur-post-20", "quantity": 1}]});
    let (_, held) = s.post(
        "/v1/ledgers/emstek/reserve",
        Some(CLIENT),
        &body.to_string(),
    );
    assert_eq!(held["status"], "held", "{held}");
    let id = &held["reservation"];
    let state = || {
        s.get(
            &format!("/v1/ledgers/emstek/reservations/{id}"),
            Some(CLIENT),
        )
        .1["state"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    // Before its time nothing happens (a tick is written only when a hold is due).
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    assert_eq!(state(), "held");
    // No request comes after the clock passes the hold's end: the server ticks.
    s.set_clock(NOON + 62_000);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while state() != "expired" {
        assert!(
            std::time::Instant::now() < deadline,
            "still {} 10 s after its hold ended",
            state()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pools = s.get("/v1/ledgers/emstek/availability", None).1["pools"].clone();
    let zur = pools
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "zur-post")
        .unwrap()
        .clone();
    assert_eq!(zur["held"], 0, "{zur}");
}

#[test]
fn an_event_stream_asked_for_seqs_beyond_the_ledger_says_so_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let seq = s.get("/v1/ledgers/emstek/availability", None).1["seq"]
        .as_u64()
        .unwrap();
    let mut r = s
        .agent
        .get(format!(
            "{}/v1/ledgers/emstek/events?after={}",
            s.base,
            seq + 5
        ))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    // The whole answer: one error event, and the stream ends.
    let text = r.body_mut().read_to_string().unwrap();
    assert!(text.starts_with("event: error\n"), "{text}");
    let data: Value =
        serde_json::from_str(text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap()).unwrap();
    assert_eq!(data["code"], "invalid_input");
    assert_eq!(data["details"]["last"], seq);
    // At the ledger's own seq the stream is open and waits.
    let mut live = s
        .agent
        .get(format!("{}/v1/ledgers/emstek/events?after={seq}", s.base))
        .call()
        .unwrap();
    s.reserve("e1", "anna", "zur-post-20");
    let mut reader = BufReader::new(live.body_mut().as_reader());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("id: {}", seq + 1));
}

#[test]
fn fifty_event_streams_cost_the_ledger_one_look_not_fifty() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &format!("fixed:{}", NOON + 1_000));
    let seq = s.get("/v1/ledgers/emstek/availability", None).1["seq"]
        .as_u64()
        .unwrap();
    let reads = || -> f64 {
        let mut r = s
            .agent
            .get(format!("{}/metrics", s.base))
            .header("Authorization", format!("Bearer {OPERATOR}"))
            .call()
            .unwrap();
        let text = r.body_mut().read_to_string().unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("kontingent_sse_reads_total "))
            .unwrap_or_else(|| panic!("sse_reads in {text}"));
        line["kontingent_sse_reads_total ".len()..].parse().unwrap()
    };
    let mut streams: Vec<_> = (0..50)
        .map(|_| {
            let r = s
                .agent
                .get(format!("{}/v1/ledgers/emstek/events?after={seq}", s.base))
                .call()
                .unwrap();
            BufReader::new(r.into_body().into_reader())
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = reads();
    std::thread::sleep(std::time::Duration::from_secs(2));
    let idle = reads() - before;
    // One feed looks ten times a second; fifty streams polling would be 1,000.
    assert!(idle <= 40.0, "{idle} reads in 2 s for 50 idle streams");
    for i in 0..3 {
        s.reserve(&format!("s{i}"), "anna", "zur-post-20");
    }
    for (n, r) in streams.iter_mut().enumerate() {
        let mut ids = Vec::new();
        while ids.len() < 3 {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if let Some(id) = line.trim().strip_prefix("id: ") {
                ids.push(id.parse::<u64>().unwrap());
            }
        }
        assert_eq!(ids, vec![seq + 1, seq + 2, seq + 3], "stream {n}");
    }
}

/// The console is framed by no page, unless the operator names the origins that
/// may (the WordPress plugin's campaign page); a value that is not a bare origin
/// would add a directive of its own, so it stops the server at start.
#[test]
fn only_the_named_origins_may_frame_the_console() {
    let policy = |s: &Server| {
        let resp = s.agent.get(format!("{}/console", s.base)).call().unwrap();
        resp.headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    };
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), "fixed:0");
    assert!(
        policy(&s).ends_with("frame-ancestors 'none'"),
        "{}",
        policy(&s)
    );
    drop(s);
    let catalog =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emstek-vouchers/catalog.toml");
    let s = Server::start_flags(
        &dir.path().join("emstek.journal"),
        &catalog,
        "fixed:0",
        &[
            "--console-frame-ancestor",
            "http://127.0.0.1:8080",
            "--console-frame-ancestor",
            "https://shop.example.org",
        ],
    );
    assert!(
        policy(&s).ends_with("frame-ancestors http://127.0.0.1:8080 https://shop.example.org"),
        "{}",
        policy(&s)
    );
    for bad in [
        "shop.example.org",
        "https://a.org; script-src *",
        "https://a.org/path",
        "https://",
    ] {
        let (code, stderr) = common::refused_start(&["--no-keys", "--console-frame-ancestor", bad]);
        assert_eq!(code, Some(2), "{bad}: {stderr}");
        assert!(
            stderr.contains("--console-frame-ancestor"),
            "{bad}: {stderr}"
        );
    }
}
