//! What the stories' binaries share: their arguments and where their catalog comes from.

use kontingent::Catalog;

/// `[--seed N] [--catalog FILE]`.
#[derive(Debug, PartialEq, Eq)]
pub struct Args {
    pub seed: u64,
    pub catalog: Option<String>,
}

/// Parse a story binary's arguments; `Err` names the one it could not take.
pub fn parse(default_seed: u64, args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args {
        seed: default_seed,
        catalog: None,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--seed", Some(v)) => {
                out.seed = v
                    .parse()
                    .map_err(|_| format!("--seed: not a number: {v}"))?
            }
            ("--catalog", Some(v)) => out.catalog = Some(v),
            _ => return Err(format!("unknown argument: {arg}")),
        }
    }
    Ok(out)
}

/// The catalog to run: the file asked for, or the story's own.
pub fn catalog(
    path: Option<&str>,
    own: impl FnOnce() -> Result<Catalog, String>,
) -> Result<Catalog, String> {
    match path {
        Some(p) => kontingent::read_catalog(p).map_err(|e| e.to_string()),
        None => own(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let a = |v: &[&str]| parse(7, v.iter().map(|s| s.to_string()));
        assert_eq!(
            a(&[]),
            Ok(Args {
                seed: 7,
                catalog: None
            })
        );
        assert_eq!(
            a(&["--seed", "9", "--catalog", "c.toml"]),
            Ok(Args {
                seed: 9,
                catalog: Some("c.toml".into())
            })
        );
        assert!(a(&["--seed", "x"]).unwrap_err().contains("not a number"));
        assert!(a(&["--frob"]).unwrap_err().contains("unknown argument"));
        assert!(a(&["--seed"]).is_err());
    }
}
