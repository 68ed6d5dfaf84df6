//! The Shopify Admin GraphQL adapter: typed documents held to the vendored schema, one merged
//! [`OrderSnapshot`] per order, a cost-aware throttle per shop, retries and classified errors.
//! It decides nothing: the rules do.

pub mod documents;
pub mod enums;
pub mod schema;
pub mod snapshot;

pub use snapshot::OrderSnapshot;
