//! docs/SEMANTICS.md lists every event kind with its fields: the list and
//! `EventKind` (as serialized) must agree, both ways.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::{
    EventKind, OfferId, PoolAmounts, PoolId, ReservationId, Standing, WaitEntryId, WaitlistPolicy,
};
use std::collections::BTreeMap;

/// One of each kind; the `match` makes a new kind a compile error here.
fn every_kind() -> Vec<EventKind> {
    let r = ReservationId(1);
    let e = WaitEntryId(1);
    let pools = PoolAmounts::new;
    let all = vec![
        EventKind::CatalogLoaded { name: "c".into() },
        EventKind::PoolDefined {
            pool: PoolId(0),
            name: "p".into(),
            capacity: 1,
        },
        EventKind::OfferDefined {
            offer: OfferId(0),
            name: "o".into(),
            draws: Vec::new(),
            waitlist: WaitlistPolicy::default(),
        },
        EventKind::CapacityChanged {
            pool: PoolId(0),
            capacity: 2,
        },
        EventKind::DefaultHoldChanged { hold_ms: 1 },
        EventKind::Held {
            reservation: r,
            expires_at: 1,
            pools: pools(),
            channel: 0,
        },
        EventKind::Confirmed {
            reservation: r,
            from: Standing::Held,
            pools: pools(),
            channel: 0,
        },
        EventKind::Released {
            reservation: r,
            from: Standing::Held,
            pools: pools(),
            channel: 0,
        },
        EventKind::Expired {
            reservation: r,
            pools: pools(),
            channel: 0,
        },
        EventKind::WaitlistJoined {
            entry: e,
            offer: OfferId(0),
            quantity: 1,
            position: 1,
        },
        EventKind::WaitlistLeft {
            entry: e,
            offer: OfferId(0),
        },
        EventKind::Promoted {
            entry: e,
            reservation: r,
            expires_at: 1,
            pools: pools(),
            channel: 0,
        },
        EventKind::Paused,
        EventKind::Resumed,
    ];
    for k in &all {
        match k {
            EventKind::CatalogLoaded { .. }
            | EventKind::PoolDefined { .. }
            | EventKind::OfferDefined { .. }
            | EventKind::CapacityChanged { .. }
            | EventKind::DefaultHoldChanged { .. }
            | EventKind::Held { .. }
            | EventKind::Confirmed { .. }
            | EventKind::Released { .. }
            | EventKind::Expired { .. }
            | EventKind::WaitlistJoined { .. }
            | EventKind::WaitlistLeft { .. }
            | EventKind::Promoted { .. }
            | EventKind::Paused
            | EventKind::Resumed => {}
        }
    }
    all
}

/// `type{field, field}` items of the "## Events" section.
fn documented() -> BTreeMap<String, Vec<String>> {
    let text = include_str!("../../docs/SEMANTICS.md");
    let section = text
        .split("\n## Events\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("an Events section");
    let mut out = BTreeMap::new();
    for code in section.split('`').skip(1).step_by(2) {
        let Some((name, rest)) = code.split_once('{') else {
            continue;
        };
        let fields = rest
            .trim_end_matches('}')
            .split(',')
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
            .collect();
        out.insert(name.to_owned(), fields);
    }
    out
}

#[test]
fn the_documented_events_are_the_event_kinds_with_their_fields() {
    let mut actual = BTreeMap::new();
    for k in every_kind() {
        let serde_json::Value::Object(map) = serde_json::to_value(&k).unwrap() else {
            panic!("{k:?} is not an object");
        };
        let kind = map["type"].as_str().unwrap().to_owned();
        let fields = map.keys().filter(|f| *f != "type").cloned().collect();
        actual.insert(kind, fields);
    }
    let mut documented = documented();
    for fields in documented.values_mut() {
        fields.sort();
    }
    for fields in actual.values_mut() {
        let v: &mut Vec<String> = fields;
        v.sort();
    }
    assert_eq!(documented, actual);
}
