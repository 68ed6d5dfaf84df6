//! Pure: Shopify's delivery headers → `WebhookMeta`, or the name of the missing one.

use axum::http::HeaderMap;

use crate::event::{WebhookMeta, header};

/// Header values are bounded so a signed but silly delivery cannot bloat a message.
const MAX_HEADER_LEN: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("missing required header {0}")]
    Missing(&'static str),
    #[error("header {0} is not valid text or is too long")]
    Invalid(&'static str),
}

pub fn parse(headers: &HeaderMap) -> Result<WebhookMeta, HeaderError> {
    Ok(WebhookMeta {
        topic: required(headers, header::TOPIC)?,
        shop: required(headers, header::SHOP)?,
        webhook_id: required(headers, header::WEBHOOK_ID)?,
        api_version: optional(headers, header::API_VERSION)?,
        triggered_at: optional(headers, header::TRIGGERED_AT)?,
        event_id: optional(headers, header::EVENT_ID)?,
    })
}

fn required(headers: &HeaderMap, name: &'static str) -> Result<String, HeaderError> {
    optional(headers, name)?.ok_or(HeaderError::Missing(name))
}

fn optional(headers: &HeaderMap, name: &'static str) -> Result<Option<String>, HeaderError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => {
            let text = v.to_str().map_err(|_| HeaderError::Invalid(name))?.trim();
            if text.len() > MAX_HEADER_LEN {
                return Err(HeaderError::Invalid(name));
            }
            Ok((!text.is_empty()).then(|| text.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn full() -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::TOPIC, HeaderValue::from_static("orders/create"));
        h.insert(header::SHOP, HeaderValue::from_static("acme.myshopify.com"));
        h.insert(header::WEBHOOK_ID, HeaderValue::from_static("b54557e4"));
        h.insert(header::EVENT_ID, HeaderValue::from_static("e-1"));
        h
    }

    #[test]
    fn parses_required_and_optional_headers_case_insensitively() {
        let meta = parse(&full()).unwrap();
        assert_eq!(meta.topic, "orders/create");
        assert_eq!(meta.event_id.as_deref(), Some("e-1"));
        assert_eq!(meta.api_version, None);
    }

    #[test]
    fn names_the_missing_header() {
        for name in [header::TOPIC, header::SHOP, header::WEBHOOK_ID] {
            let mut h = full();
            h.remove(name);
            assert_eq!(parse(&h), Err(HeaderError::Missing(name)));
        }
    }

    #[test]
    fn empty_required_header_counts_as_missing() {
        let mut h = full();
        h.insert(header::WEBHOOK_ID, HeaderValue::from_static(""));
        assert_eq!(parse(&h), Err(HeaderError::Missing(header::WEBHOOK_ID)));
    }
}
