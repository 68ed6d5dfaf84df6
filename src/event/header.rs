//! Every header name a queued message can carry, in one place: the receiver writes them, the
//! worker reads and rewrites them, `dlq` filters and strips them, ops read them in the broker's
//! UI. Shopify's keep their own spelling; ours are prefixed; dead-letter fields are plain
//! (`reason`, `attempts`, ...) because ops filter on them.

pub const TOPIC: &str = "X-Shopify-Topic";
pub const SHOP: &str = "X-Shopify-Shop-Domain";
pub const WEBHOOK_ID: &str = "X-Shopify-Webhook-Id";
pub const API_VERSION: &str = "X-Shopify-API-Version";
pub const TRIGGERED_AT: &str = "X-Shopify-Triggered-At";
pub const EVENT_ID: &str = "X-Shopify-Event-Id";
pub const VERSION: &str = "orderflow-version";
pub const KIND: &str = "orderflow-kind";
pub const ORDER_ID: &str = "orderflow-order-id";
pub const FULFILLMENT_ORDER_ID: &str = "orderflow-fulfillment-order-id";
pub const RECEIVED_AT: &str = "orderflow-received-at";
/// Machine-readable reason a message is in the dead-letter queue.
pub const REASON: &str = "reason";
/// The sentence behind `reason`.
pub const REASON_DETAIL: &str = "reason_detail";
pub const DEAD_SHOP: &str = "shop";
pub const DEAD_ORDER_ID: &str = "order_id";
pub const ATTEMPTS: &str = "attempts";
pub const LAST_ERROR: &str = "last_error";
/// When a message was dead-lettered (RFC 3339).
pub const DEAD_LETTERED_AT: &str = "dead_lettered_at";
/// Set on a dead letter that `dlq replay` published again.
pub const REPLAYED: &str = "orderflow-replayed";
/// The broker's own reason for a message it dead-lettered (`delivery_limit`, ...).
pub const FIRST_DEATH_REASON: &str = "x-first-death-reason";

/// On a sweep's wake-up it wants judged for a missed webhook: the order's `updatedAt` (RFC 3339)
/// the sweep found. The worker that handles the order's partition counts it as missed when no
/// webhook of that order announced that update.
pub const SWEPT_UPDATED_AT: &str = "orderflow-swept-updated-at";

/// Headers orderflow adds when a message is delayed (a retry or a wake-up).
pub mod delay {
    /// RFC 3339: the message is not handled before this instant (by the worker's clock).
    pub const DUE_AT: &str = "orderflow-due-at";
    /// Why it was delayed: `retry` or `wake_up`.
    pub const WHY: &str = "orderflow-delayed-for";
}
