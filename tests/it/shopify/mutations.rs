//! Each mutation's effect on the sandbox shop, and its user errors.

use orderflow::shopify::ShopifyError;
use orderflow::shopify::ops::{
    FulfillmentOrderLines, FulfillmentRequest, HoldRequest, LineQuantity, MetafieldInput,
};
use orderflow::shopify::snapshot::{
    FulfillmentHoldReason, FulfillmentOrderStatus, OrderFulfillmentStatus,
};

use super::{harness, order_gid, order_id};

fn hold(handle: &str) -> HoldRequest {
    HoldRequest {
        handle: handle.to_owned(),
        reason: FulfillmentHoldReason::HighRiskOfFraud,
        reason_notes: Some("risk HIGH".to_owned()),
        notify_merchant: true,
        fulfillment_order_line_items: Vec::new(),
    }
}

#[tokio::test]
async fn a_hold_puts_the_fulfillment_order_on_hold_and_a_duplicate_handle_is_refused() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(4))
        .expect("order")
        .fulfillment_orders[0]
        .id
        .clone();
    let outcome = h
        .client
        .hold(&h.shop, &fo, &hold("orderflow-fraud"))
        .await
        .expect("held");
    assert_eq!(
        outcome.fulfillment_order.status,
        FulfillmentOrderStatus::OnHold
    );
    assert_eq!(
        outcome.fulfillment_hold.handle.as_deref(),
        Some("orderflow-fraud")
    );
    assert!(outcome.fulfillment_hold.held_by_requesting_app);
    assert!(outcome.remaining_fulfillment_order.is_none());
    let order = h.sandbox.order(&h.shop, &order_gid(4)).expect("order");
    assert_eq!(
        order.display_fulfillment_status,
        OrderFulfillmentStatus::OnHold
    );

    let err = h
        .client
        .hold(&h.shop, &fo, &hold("orderflow-fraud"))
        .await
        .expect_err("duplicate");
    assert_eq!(
        err.user_error_codes(),
        ["DUPLICATE_FULFILLMENT_HOLD_HANDLE"]
    );
    assert!(!err.is_transient());
    let log = h.sandbox.mutations();
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0].operation_name.as_deref(),
        Some("FulfillmentOrderHold")
    );
    assert_eq!(log[0].variables["hold"]["handle"], "orderflow-fraud");
    assert_eq!(log[0].shop, h.shop);
}

#[tokio::test]
async fn an_app_may_keep_ten_holds_on_a_fulfillment_order_not_eleven() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(5))
        .expect("order")
        .fulfillment_orders[0]
        .id
        .clone();
    for i in 0..10 {
        h.client
            .hold(&h.shop, &fo, &hold(&format!("orderflow-{i}")))
            .await
            .expect("held");
    }
    let err = h
        .client
        .hold(&h.shop, &fo, &hold("orderflow-10"))
        .await
        .expect_err("limit");
    assert_eq!(
        err.user_error_codes(),
        ["FULFILLMENT_ORDER_HOLD_LIMIT_REACHED"]
    );
}

#[tokio::test]
async fn holding_some_lines_splits_the_fulfillment_order() {
    let h = harness().await;
    let order = h.sandbox.order(&h.shop, &order_gid(2)).expect("order");
    let fo = &order.fulfillment_orders[0];
    let mug = &fo.line_items[0];
    let mut request = hold("orderflow-processing");
    request.reason = FulfillmentHoldReason::Other;
    request.fulfillment_order_line_items = vec![LineQuantity {
        id: mug.id.clone(),
        quantity: mug.remaining_quantity,
    }];
    let outcome = h
        .client
        .hold(&h.shop, &fo.id, &request)
        .await
        .expect("held");
    let remaining = outcome
        .remaining_fulfillment_order
        .expect("split off the rest");
    assert_eq!(remaining.status, FulfillmentOrderStatus::Open);
    let after = h.sandbox.order(&h.shop, &order_gid(2)).expect("order");
    assert_eq!(after.fulfillment_orders.len(), 2);
    let held = after
        .fulfillment_orders
        .iter()
        .find(|f| f.id == fo.id)
        .expect("held FO");
    assert_eq!(held.status, FulfillmentOrderStatus::OnHold);
    assert_eq!(held.line_items.len(), 1);
    assert_eq!(held.line_items[0].line_item.id, mug.line_item.id);
    let rest = after
        .fulfillment_orders
        .iter()
        .find(|f| f.id == remaining.id)
        .expect("rest");
    assert_eq!(
        rest.line_items[0].line_item.id,
        fo.line_items[1].line_item.id
    );

    request.handle = "orderflow-other".to_owned();
    request.fulfillment_order_line_items = vec![LineQuantity {
        id: mug.id.clone(),
        quantity: 99,
    }];
    let err = h
        .client
        .hold(&h.shop, &fo.id, &request)
        .await
        .expect_err("too many");
    assert_eq!(err.user_error_codes(), ["INVALID_LINE_ITEM_QUANTITY"]);
}

