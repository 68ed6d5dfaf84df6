//! Reading the ops files: the alerts of the rule file, the queries of the dashboard, the metric
//! names in a PromQL expression, and `promtool`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// One alerting rule, as `deploy/prometheus/alerts.yaml` writes it.
#[derive(Debug, Default)]
pub struct Alert {
    pub name: String,
    pub expr: String,
    pub duration: Option<String>,
    pub severity: Option<String>,
    pub runbook_url: Option<String>,
}

/// The rule file's alerts. The file keeps to one layout (`- alert:` then its keys, `expr: |`
/// with the expression on the lines below); `promtool` checks it is a valid rule file, and this
/// reads the fields the other checks need. A rule this cannot read fails the test rather than
/// being skipped.
pub fn alerts() -> Vec<Alert> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus/alerts.yaml");
    let text = std::fs::read_to_string(&path).expect("deploy/prometheus/alerts.yaml");
    let mut alerts: Vec<Alert> = Vec::new();
    let mut in_expr: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if let Some(expr_indent) = in_expr {
            if trimmed.is_empty() || indent > expr_indent {
                let alert = alerts.last_mut().expect("an expr belongs to an alert");
                alert.expr.push_str(trimmed);
                alert.expr.push('\n');
                continue;
            }
            in_expr = None;
        }
        if trimmed.starts_with('#') {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix("- alert:") {
            alerts.push(Alert {
                name: name.trim().to_owned(),
                ..Alert::default()
            });
            continue;
        }
        let Some(alert) = alerts.last_mut() else {
            continue;
        };
        let value = |key: &str| trimmed.strip_prefix(key).map(|v| v.trim().to_owned());
        if let Some(v) = value("expr:") {
            if v == "|" {
                in_expr = Some(indent);
            } else {
                alert.expr = v;
            }
        } else if let Some(v) = value("for:") {
            alert.duration = Some(v);
        } else if let Some(v) = value("severity:") {
            alert.severity = Some(v);
        } else if let Some(v) = value("runbook_url:") {
            alert.runbook_url = Some(v);
        }
    }
    for a in &alerts {
        assert!(
            !a.expr.trim().is_empty(),
            "alert {}: no expression read",
            a.name
        );
    }
    assert!(!alerts.is_empty(), "no alert in {}", path.display());
    alerts
}

/// Every panel's queries: (panel title, expression).
pub fn dashboard_exprs() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/grafana/orderflow.json");
    let text = std::fs::read_to_string(&path).expect("deploy/grafana/orderflow.json");
    let d: serde_json::Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let mut out = Vec::new();
    for p in d["panels"].as_array().expect("panels") {
        for t in p["targets"].as_array().into_iter().flatten() {
            let title = p["title"].as_str().unwrap_or("?").to_owned();
            let expr = t["expr"].as_str().expect("every target has an expr");
            out.push((title, expr.to_owned()));
        }
    }
    out
}

/// The `orderflow_*` and `rabbitmq_*` metric names an expression reads. Label values and
/// strings are skipped, so a queue named `orderflow.orders.0` is not a metric.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    // Drop quoted strings (label values, label_replace's arguments) first.
    let mut unquoted = String::new();
    while let Some(start) = rest.find(['"', '`']) {
        unquoted.push_str(&rest[..start]);
        let quote = rest.as_bytes()[start] as char;
        let after = &rest[start + 1..];
        let mut end = 0;
        let mut escaped = false;
        for (i, c) in after.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' && quote == '"' {
                escaped = true;
            } else if c == quote {
                end = i;
                break;
            }
        }
        rest = &after[end + 1..];
        unquoted.push(' ');
    }
    unquoted.push_str(rest);
    for word in unquoted.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
        if word.starts_with("orderflow_") || word.starts_with("rabbitmq_") {
            out.insert(word.to_owned());
        }
    }
    out
}

/// `promtool check rules FILE`, failing with its output. promtool comes with Debian's
/// `prometheus` package; `scripts/services` installs it where it is missing.
pub fn promtool_check(file: &Path) {
    let output = Command::new("promtool")
        .arg("check")
        .arg("rules")
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run promtool ({e}): it checks the alert rules; install Debian's `prometheus` package (`apt-get install prometheus`), which scripts/services does where it is missing"
            )
        });
    assert!(
        output.status.success(),
        "promtool check rules {} failed:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn metric_names_skip_strings_and_keep_every_metric() {
    let names = metric_names(
        r#"max by (queue) (rabbitmq_queue_messages{queue=~".+\\.orders\\.[0-9]+"}) / on() orderflow_x_total{a="orderflow_not_this"}"#,
    );
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["orderflow_x_total", "rabbitmq_queue_messages"]
    );
}
