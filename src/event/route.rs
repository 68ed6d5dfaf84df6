//! One webhook's way onto the queue: classify the topic, read the subject from the body, check
//! the shop, build the `Event`. The receiver routes each delivery through here, and `dlq replay`
//! routes a webhook that was unusable through here again, so receipt and replay cannot drift.

use std::collections::HashSet;

use super::subject::{self, TopicClass};
use super::{DeadLetterReason, Event, Subject, Unusable, WebhookMeta};
use crate::id::ShopDomain;

/// The shops a webhook may be for: the configured set, or the app's registry of known shops.
pub trait KnownShops {
    fn knows(&self, shop: &ShopDomain) -> bool;
}

impl KnownShops for HashSet<ShopDomain> {
    fn knows(&self, shop: &ShopDomain) -> bool {
        self.contains(shop)
    }
}

/// One signed webhook, routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// The event as it is published.
    pub event: Event,
    /// The body's own verdict when it is unusable AND the shop is unknown: the event then says
    /// `unknown_shop`, and this is what it replaced. Replay reports it first, since the body
    /// travels unchanged and can never become usable.
    pub replaced: Option<Unusable>,
}

/// Routes one signed webhook; `None` for a topic orderflow does not queue.
///
/// A shop `shops` does not know makes any non-compliance webhook unusable as `unknown_shop`,
/// whatever its body says: compliance topics are owed an answer even for shops we do not run.
pub fn route(
    meta: WebhookMeta,
    body: &[u8],
    received_at: String,
    shops: &(impl KnownShops + ?Sized),
) -> Option<Routed> {
    let class = subject::classify(&meta.topic);
    let mut subject = subject::subject(class, &meta.topic, body)?;
    let mut replaced = None;
    if class != TopicClass::Compliance && !is_configured(shops, &meta.shop) {
        let unknown = Subject::Unusable(Unusable {
            reason: DeadLetterReason::UnknownShop,
            detail: format!(
                "shop `{}` is neither configured nor installed: add a [[shops]] entry or install the app, then replay",
                meta.shop
            ),
        });
        if let Subject::Unusable(body) = std::mem::replace(&mut subject, unknown) {
            replaced = Some(body);
        }
    }
    Some(Routed {
        event: Event {
            meta,
            subject,
            received_at,
        },
        replaced,
    })
}

/// Whether `shop` parses as a shop domain and is one of `shops`.
pub fn is_configured(shops: &(impl KnownShops + ?Sized), shop: &str) -> bool {
    ShopDomain::parse(shop).is_ok_and(|d| shops.knows(&d))
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
        let r = route(
            meta("orders/create", "acme.myshopify.com"),
            br#"{"id":7}"#,
            "t".into(),
            &shops(),
        )
        .unwrap();
        assert_eq!(r.event.subject, Subject::Order(OrderId(7)));
        assert_eq!(r.replaced, None);
    }

    #[test]
    fn an_unknown_shop_is_unusable_except_for_compliance() {
        for shop in ["other.myshopify.com", "Not A Domain"] {
            let r = route(meta("orders/create", shop), b"<xml/>", "t".into(), &shops()).unwrap();
            match r.event.subject {
                Subject::Unusable(u) => assert_eq!(u.reason, DeadLetterReason::UnknownShop),
                other => panic!("{other:?}"),
            }
            assert_eq!(r.replaced.unwrap().reason, DeadLetterReason::NotJson);
        }
        let r = route(
            meta("shop/redact", "other.myshopify.com"),
            b"{}",
            "t".into(),
            &shops(),
        )
        .unwrap();
        assert_eq!(r.event.subject, Subject::Compliance);
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
