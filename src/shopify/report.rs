//! `orders_placed`: every order of a shop created in a window, read page by page with the
//! `OrdersPlacedPage` query (oldest first) and turned into the report's plain
//! [`PlacedOrder`]s: paid time by the rules engine's rule, fulfilments with their creation
//! times, and the decision metafield read as the next plan would read it.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::client::Client;
use super::convert::paid_after_checkout;
use super::documents::ORDERS_PLACED_PAGE;
use super::error::ShopifyError;
use super::page::Connection;
use super::snapshot::{MetafieldValue, Transaction};
use crate::id::{OrderId, ShopDomain};
use crate::report::{Fulfilment, PlacedOrder};
use crate::rules::decision::Previous;

#[derive(Deserialize)]
struct Data {
    orders: Connection<Node>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    id: String,
    name: String,
    created_at: Timestamp,
    processed_at: Timestamp,
    cancelled_at: Option<Timestamp>,
    /// Kept a string: only `FULFILLED` matters here, and a new value must not fail the report.
    display_fulfillment_status: String,
    #[serde(default)]
    transactions: Vec<Transaction>,
    #[serde(default)]
    fulfillments: Vec<FulfillmentNode>,
    decision: Option<MetafieldValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentNode {
    id: String,
    status: String,
    created_at: Timestamp,
}

/// The search query for orders created from `since` to `until`, both included.
pub fn placed_query(since: Timestamp, until: Timestamp) -> String {
    format!("created_at:>='{since}' AND created_at:<='{until}'")
}

impl Client {
    /// Every order of `shop` created from `since` to `until` (both included), oldest first.
    /// Each page goes through the cost-aware throttle like any other query.
    pub async fn orders_placed(
        &self,
        shop: &ShopDomain,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<PlacedOrder>, ShopifyError> {
        let query = placed_query(since, until);
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data: Data = self
                .execute(
                    shop,
                    &ORDERS_PLACED_PAGE,
                    json!({ "query": query, "after": after }),
                )
                .await?;
            for node in data.orders.nodes {
                found.push(placed(shop, node)?);
            }
            match data.orders.page_info.next_cursor() {
                Some(cursor) => after = Some(cursor),
                None => return Ok(found),
            }
        }
    }
}

fn placed(shop: &ShopDomain, node: Node) -> Result<PlacedOrder, ShopifyError> {
    let id = OrderId::from_gid(&node.id).ok_or_else(|| ShopifyError::Schema {
        shop: shop.clone(),
        operation: ORDERS_PLACED_PAGE.operation(),
        message: format!("`{}` is not an order id", node.id),
    })?;
    let paid =
        paid_after_checkout(node.processed_at, &node.transactions).unwrap_or(node.processed_at);
    let decision = Previous::read(node.decision.as_ref().map(|m| m.value.as_str()))
        .decision()
        .cloned();
    Ok(PlacedOrder {
        id: id.0,
        name: node.name,
        placed: node.created_at,
        paid,
        cancelled: node.cancelled_at.is_some(),
        fully_fulfilled: node.display_fulfillment_status == "FULFILLED",
        fulfillments: node
            .fulfillments
            .into_iter()
            .map(|f| Fulfilment {
                cancelled: f.status == "CANCELLED",
                id: f.id,
                created_at: f.created_at,
            })
            .collect(),
        decision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_shopify_search_syntax_on_the_creation_time() {
        let since: Timestamp = "2026-11-23T10:00:00Z".parse().expect("since");
        let until: Timestamp = "2026-11-30T00:00:00Z".parse().expect("until");
        assert_eq!(
            placed_query(since, until),
            "created_at:>='2026-11-23T10:00:00Z' AND created_at:<='2026-11-30T00:00:00Z'"
        );
    }
}
