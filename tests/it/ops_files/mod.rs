//! The ops files stay true to the code: every metric the Grafana dashboard
//! (`deploy/grafana/orderflow.json`) or an alert (`deploy/prometheus/alerts.yaml`) reads is in
//! the `/metrics` of a running app that handled a webhook, or is a RabbitMQ metric its plugin
//! documents; every expression parses (`promtool check rules`, from Debian's `prometheus`
//! package, which `scripts/services` installs); every panel says what a bad value means; every
//! alert has a severity, a `for:` and a runbook section that exists.

mod files;
mod holds;

use std::collections::BTreeSet;
use std::time::Duration;

use files::{Alert, alerts, dashboard_exprs, metric_names, promtool_check};
use orderflow::clock::Clock;

use crate::harness::e2e::Shop;
use crate::harness::{SHOP, eventually};

/// The RabbitMQ metrics the files may use: each is listed in `rabbitmq_prometheus`'s metric
/// documentation (`deps/rabbitmq_prometheus/metrics.md`, RabbitMQ 3.10 and later), the queue
/// ones with `vhost` and `queue` labels on `/metrics/per-object`.
const RABBITMQ_DOCUMENTED: &[&str] = &[
    "rabbitmq_queue_messages",
    "rabbitmq_queue_messages_ready",
    "rabbitmq_queue_messages_unacked",
    "rabbitmq_queue_consumers",
    "rabbitmq_process_resident_memory_bytes",
    "rabbitmq_resident_memory_limit_bytes",
    "rabbitmq_disk_space_available_bytes",
    "rabbitmq_disk_space_available_limit_bytes",
    "rabbitmq_global_messages_dead_lettered_delivery_limit_total",
];

/// orderflow metrics whose series appear only on events this test does not cause in the app: a
/// miss the sweep found, a subscription check (needs `shopify.app_url`), a shop being swept. A
/// family without series is not in the text at all, so these are looked for in a registry of
/// the same kind after the events happened there (`registry_after_events`).
const SERIES_ON_EVENTS: &[&str] = &[
    "orderflow_sweep_missed_total",
    "orderflow_sweep_orders_total",
    "orderflow_sweep_watermark_timestamp_seconds",
    "orderflow_sweep_running",
    "orderflow_webhook_subscriptions_missing",
];

/// The sample names of a Prometheus text exposition (`orderflow_webhooks_total`,
/// `orderflow_event_lag_seconds_bucket`, ...): what queries can read.
fn sampled(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l[..l.find(['{', ' ']).unwrap_or(l.len())].to_owned())
        .collect()
}

/// An app's registry after the events `SERIES_ON_EVENTS` wait for: what the app's text
/// holds once they happen.
fn registry_after_events() -> String {
    let m = orderflow::telemetry::Metrics::new();
    m.sweep.missed(SHOP);
    m.sweep.swept(SHOP, 3, 0.5);
    m.sweep.watermark_at(SHOP, 1_795_000_000);
    m.sweep.running(SHOP, true);
    m.subscriptions_missing(SHOP, 1);
    m.encode()
}

/// The value of the one sample `line_prefix` starts (name and labels, exactly).
fn sample(text: &str, line_prefix: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(line_prefix)?.trim().parse().ok())
}

