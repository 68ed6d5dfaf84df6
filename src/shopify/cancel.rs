//! What `orders cancel-fulfilments` reads and sends: an order's fulfilments with the carrier's
//! progress and the decision (`OrderFulfillments`, further lines through
//! `FulfillmentLineItemsPage`), and `fulfillmentCancel`. The judging is pure
//! ([`crate::rules::cancel`]); this only turns answers into its [`Candidate`]s.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::client::Client;
use super::documents;
use super::error::ShopifyError;
use super::ops::{Payload, missing};
use super::page::Connection;
use super::snapshot::FulfillmentLineItem;
use crate::id::{OrderId, ShopDomain};
use crate::rules::cancel::{Candidate, Shipment};
use crate::rules::enums::{FulfillmentDisplayStatus, FulfillmentStatus};
use crate::rules::model::{Fulfillment, FulfillmentLine};

/// How many fulfilments `OrderFulfillments` reads (`Order.fulfillments` is not paginated).
pub const FULFILLMENTS_READ: usize = 10;

/// One order's fulfilments as the command judges them.
#[derive(Debug, Clone)]
pub struct OrderFulfilments {
    /// `gid://shopify/Order/<n>`: the decision metafield's owner.
    pub order: String,
    /// The decision metafield's value, if any.
    pub decision: Option<String>,
    pub candidates: Vec<Candidate>,
    /// The order has [`FULFILLMENTS_READ`] or more: later ones were not read.
    pub truncated: bool,
}

#[derive(Deserialize)]
struct Data {
    order: Option<Head>,
}

#[derive(Deserialize)]
struct Head {
    id: String,
    decision: Option<Value>,
    fulfillments: Vec<Node>,
}

#[derive(Deserialize)]
struct Value {
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    id: String,
    status: FulfillmentStatus,
    display_status: Option<FulfillmentDisplayStatus>,
    in_transit_at: Option<Timestamp>,
    delivered_at: Option<Timestamp>,
    #[serde(default)]
    tracking_info: Vec<Tracking>,
    fulfillment_orders: Nodes<Id>,
    fulfillment_line_items: Connection<FulfillmentLineItem>,
}

#[derive(Deserialize)]
struct Tracking {
    company: Option<String>,
    number: Option<String>,
}

/// A connection read for its first node only (no `pageInfo` requested).
#[derive(Deserialize)]
struct Nodes<T> {
    nodes: Vec<T>,
}

#[derive(Deserialize)]
struct Id {
    id: String,
}

impl Client {
    /// The order's fulfilments (its first [`FULFILLMENTS_READ`]) and its decision.
    pub async fn order_fulfilments(
        &self,
        shop: &ShopDomain,
        order: OrderId,
    ) -> Result<OrderFulfilments, ShopifyError> {
        let gid = order.gid();
        let data: Data = self
            .execute(shop, &documents::ORDER_FULFILLMENTS, json!({ "id": gid }))
            .await?;
        let head = data.order.ok_or_else(|| ShopifyError::NotFound {
            shop: shop.clone(),
            what: format!("order {gid}"),
        })?;
        let truncated = head.fulfillments.len() >= FULFILLMENTS_READ;
        let mut candidates = Vec::with_capacity(head.fulfillments.len());
        for f in head.fulfillments {
            let lines = self
                .all_fulfillment_lines(shop, &f.id, f.fulfillment_line_items)
                .await?;
            let tracking = f.tracking_info.into_iter().next().and_then(|t| {
                let number = t.number?;
                Some(match t.company {
                    Some(c) => format!("{c} {number}"),
                    None => number,
                })
            });
            candidates.push(Candidate {
                fulfillment: Fulfillment {
                    id: f.id,
                    status: f.status,
                    lines: lines
                        .into_iter()
                        .map(|l| FulfillmentLine {
                            line_item_id: l.line_item.id,
                            quantity: l.quantity.unwrap_or(0),
                        })
                        .collect(),
                    created_at: None,
                },
                fulfillment_order: f.fulfillment_orders.nodes.into_iter().next().map(|n| n.id),
                shipment: Shipment {
                    display_status: f.display_status,
                    in_transit_at: f.in_transit_at,
                    delivered_at: f.delivered_at,
                    tracking,
                },
            });
        }
        Ok(OrderFulfilments {
            order: head.id,
            decision: head.decision.map(|d| d.value),
            candidates,
            truncated,
        })
    }

    /// Cancels fulfilment `id` (`fulfillmentCancel`); its status after, e.g. `CANCELLED`.
    pub async fn cancel_fulfillment(
        &self,
        shop: &ShopDomain,
        id: &str,
    ) -> Result<FulfillmentStatus, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            fulfillment_cancel: Option<Payload<Outcome>>,
        }
        #[derive(Deserialize)]
        struct Outcome {
            fulfillment: Option<Cancelled>,
        }
        #[derive(Deserialize)]
        struct Cancelled {
            status: FulfillmentStatus,
        }
        let doc = &documents::FULFILLMENT_CANCEL;
        let data: Data = self.execute(shop, doc, json!({ "id": id })).await?;
        self.payload(shop, doc.operation(), data.fulfillment_cancel)?
            .fulfillment
            .map(|f| f.status)
            .ok_or_else(|| missing(shop, doc.operation()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_requests_well_under_shopifys_cap() {
        let points = super::super::cost::estimate(
            &documents::ORDER_FULFILLMENTS,
            &json!({ "id": "gid://shopify/Order/1" }),
        );
        eprintln!("OrderFulfillments requests {points} points");
        assert!(points > 0.0 && points <= 500.0, "{points}");
    }
}
