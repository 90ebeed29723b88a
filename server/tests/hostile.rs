//! Hostile input over real HTTP, written byte by byte on raw connections: huge
//! and deeply nested bodies, wrong types, unknown fields, numbers past 64 bits,
//! over-long ids, bytes that are not UTF-8 (in a body, a path, a query, a
//! header), oversized headers, bad or missing keys. Each is answered with its
//! 4xx and code, naming the field; after the whole corpus the ledger is exactly
//! as it was (seq, digest, availability) and still serves a reserve. And the
//! transport's bounds: slow headers are cut off, connections past the bound are
//! turned away, while the others are served.

mod common;

use common::{connect, read_answer, Server, CLIENT, OPERATOR};
use serde_json::{json, Value};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// 2026-11-29 12:00 in Berlin: the Emstek campaign opens.
const NOON: u64 = 1_795_950_000_000;
const RESERVE: &str = "/v1/ledgers/emstek/reserve";
/// 2^70: past every integer the API takes.
const HUGE: &str = "1180591620717411303424";
/// Long enough to wait for an answer that should come at once.
const PATIENCE: Duration = Duration::from_secs(10);

fn catalog() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emstek-vouchers/catalog.toml")
}

fn emstek(dir: &Path, flags: &[&str]) -> Server {
    let clock = format!("fixed:{}", NOON + 1_000);
    Server::start_flags(&dir.join("emstek.journal"), &catalog(), &clock, flags)
}

