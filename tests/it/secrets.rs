//! Secrets never leak: plant sentinel secrets, exercise every path that logs or reports, and
//! search everything that came out.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use orderflow::app::App;
use orderflow::clock::SystemClock;
use orderflow::config::{Config, Env};

use crate::harness::{eventually, fixture, logs, signature, unique_prefix};

const CLIENT_SECRET: &str = "sentinel-client-secret-7c1e";
const SHOP_TOKEN: &str = "sentinel-shop-token-93ab";
const AMQP_PASSWORD: &str = "sentinel-amqp-password-55d0";

fn config_text(prefix: &str, amqp_url: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
[amqp]
url = "{amqp_url}"
prefix = "{prefix}"
partitions = 2
[shopify]
client_secrets = ["${{CLIENT_SECRET}}"]
[[shops]]
domain = "acme.myshopify.com"
access_token = "${{SHOP_TOKEN}}"
"#
    )
}

fn env() -> Env {
    Env::from_pairs([("CLIENT_SECRET", CLIENT_SECRET), ("SHOP_TOKEN", SHOP_TOKEN)])
}

fn assert_clean(what: &str, text: &str) {
    for secret in [CLIENT_SECRET, SHOP_TOKEN, AMQP_PASSWORD] {
        assert!(!text.contains(secret), "{secret} leaked in {what}:\n{text}");
    }
}

#[tokio::test]
async fn planted_secrets_appear_in_no_log_debug_error_or_check_output() {
    logs::init();
    let mut outputs = Vec::new();

    // The broker refuses the password: the connection error is logged.
    let wrong_password = format!("amqp://guest:{AMQP_PASSWORD}@127.0.0.1:5672/%2f");
    // Nothing answers: connection errors and 503s are logged.
    let unreachable = format!("amqp://guest:{AMQP_PASSWORD}@127.0.0.1:1/%2f");
    for url in [wrong_password, unreachable] {
        let prefix = unique_prefix("secrets");
        let config = Config::from_toml(&config_text(&prefix, &url), Path::new("s.toml"), &env())
            .expect("valid");
        outputs.push(format!("{config:?}"));
        outputs.push(config.redacted());
        let app = App::build(config, Arc::new(SystemClock)).await.unwrap();
        let addr = app.local_addr();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let stopped = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        let http = reqwest::Client::new();
        let body = fixture("orders/create");
        let send = |sig: String| {
            http.post(format!("http://{addr}/webhooks"))
                .header("X-Shopify-Topic", "orders/create")
                .header("X-Shopify-Shop-Domain", "acme.myshopify.com")
                .header("X-Shopify-Webhook-Id", "wh-secret")
                .header("X-Shopify-Hmac-Sha256", sig)
                .body(body.clone())
                .send()
        };
        let ok = send(signature(&body, CLIENT_SECRET)).await.unwrap();
        assert_eq!(
            ok.status(),
            503,
            "no broker session with a wrong or unreachable broker"
        );
        outputs.push(ok.text().await.unwrap());
        let bad = send(signature(&body, "wrong")).await.unwrap();
        assert_eq!(bad.status(), 401);
        outputs.push(bad.text().await.unwrap());
        // Wait until a connection failure has been logged for this attempt.
        eventually(
            Duration::from_secs(10),
            "a logged broker connection failure",
            || async {
                logs::captured()
                    .contains("cannot connect to the broker")
                    .then_some(())
            },
        )
        .await;
        shutdown.cancel();
        stopped.await.unwrap().unwrap();
    }

    // Config errors next to secrets.
    let bad = config_text("p", "amqp://u:pw@h/%2f").replace(
        "access_token = \"${SHOP_TOKEN}\"",
        "access_token = \"${SHOP_TOKEN}\"\ntimezone = \"Nowhere/City\"",
    );
    let err = Config::from_toml(&bad, Path::new("s.toml"), &env()).unwrap_err();
    outputs.push(err.to_string());
    outputs.push(format!("{err:?}"));
    let bad_url = config_text("p", &format!("http://u:{AMQP_PASSWORD}@h"));
    let err = Config::from_toml(&bad_url, Path::new("s.toml"), &env()).unwrap_err();
    assert!(err.to_string().contains("amqp.url"));
    outputs.push(err.to_string());

    // A cluster's `urls`: every node's password, in check, Debug, errors and the logs of a
    // supervisor that tries each node in turn (nothing answers on ports 1 and 2).
    let cluster =
        |urls: &str| config_text("p", "x").replace("url = \"x\"", &format!("urls = [{urls}]"));
    let nodes = format!(
        "\"amqp://guest:{AMQP_PASSWORD}@127.0.0.1:1/%2f\", \"amqp://guest:{AMQP_PASSWORD}@127.0.0.1:2/%2f\""
    );
    let config = Config::from_toml(&cluster(&nodes), Path::new("s.toml"), &env()).expect("valid");
    outputs.push(format!("{config:?}"));
    outputs.push(config.redacted());
    assert!(
        config
            .redacted()
            .contains("urls = [\"amqp://guest:***@127.0.0.1:1/%2f\"")
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let broker = orderflow::queue::Broker::start(
        config.amqp.urls.clone(),
        orderflow::queue::Topology::for_config(&config.amqp),
        stop.clone(),
    );
    outputs.push(format!("{broker:?}"));
    eventually(
        Duration::from_secs(10),
        "each node's failure logged",
        || async {
            let logs = logs::captured();
            (logs.contains("127.0.0.1:1/%2f") && logs.contains("127.0.0.1:2/%2f")).then_some(())
        },
    )
    .await;
    stop.cancel();
    broker.closed().await;
    let both = cluster(&nodes).replace(
        "[amqp]",
        &format!("[amqp]\nurl = \"amqp://u:{AMQP_PASSWORD}@h/%2f\""),
    );
    let err = Config::from_toml(&both, Path::new("s.toml"), &env()).unwrap_err();
    assert!(err.to_string().contains("amqp.urls"), "{err}");
    outputs.push(err.to_string());
    let bad_node = cluster(&format!("\"amqp://h/%2f\", \"http://u:{AMQP_PASSWORD}@h\""));
    let err = Config::from_toml(&bad_node, Path::new("s.toml"), &env()).unwrap_err();
    assert!(err.to_string().contains("amqp.urls[1]"), "{err}");
    outputs.push(err.to_string());

    for (i, out) in outputs.iter().enumerate() {
        assert_clean(&format!("output #{i}"), out);
    }
    let captured = logs::captured();
    assert!(captured.contains("wh-secret"), "the logs were captured");
    assert_clean("the logs", &captured);
}
