//! `fetch_snapshot`: one [`OrderSnapshot`] from the `OrderSnapshot` query plus the follow-up
//! pages (lines past 50, fulfilment orders past 5, fulfilment order lines past 50, fulfilment
//! lines past 10) and the selling plan look-up, merged. Every query stays under Shopify's 1,000-point cap.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::client::Client;
use super::documents;
use super::error::ShopifyError;
use super::page::Connection;
use super::snapshot::{
    Fulfillment, FulfillmentHold, FulfillmentLineItem, FulfillmentOrder, FulfillmentOrderLineItem,
    LineItem, MetafieldValue, MoneyBag, OrderSnapshot, Risk, ShippingAddress, SupportedAction,
};
use crate::id::{OrderId, ShopDomain};
use crate::rules::enums::{
    FinancialStatus, FulfillmentOrderRequestStatus, FulfillmentOrderStatus, OrderFulfillmentStatus,
    SellingPlanCategory,
};

/// `fulfillments(first:)` in `order_snapshot.graphql`: a full list may hide more.
const FULFILLMENTS_READ: usize = 10;

/// Input lists hold at most 250 items.
const MAX_IDS_PER_QUERY: usize = 250;

#[derive(Debug, Deserialize)]
struct OrderData<T> {
    order: Option<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderHead {
    id: String,
    name: String,
    tags: Vec<String>,
    cancelled_at: Option<jiff::Timestamp>,
    closed: bool,
    #[serde(default)]
    closed_at: Option<jiff::Timestamp>,
    test: bool,
    display_financial_status: Option<FinancialStatus>,
    display_fulfillment_status: OrderFulfillmentStatus,
    processed_at: jiff::Timestamp,
    created_at: jiff::Timestamp,
    #[serde(default)]
    updated_at: Option<jiff::Timestamp>,
    total_price_set: MoneyBag,
    #[serde(default)]
    currency_code: Option<String>,
    #[serde(default)]
    presentment_currency_code: Option<String>,
    source_name: Option<String>,
    shipping_address: Option<ShippingAddress>,
    risk: Risk,
    decision: Option<MetafieldValue>,
    #[serde(default)]
    transactions: Vec<super::snapshot::Transaction>,
    line_items: Connection<LineItem>,
    fulfillment_orders: Connection<FulfillmentOrderPage>,
    #[serde(default)]
    fulfillments: Vec<FulfillmentPage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentPage {
    id: String,
    status: crate::rules::enums::FulfillmentStatus,
    #[serde(default)]
    created_at: Option<jiff::Timestamp>,
    fulfillment_line_items: Connection<FulfillmentLineItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentData {
    fulfillment: Option<FulfillmentLinesOnly>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentLinesOnly {
    fulfillment_line_items: Connection<FulfillmentLineItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentOrderPage {
    id: String,
    status: FulfillmentOrderStatus,
    request_status: FulfillmentOrderRequestStatus,
    delivery_method: Option<super::snapshot::DeliveryMethod>,
    fulfill_at: Option<jiff::Timestamp>,
    #[serde(default)]
    fulfill_by: Option<jiff::Timestamp>,
    fulfillment_holds: Vec<FulfillmentHold>,
    supported_actions: Vec<SupportedAction>,
    line_items: Connection<FulfillmentOrderLineItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinesOnly {
    line_items: Connection<LineItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentOrdersOnly {
    fulfillment_orders: Connection<FulfillmentOrderPage>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentOrderData {
    fulfillment_order: Option<FoLinesOnly>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FoLinesOnly {
    line_items: Connection<FulfillmentOrderLineItem>,
}

#[derive(Debug, Deserialize)]
struct NodesData {
    nodes: Vec<Option<SellingPlanNode>>,
}

#[derive(Debug, Deserialize)]
struct SellingPlanNode {
    id: Option<String>,
    category: Option<SellingPlanCategory>,
}

impl Client {
    /// A fulfilment's lines: the first page the caller read, then the rest
    /// (`FulfillmentLineItemsPage`), for the snapshot and for `cancel-fulfilments`.
    pub(super) async fn all_fulfillment_lines(
        &self,
        shop: &ShopDomain,
        id: &str,
        first: Connection<FulfillmentLineItem>,
    ) -> Result<Vec<FulfillmentLineItem>, ShopifyError> {
        let mut lines = first.nodes;
        let mut page = first.page_info;
        while let Some(after) = page.next_cursor() {
            let more: FulfillmentData = self
                .execute(
                    shop,
                    &documents::FULFILLMENT_LINE_ITEMS_PAGE,
                    json!({ "id": id, "after": after }),
                )
                .await?;
            let more = more.fulfillment.ok_or_else(|| ShopifyError::NotFound {
                shop: shop.clone(),
                what: format!("fulfillment {id}"),
            })?;
            lines.extend(more.fulfillment_line_items.nodes);
            page = more.fulfillment_line_items.page_info;
        }
        Ok(lines)
    }

    /// Reads one order with everything the rules need, every page merged.
    #[tracing::instrument(level = "debug", skip_all, fields(shop = %shop, order_id = %order))]
    pub async fn fetch_snapshot(
        &self,
        shop: &ShopDomain,
        order: OrderId,
    ) -> Result<OrderSnapshot, ShopifyError> {
        let gid = order.gid();
        let not_found = || ShopifyError::NotFound {
            shop: shop.clone(),
            what: format!("order {gid}"),
        };
        let first: OrderData<OrderHead> = self
            .execute(shop, &documents::ORDER_SNAPSHOT, json!({ "id": gid }))
            .await?;
        let head = first.order.ok_or_else(not_found)?;

        let mut line_items = head.line_items.nodes;
        let mut page = head.line_items.page_info;
        while let Some(after) = page.next_cursor() {
            let more: OrderData<LinesOnly> = self
                .execute(
                    shop,
                    &documents::ORDER_LINE_ITEMS_PAGE,
                    json!({ "id": gid, "after": after }),
                )
                .await?;
            let lines = more.order.ok_or_else(not_found)?.line_items;
            line_items.extend(lines.nodes);
            page = lines.page_info;
        }

        let mut fo_pages = head.fulfillment_orders.nodes;
        let mut page = head.fulfillment_orders.page_info;
        while let Some(after) = page.next_cursor() {
            let more: OrderData<FulfillmentOrdersOnly> = self
                .execute(
                    shop,
                    &documents::ORDER_FULFILLMENT_ORDERS_PAGE,
                    json!({ "id": gid, "after": after }),
                )
                .await?;
            let fos = more.order.ok_or_else(not_found)?.fulfillment_orders;
            fo_pages.extend(fos.nodes);
            page = fos.page_info;
        }

        let mut fulfillment_orders = Vec::with_capacity(fo_pages.len());
        for fo in fo_pages {
            let mut lines = fo.line_items.nodes;
            let mut page = fo.line_items.page_info;
            while let Some(after) = page.next_cursor() {
                let more: FulfillmentOrderData = self
                    .execute(
                        shop,
                        &documents::FULFILLMENT_ORDER_LINE_ITEMS_PAGE,
                        json!({ "id": fo.id, "after": after }),
                    )
                    .await?;
                let more = more
                    .fulfillment_order
                    .ok_or_else(|| ShopifyError::NotFound {
                        shop: shop.clone(),
                        what: format!("fulfillment order {}", fo.id),
                    })?;
                lines.extend(more.line_items.nodes);
                page = more.line_items.page_info;
            }
            fulfillment_orders.push(FulfillmentOrder {
                id: fo.id,
                status: fo.status,
                request_status: fo.request_status,
                delivery_method: fo.delivery_method,
                fulfill_at: fo.fulfill_at,
                fulfill_by: fo.fulfill_by,
                fulfillment_holds: fo.fulfillment_holds,
                supported_actions: fo.supported_actions,
                line_items: lines,
            });
        }

        let fulfillments_truncated = head.fulfillments.len() >= FULFILLMENTS_READ;
        let mut fulfillments = Vec::with_capacity(head.fulfillments.len());
        for f in head.fulfillments {
            let lines = self
                .all_fulfillment_lines(shop, &f.id, f.fulfillment_line_items)
                .await?;
            fulfillments.push(Fulfillment {
                id: f.id,
                status: f.status,
                created_at: f.created_at,
                fulfillment_line_items: lines,
            });
        }

        self.resolve_selling_plans(shop, &mut line_items).await?;

        Ok(OrderSnapshot {
            id: head.id,
            name: head.name,
            tags: head.tags,
            cancelled_at: head.cancelled_at,
            closed: head.closed,
            closed_at: head.closed_at,
            test: head.test,
            display_financial_status: head.display_financial_status,
            display_fulfillment_status: head.display_fulfillment_status,
            processed_at: head.processed_at,
            created_at: head.created_at,
            updated_at: head.updated_at,
            total_price_set: head.total_price_set,
            currency_code: head.currency_code,
            presentment_currency_code: head.presentment_currency_code,
            source_name: head.source_name,
            shipping_address: head.shipping_address,
            risk: head.risk,
            decision: head.decision,
            transactions: head.transactions,
            line_items,
            fulfillment_orders,
            fulfillments,
            fulfillments_truncated,
        })
    }

    /// Fills `sellingPlan.category` for lines with a selling plan; no query when there is none.
    async fn resolve_selling_plans(
        &self,
        shop: &ShopDomain,
        lines: &mut [LineItem],
    ) -> Result<(), ShopifyError> {
        let ids: Vec<String> = lines
            .iter()
            .filter_map(|l| l.selling_plan.as_ref()?.selling_plan_id.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut categories = BTreeMap::new();
        for chunk in ids.chunks(MAX_IDS_PER_QUERY) {
            let data: NodesData = self
                .execute(
                    shop,
                    &documents::SELLING_PLAN_CATEGORIES,
                    json!({ "ids": chunk }),
                )
                .await?;
            for node in data.nodes.into_iter().flatten() {
                if let (Some(id), Some(category)) = (node.id, node.category) {
                    categories.insert(id, category);
                }
            }
        }
        for line in lines {
            if let Some(plan) = line.selling_plan.as_mut()
                && let Some(id) = &plan.selling_plan_id
            {
                plan.category = categories.get(id).copied();
            }
        }
        Ok(())
    }
}
