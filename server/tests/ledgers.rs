//! Several ledgers (campaigns) on one server, one journal each, named in the URL:
//! each keeps its own units, pause and journal, and a restart gives each its own.

mod common;

use common::{Server, CLIENT, OPERATOR};
use serde_json::json;

fn catalog(dir: &std::path::Path, name: &str, capacity: u64) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.json"));
    let c = json!({"pools": [{"name": "hall", "capacity": capacity}],
                   "offers": [{"name": "seat", "draws": {"hall": 1}}]});
    std::fs::write(&path, c.to_string()).unwrap();
    path
}

fn start(dir: &std::path::Path) -> Server {
    Server::launch("fixed:1000", |c| {
        for (name, capacity) in [("north", 1), ("south", 2)] {
            c.arg("--journal")
                .arg(format!(
                    "{name}={}",
                    dir.join(format!("{name}.journal")).display()
                ))
                .arg("--catalog")
                .arg(format!("{name}={}", catalog(dir, name, capacity).display()));
        }
    })
}

fn reserve(s: &Server, ledger: &str, id: &str) -> serde_json::Value {
    let body =
        json!({"request_id": id, "customer": id, "lines": [{"offer": "seat", "quantity": 1}]});
    let (status, o) = s.post(
        &format!("/v1/ledgers/{ledger}/reserve"),
        Some(CLIENT),
        &body.to_string(),
    );
    assert_eq!(status, 200, "{o}");
    o
}

#[test]
fn two_ledgers_on_one_server_keep_their_own_units_pause_and_journal() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path());
    assert_eq!(reserve(&s, "north", "a")["status"], "held");
    assert_eq!(
        reserve(&s, "north", "b")["reason"],
        "sold_out",
        "north has one seat"
    );
    assert_eq!(
        reserve(&s, "south", "b")["status"],
        "held",
        "south is another campaign"
    );
    assert_eq!(s.post("/v1/ledgers/south/pause", Some(OPERATOR), "").0, 200);
    assert_eq!(reserve(&s, "south", "c")["reason"], "paused");
    let (_, north) = s.get("/v1/ledgers/north/availability", None);
    assert_eq!(north["paused"], false, "{north}");
    assert_eq!(
        s.get("/v1/ledgers", Some(OPERATOR)).1,
        json!({"ledgers": ["north", "south"]})
    );
    assert_eq!(s.get("/v1/ledgers/west/availability", None).0, 404);
    s.terminate();
    let mut s = s;
    assert_eq!(s.child.wait().unwrap().code(), Some(0));
    // Each journal holds its own ledger: the restart answers the first outcomes.
    let again = start(dir.path());
    assert_eq!(reserve(&again, "north", "a")["status"], "held");
    assert_eq!(reserve(&again, "south", "b")["status"], "held");
    assert_eq!(reserve(&again, "south", "d")["reason"], "paused");
    assert_eq!(reserve(&again, "north", "d")["reason"], "sold_out");
}
