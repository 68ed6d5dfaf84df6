//! The compliance queue: Shopify's mandatory GDPR webhooks and `app/uninstalled`.
//!
//! orderflow stores no customer data of its own; the only place a customer's data can rest is
//! the dead-letter queue (webhook bodies kept for replay). So `customers/redact` and
//! `shop/redact` purge those letters, `customers/data_request` is logged (ids only) for the app
//! developer to answer, and `app/uninstalled` marks the shop so its later messages dead-letter
//! at once instead of retrying against a revoked token.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use serde::Deserialize;
use serde_json::Value;

use super::{Disposition, Handler, Incoming};
use crate::dlq::{self, DeadLetter};
use crate::event::DeadLetterReason;
use crate::queue::Publisher;

/// Shops that uninstalled the app during this process's life. After a restart the 401 from
/// Shopify gives the same answer, one request later.
#[derive(Debug, Clone, Default)]
pub struct Uninstalled(Arc<RwLock<HashSet<String>>>);

impl Uninstalled {
    pub fn mark(&self, shop: &str) {
        self.0
            .write()
            .expect("uninstalled lock")
            .insert(shop.to_owned());
    }

    pub fn contains(&self, shop: &str) -> bool {
        self.0.read().expect("uninstalled lock").contains(shop)
    }
}

pub struct ComplianceHandler {
    pub publisher: Publisher,
    pub uninstalled: Uninstalled,
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
                let shop_ = shop.clone();
                let matches = move |l: &DeadLetter| l.message.shop() == Some(shop_.as_str());
                self.redact(&matches, topic, None).await
            }
            "app/uninstalled" => {
                self.uninstalled.mark(&shop);
                tracing::warn!(
                    "app uninstalled: this shop's later messages are dead-lettered as unauthorized"
                );
                Disposition::Done { wake_up: None }
            }
            other => unusable(&format!(
                "`{other}` does not belong on the compliance queue"
            )),
        }
    }
}

impl ComplianceHandler {
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
