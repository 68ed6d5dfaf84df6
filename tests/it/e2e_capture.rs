//! End to end: authorized payments are captured when the shop's `[payment] capture` policy says
//! so, before the authorization expires at the latest, and never twice (issue 11, item 2). Real
//! broker, real workers, the sandbox shop.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use orderflow::clock::Clock;
use orderflow::rules::enums::{FinancialStatus, RiskLevel, RiskRecommendation};
use orderflow::sandbox::Fault;
use orderflow::shopify::OrderSnapshot;
use orderflow::shopify::snapshot::{Money, PresentmentBag, Transaction};

use crate::harness::e2e::{E2eOptions, Shop};
use crate::harness::eventually;

fn capturing(policy: &'static str) -> E2eOptions {
    E2eOptions {
        capture: Some(policy),
        ..Default::default()
    }
}

/// The `orderCapture`s the shop received for the fixture order.
fn captures(shop: &Shop, fixture: &str) -> Vec<serde_json::Value> {
    shop.mutations_of(fixture)
        .into_iter()
        .filter(|m| m.fields.iter().any(|f| f == "orderCapture"))
        .map(|m| m.variables)
        .collect()
}

async fn wait_captures(shop: &Shop, fixture: &str, n: usize) {
    eventually(
        Duration::from_secs(30),
        &format!("{n} orderCapture of {fixture}"),
        || async { (captures(shop, fixture).len() >= n).then_some(()) },
    )
    .await;
}

/// Sends an order event and waits until the workers settled it.
async fn event(shop: &Shop, fixture: &str, webhook_id: &str) {
    let settled = shop.settled();
    shop.send(fixture, "orders/updated", webhook_id).await;
    shop.wait_settled(settled + 1).await;
}

/// The fixture with its payment authorized, not captured, expiring at `expires`.
fn authorized(fixture: &str, amount: &str, expires: Timestamp) -> OrderSnapshot {
    let mut snap = Shop::fixture(fixture);
    snap.display_financial_status = Some(FinancialStatus::Authorized);
    snap.transactions = vec![Transaction {
        id: Some("gid://shopify/OrderTransaction/777".into()),
        kind: "AUTHORIZATION".into(),
        status: "SUCCESS".into(),
        processed_at: Some(snap.processed_at),
        amount_set: Some(PresentmentBag {
            presentment_money: Money {
                amount: amount.parse().unwrap(),
                currency_code: "EUR".into(),
            },
        }),
        authorization_expires_at: Some(expires),
        ..Default::default()
    }];
    snap
}

fn in_a_week(shop: &Shop) -> Timestamp {
    shop.clock.now() + SignedDuration::from_hours(7 * 24)
}

#[tokio::test]
async fn on_fulfilment_captures_an_auto_fulfilled_order_exactly_once() {
    let shop = Shop::start_with("e2ecapture", capturing("on_fulfilment")).await;
    shop.send("authorized", "orders/create", "wh-p1").await;
    wait_captures(&shop, "authorized", 1).await;
    let sent = &captures(&shop, "authorized")[0]["input"];
    assert_eq!(sent["amount"], "24.00", "{sent}");
    assert_eq!(
        sent["parentTransactionId"], "gid://shopify/OrderTransaction/9120000001",
        "{sent}"
    );
    assert!(sent.get("currency").is_none(), "a single-currency order");
    let order = shop.order("authorized");
    assert_eq!(order.display_financial_status, Some(FinancialStatus::Paid));
    assert_eq!(
        shop.sandbox.fulfillments(&shop.shop, &order.id).len(),
        1,
        "fulfilled in the same pass"
    );
    event(&shop, "authorized", "wh-p2").await;
    event(&shop, "authorized", "wh-p3").await;
    assert_eq!(
        captures(&shop, "authorized").len(),
        1,
        "never captured twice"
    );
    shop.stop().await;
}

#[tokio::test]
async fn when_risk_clear_leaves_a_high_risk_order_then_captures_once_the_risk_is_cleared() {
    let shop = Shop::start_with("e2ecapturerisk", capturing("when_risk_clear")).await;
    let snap = authorized("high-risk", "100.00", in_a_week(&shop));
    let gid = snap.id.clone();
    shop.sandbox.insert_order(&shop.shop, snap);
    shop.send("high-risk", "orders/create", "wh-r1").await;
    eventually(Duration::from_secs(20), "the fraud hold", || async {
        (shop.hold_handles("high-risk") == ["orderflow-fraud"]).then_some(())
    })
    .await;
    event(&shop, "high-risk", "wh-r2").await;
    assert!(
        captures(&shop, "high-risk").is_empty(),
        "HIGH and held: not captured"
    );
    let rules = shop_rules("when_risk_clear");
    let text = orderflow::rules::plan(
        &shop.snapshot("high-risk").await.to_rules_order(),
        &rules,
        shop.clock.now(),
    )
    .to_string();
    assert!(text.contains("Payment: not captured:"), "{text}");

    // The merchant's fraud review clears it; Shopify sends the risk webhook.
    assert!(shop.sandbox.set_risk(
        &shop.shop,
        &gid,
        RiskRecommendation::Accept,
        &[RiskLevel::Low]
    ));
    let order_id = orderflow::id::OrderId::from_gid(&gid).unwrap().0;
    let body = format!(
        r#"{{"provider_id":null,"provider_title":"Shopify","risk_level":"low","created_at":null,"order_id":{order_id},"admin_graphql_api_order_id":"{gid}"}}"#
    );
    shop.send_body("orders/risk_assessment_changed", "wh-r3", body.as_bytes())
        .await;
    wait_captures(&shop, "high-risk", 1).await;
    assert!(shop.hold_handles("high-risk").is_empty(), "released first");
    assert_eq!(
        shop.order("high-risk").display_financial_status,
        Some(FinancialStatus::Paid)
    );
    event(&shop, "high-risk", "wh-r4").await;
    assert_eq!(captures(&shop, "high-risk").len(), 1);
    shop.stop().await;
}

