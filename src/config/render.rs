//! The redacted view of a resolved config, printed by `orderflow check`, with every shop's
//! resolved rules. Secrets are never exposed here: only their presence and count are shown.

use std::fmt::Write;

use super::Config;

const REDACTED: &str = "\"[redacted]\"";

pub(super) fn redacted(config: &Config) -> String {
    let mut out = String::new();
    let c = config;
    // Writing to a String cannot fail.
    let _ = writeln!(out, "[server]");
    let _ = writeln!(out, "listen = \"{}\"", c.server.listen);
    let _ = writeln!(out, "max_body_bytes = {}", c.server.max_body_bytes);
    let _ = writeln!(
        out,
        "shutdown_grace_ms = {}",
        c.server.shutdown_grace.as_millis()
    );
    let _ = writeln!(out, "\n[amqp]");
    let _ = writeln!(out, "url = \"{}\"", c.amqp.redacted_url());
    let _ = writeln!(out, "prefix = \"{}\"", c.amqp.prefix);
    let _ = writeln!(out, "partitions = {}", c.amqp.partitions);
    let _ = writeln!(
        out,
        "confirm_timeout_ms = {}",
        c.amqp.confirm_timeout.as_millis()
    );
    let _ = writeln!(out, "delivery_limit = {}", c.amqp.delivery_limit);
    let _ = writeln!(out, "\n[shopify]");
    let _ = writeln!(out, "api_version = \"{}\"", c.shopify.api_version);
    let secrets = vec![REDACTED; c.shopify.client_secrets.len()].join(", ");
    let _ = writeln!(out, "client_secrets = [{secrets}]");
    let _ = writeln!(out, "\n[worker]");
    let _ = writeln!(out, "max_attempts = {}", c.worker.max_attempts);
    let _ = writeln!(
        out,
        "max_delay_hop_ms = {}",
        c.worker.max_delay_hop.as_millis()
    );
    for shop in &c.shops {
        let _ = writeln!(out, "\n[[shops]]");
        let _ = writeln!(out, "domain = \"{}\"", shop.domain);
        let _ = writeln!(out, "access_token = {REDACTED}");
        let _ = writeln!(out, "timezone = \"{}\"", shop.timezone_name);
        if let Some(url) = &shop.admin_api_url {
            let _ = writeln!(out, "admin_api_url = \"{url}\"");
        }
        let _ = writeln!(out, "dry_run = {}", shop.dry_run);
        // The rules this shop runs with, global and shop sections merged, defaults written out.
        let _ = writeln!(out, "# resolved rules of {}", shop.domain);
        out.push_str(&shop.rules.to_toml("shops."));
    }
    out
}
