//! The shop itself, read with a token in hand before the shop is known to [`Client`](super::Client):
//! at install, its time zone (`shop { ianaTimezone }`, the registered `ShopTimeZone` document).
//!
//! One small query, sent at most a few times: the install page waits for it, so a network
//! error, a 5xx or a throttle is retried briefly and then reported transient.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HOST, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::answer;
use super::documents::SHOP_TIME_ZONE;
use super::error::{AttemptError, ShopifyError};
use crate::id::ShopDomain;

/// Attempts before a transient failure is reported.
const ATTEMPTS: u32 = 3;
/// Wait after the first failure, doubled after each.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Where and how to reach one shop's Admin API with a given token.
pub struct ShopAccess<'a> {
    pub http: &'a reqwest::Client,
    pub shop: &'a ShopDomain,
    /// A base URL standing in for `https://{shop}` (sandbox and tests); the shop then goes in
    /// the `Host` header, as the client does.
    pub base: Option<&'a str>,
    pub api_version: &'a str,
    pub token: &'a SecretString,
}

/// The shop's IANA time zone (`Shop.ianaTimezone`), e.g. `Europe/Amsterdam`.
pub async fn time_zone(access: &ShopAccess<'_>) -> Result<String, ShopifyError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        shop: Shop,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shop {
        iana_timezone: String,
    }
    let operation = SHOP_TIME_ZONE.operation();
    let body = serde_json::json!({
        "query": SHOP_TIME_ZONE.text(),
        "operationName": operation,
        "variables": {},
    });
    let shop = access.shop;
    let mut backoff = FIRST_BACKOFF;
    let mut reason = String::new();
    for attempt in 1..=ATTEMPTS {
        match send(access, &body).await {
            Ok(data) => {
                return serde_json::from_value::<Data>(data)
                    .map(|d| d.shop.iana_timezone)
                    .map_err(|e| ShopifyError::Schema {
                        shop: shop.clone(),
                        operation,
                        message: format!("unexpected answer shape: {e}"),
                    });
            }
            Err(AttemptError::Fatal(e)) => return Err(e),
            Err(AttemptError::Throttled(_)) => reason = "THROTTLED".to_owned(),
            Err(AttemptError::Retryable(r)) => reason = r,
        }
        if attempt < ATTEMPTS {
            tracing::warn!(shop = %shop, operation, attempt, reason = %reason, "retrying the shop's time zone read");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }
    Err(ShopifyError::Transient {
        shop: shop.clone(),
        operation,
        attempts: ATTEMPTS,
        reason,
    })
}

async fn send(
    access: &ShopAccess<'_>,
    body: &serde_json::Value,
) -> Result<serde_json::Value, AttemptError> {
    let shop = access.shop;
    let operation = SHOP_TIME_ZONE.operation();
    let endpoint = match access.base {
        Some(base) => format!(
            "{}/admin/api/{}/graphql.json",
            base.trim_end_matches('/'),
            access.api_version
        ),
        None => format!(
            "https://{shop}/admin/api/{}/graphql.json",
            access.api_version
        ),
    };
    let mut token = HeaderValue::from_str(access.token.expose_secret()).map_err(|_| {
        AttemptError::Fatal(ShopifyError::Unauthorized {
            shop: shop.clone(),
            operation,
            status: 0,
        })
    })?;
    token.set_sensitive(true);
    let mut request = access.http.post(endpoint);
    if access.base.is_some() {
        request = request.header(HOST, shop.as_str());
    }
    let network = |e: reqwest::Error| AttemptError::Retryable(e.without_url().to_string());
    let response = request
        .header("X-Shopify-Access-Token", token)
        .header(CONTENT_TYPE, "application/json")
        .json(body)
        .send()
        .await
        .map_err(network)?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(outcome) = answer::classify_status(shop, operation, status, retry_after.as_deref())
    {
        return Err(outcome);
    }
    let text = response.text().await.map_err(network)?;
    answer::classify_body(shop, operation, status, &text).0
}
