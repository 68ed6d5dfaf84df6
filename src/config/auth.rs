//! The token keys: `[shopify] auth`, `client_id`, `scopes`, `app_url`, `admin_url`, and each
//! `[[shops]] auth` that overrides the app's mode. How orderflow gets a shop's Admin API token
//! is chosen here, and each mode's needs are checked with messages that name the key and the fix.

use std::collections::BTreeMap;

use super::ConfigIssue;
use super::raw::RawShopify;
use crate::id::ShopDomain;

/// How orderflow gets a shop's Admin API access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMode {
    /// A token pasted into the config (`[[shops]] access_token`): today's custom apps.
    Static,
    /// The client-credentials grant: 24-hour tokens for apps of one's own organization, kept in
    /// memory and renewed.
    ClientCredentials,
    /// Expiring offline tokens from an install (or a migration), kept in the token store and
    /// refreshed before they expire.
    OAuth,
}

impl AuthMode {
    pub const ALL: [AuthMode; 3] = [
        AuthMode::Static,
        AuthMode::ClientCredentials,
        AuthMode::OAuth,
    ];

    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::Static => "static",
            AuthMode::ClientCredentials => "client_credentials",
            AuthMode::OAuth => "oauth",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether a token of this mode can be renewed after Shopify refused it (a 401).
    pub fn renews(self) -> bool {
        !matches!(self, AuthMode::Static)
    }
}

/// The scopes orderflow asks for when `shopify.scopes` is not set: exactly what the documents
/// in `src/shopify/documents/` need. Each scope's source is the `requiredAccess` note of the
/// Admin API 2026-10 schema (the introspection JSON in the shared schema folder); where a note
/// offers alternatives, the ones for fulfilment orders at the merchant's own locations
/// (merchant-managed) and at fulfilment services (third-party) are both taken, since a shop can
/// have both kinds. Shopify: "write implies read", but both are listed so the granted scope can
/// be checked scope by scope. A test checks this list against the documents.
pub const DEFAULT_SCOPES: &[&str] = &[
    // `Order`, `LineItem`, `OrderTransaction`: "`read_orders` access scope, `read_marketplace_
    // orders` ... or `read_quick_sale`"; `OrderRiskSummary`: "`read_orders` access scope".
    // Read by OrderSnapshot, OrderLineItemsPage, OrderFulfillmentOrdersPage.
    "read_orders",
    // `tagsAdd`/`tagsRemove` on an order (TagsAdd, TagsRemove), and `metafieldsSet` on an order
    // (MetafieldsSet): "the same access level needed to mutate the owner resource"; an order is
    // mutated with "`write_orders` access scope" (`orderUpdate`).
    "write_orders",
    // `FulfillmentOrder`, `FulfillmentHold`: "`read_assigned_fulfillment_orders`,
    // `read_merchant_managed_fulfillment_orders`, `read_third_party_fulfillment_orders` or
    // `read_marketplace_fulfillment_orders`". Read by OrderSnapshot, FulfillmentOrderForOrder,
    // FulfillmentOrderLineItemsPage, OrderFulfillmentOrdersPage.
    "read_merchant_managed_fulfillment_orders",
    "read_third_party_fulfillment_orders",
    // `fulfillmentOrderHold`: "`write_merchant_managed_fulfillment_orders` or
    // `write_third_party_fulfillment_orders`"; `fulfillmentOrderReleaseHold` and
    // `fulfillmentCreate` accept either as well (FulfillmentOrderHold,
    // FulfillmentOrderReleaseHold, FulfillmentCreate).
    "write_merchant_managed_fulfillment_orders",
    "write_third_party_fulfillment_orders",
    // `Product` (a line's `product { tags }`) and `SellingPlan` (SellingPlanCategories):
    // "`read_products` access scope".
    "read_products",
];

/// The resolved token keys.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `[shopify] auth`: the app's mode, and the mode of a shop that has no `auth` of its own.
    pub mode: AuthMode,
    /// The app's client ID (public: it is in every authorize URL).
    pub client_id: Option<String>,
    /// The scopes asked for at install (comma-joined in the authorize URL).
    pub scopes: Vec<String>,
    /// The app's public base URL, without a trailing `/`; the redirect URI is
    /// `{app_url}/auth/callback`.
    pub app_url: Option<String>,
    /// Where every shop's admin lives instead of `https://{shop}` (sandbox and tests only),
    /// without a trailing `/`. A shop's own `admin_api_url` wins over it.
    pub admin_url: Option<String>,
    /// The mode of each configured shop.
    pub shops: BTreeMap<ShopDomain, AuthMode>,
}

impl AuthConfig {
    /// The mode a shop's tokens come from: its own `auth`, else the app's.
    pub fn mode_of(&self, shop: &ShopDomain) -> AuthMode {
        self.shops.get(shop).copied().unwrap_or(self.mode)
    }

