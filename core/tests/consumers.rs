//! Consumers: definition, acks and their errors, and what survives encoding.

use kontingent_core::codec::{decode, encode};
use kontingent_core::{Action, Command, Draw, EventType, Ledger, Outcome, Request};

fn ledger() -> Ledger {
    let mut l = Ledger::new();
    for a in [
        Action::DefinePool {
            pool: "p".into(),
            capacity: 2,
        },
        Action::DefineOffer {
            offer: "o".into(),
            draws: vec![Draw::new("p", 1)],
            waitlist: Default::default(),
        },
    ] {
        l.apply(&Command::new(0, a)).unwrap();
    }
    l
}

fn define(name: &str, events: &[EventType], after: Option<u64>) -> Action {
    Action::DefineConsumer {
        consumer: name.into(),
        events: events.to_vec(),
        after,
    }
}

fn ack(name: &str, seq: u64) -> Action {
    Action::Ack {
        consumer: name.into(),
        seq,
    }
}

#[test]
fn acks_move_forward_only_and_emit_nothing() {
    let mut l = ledger();
    let r = l
        .apply(&Command::new(
            1,
            define("mailer", &[EventType::Confirmed], None),
        ))
        .unwrap();
    assert_eq!((r.outcome, r.events.len()), (Outcome::Done, 0));
    l.apply(&Command::new(
        2,
        Action::Reserve(Request::new("a", "alice").line("o", 1).confirm()),
    ))
    .unwrap();
    let seq = l.seq();
    let r = l.apply(&Command::new(3, ack("mailer", seq))).unwrap();
    assert!(r.events.is_empty());
    assert_eq!(l.seq(), seq, "an ack is not an event");
    assert_eq!(l.consumer("mailer").unwrap().cursor, seq);
    l.apply(&Command::new(4, ack("mailer", 1))).unwrap();
    assert_eq!(l.consumer("mailer").unwrap().cursor, seq, "never back");
    // Redefinition keeps the cursor, unless `after` moves it.
    l.apply(&Command::new(
        5,
        define("mailer", &[EventType::Promoted], None),
    ))
    .unwrap();
    let v = l.consumer("mailer").unwrap();
    assert_eq!((v.cursor, v.events), (seq, vec![EventType::Promoted]));
    l.apply(&Command::new(
        6,
        define("mailer", &[EventType::Promoted], Some(0)),
    ))
    .unwrap();
    assert_eq!(l.consumer("mailer").unwrap().cursor, 0);
}

#[test]
fn bad_consumer_commands_name_their_field_and_change_nothing() {
    let mut l = ledger();
    l.apply(&Command::new(
        0,
        define("mailer", &[EventType::Confirmed], None),
    ))
    .unwrap();
    let seq = l.seq();
    let cases: Vec<(Action, &str, &str)> = vec![
        (ack("nobody", 0), "unknown_consumer", "consumer"),
        (ack("mailer", seq + 1), "out_of_range", "seq"),
        (ack(&"x".repeat(65), 0), "too_long", "consumer"),
        (define("", &[EventType::Held], None), "empty", "consumer"),
        (define("m2", &[], None), "empty", "events"),
        (
            define("m2", &[EventType::Held, EventType::Held], None),
            "duplicate",
            "events[1]",
        ),
        (
            define("m2", &[EventType::Held], Some(seq + 1)),
            "out_of_range",
            "after",
        ),
    ];
    for (action, code, field) in cases {
        let before = l.digest();
        let e = l.apply(&Command::new(1, action.clone())).unwrap_err();
        assert_eq!(e.code(), code, "{action:?}");
        assert!(e.to_string().starts_with(field), "{e} names {field}");
        assert_eq!(l.digest(), before, "{action:?} changed the ledger");
    }
    for i in 1..64 {
        l.apply(&Command::new(
            1,
            define(&format!("c{i}"), &[EventType::Held], None),
        ))
        .unwrap();
    }
    let e = l
        .apply(&Command::new(
            1,
            define("one-too-many", &[EventType::Held], None),
        ))
        .unwrap_err();
    assert_eq!(e.code(), "too_many");
    // Redefining an existing one is still fine at the limit.
    l.apply(&Command::new(1, define("c1", &[EventType::Paused], None)))
        .unwrap();
}

