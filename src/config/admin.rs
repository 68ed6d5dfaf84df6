//! The `[admin]` section: the admin listener, where the ops page is served apart from the
//! receiver's public port. Absent: no admin listener (so two processes on one machine, and the
//! tests' many apps in one process, never fight over its port). Present: `listen` defaults to
//! loopback only; `token`, a secret, makes every admin route ask for `Authorization: Bearer …`.
//! A listener other machines can reach without a token is refused: the page shows shops, orders
//! and errors.

use std::net::SocketAddr;

use secrecy::SecretString;
use serde::Deserialize;

use super::ConfigIssue;

/// Loopback only: the page is for someone on the machine, or behind a proxy that adds auth.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8081";
/// Shorter tokens can be guessed by someone who can reach the port.
pub const MIN_TOKEN_LEN: usize = 16;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub listen: Option<String>,
    pub token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AdminConfig {
    pub listen: SocketAddr,
    /// When set, every admin route needs `Authorization: Bearer <token>`.
    pub token: Option<SecretString>,
}

pub(super) fn validate(
    raw: Option<RawAdmin>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<AdminConfig> {
    let raw = raw?;
    let text = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen = match text.trim().parse::<SocketAddr>() {
        Ok(addr) => addr,
        Err(_) => {
            issues.push(ConfigIssue::new(
                "admin.listen",
                format!(
                    "`{text}` is not an address and port: write e.g. listen = \"{DEFAULT_LISTEN}\""
                ),
            ));
            return None;
        }
    };
    // An empty token (e.g. `"${ADMIN_TOKEN:-}"` unset) means none.
    let token = raw.token.filter(|t| !t.trim().is_empty());
    if let Some(t) = &token
        && t.trim().len() < MIN_TOKEN_LEN
    {
        // Never quote the value: it is a secret even when too short.
        issues.push(ConfigIssue::new(
            "admin.token",
            format!("shorter than {MIN_TOKEN_LEN} characters: generate one with `openssl rand -hex 32` and write token = \"${{ORDERFLOW_ADMIN_TOKEN}}\""),
        ));
    }
    if token.is_none() && !listen.ip().is_loopback() {
        issues.push(ConfigIssue::new(
            "admin.listen",
            format!("`{listen}` can be reached from other machines and admin.token is not set: set a token, or listen on 127.0.0.1"),
        ));
    }
    Some(AdminConfig {
        listen,
        token: token.map(|t| SecretString::from(t.trim().to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(listen: Option<&str>, token: Option<&str>) -> (Option<AdminConfig>, Vec<ConfigIssue>) {
        let mut issues = Vec::new();
        let raw = RawAdmin {
            listen: listen.map(str::to_owned),
            token: token.map(str::to_owned),
        };
        (validate(Some(raw), &mut issues), issues)
    }

    #[test]
    fn absent_means_no_listener_and_present_defaults_to_loopback() {
        assert!(validate(None, &mut Vec::new()).is_none());
        let (admin, issues) = run(None, None);
        assert!(issues.is_empty(), "{issues:?}");
        let admin = admin.unwrap();
        assert_eq!(admin.listen, DEFAULT_LISTEN.parse().unwrap());
        assert!(admin.token.is_none());
    }

    #[test]
    fn a_reachable_listener_needs_a_token_and_a_short_token_is_refused_unquoted() {
        let (_, issues) = run(Some("0.0.0.0:8081"), None);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert!(issues[0].to_string().contains("admin.listen"));
        assert!(issues[0].to_string().contains("set a token"));

        let (_, issues) = run(Some("0.0.0.0:8081"), Some("short-secret"));
        assert_eq!(issues.len(), 1, "{issues:?}");
        let said = issues[0].to_string();
        assert!(said.contains("admin.token"), "{said}");
        assert!(!said.contains("short-secret"), "{said}");

        let (admin, issues) = run(Some("0.0.0.0:8081"), Some("a-long-enough-admin-token"));
        assert!(issues.is_empty(), "{issues:?}");
        assert!(admin.unwrap().token.is_some());

        let (_, issues) = run(Some("port 80"), None);
        assert!(issues[0].to_string().contains("admin.listen"));
    }
}
