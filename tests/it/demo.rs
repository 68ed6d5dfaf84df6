//! `orderflow demo`, the README's first command: the real binary against the real broker.

use std::process::Output;
use std::time::Duration;

use tokio::process::Command;

/// Runs `orderflow demo ARGS` to the end, or fails the test after `deadline`.
async fn demo(args: &[&str], deadline: Duration) -> Output {
    let run = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("demo")
        .args(args)
        .env_remove("ORDERFLOW_LOG")
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(deadline, run)
        .await
        .unwrap_or_else(|_| panic!("orderflow demo {args:?} did not finish within {deadline:?}"))
        .expect("the binary runs")
}

/// The block of the order line starting with `head` (e.g. `#1003 handmade`) in `text`: that
/// line and the indented lines under it.
fn block<'a>(text: &'a str, head: &str) -> Vec<&'a str> {
    let mut lines = text
        .lines()
        .skip_while(|l| !(l.starts_with(head) && l.contains(" rules ")));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no `{head}` block in:\n{text}"));
    std::iter::once(first)
        .chain(lines.take_while(|l| l.starts_with(' ')))
        .collect()
}

fn line<'a>(block: &[&'a str], label: &str) -> &'a str {
    block
        .iter()
        .find(|l| l.split_whitespace().any(|w| w == label))
        .unwrap_or_else(|| panic!("no `{label}` line in {block:#?}"))
}

#[tokio::test]
async fn demo_reconciles_every_fixture_then_releases_a_processing_and_a_fraud_hold() {
    let out = demo(&[], Duration::from_secs(50)).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.trim().is_empty(), "no log noise: {stderr}");

    // Every fixture order has its block in the first report.
    let (created, later) = stdout
        .split_once("\n2. ")
        .expect("a processing-hold section");
    let (processing, later) = later.split_once("\n3. ").expect("a fraud-hold section");
    let (fraud, archived) = later
        .split_once("\n4. ")
        .expect("a capture-and-archive section");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders");
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(fixture) = name
            .strip_suffix(".json")
            .filter(|n| !n.ends_with(".webhook"))
        {
            let head = created
                .lines()
                .find(|l| l.starts_with('#') && l.split_whitespace().nth(1) == Some(fixture));
            assert!(head.is_some(), "no line for fixture {fixture}:\n{stdout}");
        }
    }

    let digital = block(created, "#1001 digital");
    assert!(line(&digital, "did").contains("fulfilled 1 line"));
    assert!(line(&digital, "now").contains("FULFILLED · 1 FO CLOSED"));

    let handmade = block(created, "#1003 handmade");
    assert!(line(&handmade, "rules").contains("handmade"));
    assert!(line(&handmade, "did").contains("held (orderflow-processing)"));
    assert!(line(&handmade, "now").contains("holds: orderflow-processing"));
    assert!(line(&handmade, "now").contains("ship by Thu 26 Nov"));

    let high_risk = block(created, "#1004 high-risk");
    assert!(line(&high_risk, "did").contains("held (orderflow-fraud)"));

    let cancelled = block(created, "#1009 cancelled");
    assert!(line(&cancelled, "did").contains("nothing"));

    // The clock passes the ship-by cut-off: the processing hold goes.
    assert!(processing.contains("→ Thu 26 Nov 2026 13:00 CET"));
    let released = block(processing, "#1003 handmade");
    assert!(line(&released, "did").contains("released (orderflow-processing)"));
    let now = line(&released, "now");
    assert!(
        now.contains("1 FO OPEN") && !now.contains("holds:"),
        "{now}"
    );

    // The risk turns ACCEPT and the webhook arrives: the fraud hold goes.
    assert!(fraud.contains("orders/risk_assessment_changed: 200 OK"));
    let accepted = block(fraud, "#1004 high-risk");
    assert!(line(&accepted, "did").contains("released (orderflow-fraud)"));
    assert!(!line(&accepted, "now").contains("orderflow-fraud"));

    // The deferred payment is captured at fulfilment, once, and finished orders are archived:
    // checked by the demo itself against the mutation log (a failed check exits 1).
    let authorized = block(archived, "#1014 authorized");
    let did = line(&authorized, "did");
    assert!(
        did.contains("fulfilled 1 line") && did.contains("captured 24.00"),
        "{did}"
    );
    assert_eq!(did.matches("captured").count(), 1, "{did}");
    let now = line(&authorized, "now");
    assert!(
        now.contains("payment PAID") && now.contains("closed (archived)"),
        "{now}"
    );
    assert!(
        archived.contains("✓ #1014 authorized: 1 capture(s) sent, payment now PAID"),
        "{archived}"
    );
    let closes = archived
        .lines()
        .find(|l| l.contains("✓ archived once each:"))
        .unwrap_or_else(|| panic!("no archive check in:\n{archived}"));
    assert!(
        closes.contains("#1001 digital") && closes.contains("#1014 authorized"),
        "{closes}"
    );
    assert!(!archived.contains('✗'), "{archived}");
}

#[tokio::test]
async fn demo_without_a_broker_says_how_to_get_one_in_one_line_and_exits_2() {
    let started = std::time::Instant::now();
    let out = demo(
        &["--amqp-url", "amqp://guest:guest@127.0.0.1:1/%2f"],
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "within a few seconds"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("rabbitmq-server -detached"), "{stderr}");
    assert!(
        stderr.contains("docker compose -f deploy/compose.yaml up"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("guest:guest"),
        "the password is not printed: {stderr}"
    );
    assert!(out.stdout.is_empty());
}