#[test]
fn cursors_are_state_and_round_trip() {
    let mut l = ledger();
    let plain = l.digest();
    let plain_bytes = l.state_bytes();
    assert!(plain_bytes.starts_with(b"kontingent-state-v1"));
    l.apply(&Command::new(
        0,
        define("mailer", &[EventType::Confirmed], None),
    ))
    .unwrap();
    assert_ne!(l.digest(), plain, "a consumer is part of the state");
    let bytes = l.state_bytes();
    assert!(bytes.starts_with(b"kontingent-state-v2"));
    let back = Ledger::from_state_bytes(&bytes).unwrap();
    assert_eq!(back.digest(), l.digest());
    assert_eq!(back.consumers(), l.consumers());
    // A v2 state cut before its consumers is refused, not read as v1.
    let mut cut = bytes[..plain_bytes.len()].to_vec();
    cut[..19].copy_from_slice(b"kontingent-state-v2");
    assert!(Ledger::from_state_bytes(&cut).is_err());
    // And the commands themselves survive the journal's codec.
    for action in [
        define(
            "webhook:kitchen",
            &[EventType::Held, EventType::Resumed],
            Some(3),
        ),
        define("mailer", &[EventType::Promoted], None),
        ack("mailer", u64::MAX),
    ] {
        let cmd = Command::new(7, action);
        let mut buf = Vec::new();
        encode(&cmd, &mut buf);
        assert_eq!(decode(&buf).unwrap(), cmd);
    }
}

#[test]
fn a_catalog_declares_its_consumers() {
    let toml = r#"
[[pools]]
name = "p"
capacity = 2

[[offers]]
name = "o"
draws = { p = 1 }

[[consumers]]
name = "mailer"
events = ["confirmed", "promoted"]
"#;
    let c = kontingent_core::Catalog::from_toml_str(toml, "c.toml").unwrap();
    let mut l = Ledger::new();
    l.apply(&Command::new(0, Action::LoadCatalog(Box::new(c.clone()))))
        .unwrap();
    let v = l.consumer("mailer").unwrap();
    assert_eq!(
        (v.events, v.cursor),
        (vec![EventType::Confirmed, EventType::Promoted], 0)
    );
    l.apply(&Command::new(
        1,
        Action::Reserve(Request::new("a", "a@example.org").line("o", 1).confirm()),
    ))
    .unwrap();
    l.apply(&Command::new(1, ack("mailer", l.seq()))).unwrap();
    // Loading it again (a restart, a change) keeps the cursor.
    let seq = l.seq();
    l.apply(&Command::new(2, Action::LoadCatalog(Box::new(c))))
        .unwrap();
    assert_eq!(l.consumer("mailer").unwrap().cursor, seq);
    // A bad declaration names its field and line.
    let bad = toml.replace(r#""promoted"]"#, r#""promoted", "bought"]"#);
    let e = kontingent_core::Catalog::from_toml_str(&bad, "c.toml").unwrap_err();
    let issue = &e.issues[0];
    assert!(issue.path.starts_with("consumers[0]"), "{e}");
    assert_eq!(issue.path, "consumers[0].events[2]", "{e}");
    assert_eq!(issue.line, Some(12), "{e}");
    let twice = format!("{toml}\n[[consumers]]\nname = \"mailer\"\nevents = [\"held\"]\n");
    let e = kontingent_core::Catalog::from_toml_str(&twice, "c.toml").unwrap_err();
    assert_eq!(e.issues[0].path, "consumers[1].name", "{e}");
    let json =
        r#"{"pools": [{"name": "p", "capacity": 1}], "consumers": [{"name": "m", "events": []}]}"#;
    let e = kontingent_core::Catalog::from_json_str(json, "c.json").unwrap_err();
    assert_eq!(e.issues[0].path, "consumers[0].events", "{e}");
}
