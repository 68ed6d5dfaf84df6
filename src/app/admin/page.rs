//! The ops page, rendered: a pure function of what the handler gathered (the parsed `/metrics`,
//! the queues' depths, the last decisions), so it is tested without a server. One HTML page, no
//! script: it refreshes itself (`<meta http-equiv="refresh">`).
//!
//! Every figure taken from the metrics is tagged with the metric it sums (`data-metric`, its
//! label filter as JSON in `data-labels`, the raw number in `data-value`): a reader can look the
//! figure up in `/metrics`, and the browser test checks that every one matches.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;

use super::samples::Samples;
use crate::queue::inspect::QueueDepth;
use crate::telemetry::{DecisionEntry, ShopError};

/// What the page shows, gathered by the handler.
pub struct PageData<'a> {
    pub now: Timestamp,
    pub version: &'a str,
    /// `receive + work`, `receive`, `work`.
    pub roles: &'a str,
    pub refresh_seconds: u32,
    pub samples: &'a Samples,
    /// The partition queues, then the dead-letter and compliance queues; or why not.
    pub queues: Result<&'a [QueueDepth], String>,
    pub dead_queue: &'a str,
    /// The shops to list: configured, installed, and any the metrics name.
    pub shops: &'a [String],
    pub errors: &'a BTreeMap<String, ShopError>,
    pub decisions: &'a [DecisionEntry],
}

pub fn render(d: &PageData<'_>) -> String {
    let mut o = String::with_capacity(16 * 1024);
    let _ = writeln!(
        o,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"{}\">\
         <title>orderflow ops</title><style>{CSS}</style></head><body>",
        d.refresh_seconds
    );
    let _ = writeln!(
        o,
        "<h1>orderflow ops</h1><p class=\"meta\">version {} · {} · generated {} · refreshes every {} s · read-only</p>",
        esc(d.version),
        esc(d.roles),
        d.now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        d.refresh_seconds
    );
    broker(&mut o, d);
    ingest(&mut o, d);
    queues(&mut o, d);
    workers(&mut o, d);
    shopify(&mut o, d);
    shops(&mut o, d);
    decisions(&mut o, d);
    o.push_str("</body></html>\n");
    o
}

const CSS: &str = "body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}\
h1{margin:0}h2{margin:1.4em 0 .4em;font-size:1.1em}.meta{color:#666}\
table{border-collapse:collapse}td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b00;font-weight:bold}\
.ok{color:#070;font-weight:bold}code{background:#f4f4f4;padding:0 .3em}";

fn broker(o: &mut String, d: &PageData<'_>) {
    let connected = d.samples.sum("orderflow_broker_connected", &[]) >= 1.0;
    let _ = writeln!(
        o,
        "<h2>Broker</h2><p>RabbitMQ: <span id=\"broker\" class=\"{}\" data-metric=\"orderflow_broker_connected\" data-labels=\"{{}}\" data-value=\"{}\">{}</span></p>",
        if connected { "ok" } else { "bad" },
        u8::from(connected),
        if connected {
            "connected"
        } else {
            "DISCONNECTED: webhooks are answered 503 and Shopify retries them"
        }
    );
}

fn ingest(o: &mut String, d: &PageData<'_>) {
    o.push_str("<h2>Ingest (webhooks, since this process started)</h2><table><tr><th>outcome</th><th>webhooks</th></tr>\n");
    for outcome in d
        .samples
        .label_values("orderflow_webhooks_total", "outcome")
    {
        let _ = write!(o, "<tr><td>{}</td>", esc(&outcome));
        figure(
            o,
            d.samples,
            "orderflow_webhooks_total",
            &[("outcome", &outcome)],
        );
        o.push_str("</tr>\n");
    }
    o.push_str("<tr><td>HMAC refused (401)</td>");
    figure(o, d.samples, "orderflow_hmac_failures_total", &[]);
    o.push_str("</tr><tr><td>duplicates answered without publishing</td>");
    figure(o, d.samples, "orderflow_dedupe_hits_total", &[]);
    o.push_str("</tr></table>\n");
}

