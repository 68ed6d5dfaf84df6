//! The sandbox's `orderCapture`, as Shopify's reference describes it, through orderflow's
//! client: the capture transaction and the financial status, and a `UserError` (nothing
//! changed) for each refusal.

use std::sync::Arc;

use orderflow::clock::ManualClock;
use orderflow::rules::enums::FinancialStatus;
use orderflow::sandbox::SandboxConfig;
use orderflow::shopify::ShopifyError;
use orderflow::shopify::order_ops::CaptureRequest;
use orderflow::shopify::snapshot::{
    Money, OrderSnapshot, PresentmentBag, Transaction, TransactionRef,
};

use crate::shopify::{Harness, fast_retries, harness_with};

const AUTHORIZED: &str = "gid://shopify/Order/820982911946154522";
const AUTH: &str = "gid://shopify/OrderTransaction/9120000001";

/// A sandbox whose clock stands before the fixture's authorization expires (27 Nov 2026).
async fn harness() -> (Harness, ManualClock) {
    let clock = ManualClock::new("2026-11-23T09:00:00Z".parse().unwrap());
    let h = harness_with(
        SandboxConfig {
            clock: Arc::new(clock.clone()),
            ..SandboxConfig::default()
        },
        fast_retries(),
    )
    .await;
    (h, clock)
}

fn request(amount: &str) -> CaptureRequest {
    CaptureRequest {
        order_id: AUTHORIZED.into(),
        parent_transaction_id: AUTH.into(),
        amount: amount.parse().unwrap(),
        currency: None,
        final_capture: None,
    }
}

fn order(h: &Harness) -> OrderSnapshot {
    h.sandbox.order(&h.shop, AUTHORIZED).expect("order")
}

/// Sends `req`, expects a refusal naming `field` whose message contains `says`, and that the
/// order's transactions did not change.
async fn refused(h: &Harness, req: &CaptureRequest, field: &str, says: &str) {
    let before = order(h).transactions;
    match h.client.capture(&h.shop, req).await {
        Err(ShopifyError::UserErrors { errors, .. }) => {
            let e = &errors[0];
            assert!(e.message.contains(says), "{e:?}");
            assert_eq!(e.field.as_ref().unwrap().last().unwrap(), field, "{e:?}");
        }
        other => panic!("{says}: {other:?}"),
    }
    assert_eq!(order(h).transactions, before, "a refusal changes nothing");
}

fn modify(h: &Harness, change: impl FnOnce(&mut OrderSnapshot)) {
    let mut o = order(h);
    change(&mut o);
    h.sandbox.insert_order(&h.shop, o);
}

