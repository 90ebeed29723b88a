//! Every outcome and every refusal over real HTTP, and the error codes the other
//! tests leave out, on a small catalog made to reach each of them: each answer's
//! status and body, and after each error, nothing changed.

mod common;

use common::{Server, CLIENT, OPERATOR};
use serde_json::{json, Value};

/// A small campaign made to reach every outcome and refusal (shared with the
/// Python and JS tests that hold their outcomes to this server's JSON).
const CATALOG: &str = include_str!("../../core/tests/catalogs/tour.toml");

const H: u64 = 3_600_000;
/// 2026-12-01 00:00 UTC.
const DAY: u64 = 1_796_083_200_000;

fn reserve(s: &Server, body: Value) -> (u16, Value) {
    s.post("/v1/ledgers/tour/reserve", Some(CLIENT), &body.to_string())
}

fn seat(id: &str, customer: &str) -> Value {
    json!({"request_id": id, "customer": customer, "lines": [{"offer": "seat", "quantity": 1}]})
}

fn with(mut body: Value, extra: Value) -> Value {
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    body
}

fn seq(s: &Server) -> u64 {
    s.get("/v1/ledgers/tour/availability", None).1["seq"]
        .as_u64()
        .unwrap()
}

/// An error: its status and code, and the ledger unchanged after it.
fn refused_with(s: &Server, status: u16, code: &str, (got, body): (u16, Value), before: u64) {
    assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
    assert_eq!(seq(s), before, "{code} changed the ledger");
}