#[tokio::test]
async fn an_authorization_expiring_before_a_long_processing_hold_is_captured_at_expiry_minus_margin()
 {
    let shop = Shop::start_with("e2ecaptureexpiry", capturing("on_fulfilment")).await;
    // Handmade ships by Thu 26 Nov; the authorization expires 24 h from now, so it is captured
    // 12 h from now (expiry_margin), while the processing hold stays.
    let expires = shop.clock.now() + SignedDuration::from_hours(24);
    shop.sandbox
        .insert_order(&shop.shop, authorized("handmade", "80.00", expires));
    shop.send("handmade", "orders/create", "wh-e1").await;
    eventually(Duration::from_secs(20), "the processing hold", || async {
        (shop.hold_handles("handmade") == ["orderflow-processing"]).then_some(())
    })
    .await;
    event(&shop, "handmade", "wh-e2").await;
    assert!(
        captures(&shop, "handmade").is_empty(),
        "not fulfilled, not due"
    );
    shop.clock.advance(SignedDuration::from_mins(11 * 60 + 50));
    event(&shop, "handmade", "wh-e3").await;
    assert!(
        captures(&shop, "handmade").is_empty(),
        "not 10 minutes early"
    );
    // The wake-up asked for at expiry - margin fires once the manual clock passes it.
    shop.clock.advance(SignedDuration::from_mins(11));
    wait_captures(&shop, "handmade", 1).await;
    assert_eq!(
        shop.hold_handles("handmade"),
        ["orderflow-processing"],
        "captured while the hold stays"
    );
    assert_eq!(
        shop.order("handmade").display_financial_status,
        Some(FinancialStatus::Paid)
    );
    event(&shop, "handmade", "wh-e4").await;
    assert_eq!(captures(&shop, "handmade").len(), 1);
    shop.stop().await;
}

#[tokio::test]
async fn a_crash_between_the_capture_and_the_ack_does_not_capture_twice() {
    let shop = Shop::start_with("e2ecapturecrash", capturing("on_fulfilment")).await;
    let snap = authorized("mixed", "30.00", in_a_week(&shop));
    // Which request the capture is: the snapshot, then the plan's changes in order.
    let plan = orderflow::rules::plan(
        &snap.to_rules_order(),
        &shop_rules("on_fulfilment"),
        shop.clock.now(),
    );
    let changes: Vec<&str> = plan.changes().map(|s| s.action.kind()).collect();
    let at = changes
        .iter()
        .position(|k| *k == "capture")
        .expect("a capture planned");
    assert!(
        at + 1 < changes.len(),
        "a step after the capture: {changes:?}"
    );
    shop.sandbox.insert_order(&shop.shop, snap);
    // The capture is applied; the next request fails as if the worker crashed before its ack.
    shop.sandbox.inject(Fault::Delay { millis: 0 }, at + 2);
    shop.sandbox.inject(Fault::Http500, 1);
    shop.send("mixed", "orders/create", "wh-c1").await;
    eventually(
        Duration::from_secs(30),
        "the manual tag after the retry",
        || async {
            shop.clock.advance(SignedDuration::from_secs(2));
            shop.order("mixed")
                .tags
                .iter()
                .any(|t| t == "orderflow:manual")
                .then_some(())
        },
    )
    .await;
    let retries = shop
        .app
        .metrics
        .encode()
        .lines()
        .any(|l| l.starts_with("orderflow_messages_total{") && l.contains("\"retry\""));
    assert!(retries, "the failed step was retried");
    assert_eq!(captures(&shop, "mixed").len(), 1, "captured once");
    assert_eq!(
        shop.order("mixed").display_financial_status,
        Some(FinancialStatus::Paid)
    );
    event(&shop, "mixed", "wh-c2").await;
    assert_eq!(captures(&shop, "mixed").len(), 1);
    shop.stop().await;
}

/// The example config's rules with `[payment] capture = policy`.
fn shop_rules(policy: &str) -> orderflow::rules::Rules {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
    )
    .unwrap()
    .replace("capture = \"never\"", &format!("capture = \"{policy}\""));
    orderflow::config::Config::from_toml(
        &text,
        std::path::Path::new("example.toml"),
        &Default::default(),
    )
    .unwrap()
    .shops[0]
        .rules
        .as_ref()
        .clone()
}
