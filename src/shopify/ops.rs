//! The typed operations besides the snapshot: fulfilment order → order, holds, release,
//! fulfilment, tags and the decision metafield. `userErrors` become
//! [`ShopifyError::UserErrors`] (with their codes where the schema has them).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::Client;
use super::documents;
use super::error::{ShopifyError, UserError};
use super::snapshot::FulfillmentHold;
use crate::id::{OrderId, ShopDomain};
use crate::rules::enums::{FulfillmentHoldReason, FulfillmentOrderStatus};

/// `FulfillmentOrderLineItemInput`: a fulfilment order line and how many of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineQuantity {
    /// `gid://shopify/FulfillmentOrderLineItem/<id>`.
    pub id: String,
    pub quantity: u32,
}

/// `FulfillmentOrderHoldInput`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldRequest {
    /// orderflow's handles are `orderflow-<reason>`; unique per app per fulfilment order.
    pub handle: String,
    pub reason: FulfillmentHoldReason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_notes: Option<String>,
    pub notify_merchant: bool,
    /// Hold only these lines (Shopify splits the fulfilment order); empty holds all of it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fulfillment_order_line_items: Vec<LineQuantity>,
}

/// The order's `updatedAt` as a mutation's payload answers it: the instant of the change it
/// made, which the webhook echoing that change carries as its body's `updated_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStamp {
    pub updated_at: jiff::Timestamp,
}

/// A fulfilment order's id and status after a mutation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FulfillmentOrderState {
    pub id: String,
    pub status: FulfillmentOrderStatus,
    /// Its order after the mutation (selected by the hold and release documents).
    #[serde(default)]
    pub order: Option<OrderStamp>,
}

/// What `fulfillmentOrderHold` did.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldOutcome {
    pub fulfillment_hold: FulfillmentHold,
    pub fulfillment_order: FulfillmentOrderState,
    /// The lines not held, split off into a new fulfilment order (partial holds only).
    pub remaining_fulfillment_order: Option<FulfillmentOrderState>,
}

/// One fulfilment order's share of a fulfilment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentOrderLines {
    pub fulfillment_order_id: String,
    /// The lines to fulfil; empty fulfils everything that remains.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fulfillment_order_line_items: Vec<LineQuantity>,
}

/// `FulfillmentInput` (without tracking: orderflow fulfils digital and auto lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentRequest {
    pub line_items_by_fulfillment_order: Vec<FulfillmentOrderLines>,
    pub notify_customer: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedFulfillment {
    pub id: String,
    /// `FulfillmentStatus`, e.g. `SUCCESS`.
    pub status: String,
    /// Its order after the fulfilment.
    #[serde(default)]
    pub order: Option<OrderStamp>,
}

/// `MetafieldsSetInput`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetafieldInput {
    pub owner_id: String,
    pub namespace: String,
    pub key: String,
    /// e.g. `json`, `single_line_text_field`, `date`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// `Metafield`: what `metafieldsSet` answers, and what the sandbox stores.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Metafield {
    pub id: String,
    pub namespace: String,
    pub key: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Payload<T> {
    #[serde(flatten)]
    result: T,
    user_errors: Vec<UserError>,
}

