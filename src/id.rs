//! Identifiers parsed once at the edge, so the rest of the code never re-checks them.
//!
//! Shopify order ids pass 2^53, so they are `u64`, never floats. A shop domain is the only thing
//! orderflow ever builds an Admin API URL from, so it is validated strictly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A `*.myshopify.com` domain, lower-case, as Shopify sends it in `X-Shopify-Shop-Domain`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ShopDomain(String);

/// Why a string is not a shop domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a shop domain: write `<name>.myshopify.com` in lower-case letters, digits and dashes, e.g. `acme.myshopify.com`"
)]
pub struct InvalidShopDomain(pub String);

impl ShopDomain {
    pub fn parse(raw: &str) -> Result<Self, InvalidShopDomain> {
        let name = raw
            .strip_suffix(".myshopify.com")
            .ok_or_else(|| InvalidShopDomain(raw.to_owned()))?;
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if first_ok && rest_ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(InvalidShopDomain(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ShopDomain {
    type Err = InvalidShopDomain;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ShopDomain {
    type Error = InvalidShopDomain;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ShopDomain> for String {
    fn from(value: ShopDomain) -> Self {
        value.0
    }
}

impl fmt::Display for ShopDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Shopify order id (the numeric id of REST payloads; the tail of `gid://shopify/Order/<id>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderId(pub u64);

impl OrderId {
    /// The GraphQL global id of this order.
    pub fn gid(self) -> String {
        format!("gid://shopify/Order/{}", self.0)
    }

    /// Parses `gid://shopify/Order/<n>`.
    pub fn from_gid(gid: &str) -> Option<Self> {
        gid.strip_prefix("gid://shopify/Order/")?
            .parse()
            .ok()
            .map(Self)
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domain_accepts_only_myshopify_names() {
        assert!(ShopDomain::parse("acme.myshopify.com").is_ok());
        assert!(ShopDomain::parse("acme-2.myshopify.com").is_ok());
        for bad in [
            "",
            ".myshopify.com",
            "-acme.myshopify.com",
            "Acme.myshopify.com",
            "acme.example.com",
            "evil.com/x.myshopify.com",
            "a.b.myshopify.com",
            "acme.myshopify.com.evil.com",
        ] {
            assert!(ShopDomain::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn order_gid_round_trips_beyond_2_pow_53() {
        let id = OrderId(820_982_911_946_154_508);
        assert_eq!(OrderId::from_gid(&id.gid()), Some(id));
        assert_eq!(OrderId::from_gid("gid://shopify/Product/1"), None);
    }
}
