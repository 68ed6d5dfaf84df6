//! End to end: signed webhooks into the receiver, the real broker, the workers, the sandbox
//! shop. Every wait is a condition with a deadline.

use std::collections::BTreeMap;
use std::time::Duration;

use orderflow::rules;
use orderflow::sandbox::Fault;
use orderflow::shopify::snapshot::{RiskLevel, RiskRecommendation};

use crate::harness::broker::drain;
use crate::harness::e2e::{E2eOptions, Shop, start_instant};
use crate::harness::eventually;

const FIXTURES: &[&str] = &[
    "digital",
    "mixed",
    "handmade",
    "high-risk",
    "risk-pending",
    "preorder",
    "pickup",
    "fulfilled",
    "cancelled",
    "large-300-lines",
    "seven-locations",
    "gift-card",
];

/// The plan's changes for the fixture as loaded, at the tests' start instant.
pub(crate) fn planned_changes(shop: &Shop, fixture: &str) -> usize {
    let order = Shop::fixture(fixture).to_rules_order();
    let rules = &shop.app_rules();
    rules::plan(&order, rules, start_instant())
        .changes()
        .count()
}

impl Shop {
    fn app_rules(&self) -> std::sync::Arc<rules::Rules> {
        // The rules the app runs with are the example's; resolve them the same way.
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
        )
        .unwrap();
        let env = orderflow::config::Env::default();
        let c =
            orderflow::config::Config::from_toml(&text, std::path::Path::new("example.toml"), &env)
                .expect("example config");
        c.shops[0].rules.clone()
    }

    pub(crate) async fn still_planned(&self, fixture: &str) -> Vec<String> {
        let order = self.snapshot(fixture).await.to_rules_order();
        rules::plan(&order, &self.app_rules(), self.clock_now())
            .changes()
            .map(|s| format!("{:?}", s.action))
            .collect()
    }

    fn clock_now(&self) -> jiff::Timestamp {
        use orderflow::clock::Clock;
        self.clock.now()
    }
}

#[tokio::test]
async fn every_fixture_order_converges_with_exactly_its_planned_mutations() {
    let shop = Shop::start("e2eall").await;
    let expected: BTreeMap<&str, usize> = FIXTURES
        .iter()
        .map(|f| (*f, planned_changes(&shop, f)))
        .collect();
    for f in FIXTURES {
        shop.send(f, "orders/create", &format!("wh-create-{f}"))
            .await;
    }
    shop.wait_settled(FIXTURES.len() as u64).await;
    for f in FIXTURES {
        let want = expected[f];
        let got = shop.wait_mutations(f, want).await;
        assert_eq!(got, want, "{f}: exactly the planned mutations, none twice");
        let left = shop.still_planned(f).await;
        assert!(left.is_empty(), "{f} is as the rules want it: {left:?}");
    }
    // Spot checks a merchant would make.
    assert!(
        shop.order("digital")
            .fulfillment_orders
            .iter()
            .all(|fo| fo.line_items.iter().all(|l| l.remaining_quantity == 0))
    );
    assert_eq!(shop.hold_handles("handmade"), ["orderflow-processing"]);
    assert_eq!(shop.hold_handles("high-risk"), ["orderflow-fraud"]);
    assert!(shop.mutations_of("cancelled").is_empty());
    assert!(
        shop.order("high-risk")
            .tags
            .contains(&"orderflow:fraud-hold".to_owned())
    );
    let mixed = shop.order("mixed");
    let remaining: u32 = mixed
        .fulfillment_orders
        .iter()
        .flat_map(|f| &f.line_items)
        .map(|l| l.remaining_quantity)
        .sum();
    assert!(
        remaining > 0,
        "the manual line of the mixed order is left for a person"
    );
    assert!(
        shop.snapshot("mixed").await.decision.is_some(),
        "the decision is recorded on the order"
    );
    assert!(
        drain(&orderflow::queue::Names::new(&shop.app.prefix).dead_queue())
            .await
            .is_empty()
    );
    shop.stop().await;
}

