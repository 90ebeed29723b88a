//! The OpenAPI document's request bodies checked against the handlers: every bound
//! it states is the core's own limit, and over real HTTP a value at the bound is
//! not refused for that field while one past it is `422` naming the field; an
//! unknown field and each missing required one are refused the same way.

mod common;

use common::{Server, CLIENT, OPERATOR};
use kontingent::limits::*;
use serde_json::{json, Value};
use std::path::Path;

const NOON: u64 = 1_795_950_000_000;

fn openapi() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("api/openapi.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_documents_bounds_are_the_cores_limits() {
    let d = openapi();
    let s = &d["components"]["schemas"];
    let reserve = &s["Reserve"]["properties"];
    let cases: &[(&Value, u64)] = &[
        (
            &reserve["request_id"]["maxLength"],
            REQUEST_ID_LEN_MAX as u64,
        ),
        (
            &reserve["customer"]["maxLength"],
            CUSTOMER_ID_LEN_MAX as u64,
        ),
        (&reserve["channel"]["maxLength"], CHANNEL_LEN_MAX as u64),
        (&reserve["lines"]["maxItems"], LINES_MAX as u64),
        (
            &reserve["lines"]["items"]["properties"]["offer"]["maxLength"],
            NAME_LEN_MAX as u64,
        ),
        (
            &reserve["lines"]["items"]["properties"]["quantity"]["maximum"],
            LINE_QUANTITY_MAX,
        ),
        (
            &reserve["attributes"]["maxProperties"],
            ATTRIBUTES_MAX as u64,
        ),
        (
            &reserve["attributes"]["propertyNames"]["maxLength"],
            ATTRIBUTE_KEY_LEN_MAX as u64,
        ),
        (
            &reserve["attributes"]["additionalProperties"]["maxLength"],
            ATTRIBUTE_VALUE_LEN_MAX as u64,
        ),
        (&reserve["hold_ms"]["maximum"], HOLD_MS_MAX),
        (
            &s["Capacity"]["properties"]["capacity"]["maximum"],
            CAPACITY_MAX,
        ),
        (
            &s["Capacity"]["properties"]["pool"]["maxLength"],
            NAME_LEN_MAX as u64,
        ),
        (&s["Clock"]["properties"]["at"]["maximum"], TIMESTAMP_MAX),
        (
            &s["ConsumerDefinition"]["properties"]["consumer"]["maxLength"],
            NAME_LEN_MAX as u64,
        ),
        (
            &s["ConsumerDefinition"]["properties"]["events"]["items"]["enum"]
                .as_array()
                .map(|a| Value::from(a.len()))
                .unwrap_or_default(),
            kontingent::EventType::ALL.len() as u64,
        ),
    ];
    for (i, (stated, limit)) in cases.iter().enumerate() {
        assert_eq!(stated.as_u64(), Some(*limit), "bound {i} of the document");
    }
    let types = &s["ConsumerDefinition"]["properties"]["events"]["items"]["enum"];
    for t in kontingent::EventType::ALL {
        assert!(
            types.as_array().unwrap().contains(&Value::from(t.name())),
            "{t:?} is listed"
        );
    }
    for name in [
        "Reserve",
        "ReservationRef",
        "EntryRef",
        "Capacity",
        "Clock",
        "ConsumerDefinition",
        "Ack",
    ] {
        assert_eq!(
            s[name]["additionalProperties"], false,
            "{name} takes no other field"
        );
    }
}

/// A reserve body with `field` (a JSON pointer) set to `value`.
fn reserve_with(pointer: &str, value: Value) -> Value {
    let mut b = json!({"request_id": "b1", "customer": "anna",
                       "lines": [{"offer": "zur-post-20", "quantity": 1}]});
    match b.pointer_mut(pointer) {
        Some(slot) => *slot = value,
        // A top-level field the base body leaves out.
        None => b[&pointer[1..]] = value,
    }
    b
}

/// Not refused for `field`: any answer but a 422 whose message names it.
fn accepted(field: &str, (status, body): &(u16, Value)) -> bool {
    !(*status == 422 && body["message"].as_str().is_some_and(|m| m.contains(field)))
}

/// Refused as invalid, naming `field`.
fn refused(field: &str, (status, body): &(u16, Value)) -> bool {
    *status == 422 && body["message"].as_str().is_some_and(|m| m.contains(field))
}