#[test]
fn every_outcome_refusal_and_error_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let cat = dir.path().join("tour.toml");
    std::fs::write(&cat, CATALOG).unwrap();
    let s = Server::launch(&format!("manual:{}", DAY + 8 * H), |c| {
        c.arg("--journal")
            .arg(format!("tour={}", dir.path().join("t.journal").display()))
            .arg("--catalog")
            .arg(format!("tour={}", cat.display()));
    });

    // Before the campaign opens.
    let (st, o) = reserve(&s, seat("r0", "ben"));
    assert_eq!(
        (st, o["reason"].as_str()),
        (200, Some("not_open_yet")),
        "{o}"
    );
    assert_eq!(o["opens_at"], DAY + 10 * H);
    s.set_clock(DAY + 11 * H);

    // Why not, before asking; a preview changes nothing.
    let (st, why) = s.get("/v1/ledgers/tour/why-unavailable?offer=vip", Some(CLIENT));
    assert_eq!(
        (st, why["reason"].as_str()),
        (200, Some("not_open_yet")),
        "{why}"
    );
    assert_eq!(
        s.get("/v1/ledgers/tour/why-unavailable?offer=seat", Some(CLIENT)),
        (200, Value::Null)
    );
    let before = seq(&s);
    let (st, p) = s.post(
        "/v1/ledgers/tour/preview",
        Some(CLIENT),
        &seat("p1", "anna").to_string(),
    );
    assert_eq!((st, p["status"].as_str()), (200, Some("held")), "{p}");
    assert_eq!(seq(&s), before, "a preview changes nothing");

    // Held, confirmed, then the customer's limit before the hall's capacity.
    let (_, r1) = reserve(&s, seat("r1", "anna"));
    assert_eq!(r1["status"], "held", "{r1}");
    let (_, r2) = reserve(&s, with(seat("r2", "anna"), json!({"confirm": true})));
    assert_eq!(r2["status"], "confirmed", "{r2}");
    let (_, r3) = reserve(&s, seat("r3", "anna"));
    assert_eq!(
        (r3["reason"].as_str(), &r3["limit"], &r3["used"]),
        (Some("customer_limit"), &json!(2), &json!(2)),
        "{r3}"
    );
    // Sold out: one waits, one is refused, one waits and leaves.
    let (_, w1) = reserve(&s, with(seat("r4", "ben"), json!({"waitlist": true})));
    assert_eq!(
        (w1["status"].as_str(), &w1["position"]),
        (Some("waiting"), &json!(1)),
        "{w1}"
    );
    let (_, so) = reserve(&s, seat("r5", "cem"));
    assert_eq!(
        (so["reason"].as_str(), &so["left"]),
        (Some("sold_out"), &json!(0)),
        "{so}"
    );
    let (_, w2) = reserve(&s, with(seat("r6", "dora"), json!({"waitlist": true})));
    assert_eq!(w2["position"], 2, "{w2}");
    let leave = |entry: &Value| {
        s.post(
            "/v1/ledgers/tour/leave-waitlist",
            Some(CLIENT),
            &json!({ "entry": entry }).to_string(),
        )
    };
    assert_eq!(
        leave(&w2["entry"]),
        (200, json!({"status": "left", "entry": w2["entry"]}))
    );

    // The errors the other tests leave out, each changing nothing.
    let before = seq(&s);
    refused_with(&s, 404, "unknown_wait_entry", leave(&json!(999)), before);
    refused_with(
        &s,
        404,
        "unknown_channel",
        reserve(&s, with(seat("r7", "erin"), json!({"channel": "fax"}))),
        before,
    );
    refused_with(
        &s,
        409,
        "request_id_reused",
        reserve(&s, seat("r2", "someone-else")),
        before,
    );
    refused_with(
        &s,
        404,
        "unknown_pool",
        s.post(
            "/v1/ledgers/tour/capacity",
            Some(OPERATOR),
            r#"{"pool":"nope","capacity":3}"#,
        ),
        before,
    );

    // Anna lets her hold go: Ben, first in line, is promoted; his entry can no
    // longer leave, and the released hold cannot be confirmed.
    let r1id = &r1["reservation"];
    let release = s.post(
        "/v1/ledgers/tour/release",
        Some(CLIENT),
        &json!({ "reservation": r1id }).to_string(),
    );
    assert_eq!(
        release,
        (200, json!({"status": "released", "reservation": r1id}))
    );
    let (_, promoted) = leave(&w1["entry"]);
    assert_eq!(promoted["status"], "promoted", "{promoted}");
    let before = seq(&s);
    refused_with(
        &s,
        409,
        "reservation_state",
        s.post(
            "/v1/ledgers/tour/confirm",
            Some(CLIENT),
            &json!({ "reservation": r1id }).to_string(),
        ),
        before,
    );

    // Ben's hold lapses (1 minute): confirming it is too late.
    s.set_clock(DAY + 11 * H + 3 * 60_000);
    let ben = &promoted["reservation"];
    let (_, late) = s.post(
        "/v1/ledgers/tour/confirm",
        Some(CLIENT),
        &json!({ "reservation": ben }).to_string(),
    );
    assert_eq!(late["reason"], "hold_expired", "{late}");

    // At noon: the VIP offer opens, with its attribute rule; the noon slot has started.
    s.set_clock(DAY + 12 * H);
    let vip = |id: &str, city: &str| {
        json!({"request_id": id, "customer": id, "attributes": {"city": city},
               "lines": [{"offer": "vip", "quantity": 1}]})
    };
    let (_, rule) = reserve(&s, vip("v1", "berlin"));
    assert_eq!(
        (rule["reason"].as_str(), rule["name"].as_str()),
        (Some("rule"), Some("city")),
        "{rule}"
    );
    assert_eq!(reserve(&s, vip("v2", "emstek")).1["status"], "held");
    let (st, slots) = s.get(
        "/v1/ledgers/tour/slots?template=delivery&count=5",
        Some(CLIENT),
    );
    assert_eq!(st, 200, "{slots}");
    let text = slots.to_string();
    assert!(
        text.contains("delivery@2026-12-01T13:00") && !text.contains("T12:00"),
        "{slots}"
    );
    let slot = |id: &str, name: &str| json!({"request_id": id, "customer": id, "lines": [{"offer": name, "quantity": 1}]});
    let (_, started) = reserve(&s, slot("s1", "delivery@2026-12-01T12:00"));
    assert_eq!(started["reason"], "closed", "{started}");
    assert_eq!(
        reserve(&s, slot("s2", "delivery@2026-12-01T13:00")).1["status"],
        "held"
    );

    // Paused, then after the campaign closes.
    assert_eq!(s.post("/v1/ledgers/tour/pause", Some(OPERATOR), "").0, 200);
    assert_eq!(reserve(&s, seat("r8", "fritz")).1["reason"], "paused");
    assert_eq!(s.post("/v1/ledgers/tour/resume", Some(OPERATOR), "").0, 200);
    s.set_clock(DAY + 18 * H);
    let (_, closed) = reserve(&s, seat("r9", "gina"));
    assert_eq!(
        (closed["reason"].as_str(), &closed["closed_at"]),
        (Some("closed"), &json!(DAY + 18 * H)),
        "{closed}"
    );
}
