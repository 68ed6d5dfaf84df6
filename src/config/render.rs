//! The redacted view of a resolved config, printed by `orderflow check`, with every shop's
//! resolved rules, and the redacted AMQP URL logs show. Secrets are never exposed here: only
//! their presence and count are shown.

use std::fmt::Write;

use secrecy::ExposeSecret;

use super::Config;
use crate::rules::Rules;
use crate::rules::policy::weekday_name;

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
    super::server::render(&mut out, &c.server.limits);
    let _ = writeln!(out, "\n[amqp]");
    match c.amqp.redacted_urls().as_slice() {
        [one] => {
            let _ = writeln!(out, "url = \"{one}\"");
        }
        nodes => {
            let nodes: Vec<String> = nodes.iter().map(|u| format!("\"{u}\"")).collect();
            let _ = writeln!(out, "urls = [{}]", nodes.join(", "));
        }
    }
    let _ = writeln!(out, "prefix = \"{}\"", c.amqp.prefix);
    let _ = writeln!(out, "partitions = {}", c.amqp.partitions);
    let _ = writeln!(
        out,
        "confirm_timeout_ms = {}",
        c.amqp.confirm_timeout.as_millis()
    );
    let _ = writeln!(out, "delivery_limit = {}", c.amqp.delivery_limit);
    match c.amqp.quorum_group_size {
        Some(n) => {
            let _ = writeln!(out, "quorum_group_size = {n}");
        }
        None => {
            let _ = writeln!(
                out,
                "# quorum_group_size: unset, a replica on every cluster node"
            );
        }
    }
    let _ = writeln!(out, "\n[shopify]");
    let _ = writeln!(out, "api_version = \"{}\"", c.shopify.api_version);
    let secrets = vec![REDACTED; c.shopify.client_secrets.len()].join(", ");
    let _ = writeln!(out, "client_secrets = [{secrets}]");
    let auth = &c.auth;
    let _ = writeln!(out, "auth = \"{}\"", auth.mode.as_str());
    if let Some(id) = &auth.client_id {
        let _ = writeln!(out, "client_id = {id:?}");
    }
    let scopes: Vec<String> = auth.scopes.iter().map(|s| format!("{s:?}")).collect();
    let _ = writeln!(out, "scopes = [{}]", scopes.join(", "));
    if let Some(url) = &auth.app_url {
        let _ = writeln!(out, "app_url = {url:?}");
    }
    if let Some(url) = &auth.admin_url {
        let _ = writeln!(out, "admin_url = {url:?}");
    }
    let _ = writeln!(out, "\n[worker]");
    let _ = writeln!(out, "max_attempts = {}", c.worker.max_attempts);
    let _ = writeln!(
        out,
        "max_delay_hop_ms = {}",
        c.worker.max_delay_hop.as_millis()
    );
    let _ = writeln!(out, "\n[webhooks]");
    let _ = writeln!(out, "check = {}", c.webhooks.check);
    let _ = writeln!(out, "\n[sweep]");
    match c.sweep.every {
        Some(every) => {
            let _ = writeln!(out, "every = \"{}\"", super::render_duration(every));
        }
        None => {
            let _ = writeln!(out, "every = \"off\"");
        }
    }
    let _ = writeln!(
        out,
        "overlap = \"{}\"",
        super::render_duration(c.sweep.overlap)
    );
    if let Some(admin) = &c.admin {
        let _ = writeln!(out, "\n[admin]");
        let _ = writeln!(out, "listen = \"{}\"", admin.listen);
        if admin.token.is_some() {
            let _ = writeln!(out, "token = {REDACTED}");
        } else {
            let _ = writeln!(
                out,
                "# no token: the admin routes answer anyone who reaches {}",
                admin.listen
            );
        }
    }
    if let Some(store) = &c.store {
        let _ = writeln!(out, "\n[store]");
        let _ = writeln!(out, "url = \"{}\"", store.redacted_url());
        let _ = writeln!(out, "encryption_key = {REDACTED}");
    }
    for shop in &c.shops {
        let _ = writeln!(out, "\n[[shops]]");
        let _ = writeln!(out, "domain = \"{}\"", shop.domain);
        let mode = c.auth.mode_of(&shop.domain);
        let _ = writeln!(out, "auth = \"{}\"", mode.as_str());
        if shop.access_token.expose_secret().is_empty() {
            let _ = writeln!(out, "# no access_token: tokens from {}", mode.as_str());
        } else {
            let _ = writeln!(out, "access_token = {REDACTED}");
        }
        let _ = writeln!(out, "timezone = \"{}\"", shop.timezone_name);
        if let Some(url) = &shop.admin_api_url {
            let _ = writeln!(out, "admin_api_url = \"{url}\"");
        }
        let _ = writeln!(out, "dry_run = {}", shop.dry_run);
        // The rules this shop runs with, global and shop sections merged, defaults written out.
        let _ = writeln!(out, "# resolved rules of {}", shop.domain);
        out.push_str(&rules_toml(&shop.rules, "shops."));
    }
    out
}

