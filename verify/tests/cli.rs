//! The command-line checker, fed JSON lines the way a Python script would
//! write them (`json.dumps` per operation, spaces after separators).

use std::io::Write;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_kontingent-verify");

/// Two customers race for the last unit of `p0`; the second answer is given.
fn python_history(second: &str) -> String {
    format!(
        r#"{{"client": 1, "call_ns": 100, "return_ns": 900, "op": {{"type": "reserve", "request_id": "r1", "customer": "ann", "pool": "p0", "units": 1, "confirm": false}}, "ret": {{"status": "held", "units": 1, "reservation": 1}}}}
{{"client": 2, "call_ns": 200, "return_ns": 800, "op": {{"type": "reserve", "request_id": "r2", "customer": "bob", "pool": "p0", "units": 1, "confirm": true}}, "ret": {second}}}
{{"client": 3, "call_ns": 950, "return_ns": null, "op": {{"type": "release", "request_id": "r1", "pool": "p0", "reservation": 1}}, "ret": null}}
"#
    )
}

fn run(history: &str, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(history.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_linearizable_history_exits_0() {
    let sold_out = r#"{"status": "sold_out", "requested": 1, "left": 0}"#;
    let (code, out) = run(&python_history(sold_out), &["--pool", "p0=1"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("linearizable"), "{out}");
}

#[test]
fn an_oversold_history_exits_1_and_names_the_operations() {
    let confirmed = r#"{"status": "confirmed", "units": 1, "reservation": 2}"#;
    let (code, out) = run(&python_history(confirmed), &["--pool", "p0=1"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("NOT linearizable") && out.contains("\"r2\""),
        "{out}"
    );
    // With room for both, the same answers are fine.
    let (code, out) = run(&python_history(confirmed), &["--pool", "p0=2"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn bad_input_exits_2() {
    let (code, out) = run("not json\n", &["--pool", "p0=1"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("line 1"), "{out}");
    let (code, _) = run("", &[]);
    assert_eq!(code, 2);
}

#[test]
fn a_tiny_budget_exits_3() {
    // Six concurrent reserves of which four succeed on a pool of four: the
    // first orders the search tries fail, so one step cannot decide.
    let mut h = String::new();
    for c in 0..6 {
        let ret = if c < 2 {
            r#"{"status": "sold_out", "requested": 1, "left": 0}"#.to_owned()
        } else {
            format!(r#"{{"status": "held", "units": 1, "reservation": {c}}}"#)
        };
        h += &format!(
            r#"{{"client": {c}, "call_ns": 0, "return_ns": 100, "op": {{"type": "reserve", "request_id": "r{c}", "customer": "c", "pool": "p0", "units": 1, "confirm": false}}, "ret": {ret}}}"#
        );
        h.push('\n');
    }
    let (code, out) = run(&h, &["--pool", "p0=4", "--max-steps", "1"]);
    assert_eq!(code, 3, "{out}");
    let (code, out) = run(&h, &["--pool", "p0=4"]);
    assert_eq!(code, 0, "{out}");
}
