//! `OrderSnapshot` → `rules::Order`: the adapter's view of Shopify turned into the plain model
//! the pure rules take. Field mapping only: both sides speak the same enums
//! ([`crate::rules::enums`]), and what a value a newer API version adds (`Unknown`) means is
//! decided by the rules, not here.

use crate::rules::enums::FulfillmentOrderAction;
use crate::rules::model::{self as m, Order};

use super::snapshot::{self as snap, OrderSnapshot};

impl OrderSnapshot {
    /// The order as the rules see it.
    pub fn to_rules_order(&self) -> Order {
        Order {
            id: self.id.clone(),
            name: self.name.clone(),
            tags: self.tags.clone(),
            cancelled: self.cancelled_at.is_some(),
            closed: self.closed,
            closed_at: self.closed_at,
            test: self.test,
            processed_at: self.processed_at,
            paid_at: self.paid_at(),
            financial_status: self.display_financial_status,
            fulfillment_status: Some(self.display_fulfillment_status),
            total_price: self.total_price_set.shop_money.amount,
            source_name: self.source_name.clone(),
            shipping_country: self
                .shipping_address
                .as_ref()
                .and_then(|a| a.country_code_v2.as_ref())
                .map(|c| c.to_ascii_uppercase()),
            risk: m::Risk {
                recommendation: self.risk.recommendation,
                assessments: self.risk.assessments.iter().map(|a| a.risk_level).collect(),
            },
            lines: self.line_items.iter().map(line).collect(),
            fulfillment_orders: self
                .fulfillment_orders
                .iter()
                .map(fulfillment_order)
                .collect(),
            decision_metafield: self.decision.as_ref().map(|d| d.value.clone()),
            payment: m::Payment {
                currency: self.currency_code.clone(),
                presentment_currency: self.presentment_currency_code.clone(),
                transactions: self.transactions.iter().filter_map(transaction).collect(),
            },
            fulfillments: self
                .fulfillments
                .iter()
                .map(|f| m::Fulfillment {
                    id: f.id.clone(),
                    status: f.status,
                    created_at: f.created_at,
                    lines: f
                        .fulfillment_line_items
                        .iter()
                        .map(|l| m::FulfillmentLine {
                            line_item_id: l.line_item.id.clone(),
                            quantity: l.quantity.unwrap_or(0),
                        })
                        .collect(),
                })
                .collect(),
            fulfillments_truncated: self.fulfillments_truncated,
        }
    }
}

/// A payment taken this long after checkout counts as paid later (bank transfer, payment terms,
/// a manual capture); within it, the order was paid at checkout.
const PAID_AT_CHECKOUT: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

impl OrderSnapshot {
    /// When the order was paid, if that was after checkout: the latest successful sale or
    /// capture. `None` means processing time counts from `processedAt`.
    fn paid_at(&self) -> Option<jiff::Timestamp> {
        paid_after_checkout(self.processed_at, &self.transactions)
    }
}

/// The paid-later rule, also for the report (which reads the same fields without a snapshot):
/// the latest successful sale or capture when it came more than a minute after `processed_at`.
pub(crate) fn paid_after_checkout(
    processed_at: jiff::Timestamp,
    transactions: &[snap::Transaction],
) -> Option<jiff::Timestamp> {
    // A capture of an authorization made at checkout is not a later payment: the customer paid
    // at checkout, orderflow (or a person) only took the money later. Counting it would move
    // the ship-by of an order captured before it is fulfilled.
    let paid = transactions
        .iter()
        .filter(|t| t.status == "SUCCESS" && matches!(t.kind.as_str(), "SALE" | "CAPTURE"))
        .filter(|t| t.kind != "CAPTURE" || t.parent_transaction.is_none())
        .filter_map(|t| t.processed_at)
        .max()?;
    (paid.duration_since(processed_at) > PAID_AT_CHECKOUT).then_some(paid)
}

/// A transaction the capture rules can use: one read with its id (the report's page reads
/// none). Without an amount it counts as zero, which captures nothing.
fn transaction(t: &snap::Transaction) -> Option<m::Transaction> {
    Some(m::Transaction {
        id: t.id.clone()?,
        kind: t.kind.clone(),
        status: t.status.clone(),
        amount: t
            .amount_set
            .as_ref()
            .map_or(rust_decimal::Decimal::ZERO, |a| a.presentment_money.amount),
        authorization_expires_at: t.authorization_expires_at,
        parent_id: t.parent_transaction.as_ref().map(|p| p.id.clone()),
        multi_capturable: t.multi_capturable,
    })
}

fn line(l: &snap::LineItem) -> m::LineItem {
    m::LineItem {
        id: l.id.clone(),
        name: l
            .name
            .clone()
            .or_else(|| l.sku.clone())
            .unwrap_or_else(|| l.id.rsplit('/').next().unwrap_or(&l.id).to_owned()),
        sku: l.sku.clone(),
        vendor: l.vendor.clone(),
        quantity: l.quantity,
        requires_shipping: l.requires_shipping,
        gift_card: l.is_gift_card,
        product_tags: l
            .product
            .as_ref()
            .map(|p| p.tags.clone())
            .unwrap_or_default(),
        preorder: OrderSnapshot::is_preorder(l),
    }
}

