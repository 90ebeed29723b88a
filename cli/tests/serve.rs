//! `kontingent serve` and the operator's verbs against it, run for real: the verb
//! changes the served ledger, and a wrong key is refused with its code.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const OPERATOR: &str = "operator-key-0123456789";

#[test]
fn pause_and_resume_a_served_ledger_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut server = Command::new(env!("CARGO_BIN_EXE_kontingent"))
        .arg("serve")
        .arg("--journal")
        .arg(format!("emstek={}", dir.path().join("e.journal").display()))
        .arg("--catalog")
        .arg(format!(
            "emstek={}",
            root.join("examples/emstek-vouchers/catalog.toml").display()
        ))
        .args(["--listen", "127.0.0.1:0", "--clock", "fixed:1795950001000"])
        .env("KONTINGENT_OPERATOR_KEY", OPERATOR)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    let paused = || -> bool {
        let mut r = ureq::get(format!("{base}/v1/ledgers/emstek/availability"))
            .call()
            .unwrap();
        r.body_mut().read_json::<serde_json::Value>().unwrap()["paused"]
            .as_bool()
            .unwrap()
    };
    let verb = |verb: &str, key: &str| {
        Command::new(env!("CARGO_BIN_EXE_kontingent"))
            .args([verb, "--server", &base, "--ledger", "emstek"])
            .env("KONTINGENT_OPERATOR_KEY", key)
            .output()
            .unwrap()
    };
    assert!(!paused());
    let out = verb("pause", OPERATOR);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"status":"done"}"#
    );
    assert!(paused());
    let wrong = verb("resume", "not-the-operator-key");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("unauthorized"));
    assert!(paused(), "a wrong key changes nothing");
    assert!(verb("resume", OPERATOR).status.success());
    assert!(!paused());

    // The other verbs: capacity, a catalog file, the export.
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_kontingent"))
            .args(args)
            .args(["--server", &base, "--ledger", "emstek"])
            .env("KONTINGENT_OPERATOR_KEY", OPERATOR)
            .output()
            .unwrap()
    };
    let cap = run(&["capacity", "--pool", "zur-post", "--capacity", "81"]);
    assert!(
        cap.status.success(),
        "{}",
        String::from_utf8_lossy(&cap.stderr)
    );
    let mut r = ureq::get(format!("{base}/v1/ledgers/emstek/availability"))
        .call()
        .unwrap();
    let a = r.body_mut().read_json::<serde_json::Value>().unwrap();
    let zur = a["pools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "zur-post")
        .unwrap()
        .clone();
    assert_eq!(zur["capacity"], 81, "{zur}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[pools]]\nname = \"x\"\ncapacity = \"many\"\n").unwrap();
    let refused = run(&["load-catalog", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("invalid_catalog"));
    let good = root.join("examples/emstek-vouchers/catalog.toml");
    let loaded = run(&["load-catalog", good.to_str().unwrap()]);
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    let body = serde_json::json!({"request_id": "x1", "customer": "anna", "lines": [{"offer": "zur-post-20", "quantity": 1}]});
    ureq::post(format!("{base}/v1/ledgers/emstek/reserve"))
        .header("Authorization", format!("Bearer {OPERATOR}"))
        .send_json(&body)
        .unwrap();
    let csv = run(&["export", "--pool", "zur-post"]);
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let text = String::from_utf8_lossy(&csv.stdout);
    assert!(text.starts_with("reservation,state,customer,"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("1,held,anna,")),
        "{text}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
