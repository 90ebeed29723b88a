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

/// What a verb sends.
pub enum Body {
    /// A JSON object.
    Json(serde_json::Value),
    /// A catalog file's text, TOML or (for `json`) JSON.
    Catalog { text: String, json: bool },
    /// Nothing: a GET.
    Get,
}

/// Call the ledger's `path` (`pause`, `reservations.csv?pool=…`) with the operator
/// key; exit 0 printing the answer, 1 printing the error with its code.
pub fn verb(t: &Target, path: &str, body: Body) -> ExitCode {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!(
        "{}/v1/ledgers/{}/{path}",
        t.server.trim_end_matches('/'),
        t.ledger
    );
    let key = format!("Bearer {}", t.key);
    let sent = match body {
        Body::Json(v) => agent.post(&url).header("Authorization", &key).send_json(&v),
        Body::Catalog { text, json } => agent
            .post(&url)
            .header("Authorization", &key)
            .header(
                "Content-Type",
                if json {
                    "application/json"
                } else {
                    "application/toml"
                },
            )
            .send(text),
        Body::Get => agent.get(&url).header("Authorization", &key).call(),
    };
    match sent {
        Ok(mut resp) => {
            let ok = resp.status().is_success();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            if ok {
                print!("{text}");
                if !text.ends_with('\n') {
                    println!();
                }
                ExitCode::SUCCESS
            } else {
                eprintln!("{path}: {} {text}", resp.status());
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("{path}: {url}: {e}");
            ExitCode::from(1)
        }
    }
}