#[tokio::test]
async fn every_metric_the_dashboard_and_the_alerts_read_exists_in_a_running_app() {
    let alerts = alerts();
    let panels = dashboard_exprs();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for a in &alerts {
        used.extend(metric_names(&a.expr));
    }
    for (_, expr) in &panels {
        used.extend(metric_names(expr));
    }
    assert!(used.len() > 20, "the files name metrics: {used:?}");

    // The whole pipeline, and one order through it: the high-risk one gets a fraud hold.
    let shop = Shop::start("ops_files").await;
    shop.send("high-risk", "orders/create", "ops-files-1").await;
    // And one the receiver dead-letters (signed, not JSON).
    shop.send_body("orders/create", "ops-files-2", b"not json")
        .await;
    let url = shop.app.url("/metrics");
    let text = eventually(
        Duration::from_secs(30),
        "the fraud hold and the dead letter in /metrics",
        || async {
            let text = reqwest::get(&url).await.ok()?.text().await.ok()?;
            let line = format!(r#"orderflow_holds_outstanding{{shop="{SHOP}",reason="fraud"}}"#);
            let dead = r#"orderflow_dead_letters_total{reason="not_json"}"#;
            // The hold is counted while the message is handled, the message once it is settled.
            let settled = crate::harness::e2e::settled_count(&text) >= 1;
            (settled && sample(&text, &line).is_some() && sample(&text, dead) == Some(1.0))
                .then_some(text)
        },
    )
    .await;
    let seen = sampled(&text);
    let after_events = sampled(&registry_after_events());

    let mut problems = Vec::new();
    for name in &used {
        if name.starts_with("rabbitmq_") {
            if !RABBITMQ_DOCUMENTED.contains(&name.as_str()) {
                problems.push(format!(
                    "{name}: not in the documented RabbitMQ list (RABBITMQ_DOCUMENTED)"
                ));
            }
        } else if SERIES_ON_EVENTS.contains(&name.as_str()) {
            if !after_events.contains(name) {
                problems.push(format!("{name}: not in the registry after its event"));
            }
        } else if !seen.contains(name) {
            problems.push(format!(
                "{name}: no series in the app's /metrics after a webhook went through"
            ));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}\n\n{text}");

    // The new metrics carry what happened: one fraud hold, first seen now; a successful call
    // to the shop now, on the app's clock; the bucket Shopify reported; the build.
    let now = shop.clock.now().as_second() as f64;
    let hold_since = sample(
        &text,
        &format!(r#"orderflow_holds_oldest_timestamp_seconds{{shop="{SHOP}",reason="fraud"}}"#),
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"orderflow_holds_outstanding{{shop="{SHOP}",reason="fraud"}}"#)
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        hold_since.is_some_and(|t| (t - now).abs() <= 5.0),
        "{hold_since:?} {now}"
    );
    let last_ok = sample(
        &text,
        &format!(r#"orderflow_shopify_last_success_timestamp_seconds{{shop="{SHOP}"}}"#),
    );
    assert!(
        last_ok.is_some_and(|t| (t - now).abs() <= 5.0),
        "{last_ok:?} {now}"
    );
    let spent = sample(
        &text,
        &format!(r#"orderflow_shopify_shop_points_spent_total{{shop="{SHOP}"}}"#),
    );
    assert!(spent.is_some_and(|p| p > 0.0), "{spent:?}");
    let maximum = sample(
        &text,
        &format!(r#"orderflow_shopify_points_maximum{{shop="{SHOP}"}}"#),
    );
    assert!(maximum.is_some_and(|p| p > 0.0), "{maximum:?}");
    let build = format!(
        r#"orderflow_build_info{{version="{}"}}"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(sample(&text, &build), Some(1.0));
    shop.stop().await;
}

#[test]
fn every_alert_and_dashboard_expression_parses() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    promtool_check(&root.join("deploy/prometheus/alerts.yaml"));
    // The panels' queries, as recording rules, with Grafana's variables filled in.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (panel, expr)) in dashboard_exprs().iter().enumerate() {
        let expr = expr
            .replace("$__rate_interval", "5m")
            .replace("$shop", ".*");
        let quoted = serde_json::to_string(&expr).expect("a JSON string is a YAML string");
        rules.push_str(&format!(
            "      # {panel}\n      - record: dashboard:panel_{i}\n        expr: {quoted}\n"
        ));
    }
    let file = dir.path().join("dashboard.rules.yaml");
    std::fs::write(&file, rules).expect("write the panels' rules");
    promtool_check(&file);
}

#[test]
fn every_alert_has_a_severity_a_duration_and_a_runbook_section() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let runbooks = std::fs::read_to_string(root.join("docs/runbooks.md")).expect("runbooks");
    let headings: BTreeSet<&str> = runbooks
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .collect();
    let alerts = alerts();
    let names: Vec<&str> = alerts.iter().map(|a| a.name.as_str()).collect();
    for wanted in [
        "OrderflowDeadLettersGrowing",
        "OrderflowEventLagHigh",
        "OrderflowReceiverUnavailable",
        "OrderflowBrokerDisconnected",
        "OrderflowPartitionWithoutConsumer",
        "OrderflowShopThrottled",
        "OrderflowShopUnauthorized",
        "OrderflowMissedWebhooks",
        "OrderflowSubscriptionsMissing",
    ] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
    for Alert {
        name,
        severity,
        duration,
        runbook_url,
        ..
    } in &alerts
    {
        assert!(
            matches!(severity.as_deref(), Some("critical" | "warning")),
            "{name}: severity {severity:?}"
        );
        assert!(duration.is_some(), "{name}: no `for:`");
        let anchor = name.to_lowercase();
        assert_eq!(
            runbook_url.as_deref(),
            Some(format!("docs/runbooks.md#{anchor}").as_str()),
            "{name}: runbook_url"
        );
        assert!(
            headings.contains(name.as_str()),
            "{name}: no `## {name}` section in docs/runbooks.md"
        );
    }
}

#[test]
fn the_dashboard_is_importable_and_every_panel_says_what_a_bad_value_means() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("deploy/grafana/orderflow.json")).expect("read");
    let d: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 39));
    assert_eq!(d["__inputs"][0]["pluginId"], "prometheus");
    let vars = d["templating"]["list"].as_array().expect("variables");
    let var = |name: &str| vars.iter().find(|v| v["name"] == name).cloned();
    assert_eq!(var("datasource").expect("datasource")["type"], "datasource");
    let shop = var("shop").expect("shop variable");
    assert!(
        shop["definition"]
            .as_str()
            .is_some_and(|q| q.contains("shop)"))
    );
    let panels = d["panels"].as_array().expect("panels");
    let rows: Vec<&str> = panels
        .iter()
        .filter(|p| p["type"] == "row")
        .filter_map(|p| p["title"].as_str())
        .collect();
    assert_eq!(
        rows,
        [
            "Ingest",
            "Queues (RabbitMQ)",
            "Workers",
            "Shopify",
            "Sweep and subscriptions"
        ]
    );
    for p in panels.iter().filter(|p| p["type"] != "row") {
        let title = p["title"].as_str().unwrap_or("?");
        let description = p["description"].as_str().unwrap_or("");
        assert!(
            description.len() > 30 && !description.contains('\n'),
            "panel {title}: a one-line description of what a bad value means"
        );
        assert_eq!(p["datasource"]["uid"], "${datasource}", "panel {title}");
        assert!(
            p["targets"].as_array().is_some_and(|t| !t.is_empty()),
            "panel {title}: no query"
        );
    }
}
