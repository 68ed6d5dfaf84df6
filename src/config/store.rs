//! The `[store]` section: where the token store lives (a PostgreSQL URL) and the key its tokens
//! are encrypted with. Both are secrets: a URL may carry a password. Only `auth = "oauth"` needs
//! the section; without it orderflow never touches a database.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::ConfigIssue;
use super::render::redact_url;

/// The length of an AES-256 key.
pub const ENCRYPTION_KEY_BYTES: usize = 32;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: Option<String>,
    pub encryption_key: Option<String>,
}

/// The token store's connection and key, validated: `url` is a `postgres://` or `postgresql://`
/// URL, `encryption_key` the standard base64 of exactly 32 bytes.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub url: SecretString,
    pub encryption_key: SecretString,
}

impl StoreConfig {
    /// The URL with any password replaced, safe for logs and `check`.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose_secret())
    }
}

/// The 32 key bytes of a base64 text, or `None`. Both `validate` and the store use it, so the
/// two agree on what a valid key is.
pub fn decode_encryption_key(text: &str) -> Option<[u8; ENCRYPTION_KEY_BYTES]> {
    STANDARD.decode(text.trim()).ok()?.try_into().ok()
}

pub(super) fn validate(
    raw: Option<RawStore>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<StoreConfig> {
    let raw = raw?;
    let before = issues.len();
    let url = raw.url.unwrap_or_default();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        let shown = if url.is_empty() {
            "missing".to_owned()
        } else {
            format!("`{}` is not a PostgreSQL URL", redact_url(&url))
        };
        issues.push(ConfigIssue::new(
            "store.url",
            format!("{shown}: write url = \"postgres://user:password@host:5432/orderflow\" (e.g. \"${{DATABASE_URL}}\")"),
        ));
    }
    let key = raw.encryption_key.unwrap_or_default();
    // The message never quotes the value: it is a secret even when it is malformed.
    if decode_encryption_key(&key).is_none() {
        issues.push(ConfigIssue::new(
            "store.encryption_key",
            "not the base64 of exactly 32 bytes: generate one with `openssl rand -base64 32` and write encryption_key = \"${ORDERFLOW_STORE_KEY}\"",
        ));
    }
    (issues.len() == before).then(|| StoreConfig {
        url: SecretString::from(url),
        encryption_key: SecretString::from(key),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{Config, ConfigError, Env};
    use super::*;

    const KEY: &str = "c2VudGluZWwta2V5LXNlbnRpbmVsLWtleS0zMmJ5dGU="; // 32 bytes

    fn text(store: &str) -> String {
        format!(
            "[shopify]\nclient_secrets = [\"s\"]\n[[shops]]\ndomain = \"acme.myshopify.com\"\naccess_token = \"t\"\n{store}"
        )
    }

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(
            text,
            Path::new("orderflow.toml"),
            &Env::from_pairs([("K", KEY)]),
        )
    }

    #[test]
    fn no_store_section_means_no_store() {
        assert!(load(&text("")).unwrap().store.is_none());
    }

    #[test]
    fn store_keys_are_read_and_redacted_in_check_and_debug() {
        let c = load(&text(
            "[store]\nurl = \"postgres://of:db-password@db:5432/of\"\nencryption_key = \"${K}\"",
        ))
        .unwrap();
        let store = c.store.as_ref().unwrap();
        assert_eq!(store.encryption_key.expose_secret(), KEY);
        assert_eq!(
            decode_encryption_key(KEY).unwrap(),
            *b"sentinel-key-sentinel-key-32byte"
        );
        let shown = format!("{}\n{c:?}\n{store:?}", c.redacted());
        for secret in ["db-password", KEY] {
            assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
        }
        assert!(
            shown.contains("url = \"postgres://of:***@db:5432/of\""),
            "{shown}"
        );
        assert!(shown.contains("encryption_key = \"[redacted]\""), "{shown}");
    }

    #[test]
    fn a_key_that_is_not_32_bytes_of_base64_is_named_and_not_quoted() {
        for bad in ["c2hvcnQ=", "not base64 at all!", ""] {
            let t = text(&format!(
                "[store]\nurl = \"postgresql://db/of\"\nencryption_key = \"{bad}\""
            ));
            let err = load(&t).unwrap_err();
            let keys: Vec<&str> = err.issues().iter().map(|i| i.key.as_str()).collect();
            assert_eq!(keys, ["store.encryption_key"], "{err}");
            if !bad.is_empty() {
                assert!(!err.to_string().contains(bad), "{err}");
            }
        }
    }

    #[test]
    fn a_url_that_is_not_postgres_is_named_without_its_password() {
        let t = text(&format!(
            "[store]\nurl = \"mysql://u:db-password@db/of\"\nencryption_key = \"{KEY}\""
        ));
        let err = load(&t).unwrap_err();
        let keys: Vec<&str> = err.issues().iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["store.url"], "{err}");
        assert!(!err.to_string().contains("db-password"), "{err}");
        assert!(!err.to_string().contains(KEY), "{err}");
    }
}
