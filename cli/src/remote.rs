//! The operator's verbs against a running `kontingent serve`: each is one HTTP
//! call with the operator key; the answer (or the error, with its code) is printed.

use std::process::ExitCode;

/// Which server and ledger a verb is for.
#[derive(clap::Args, Debug)]
pub struct Target {
    /// The server, e.g. http://127.0.0.1:7070.
    #[arg(long)]
    server: String,
    /// The ledger's name on it.
    #[arg(long)]
    ledger: String,
    /// The operator key (or `KONTINGENT_OPERATOR_KEY`).
    #[arg(long, env = "KONTINGENT_OPERATOR_KEY", hide_env_values = true)]
    key: String,
}

/// POST `body` to the ledger's `verb`; exit 0 with the outcome, 1 with the error.
pub fn verb(t: &Target, verb: &str, body: serde_json::Value) -> ExitCode {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!(
        "{}/v1/ledgers/{}/{verb}",
        t.server.trim_end_matches('/'),
        t.ledger
    );
    let sent = agent
        .post(&url)
        .header("Authorization", format!("Bearer {}", t.key))
        .send_json(&body);
    match sent {
        Ok(mut resp) => {
            let ok = resp.status().is_success();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            if ok {
                println!("{text}");
                ExitCode::SUCCESS
            } else {
                eprintln!("{verb}: {} {text}", resp.status());
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("{verb}: {url}: {e}");
            ExitCode::from(1)
        }
    }
}
