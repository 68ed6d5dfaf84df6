//! The Shopify Admin GraphQL adapter: typed documents held to the vendored schema, one merged
//! [`OrderSnapshot`] per order, a cost-aware throttle per shop, retries and classified errors.
//! It decides nothing: the rules do.

mod answer;
pub mod cancel;
pub mod client;
mod convert;
pub mod cost;
mod counters;
pub mod documents;
mod endpoint;
pub mod error;
mod fetch;
pub mod ops;
pub mod order_ops;
pub mod orders;
mod page;
pub mod read_only;
pub mod report;
pub mod retry;
pub mod schema;
pub mod shop;
pub mod snapshot;
pub mod subscriptions;
pub mod throttle;
mod token;

pub use client::{Client, ClientMetrics, ShopMetrics};
pub use error::{ShopifyError, UserError};
pub use retry::RetryPolicy;
pub use snapshot::OrderSnapshot;
