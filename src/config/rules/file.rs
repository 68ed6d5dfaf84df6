//! A shop's separate rules file (`rules = "rules/acme.toml"` under `[[shops]]`): the
//! `[fulfilment]`, `[processing]` and `[fraud]` sections of one shop, in a file the merchant can
//! own alone. It is plain TOML without `${VAR}` interpolation: rules hold no secrets.

use std::path::Path;

use super::RulesLayer;
use crate::config::ConfigIssue;

const SECTIONS: &[&str] = &["fulfilment", "processing", "fraud", "archive", "payment"];

pub(in crate::config) struct RulesFile {
    /// The path as written in the config, which names the file in issues.
    shown: String,
    table: toml::Table,
}

impl RulesFile {
    pub(in crate::config) fn layer(&self) -> RulesLayer<'_> {
        let section = |name: &str| self.table.get(name).and_then(toml::Value::as_table);
        RulesLayer {
            key_prefix: format!("{}:", self.shown),
            fulfilment: section("fulfilment"),
            processing: section("processing"),
            fraud: section("fraud"),
            archive: section("archive"),
            payment: section("payment"),
        }
    }
}

/// Reads and parses shop `i`'s rules file; `path` is relative to the config file's folder.
pub(in crate::config) fn load(
    i: usize,
    path: &str,
    base_dir: &Path,
) -> Result<RulesFile, ConfigIssue> {
    let key = format!("shops[{i}].rules");
    let full = base_dir.join(path);
    let text = std::fs::read_to_string(&full).map_err(|e| {
        ConfigIssue::new(
            &key,
            format!("cannot read `{}`: {e}; write a path relative to the config file, e.g. \"rules/acme.toml\"", full.display()),
        )
    })?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        ConfigIssue::new(
            format!("{path}:(syntax)"),
            format!(
                "{}; write TOML with [fulfilment], [processing] and [fraud] tables",
                e.to_string().trim().replace('\n', " ")
            ),
        )
    })?;
    for (k, v) in &table {
        if !SECTIONS.contains(&k.as_str()) || !v.is_table() {
            return Err(ConfigIssue::new(
                format!("{path}:{k}"),
                format!(
                    "not a rules section: use [{}] tables only",
                    SECTIONS.join("], [")
                ),
            ));
        }
    }
    Ok(RulesFile {
        shown: path.to_owned(),
        table,
    })
}
