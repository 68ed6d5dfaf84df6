//! [`ReadOnly`]: a [`Client`] that can only read. A command that promises to send nothing
//! (`simulate`) is given this instead of the client, so the promise is kept by the type: it has
//! no method that runs a mutation, and no way back to the client it wraps.

use jiff::Timestamp;

use super::client::{Client, ClientMetrics};
use super::error::ShopifyError;
use super::orders::UpdatedOrder;
use super::report::placed_query;
use super::snapshot::OrderSnapshot;
use crate::id::{OrderId, ShopDomain};

pub struct ReadOnly {
    client: Client,
}

impl ReadOnly {
    /// Takes the client: whoever holds a `ReadOnly` cannot reach its mutations.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Every order of `shop` created from `since` to `until`, both included (paged and
    /// cost-aware like every listing).
    pub async fn orders_created(
        &self,
        shop: &ShopDomain,
        since: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<UpdatedOrder>, ShopifyError> {
        self.client
            .orders_matching(shop, &placed_query(since, until))
            .await
    }

    /// One order with everything the rules need (queries only).
    pub async fn fetch_snapshot(
        &self,
        shop: &ShopDomain,
        order: OrderId,
    ) -> Result<OrderSnapshot, ShopifyError> {
        self.client.fetch_snapshot(shop, order).await
    }

    /// Requests and points spent so far.
    pub fn metrics(&self) -> ClientMetrics {
        self.client.metrics()
    }
}
