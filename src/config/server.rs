//! `[server]`'s limits on what one client may hold: the receiver faces the internet, and a
//! client that sends half a request, or a thousand connections, must not keep the receiver
//! from answering Shopify. Safe defaults; each one may be tuned, none may be switched off.

use std::fmt::Write as _;
use std::time::Duration;

use super::error::ConfigIssue;
use super::raw::RawServer;

/// Shopify waits five seconds for an answer, then counts the delivery as failed and retries:
/// a request may not take longer than this, whatever its client does.
const SHOPIFY_TIMEOUT_MS: u64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// A connection that has not sent a whole request head (request line and headers) within
    /// this long is closed; it also bounds how long an idle keep-alive connection is kept.
    pub header_read_timeout: Duration,
    /// From the end of the headers to the answer: reading the body, verifying and the
    /// publish. A body still arriving at the deadline gets a 408; a publish still waiting, a 503.
    pub request_timeout: Duration,
    /// Open connections at most; one more is answered 503 and closed at once.
    pub max_connections: usize,
    /// `/webhooks` requests being handled at most; one more is answered 503 at once (load
    /// shedding: what was accepted stays fast, and Shopify retries what was shed).
    pub max_in_flight: usize,
    /// The request line and headers together, in bytes; over it: 431.
    pub max_header_bytes: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_millis(3_000),
            request_timeout: Duration::from_millis(4_000),
            max_connections: 2_048,
            max_in_flight: 512,
            max_header_bytes: 16 * 1024,
        }
    }
}

/// The limits `raw` asks for, with an issue for each value out of range.
pub(super) fn limits(raw: &RawServer, issues: &mut Vec<ConfigIssue>) -> ServerLimits {
    let d = ServerLimits::default();
    let mut check = |key: &str, value: Option<u64>, default: u64, min: u64, max: u64, why: &str| {
        let v = value.unwrap_or(default);
        if v < min || v > max {
            issues.push(ConfigIssue::new(
                format!("server.{key}"),
                format!("{v} is out of range: use {min} to {max} ({why}; default {default})"),
            ));
            return default;
        }
        v
    };
    let header_ms = check(
        "header_read_timeout_ms",
        raw.header_read_timeout_ms,
        d.header_read_timeout.as_millis() as u64,
        100,
        SHOPIFY_TIMEOUT_MS,
        "Shopify sends its headers at once and gives up after 5 s",
    );
    let request_ms = check(
        "request_timeout_ms",
        raw.request_timeout_ms,
        d.request_timeout.as_millis() as u64,
        100,
        SHOPIFY_TIMEOUT_MS,
        "an answer after Shopify's 5 s is never read",
    );
    let connections = check(
        "max_connections",
        raw.max_connections,
        d.max_connections as u64,
        1,
        1_000_000,
        "open connections",
    );
    let in_flight = check(
        "max_in_flight",
        raw.max_in_flight,
        d.max_in_flight as u64,
        1,
        1_000_000,
        "webhooks handled at once",
    );
    // hyper's read buffer cannot be smaller than 8 KiB.
    let header_bytes = check(
        "max_header_bytes",
        raw.max_header_bytes,
        d.max_header_bytes as u64,
        8 * 1024,
        1024 * 1024,
        "Shopify's headers take well under 4 KiB",
    );
    ServerLimits {
        header_read_timeout: Duration::from_millis(header_ms),
        request_timeout: Duration::from_millis(request_ms),
        max_connections: connections as usize,
        max_in_flight: in_flight as usize,
        max_header_bytes: header_bytes as usize,
    }
}

/// The limits as `check` prints them, in `[server]`.
pub(super) fn render(out: &mut String, l: &ServerLimits) {
    // Writing to a String cannot fail.
    let _ = writeln!(
        out,
        "header_read_timeout_ms = {}",
        l.header_read_timeout.as_millis()
    );
    let _ = writeln!(
        out,
        "request_timeout_ms = {}",
        l.request_timeout.as_millis()
    );
    let _ = writeln!(out, "max_connections = {}", l.max_connections);
    let _ = writeln!(out, "max_in_flight = {}", l.max_in_flight);
    let _ = writeln!(out, "max_header_bytes = {}", l.max_header_bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_within_shopifys_timeout() {
        let mut issues = Vec::new();
        let l = limits(&RawServer::default(), &mut issues);
        assert!(issues.is_empty());
        assert_eq!(l, ServerLimits::default());
        assert!(l.request_timeout < Duration::from_millis(SHOPIFY_TIMEOUT_MS));
    }

    #[test]
    fn an_out_of_range_limit_names_its_key_and_the_range() {
        let raw = RawServer {
            request_timeout_ms: Some(30_000),
            max_header_bytes: Some(100),
            ..RawServer::default()
        };
        let mut issues = Vec::new();
        let l = limits(&raw, &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["server.request_timeout_ms", "server.max_header_bytes"]
        );
        assert!(issues[0].message.contains("100 to 5000"), "{}", issues[0]);
        assert_eq!(l.request_timeout, ServerLimits::default().request_timeout);
    }
}