#[tokio::test]
async fn duplicates_and_updated_before_create_apply_each_mutation_once() {
    let shop = Shop::start("e2edup").await;
    let want = planned_changes(&shop, "digital");
    shop.send("digital", "orders/updated", "wh-upd").await;
    shop.send("digital", "orders/create", "wh-create").await;
    // Shopify resending (same id) is deduped by the receiver; a re-delivery under a new id
    // (another subscription) reaches the worker and must change nothing.
    shop.send("digital", "orders/create", "wh-create").await;
    shop.send("digital", "orders/paid", "wh-paid").await;
    shop.wait_settled(3).await;
    assert_eq!(shop.mutations_of("digital").len(), want);
    assert!(shop.still_planned("digital").await.is_empty());
    shop.stop().await;
}

#[tokio::test]
async fn shopify_500s_and_a_throttled_storm_converge_without_surfacing_errors() {
    let shop = Shop::start("e2efaults").await;
    shop.sandbox.inject(Fault::Http500, 3);
    shop.sandbox.inject(Fault::Throttled, 5);
    let want = planned_changes(&shop, "digital");
    shop.send("digital", "orders/create", "wh-f").await;
    shop.wait_mutations("digital", want).await;
    assert_eq!(shop.mutations_of("digital").len(), want);
    let metrics = shop.app.metrics.encode();
    assert!(
        !metrics.contains("disposition=\"dead_letter\""),
        "{metrics}"
    );
    assert!(
        !metrics.contains("outcome=\"transient\""),
        "the client absorbed every fault: {metrics}"
    );
    shop.stop().await;
}

#[tokio::test]
async fn processing_hold_is_released_when_the_clock_passes_ship_by() {
    let shop = Shop::start("e2eship").await;
    shop.send("handmade", "orders/create", "wh-hm").await;
    eventually(Duration::from_secs(20), "the processing hold", || async {
        (shop.hold_handles("handmade") == ["orderflow-processing"]).then_some(())
    })
    .await;
    // Three business days later, after the 13:00 cut-off.
    shop.clock.advance(jiff::SignedDuration::from_hours(4 * 24));
    eventually(Duration::from_secs(20), "the hold's release", || async {
        shop.hold_handles("handmade").is_empty().then_some(())
    })
    .await;
    let releases = shop
        .mutations_of("handmade")
        .iter()
        .filter(|m| m.fields.iter().any(|f| f == "fulfillmentOrderReleaseHold"))
        .count();
    assert_eq!(releases, 1);
    shop.stop().await;
}

#[tokio::test]
async fn fraud_hold_is_released_when_risk_turns_accept_and_the_webhook_arrives() {
    let shop = Shop::start("e2efraud").await;
    shop.send("high-risk", "orders/create", "wh-hr").await;
    eventually(Duration::from_secs(20), "the fraud hold", || async {
        (shop.hold_handles("high-risk") == ["orderflow-fraud"]).then_some(())
    })
    .await;
    let gid = Shop::fixture("high-risk").id;
    assert!(shop.sandbox.set_risk(
        &shop.shop,
        &gid,
        RiskRecommendation::Accept,
        &[RiskLevel::Low]
    ));
    // What Shopify sends when an assessment changes: the order's ids and the new level.
    let order_id = orderflow::id::OrderId::from_gid(&gid).unwrap().0;
    let body = format!(
        r#"{{"provider_id":null,"provider_title":"Shopify","risk_level":"low","created_at":null,"order_id":{order_id},"admin_graphql_api_order_id":"{gid}"}}"#
    );
    shop.send_body("orders/risk_assessment_changed", "wh-risk", body.as_bytes())
        .await;
    eventually(
        Duration::from_secs(20),
        "the fraud hold's release",
        || async { shop.hold_handles("high-risk").is_empty().then_some(()) },
    )
    .await;
    eventually(Duration::from_secs(20), "the fraud tag removed", || async {
        (!shop
            .order("high-risk")
            .tags
            .contains(&"orderflow:fraud-hold".to_owned()))
        .then_some(())
    })
    .await;
    shop.stop().await;
}