impl Client {
    /// The order a fulfilment order belongs to (`fulfillment_orders/*` webhooks carry only it).
    pub async fn fulfillment_order_order(
        &self,
        shop: &ShopDomain,
        fulfillment_order_id: &str,
    ) -> Result<OrderId, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            fulfillment_order: Option<Fo>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Fo {
            order_id: String,
        }
        let data: Data = self
            .execute(
                shop,
                &documents::FULFILLMENT_ORDER_FOR_ORDER,
                json!({ "id": fulfillment_order_id }),
            )
            .await?;
        let fo = data
            .fulfillment_order
            .ok_or_else(|| ShopifyError::NotFound {
                shop: shop.clone(),
                what: format!("fulfillment order {fulfillment_order_id}"),
            })?;
        OrderId::from_gid(&fo.order_id).ok_or_else(|| ShopifyError::Schema {
            shop: shop.clone(),
            operation: documents::FULFILLMENT_ORDER_FOR_ORDER.operation(),
            message: format!("`{}` is not an order id", fo.order_id),
        })
    }

    /// Places a hold on a fulfilment order (or on some of its lines, which splits it).
    pub async fn hold(
        &self,
        shop: &ShopDomain,
        fulfillment_order_id: &str,
        hold: &HoldRequest,
    ) -> Result<HoldOutcome, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            fulfillment_order_hold: Option<Payload<Outcome>>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Outcome {
            fulfillment_hold: Option<FulfillmentHold>,
            fulfillment_order: Option<FulfillmentOrderState>,
            remaining_fulfillment_order: Option<FulfillmentOrderState>,
        }
        let doc = &documents::FULFILLMENT_ORDER_HOLD;
        let data: Data = self
            .execute(
                shop,
                doc,
                json!({ "id": fulfillment_order_id, "hold": hold }),
            )
            .await?;
        let result = self.payload(shop, doc.operation(), data.fulfillment_order_hold)?;
        match (result.fulfillment_hold, result.fulfillment_order) {
            (Some(fulfillment_hold), Some(fulfillment_order)) => Ok(HoldOutcome {
                fulfillment_hold,
                fulfillment_order,
                remaining_fulfillment_order: result.remaining_fulfillment_order,
            }),
            _ => Err(missing(shop, doc.operation())),
        }
    }

    /// Releases the given holds, and only them. An empty list is refused before sending:
    /// without hold ids Shopify would release every app's holds.
    pub async fn release_holds(
        &self,
        shop: &ShopDomain,
        fulfillment_order_id: &str,
        hold_ids: &[String],
    ) -> Result<FulfillmentOrderState, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            fulfillment_order_release_hold: Option<Payload<Outcome>>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Outcome {
            fulfillment_order: Option<FulfillmentOrderState>,
        }
        let doc = &documents::FULFILLMENT_ORDER_RELEASE_HOLD;
        if hold_ids.is_empty() {
            return Err(ShopifyError::InvalidRequest {
                operation: doc.operation(),
                reason: "no hold ids: orderflow releases only its own holds",
            });
        }
        let data: Data = self
            .execute(
                shop,
                doc,
                json!({ "id": fulfillment_order_id, "holdIds": hold_ids }),
            )
            .await?;
        self.payload(shop, doc.operation(), data.fulfillment_order_release_hold)?
            .fulfillment_order
            .ok_or_else(|| missing(shop, doc.operation()))
    }

    /// Creates a fulfilment for the given fulfilment order lines.
    pub async fn fulfill(
        &self,
        shop: &ShopDomain,
        fulfillment: &FulfillmentRequest,
    ) -> Result<CreatedFulfillment, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            fulfillment_create: Option<Payload<Outcome>>,
        }
        #[derive(Deserialize)]
        struct Outcome {
            fulfillment: Option<CreatedFulfillment>,
        }
        let doc = &documents::FULFILLMENT_CREATE;
        let data: Data = self
            .execute(shop, doc, json!({ "fulfillment": fulfillment }))
            .await?;
        self.payload(shop, doc.operation(), data.fulfillment_create)?
            .fulfillment
            .ok_or_else(|| missing(shop, doc.operation()))
    }

    /// Adds tags to a resource (an order); adding a tag it has is a no-op.
    pub async fn add_tags(
        &self,
        shop: &ShopDomain,
        id: &str,
        tags: &[String],
    ) -> Result<Option<OrderStamp>, ShopifyError> {
        self.tags(shop, &documents::TAGS_ADD, "tagsAdd", id, tags)
            .await
    }

    /// Removes tags from a resource; removing a tag it lacks is a no-op.
    pub async fn remove_tags(
        &self,
        shop: &ShopDomain,
        id: &str,
        tags: &[String],
    ) -> Result<Option<OrderStamp>, ShopifyError> {
        self.tags(shop, &documents::TAGS_REMOVE, "tagsRemove", id, tags)
            .await
    }

    async fn tags(
        &self,
        shop: &ShopDomain,
        doc: &documents::Document,
        field: &str,
        id: &str,
        tags: &[String],
    ) -> Result<Option<OrderStamp>, ShopifyError> {
        let mut data: serde_json::Map<String, serde_json::Value> = self
            .execute(shop, doc, json!({ "id": id, "tags": tags }))
            .await?;
        let payload = data
            .remove(field)
            .map(serde_json::from_value::<Payload<serde_json::Value>>)
            .transpose()
            .map_err(|e| ShopifyError::Schema {
                shop: shop.clone(),
                operation: doc.operation(),
                message: e.to_string(),
            })?;
        // `node` is a `Node`: the document selects `updatedAt` on an `Order` only.
        let node = self.payload(shop, doc.operation(), payload)?;
        Ok(node
            .get("node")
            .cloned()
            .and_then(|n| serde_json::from_value(n).ok()))
    }

    /// Creates or updates metafields (upsert by owner, namespace and key).
    pub async fn set_metafields(
        &self,
        shop: &ShopDomain,
        metafields: &[MetafieldInput],
    ) -> Result<Vec<Metafield>, ShopifyError> {
        Ok(self
            .set_metafields_stamped(shop, metafields)
            .await?
            .into_iter()
            .map(|(m, _)| m)
            .collect())
    }

    /// [`Client::set_metafields`], each metafield with its owner's `updatedAt` when the owner
    /// is an order.
    pub async fn set_metafields_stamped(
        &self,
        shop: &ShopDomain,
        metafields: &[MetafieldInput],
    ) -> Result<Vec<(Metafield, Option<OrderStamp>)>, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            metafields_set: Option<Payload<Outcome>>,
        }
        #[derive(Deserialize)]
        struct Outcome {
            metafields: Option<Vec<Written>>,
        }
        #[derive(Deserialize)]
        struct Written {
            #[serde(flatten)]
            metafield: Metafield,
            /// `HasMetafields`: `updatedAt` is selected on an `Order` only.
            #[serde(default)]
            owner: Option<serde_json::Value>,
        }
        let doc = &documents::METAFIELDS_SET;
        let data: Data = self
            .execute(shop, doc, json!({ "metafields": metafields }))
            .await?;
        Ok(self
            .payload(shop, doc.operation(), data.metafields_set)?
            .metafields
            .unwrap_or_default()
            .into_iter()
            .map(|w| {
                let stamp = w.owner.and_then(|o| serde_json::from_value(o).ok());
                (w.metafield, stamp)
            })
            .collect())
    }

    pub(super) fn payload<T>(
        &self,
        shop: &ShopDomain,
        operation: &'static str,
        payload: Option<Payload<T>>,
    ) -> Result<T, ShopifyError> {
        let payload = payload.ok_or_else(|| missing(shop, operation))?;
        if payload.user_errors.is_empty() {
            Ok(payload.result)
        } else {
            tracing::info!(shop = %shop, operation, errors = ?payload.user_errors, "Shopify refused a mutation");
            Err(ShopifyError::UserErrors {
                shop: shop.clone(),
                operation,
                errors: payload.user_errors,
            })
        }
    }
}

pub(super) fn missing(shop: &ShopDomain, operation: &'static str) -> ShopifyError {
    ShopifyError::Schema {
        shop: shop.clone(),
        operation,
        message: "payload missing from the answer".to_owned(),
    }
}
