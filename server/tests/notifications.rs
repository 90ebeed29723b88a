//! Notifications that happen once, over HTTP and from the server itself: the
//! consumer API, webhooks to a receiver that fails at random (signatures checked
//! by Python's hmac, not ours), a dead consumer retried by the operator, and the
//! confirmation e-mail through a real SMTP server (aiosmtpd) with the server
//! killed three times in the middle of a mailing.

mod common;

use common::{Server, CLIENT, OPERATOR};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// 2026-05-04 09:00 UTC: the campaign's own time, whatever today is.
const T0: u64 = 1_777_885_200_000;

/// 50 vouchers across three restaurants and a budget.
const CATALOG: &str = r#"
name = "rush"
hold = "5m"

[[pools]]
name = "budget"
capacity = 1000

[[pools]]
name = "zur-post"
capacity = 20

[[pools]]
name = "linde"
capacity = 15

[[pools]]
name = "mario"
capacity = 15

[[offers]]
name = "zur-post-20"
price = 2000
draws = { "zur-post" = 1, budget = 20 }

[[offers]]
name = "linde-20"
price = 2000
draws = { linde = 1, budget = 20 }

[[offers]]
name = "mario-20"
price = 2000
draws = { mario = 1, budget = 20 }
"#;

const OFFERS: [&str; 3] = ["zur-post-20", "linde-20", "mario-20"];

fn helper(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/helpers")
        .join(name)
}

/// A helper process whose first stdout line is its port; killed when dropped.
struct Helper {
    child: Child,
    port: u16,
}