#[tokio::test]
async fn a_hold_a_person_released_is_not_placed_again() {
    let shop = Shop::start("e2eperson").await;
    shop.send("handmade", "orders/create", "wh-1").await;
    eventually(Duration::from_secs(20), "the processing hold", || async {
        (shop.hold_handles("handmade") == ["orderflow-processing"]).then_some(())
    })
    .await;
    let fo = shop.order("handmade").fulfillment_orders[0].id.clone();
    assert!(shop.sandbox.release_by_hand(&shop.shop, &fo, None));
    let settled = shop.settled();
    shop.send("handmade", "orders/updated", "wh-2").await;
    shop.wait_settled(settled + 1).await;
    let holds = shop
        .mutations_of("handmade")
        .iter()
        .filter(|m| m.fields.iter().any(|f| f == "fulfillmentOrderHold"))
        .count();
    assert_eq!(holds, 1, "the person's decision wins");
    assert!(shop.hold_handles("handmade").is_empty());
    let decision = shop
        .snapshot("handmade")
        .await
        .decision
        .expect("decision")
        .value;
    assert!(decision.contains("released_by_person"), "{decision}");
    shop.stop().await;
}

#[tokio::test]
async fn a_permanent_error_dead_letters_once_and_replay_applies_after_the_fix() {
    let shop = Shop::start_with(
        "e2eperm",
        E2eOptions {
            max_attempts: Some(3),
            ..Default::default()
        },
    )
    .await;
    shop.sandbox.revoke_token(&shop.shop);
    shop.send("digital", "orders/create", "wh-perm").await;
    let dead_queue = orderflow::queue::Names::new(&shop.app.prefix).dead_queue();
    let publisher = orderflow::queue::Publisher::new(
        shop.app.broker.clone(),
        orderflow::queue::Names::new(&shop.app.prefix),
        Duration::from_secs(3),
    );
    let letters = eventually(Duration::from_secs(20), "the dead letter", || async {
        let r = orderflow::dlq::list(&publisher, &Default::default())
            .await
            .unwrap();
        (!r.matched.is_empty()).then_some(r.matched)
    })
    .await;
    assert_eq!(letters.len(), 1, "dead-lettered once");
    assert_eq!(letters[0].reason, "unauthorized");
    assert!(shop.mutations_of("digital").is_empty());
    // The merchant reinstalls: the token works again. Replay.
    shop.sandbox.add_shop(
        shop.shop.clone(),
        secrecy::SecretString::from(crate::harness::TOKEN.to_owned()),
    );
    let shops = [shop.shop.clone()].into_iter().collect();
    let report =
        orderflow::dlq::replay(&publisher, &Default::default(), &shops, shop.app.partitions)
            .await
            .unwrap();
    assert_eq!(report.matched.len(), 1);
    let want = planned_changes(&shop, "digital");
    shop.wait_mutations("digital", want).await;
    assert!(drain(&dead_queue).await.is_empty());
    shop.stop().await;
}

#[tokio::test]
async fn a_worker_cut_off_between_its_mutations_and_the_ack_does_nothing_twice() {
    let (proxy, shop) = Shop::start_behind_proxy("e2ecrash").await;
    let want = planned_changes(&shop, "digital");
    assert_eq!(want, 2, "record the decision, then fulfil");
    // Requests: 1 snapshot, 2 metafieldsSet, 3 fulfillmentCreate (held back 3 s).
    shop.sandbox.inject(Fault::Delay { millis: 0 }, 2);
    shop.sandbox.inject(Fault::Delay { millis: 3000 }, 1);
    shop.send("digital", "orders/create", "wh-crash").await;
    eventually(Duration::from_secs(20), "the decision", || async {
        shop.mutations_of("digital")
            .iter()
            .any(|m| m.fields.iter().any(|f| f == "metafieldsSet"))
            .then_some(())
    })
    .await;
    // The worker is now waiting on its last mutation: take the broker away, so its ack fails.
    proxy.cut();
    eventually(
        Duration::from_secs(20),
        "the last mutation to land",
        || async { (shop.mutations_of("digital").len() == 2).then_some(()) },
    )
    .await;
    let requests_before = shop.sandbox.request_count();
    proxy.restore();
    // The worker may believe it acked (into a dead socket); the broker never got the ack, so
    // the message comes back and the order is read again.
    eventually(
        Duration::from_secs(30),
        "the redelivered message to re-read the order",
        || async { (shop.sandbox.request_count() > requests_before).then_some(()) },
    )
    .await;
    shop.wait_settled(1).await;
    assert_eq!(
        shop.mutations_of("digital").len(),
        want,
        "no mutation twice"
    );
    shop.stop().await;
}

