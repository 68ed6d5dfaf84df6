//! Dead-letter operations: list leaves letters in place, replay after fixing the cause routes
//! them (configured shops, and with a `[store]` the shops installed since), purge deletes only
//! what matches.

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use orderflow::dlq::{self, Filter};
use orderflow::event::partition;
use orderflow::id::ShopDomain;
use orderflow::queue::{Names, Publisher};

use crate::harness::broker::drain;
use crate::harness::{SHOP, TestApp, fixture};

const STRANGER: &str = "stranger.myshopify.com";

async fn dead_letter_two(app: &TestApp) {
    let body = fixture("orders/create");
    let stranger = app
        .delivery_with("orders/create", "wh-stranger", &body, |h| {
            for (k, v) in h.iter_mut() {
                if *k == "X-Shopify-Shop-Domain" {
                    *v = STRANGER.into();
                }
            }
        })
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 200);
    let junk = app
        .delivery("orders/create", "wh-junk", b"not json")
        .send()
        .await
        .unwrap();
    assert_eq!(junk.status(), 200);
}

fn publisher(app: &TestApp) -> Publisher {
    Publisher::new(
        app.broker.clone(),
        Names::new(&app.prefix),
        Duration::from_secs(3),
    )
}

fn shops(list: &[&str]) -> HashSet<ShopDomain> {
    list.iter().map(|s| ShopDomain::parse(s).unwrap()).collect()
}