impl Helper {
    fn start(script: &str, args: &[&str]) -> Helper {
        let mut child = Command::new("python3")
            .arg(helper(script))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the helper");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{script} printed {line:?}, not its port"));
        Helper { child, port }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kill9(s: &mut Server) {
    s.child.kill().unwrap();
    s.child.wait().unwrap();
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Wait until `consumer` has acked everything (its cursor is the ledger's seq).
fn drained(s: &Server, consumer: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let (status, all) = s.get("/v1/ledgers/rush/consumers", Some(OPERATOR));
        assert_eq!(status, 200, "{all}");
        let c = all["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == consumer)
            .cloned()
            .unwrap_or(Value::Null);
        if c["behind"] == 0 {
            return c;
        }
        assert!(
            start.elapsed() < within,
            "{consumer} did not catch up in {within:?}: {c}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The consumer once its deliverer says it is idle (or as it is when `within` ran out).
fn idle(s: &Server, consumer: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let c = drained(s, consumer, within);
        if c["delivery"]["status"]["state"] == "idle" || start.elapsed() > within {
            return c;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn define(s: &Server, consumer: &str, events: &[&str]) {
    let (status, body) = s.post(
        "/v1/ledgers/rush/consumers",
        Some(OPERATOR),
        &json!({ "consumer": consumer, "events": events }).to_string(),
    );
    assert_eq!((status, &body), (200, &json!({"status": "done"})));
}

/// Every event `consumer` names, by reading it through the consumer API (a
/// second consumer defined alike, never acked).
fn expected(s: &Server, consumer: &str) -> Vec<Value> {
    let (status, d) = s.get(
        &format!("/v1/ledgers/rush/consumers/{consumer}/events?limit=10000"),
        Some(CLIENT),
    );
    assert_eq!(status, 200, "{d}");
    d["notifications"].as_array().unwrap().clone()
}

/// The events of these types the journal holds, read by replaying it apart from
/// the server (not through the consumer code under test), as `{seq, type}`.
fn journal_events(journal: &Path, types: &[&str]) -> Vec<(u64, String)> {
    let l = kontingent::DurableLedger::open(journal, kontingent::Durability::Full).unwrap();
    let all = l.events_after(0, usize::MAX).unwrap();
    all.iter()
        .map(|e| {
            (
                e.seq,
                serde_json::to_value(&e.kind).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .filter(|(_, t)| types.contains(&t.as_str()))
        .collect()
}

/// Wait until the webhook consumer is dead; its delivery status.
fn dead(s: &Server) -> Value {
    let start = Instant::now();
    loop {
        let (_, all) = s.get("/v1/ledgers/rush/consumers", Some(OPERATOR));
        let st = all["consumers"][0]["delivery"]["status"].clone();
        if st["state"] == "dead" {
            return st;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "never dead: {all}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Campaign {
    dir: tempfile::TempDir,
    catalog: PathBuf,
}

impl Campaign {
    fn new() -> Campaign {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("rush.toml");
        std::fs::write(&catalog, CATALOG).unwrap();
        std::fs::write(dir.path().join("secret"), "whsec-test-0123456789\n").unwrap();
        Campaign { dir, catalog }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A webhook receiver in `mode` (`random`, `fail`, `ok`; the mode file may be
    /// rewritten later), and the server flags that deliver `webhook:kitchen` to it,
    /// then `extra`.
    fn webhook(&self, mode: &str, seed: &str, extra: &[&str]) -> (Helper, Vec<String>) {
        std::fs::write(self.path("mode"), mode).unwrap();
        let secret = self.path("secret");
        let receiver = Helper::start(
            "webhook_receiver.py",
            &[
                secret.to_str().unwrap(),
                self.path("received.jsonl").to_str().unwrap(),
                self.path("mode").to_str().unwrap(),
                seed,
            ],
        );
        let mut flags = vec![
            "--webhook".to_owned(),
            format!(
                "rush/webhook:kitchen=http://127.0.0.1:{}/hook",
                receiver.port
            ),
            "--webhook-secret-file".into(),
            secret.display().to_string(),
        ];
        flags.extend(extra.iter().map(|f| f.to_string()));
        (receiver, flags)
    }

    fn server(&self, flags: &[String]) -> Server {
        Server::launch(&format!("fixed:{T0}"), |cmd| {
            cmd.arg("--journal")
                .arg(format!("rush={}", self.path("rush.journal").display()))
                .arg("--catalog")
                .arg(format!("rush={}", self.catalog.display()))
                .args(flags);
        })
    }
}

#[test]
fn the_consumer_api_over_http() {
    let c = Campaign::new();
    let mut s = c.server(&[]);
    define(&s, "mailer", &["confirmed", "promoted"]);
    let r = |id: &str, confirm: bool| {
        s.post(
            "/v1/ledgers/rush/reserve",
            Some(CLIENT),
            &json!({"request_id": id, "customer": format!("{id}@example.org"), "confirm": confirm,
                    "lines": [{"offer": "linde-20", "quantity": 1}]})
            .to_string(),
        )
    };
    assert_eq!(r("a", true).1["status"], "confirmed");
    assert_eq!(r("b", false).1["status"], "held");
    let (status, d) = s.get("/v1/ledgers/rush/consumers/mailer/events", Some(CLIENT));
    assert_eq!(status, 200, "{d}");
    let notes = d["notifications"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{d}");
    assert_eq!(notes[0]["event"]["kind"]["type"], "confirmed");
    let ledger = d["ledger"].as_str().unwrap();
    assert_eq!(ledger.len(), 32);
    let seq = notes[0]["event"]["seq"].as_u64().unwrap();
    assert_eq!(notes[0]["key"], format!("{ledger}-{seq}"));
    assert_eq!(notes[0]["current"], true);
    // The client key reads and acks; misuse has its code and status.
    let ack = |seq: u64| {
        s.post(
            "/v1/ledgers/rush/consumers/mailer/ack",
            Some(CLIENT),
            &json!({ "seq": seq }).to_string(),
        )
    };
    assert_eq!(ack(d["through"].as_u64().unwrap()).0, 200);
    let (status, e) = ack(1_000_000);
    assert_eq!((status, e["code"].as_str()), (422, Some("out_of_range")));
    let (status, e) = s.get("/v1/ledgers/rush/consumers/nobody/events", Some(CLIENT));
    assert_eq!(
        (status, e["code"].as_str()),
        (404, Some("unknown_consumer"))
    );
    let (status, e) = s.post(
        "/v1/ledgers/rush/consumers",
        Some(OPERATOR),
        &json!({"consumer": "x", "events": ["bought"]}).to_string(),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("invalid_input")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().starts_with("events[0]"),
        "{e}"
    );
    let (status, _) = s.post(
        "/v1/ledgers/rush/consumers",
        Some(CLIENT),
        &json!({"consumer": "x", "events": ["held"]}).to_string(),
    );
    assert_eq!(status, 403, "defining a consumer is the operator's");
    let (status, e) = s.get(
        "/v1/ledgers/rush/consumers/mailer/events?limit=0",
        Some(CLIENT),
    );
    assert_eq!((status, e["code"].as_str()), (422, Some("out_of_range")));
    // The cursor is journaled: it survives a kill -9.
    let (_, before) = s.get("/v1/ledgers/rush/consumers", Some(OPERATOR));
    kill9(&mut s);
    let s = c.server(&[]);
    let (_, after) = s.get("/v1/ledgers/rush/consumers", Some(OPERATOR));
    assert_eq!(after, before);
    assert_eq!(after["consumers"][0]["behind"], 0);
}

#[test]
fn webhooks_reach_a_failing_receiver_once_each_through_kills() {
    let c = Campaign::new();
    let log = c.path("received.jsonl");
    let (_receiver, flags) = c.webhook(
        "random",
        "7",
        &[
            "--delivery-timeout-ms",
            "300",
            "--retry-base-ms",
            "10",
            "--retry-max-ms",
            "80",
            "--delivery-attempts",
            "1000",
        ],
    );
    let mut s = c.server(&flags);
    let types = ["held", "confirmed", "released", "expired", "promoted"];
    define(&s, "webhook:kitchen", &types);
    define(&s, "audit", &types);
    let mut rng = 0x9e37_79b9_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut held = Vec::new();
    for i in 0..160 {
        let n = next();
        let (status, out) = s.post(
            "/v1/ledgers/rush/reserve",
            Some(CLIENT),
            &json!({"request_id": format!("w{i}"), "customer": format!("c{}", i % 30),
                    "confirm": n % 3 == 0, "waitlist": true,
                    "lines": [{"offer": OFFERS[(n % 3) as usize], "quantity": 1}]})
            .to_string(),
        );
        assert_eq!(status, 200, "{out}");
        if out["status"] == "held" {
            held.push(out["reservation"].as_u64().unwrap());
        }
        if n % 4 == 0 {
            if let Some(r) = held.pop() {
                let what = if n % 8 == 0 { "confirm" } else { "release" };
                let body = json!({ "reservation": r }).to_string();
                s.post(&format!("/v1/ledgers/rush/{what}"), Some(CLIENT), &body);
            }
        }
        if i == 60 || i == 120 {
            // While deliveries are under way.
            kill9(&mut s);
            s = c.server(&flags);
        }
    }
    let kitchen = drained(&s, "webhook:kitchen", Duration::from_secs(120));
    assert_eq!(kitchen["delivery"]["kind"], "webhook");
    let want = expected(&s, "audit");
    assert!(want.len() > 100, "{} events to deliver", want.len());
    let from_journal = journal_events(&c.path("rush.journal"), &types);
    let audited: Vec<(u64, String)> = want
        .iter()
        .map(|n| {
            (
                n["event"]["seq"].as_u64().unwrap(),
                n["event"]["kind"]["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        audited, from_journal,
        "the consumer API gives the journal's events"
    );
    let got = lines(&log);
    assert!(
        got.iter().all(|g| g["result"] != "bad_signature"),
        "every signature verifies"
    );
    assert!(got.iter().all(|g| g["key"] == g["header_key"]));
    let failures = got.iter().filter(|g| g["result"] != "ok").count();
    assert!(failures > 20, "the receiver failed only {failures} times");
    // Acted on (answered or not): every wanted key, first seen in seq order.
    let acted: Vec<&Value> = got
        .iter()
        .filter(|g| g["result"] == "ok" || g["result"] == "ok_late")
        .collect();
    let mut first: Vec<u64> = Vec::new();
    let mut seen = BTreeSet::new();
    for g in &acted {
        if seen.insert(g["key"].as_str().unwrap().to_owned()) {
            first.push(g["seq"].as_u64().unwrap());
        }
    }
    let want_seqs: Vec<u64> = want
        .iter()
        .map(|n| n["event"]["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(first, want_seqs, "each event acted on, in seq order");
    let want_keys: BTreeSet<&str> = want.iter().map(|n| n["key"].as_str().unwrap()).collect();
    assert_eq!(
        seen.iter().map(String::as_str).collect::<BTreeSet<_>>(),
        want_keys
    );
    // Each attempt of the consumer is in seq order, except that a restart or a
    // retry goes back to the first event not acked (never past a missing one).
    let attempted: Vec<u64> = got.iter().map(|g| g["seq"].as_u64().unwrap()).collect();
    let mut done = BTreeSet::new();
    for g in &got {
        let seq = g["seq"].as_u64().unwrap();
        let earlier_missing = want_seqs.iter().any(|&w| w < seq && !done.contains(&w));
        assert!(
            !earlier_missing,
            "seq {seq} tried before an earlier one was acted on: {attempted:?}"
        );
        if g["result"] == "ok" || g["result"] == "ok_late" {
            done.insert(seq);
        }
    }
    println!(
        "{} events, {} requests ({} failed), {} acted on twice",
        want.len(),
        got.len(),
        failures,
        acted.len() - seen.len()
    );
}

#[test]
fn a_dead_consumer_waits_for_the_operator() {
    let c = Campaign::new();
    let log = c.path("received.jsonl");
    let mode = c.path("mode");
    let (_receiver, flags) = c.webhook(
        "fail",
        "1",
        &["--retry-base-ms", "5", "--delivery-attempts", "4"],
    );
    let s = c.server(&flags);
    define(&s, "webhook:kitchen", &["confirmed"]);
    for id in ["d1", "d2"] {
        s.post(
            "/v1/ledgers/rush/reserve",
            Some(CLIENT),
            &json!({"request_id": id, "customer": "c", "confirm": true,
                    "lines": [{"offer": "mario-20", "quantity": 1}]})
            .to_string(),
        );
    }
    let status = dead(&s);
    assert_eq!(status["failures"], 4);
    assert!(
        status["last_error"].as_str().unwrap().contains("500"),
        "{status}"
    );
    let first = status["seq"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let tries = lines(&log);
    assert_eq!(
        tries.len(),
        4,
        "exactly N attempts, then it waits: {tries:?}"
    );
    assert!(
        tries.iter().all(|t| t["seq"] == first),
        "the later event waits behind it"
    );
    let (_, metrics) = s.get_text("/metrics", OPERATOR);
    assert!(
        metrics
            .contains("kontingent_consumer_dead{ledger=\"rush\",consumer=\"webhook:kitchen\"} 1"),
        "{metrics}"
    );
    // Its cursor is the server's: an ack from outside is refused.
    let (status, e) = s.post(
        "/v1/ledgers/rush/consumers/webhook:kitchen/ack",
        Some(OPERATOR),
        &json!({ "seq": first }).to_string(),
    );
    assert_eq!(
        (status, e["code"].as_str()),
        (422, Some("invalid_input")),
        "{e}"
    );
    // The receiver is fixed; the operator retries; both events arrive, in order.
    std::fs::write(&mode, "ok").unwrap();
    let (status, body) = s.post(
        "/v1/ledgers/rush/consumers/webhook:kitchen/retry",
        Some(OPERATOR),
        "",
    );
    assert_eq!(
        (status, body["was"].as_str()),
        (200, Some("dead")),
        "{body}"
    );
    drained(&s, "webhook:kitchen", Duration::from_secs(30));
    // Caught up, it goes idle once it looks again and finds nothing (after its
    // gathering pause), not at the very ack that caught it up.
    let c = idle(&s, "webhook:kitchen", Duration::from_secs(10));
    assert_eq!(c["delivery"]["status"]["state"], "idle", "{c}");
    let ok: Vec<u64> = lines(&log)
        .iter()
        .filter(|t| t["result"] == "ok")
        .map(|t| t["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(ok.len(), 2);
    assert_eq!(ok[0], first);
    assert!(ok[1] > ok[0]);
    let (status, _) = s.post(
        "/v1/ledgers/rush/consumers/nobody/retry",
        Some(OPERATOR),
        "",
    );
    assert_eq!(status, 404);
}

const TEMPLATE: &str = r#"
[confirmed]
subject = "Your voucher {lines} is confirmed"
body = """
Hello {customer},

your voucher {lines} is confirmed (reservation {reservation}).
Reference: {key}
"""

[promoted]
subject = "A voucher is waiting for you"
body = "Confirm reservation {reservation} before {expires_at}."
"#;

#[test]
fn exactly_one_confirmation_email_per_voucher_through_three_kills() {
    let c = Campaign::new();
    let mails = c.path("mails.jsonl");
    let sink = Helper::start("smtp_sink.py", &[mails.to_str().unwrap(), "40"]);
    let template = c.path("mail.toml");
    std::fs::write(&template, TEMPLATE).unwrap();
    let flags: Vec<String> = vec![
        "--mailer".into(),
        "rush/mailer".into(),
        "--smtp".into(),
        format!("127.0.0.1:{}", sink.port),
        "--mail-from".into(),
        "Emstek vouchers <vouchers@example.org>".into(),
        "--mail-template".into(),
        template.display().to_string(),
        "--retry-base-ms".into(),
        "20".into(),
    ];
    let mut s = c.server(&flags);
    define(&s, "mailer", &["confirmed", "promoted"]);
    // 500 requests for 50 vouchers: a double click for every fifth, a hold that
    // is released for every seventh, and a pause after 250 with 40 requests
    // refused before the resume. Requests in flight at a kill are retried with
    // their request id.
    let mut told: BTreeMap<String, Value> = BTreeMap::new();
    let mut kills = 0;
    let mut paused = 0;
    let mut mailed_at_kills = Vec::new();
    for i in 0..500u64 {
        let id = format!("v{i}");
        let customer = format!("guest{i}@example.org");
        let hold_only = i % 7 == 3;
        let body = json!({"request_id": id, "customer": customer, "confirm": !hold_only,
                          "lines": [{"offer": OFFERS[(i % 3) as usize], "quantity": 1}]})
        .to_string();
        let clicks = if i % 5 == 0 { 2 } else { 1 };
        for _ in 0..clicks {
            let (status, out) = s.post("/v1/ledgers/rush/reserve", Some(CLIENT), &body);
            assert_eq!(status, 200, "{out}");
            if let Some(first) = told.get(&id) {
                assert_eq!(first, &out, "a double click answers the first outcome");
            }
            told.insert(id.clone(), out);
        }
        if hold_only && told[&id]["status"] == "held" {
            let r = told[&id]["reservation"].clone();
            let (status, _) = s.post(
                "/v1/ledgers/rush/release",
                Some(CLIENT),
                &json!({ "reservation": r }).to_string(),
            );
            assert_eq!(status, 200);
        }
        if i == 250 {
            let (status, _) = s.post("/v1/ledgers/rush/pause", Some(OPERATOR), "{}");
            assert_eq!(status, 200);
        }
        if (251..291).contains(&i) {
            assert_eq!(told[&id]["reason"], "paused", "{}", told[&id]);
            paused += 1;
        }
        if i == 290 {
            s.post("/v1/ledgers/rush/resume", Some(OPERATOR), "{}");
        }
        // Three kills while the mailer works through the confirmations.
        if [30, 70, 400].contains(&i) {
            std::thread::sleep(Duration::from_millis(150));
            kill9(&mut s);
            kills += 1;
            mailed_at_kills.push(lines(&mails).len());
            s = c.server(&flags);
            // The request of the moment is retried with its id: same answer.
            let (_, again) = s.post("/v1/ledgers/rush/reserve", Some(CLIENT), &body);
            assert_eq!(again, told[&id]);
        }
    }
    assert_eq!((kills, paused), (3, 40));
    assert!(
        mailed_at_kills.iter().any(|&n| n > 0 && n < 50),
        "a kill must fall in the middle of the mailing: {mailed_at_kills:?}"
    );
    let mailer = drained(&s, "mailer", Duration::from_secs(120));
    assert_eq!(mailer["delivery"]["status"]["failed"], 0, "{mailer}");
    let confirmed: BTreeMap<String, u64> = told
        .iter()
        .filter(|(_, o)| o["status"] == "confirmed")
        .map(|(id, o)| (id.clone(), o["reservation"].as_u64().unwrap()))
        .collect();
    assert_eq!(confirmed.len(), 50, "the rush sells every voucher");
    let got = lines(&mails);
    let by_id: BTreeMap<&str, &Value> = got
        .iter()
        .map(|m| (m["message_id"].as_str().unwrap(), m))
        .collect();
    let want: BTreeMap<String, String> = confirmed
        .iter()
        .map(|(id, r)| {
            let n: u64 = id[1..].parse().unwrap();
            (r.to_string(), format!("guest{n}@example.org"))
        })
        .collect();
    assert_eq!(by_id.len(), 50, "exactly 50 distinct confirmation e-mails");
    let (_, d) = s.get("/v1/ledgers/rush/consumers/mailer/events", Some(CLIENT));
    let ledger = d["ledger"].as_str().unwrap().to_owned();
    for (message_id, m) in &by_id {
        let body = m["body"].as_str().unwrap();
        let reservation = body
            .split("(reservation ")
            .nth(1)
            .and_then(|r| r.split(')').next())
            .unwrap();
        let to = &want[reservation];
        assert_eq!(m["to"], json!([to]), "{m}");
        assert!(message_id.ends_with("@kontingent>"), "{message_id}");
        assert!(
            message_id.starts_with(&format!("<{ledger}-")),
            "{message_id}"
        );
        assert!(m["subject"].as_str().unwrap().contains("is confirmed"));
    }
    let duplicates = got.len() - by_id.len();
    println!(
        "{} e-mails, 50 distinct, {duplicates} sent again with the same Message-ID after {kills} kills (mails sent at each kill: {mailed_at_kills:?})",
        got.len()
    );
}

#[test]
fn an_http_consumer_and_the_server_killed_alone_and_together() {
    let c = Campaign::new();
    let effects = c.path("effects.txt");
    let base = c.path("base");
    let mut s = c.server(&[]);
    std::fs::write(&base, &s.base).unwrap();
    let types = ["confirmed", "promoted", "released"];
    define(&s, "shop", &types);
    define(&s, "audit", &types);
    let spawn = || {
        Command::new("python3")
            .arg(helper("http_consumer.py"))
            .args([
                base.to_str().unwrap(),
                CLIENT,
                "shop",
                effects.to_str().unwrap(),
            ])
            .spawn()
            .expect("python3 runs the consumer")
    };
    let mut consumer = spawn();
    let kill_consumer = |c: &mut Child| {
        c.kill().unwrap();
        c.wait().unwrap();
    };
    let mut held = Vec::new();
    let (mut server_kills, mut consumer_kills) = (0, 0);
    for i in 0..240u64 {
        let (status, out) = s.post(
            "/v1/ledgers/rush/reserve",
            Some(CLIENT),
            &json!({"request_id": format!("h{i}"), "customer": format!("c{}", i % 25),
                    "confirm": i % 4 == 0, "waitlist": true,
                    "lines": [{"offer": OFFERS[(i % 3) as usize], "quantity": 1}]})
            .to_string(),
        );
        assert_eq!(status, 200, "{out}");
        if out["status"] == "held" {
            held.push(out["reservation"].as_u64().unwrap());
        }
        if i % 3 == 0 {
            if let Some(r) = held.pop() {
                let what = if i % 2 == 0 { "confirm" } else { "release" };
                let body = json!({ "reservation": r }).to_string();
                s.post(&format!("/v1/ledgers/rush/{what}"), Some(CLIENT), &body);
            }
        }
        // The consumer alone, the server alone, and both at once.
        let (kill_s, kill_c) = match i % 60 {
            15 => (false, true),
            35 => (true, false),
            55 => (true, true),
            _ => (false, false),
        };
        if kill_s || kill_c {
            std::thread::sleep(Duration::from_millis(60));
        }
        if kill_c {
            kill_consumer(&mut consumer);
            consumer_kills += 1;
        }
        if kill_s {
            kill9(&mut s);
            server_kills += 1;
            s = c.server(&[]);
            std::fs::write(&base, &s.base).unwrap();
        }
        if kill_c {
            consumer = spawn();
        }
    }
    drained(&s, "shop", Duration::from_secs(60));
    kill_consumer(&mut consumer);
    let want = expected(&s, "audit");
    let from_journal: Vec<u64> = journal_events(&c.path("rush.journal"), &types)
        .into_iter()
        .map(|(seq, _)| seq)
        .collect();
    let got: Vec<(String, u64)> = std::fs::read_to_string(&effects)
        .unwrap()
        .lines()
        .map(|l| {
            let mut f = l.split(' ');
            (
                f.next().unwrap().to_owned(),
                f.next().unwrap().parse().unwrap(),
            )
        })
        .collect();
    let mut first = Vec::new();
    let mut seen = BTreeSet::new();
    for (key, seq) in &got {
        if seen.insert(key.clone()) {
            first.push(*seq);
        }
    }
    let want_seqs: Vec<u64> = want
        .iter()
        .map(|n| n["event"]["seq"].as_u64().unwrap())
        .collect();
    assert!(want_seqs.len() > 60, "{} events", want_seqs.len());
    assert_eq!(
        want_seqs, from_journal,
        "the consumer API gives the journal's events"
    );
    assert_eq!(
        first, want_seqs,
        "every named event, first in seq order, none other"
    );
    println!(
        "{} events, {} effects ({} again) after {server_kills} server and {consumer_kills} consumer kills",
        want.len(),
        got.len(),
        got.len() - seen.len()
    );
}

#[test]
fn an_operator_skips_a_poison_event_by_moving_the_cursor() {
    let c = Campaign::new();
    let log = c.path("received.jsonl");
    let mode = c.path("mode");
    let (_receiver, flags) = c.webhook(
        "fail",
        "2",
        &["--retry-base-ms", "5", "--delivery-attempts", "2"],
    );
    let s = c.server(&flags);
    define(&s, "webhook:kitchen", &["confirmed"]);
    for id in ["p1", "p2"] {
        s.post(
            "/v1/ledgers/rush/reserve",
            Some(CLIENT),
            &json!({"request_id": id, "customer": "c", "confirm": true,
                    "lines": [{"offer": "linde-20", "quantity": 1}]})
            .to_string(),
        );
    }
    let poison = dead(&s)["seq"].as_u64().unwrap();
    // The operator moves the cursor past the poison event, then retries: the
    // deliverer does not put its own cursor back, and only the later event goes.
    let (status, _) = s.post(
        "/v1/ledgers/rush/consumers",
        Some(OPERATOR),
        &json!({"consumer": "webhook:kitchen", "events": ["confirmed"], "after": poison})
            .to_string(),
    );
    assert_eq!(status, 200);
    std::fs::write(&mode, "ok").unwrap();
    s.post(
        "/v1/ledgers/rush/consumers/webhook:kitchen/retry",
        Some(OPERATOR),
        "",
    );
    drained(&s, "webhook:kitchen", Duration::from_secs(30));
    let ok: Vec<u64> = lines(&log)
        .iter()
        .filter(|t| t["result"] == "ok")
        .map(|t| t["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(ok.len(), 1, "{ok:?}");
    assert!(
        ok[0] > poison,
        "the skipped event was not delivered: {ok:?}"
    );
}
