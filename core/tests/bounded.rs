//! Hostile sizes: a name over its limit is `too_long` before any lookup, and no
//! error or catalog message quotes more than a bounded prefix of any input.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::{Action, Catalog, Command, Draw, Ledger, Request, WaitlistPolicy};

const MB: usize = 1 << 20;
/// What every message here must stay under.
const KIB: usize = 1024;

fn ledger() -> Ledger {
    let c = Catalog::from_toml_str(
        "[[pools]]\nname = \"p\"\ncapacity = 5\n[[offers]]\nname = \"o\"\ndraws = { p = 1 }\n",
        "ok.toml",
    )
    .unwrap();
    let mut l = Ledger::new();
    l.apply(&Command::new(0, Action::LoadCatalog(Box::new(c))))
        .unwrap();
    l
}

fn refused(l: &mut Ledger, action: Action) -> (String, String) {
    let before = l.digest();
    let e = l.apply(&Command::new(1, action)).unwrap_err();
    assert_eq!(l.digest(), before, "an error changes nothing");
    (e.code().to_owned(), e.to_string())
}

#[test]
fn a_huge_offer_name_in_a_request_is_too_long_and_the_message_is_short() {
    let mut l = ledger();
    let name = "x".repeat(MB);
    let (code, msg) = refused(
        &mut l,
        Action::Reserve(Request::new("r", "c").line("o", 1).line(name.as_str(), 1)),
    );
    assert_eq!(code, "too_long");
    assert!(msg.len() < KIB, "{} bytes", msg.len());
    assert_eq!(
        msg,
        "lines[1].offer: 1048576 bytes is longer than the limit of 64"
    );
    // A name at the limit is still merely unknown.
    let (code, _) = refused(
        &mut l,
        Action::Reserve(Request::new("r", "c").line("y".repeat(64).as_str(), 1)),
    );
    assert_eq!(code, "unknown_offer");
}

#[test]
fn huge_pool_names_in_commands_are_too_long() {
    let mut l = ledger();
    let name = "q".repeat(MB);
    let (code, msg) = refused(
        &mut l,
        Action::DefineOffer {
            offer: "o2".into(),
            draws: vec![Draw::new("p", 1), Draw::new(&name, 1)],
            waitlist: WaitlistPolicy::default(),
        },
    );
    assert_eq!(
        (code.as_str(), msg.len() < KIB),
        ("too_long", true),
        "{msg:.200}"
    );
    assert!(msg.starts_with("draws[1].pool: "), "{msg:.200}");
    let (code, msg) = refused(
        &mut l,
        Action::SetCapacity {
            pool: name.clone(),
            capacity: 1,
        },
    );
    assert_eq!(
        (code.as_str(), msg.len() < KIB),
        ("too_long", true),
        "{msg:.200}"
    );
    let e = l.why_unavailable(&name, "web", 1).unwrap_err();
    assert_eq!(e.code(), "too_long");
    assert!(e.to_string().len() < KIB);
}

#[test]
fn a_huge_time_zone_name_gives_a_short_catalog_error() {
    let tz = "E".repeat(5 * MB);
    let text = format!("time_zone = \"{tz}\"\n[[pools]]\nname = \"p\"\ncapacity = 1\n");
    let err = Catalog::from_toml_str(&text, "tz.toml").unwrap_err();
    let msg = err.to_string();
    assert!(msg.len() < KIB, "{} bytes", msg.len());
    assert_eq!(
        msg,
        "time_zone: 5242880 bytes is longer than the limit of 64 (tz.toml:1:1)"
    );
    // An unknown name under the limit is quoted whole.
    let err = Catalog::from_toml_str(
        "time_zone = \"Mars/Olympus\"\n[[pools]]\nname = \"p\"\ncapacity = 1\n",
        "tz.toml",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"time_zone: unknown time zone "Mars/Olympus" (tz.toml:1:1)"#
    );
}

#[test]
fn huge_values_in_a_catalog_file_give_short_messages() {
    let big = "b".repeat(MB);
    let cases = [
        // An unknown pool named in draws: the path and the message quote it.
        format!("[[pools]]\nname = \"p\"\ncapacity = 1\n[[offers]]\nname = \"o\"\ndraws = {{ {big} = 1 }}\n"),
        // A duplicate, over-long pool name.
        format!("[[pools]]\nname = \"{big}\"\ncapacity = 1\n[[pools]]\nname = \"{big}\"\ncapacity = 1\n"),
        // A type error quoting the value.
        format!("[[pools]]\nname = \"p\"\ncapacity = \"{big}\"\n"),
        // An unknown field.
        format!("[[pools]]\nname = \"p\"\ncapacity = 1\n{big} = 2\n"),
        // Times, durations, rule kinds, slot fields.
        format!("hold = \"{big}\"\nopens_at = \"{big}\"\n[[pools]]\nname = \"p\"\ncapacity = 1\n[[rules]]\nname = \"r\"\nkind = \"{big}\"\n"),
        format!("time_zone = \"UTC\"\n[[slots]]\nname = \"s\"\nevery = \"{big}\"\nfrom = \"{big}\"\nuntil = \"{big}\"\ncapacity = 1\nweekdays = [\"{big}\"]\ndates = {{ from = \"{big}\", until = \"{big}\" }}\nsame_day_cutoff = \"{big}\"\n"),
        // A slot template whose generated names would all be too long.
        format!("time_zone = \"UTC\"\n[[slots]]\nname = \"{big}\"\nevery = \"1h\"\nfrom = \"10:00\"\nuntil = \"11:00\"\ncapacity = 1\ndates = {{ from = \"2026-06-01\", until = \"2026-06-30\" }}\n"),
    ];
    for (i, text) in cases.iter().enumerate() {
        let err = Catalog::from_toml_str(text, "big.toml").unwrap_err();
        for issue in &err.issues {
            let shown = issue.to_string();
            assert!(
                shown.len() < KIB,
                "case {i}: {} bytes: {shown:.300}",
                shown.len()
            );
        }
        assert!(err.issues.len() <= 16, "case {i}");
    }
    // The same in JSON.
    let json = format!(r#"{{"pools": [{{"name": "p", "capacity": "{big}"}}], "{big}": 1}}"#);
    let err = Catalog::from_json_str(&json, "big.json").unwrap_err();
    for issue in &err.issues {
        assert!(issue.to_string().len() < KIB, "{:.300}", issue.to_string());
    }
}

#[test]
fn an_invalid_compiled_catalog_with_huge_names_gives_a_short_message() {
    let mut c = Catalog::from_toml_str(
        "[[pools]]\nname = \"p\"\ncapacity = 1\n[[offers]]\nname = \"o\"\ndraws = { p = 1 }\n",
        "ok.toml",
    )
    .unwrap();
    let big = "n".repeat(MB);
    c.pools[0].name = big.clone();
    c.offers[0].draws[0].pool = big.clone();
    c.time_zone = Some(big.clone());
    c.channels = (0..300).map(|i| format!("{i}{big}")).collect();
    let mut l = Ledger::new();
    let e = l
        .apply(&Command::new(0, Action::LoadCatalog(Box::new(c))))
        .unwrap_err();
    assert_eq!(e.code(), "invalid_catalog");
    let msg = e.to_string();
    assert!(msg.len() < KIB, "{} bytes: {msg:.300}", msg.len());
    assert!(
        msg.contains("time_zone: 1048576 bytes is longer"),
        "{msg:.500}"
    );
}
