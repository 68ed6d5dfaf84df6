//! [`ConfigSource`]: the files a [`Config`](super::Config) was loaded from, kept so a running
//! process can tell which version it runs (`orderflow_config_info{sha256}`) and what a reload
//! would change.
//!
//! The version is the SHA-256 of the config file's bytes followed by the bytes of each shop's
//! rules file (`[[shops]] rules = "..."`), in the order the shops are listed, each file once,
//! nothing between them: `cat orderflow.toml rules/acme.toml | sha256sum` gives it. Editing a
//! rules file is a rule change, so it is a new version. The environment (`${VAR}`,
//! `ORDERFLOW_*` overrides) is not part of it: it cannot change under a running process.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The text of a config file and the version of it and its rules files. Its `Debug` leaves
/// the text out: a file may hold a secret written in it rather than through `${VAR}`.
#[derive(Clone)]
pub struct ConfigSource {
    /// The file as given on the command line: what a reload reads again.
    pub path: PathBuf,
    /// The config file's text, as read (before overrides and interpolation).
    pub text: String,
    /// Hex SHA-256 of the config file's bytes then each rules file's bytes.
    pub sha256: String,
}

impl std::fmt::Debug for ConfigSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigSource")
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

impl ConfigSource {
    /// Hashes `text` (read from `path`) and the rules files it names. A rules file that
    /// cannot be read is left out here; validation reports it.
    pub fn new(path: &Path, text: String) -> Self {
        let mut hash = Sha256::new();
        hash.update(text.as_bytes());
        let base = path.parent().unwrap_or(Path::new(""));
        let mut seen: Vec<&str> = Vec::new();
        let tree: Option<toml::Table> = toml::from_str(&text).ok();
        let shops = tree
            .as_ref()
            .and_then(|t| t.get("shops"))
            .and_then(toml::Value::as_array);
        for shop in shops.into_iter().flatten() {
            let Some(rules) = shop.get("rules").and_then(toml::Value::as_str) else {
                continue;
            };
            if seen.contains(&rules) {
                continue;
            }
            seen.push(rules);
            if let Ok(bytes) = std::fs::read(base.join(rules)) {
                hash.update(&bytes);
            }
        }
        let sha256 = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Self {
            path: path.to_path_buf(),
            text,
            sha256,
        }
    }

    /// The file's TOML tree, before overrides and interpolation (`None`: not TOML).
    pub fn tree(&self) -> Option<toml::Table> {
        toml::from_str(&self.text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn the_version_is_the_config_then_each_rules_file_in_shop_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "[fulfilment]\n").unwrap();
        std::fs::write(dir.path().join("b.toml"), "[fraud]\n").unwrap();
        let text = "[[shops]]\nrules = \"b.toml\"\n[[shops]]\nrules = \"a.toml\"\n[[shops]]\nrules = \"b.toml\"\n";
        let path = dir.path().join("orderflow.toml");
        let source = ConfigSource::new(&path, text.to_owned());
        let want = hex(format!("{text}[fraud]\n[fulfilment]\n").as_bytes());
        assert_eq!(source.sha256, want);
    }

    #[test]
    fn debug_never_shows_the_text() {
        let source = ConfigSource::new(Path::new("x.toml"), "token = \"sentinel-9\"\n".into());
        assert!(!format!("{source:?}").contains("sentinel-9"));
    }

    #[test]
    fn a_config_without_rules_files_is_hashed_alone() {
        let source = ConfigSource::new(Path::new("x.toml"), "[amqp]\n".to_owned());
        assert_eq!(source.sha256, hex(b"[amqp]\n"));
        assert_eq!(source.sha256.len(), 64);
    }
}
