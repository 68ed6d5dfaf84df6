//! The record of every mutation the sandbox received, for tests and the demo to read.

use serde::Serialize;

use crate::id::ShopDomain;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MutationRecord {
    pub shop: ShopDomain,
    /// The operation's name, e.g. `FulfillmentOrderHold`.
    pub operation_name: Option<String>,
    /// The root mutation fields it ran, e.g. `["fulfillmentOrderHold"]`.
    pub fields: Vec<String>,
    pub variables: serde_json::Value,
    /// From the sandbox's clock.
    pub at: jiff::Timestamp,
}
