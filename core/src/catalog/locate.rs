//! Where a field path (`offers[3].draws.budget`) stands in the file text.
//!
//! TOML uses the toml crate's spanned document. JSON uses a small scanner here:
//! serde_json keeps no positions once a value is parsed, and pulling in a second
//! JSON parser for positions alone would cost more than these lines.

use super::Format;
use toml::de::{DeTable, DeValue};

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { break };
            if let Ok(i) = r[..end].parse() {
                out.push(Segment::Index(i));
            }
            rest = &r[end + 1..];
        }
    }
    out
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The line and column of the deepest part of `path` the file has.
pub(super) fn find(text: &str, format: Format, path: &str) -> Option<(usize, usize)> {
    let segs = segments(path);
    let offset = match format {
        Format::Toml => find_toml(text, &segs),
        Format::Json => find_json(text, &segs),
    }?;
    Some(line_col(text, offset))
}

fn find_toml(text: &str, segs: &[Segment<'_>]) -> Option<usize> {
    let doc = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = doc.get_ref();
    let mut value: Option<&DeValue<'_>> = None;
    let mut best = None;
    for seg in segs {
        match (seg, value) {
            (Segment::Key(k), None | Some(DeValue::Table(_))) => {
                if let Some(DeValue::Table(t)) = value {
                    table = t;
                }
                let (key, v) = table.iter().find(|(key, _)| key.get_ref() == k)?;
                // Point at the key: "draws.budegt" is about the key the user typed.
                best = Some(key.span().start);
                value = Some(v.get_ref());
                if let DeValue::Table(_) = v.get_ref() {
                    // Tables are descended into on the next key.
                }
            }
            (Segment::Index(i), Some(DeValue::Array(a))) => {
                let item = a.get(*i)?;
                best = Some(item.span().start);
                value = Some(item.get_ref());
            }
            _ => break,
        }
    }
    best
}

/// Where each key and array item of a (possibly partial) TOML document starts
/// and ends: `(start, end, path, key)`.
fn toml_entries(table: &DeTable<'_>, prefix: &str, out: &mut Vec<(usize, usize, String, String)>) {
    for (key, value) in table.iter() {
        let path = match prefix.is_empty() {
            true => key.get_ref().to_string(),
            false => format!("{prefix}.{}", key.get_ref()),
        };
        let end = value.span().end.max(key.span().end);
        out.push((
            key.span().start,
            end,
            path.clone(),
            key.get_ref().to_string(),
        ));
        toml_value_entries(value, &path, out);
    }
}

fn toml_value_entries(
    value: &toml::Spanned<DeValue<'_>>,
    path: &str,
    out: &mut Vec<(usize, usize, String, String)>,
) {
    match value.get_ref() {
        DeValue::Table(t) => toml_entries(t, path, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.push((item.span().start, item.span().end, p.clone(), String::new()));
                toml_value_entries(item, &p, out);
            }
        }
        _ => {}
    }
}

/// The field path a TOML parse error at `span` is about: for a duplicate key,
/// the key it repeats (the nearest earlier key of that name); otherwise the
/// deepest key whose text (key and value) holds the position. From what the parser
/// could read of the document before and around the error.
pub(super) fn toml_path_at(text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let (doc, _) = DeTable::parse_recoverable(text);
    let mut entries = Vec::new();
    toml_entries(doc.get_ref(), "", &mut entries);
    let at = span.start;
    let key = text
        .get(span)
        .map(|k| k.trim().trim_matches(|c| c == '"' || c == '\''))
        .unwrap_or_default();
    let same_key = entries
        .iter()
        .filter(|(start, _, _, k)| !key.is_empty() && k == key && *start < at)
        .max_by_key(|(start, ..)| *start);
    let holding = || {
        entries
            .iter()
            .filter(|(start, end, _, k)| !k.is_empty() && *start <= at && at <= *end)
            .max_by_key(|(start, _, path, _)| (*start, path.len()))
    };
    same_key
        .or_else(holding)
        .map(|(_, _, path, _)| path.clone())
}

/// A minimal JSON scanner that records where each key and array item starts.
struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn string(&mut self) -> Option<String> {
        // At the opening quote.
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        while self.i < self.b.len() {
            let c = self.b[self.i];
            self.i += 1;
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                let raw = std::str::from_utf8(&self.b[start..self.i - 1]).ok()?;
                return serde_json::from_str(&format!("\"{raw}\"")).ok();
            }
        }
        None
    }

    /// Skip one value of any kind.
    fn skip(&mut self) -> Option<()> {
        self.ws();
        match *self.b.get(self.i)? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                while self.i < self.b.len() {
                    match self.b[self.i] {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                None
            }
            _ => {
                while self.i < self.b.len() && !b",}] \t\r\n".contains(&self.b[self.i]) {
                    self.i += 1;
                }
                Some(())
            }
        }
    }

    /// In an object (at `{`), move to the value of `key`; returns where the key starts.
    fn member(&mut self, key: &str) -> Option<usize> {
        self.ws();
        if self.b.get(self.i) != Some(&b'{') {
            return None;
        }
        self.i += 1;
        loop {
            self.ws();
            if self.b.get(self.i)? != &b'"' {
                return None;
            }
            let at = self.i;
            let k = self.string()?;
            self.ws();
            if self.b.get(self.i)? != &b':' {
                return None;
            }
            self.i += 1;
            self.ws();
            if k == key {
                return Some(at);
            }
            self.skip()?;
            self.ws();
            match self.b.get(self.i)? {
                b',' => self.i += 1,
                _ => return None,
            }
        }
    }

    /// In an array (at `[`), move to item `n`; returns where it starts.
    fn item(&mut self, n: usize) -> Option<usize> {
        self.ws();
        if self.b.get(self.i) != Some(&b'[') {
            return None;
        }
        self.i += 1;
        for _ in 0..n {
            self.skip()?;
            self.ws();
            if self.b.get(self.i)? != &b',' {
                return None;
            }
            self.i += 1;
        }
        self.ws();
        Some(self.i)
    }
}

fn find_json(text: &str, segs: &[Segment<'_>]) -> Option<usize> {
    let mut s = Scanner {
        b: text.as_bytes(),
        i: 0,
    };
    let mut best = None;
    for seg in segs {
        let at = match seg {
            Segment::Key(k) => s.member(k),
            Segment::Index(n) => s.item(*n),
        };
        match at {
            Some(at) => best = Some(at),
            None => break,
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_items_in_both_formats() {
        let toml = "[[pools]]\nname = \"a\"\ncapacity = 1\n\n[[offers]]\nname = \"x\"\ndraws = { a = 1, budegt = 2 }\n";
        assert_eq!(
            find(toml, Format::Toml, "offers[0].draws.budegt"),
            Some((7, 18))
        );
        assert_eq!(find(toml, Format::Toml, "pools[0].capacity"), Some((3, 1)));
        let json = "{\n  \"pools\": [{\"name\": \"a\", \"capacity\": 1}],\n  \"offers\": [\n    {\"name\": \"x\", \"draws\": {\"a\": 1, \"budegt\": 2}}\n  ]\n}";
        assert_eq!(
            find(json, Format::Json, "offers[0].draws.budegt"),
            Some((4, 37))
        );
        assert_eq!(find(json, Format::Json, "pools[0].capacity"), Some((2, 27)));
        // A path the file does not have points at its deepest existing part.
        assert_eq!(find(json, Format::Json, "offers[0].opens_at"), Some((4, 5)));
    }
}
