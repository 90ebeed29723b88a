//! `kontingent-server`: the same as `kontingent serve` (the tests start this one).

use clap::Parser;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "kontingent-server", about = "kontingent over HTTP")]
struct Cli {
    #[command(flatten)]
    serve: kontingent_server::ServeArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    kontingent_server::log::init();
    let result = cli.serve.config().and_then(|c| {
        kontingent_server::serve(c, |addr| {
            // The tests and scripts read the address (the port may be chosen by the system).
            println!("listening on http://{addr}");
        })
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kontingent serve: {e}");
            ExitCode::from(2)
        }
    }
}
