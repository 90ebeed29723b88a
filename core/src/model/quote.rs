//! Bounded quoting of input in messages: an error about a 5 MB name is not 5 MB.
//!
//! Every message that shows a name, id or value the caller gave goes through
//! [`quote`] (or, for a parser's message that already quotes it, [`bound`]), so no
//! message quotes more than [`QUOTE_CHARS_MAX`] characters of any input.

use crate::limits::{MESSAGE_LEN_MAX, QUOTE_CHARS_MAX};
use std::fmt;

/// `s` quoted for a message: see [`quote`].
pub struct Quoted<'a>(&'a str);

/// `s` as a message shows it: `"name"` (escaped like Rust's `{:?}`) when it has at
/// most [`QUOTE_CHARS_MAX`] characters, else `"<first 64 characters>…" (N bytes)`.
pub fn quote(s: &str) -> Quoted<'_> {
    Quoted(s)
}

/// The byte index after the first `n` characters of `s` (`None`: `s` is no longer).
fn cut(s: &str, n: usize) -> Option<usize> {
    s.char_indices().nth(n).map(|(i, _)| i)
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match cut(self.0, QUOTE_CHARS_MAX) {
            None => write!(f, "{:?}", self.0),
            Some(i) => {
                let head = format!("{:?}", &self.0[..i]);
                let open = &head[..head.len() - 1];
                write!(f, "{open}…\" ({} bytes)", self.0.len())
            }
        }
    }
}

/// A path or name shown without quotes, each `.`-separated part cut to
/// [`QUOTE_CHARS_MAX`] characters (`…` marks a cut).
pub fn bound_path(path: &str) -> String {
    if cut(path, QUOTE_CHARS_MAX).is_none() {
        return path.to_owned();
    }
    path.split('.')
        .map(|part| match cut(part, QUOTE_CHARS_MAX) {
            None => part.to_owned(),
            Some(i) => format!("{}…", &part[..i]),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A message from elsewhere (a parser's) made bounded: every span quoted in
/// `"…"` or `` `…` `` longer than [`QUOTE_CHARS_MAX`] characters is cut to that
/// with `…` and its length, and the whole is cut at [`MESSAGE_LEN_MAX`] bytes.
pub fn bound(message: &str) -> String {
    let mut out = String::new();
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let q = rest.as_bytes()[open] as char;
        out.push_str(&rest[..=open]);
        let body = &rest[open + 1..];
        // The closing quote: for `"`, one not escaped by a backslash.
        let mut close = None;
        let mut escaped = false;
        for (i, c) in body.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' && q == '"' {
                escaped = true;
            } else if c == q {
                close = Some(i);
                break;
            }
        }
        let end = close.unwrap_or(body.len());
        let span = &body[..end];
        match cut(span, QUOTE_CHARS_MAX) {
            None => out.push_str(span),
            Some(i) => {
                out.push_str(&span[..i]);
                out.push('…');
            }
        }
        match close {
            Some(_) => {
                out.push(q);
                if cut(span, QUOTE_CHARS_MAX).is_some() {
                    out.push_str(&format!(" ({} bytes)", span.len()));
                }
                rest = &body[end + q.len_utf8()..];
            }
            None => rest = "",
        }
        if out.len() > MESSAGE_LEN_MAX {
            break;
        }
    }
    out.push_str(rest);
    if out.len() > MESSAGE_LEN_MAX {
        let mut i = MESSAGE_LEN_MAX;
        while !out.is_char_boundary(i) {
            i -= 1;
        }
        let total = out.len();
        out.truncate(i);
        out.push_str(&format!("… ({total} bytes)"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_quoted_whole_and_long_input_is_cut() {
        assert_eq!(quote("zur-post").to_string(), r#""zur-post""#);
        let long = "x".repeat(1 << 20);
        let q = quote(&long).to_string();
        assert_eq!(q, format!("\"{}…\" (1048576 bytes)", "x".repeat(64)));
        // Multi-byte characters are cut at a character boundary.
        let q = quote(&"ä".repeat(100)).to_string();
        assert!(q.starts_with(&format!("\"{}…\"", "ä".repeat(64))), "{q}");
    }

    #[test]
    fn parser_messages_are_bounded() {
        let long = "y".repeat(5 << 20);
        let m = bound(&format!("invalid type: string \"{long}\", expected u64"));
        assert_eq!(
            m,
            format!(
                "invalid type: string \"{}…\" (5242880 bytes), expected u64",
                "y".repeat(64)
            )
        );
        let m = bound(&format!("unknown field `{long}`, expected `name`"));
        assert!(m.len() < 200 && m.ends_with(", expected `name`"), "{m}");
        assert_eq!(
            bound("short `a` and \"b\\\"c\""),
            "short `a` and \"b\\\"c\""
        );
        let m = bound(&"z ".repeat(1 << 20));
        assert!(m.len() <= MESSAGE_LEN_MAX + 32, "{}", m.len());
        assert_eq!(
            bound_path("offers[0].draws.budget"),
            "offers[0].draws.budget"
        );
        let p = bound_path(&format!("offers[0].draws.{long}"));
        assert_eq!(p, format!("offers[0].draws.{}…", "y".repeat(64)));
    }
}
