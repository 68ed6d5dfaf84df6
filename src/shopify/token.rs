//! The client's token source glue: a token that could not be had, told as a [`ShopifyError`]
//! the worker already knows how to settle.

use super::documents::Document;
use super::error::ShopifyError;
use crate::auth::AuthError;
use crate::id::ShopDomain;

/// A token that could not be had, as the worker classifies Shopify's failures: transient when
/// the token endpoint (or the store) may answer later, else the shop's access is gone.
pub(super) fn token_error(shop: &ShopDomain, document: &Document, e: AuthError) -> ShopifyError {
    tracing::warn!(error = %e, "no access token");
    match e {
        AuthError::UnknownShop(_) => ShopifyError::UnknownShop(shop.to_string()),
        e if e.is_transient() => ShopifyError::Transient {
            shop: shop.clone(),
            operation: document.operation(),
            attempts: 1,
            reason: format!("getting an access token: {e}"),
        },
        e => ShopifyError::Unauthorized {
            shop: shop.clone(),
            operation: document.operation(),
            status: match &e {
                AuthError::Grant(g) => g.status().unwrap_or(0),
                _ => 0,
            },
        },
    }
}