#[test]
fn at_a_bound_is_served_and_past_it_is_422_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let catalog =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/emstek-vouchers/catalog.toml");
    let s = Server::start(
        &dir.path().join("e.journal"),
        &catalog,
        &format!("manual:{}", NOON + 1_000),
    );
    let post = |path: &str, body: &Value, key: &str| s.post(path, Some(key), &body.to_string());
    let reserve = |b: &Value| post("/v1/ledgers/emstek/reserve", b, CLIENT);
    let text = |n: usize| Value::from("x".repeat(n));
    let attrs = |n: usize, key: usize, value: usize| {
        let m: serde_json::Map<String, Value> = (0..n)
            .map(|i| (format!("{i:0>key$}"), Value::from("v".repeat(value))))
            .collect();
        Value::Object(m)
    };
    let lines = |n: usize| Value::from(vec![json!({"offer": "zur-post-20", "quantity": 1}); n]);
    let mut n = 0;
    let mut id = || {
        n += 1;
        Value::from(format!("b{n}"))
    };
    // (pointer, the field a refusal names, the value at the bound, the value past it)
    let cases: Vec<(&str, &str, Value, Value)> = vec![
        (
            "/request_id",
            "request_id",
            text(REQUEST_ID_LEN_MAX),
            text(REQUEST_ID_LEN_MAX + 1),
        ),
        (
            "/customer",
            "customer",
            text(CUSTOMER_ID_LEN_MAX),
            text(CUSTOMER_ID_LEN_MAX + 1),
        ),
        (
            "/channel",
            "channel",
            text(CHANNEL_LEN_MAX),
            text(CHANNEL_LEN_MAX + 1),
        ),
        (
            "/lines/0/offer",
            "offer",
            text(NAME_LEN_MAX),
            text(NAME_LEN_MAX + 1),
        ),
        (
            "/lines/0/quantity",
            "quantity",
            json!(LINE_QUANTITY_MAX),
            json!(LINE_QUANTITY_MAX + 1),
        ),
        ("/lines", "lines", lines(LINES_MAX), lines(LINES_MAX + 1)),
        (
            "/hold_ms",
            "hold_ms",
            json!(HOLD_MS_MAX),
            json!(HOLD_MS_MAX + 1),
        ),
        (
            "/attributes",
            "attributes",
            attrs(ATTRIBUTES_MAX, 2, 1),
            attrs(ATTRIBUTES_MAX + 1, 2, 1),
        ),
        (
            "/attributes",
            "attributes",
            attrs(1, ATTRIBUTE_KEY_LEN_MAX, 1),
            attrs(1, ATTRIBUTE_KEY_LEN_MAX + 1, 1),
        ),
        (
            "/attributes",
            "attributes",
            attrs(1, 1, ATTRIBUTE_VALUE_LEN_MAX),
            attrs(1, 1, ATTRIBUTE_VALUE_LEN_MAX + 1),
        ),
    ];
    for (pointer, field, at, past) in cases {
        let mut ok = reserve_with(pointer, at);
        let mut bad = reserve_with(pointer, past);
        if pointer != "/request_id" {
            ok["request_id"] = id();
            bad["request_id"] = id();
        }
        let (a, b) = (reserve(&ok), reserve(&bad));
        assert!(accepted(field, &a), "{pointer} at its bound: {a:?}");
        assert!(refused(field, &b), "{pointer} past its bound: {b:?}");
    }
    // Unknown and missing fields, on every body the document describes.
    let bodies: Vec<(&str, Value, &str)> = vec![
        (
            "/v1/ledgers/emstek/reserve",
            reserve_with("/customer", json!("anna")),
            CLIENT,
        ),
        (
            "/v1/ledgers/emstek/confirm",
            json!({"reservation": 1}),
            CLIENT,
        ),
        (
            "/v1/ledgers/emstek/release",
            json!({"reservation": 1}),
            CLIENT,
        ),
        (
            "/v1/ledgers/emstek/leave-waitlist",
            json!({"entry": 1}),
            CLIENT,
        ),
        (
            "/v1/ledgers/emstek/capacity",
            json!({"pool": "zur-post", "capacity": 80}),
            OPERATOR,
        ),
        ("/v1/clock", json!({"at": NOON + 2_000}), OPERATOR),
    ];
    let d = openapi();
    for (path, body, key) in &bodies {
        let mut extra = body.clone();
        extra["surprise"] = json!(1);
        assert!(
            refused("surprise", &post(path, &extra, key)),
            "{path} with an unknown field"
        );
        let schema_name = match *path {
            p if p.ends_with("reserve") => "Reserve",
            p if p.ends_with("confirm") || p.ends_with("release") => "ReservationRef",
            p if p.ends_with("leave-waitlist") => "EntryRef",
            p if p.ends_with("capacity") => "Capacity",
            _ => "Clock",
        };
        for required in d["components"]["schemas"][schema_name]["required"]
            .as_array()
            .unwrap()
        {
            let name = required.as_str().unwrap();
            let mut missing = body.clone();
            missing.as_object_mut().unwrap().remove(name);
            assert!(
                refused(name, &post(path, &missing, key)),
                "{path} without {name}"
            );
        }
    }
    // The operator's bounds.
    let cap = |c: u64| {
        post(
            "/v1/ledgers/emstek/capacity",
            &json!({"pool": "zur-post", "capacity": c}),
            OPERATOR,
        )
    };
    assert!(accepted("capacity", &cap(CAPACITY_MAX)));
    assert!(refused("capacity", &cap(CAPACITY_MAX + 1)));
    let clock = |at: u64| post("/v1/clock", &json!({ "at": at }), OPERATOR);
    assert!(refused("at", &clock(TIMESTAMP_MAX + 1)));
    assert!(accepted("at", &clock(TIMESTAMP_MAX)));
}
