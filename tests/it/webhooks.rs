//! `orderflow webhooks toml`: the subscriptions declared for `shopify.app.toml` are exactly the
//! topics the receiver routes, and the output is TOML of the shape Shopify reads.

use std::process::Command;

use orderflow::event::subject::{COMPLIANCE_TOPICS, SUBSCRIBED_TOPICS, TopicClass, classify};

const CONFIG: &str = r#"
[shopify]
client_secrets = ["x"]
auth = "client_credentials"
client_id = "id"
scopes = ["read_orders", "write_orders"]
app_url = "https://orderflow.example.com/"
[[shops]]
domain = "acme.myshopify.com"
timezone = "Europe/Berlin"
"#;

fn webhooks_toml(config: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orderflow.toml");
    std::fs::write(&path, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["webhooks", "toml", "--config"])
        .arg(&path)
        .output()
        .unwrap()
}

fn strings(v: &toml::Value) -> Vec<&str> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|s| s.as_str().expect("a string"))
        .collect()
}

#[test]
fn prints_every_routed_topic_as_parseable_shopify_app_toml() {
    let out = webhooks_toml(CONFIG);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: toml::Table = toml::from_str(&stdout).expect("the output is TOML");

    assert_eq!(
        doc["access_scopes"]["scopes"].as_str(),
        Some("read_orders,write_orders"),
        "the configured scopes"
    );
    let webhooks = doc["webhooks"].as_table().expect("[webhooks]");
    assert_eq!(webhooks["api_version"].as_str(), Some("2026-10"));
    let subs = webhooks["subscriptions"]
        .as_array()
        .expect("[[webhooks.subscriptions]]");
    assert_eq!(subs.len(), 2, "{stdout}");
    for sub in subs {
        // The trailing slash of app_url is not doubled.
        assert_eq!(
            sub["uri"].as_str(),
            Some("https://orderflow.example.com/webhooks")
        );
    }
    let topics = strings(&subs[0]["topics"]);
    let compliance = strings(&subs[1]["compliance_topics"]);

    // Every topic printed is one the receiver routes, in the block Shopify expects it in.
    for t in &topics {
        assert_ne!(
            classify(t),
            TopicClass::Other,
            "{t} is printed but not routed"
        );
        assert!(!COMPLIANCE_TOPICS.contains(t), "{t} is a compliance topic");
    }
    assert_eq!(
        compliance,
        ["customers/data_request", "customers/redact", "shop/redact"]
    );
    for t in &compliance {
        assert_eq!(classify(t), TopicClass::Compliance, "{t}");
    }
    // Every order and fulfilment-order topic of the receiver's list is printed, and the uninstall.
    let routed: Vec<&str> = SUBSCRIBED_TOPICS
        .iter()
        .copied()
        .filter(|t| {
            matches!(
                classify(t),
                TopicClass::Order | TopicClass::FulfillmentOrder
            )
        })
        .collect();
    assert!(routed.len() >= 12, "{routed:?}");
    for t in &routed {
        assert!(topics.contains(t), "{t} is routed but not printed");
    }
    for t in [
        "orders/create",
        "orders/updated",
        "fulfillment_holds/added",
        "app/uninstalled",
    ] {
        assert!(topics.contains(&t), "{t} missing from {topics:?}");
    }
    assert_eq!(topics.len(), SUBSCRIBED_TOPICS.len(), "no topic twice");
}

#[test]
fn a_missing_app_url_is_an_error_naming_the_key() {
    let config = CONFIG.replace("app_url = \"https://orderflow.example.com/\"\n", "");
    let out = webhooks_toml(&config);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "prints no half block");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("shopify.app_url"), "{stderr}");
    assert!(
        stderr.contains("/webhooks"),
        "says what the key is for: {stderr}"
    );
}