fn fulfillment_order(fo: &snap::FulfillmentOrder) -> m::FulfillmentOrder {
    m::FulfillmentOrder {
        id: fo.id.clone(),
        status: fo.status,
        request_status: fo.request_status,
        delivery_method: fo.delivery_method.as_ref().map(|d| d.method_type),
        holds: fo
            .fulfillment_holds
            .iter()
            .map(|h| m::Hold {
                id: h.id.clone(),
                handle: h.handle.clone(),
                reason: h.reason,
                held_by_us: h.held_by_requesting_app,
            })
            .collect(),
        // The rules ask only for actions they can name; one this build cannot is not listed.
        supported_actions: fo
            .supported_actions
            .iter()
            .map(|a| a.action)
            .filter(|&a| a != FulfillmentOrderAction::Unknown)
            .collect(),
        line_items: fo
            .line_items
            .iter()
            .map(|li| m::FulfillmentOrderLineItem {
                id: li.id.clone(),
                line_item_id: li.line_item.id.clone(),
                remaining_quantity: li.remaining_quantity,
            })
            .collect(),
        fulfill_by: fo.fulfill_by,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::rules::enums as r;

    fn fixture(name: &str) -> OrderSnapshot {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/orders")
            .join(format!("{name}.json"));
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn every_fixture_converts_with_its_lines_and_fulfillment_orders() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let Some(stem) = name.strip_suffix(".json") else {
                continue;
            };
            if stem.ends_with(".webhook") {
                continue;
            }
            let snap = fixture(stem);
            let order = snap.to_rules_order();
            assert_eq!(order.lines.len(), snap.line_items.len(), "{stem}");
            assert_eq!(
                order.fulfillment_orders.len(),
                snap.fulfillment_orders.len(),
                "{stem}"
            );
            for (a, b) in order
                .fulfillment_orders
                .iter()
                .zip(&snap.fulfillment_orders)
            {
                assert_eq!(
                    a.status.as_str(),
                    b.status.as_str(),
                    "{stem}: statuses keep their spelling"
                );
                assert_eq!(a.holds.len(), b.fulfillment_holds.len());
            }
            seen += 1;
        }
        assert!(seen >= 10, "all fixture orders were read ({seen})");
    }

    #[test]
    fn fixture_facts_reach_the_rules() {
        let preorder = fixture("preorder").to_rules_order();
        assert!(preorder.lines.iter().any(|l| l.preorder));
        let pickup = fixture("pickup").to_rules_order();
        assert!(
            pickup
                .fulfillment_orders
                .iter()
                .any(|f| f.delivery_method == Some(r::DeliveryMethodType::PickUp))
        );
        let cancelled = fixture("cancelled").to_rules_order();
        assert!(cancelled.cancelled);
        let high = fixture("high-risk").to_rules_order();
        assert!(high.risk.assessments.contains(&r::RiskLevel::High));
        let taken = fixture("taken-back").to_rules_order();
        assert_eq!(taken.fulfillments.len(), 1);
        assert!(taken.fulfillments[0].is_cancelled());
        assert_eq!(
            taken.fulfillments[0].lines[0].line_item_id,
            taken.lines[0].id
        );
    }

    #[test]
    fn a_payment_taken_after_checkout_starts_the_processing_time() {
        let mut snap = fixture("handmade");
        assert_eq!(
            snap.to_rules_order().paid_at,
            None,
            "no transaction: checkout"
        );
        let checkout = snap.processed_at;
        let at = |mins: i64| Some(checkout + jiff::SignedDuration::from_mins(mins));
        snap.transactions = vec![
            snap::Transaction {
                kind: "AUTHORIZATION".into(),
                status: "SUCCESS".into(),
                processed_at: at(0),
                ..Default::default()
            },
            snap::Transaction {
                kind: "CAPTURE".into(),
                status: "FAILURE".into(),
                processed_at: at(60),
                ..Default::default()
            },
        ];
        assert_eq!(
            snap.to_rules_order().paid_at,
            None,
            "authorised, not captured"
        );
        snap.transactions.push(snap::Transaction {
            kind: "CAPTURE".into(),
            status: "SUCCESS".into(),
            processed_at: at(3 * 24 * 60),
            ..Default::default()
        });
        assert_eq!(snap.to_rules_order().paid_at, at(3 * 24 * 60));
        let last = snap.transactions.len() - 1;
        snap.transactions[last].parent_transaction = Some(snap::TransactionRef {
            id: "gid://shopify/OrderTransaction/1".into(),
        });
        assert_eq!(
            snap.to_rules_order().paid_at,
            None,
            "the capture of the checkout's authorization is not a later payment"
        );
        snap.transactions[last].parent_transaction = None;
        snap.transactions = vec![snap::Transaction {
            kind: "SALE".into(),
            status: "SUCCESS".into(),
            processed_at: at(0),
            ..Default::default()
        }];
        assert_eq!(snap.to_rules_order().paid_at, None, "paid at checkout");
    }

    #[test]
    fn unknown_values_from_a_newer_api_make_the_rules_leave_things_alone() {
        let mut snap = fixture("digital");
        snap.fulfillment_orders[0].status = r::FulfillmentOrderStatus::Unknown;
        snap.fulfillment_orders[0].request_status = r::FulfillmentOrderRequestStatus::Unknown;
        snap.fulfillment_orders[0]
            .supported_actions
            .push(snap::SupportedAction {
                action: r::FulfillmentOrderAction::Unknown,
            });
        let order = snap.to_rules_order();
        let fo = &order.fulfillment_orders[0];
        assert!(!fo.is_active());
        assert_ne!(
            fo.request_status,
            r::FulfillmentOrderRequestStatus::Unsubmitted
        );
        assert_eq!(
            fo.supported_actions.len(),
            snap.fulfillment_orders[0].supported_actions.len() - 1
        );
    }
}
