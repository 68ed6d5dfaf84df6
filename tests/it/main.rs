//! The one integration test binary: each area adds its `mod` line here.

mod sandbox;
mod schema;
mod shopify;
