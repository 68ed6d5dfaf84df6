//! The `orderflow` binary as a user runs it.

use std::process::Command;

use crate::harness::{SECRET_NEW, fixture, signature};

fn orderflow() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_orderflow"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn check_prints_the_resolved_example_config_without_secrets() {
    let out = orderflow()
        .args(["check", "--config", "fixtures/config/example.toml"])
        .env("SHOPIFY_CLIENT_SECRET", "cli-sentinel-secret")
        .env("ACME_TOKEN", "cli-sentinel-token")
        .env("ORDERFLOW_AMQP__PARTITIONS", "12")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("partitions = 12"),
        "env override applied: {stdout}"
    );
    assert!(stdout.contains("acme.myshopify.com"));
    assert!(!stdout.contains("cli-sentinel"), "{stdout}");
}

#[test]
fn check_renders_payment_and_warns_of_a_processing_rule_that_outlasts_the_authorization() {
    let run = |capture: &str, days: &str| {
        orderflow()
            .args(["check", "--config", "fixtures/config/example.toml"])
            .env("SHOPIFY_CLIENT_SECRET", "s")
            .env("ACME_TOKEN", "t")
            .env("ORDERFLOW_PAYMENT__CAPTURE", capture)
            .env("ORDERFLOW_PROCESSING__RULE__0__DAYS", days)
            .output()
            .unwrap()
    };
    let quiet = run("never", "8");
    let stdout = String::from_utf8_lossy(&quiet.stdout);
    assert!(quiet.status.success(), "{stdout}");
    assert!(
        stdout.contains("[shops.payment]\ncapture = \"never\"\nexpiry_margin = \"12h\""),
        "{stdout}"
    );
    assert!(quiet.stderr.is_empty(), "capture off: no warning");
    // One business day fits in 7 days - 12 h even over Christmas; three do not (paid on Thu 24
    // Dec after the cut-off, the holidays and the weekend push the ship-by to Thu 31 Dec).
    let short = run("on_fulfilment", "1");
    assert!(
        short.status.success() && short.stderr.is_empty(),
        "{short:?}"
    );
    let long = run("on_fulfilment", "8");
    assert!(long.status.success(), "a warning, not an error");
    let stderr = String::from_utf8_lossy(&long.stderr);
    for names in [
        "warning: shop acme.myshopify.com",
        "processing.rule \"handmade\"",
        "payment.expiry_margin",
        "payment.capture = \"on_fulfilment\"",
    ] {
        assert!(stderr.contains(names), "{names}: {stderr}");
    }
}

#[test]
fn check_reports_every_error_with_key_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "[amqp]\npartitions = 0\n[shopify]\nclient_secrets = [\"${MISSING_SECRET}\"]\n",
    )
    .unwrap();
    let out = orderflow()
        .arg("check")
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml"), "names the file: {stderr}");
    assert!(
        stderr.contains("MISSING_SECRET"),
        "names the variable: {stderr}"
    );
}

#[test]
fn config_file_can_come_from_orderflow_config() {
    let out = orderflow()
        .arg("check")
        .env("ORDERFLOW_CONFIG", "fixtures/config/example.toml")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sign_prints_the_header_shopify_would_send() {
    let out = orderflow()
        .args([
            "sign",
            "--secret",
            SECRET_NEW,
            "fixtures/webhooks/orders/create.json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        printed.trim(),
        signature(&fixture("orders/create"), SECRET_NEW)
    );
}
