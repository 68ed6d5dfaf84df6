//! The operations on an order's life after fulfilment: Shopify's fulfil-by deadline on its
//! fulfilment orders, capturing an authorized payment, and closing (archiving) a finished order. Beside [`super::ops`], which holds
//! the fulfilment and hold operations.

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::json;

use super::client::Client;
use super::documents;
use super::error::ShopifyError;
use super::ops::{Payload, missing};
use crate::id::ShopDomain;

/// The order as `orderClose` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClosedOrder {
    pub id: String,
    pub closed: bool,
    pub closed_at: Option<Timestamp>,
}

impl Client {
    /// Sets `fulfillBy` of these fulfilment orders to `deadline`
    /// (`fulfillmentOrdersSetFulfillmentDeadline`). An empty list is refused before sending.
    pub async fn set_fulfillment_deadline(
        &self,
        shop: &ShopDomain,
        fulfillment_order_ids: &[String],
        deadline: Timestamp,
    ) -> Result<(), ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            fulfillment_orders_set_fulfillment_deadline: Option<Payload<Outcome>>,
        }
        #[derive(Deserialize)]
        struct Outcome {
            success: Option<bool>,
        }
        let doc = &documents::FULFILLMENT_ORDERS_SET_FULFILLMENT_DEADLINE;
        if fulfillment_order_ids.is_empty() {
            return Err(ShopifyError::InvalidRequest {
                operation: doc.operation(),
                reason: "no fulfilment order ids",
            });
        }
        let data: Data = self
            .execute(
                shop,
                doc,
                json!({ "ids": fulfillment_order_ids, "deadline": deadline }),
            )
            .await?;
        let outcome = self.payload(
            shop,
            doc.operation(),
            data.fulfillment_orders_set_fulfillment_deadline,
        )?;
        match outcome.success {
            Some(true) => Ok(()),
            _ => Err(missing(shop, doc.operation())),
        }
    }

    /// Closes the order (`orderClose`): Shopify's archive of a finished order.
    pub async fn close_order(
        &self,
        shop: &ShopDomain,
        order_id: &str,
    ) -> Result<ClosedOrder, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            order_close: Option<Payload<Outcome>>,
        }
        #[derive(Deserialize)]
        struct Outcome {
            order: Option<ClosedOrder>,
        }
        let doc = &documents::ORDER_CLOSE;
        let data: Data = self
            .execute(shop, doc, json!({ "input": { "id": order_id } }))
            .await?;
        self.payload(shop, doc.operation(), data.order_close)?
            .order
            .ok_or_else(|| missing(shop, doc.operation()))
    }
}

/// One `orderCapture` (`OrderCaptureInput`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureRequest {
    pub order_id: String,
    /// The authorization (`parentTransactionId`).
    pub parent_transaction_id: String,
    pub amount: rust_decimal::Decimal,
    /// The presentment currency, for orders whose currency differs from the shop's.
    pub currency: Option<String>,
    pub final_capture: Option<bool>,
}

/// The capture transaction `orderCapture` answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CaptureTransaction {
    pub id: String,
    pub kind: String,
    pub status: String,
}

impl Client {
    /// Captures `amount` of the authorization (`orderCapture`). Shopify's refusals (expired,
    /// more than is left, a missing currency) are `UserErrors`.
    pub async fn capture(
        &self,
        shop: &ShopDomain,
        request: &CaptureRequest,
    ) -> Result<CaptureTransaction, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            order_capture: Option<Payload<Outcome>>,
        }
        #[derive(Deserialize)]
        struct Outcome {
            transaction: Option<CaptureTransaction>,
        }
        let doc = &documents::ORDER_CAPTURE;
        let mut input = json!({
            "id": request.order_id,
            "parentTransactionId": request.parent_transaction_id,
            // `Money` is a decimal string: never a float.
            "amount": request.amount.to_string(),
        });
        if let Some(currency) = &request.currency {
            input["currency"] = json!(currency);
        }
        if let Some(last) = request.final_capture {
            input["finalCapture"] = json!(last);
        }
        let data: Data = self.execute(shop, doc, json!({ "input": input })).await?;
        self.payload(shop, doc.operation(), data.order_capture)?
            .transaction
            .ok_or_else(|| missing(shop, doc.operation()))
    }
}