#[tokio::test]
async fn two_worker_processes_never_share_an_order_and_survive_a_connection_loss() {
    let (proxy, shop) = Shop::start_behind_proxy("e2etwo").await;
    // A second worker process on the same queues, straight to the broker.
    let second = crate::harness::TestApp::spawn_with(
        "unused",
        crate::harness::Options {
            roles: Some(orderflow::app::Roles::WORK),
            admin_api_url: Some(shop.sandbox.base_url()),
            clock: Some(std::sync::Arc::new(shop.clock.clone())),
            prefix: Some(shop.app.prefix.clone()),
            extra_toml: crate::harness::e2e::rules_toml(5),
            ..Default::default()
        },
    )
    .await;
    let events = 10;
    for i in 0..events {
        shop.send("digital", "orders/updated", &format!("wh-two-{i}"))
            .await;
    }
    eventually(Duration::from_secs(30), "every event handled", || async {
        let a = crate::harness::e2e::settled_count(&shop.app.metrics.encode());
        let b = crate::harness::e2e::settled_count(&second.metrics.encode());
        (a + b >= events).then_some(())
    })
    .await;
    let a = crate::harness::e2e::settled_count(&shop.app.metrics.encode());
    let b = crate::harness::e2e::settled_count(&second.metrics.encode());
    assert!(
        a == 0 || b == 0,
        "one order's partition has one active consumer: {a} and {b}"
    );
    assert_eq!(
        shop.mutations_of("digital").len(),
        planned_changes(&shop, "digital")
    );

    // The first process loses its broker connection while orders keep coming.
    proxy.cut();
    // Restored only once the app has seen the loss: otherwise `wait_connected` below can answer
    // for the dead session, and the first webhook after it gets a (correct) 503.
    eventually(Duration::from_secs(15), "the cut is noticed", || async {
        (!shop.app.broker.is_ready()).then_some(())
    })
    .await;
    for f in ["mixed", "gift-card"] {
        let r = second
            .delivery_with(
                "orders/create",
                &format!("wh-two-{f}"),
                &std::fs::read(
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join(format!("fixtures/orders/{f}.webhook.json")),
                )
                .unwrap(),
                |_| {},
            )
            .send()
            .await
            .unwrap();
        // The second process only works; Shopify would retry against a receiver that is up.
        assert_eq!(r.status(), 404, "the work-only process has no /webhooks");
    }
    proxy.restore();
    shop.app
        .broker
        .wait_connected(Duration::from_secs(15))
        .await
        .expect("reconnects");
    for f in ["mixed", "gift-card"] {
        shop.send(f, "orders/create", &format!("wh-after-{f}"))
            .await;
    }
    for f in ["mixed", "gift-card"] {
        let want = planned_changes(&shop, f);
        shop.wait_mutations(f, want).await;
        assert_eq!(shop.mutations_of(f).len(), want);
    }
    second.shutdown.cancel();
    let _ = second.stopped.await;
    shop.stop().await;
}

#[tokio::test]
async fn the_broker_closing_the_apps_connection_loses_nothing() {
    let shop = Shop::start("e2eclose").await;
    shop.send("digital", "orders/create", "wh-before").await;
    let want = planned_changes(&shop, "digital");
    shop.wait_mutations("digital", want).await;
    // What `rabbitmqctl close_all_connections` does, limited to this app's connection so the
    // tests running beside it keep theirs.
    let closed = close_connections_named(&format!("orderflow {}", shop.app.prefix));
    assert!(closed >= 1, "the app's connection was found and closed");
    // Shopify retries until it gets a 200; so does this loop.
    for f in ["mixed", "gift-card"] {
        let body = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("fixtures/orders/{f}.webhook.json")),
        )
        .unwrap();
        eventually(
            Duration::from_secs(20),
            &format!("{f} accepted"),
            || async {
                let r = shop
                    .app
                    .delivery_with("orders/create", &format!("wh-after-{f}"), &body, |h| {
                        for (k, v) in h.iter_mut() {
                            if *k == "X-Shopify-Hmac-Sha256" {
                                *v = crate::harness::signature(&body, crate::harness::SECRET_NEW);
                            }
                        }
                    })
                    .send()
                    .await
                    .ok()?;
                (r.status() == 200).then_some(())
            },
        )
        .await;
    }
    for f in ["mixed", "gift-card"] {
        let want = planned_changes(&shop, f);
        shop.wait_mutations(f, want).await;
        assert_eq!(shop.mutations_of(f).len(), want);
    }
    assert_eq!(shop.mutations_of("digital").len(), want, "nothing redone");
    shop.stop().await;
}

