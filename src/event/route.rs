//! One webhook's way onto the queue: classify the topic, read the subject from the body, check
//! the shop, build the `Event`. The receiver routes each delivery through here, and `dlq replay`
//! routes a webhook that was unusable through here again, so receipt and replay cannot drift.

use std::collections::HashSet;

use super::subject::{self, TopicClass};
use super::{DeadLetterReason, Event, Subject, Unusable, WebhookMeta};
use crate::id::ShopDomain;

/// The event for one signed webhook; `None` for a topic orderflow does not queue.
///
/// A shop missing from `shops` makes any non-compliance webhook unusable as `unknown_shop`,
/// whatever its body says: compliance topics are owed an answer even for shops we do not run.
pub fn route(
    meta: WebhookMeta,
    body: &[u8],
    received_at: String,
    shops: &HashSet<ShopDomain>,
) -> Option<Event> {
    let class = subject::classify(&meta.topic);
    let mut subject = subject::subject(class, &meta.topic, body)?;
    if class != TopicClass::Compliance && !is_configured(shops, &meta.shop) {
        subject = Subject::Unusable(Unusable {
            reason: DeadLetterReason::UnknownShop,
            detail: format!(
                "shop `{}` is not in the configuration: add a [[shops]] entry, then replay",
                meta.shop
            ),
        });
    }
    Some(Event {
        meta,
        subject,
        received_at,
    })
}

/// Whether `shop` parses as a shop domain and is one of `shops`.
pub fn is_configured(shops: &HashSet<ShopDomain>, shop: &str) -> bool {
    ShopDomain::parse(shop).is_ok_and(|d| shops.contains(&d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::OrderId;

    fn meta(topic: &str, shop: &str) -> WebhookMeta {
        WebhookMeta {
            topic: topic.into(),
            shop: shop.into(),
            webhook_id: "w-1".into(),
            api_version: None,
            triggered_at: None,
            event_id: None,
        }
    }

    fn shops() -> HashSet<ShopDomain> {
        [ShopDomain::parse("acme.myshopify.com").unwrap()].into()
    }

    #[test]
    fn a_known_shop_routes_by_subject() {
        let e = route(
            meta("orders/create", "acme.myshopify.com"),
            br#"{"id":7}"#,
            "t".into(),
            &shops(),
        )
        .unwrap();
        assert_eq!(e.subject, Subject::Order(OrderId(7)));
    }

    #[test]
    fn an_unknown_shop_is_unusable_except_for_compliance() {
        for shop in ["other.myshopify.com", "Not A Domain"] {
            let e = route(meta("orders/create", shop), b"<xml/>", "t".into(), &shops()).unwrap();
            match e.subject {
                Subject::Unusable(u) => assert_eq!(u.reason, DeadLetterReason::UnknownShop),
                other => panic!("{other:?}"),
            }
        }
        let e = route(
            meta("shop/redact", "other.myshopify.com"),
            b"{}",
            "t".into(),
            &shops(),
        )
        .unwrap();
        assert_eq!(e.subject, Subject::Compliance);
    }

    #[test]
    fn other_topics_are_not_routed() {
        assert!(
            route(
                meta("products/update", "acme.myshopify.com"),
                b"{}",
                "t".into(),
                &shops()
            )
            .is_none()
        );
    }
}
