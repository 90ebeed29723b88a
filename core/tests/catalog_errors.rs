//! A corpus of bad catalogs (`tests/catalogs/bad/`): each must be refused with the
//! exact field path, message and line:column of every problem, several at once
//! where the parser lets us.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)] // a test harness, not the core (core/clippy.toml)

use kontingent_core::Catalog;
use std::path::Path;

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/catalogs/bad")
}

fn errors(file: &str) -> Vec<String> {
    let path = dir().join(file);
    let err = Catalog::from_file_text(
        &std::fs::read_to_string(&path).unwrap(),
        &path.display().to_string(),
    )
    .expect_err(file);
    let prefix = format!("{}:", path.display());
    err.to_string()
        .lines()
        .map(|l| l.replace(&prefix, &format!("{file}:")))
        .collect()
}

const CORPUS: &[(&str, &[&str])] = &[
    // A type error does not hide the rest; what follows only from the item that
    // did not read (the offer drawing from that pool) is not reported.
    ("type-and-meaning.toml", &[
        r#"pools[0].capacity: invalid type: string "many", expected u64 (type-and-meaning.toml:6:12)"#,
        r#"hold: "10 parsecs": unknown unit (use ms, s, m, h or d) (type-and-meaning.toml:2:1)"#,
        r#"offers[1].opens_at: "yesterday" is not a time like "2026-11-29 12:00" or "2026-11-29T12:00:00+01:00" (type-and-meaning.toml:19:1)"#,
        r#"offers[1].draws.baar: unknown pool "baar" (type-and-meaning.toml:18:11)"#,
    ]),
    ("type-shifts.toml", &[
        r#"pools[0].capacity: invalid type: string "many", expected u64 (type-shifts.toml:6:12)"#,
        r#"offers[0].draws.bar: invalid type: string "one", expected u64 (type-shifts.toml:18:17)"#,
        r#"rules[0].units: invalid type: string "two", expected u64 (type-shifts.toml:27:9)"#,
        "consumers[0].events: invalid type: integer `5`, expected a sequence (type-shifts.toml:36:10)",
        r#"pools[2].name: duplicate pool "bar" (type-shifts.toml:13:1)"#,
        r#"offers[1].draws.budegt: unknown pool "budegt" (type-shifts.toml:22:21)"#,
        r#"rules[1].offers[1]: unknown offer "nope" (type-shifts.toml:33:18)"#,
        "consumers[1].events: must name at least one event type (type-shifts.toml:40:1)",
    ]),
    ("type-and-meaning.json", &[
        r#"pools[0].capacity: invalid type: string "many", expected u64 (type-and-meaning.json:5:39)"#,
        r#"hold: "10 parsecs": unknown unit (use ms, s, m, h or d) (type-and-meaning.json:3:3)"#,
        r#"offers[1].opens_at: "yesterday" is not a time like "2026-11-29 12:00" or "2026-11-29T12:00:00+01:00" (type-and-meaning.json:10:45)"#,
        r#"offers[1].draws.baar: unknown pool "baar" (type-and-meaning.json:10:33)"#,
    ]),
    ("unknown-pool.toml", &[r#"offers[0].draws.budegt: unknown pool "budegt" (unknown-pool.toml:7:11)"#]),
    ("unknown-pool.json", &[r#"offers[0].draws.budegt: unknown pool "budegt" (unknown-pool.json:6:38)"#]),
    ("duplicate-pool.toml", &[r#"pools[1].name: duplicate pool "zur-post" (duplicate-pool.toml:6:1)"#]),
    ("duplicate-offer.json", &[
        r#"offers[1].name: duplicate offer "o" (duplicate-offer.json:5:6)"#,
        r#"rules[0].pool: unknown pool "q" (duplicate-offer.json:7:55)"#,
    ]),
    ("zero-and-huge-amounts.toml", &[
        "pools[0].capacity: 9007199254740992 is more than the limit of 9007199254740991 (zero-and-huge-amounts.toml:3:1)",
        "offers[0].draws.budget: must be at least 1 (zero-and-huge-amounts.toml:7:11)",
        "offers[1].draws.budget: 4294967296 is more than the limit of 4294967295 (zero-and-huge-amounts.toml:11:11)",
    ]),
    ("negative-capacity.toml", &["pools[0].capacity: invalid value: integer `-5`, expected u64 (negative-capacity.toml:3:12)"]),
    ("negative-capacity.json", &["pools[0].capacity: invalid value: integer `-5`, expected u64 (negative-capacity.json:3:37)"]),
    ("misspelled-field.toml", &["pools[0].capacty: unknown field `capacty`, expected `name` or `capacity` (misspelled-field.toml:3:1)"]),
    ("misspelled-and-duplicate.json", &["offers[0].prize: unknown field `prize`, expected one of `name`, `price`, `draws`, `waitlist`, `opens_at`, `closes_at` (misspelled-and-duplicate.json:4:38)"]),
    ("window-backwards.toml", &["closes_at: the window closes before (or when) it opens (window-backwards.toml:3:1)"]),
    ("window-and-share.json", &[
        "closes_at: the window closes before (or when) it opens (window-and-share.json:4:3)",
        r#"rules[0].channel: unknown channel "phone" (window-and-share.json:7:70)"#,
    ]),
    ("no-slot.toml", &["slots[0]: the template generates no slot (no-slot.toml:3:1)"]),
    ("impossible-share.toml", &[
        r#"rules[0].keep: impossible share: 6 units kept of pool "slot", which has only 5 (impossible-share.toml:12:1)"#,
        r#"rules[1].channel: unknown channel "fax" (impossible-share.toml:18:1)"#,
        r#"rules[1].keep: impossible share: 7 units kept of pool "slot", which has only 5 (impossible-share.toml:19:1)"#,
    ]),
    ("bad-times.toml", &[
        r#"time_zone: unknown time zone "Europe/Berlln" (bad-times.toml:1:1)"#,
        r#"hold: "15 minutes": unknown unit (use ms, s, m, h or d) (bad-times.toml:2:1)"#,
        r#"opens_at: "Sunday noon" is not a time like "2026-11-29 12:00" or "2026-11-29T12:00:00+01:00" (bad-times.toml:3:1)"#,
    ]),
    ("rules-misfit.toml", &[
        "rules[1].attribute: not a field of a customer_limit rule (rules-misfit.toml:19:1)",
        r#"rules[2].kind: unknown rule kind "allowed_zones" (customer_limit, order_size, min_order_value, allowed_values, channel_share) (rules-misfit.toml:23:1)"#,
        "rules[0].min_units: min_units is more than max_units (rules-misfit.toml:12:1)",
        r#"rules[3].offers[0]: unknown offer "oo" (rules-misfit.toml:29:11)"#,
    ]),
    ("syntax.toml", &["extra `=`, expected nothing (syntax.toml:3:12)"]),
    // Type errors in different items are all reported, each with its path and line.
    ("type-errors.toml", &[
        "hold: invalid type: integer `15`, expected a string (type-errors.toml:1:8)",
        r#"offers[0].price: invalid type: string "ten", expected u64 (type-errors.toml:9:9)"#,
        "offers[1].draws.p: invalid value: integer `-1`, expected u64 (type-errors.toml:14:15)",
    ]),
    ("type-errors.json", &[
        "hold: invalid type: integer `15`, expected a string (type-errors.json:2:12)",
        r#"offers[0].price: invalid type: string "ten", expected u64 (type-errors.json:5:32)"#,
        "offers[1].draws.p: invalid value: integer `-1`, expected u64 (type-errors.json:6:35)",
    ]),
    // A TOML duplicate key or too deep a value names its field.
    ("duplicate-key.toml", &["offers[0].price: duplicate key (duplicate-key.toml:9:1)"]),
    ("duplicate-field.json", &[
        "pools[0].name: duplicate field `name` (duplicate-field.json:2:47)",
        r#"offers[0].price: invalid type: string "x", expected u64 (duplicate-field.json:3:58)"#,
    ]),
    ("too-deep.toml", &["offers[0].waitlist: cannot recurse further; max recursion depth met (too-deep.toml:8:92)"]),
    ("trailing.json", &["trailing characters (trailing.json:1:15)"]),
];

#[test]
fn every_bad_catalog_names_its_fields_and_lines() {
    for (file, want) in CORPUS {
        assert_eq!(errors(file), *want, "{file}");
    }
}

#[test]
fn the_corpus_is_complete() {
    // Every file in the corpus directory has expectations, and vice versa.
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|f| f.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut listed: Vec<String> = CORPUS.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed);
}

#[test]
fn the_ledger_refuses_an_invalid_compiled_catalog_too() {
    // A catalog that reaches the ledger without the file compiler (JSON over the
    // wire, a hostile journal) is checked by the same rules, and changes nothing.
    let mut c = Catalog::from_toml_str(
        "[[pools]]\nname = \"p\"\ncapacity = 1\n[[offers]]\nname = \"o\"\ndraws = { p = 1 }\n",
        "ok.toml",
    )
    .unwrap();
    c.offers[0].draws[0].pool = "nope".into();
    c.pools[0].capacity = u64::MAX;
    let mut l = kontingent_core::Ledger::new();
    let before = l.digest();
    let err = l
        .apply(&kontingent_core::Command::new(
            0,
            kontingent_core::Action::LoadCatalog(Box::new(c)),
        ))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_catalog");
    let text = err.to_string();
    assert!(
        text.contains("offers[0].draws[0].pool: unknown pool \"nope\""),
        "{text}"
    );
    assert!(text.contains("pools[0].capacity"), "{text}");
    assert_eq!(l.digest(), before);
}

#[test]
fn an_empty_catalog_is_refused_alike_in_toml_and_json() {
    // Empty files, whitespace and an empty table/object: each is one issue at `pools`.
    let want = "pools: the catalog defines no pool: give at least one in pools (or a slot template in slots)";
    let texts = [
        ("empty.toml", ""),
        ("blank.toml", " \n\n"),
        ("named.toml", "name = \"x\"\nhold = \"10m\"\n"),
        ("empty.json", ""),
        ("blank.json", " \n"),
        ("object.json", "{}"),
        ("named.json", r#"{"name": "x", "hold": "10m"}"#),
    ];
    for (file, text) in texts {
        let err = Catalog::from_file_text(text, file).expect_err(file);
        assert_eq!(err.issues.len(), 1, "{file}: {err}");
        assert_eq!(err.issues[0].to_string(), want, "{file}");
        assert_eq!(err.to_string(), format!("{want} ({file})"), "{file}");
    }
    // Pools given as an empty list are no better.
    let err = Catalog::from_toml_str("pools = []\n", "c.toml").unwrap_err();
    assert_eq!(err.issues[0].path, "pools");
    assert_eq!(err.issues[0].line, Some(1));
    // A slot template alone is a catalog with pools.
    Catalog::from_toml_str(
        "time_zone = \"UTC\"\n[[slots]]\nname = \"s\"\nevery = \"1h\"\nfrom = \"10:00\"\nuntil = \"11:00\"\ncapacity = 1\ndates = { from = \"2026-06-01\", until = \"2026-06-01\" }\n",
        "s.toml",
    )
    .unwrap();
}

#[test]
fn a_cutoff_instant_past_the_latest_timestamp_is_refused() {
    // A compiled catalog from the wire: its slot's cut-off is checked against
    // TIMESTAMP_MAX like every other instant, and nothing is loaded.
    let mut c = Catalog::from_toml_str(
        "time_zone = \"UTC\"\n[[slots]]\nname = \"s\"\nevery = \"1h\"\nfrom = \"10:00\"\nuntil = \"11:00\"\ncapacity = 1\ndates = { from = \"2026-06-01\", until = \"2026-06-01\" }\nsame_day_cutoff = \"09:00\"\n",
        "s.toml",
    )
    .unwrap();
    let slot = c.offers[0].slot.as_mut().unwrap();
    assert_eq!(slot.cutoff_at, Some(slot.starts_at - 3_600_000));
    slot.cutoff_at = Some(kontingent_core::limits::TIMESTAMP_MAX + 1);
    let issues = c.check();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path, "offers[0].slot.cutoff_at");
    let mut l = kontingent_core::Ledger::new();
    let before = l.digest();
    let err = l
        .apply(&kontingent_core::Command::new(
            0,
            kontingent_core::Action::LoadCatalog(Box::new(c)),
        ))
        .unwrap_err();
    assert_eq!(err.code(), "invalid_catalog");
    assert_eq!(l.digest(), before);
    // From a file, a cut-off beyond the instants a catalog may hold is an error at
    // the field, not an unchecked instant.
    let err = Catalog::from_toml_str(
        "time_zone = \"UTC\"\n[[slots]]\nname = \"s\"\nevery = \"1h\"\nfrom = \"10:00\"\nuntil = \"11:00\"\ncapacity = 1\ndates = { from = \"9999-12-30\", until = \"9999-12-30\" }\nsame_day_cutoff = \"23:30\"\n",
        "late.toml",
    )
    .unwrap_err();
    assert_eq!(err.issues[0].path, "slots[0].same_day_cutoff", "{err}");
}

#[test]
fn a_json_file_that_is_not_an_object_or_has_a_null_list_is_one_error_each() {
    for text in ["[1, 2]", "5", "\"x\""] {
        let err = Catalog::from_json_str(text, "a.json").unwrap_err();
        assert_eq!(err.issues.len(), 1, "{text}: {err}");
    }
    let err = Catalog::from_json_str(r#"{"pools": null}"#, "n.json").unwrap_err();
    assert_eq!(err.issues.len(), 1, "{err}");
    assert_eq!(err.issues[0].path, "pools", "{err}");
    assert!(err.issues[0].message.contains("null"), "{err}");
}