#[tokio::test]
async fn releasing_our_hold_leaves_other_apps_holds_and_the_last_release_reopens() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(6))
        .expect("order")
        .fulfillment_orders[0]
        .clone();
    let theirs = fo.fulfillment_holds[0].id.clone();
    let ours = h
        .client
        .hold(&h.shop, &fo.id, &hold("orderflow-fraud"))
        .await
        .expect("held");
    let state = h
        .client
        .release_holds(
            &h.shop,
            &fo.id,
            std::slice::from_ref(&ours.fulfillment_hold.id),
        )
        .await
        .expect("released");
    assert_eq!(
        state.status,
        FulfillmentOrderStatus::OnHold,
        "the pre-order app's hold stays"
    );
    let holds = &h
        .sandbox
        .order(&h.shop, &order_gid(6))
        .expect("order")
        .fulfillment_orders[0]
        .fulfillment_holds;
    assert_eq!(holds.iter().map(|h| &h.id).collect::<Vec<_>>(), [&theirs]);

    assert!(h.sandbox.release_by_hand(&h.shop, &fo.id, None));
    let order = h.sandbox.order(&h.shop, &order_gid(6)).expect("order");
    assert_eq!(
        order.fulfillment_orders[0].status,
        FulfillmentOrderStatus::Open
    );
    assert!(
        order.fulfillment_orders[0]
            .supports(orderflow::shopify::snapshot::FulfillmentOrderAction::CreateFulfillment)
    );
}

#[tokio::test]
async fn a_release_without_hold_ids_is_refused_before_sending() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(6))
        .expect("order")
        .fulfillment_orders[0]
        .id
        .clone();
    let err = h
        .client
        .release_holds(&h.shop, &fo, &[])
        .await
        .expect_err("refused");
    assert!(
        matches!(err, ShopifyError::InvalidRequest { .. }),
        "{err:?}"
    );
    assert_eq!(h.sandbox.request_count(), 0);
}

fn fulfil_all(fo: &str) -> FulfillmentRequest {
    FulfillmentRequest {
        line_items_by_fulfillment_order: vec![FulfillmentOrderLines {
            fulfillment_order_id: fo.to_owned(),
            fulfillment_order_line_items: Vec::new(),
        }],
        notify_customer: true,
    }
}

#[tokio::test]
async fn fulfilling_closes_the_fulfillment_order_and_refuses_what_no_longer_remains() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(1))
        .expect("order")
        .fulfillment_orders[0]
        .clone();
    let created = h
        .client
        .fulfill(&h.shop, &fulfil_all(&fo.id))
        .await
        .expect("fulfilled");
    assert_eq!(created.status, "SUCCESS");
    let order = h.sandbox.order(&h.shop, &order_gid(1)).expect("order");
    assert_eq!(
        order.fulfillment_orders[0].status,
        FulfillmentOrderStatus::Closed
    );
    assert_eq!(
        order.fulfillment_orders[0].line_items[0].remaining_quantity,
        0
    );
    assert_eq!(
        order.display_fulfillment_status,
        OrderFulfillmentStatus::Fulfilled
    );
    let err = h
        .client
        .fulfill(&h.shop, &fulfil_all(&fo.id))
        .await
        .expect_err("closed");
    assert!(matches!(err, ShopifyError::UserErrors { .. }), "{err:?}");
}

#[tokio::test]
async fn a_partial_fulfillment_lowers_remaining_and_more_than_remains_is_refused() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(2))
        .expect("order")
        .fulfillment_orders[0]
        .clone();
    let licence = &fo.line_items[1];
    let mut request = fulfil_all(&fo.id);
    request.line_items_by_fulfillment_order[0].fulfillment_order_line_items = vec![LineQuantity {
        id: licence.id.clone(),
        quantity: 1,
    }];
    h.client
        .fulfill(&h.shop, &request)
        .await
        .expect("fulfilled");
    let order = h.sandbox.order(&h.shop, &order_gid(2)).expect("order");
    assert_eq!(
        order.fulfillment_orders[0].status,
        FulfillmentOrderStatus::InProgress
    );
    assert_eq!(
        order.fulfillment_orders[0].line_items[1].remaining_quantity,
        0
    );
    assert_eq!(
        order.display_fulfillment_status,
        OrderFulfillmentStatus::PartiallyFulfilled
    );

    let mug = &fo.line_items[0];
    request.line_items_by_fulfillment_order[0].fulfillment_order_line_items = vec![LineQuantity {
        id: mug.id.clone(),
        quantity: mug.remaining_quantity + 1,
    }];
    let err = h
        .client
        .fulfill(&h.shop, &request)
        .await
        .expect_err("too many");
    assert!(matches!(err, ShopifyError::UserErrors { .. }), "{err:?}");
    assert_eq!(
        h.sandbox
            .order(&h.shop, &order_gid(2))
            .expect("order")
            .fulfillment_orders[0]
            .line_items[0]
            .remaining_quantity,
        2
    );
}