    /// The `scope` parameter of an authorize URL: comma-separated, as Shopify documents it.
    pub fn scope_param(&self) -> String {
        self.scopes.join(",")
    }

    /// Every mode in use: the app's and every shop's.
    pub fn modes(&self) -> Vec<AuthMode> {
        AuthMode::ALL
            .into_iter()
            .filter(|m| *m == self.mode || self.shops.values().any(|s| s == m))
            .collect()
    }
}

/// The app-wide keys; shops' modes are added by `shop_mode` as the shops are read.
pub(super) fn validate_app(raw: &RawShopify, issues: &mut Vec<ConfigIssue>) -> AuthConfig {
    let mode = match raw.auth.as_deref() {
        None => AuthMode::Static,
        Some(text) => parse_mode("shopify.auth", text, issues).unwrap_or(AuthMode::Static),
    };
    let client_id = raw.client_id.clone().filter(|c| !c.trim().is_empty());
    let scopes = match &raw.scopes {
        None => DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
        Some(list) => {
            if list.is_empty() {
                issues.push(ConfigIssue::new(
                    "shopify.scopes",
                    "empty: list the scopes to ask for, or leave the key out for the ones orderflow needs",
                ));
            }
            for (i, s) in list.iter().enumerate() {
                if s.is_empty() || !s.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    issues.push(ConfigIssue::new(
                        format!("shopify.scopes[{i}]"),
                        format!(
                            "`{s}` is not a scope: write e.g. \"read_orders\" (lower case and `_`)"
                        ),
                    ));
                }
            }
            list.clone()
        }
    };
    let app_url = http_url(
        "shopify.app_url",
        raw.app_url.as_deref(),
        "https://orderflow.example.com",
        issues,
    );
    let admin_url = http_url(
        "shopify.admin_url",
        raw.admin_url.as_deref(),
        "http://127.0.0.1:9900 (sandbox and tests only)",
        issues,
    );
    AuthConfig {
        mode,
        client_id,
        scopes,
        app_url,
        admin_url,
        shops: BTreeMap::new(),
    }
}

/// A shop's `auth`, or the app's mode when it has none.
pub(super) fn shop_mode(
    i: usize,
    raw: Option<&str>,
    app: AuthMode,
    issues: &mut Vec<ConfigIssue>,
) -> Option<AuthMode> {
    match raw {
        None => Some(app),
        Some(text) => parse_mode(&format!("shops[{i}].auth"), text, issues),
    }
}

/// What the modes in use need beyond their own keys: the client ID and a secret for the grants,
/// the app URL and a `[store]` for installs.
pub(super) fn check_needs(
    auth: &AuthConfig,
    has_secret: bool,
    has_store: bool,
    issues: &mut Vec<ConfigIssue>,
) {
    let modes = auth.modes();
    for mode in modes.iter().filter(|m| m.renews()) {
        let m = mode.as_str();
        if auth.client_id.is_none() {
            issues.push(ConfigIssue::new(
                "shopify.client_id",
                format!("missing: auth = \"{m}\" needs the app's client ID; write client_id = \"${{SHOPIFY_CLIENT_ID}}\" (Dev Dashboard: the app's settings)"),
            ));
        }
        if !has_secret {
            issues.push(ConfigIssue::new(
                "shopify.client_secrets",
                format!("auth = \"{m}\" sends the client secret to get tokens: list it first in client_secrets"),
            ));
        }
    }
    if modes.contains(&AuthMode::OAuth) {
        if auth.app_url.is_none() {
            issues.push(ConfigIssue::new(
                "shopify.app_url",
                "missing: auth = \"oauth\" needs the app's public base URL for the redirect URI ({app_url}/auth/callback); write app_url = \"https://orderflow.example.com\"",
            ));
        }
        if !has_store {
            issues.push(ConfigIssue::new(
                "store",
                "missing: auth = \"oauth\" keeps each shop's expiring tokens in PostgreSQL; add a [store] table with url and encryption_key",
            ));
        }
    }
}

fn parse_mode(key: &str, text: &str, issues: &mut Vec<ConfigIssue>) -> Option<AuthMode> {
    let mode = AuthMode::parse(text);
    if mode.is_none() {
        issues.push(ConfigIssue::new(
            key,
            format!("`{text}` is not a token mode: write \"static\", \"client_credentials\" or \"oauth\""),
        ));
    }
    mode
}

fn http_url(
    key: &str,
    url: Option<&str>,
    example: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<String> {
    let url = url?;
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(['?', '#']) {
        issues.push(ConfigIssue::new(
            key,
            format!("`{url}` is not an http(s) base URL: write e.g. {example}"),
        ));
        return None;
    }
    Some(url.trim_end_matches('/').to_owned())
}
