//! `orders_updated`: every order of a shop whose `updatedAt` falls in a window, read page by
//! page with the `OrdersUpdatedPage` query (oldest update first), for reconciliation; and
//! `orders_matching`, the same pages for any Shopify search string (`orders reevaluate`).

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::client::Client;
use super::documents::ORDERS_UPDATED_PAGE;
use super::error::ShopifyError;
use super::page::Connection;
use crate::id::{OrderId, ShopDomain};

/// One order found in the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdatedOrder {
    pub id: OrderId,
    /// The order's name, e.g. `#1001`.
    pub name: String,
    pub updated_at: Timestamp,
}

#[derive(Deserialize)]
struct Data {
    orders: Connection<Node>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    id: String,
    name: String,
    updated_at: Timestamp,
}

/// The search query for orders updated from `since` to `until`, both included.
pub fn window_query(since: Timestamp, until: Timestamp) -> String {
    format!("updated_at:>='{since}' AND updated_at:<='{until}'")
}

impl Client {
    /// Every order of `shop` updated from `since` to `until` (both included), oldest update
    /// first. Each page goes through the cost-aware throttle like any other query.
    pub async fn orders_updated(
        &self,
        shop: &ShopDomain,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<UpdatedOrder>, ShopifyError> {
        self.orders_matching(shop, &window_query(since, until))
            .await
    }

    /// Every order of `shop` that matches `query` (Shopify's search syntax), oldest update
    /// first, paged through the cost-aware throttle.
    pub async fn orders_matching(
        &self,
        shop: &ShopDomain,
        query: &str,
    ) -> Result<Vec<UpdatedOrder>, ShopifyError> {
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let data: Data = self
                .execute(
                    shop,
                    &ORDERS_UPDATED_PAGE,
                    json!({ "query": query, "after": after }),
                )
                .await?;
            for node in data.orders.nodes {
                let id = OrderId::from_gid(&node.id).ok_or_else(|| ShopifyError::Schema {
                    shop: shop.clone(),
                    operation: ORDERS_UPDATED_PAGE.operation(),
                    message: format!("`{}` is not an order id", node.id),
                })?;
                found.push(UpdatedOrder {
                    id,
                    name: node.name,
                    updated_at: node.updated_at,
                });
            }
            match data.orders.page_info.next_cursor() {
                Some(cursor) => after = Some(cursor),
                None => return Ok(found),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_shopify_search_syntax_with_both_ends_included() {
        let since: Timestamp = "2026-11-23T10:00:00Z".parse().expect("since");
        let until: Timestamp = "2026-11-23T12:30:00Z".parse().expect("until");
        assert_eq!(
            window_query(since, until),
            "updated_at:>='2026-11-23T10:00:00Z' AND updated_at:<='2026-11-23T12:30:00Z'"
        );
    }
}
