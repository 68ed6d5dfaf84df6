//! `orderflow webhooks toml`: the subscriptions declared for `shopify.app.toml` are exactly the
//! topics the receiver routes, and the output is TOML of the shape Shopify reads. The children:
//! `sync` and `check` repairing subscriptions (`sync`), `--shop all` over configured and
//! installed shops (`all_shops`), the sandbox's subscription mutations and control routes
//! (`sandbox_api`), and the working process's check and the receiver's gauge (`worker`).

mod all_shops;
mod sandbox_api;
mod sync;
mod worker;

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

/// POSTs the registered `WebhookSubscriptionsPage` document for `shop` to the sandbox.
async fn subscriptions_page(
    sandbox: &orderflow::sandbox::Sandbox,
    shop: &str,
    token: &str,
    after: Option<&str>,
) -> serde_json::Value {
    let doc = orderflow::shopify::documents::WEBHOOK_SUBSCRIPTIONS_PAGE;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/admin/api/2026-10/graphql.json",
            sandbox.base_url()
        ))
        .header("Host", shop)
        .header("X-Shopify-Access-Token", token)
        .json(&serde_json::json!({
            "query": doc.text(),
            "operationName": doc.operation(),
            "variables": {"after": after},
        }))
        .send()
        .await
        .expect("sandbox answers");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON body")
}

#[tokio::test]
async fn the_sandbox_lists_each_shops_own_subscriptions_a_page_at_a_time() {
    use orderflow::id::ShopDomain;
    use secrecy::SecretString;

    let h = crate::shopify::harness().await;
    let acme = ShopDomain::parse(crate::shopify::SHOP).unwrap();
    let other = ShopDomain::parse("other-shop.myshopify.com").unwrap();
    h.sandbox
        .add_shop(other.clone(), SecretString::from("shpat_other".to_owned()));
    let uri = "https://orderflow.example.com/webhooks";
    for _ in 0..100 {
        h.sandbox
            .add_webhook_subscription(&acme, "ORDERS_CREATE", uri)
            .expect("acme exists");
    }
    let last = h
        .sandbox
        .add_webhook_subscription(&acme, "FULFILLMENT_HOLDS_ADDED", uri)
        .unwrap();
    h.sandbox
        .add_webhook_subscription(&other, "APP_UNINSTALLED", "https://elsewhere.example/hooks")
        .unwrap();
    assert!(
        h.sandbox
            .add_webhook_subscription(
                &ShopDomain::parse("missing.myshopify.com").unwrap(),
                "ORDERS_CREATE",
                uri
            )
            .is_none()
    );

    let first = subscriptions_page(
        &h.sandbox,
        crate::shopify::SHOP,
        crate::shopify::TOKEN,
        None,
    )
    .await;
    let page = &first["data"]["webhookSubscriptions"];
    assert_eq!(page["nodes"].as_array().map(Vec::len), Some(100), "{first}");
    assert_eq!(page["nodes"][0]["topic"], "ORDERS_CREATE");
    assert_eq!(page["nodes"][0]["uri"], uri);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let after = page["pageInfo"]["endCursor"].as_str().expect("a cursor");

    let second = subscriptions_page(
        &h.sandbox,
        crate::shopify::SHOP,
        crate::shopify::TOKEN,
        Some(after),
    )
    .await;
    let page = &second["data"]["webhookSubscriptions"];
    assert_eq!(
        page["nodes"],
        serde_json::json!([{"id": last, "topic": "FULFILLMENT_HOLDS_ADDED", "uri": uri}]),
        "{second}"
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    // Each shop sees only its own.
    let others = subscriptions_page(&h.sandbox, other.as_str(), "shpat_other", None).await;
    assert_eq!(
        others["data"]["webhookSubscriptions"]["nodes"][0]["topic"], "APP_UNINSTALLED",
        "{others}"
    );
    assert_eq!(
        others["data"]["webhookSubscriptions"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_marks_missing_and_misdirected_topics_and_exits_1_until_all_are_subscribed() {
    use orderflow::id::ShopDomain;

    let h = crate::shopify::harness().await;
    let acme = ShopDomain::parse(crate::shopify::SHOP).unwrap();
    let uri = "https://orderflow.example.com/webhooks";
    let topic_enum = |t: &str| t.to_ascii_uppercase().replace('/', "_");
    // Every topic but two: orders/paid missing, orders/create sent elsewhere.
    for t in SUBSCRIBED_TOPICS {
        match *t {
            "orders/paid" => {}
            "orders/create" => {
                h.sandbox
                    .add_webhook_subscription(&acme, &topic_enum(t), "https://old.example/hooks")
                    .unwrap();
            }
            _ => {
                h.sandbox
                    .add_webhook_subscription(&acme, &topic_enum(t), uri)
                    .unwrap();
            }
        }
    }
    let config = format!(
        r#"
[shopify]
client_secrets = ["x"]
app_url = "https://orderflow.example.com"
[[shops]]
domain = "{}"
access_token = "{}"
admin_api_url = "{}"
timezone = "UTC"
"#,
        crate::shopify::SHOP,
        crate::shopify::TOKEN,
        h.sandbox.base_url()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orderflow.toml");
    std::fs::write(&path, config).unwrap();
    let run = || {
        let path = path.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .args([
                    "webhooks",
                    "check",
                    "--shop",
                    crate::shopify::SHOP,
                    "--config",
                ])
                .arg(&path)
                .output()
                .await
                .unwrap()
        }
    };

    let out = run().await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |t: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(t))
            .unwrap_or_else(|| panic!("no line for {t}: {stdout}"))
            .to_owned()
    };
    assert!(line("orders/paid").ends_with("missing"), "{stdout}");
    assert!(
        line("orders/create").contains("elsewhere: https://old.example/hooks"),
        "{stdout}"
    );
    for t in SUBSCRIBED_TOPICS
        .iter()
        .filter(|t| !["orders/paid", "orders/create"].contains(t))
    {
        assert!(line(t).ends_with(" ok"), "{t}: {stdout}");
    }
    assert!(
        !stdout.contains("customers/redact"),
        "compliance topics cannot be listed"
    );

    // Once both are subscribed to orderflow, the check passes.
    for t in ["orders/paid", "orders/create"] {
        h.sandbox
            .add_webhook_subscription(&acme, &topic_enum(t), uri)
            .unwrap();
    }
    let out = run().await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
