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
