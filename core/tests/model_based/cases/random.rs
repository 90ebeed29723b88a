//! The property: random runs of either shape agree between ledger and model.

use crate::generators::catalog::build_catalog;
use crate::generators::commands::{op, time, to_command, Op, Time};
use crate::generators::{setup, shape, Shape, BASE};
use crate::harness::Harness;
use kontingent_core::{Action, Command};
use proptest::prelude::*;
use proptest::test_runner::Config;

fn run_case(shape: &Shape, ops: &[(Time, Op)]) -> Result<(), String> {
    let mut h = Harness::new();
    match shape {
        Shape::Raw(s) => {
            for cmd in setup(s) {
                h.step(cmd)?;
            }
        }
        Shape::Cat(g) => {
            let (valid, first) = build_catalog(g);
            // A change starts from the valid catalog even if the first load fails.
            h.current = Some(valid);
            h.step(Command::new(BASE, Action::LoadCatalog(Box::new(first))))?;
        }
    }
    for (t, op) in ops {
        let cmd = to_command(&h, t, op);
        h.step(cmd)?;
    }
    if std::env::var_os("MODEL_READINGS").is_some() && !h.chosen.is_empty() {
        for (a, (alternative, step)) in &h.chosen {
            eprintln!(
                "reading {a:?}: ledger takes the {} (step {step})",
                if *alternative {
                    "alternative"
                } else {
                    "model's"
                }
            );
        }
    }
    h.check_replay()
}

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        // Minimal failures are reported by the test output; nothing is written
        // next to the sources.
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ledger_agrees_with_model(
        shape in shape(),
        ops in prop::collection::vec((time(), op()), 1..=60),
    ) {
        if let Err(m) = run_case(&shape, &ops) {
            return Err(TestCaseError::fail(m));
        }
    }
}