#[tokio::test]
async fn a_fulfillment_order_on_hold_cannot_be_fulfilled() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(6))
        .expect("order")
        .fulfillment_orders[0]
        .id
        .clone();
    let err = h
        .client
        .fulfill(&h.shop, &fulfil_all(&fo))
        .await
        .expect_err("on hold");
    assert!(err.to_string().contains("unfulfillable status"), "{err}");
}

#[tokio::test]
async fn tags_are_added_and_removed_idempotently() {
    let h = harness().await;
    let gid = order_gid(3);
    let tags = vec!["orderflow-held".to_owned(), "handmade-wait".to_owned()];
    h.client
        .add_tags(&h.shop, &gid, &tags)
        .await
        .expect("added");
    h.client
        .add_tags(&h.shop, &gid, &tags)
        .await
        .expect("added again");
    assert_eq!(h.sandbox.order(&h.shop, &gid).expect("order").tags, tags);
    h.client
        .remove_tags(&h.shop, &gid, &tags[..1])
        .await
        .expect("removed");
    h.client
        .remove_tags(&h.shop, &gid, &tags[..1])
        .await
        .expect("removed again");
    assert_eq!(
        h.sandbox.order(&h.shop, &gid).expect("order").tags,
        &tags[1..]
    );
    let err = h
        .client
        .add_tags(&h.shop, &order_gid(999), &tags)
        .await
        .expect_err("no order");
    assert!(matches!(err, ShopifyError::UserErrors { .. }), "{err:?}");
}

#[tokio::test]
async fn metafields_set_upserts_and_the_snapshot_reads_the_decision() {
    let h = harness().await;
    let gid = order_gid(3);
    let input = |value: &str| MetafieldInput {
        owner_id: gid.clone(),
        namespace: "orderflow".to_owned(),
        key: "decision".to_owned(),
        kind: "json".to_owned(),
        value: value.to_owned(),
    };
    let first = h
        .client
        .set_metafields(&h.shop, &[input(r#"{"shipBy":"2026-11-25"}"#)])
        .await
        .expect("set");
    let second = h
        .client
        .set_metafields(&h.shop, &[input(r#"{"shipBy":"2026-11-26"}"#)])
        .await
        .expect("set");
    assert_eq!(first[0].id, second[0].id, "upsert, not a second metafield");
    let snapshot = h
        .client
        .fetch_snapshot(&h.shop, order_id(3))
        .await
        .expect("snapshot");
    assert_eq!(
        snapshot.decision.expect("decision").value,
        r#"{"shipBy":"2026-11-26"}"#
    );
    let mut blank = input("");
    blank.key = "decision".to_owned();
    let err = h
        .client
        .set_metafields(&h.shop, &[blank])
        .await
        .expect_err("blank");
    assert_eq!(err.user_error_codes(), ["BLANK"]);
}

#[tokio::test]
async fn releasing_another_apps_hold_is_refused_with_invalid_access() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(6))
        .expect("order")
        .fulfillment_orders[0]
        .clone();
    // The pre-order app's hold, not ours.
    let theirs = fo.fulfillment_holds[0].id.clone();
    let err = h
        .client
        .release_holds(&h.shop, &fo.id, std::slice::from_ref(&theirs))
        .await
        .expect_err("not ours to release");
    assert_eq!(err.user_error_codes(), ["INVALID_ACCESS"]);
    let holds = &h
        .sandbox
        .order(&h.shop, &order_gid(6))
        .expect("order")
        .fulfillment_orders[0]
        .fulfillment_holds;
    assert_eq!(holds.len(), 1, "the other app's hold stays");
}

#[tokio::test]
async fn a_line_listed_twice_cannot_fulfil_more_than_remains() {
    let h = harness().await;
    let fo = h
        .sandbox
        .order(&h.shop, &order_gid(2))
        .expect("order")
        .fulfillment_orders[0]
        .clone();
    let mug = &fo.line_items[0];
    let mut request = fulfil_all(&fo.id);
    let line = LineQuantity {
        id: mug.id.clone(),
        quantity: mug.remaining_quantity,
    };
    request.line_items_by_fulfillment_order[0].fulfillment_order_line_items =
        vec![line.clone(), line];
    let err = h
        .client
        .fulfill(&h.shop, &request)
        .await
        .expect_err("twice the remaining quantity");
    assert!(matches!(err, ShopifyError::UserErrors { .. }), "{err:?}");
    let after = h.sandbox.order(&h.shop, &order_gid(2)).expect("order");
    assert_eq!(
        after.fulfillment_orders[0].line_items[0].remaining_quantity, mug.remaining_quantity,
        "a refused fulfilment changes nothing"
    );
}
