//! Servers as the verification harness's ledger: each action one HTTP call, to
//! the servers in turn (several servers on one PostgreSQL log are one ledger).

use super::{Server, CLIENT};
use kontingent::{Action, Outcome};
use kontingent_verify::harness::{Answer, Target, Workload};
use kontingent_verify::quota::offer_for;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Http<'a> {
    servers: Vec<&'a Server>,
    next: AtomicUsize,
}

impl<'a> Http<'a> {
    pub fn new(servers: Vec<&'a Server>) -> Http<'a> {
        Http {
            servers,
            next: AtomicUsize::new(0),
        }
    }
}

impl Target for Http<'_> {
    fn submit(&self, action: Action) -> Answer {
        let (path, body) = match action {
            Action::Reserve(r) => ("reserve", serde_json::to_value(&r).unwrap()),
            Action::Confirm { reservation } => ("confirm", json!({ "reservation": reservation.0 })),
            Action::Release { reservation } => ("release", json!({ "reservation": reservation.0 })),
            other => panic!("the harness sent {other:?}"),
        };
        let server = self.servers[self.next.fetch_add(1, Ordering::Relaxed) % self.servers.len()];
        let (status, answer) = server.post(
            &format!("/v1/ledgers/emstek/{path}"),
            Some(CLIENT),
            &body.to_string(),
        );
        match status {
            200 => Answer::Outcome(serde_json::from_value::<Outcome>(answer).expect("an outcome")),
            400..=499 => Answer::Rejected(answer["code"].as_str().unwrap_or("?").to_owned()),
            _ => Answer::Unknown,
        }
    }
}

/// The workload's pools and offers as a JSON catalog.
pub fn catalog(w: &Workload) -> Value {
    json!({
        "pools": w.pools.iter().map(|(p, c)| json!({"name": p, "capacity": c})).collect::<Vec<_>>(),
        "offers": w.pools.iter().map(|(p, _)| json!({"name": offer_for(p), "draws": {p.as_str(): 1}})).collect::<Vec<_>>(),
    })
}

/// 64 clients at once, on pools large enough to keep them contending.
pub fn many_clients(seed: u64) -> Workload {
    let mut w = Workload::from_seed(seed);
    w.clients = 64;
    w.ops_per_client = 4;
    for (i, (_, capacity)) in w.pools.iter_mut().enumerate() {
        *capacity = 20 + 10 * i as u64;
    }
    w
}