/// A request's bytes: the path as raw bytes (they may be anything), the key,
/// more header lines, and the body with its length.
fn request(
    method: &str,
    path: &[u8],
    key: Option<&str>,
    headers: &[&[u8]],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} ").into_bytes();
    out.extend_from_slice(path);
    out.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(k) = key {
        out.extend_from_slice(format!("Authorization: Bearer {k}\r\n").as_bytes());
    }
    for h in headers {
        out.extend_from_slice(h);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

fn post(path: &str, key: Option<&str>, body: impl AsRef<[u8]>) -> Vec<u8> {
    request("POST", path.as_bytes(), key, &[], body.as_ref())
}

fn get(path: impl AsRef<[u8]>, key: Option<&str>) -> Vec<u8> {
    request("GET", path.as_ref(), key, &[], b"")
}

/// A reserve body with `line` as its one line and `extra` fields beside it.
fn reserve(line: &str, extra: &str) -> String {
    format!(r#"{{"request_id":"h1","customer":"eve","lines":[{line}]{extra}}}"#)
}

const LINE: &str = r#"{"offer":"zur-post-20","quantity":1}"#;

fn hundred_and_one_headers() -> Vec<u8> {
    let lines: Vec<String> = (0..101).map(|i| format!("X-{i}: 1")).collect();
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
    request("GET", b"/v1/health", None, &lines, b"")
}

/// One hostile request and the answer it must get.
struct Case {
    what: &'static str,
    bytes: Vec<u8>,
    status: u16,
    /// `None`: the HTTP layer's own answer (the request was never read whole),
    /// with an empty body.
    code: Option<&'static str>,
    /// What the message must name: the field, the segment, the header.
    names: &'static str,
}

fn case(
    what: &'static str,
    bytes: Vec<u8>,
    status: u16,
    code: &'static str,
    names: &'static str,
) -> Case {
    Case {
        what,
        bytes,
        status,
        code: Some(code),
        names,
    }
}

/// One line per hostile request: what it is, its bytes, and the status, code and
/// name its answer must carry.
#[rustfmt::skip]
fn corpus() -> Vec<Case> {
    let deep = |n: usize| "[".repeat(n) + &"]".repeat(n);
    let catalog = "/v1/ledgers/emstek/catalog";
    let capacity = "/v1/ledgers/emstek/capacity";
    let quantity = |q: &str| reserve(&format!(r#"{{"offer":"zur-post-20","quantity":{q}}}"#), "");
    let mut cases = vec![
        // Size and depth.
        case("a body past --max-body, by its Content-Length", declared(RESERVE, 2_000_000), 413, "payload_too_large", "body"),
        case("100,000 [ as the body", post(RESERVE, Some(CLIENT), "[".repeat(100_000)), 422, "invalid_input", "body"),
        case("100,000 nested objects", post(RESERVE, Some(CLIENT), r#"{"a":"#.repeat(100_000)), 422, "invalid_input", "`a`"),
        case("100,000 nested arrays in an attribute", post(RESERVE, Some(CLIENT), reserve(LINE, &format!(r#","attributes":{{"a":{}}}"#, deep(100_000)))), 422, "invalid_input", "attributes.a"),
        case("100,000 nested arrays as a quantity", post(RESERVE, Some(CLIENT), quantity(&deep(100_000))), 422, "invalid_input", "lines[0].quantity"),
        case("100,000 [ as a TOML catalog", post(catalog, Some(OPERATOR), format!("pools = {}", "[".repeat(100_000))), 422, "invalid_catalog", "catalog"),
        case("100,000 nested arrays in a JSON catalog", request("POST", catalog.as_bytes(), Some(OPERATOR), &[b"Content-Type: application/json"], format!(r#"{{"pools":{}}}"#, deep(100_000)).as_bytes()), 422, "invalid_catalog", "pools"),
        // Shapes and types.
        case("an array of the fields as the body", post(RESERVE, Some(CLIENT), r#"["h1","eve",[["zur-post-20",1]]]"#), 422, "invalid_input", "body"),
        case("an array as a line", post(RESERVE, Some(CLIENT), reserve(r#"["zur-post-20",1]"#, "")), 422, "invalid_input", "lines[0]"),
        case("an array as a capacity body", post(capacity, Some(OPERATOR), r#"["zur-post",1]"#), 422, "invalid_input", "body"),
        case("a quantity as a string", post(RESERVE, Some(CLIENT), quantity(r#""1""#)), 422, "invalid_input", "lines[0].quantity"),
        case("a customer as a number", post(RESERVE, Some(CLIENT), r#"{"request_id":"h1","customer":5,"lines":[]}"#), 422, "invalid_input", "customer"),
        case("lines as an object", post(RESERVE, Some(CLIENT), r#"{"request_id":"h1","customer":"eve","lines":{}}"#), 422, "invalid_input", "lines"),
        case("confirm as a string", post(RESERVE, Some(CLIENT), reserve(LINE, r#","confirm":"yes""#)), 422, "invalid_input", "confirm"),
        case("a request id as a number", post(RESERVE, Some(CLIENT), r#"{"request_id":7,"customer":"eve","lines":[]}"#), 422, "invalid_input", "request_id"),
        case("a reservation as a float", post("/v1/ledgers/emstek/confirm", Some(CLIENT), r#"{"reservation":1.5}"#), 422, "invalid_input", "reservation"),
        case("no customer", post(RESERVE, Some(CLIENT), r#"{"request_id":"h1","lines":[]}"#), 422, "invalid_input", "customer"),
        case("no request id anywhere", post(RESERVE, Some(CLIENT), r#"{"customer":"eve","lines":[]}"#), 422, "invalid_input", "request_id"),
        case("an empty body", post(RESERVE, Some(CLIENT), ""), 422, "invalid_input", "customer"),
        case("not JSON", post(RESERVE, Some(CLIENT), "reserve one, please"), 422, "invalid_input", "body"),
        case("JSON and then more", post(RESERVE, Some(CLIENT), reserve(LINE, "") + "{}"), 422, "invalid_input", "body"),
        // Unknown fields.
        case("an unknown field", post(RESERVE, Some(CLIENT), reserve(LINE, r#","price":0"#)), 422, "invalid_input", "price"),
        case("an unknown field in a line", post(RESERVE, Some(CLIENT), reserve(r#"{"offer":"zur-post-20","qty":1}"#, "")), 422, "invalid_input", "lines[0]"),
        case("an unknown field on an operator verb", post(capacity, Some(OPERATOR), r#"{"pool":"zur-post","capacity":90,"force":true}"#), 422, "invalid_input", "force"),
        case("a body on pause", post("/v1/ledgers/emstek/pause", Some(OPERATOR), r#"{"now":true}"#), 422, "invalid_input", "now"),
        // Numbers past 64 bits, past the ledger's bounds, and below zero.
        case("a quantity of 2^70", post(RESERVE, Some(CLIENT), quantity(HUGE)), 422, "out_of_range", "lines[0].quantity"),
        case("a quantity of 1e30", post(RESERVE, Some(CLIENT), quantity("1e30")), 422, "out_of_range", "lines[0].quantity"),
        case("a quantity of -1", post(RESERVE, Some(CLIENT), quantity("-1")), 422, "out_of_range", "lines[0].quantity"),
        case("a quantity of u64::MAX", post(RESERVE, Some(CLIENT), quantity("18446744073709551615")), 422, "out_of_range", "quantity"),
        case("a hold of 2^70 ms", post(RESERVE, Some(CLIENT), reserve(LINE, &format!(r#","hold_ms":{HUGE}"#))), 422, "out_of_range", "hold_ms"),
        case("a reservation of 2^70", post("/v1/ledgers/emstek/confirm", Some(CLIENT), format!(r#"{{"reservation":{HUGE}}}"#)), 422, "out_of_range", "reservation"),
        case("a waiting-list entry of 2^70", post("/v1/ledgers/emstek/leave-waitlist", Some(CLIENT), format!(r#"{{"entry":{HUGE}}}"#)), 422, "out_of_range", "entry"),
        case("a capacity of 2^70", post(capacity, Some(OPERATOR), format!(r#"{{"pool":"zur-post","capacity":{HUGE}}}"#)), 422, "out_of_range", "capacity"),
        case("a slot count of 2^70", get(format!("/v1/ledgers/emstek/slots?count={HUGE}"), Some(CLIENT)), 422, "out_of_range", "count"),
        case("a reservation id of 2^70 in the path", get(format!("/v1/ledgers/emstek/reservations/{HUGE}"), Some(CLIENT)), 422, "out_of_range", "reservation"),
        case("events after 2^70", get(format!("/v1/ledgers/emstek/events?after={HUGE}"), None), 422, "invalid_input", "after"),
        // Over-long ids and names.
        case("a request id of 10,000 bytes", post(RESERVE, Some(CLIENT), format!(r#"{{"request_id":"{}","customer":"eve","lines":[{LINE}]}}"#, "r".repeat(10_000))), 422, "too_long", "request_id"),
        case("a customer of 10,000 bytes", post(RESERVE, Some(CLIENT), format!(r#"{{"request_id":"h1","customer":"{}","lines":[{LINE}]}}"#, "c".repeat(10_000))), 422, "too_long", "customer"),
        case("an offer name of 10,000 bytes", post(RESERVE, Some(CLIENT), reserve(&format!(r#"{{"offer":"{}","quantity":1}}"#, "o".repeat(10_000)), "")), 422, "too_long", "offer"),
        case("a channel of 1,000 bytes", post(RESERVE, Some(CLIENT), reserve(LINE, &format!(r#","channel":"{}""#, "w".repeat(1_000)))), 422, "too_long", "channel"),
        case("an attribute key of 1,000 bytes", post(RESERVE, Some(CLIENT), reserve(LINE, &format!(r#","attributes":{{"{}":"v"}}"#, "k".repeat(1_000)))), 422, "too_long", "attribute"),
        case("33 lines", post(RESERVE, Some(CLIENT), format!(r#"{{"request_id":"h1","customer":"eve","lines":[{}]}}"#, [LINE; 33].join(","))), 422, "too_many", "lines"),
        case("an offer of 12,000 bytes in a query", get(format!("/v1/ledgers/emstek/why-unavailable?offer={}", "o".repeat(12_000)), Some(CLIENT)), 422, "too_long", "offer"),
        case("a pool name of 10,000 bytes", post(capacity, Some(OPERATOR), format!(r#"{{"pool":"{}","capacity":1}}"#, "p".repeat(10_000))), 422, "too_long", "pool"),
        // Bytes that are not UTF-8.
        case("a request id that is not UTF-8", post(RESERVE, Some(CLIENT), [&br#"{"request_id":""#[..], b"\xff\xfe", br#"","customer":"eve","lines":[]}"#].concat()), 422, "invalid_input", "request_id"),
        case("a customer with a lone surrogate", post(RESERVE, Some(CLIENT), r#"{"request_id":"h1","customer":"\ud800","lines":[]}"#), 422, "invalid_input", "customer"),
        case("a byte that is not UTF-8 between the fields", post(RESERVE, Some(CLIENT), [&b"{\xff"[..], br#""request_id":"h1"}"#].concat()), 422, "invalid_input", "body"),
        case("a catalog that is not UTF-8", post(catalog, Some(OPERATOR), b"name = \"\xff\""), 422, "invalid_input", "body"),
        case("a ledger segment that is not UTF-8", get("/v1/ledgers/%FF%FE/availability", None), 422, "invalid_input", "ledger"),
        case("a reservation segment that is not UTF-8", get("/v1/ledgers/emstek/reservations/%C3%28", Some(CLIENT)), 422, "invalid_input", "id"),
        case("a query value that is not UTF-8", get("/v1/ledgers/emstek/why-unavailable?offer=%FF", Some(CLIENT)), 422, "invalid_input", "offer"),
        case("a query name that is not UTF-8", get("/v1/ledgers/emstek/why-unavailable?%FF=1", Some(CLIENT)), 422, "invalid_input", "query"),
        case("a bad %-escape", get("/v1/ledgers/emstek/why-unavailable?offer=%G1", Some(CLIENT)), 422, "invalid_input", "offer"),
        case("an unknown query parameter", get("/v1/ledgers/emstek/why-unavailable?color=red", Some(CLIENT)), 422, "invalid_input", "color"),
        case("a parameter given twice", get("/v1/ledgers/emstek/why-unavailable?offer=a&offer=b", Some(CLIENT)), 422, "invalid_input", "offer"),
        case("an Idempotency-Key that is not ASCII", request("POST", RESERVE.as_bytes(), Some(CLIENT), &[b"Idempotency-Key: \xff\xfe"], br#"{"customer":"eve","lines":[]}"#), 422, "invalid_input", "Idempotency-Key"),
        case("an Idempotency-Key that differs from the body's", request("POST", RESERVE.as_bytes(), Some(CLIENT), &[b"Idempotency-Key: h2"], reserve(LINE, "").as_bytes()), 422, "invalid_input", "request_id"),
        // What the HTTP layer answers itself, with an empty body: no request was read.
        Case { what: "raw bytes that are not ASCII in the path", bytes: get(b"/v1/ledgers/\xff\xfe/availability", None), status: 400, code: None, names: "" },
        Case { what: "headers past --max-header-bytes", bytes: request("GET", b"/v1/health", None, &[format!("X-Pad: {}", "p".repeat(20_000)).as_bytes()], b""), status: 431, code: None, names: "" },
        Case { what: "101 headers", bytes: hundred_and_one_headers(), status: 431, code: None, names: "" },
        // Routes.
        case("an unknown ledger", post("/v1/ledgers/nowhere/reserve", Some(CLIENT), reserve(LINE, "")), 404, "unknown_ledger", "nowhere"),
        case("an unknown route", get("/v1/ledgers/emstek/everything", Some(OPERATOR)), 404, "not_found", "route"),
        case("a reserve by GET", get(RESERVE, Some(CLIENT)), 405, "method_not_allowed", "GET"),
        // Keys.
        case("no key on a client call", post(RESERVE, None, reserve(LINE, "")), 401, "unauthorized", "key"),
        case("a wrong key", post(RESERVE, Some("client-key-0123456788"), reserve(LINE, "")), 401, "unauthorized", "key"),
        case("a key too short to be one", post(RESERVE, Some("short"), reserve(LINE, "")), 401, "unauthorized", "key"),
        case("the client key's prefix", post(RESERVE, Some(&CLIENT[..CLIENT.len() - 1]), reserve(LINE, "")), 401, "unauthorized", "key"),
        case("an empty key", post(RESERVE, Some(""), reserve(LINE, "")), 401, "unauthorized", "key"),
        case("another scheme", request("POST", RESERVE.as_bytes(), None, &[format!("Authorization: Basic {CLIENT}").as_bytes()], reserve(LINE, "").as_bytes()), 401, "unauthorized", "key"),
        case("a key that is not UTF-8", request("POST", RESERVE.as_bytes(), None, &[b"Authorization: Bearer \xffclient-key-0123456789"], reserve(LINE, "").as_bytes()), 401, "unauthorized", "key"),
        case("no key on an operator call", post("/v1/ledgers/emstek/pause", None, ""), 401, "unauthorized", "key"),
        case("no key for the metrics", get("/metrics", None), 401, "unauthorized", "key"),
    ];
    for path in ["confirm", "release", "leave-waitlist", "preview"] {
        cases.push(case("no key on a client call", post(&format!("/v1/ledgers/emstek/{path}"), None, "{}"), 401, "unauthorized", "key"));
    }
    for path in ["why-unavailable?offer=zur-post-20", "slots", "reservations/1"] {
        cases.push(case("no key on a client query", get(format!("/v1/ledgers/emstek/{path}"), None), 401, "unauthorized", "key"));
    }
    let operator_calls = [
        ("POST", "/v1/ledgers/emstek/pause", ""),
        ("POST", "/v1/ledgers/emstek/resume", ""),
        ("POST", capacity, r#"{"pool":"zur-post","capacity":0}"#),
        ("POST", catalog, "[[pools]]\nname = \"more\"\ncapacity = 1\n"),
        ("POST", "/v1/clock", r#"{"at":0}"#),
        ("GET", "/v1/ledgers/emstek/reservations.csv", ""),
        ("GET", "/metrics", ""),
    ];
    for (method, path, body) in operator_calls {
        cases.push(case("a client key on an operator call", request(method, path.as_bytes(), Some(CLIENT), &[], body.as_bytes()), 403, "forbidden", "operator key"));
    }
    cases
}

/// A request that declares a body of `length` bytes and sends none of it.
fn declared(path: &str, length: usize) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {CLIENT}\r\nContent-Length: {length}\r\n\r\n").into_bytes()
}

/// Send `bytes` on a connection of its own; the answer, or why there is none.
fn send(addr: SocketAddr, bytes: &[u8]) -> std::io::Result<(u16, Value)> {
    let mut c = connect(addr, PATIENCE);
    c.write_all(bytes)?;
    read_answer(&mut c)
}

/// The ledger's seq and digest, from its journal (another process may open it
/// beside the server: each batch is taken under the journal's lock).
fn state_of(journal: &Path) -> (u64, kontingent::Digest) {
    let l = kontingent::open(journal, kontingent::Durability::Full).expect("the journal opens");
    l.read(|l| (l.seq(), l.digest())).unwrap()
}

fn metric(s: &Server, name: &str) -> String {
    let (_, text) = s.get_text("/metrics", OPERATOR);
    text.lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
        .unwrap_or_else(|| panic!("{name} in\n{text}"))
}

#[test]
fn the_hostile_corpus_is_refused_by_field_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A body limit of 1 MiB lets 100,000 brackets reach the parser.
    let mut s = emstek(dir.path(), &["--max-body", "1048576"]);
    let journal = dir.path().join("emstek.journal");
    assert_eq!(
        s.reserve("warm-1", "anna", "zur-post-20").1["status"],
        "held"
    );
    let confirmed = s.post(
        RESERVE,
        Some(CLIENT),
        &json!({"request_id": "warm-2", "customer": "ben", "lines": [{"offer": "zur-post-50", "quantity": 1}], "confirm": true}).to_string(),
    );
    assert_eq!(confirmed.1["status"], "confirmed", "{}", confirmed.1);
    let availability = s.get("/v1/ledgers/emstek/availability", None).1;
    let seq = metric(&s, r#"kontingent_seq{ledger="emstek"}"#);
    let before = state_of(&journal);

    let cases = corpus();
    let mut wrong = Vec::new();
    for c in &cases {
        let answer = send(s.addr(), &c.bytes);
        let ok = match (&answer, c.code) {
            (Ok((status, body)), None) => *status == c.status && body.is_null(),
            (Ok((status, body)), Some(code)) => {
                let message = body["message"].as_str().unwrap_or("");
                *status == c.status
                    && body["code"] == code
                    && message.contains(c.names)
                    && message.len() <= 600
            }
            (Err(_), _) => false,
        };
        if !ok {
            wrong.push(format!(
                "{}: expected {} {:?} naming {:?}, got {answer:?}",
                c.what, c.status, c.code, c.names
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
    assert!(
        s.child.try_wait().unwrap().is_none(),
        "the server is still running"
    );

    let now = s.get("/v1/ledgers/emstek/availability", None).1;
    assert_eq!(now["seq"], availability["seq"], "seq as before the corpus");
    assert!(
        now == availability,
        "availability as before the corpus: {now}"
    );
    assert_eq!(metric(&s, r#"kontingent_seq{ledger="emstek"}"#), seq);
    assert_eq!(
        state_of(&journal),
        before,
        "seq and digest as before the corpus"
    );
    assert_eq!(
        s.reserve("after", "cem", "zur-post-20").1["status"],
        "held",
        "still serving"
    );
    assert_ne!(state_of(&journal), before, "and the digest sees a change");
    s.terminate();
    assert_eq!(s.child.wait().unwrap().code(), Some(0), "a clean exit");
}

/// `Ok(0)` or a reset: the server closed the connection.
fn closed(c: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match c.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
        ),
    }
}

#[test]
fn a_header_past_the_bound_is_431_and_one_within_it_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &["--max-header-bytes", "4096"]);
    let pad = |n: usize| format!("X-Pad: {}", "p".repeat(n));
    let within = request("GET", b"/v1/health", None, &[pad(3_000).as_bytes()], b"");
    assert_eq!(
        send(s.addr(), &within).unwrap(),
        (200, json!({"status": "ok"}))
    );
    let mut c = connect(s.addr(), PATIENCE);
    c.write_all(&request(
        "GET",
        b"/v1/health",
        None,
        &[pad(5_000).as_bytes()],
        b"",
    ))
    .unwrap();
    assert_eq!(read_answer(&mut c).unwrap(), (431, Value::Null));
    assert!(closed(&mut c), "the connection is closed after a 431");
    assert_eq!(s.get("/v1/health", None).0, 200, "and the server serves on");
}

#[test]
fn slow_headers_are_cut_off_while_other_connections_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let s = emstek(dir.path(), &["--header-timeout-secs", "1"]);
    // A header sent in pieces, all within the second, is served.
    let mut c = connect(s.addr(), PATIENCE);
    for piece in [
        "GET /v1/health HTTP/1.1\r\n",
        "Host: 127.0.0.1\r\n",
        "X-A: 1\r\n",
        "\r\n",
    ] {
        c.write_all(piece.as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(read_answer(&mut c).unwrap().0, 200);

    // Slowloris: one header line every 200 ms, never the blank line.
    let mut slow = connect(s.addr(), PATIENCE);
    let start = Instant::now();
    slow.write_all(format!("POST {RESERVE} HTTP/1.1\r\nHost: 127.0.0.1\r\n").as_bytes())
        .unwrap();
    let mut writer = slow.try_clone().unwrap();
    let drip = std::thread::spawn(move || {
        for i in 0..50 {
            std::thread::sleep(Duration::from_millis(200));
            if writer
                .write_all(format!("X-{i}: 1\r\n").as_bytes())
                .is_err()
            {
                return;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let (status, held) = s.reserve("other", "anna", "zur-post-20");
    assert_eq!(
        (status, held["status"].as_str()),
        (200, Some("held")),
        "{held}"
    );
    assert!(closed(&mut slow), "the slow connection is closed");
    let after = start.elapsed();
    assert!(
        after >= Duration::from_millis(900) && after < Duration::from_secs(4),
        "closed after the header timeout of 1 s, not {after:?}"
    );
    drip.join().unwrap();
    assert_eq!(s.get("/v1/health", None).0, 200, "and the server serves on");
}

#[test]
fn connections_past_the_bound_are_turned_away_and_the_open_ones_served() {
    let dir = tempfile::tempdir().unwrap();
    // A long header timeout: the open connections wait idle between requests.
    let s = emstek(
        dir.path(),
        &["--max-connections", "4", "--header-timeout-secs", "60"],
    );
    let availability = get("/v1/ledgers/emstek/availability", None);
    let mut open: Vec<TcpStream> = (0..4).map(|_| connect(s.addr(), PATIENCE)).collect();
    for c in &mut open {
        c.write_all(&availability).unwrap();
        assert_eq!(read_answer(c).unwrap().0, 200);
    }

    let start = Instant::now();
    let mut fifth = connect(s.addr(), PATIENCE);
    let (status, body) = read_answer(&mut fifth).expect("an answer before any request");
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("too_many_connections")),
        "{body}"
    );
    assert!(closed(&mut fifth), "and closed");
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "at once, not {:?}",
        start.elapsed()
    );

    for (i, c) in open.iter_mut().enumerate() {
        let body = json!({"request_id": format!("k{i}"), "customer": format!("c{i}"), "lines": [{"offer": "zur-post-20", "quantity": 1}]});
        c.write_all(&post(RESERVE, Some(CLIENT), body.to_string()))
            .unwrap();
        let (status, outcome) = read_answer(c).unwrap();
        assert_eq!(
            (status, outcome["status"].as_str()),
            (200, Some("held")),
            "{outcome}"
        );
    }
    open[0].write_all(&get("/metrics", Some(OPERATOR))).unwrap();
    let (status, text) = common::read_raw(&mut open[0]).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!(status, 200);
    for line in [
        "kontingent_connections 4",
        "kontingent_connections_refused_total 1",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }

    // One closes: its place is free again, soon.
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut c = connect(s.addr(), PATIENCE);
        c.write_all(&get("/v1/health", None)).unwrap();
        match read_answer(&mut c) {
            Ok((200, _)) => break,
            Ok((503, _)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            other => panic!("a freed place is taken again: {other:?}"),
        }
    }
}

#[test]
fn bounds_that_bound_nothing_are_refused_at_start() {
    for (flag, value) in [
        ("--max-connections", "0"),
        ("--max-header-bytes", "100"),
        ("--header-timeout-secs", "0"),
    ] {
        let (code, stderr) = common::refused_start(&["--no-keys", flag, value]);
        assert_eq!(code, Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{flag} is named: {stderr}");
    }
}