/// The resolved rules as TOML sections under `prefix` (e.g. `shops.`), every default
/// written out, so `check` shows exactly what a shop runs with.
pub(super) fn rules_toml(rules: &Rules, prefix: &str) -> String {
    let mut o = String::new();
    let f = &rules.fulfilment;
    let p = &rules.processing;
    let r = &rules.fraud;
    let quoted = |xs: &mut dyn Iterator<Item = String>| {
        let v: Vec<String> = xs.map(|x| format!("{x:?}")).collect();
        format!("[{}]", v.join(", "))
    };
    let tag = |t: &Option<String>| format!("{:?}", t.as_deref().unwrap_or(""));
    // Writing to a String cannot fail.
    let _ = writeln!(o, "[{prefix}fulfilment]");
    let _ = writeln!(o, "default = \"{}\"", f.default.as_str());
    let _ = writeln!(o, "notify_customer = {}", f.notify_customer);
    let _ = writeln!(o, "skip_test_orders = {}", f.skip_test_orders);
    let _ = writeln!(o, "manual_tag = {}", tag(&f.manual_tag));
    for rule in &f.rules {
        let _ = writeln!(o, "[[{prefix}fulfilment.rule]]");
        let _ = writeln!(o, "name = {:?}", rule.name);
        let _ = writeln!(o, "when = {}", rule.when);
        let _ = writeln!(o, "action = \"{}\"", rule.action.as_str());
    }
    let _ = writeln!(o, "[{prefix}processing]");
    match p.calendar.cutoff() {
        Some(c) => {
            let _ = writeln!(o, "cutoff = \"{}\"", c.strftime("%H:%M"));
        }
        None => {
            let _ = writeln!(
                o,
                "# no cutoff: a payment on a business day counts that day"
            );
        }
    }
    let days = p.calendar.business_days();
    let _ = writeln!(
        o,
        "business_days = {}",
        quoted(&mut days.iter().map(|d| weekday_name(*d).to_owned()))
    );
    let _ = writeln!(
        o,
        "holidays = {}",
        quoted(&mut p.calendar.holidays().map(|d| d.to_string()))
    );
    let _ = writeln!(o, "default_days = {}", p.default_days);
    let _ = writeln!(o, "hold = {}", p.hold);
    let _ = writeln!(o, "set_deadline = {}", p.set_deadline);
    let _ = writeln!(o, "# time zone: {}", rules.zone_name());
    for rule in &p.rules {
        let _ = writeln!(o, "[[{prefix}processing.rule]]");
        let _ = writeln!(o, "name = {:?}", rule.name);
        let _ = writeln!(o, "when = {}", rule.when);
        let _ = writeln!(o, "days = {}", rule.days);
    }
    let _ = writeln!(o, "[{prefix}fraud]");
    let _ = writeln!(
        o,
        "hold_on_risk = {}",
        quoted(&mut r.hold_on_risk.iter().map(|v| v.as_str().to_owned()))
    );
    let _ = writeln!(
        o,
        "hold_on_recommendation = {}",
        quoted(
            &mut r
                .hold_on_recommendation
                .iter()
                .map(|v| v.as_str().to_owned())
        )
    );
    let _ = writeln!(o, "release_on_accept = {}", r.release_on_accept);
    let _ = writeln!(o, "notify_merchant = {}", r.notify_merchant);
    let _ = writeln!(o, "tag = {}", tag(&r.tag));
    let _ = writeln!(
        o,
        "pending_recheck_minutes = {}",
        r.pending_recheck.as_mins()
    );
    let a = &rules.archive;
    let _ = writeln!(o, "[{prefix}archive]");
    let _ = writeln!(o, "when_fulfilled = {}", a.when_fulfilled);
    let _ = writeln!(o, "after = \"{:#}\"", a.after);
    let p = &rules.payment;
    let _ = writeln!(o, "[{prefix}payment]");
    let _ = writeln!(o, "capture = \"{}\"", p.capture.as_str());
    let _ = writeln!(o, "expiry_margin = \"{:#}\"", p.expiry_margin);
    o
}

/// Replaces the password of `scheme://user:password@host` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}