fn queues(o: &mut String, d: &PageData<'_>) {
    o.push_str("<h2>Queues</h2>\n");
    let queues = match &d.queues {
        Ok(q) => *q,
        Err(why) => {
            let _ = writeln!(
                o,
                "<p class=\"bad\">cannot read the queues: {}</p>",
                esc(why)
            );
            return;
        }
    };
    o.push_str("<table><tr><th>queue</th><th>ready</th><th>consumers</th></tr>\n");
    for q in queues {
        let idle = q.consumers == 0 && q.name != d.dead_queue;
        let _ = writeln!(
            o,
            "<tr><td>{}</td><td class=\"num\" data-queue=\"{}\">{}</td><td class=\"num{}\">{}</td></tr>",
            esc(&q.name),
            esc(&q.name),
            q.messages,
            if idle { " bad" } else { "" },
            q.consumers
        );
    }
    o.push_str("</table>\n");
    let dead = queues
        .iter()
        .find(|q| q.name == d.dead_queue)
        .map_or(0, |q| q.messages);
    let _ = writeln!(
        o,
        "<p>Dead letters waiting: <b id=\"dead-letters\" class=\"{}\">{dead}</b>. \
         Inspect them by reason with <code>orderflow dlq list --config FILE</code> \
         (<code>--reason R</code>, <code>--shop S</code>); after fixing the cause, \
         <code>orderflow dlq replay --config FILE --reason R</code>.</p>",
        if dead > 0 { "bad" } else { "ok" }
    );
    let reasons = d
        .samples
        .label_values("orderflow_dead_letters_total", "reason");
    if !reasons.is_empty() {
        o.push_str("<table><tr><th>dead-lettered by this process, by reason</th><th>messages</th><th>inspect</th></tr>\n");
        for reason in reasons {
            let _ = write!(o, "<tr><td>{}</td>", esc(&reason));
            figure(
                o,
                d.samples,
                "orderflow_dead_letters_total",
                &[("reason", &reason)],
            );
            let _ = writeln!(
                o,
                "<td><code>orderflow dlq list --config FILE --reason {}</code></td></tr>",
                esc(&reason)
            );
        }
        o.push_str("</table>\n");
    }
}

