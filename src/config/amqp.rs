//! `[amqp]`: the broker, one node (`url`) or a cluster (`urls`, tried in order), and what every
//! process of a deployment declares there.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::raw::RawAmqp;
use super::render::redact_url;
use super::{ConfigIssue, defaults};

/// Shopify answers within 5 s or retries; a confirm budget at or above it is useless.
const MAX_CONFIRM_TIMEOUT_MS: u64 = 4500;

#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// The first of `urls`: what the one-connection tools (`queue::Admin`) use. May hold a
    /// password, so it is a secret; `redacted_url` is what logs show.
    pub url: SecretString,
    /// Every node, in the order connections try them (at start and at each reconnect). One
    /// entry with `url`; never empty.
    pub urls: Vec<SecretString>,
    pub prefix: String,
    pub partitions: u16,
    pub confirm_timeout: Duration,
    pub delivery_limit: u32,
    /// `x-quorum-initial-group-size` of every queue: how many nodes hold a replica. `None`
    /// (the default) sends no argument, and RabbitMQ places a replica on every cluster member
    /// (on a single node, that one); it is also what queues declared before this key existed
    /// were declared with, so leaving it unset keeps their declarations equivalent. RabbitMQ
    /// compares it at every declaration: every process of a deployment must give the same.
    pub quorum_group_size: Option<u16>,
}

impl AmqpConfig {
    /// The first URL with any password replaced, safe for logs and `check`.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose_secret())
    }

    /// Every URL with its password replaced, in order.
    pub fn redacted_urls(&self) -> Vec<String> {
        self.urls
            .iter()
            .map(|u| redact_url(u.expose_secret()))
            .collect()
    }
}

pub(super) fn validate(raw: RawAmqp, issues: &mut Vec<ConfigIssue>) -> AmqpConfig {
    let urls: Vec<(String, String)> = match (raw.url, raw.urls) {
        (Some(_), Some(_)) => {
            issues.push(ConfigIssue::new(
                "amqp.urls",
                "amqp.url and amqp.urls are both set: keep one, `urls = [\"amqp://…\", …]` for a cluster or `url = \"amqp://…\"` for one broker",
            ));
            vec![]
        }
        (Some(url), None) => vec![("amqp.url".to_owned(), url)],
        (None, Some(urls)) if urls.is_empty() => {
            issues.push(ConfigIssue::new(
                "amqp.urls",
                "is empty: list every node, e.g. urls = [\"amqp://user:password@node1:5672/%2f\", \"amqp://user:password@node2:5672/%2f\"]",
            ));
            vec![]
        }
        (None, Some(urls)) => urls
            .into_iter()
            .enumerate()
            .map(|(i, u)| (format!("amqp.urls[{i}]"), u))
            .collect(),
        (None, None) => vec![("amqp.url".to_owned(), defaults::AMQP_URL.to_owned())],
    };
    for (key, url) in &urls {
        if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
            issues.push(ConfigIssue::new(
                key.clone(),
                format!(
                    "`{}` is not an AMQP URL: write amqp://user:password@host:5672/%2f",
                    redact_url(url)
                ),
            ));
        }
    }
    let urls: Vec<SecretString> = urls
        .into_iter()
        .map(|(_, u)| SecretString::from(u))
        .collect();

    let prefix = raw.prefix.unwrap_or_else(|| defaults::PREFIX.to_owned());
    if prefix.is_empty()
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        issues.push(ConfigIssue::new(
            "amqp.prefix",
            format!("`{prefix}` is not a usable prefix: use letters, digits, `-`, `_` or `.`, e.g. \"orderflow\""),
        ));
    }
    let partitions = raw.partitions.unwrap_or(defaults::PARTITIONS.into());
    if !(1..=256).contains(&partitions) {
        issues.push(ConfigIssue::new(
            "amqp.partitions",
            format!("{partitions} is out of range: use 1 to 256 (default 8)"),
        ));
    }
    let confirm_timeout_ms = raw
        .confirm_timeout_ms
        .unwrap_or(defaults::CONFIRM_TIMEOUT_MS);
    if !(1..=MAX_CONFIRM_TIMEOUT_MS).contains(&confirm_timeout_ms) {
        issues.push(ConfigIssue::new(
            "amqp.confirm_timeout_ms",
            format!("{confirm_timeout_ms} is out of range: use 1 to {MAX_CONFIRM_TIMEOUT_MS}, under Shopify's 5 s answer budget (default 3000)"),
        ));
    }
    let delivery_limit = raw
        .delivery_limit
        .unwrap_or(defaults::DELIVERY_LIMIT.into());
    if !(1..=1000).contains(&delivery_limit) {
        issues.push(ConfigIssue::new(
            "amqp.delivery_limit",
            format!("{delivery_limit} is out of range: use 1 to 1000 (default 20)"),
        ));
    }
    let quorum_group_size = raw.quorum_group_size.and_then(|n| {
        if (1..=255).contains(&n) {
            Some(n as u16)
        } else {
            issues.push(ConfigIssue::new(
                "amqp.quorum_group_size",
                format!("{n} is out of range: use 1 to 255 replicas per queue (an odd number such as 3 or 5 survives the most lost nodes for its size), or leave it out for one on every cluster node"),
            ));
            None
        }
    });
    AmqpConfig {
        url: urls
            .first()
            .cloned()
            .unwrap_or_else(|| SecretString::from(defaults::AMQP_URL)),
        urls,
        prefix,
        partitions: partitions.clamp(1, 256) as u16,
        confirm_timeout: Duration::from_millis(confirm_timeout_ms),
        delivery_limit: delivery_limit.clamp(1, 1000) as u32,
        quorum_group_size,
    }
}