#[tokio::test]
async fn a_capture_of_the_whole_authorization_pays_the_order_and_uses_it_up() {
    let (h, _clock) = harness().await;
    let got = h
        .client
        .capture(&h.shop, &request("24.00"))
        .await
        .expect("captured");
    assert_eq!(
        (got.kind.as_str(), got.status.as_str()),
        ("CAPTURE", "SUCCESS")
    );
    let snap = h
        .client
        .fetch_snapshot(
            &h.shop,
            orderflow::id::OrderId::from_gid(AUTHORIZED).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(snap.display_financial_status, Some(FinancialStatus::Paid));
    let capture = snap
        .transactions
        .iter()
        .find(|t| t.kind == "CAPTURE")
        .expect("the capture reads back");
    assert_eq!(capture.id.as_deref(), Some(got.id.as_str()));
    assert_eq!(capture.parent_transaction.as_ref().unwrap().id, AUTH);
    assert_eq!(
        capture
            .amount_set
            .as_ref()
            .unwrap()
            .presentment_money
            .amount
            .to_string(),
        "24.00"
    );
    // Not multi-capturable: one capture uses it up, even of a part.
    refused(
        &h,
        &request("1.00"),
        "parentTransactionId",
        "already been captured",
    )
    .await;
}

#[tokio::test]
async fn each_refusal_is_a_user_error_and_changes_nothing() {
    let (h, clock) = harness().await;
    refused(
        &h,
        &CaptureRequest {
            order_id: "gid://shopify/Order/1".into(),
            ..request("1.00")
        },
        "id",
        "Order does not exist",
    )
    .await;
    refused(
        &h,
        &CaptureRequest {
            parent_transaction_id: "gid://shopify/OrderTransaction/404".into(),
            ..request("1.00")
        },
        "parentTransactionId",
        "does not exist",
    )
    .await;
    refused(&h, &request("0"), "amount", "greater than 0").await;
    refused(&h, &request("24.01"), "amount", "cannot exceed").await;
    // Multi-currency: the presentment currency is required, and only it.
    modify(&h, |o| o.presentment_currency_code = Some("USD".into()));
    refused(&h, &request("1.00"), "currency", "required").await;
    refused(
        &h,
        &CaptureRequest {
            currency: Some("GBP".into()),
            ..request("1.00")
        },
        "currency",
        "presentment currency USD",
    )
    .await;
    h.client
        .capture(
            &h.shop,
            &CaptureRequest {
                currency: Some("USD".into()),
                ..request("24.00")
            },
        )
        .await
        .expect("the presentment currency is accepted");
    // A sale is not an authorization.
    modify(&h, |o| {
        o.transactions = vec![Transaction {
            kind: "SALE".into(),
            ..o.transactions[0].clone()
        }]
    });
    refused(
        &h,
        &request("1.00"),
        "parentTransactionId",
        "successful authorization",
    )
    .await;
    // A voided authorization, then an expired one.
    modify(&h, |o| {
        let auth = Transaction {
            kind: "AUTHORIZATION".into(),
            ..o.transactions[0].clone()
        };
        o.transactions = vec![
            auth.clone(),
            Transaction {
                id: Some("gid://shopify/OrderTransaction/void".into()),
                kind: "VOID".into(),
                parent_transaction: Some(TransactionRef { id: AUTH.into() }),
                authorization_expires_at: None,
                ..auth
            },
        ];
    });
    refused(&h, &request("1.00"), "parentTransactionId", "voided").await;
    modify(&h, |o| o.transactions.truncate(1));
    clock.set("2026-11-27T09:30:00Z".parse().unwrap());
    refused(&h, &request("1.00"), "parentTransactionId", "expired").await;
    let logged = h
        .sandbox
        .mutations()
        .iter()
        .filter(|m| m.fields.iter().any(|f| f == "orderCapture"))
        .count();
    assert_eq!(logged, 10, "every call is in the mutation log");
}

#[tokio::test]
async fn a_multi_capturable_authorization_is_partly_paid_until_its_final_capture() {
    let (h, _clock) = harness().await;
    modify(&h, |o| {
        o.transactions[0].multi_capturable = true;
        o.transactions[0].amount_set = Some(PresentmentBag {
            presentment_money: Money {
                amount: "30.00".parse().unwrap(),
                currency_code: "EUR".into(),
            },
        });
    });
    h.client
        .capture(&h.shop, &request("10.00"))
        .await
        .expect("first");
    assert_eq!(
        order(&h).display_financial_status,
        Some(FinancialStatus::PartiallyPaid)
    );
    refused(
        &h,
        &request("20.01"),
        "amount",
        "capturable amount of 20.00",
    )
    .await;
    h.client
        .capture(
            &h.shop,
            &CaptureRequest {
                final_capture: Some(true),
                ..request("5.00")
            },
        )
        .await
        .expect("final");
    // The final capture voids the 15.00 left.
    assert_eq!(
        order(&h).display_financial_status,
        Some(FinancialStatus::Paid)
    );
    refused(&h, &request("1.00"), "parentTransactionId", "voided").await;
    // What the rules read back: nothing left to capture.
    let rules_order = order(&h).to_rules_order();
    let left = orderflow::rules::capture::left_of(
        rules_order
            .payment
            .transactions
            .iter()
            .find(|t| t.kind == "AUTHORIZATION")
            .unwrap(),
        &rules_order.payment.transactions,
    );
    assert!(left.is_zero(), "{left}");
}
