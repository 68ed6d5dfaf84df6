//! The compliance queue: Shopify's mandatory GDPR webhooks and `app/uninstalled`.
//!
//! orderflow stores no customer data of its own; the only place a customer's data can rest is
//! the dead-letter queue (webhook bodies kept for replay). So `customers/redact` and
//! `shop/redact` purge those letters, `customers/data_request` is logged (ids only) for the app
//! developer to answer, and `app/uninstalled` marks the shop so its later messages dead-letter
//! at once instead of retrying against a revoked token.
//!
//! With a token store, `app/uninstalled` also deletes the shop's tokens and records the
//! uninstall there (`Store::uninstall`), so it holds across restarts and replicas, and
//! `shop/redact` deletes the shop's row (`Store::redact`). A store that does not answer makes
//! the message transient (retried), never done-and-lost.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::{Disposition, Handler, Incoming};
use crate::clock::Clock;
use crate::dlq::{self, DeadLetter};
use crate::event::DeadLetterReason;
use crate::id::ShopDomain;
use crate::queue::Publisher;
use crate::shops::Shops;
use crate::store::LazyStore;

pub struct ComplianceHandler {
    pub publisher: Publisher,
    /// Where an uninstall is marked for this process at once. Without a store, a restart
    /// forgets it; the 401 from Shopify then gives the same answer, one request later.
    pub shops: Shops,
    /// The token store, when `[store]` is set.
    pub store: Option<LazyStore>,
    pub clock: Arc<dyn Clock>,
}

#[derive(Deserialize)]
struct Redact {
    customer: Option<Customer>,
    #[serde(default)]
    orders_to_redact: Vec<u64>,
    #[serde(default)]
    orders_requested: Vec<u64>,
    data_request: Option<DataRequest>,
}

#[derive(Deserialize)]
struct Customer {
    id: u64,
}

#[derive(Deserialize)]
struct DataRequest {
    id: u64,
}

impl Handler for ComplianceHandler {
    async fn handle(&self, msg: &Incoming) -> Disposition {
        let shop = msg.shop().unwrap_or_default().to_owned();
        let topic = msg.topic();
        let body: Option<Redact> = serde_json::from_slice(&msg.body).ok();
        match topic {
            "customers/data_request" => {
                let b = body.as_ref();
                tracing::info!(
                    customer_id = b.and_then(|b| b.customer.as_ref()).map(|c| c.id),
                    data_request_id = b.and_then(|b| b.data_request.as_ref()).map(|d| d.id),
                    orders = ?b.map(|b| &b.orders_requested),
                    "customer data request: orderflow keeps no customer data beyond dead letters; answer it from the app"
                );
                Disposition::Done { wake_up: None }
            }
            "customers/redact" => {
                let Some(body) = body else {
                    return unusable("a customers/redact body without customer");
                };
                let customer = body.customer.map(|c| c.id);
                let orders: HashSet<u64> = body.orders_to_redact.into_iter().collect();
                let shop_ = shop.clone();
                let matches = move |l: &DeadLetter| {
                    l.message.shop() == Some(shop_.as_str())
                        && (l.message.order_id().is_some_and(|o| orders.contains(&o.0))
                            || customer.is_some_and(|c| customer_of(&l.message.body) == Some(c)))
                };
                self.redact(&matches, topic, customer).await
            }
            "shop/redact" => {
                if let (Some(store), Ok(domain)) = (&self.store, ShopDomain::parse(&shop)) {
                    let redacted = match store.store().await {
                        Ok(store) => store.redact(&domain).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = redacted {
                        return Disposition::Retry {
                            error: format!("deleting the shop's row: {e}"),
                        };
                    }
                    tracing::info!("shop/redact: the shop's row is deleted from the token store");
                }
                let shop_ = shop.clone();
                let matches = move |l: &DeadLetter| l.message.shop() == Some(shop_.as_str());
                self.redact(&matches, topic, None).await
            }
            "app/uninstalled" => self.uninstalled(&shop).await,
            other => unusable(&format!(
                "`{other}` does not belong on the compliance queue"
            )),
        }
    }
}

impl ComplianceHandler {
    /// Marks the shop here first (its next message here dead-letters even if the store is
    /// down), then deletes its tokens in the store, which tells every replica.
    async fn uninstalled(&self, shop: &str) -> Disposition {
        let Ok(domain) = ShopDomain::parse(shop) else {
            // No shop of ours can have that name: nothing to mark.
            tracing::warn!("app/uninstalled for a shop header that is not a shop domain");
            return Disposition::Done { wake_up: None };
        };
        self.shops.mark_uninstalled(&domain);
        if let Some(store) = &self.store
            && let Err(e) = match store.store().await {
                Ok(store) => store.uninstall(&domain, self.clock.now()).await,
                Err(e) => Err(e),
            }
        {
            return Disposition::Retry {
                error: format!("recording the uninstall in the token store: {e}"),
            };
        }
        tracing::warn!(
            "app uninstalled: this shop's later messages are dead-lettered as unauthorized"
        );
        Disposition::Done { wake_up: None }
    }

    async fn redact(
        &self,
        matches: &(dyn Fn(&DeadLetter) -> bool + Sync),
        topic: &str,
        customer: Option<u64>,
    ) -> Disposition {
        match dlq::purge_where(&self.publisher, matches).await {
            Ok(report) => {
                tracing::info!(
                    customer_id = customer,
                    purged = report.matched.len(),
                    "{topic}: purged the matching dead letters"
                );
                Disposition::Done { wake_up: None }
            }
            Err(e) => Disposition::Retry {
                error: format!("purging dead letters: {e}"),
            },
        }
    }
}

fn unusable(detail: &str) -> Disposition {
    Disposition::DeadLetter {
        reason: DeadLetterReason::UnusableCompliance,
        detail: detail.to_owned(),
    }
}

/// The customer id of an order body, if it has one.
fn customer_of(body: &[u8]) -> Option<u64> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("customer")?.get("id")?.as_u64()
}