#[tokio::test]
async fn list_shows_dead_letters_and_leaves_them_in_place() {
    let app = TestApp::spawn("dlqlist").await;
    dead_letter_two(&app).await;
    let p = publisher(&app);
    for _ in 0..2 {
        let report = dlq::list(&p, &Filter::default()).await.unwrap();
        let mut reasons: Vec<_> = report.matched.iter().map(|l| l.reason.clone()).collect();
        reasons.sort();
        assert_eq!(reasons, ["not_json", "unknown_shop"]);
    }
    let only = dlq::list(
        &p,
        &Filter {
            shop: Some(STRANGER.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(only.matched.len(), 1);
    assert_eq!(only.matched[0].message.webhook_id(), "wh-stranger");
    app.stop().await;
}

#[tokio::test]
async fn replay_after_adding_the_shop_routes_the_webhook_and_keeps_what_is_still_broken() {
    let app = TestApp::spawn("dlqreplay").await;
    dead_letter_two(&app).await;
    let p = publisher(&app);
    // Not fixed yet: nothing moves.
    let report = dlq::replay(&p, &Filter::default(), &shops(&[SHOP]), app.partitions)
        .await
        .unwrap();
    assert!(report.matched.is_empty());
    assert_eq!(report.kept.len(), 2);
    // The shop is added to the config: its webhook is replayed into its order's partition.
    let report = dlq::replay(
        &p,
        &Filter::default(),
        &shops(&[SHOP, STRANGER]),
        app.partitions,
    )
    .await
    .unwrap();
    assert_eq!(report.matched.len(), 1);
    assert_eq!(report.kept.len(), 1, "the non-JSON body stays");
    let names = Names::new(&app.prefix);
    let part = partition(STRANGER, "820982911946154508", app.partitions);
    let routed = drain(&names.partition_queue(part)).await;
    assert_eq!(routed.len(), 1);
    assert_eq!(
        routed[0].header("orderflow-order-id"),
        Some("820982911946154508")
    );
    assert_eq!(
        routed[0].header("reason"),
        None,
        "dead-letter headers do not travel"
    );
    let left = drain(&names.dead_queue()).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].header("reason"), Some("not_json"));
    app.stop().await;
}

#[tokio::test]
async fn purge_deletes_only_the_matching_letters() {
    let app = TestApp::spawn("dlqpurge").await;
    dead_letter_two(&app).await;
    let p = publisher(&app);
    let report = dlq::purge(
        &p,
        &Filter {
            reason: Some("not_json".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(report.matched.len(), 1);
    let left = drain(&Names::new(&app.prefix).dead_queue()).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].header("reason"), Some("unknown_shop"));
    app.stop().await;
}

#[tokio::test]
async fn dlq_list_command_prints_a_table_and_purge_needs_yes() {
    let app = TestApp::spawn("dlqcli").await;
    dead_letter_two(&app).await;
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_orderflow"))
            .args(args)
            .args(["--config", "fixtures/config/example.toml"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("ORDERFLOW_AMQP__PREFIX", &app.prefix)
            .env("ORDERFLOW_AMQP__PARTITIONS", app.partitions.to_string())
            .output()
            .unwrap()
    };
    let out = run(&["dlq", "list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("unknown_shop") && stdout.contains(STRANGER),
        "{stdout}"
    );
    assert!(stdout.contains("2 dead letter(s)"), "{stdout}");
    let refused = run(&["dlq", "purge"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        dlq::list(&publisher(&app), &Filter::default())
            .await
            .unwrap()
            .matched
            .len(),
        2
    );
    let purged = run(&["dlq", "purge", "--yes"]);
    assert!(String::from_utf8_lossy(&purged.stdout).contains("purged 2"));
    app.stop().await;
}

#[tokio::test]
async fn replay_command_routes_a_shop_installed_after_its_letter_was_dead_lettered() {
    use crate::harness::db::{KEY, TestDb};
    use orderflow::clock::{Clock as _, SystemClock};
    use orderflow::store::{Store, TokenGrant};
    use secrecy::SecretString;

    let app = TestApp::spawn("dlqinstalled").await;
    dead_letter_two(&app).await;
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
    )
    .unwrap();
    let config = dir.path().join("orderflow.toml");
    std::fs::write(
        &config,
        format!(
            "{example}\n[store]\nurl = \"{}\"\nencryption_key = \"{KEY}\"\n",
            db.url
        ),
    )
    .unwrap();
    let replay = || {
        Command::new(env!("CARGO_BIN_EXE_orderflow"))
            .args(["dlq", "replay", "--config"])
            .arg(&config)
            .env("ORDERFLOW_AMQP__PREFIX", &app.prefix)
            .env("ORDERFLOW_AMQP__PARTITIONS", app.partitions.to_string())
            .output()
            .unwrap()
    };
    // Not installed yet: both letters stay.
    let out = replay();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("replayed 0"), "{stdout}");
    // The stranger installs the app; the replay reads the store and routes its webhook.
    let store = Store::connect(&db.config(KEY)).await.unwrap();
    let now = SystemClock.now();
    let grant = TokenGrant {
        access_token: SecretString::from("shpat_dlq-sentinel-access"),
        access_expires_at: Some(now + jiff::SignedDuration::from_secs(3600)),
        refresh_token: Some(SecretString::from("shprt_dlq-sentinel-refresh")),
        refresh_expires_at: Some(now + jiff::SignedDuration::from_hours(90 * 24)),
        scopes: "read_orders,write_orders".to_owned(),
    };
    store
        .install(&ShopDomain::parse(STRANGER).unwrap(), &grant, None, now)
        .await
        .unwrap();
    let out = replay();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("replayed 1"), "{stdout}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "the non-JSON body is kept: {stdout}"
    );
    let names = Names::new(&app.prefix);
    let part = partition(STRANGER, "820982911946154508", app.partitions);
    let routed = drain(&names.partition_queue(part)).await;
    assert_eq!(routed.len(), 1);
    assert_eq!(routed[0].header("X-Shopify-Shop-Domain"), Some(STRANGER));
    assert_eq!(
        routed[0].header("orderflow-order-id"),
        Some("820982911946154508")
    );
    let left = drain(&names.dead_queue()).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].header("reason"), Some("not_json"));
    let output = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!output.contains("sentinel"), "no token printed: {output}");
    store.close().await;
    app.stop().await;
}

#[tokio::test]
async fn replay_command_with_a_store_that_does_not_answer_says_so_and_moves_nothing() {
    let app = TestApp::spawn("dlqnostore").await;
    dead_letter_two(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
    )
    .unwrap();
    let config = dir.path().join("orderflow.toml");
    // Nothing listens on port 9 of localhost (discard).
    std::fs::write(
        &config,
        format!(
            "{example}\n[store]\nurl = \"postgres://postgres:pw-sentinel@127.0.0.1:9/none\"\nencryption_key = \"{}\"\n",
            crate::harness::db::KEY
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["dlq", "replay", "--config"])
        .arg(&config)
        .env("ORDERFLOW_AMQP__PREFIX", &app.prefix)
        .env("ORDERFLOW_AMQP__PARTITIONS", app.partitions.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cannot read the installed shops"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("pw-sentinel"),
        "the password is not printed: {stderr}"
    );
    assert_eq!(drain(&Names::new(&app.prefix).dead_queue()).await.len(), 2);
    app.stop().await;
}