fn workers(o: &mut String, d: &PageData<'_>) {
    o.push_str("<h2>Workers</h2><table><tr><th>messages settled</th><th>count</th></tr>\n");
    for disposition in d
        .samples
        .label_values("orderflow_messages_total", "disposition")
    {
        let _ = write!(o, "<tr><td>{}</td>", esc(&disposition));
        figure(
            o,
            d.samples,
            "orderflow_messages_total",
            &[("disposition", &disposition)],
        );
        o.push_str("</tr>\n");
    }
    o.push_str("</table><table><tr><th>actions applied</th><th>count</th></tr>\n");
    for kind in d.samples.label_values("orderflow_actions_total", "kind") {
        let _ = write!(o, "<tr><td>{}</td>", esc(&kind));
        figure(o, d.samples, "orderflow_actions_total", &[("kind", &kind)]);
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

fn shopify(o: &mut String, d: &PageData<'_>) {
    o.push_str("<h2>Shopify Admin API</h2><table>\n");
    for (what, metric) in [
        ("points spent", "orderflow_shopify_points_spent"),
        (
            "waited for the cost bucket (ms)",
            "orderflow_shopify_throttle_wait_milliseconds",
        ),
        ("THROTTLED answers absorbed", "orderflow_shopify_throttled"),
        ("retries", "orderflow_shopify_retries"),
    ] {
        let _ = write!(o, "<tr><td>{what}</td>");
        figure(o, d.samples, metric, &[]);
        o.push_str("</tr>\n");
    }
    for outcome in d
        .samples
        .label_values("orderflow_shopify_calls_total", "outcome")
    {
        let _ = write!(o, "<tr><td>calls: {}</td>", esc(&outcome));
        figure(
            o,
            d.samples,
            "orderflow_shopify_calls_total",
            &[("outcome", &outcome)],
        );
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

fn shops(o: &mut String, d: &PageData<'_>) {
    o.push_str(
        "<h2>Shops</h2><table><tr><th>shop</th><th>last webhook</th><th>event lag (s)</th>\
         <th>our holds: fraud</th><th>processing</th><th>oldest hold</th>\
         <th>cost bucket: points left</th><th>of</th><th>THROTTLED</th><th>last Admin API success</th>\
         <th>subscriptions missing</th><th>missed webhooks found by the sweep</th><th>last error</th></tr>\n",
    );
    for shop in d.shops {
        let by = [("shop", shop.as_str())];
        let _ = write!(o, "<tr data-shop=\"{}\"><td>{}</td>", esc(shop), esc(shop));
        instant_ago(
            o,
            d,
            "orderflow_webhook_last_received_timestamp_seconds",
            &by,
        );
        figure_or_dash(o, d.samples, "orderflow_shop_event_lag_seconds", &by);
        for reason in ["fraud", "processing"] {
            figure(
                o,
                d.samples,
                "orderflow_holds_outstanding",
                &[("shop", shop.as_str()), ("reason", reason)],
            );
        }
        let oldest = d
            .samples
            .matching("orderflow_holds_oldest_timestamp_seconds", &by)
            .map(|s| s.value)
            .fold(f64::INFINITY, f64::min);
        if oldest.is_finite() {
            let _ = write!(o, "<td>{}</td>", ago(d.now, oldest));
        } else {
            o.push_str("<td>–</td>");
        }
        figure_or_dash(o, d.samples, "orderflow_shopify_points_available", &by);
        figure_or_dash(o, d.samples, "orderflow_shopify_points_maximum", &by);
        figure_or_dash(o, d.samples, "orderflow_shopify_shop_throttled_total", &by);
        instant_ago(
            o,
            d,
            "orderflow_shopify_last_success_timestamp_seconds",
            &by,
        );
        figure_or_dash(o, d.samples, "orderflow_webhook_subscriptions_missing", &by);
        figure_or_dash(o, d.samples, "orderflow_sweep_missed_total", &by);
        match d.errors.get(shop) {
            Some(e) => {
                let at = Timestamp::from_second(e.at).unwrap_or(d.now);
                let _ = write!(
                    o,
                    "<td class=\"bad\">{} ({}): {}</td>",
                    at.strftime("%H:%M:%S"),
                    esc(&e.disposition),
                    esc(&e.error)
                );
            }
            None => o.push_str("<td>none</td>"),
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</table>\n");
}

fn decisions(o: &mut String, d: &PageData<'_>) {
    let _ = writeln!(
        o,
        "<h2>Last {} decisions of this process</h2><table id=\"decisions\"><tr><th>at (UTC)</th><th>shop</th><th>order</th><th>rules</th><th>actions</th><th>outcome</th></tr>",
        d.decisions.len()
    );
    for e in d.decisions {
        let at = Timestamp::from_second(e.at).unwrap_or(d.now);
        let _ = writeln!(
            o,
            "<tr class=\"decision\" data-order-id=\"{}\"><td>{}</td><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e.order_id,
            at.strftime("%H:%M:%S"),
            esc(&e.shop),
            esc(&e.order_name),
            e.order_id,
            esc(&e.rules.join(", ")),
            esc(&e.actions.join(", ")),
            esc(&e.outcome)
        );
    }
    o.push_str("</table>\n");
}

/// A cell saying how long ago the instant `metric` holds (Unix seconds) was, or `none yet`.
fn instant_ago(o: &mut String, d: &PageData<'_>, metric: &str, by: &[(&str, &str)]) {
    match d.samples.matching(metric, by).next().map(|s| s.value) {
        Some(at) => {
            let _ = write!(
                o,
                "<td class=\"num\" data-metric=\"{metric}\" data-labels=\"{}\" data-value=\"{}\">{}</td>",
                labels_attr(by),
                number(at),
                ago(d.now, at)
            );
        }
        None => o.push_str("<td>none yet</td>"),
    }
}

/// `42 s ago`, `12 min ago`, `3 h ago`.
fn ago(now: Timestamp, unix_seconds: f64) -> String {
    let secs = (now.as_second() as f64 - unix_seconds).max(0.0) as i64;
    match secs {
        0..=119 => format!("{secs} s ago"),
        120..=7199 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    }
}

/// A table cell with the sum of `metric` over the samples carrying `labels`.
fn figure(o: &mut String, samples: &Samples, metric: &str, labels: &[(&str, &str)]) {
    let value = samples.sum(metric, labels);
    let _ = write!(
        o,
        "<td class=\"num\" data-metric=\"{metric}\" data-labels=\"{}\" data-value=\"{}\">{}</td>",
        labels_attr(labels),
        number(value),
        number(value)
    );
}

/// Like [`figure`], or `–` when no sample exists (nothing observed yet for that shop).
fn figure_or_dash(o: &mut String, samples: &Samples, metric: &str, labels: &[(&str, &str)]) {
    if samples.matching(metric, labels).next().is_some() {
        figure(o, samples, metric, labels);
    } else {
        o.push_str("<td class=\"num\">–</td>");
    }
}

fn labels_attr(labels: &[(&str, &str)]) -> String {
    let map: BTreeMap<&str, &str> = labels.iter().copied().collect();
    esc(&serde_json::to_string(&map).unwrap_or_default())
}

/// Integers without a fraction, others to the millisecond.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// HTML-escapes text and attribute values: shop names, rule names and errors come from
/// merchants and from Shopify.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