/// Closes, with `rabbitmqctl`, every broker connection whose client-given name is `name`.
fn close_connections_named(name: &str) -> usize {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["list_connections", "-q", "pid", "client_properties"])
        .output()
        .expect("rabbitmqctl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = String::from_utf8_lossy(&out.stdout);
    let needle = format!("{{\"connection_name\",\"{name}\"}}");
    let mut closed = 0;
    for line in listing.lines().filter(|l| l.contains(&needle)) {
        let pid = line.split_whitespace().next().expect("a pid column");
        let status = std::process::Command::new("rabbitmqctl")
            .args([
                "close_connection",
                pid,
                "orderflow test: connection closed under the worker",
            ])
            .status()
            .expect("rabbitmqctl runs");
        assert!(status.success());
        closed += 1;
    }
    closed
}

#[tokio::test]
async fn a_dry_run_shop_is_planned_and_logged_but_sent_nothing() {
    let shop = Shop::start_with(
        "e2edry",
        E2eOptions {
            dry_run: true,
            ..Default::default()
        },
    )
    .await;
    for f in ["digital", "handmade", "high-risk"] {
        shop.send(f, "orders/create", &format!("wh-dry-{f}")).await;
    }
    shop.wait_settled(3).await;
    assert!(
        shop.sandbox.mutations().is_empty(),
        "no mutation in a dry run"
    );
    assert!(
        shop.sandbox.request_count() >= 3,
        "each order was read and planned"
    );
    shop.stop().await;
}

#[tokio::test]
async fn uninstall_dead_letters_later_messages_and_redaction_purges_the_shops_dead_letters() {
    let shop = Shop::start("e2ecompliance").await;
    let uninstall = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/webhooks/app/uninstalled.json"),
    )
    .unwrap();
    shop.send_body("app/uninstalled", "wh-uninstall", &uninstall)
        .await;
    shop.wait_settled(1).await;
    // Shopify revokes the token at once; orderflow does not even try.
    shop.send("digital", "orders/updated", "wh-after-uninstall")
        .await;
    let publisher = orderflow::queue::Publisher::new(
        shop.app.broker.clone(),
        orderflow::queue::Names::new(&shop.app.prefix),
        Duration::from_secs(3),
    );
    let letters = eventually(Duration::from_secs(20), "the dead letter", || async {
        let r = orderflow::dlq::list(&publisher, &Default::default())
            .await
            .unwrap();
        (!r.matched.is_empty()).then_some(r.matched)
    })
    .await;
    assert_eq!(letters[0].reason, "unauthorized");
    assert!(shop.mutations_of("digital").is_empty());
    let requests = shop.sandbox.request_count();
    // 48 hours later Shopify asks to redact the shop's data: the dead letters go.
    shop.send_body(
        "shop/redact",
        "wh-redact",
        br#"{"shop_id":954889,"shop_domain":"acme.myshopify.com"}"#,
    )
    .await;
    eventually(
        Duration::from_secs(20),
        "the shop's dead letters purged",
        || async {
            let r = orderflow::dlq::list(&publisher, &Default::default())
                .await
                .unwrap();
            r.matched.is_empty().then_some(())
        },
    )
    .await;
    assert_eq!(
        shop.sandbox.request_count(),
        requests,
        "no Shopify call after the uninstall"
    );
    shop.stop().await;
}
