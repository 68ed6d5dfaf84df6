//! Where a shop's Admin API requests go: the endpoint URL and, behind an `admin_api_url`
//! override, the `Host` header that still names the shop.

use crate::config::ShopConfig;

/// A shop's request target.
#[derive(Clone)]
pub(super) struct Shop {
    pub(super) endpoint: String,
    /// With an `admin_api_url` override the URL no longer names the shop, so the `Host` header
    /// does (as it would on `https://{shop}`); the sandbox tells its shops apart by it.
    pub(super) host: Option<String>,
}

/// The Admin API endpoint of a shop: `https://{shop}/admin/api/{version}/graphql.json`, or the
/// same path under the shop's `admin_api_url` override (sandbox and tests).
pub fn endpoint(shop: &ShopConfig, api_version: &str) -> String {
    let base = match &shop.admin_api_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => format!("https://{}", shop.domain),
    };
    format!("{base}/admin/api/{api_version}/graphql.json")
}

pub(super) fn target(shop: &ShopConfig, api_version: &str) -> Shop {
    Shop {
        endpoint: endpoint(shop, api_version),
        host: shop.admin_api_url.as_ref().map(|_| shop.domain.to_string()),
    }
}
