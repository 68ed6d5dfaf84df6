//! From a serde error back to the dotted key it is about (`shops[1].timezone`): toml names the
//! field but not where it sits, so the tree is written out again and the error's position is
//! looked up in that text. Values are dropped from messages, since after interpolation they may
//! be secrets.

use super::ConfigIssue;
use super::raw::RawConfig;

/// The layered tree as a [`RawConfig`]; a serde error becomes an issue naming its dotted key.
pub(super) fn deserialize(tree: toml::Value) -> Result<RawConfig, ConfigIssue> {
    // toml's own error names the key (`unknown field `x`, expected one of ...`); re-serialising
    // lets it carry a position we can quote.
    let text = toml::to_string(&tree).expect("a parsed TOML tree serialises");
    toml::from_str::<RawConfig>(&text).map_err(|e| {
        let message = without_quoted_values(e.message());
        let key = e
            .span()
            .map(|span| key_at(&text, span.start))
            .unwrap_or_else(|| "(file)".to_owned());
        ConfigIssue::new(key, message)
    })
}

/// serde quotes the offending value (`invalid type: string "…", expected a sequence`); after
/// interpolation that value may be a secret, so every double-quoted part is dropped. Keys are
/// quoted with backticks and stay.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    for c in message.chars() {
        match (c, in_quotes) {
            ('"', false) => {
                in_quotes = true;
                out.push('…');
            }
            ('"', true) => in_quotes = false,
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

/// The dotted key whose value or name starts at byte `pos` of a TOML text written by `toml`.
fn key_at(text: &str, pos: usize) -> String {
    let mut table = String::new();
    let mut shop_index: i64 = -1;
    let mut key = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(header) = trimmed
            .strip_prefix("[[")
            .and_then(|h| h.strip_suffix("]]"))
        {
            if header == "shops" {
                shop_index += 1;
            }
            table = if header == "shops" {
                format!("shops[{shop_index}]")
            } else {
                header.to_owned()
            };
            key.clear();
        } else if let Some(header) = trimmed.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            table = match header.strip_prefix("shops.") {
                Some(rest) => format!("shops[{shop_index}].{rest}"),
                None => header.to_owned(),
            };
            key.clear();
        } else if let Some((k, _)) = trimmed.split_once('=') {
            key = k.trim().trim_matches('"').to_owned();
        }
        if pos < offset + line.len() {
            break;
        }
        offset += line.len();
    }
    match (table.is_empty(), key.is_empty()) {
        (true, _) => key,
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}
