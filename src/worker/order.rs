//! The order handler: re-read the order, plan, apply the difference. Level-triggered: the
//! webhook only says *which* order to look at; what to do comes from the snapshot and the rules.
//! A step that fails leaves the earlier ones done; the retry re-reads the order and plans only
//! what is still missing, so nothing is done twice.

use std::sync::Arc;

use super::coalesce::{Coalescer, Echo, PassEchoes, Reason};
use super::holds;
use super::missed::{Verdict, Witness};
use super::{Disposition, Handler, Incoming};
use crate::clock::Clock;
use crate::config::ShopConfig;
use crate::event::{DeadLetterReason, Kind};
use crate::id::{OrderId, ShopDomain};
use crate::rules::decision::{METAFIELD_KEY, METAFIELD_NAMESPACE, METAFIELD_TYPE};
use crate::rules::plan::{Action, Plan, Step};
use crate::shopify::ops::{
    FulfillmentOrderLines, FulfillmentRequest, HoldRequest, LineQuantity, MetafieldInput,
};
use crate::shopify::order_ops::CaptureRequest;
use crate::shopify::{Client, ShopifyError};
use crate::shops::Shops;
use crate::telemetry::{DecisionEntry, Metrics, ShopError};

pub struct OrderHandler {
    pub client: Client,
    /// The shops served: configured, and installed in the token store.
    pub shops: Shops,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// The webhooks seen, to judge the sweep's wake-ups (`orderflow_sweep_missed_total`).
    pub witness: Arc<Witness>,
    /// The orders' last passes, to skip reads that add nothing (`orderflow_events_coalesced_total`).
    pub coalescer: Arc<Coalescer>,
}

impl Handler for OrderHandler {
    async fn handle(&self, msg: &Incoming) -> Disposition {
        // The sweep's tick: its delivery already started this worker's watch (`received`).
        if msg.message_kind() == Some(Kind::Watch) {
            return Disposition::Done { wake_up: None };
        }
        let raw_shop = msg.shop().unwrap_or_default();
        let known = ShopDomain::parse(raw_shop)
            .ok()
            .and_then(|d| self.shops.get(&d));
        let Some(known) = known else {
            return Disposition::DeadLetter {
                reason: DeadLetterReason::UnknownShop,
                detail: format!(
                    "shop `{raw_shop}` is neither configured nor installed: add it, then `orderflow dlq replay`"
                ),
            };
        };
        let shop = &*known.config;
        // Uninstalled here (this process saw the webhook) or on any replica (the store says so).
        if known.uninstalled {
            return Disposition::DeadLetter {
                reason: DeadLetterReason::Unauthorized,
                detail: "the app was uninstalled from this shop".into(),
            };
        }
        match (
            msg.message_kind(),
            msg.order_id(),
            msg.fulfillment_order_id(),
        ) {
            (Some(Kind::Order), Some(order), _) => {
                if let Some(reason) = self.coalescer.covered(shop.domain.as_str(), order.0, msg) {
                    return self.coalesced(reason);
                }
                self.reconcile(shop, order, msg).await
            }
            (Some(Kind::FulfillmentOrder), _, Some(gid)) => {
                if let Some(reason) = self.coalescer.covered_hold(shop.domain.as_str(), msg) {
                    return self.coalesced(reason);
                }
                match self
                    .call(
                        "fulfillment_order_order",
                        self.client.fulfillment_order_order(&shop.domain, gid),
                    )
                    .await
                {
                    Ok(order) => Disposition::Reroute { order_id: order },
                    Err(e) => self.failed(e, msg),
                }
            }
            _ => Disposition::DeadLetter {
                reason: DeadLetterReason::Unroutable,
                detail: format!(
                    "a message of kind {:?} without the id it needs",
                    msg.event_kind()
                ),
            },
        }
    }

    fn consuming(&self, queue: &str) {
        self.witness.consuming(queue);
        self.coalescer.clear();
        self.metrics.holds.forget_queue(queue);
    }

    fn received(&self, queue: &str, msg: &Incoming) {
        if let (Some(shop), Some(order)) = (msg.shop(), msg.order_id()) {
            self.metrics.holds.arrived(queue, shop, order.0);
        }
        let Some(judged) = self.witness.received(queue, msg, self.clock.now()) else {
            return;
        };
        if judged.verdict == Verdict::Missed {
            self.metrics.sweep.missed(&judged.shop);
            tracing::warn!(
                shop = %judged.shop,
                order_id = judged.order_id,
                order = %judged.name,
                updated_at = msg.header(crate::event::header::SWEPT_UPDATED_AT).unwrap_or(""),
                "the sweep found an order update no webhook announced"
            );
        }
    }
}

impl OrderHandler {
    /// A webhook the order's last pass already covers: no read, nothing to send. Any wake-up
    /// that pass needed was published with its own message.
    fn coalesced(&self, reason: Reason) -> Disposition {
        self.metrics.coalesced(reason.as_str());
        tracing::debug!(
            reason = reason.as_str(),
            "coalesced: the last pass covers this event"
        );
        Disposition::Done { wake_up: None }
    }

    async fn reconcile(&self, shop: &ShopConfig, order_id: OrderId, msg: &Incoming) -> Disposition {
        let disposition = self.reconcile_once(shop, order_id, msg).await;
        if !matches!(disposition, Disposition::Done { .. }) {
            self.coalescer.forget(shop.domain.as_str(), order_id.0);
        }
        disposition
    }

    async fn reconcile_once(
        &self,
        shop: &ShopConfig,
        order_id: OrderId,
        msg: &Incoming,
    ) -> Disposition {
        let read_started = self.clock.now();
        let snapshot = match self
            .call(
                "order_snapshot",
                self.client.fetch_snapshot(&shop.domain, order_id),
            )
            .await
        {
            Ok(s) => s,
            // Deleted (or never visible to us): nothing to reconcile.
            Err(ShopifyError::NotFound { .. }) => {
                tracing::info!("order not found in the shop: nothing to do");
                self.holds_now(shop, order_id, &[]);
                return Disposition::Done { wake_up: None };
            }
            Err(e) => return self.failed(e, msg),
        };
        let read_updated_at = snapshot.updated_at;
        let remember = |echoes: Vec<Echo>| {
            self.coalescer.remember(
                shop.domain.as_str(),
                order_id.0,
                read_started,
                read_updated_at,
                echoes,
            );
        };
        let order = snapshot.to_rules_order();
        let plan = crate::rules::plan(&order, &shop.rules, self.clock.now());
        let wake_up = plan.wake_up();
        if plan.is_empty() || shop.dry_run {
            self.holds_now(shop, order_id, &holds::outstanding(&order, &plan, false));
        }
        if plan.is_empty() {
            tracing::info!(order = %plan.order_name, "already as the rules want it");
            self.record(shop, order_id, &plan, "nothing to do");
            remember(Vec::new());
            return Disposition::Done { wake_up };
        }
        if shop.dry_run {
            tracing::info!(order = %plan.order_name, plan = %plan, "dry run: plan computed, nothing sent");
            self.record(shop, order_id, &plan, "dry run");
            remember(Vec::new());
            return Disposition::Done { wake_up };
        }
        let mut echoes = PassEchoes::after_read(read_updated_at);
        for step in plan.changes() {
            let applied = self.apply(shop, &plan, step).await;
            if let Ok(made) = &applied {
                echoes.step(made, changes_without_stamp(&step.action));
            }
            if let Err(e) = applied {
                tracing::warn!(rule = %step.rule, reason = %step.reason, error = %e, "a step failed");
                self.record(
                    shop,
                    order_id,
                    &plan,
                    &format!("failed at {}: {e}", step.action.kind()),
                );
                return self.failed(e, msg);
            }
            self.metrics.action(step.action.kind(), &step.rule);
            tracing::info!(rule = %step.rule, reason = %step.reason, action = step.action.kind(), "applied");
        }
        self.holds_now(shop, order_id, &holds::outstanding(&order, &plan, true));
        self.record(shop, order_id, &plan, "applied");
        let echoes = if settles_itself(&plan, &shop.rules) {
            echoes.finish()
        } else {
            // The next pass may plan more on what this one made: its echo must read.
            Vec::new()
        };
        remember(echoes);
        Disposition::Done { wake_up }
    }

    /// Records the order's holds of ours as they stand now (`orderflow_holds_outstanding`).
    fn holds_now(&self, shop: &ShopConfig, order: OrderId, reasons: &[&str]) {
        let now = self.clock.now().as_second();
        self.metrics
            .holds
            .record(shop.domain.as_str(), order.0, reasons, now);
    }
    /// The decision, for the ops page's list of the last ones.
    fn record(&self, shop: &ShopConfig, order_id: OrderId, plan: &Plan, outcome: &str) {
        let mut rules: Vec<String> = Vec::new();
        for step in plan.changes() {
            if !rules.contains(&step.rule) {
                rules.push(step.rule.clone());
            }
        }
        self.metrics.recent.decision(DecisionEntry {
            at: self.clock.now().as_second(),
            shop: shop.domain.to_string(),
            order_id: order_id.0,
            order_name: plan.order_name.clone(),
            rules,
            actions: plan.changes().map(|s| s.action.kind().to_owned()).collect(),
            outcome: outcome.to_owned(),
        });
    }

    /// Applies one step; answers the changes it made as their mutations answered them.
    async fn apply(
        &self,
        shop: &ShopConfig,
        plan: &Plan,
        step: &Step,
    ) -> Result<Vec<Echo>, ShopifyError> {
        let d = &shop.domain;
        let stamp =
            |o: Option<crate::shopify::ops::OrderStamp>| o.map(|o| Echo::UpdatedAt(o.updated_at));
        let mut echoes = Vec::new();
        match &step.action {
            Action::Release {
                fulfillment_order,
                hold_ids,
            } => {
                let fo = self
                    .call(
                        "release_holds",
                        self.client.release_holds(d, fulfillment_order, hold_ids),
                    )
                    .await?;
                echoes.extend(stamp(fo.order));
                echoes.extend(hold_ids.iter().cloned().map(Echo::HoldReleased));
            }
            Action::Hold {
                fulfillment_order,
                handle,
                reason,
                notes,
                notify_merchant,
            } => {
                let request = HoldRequest {
                    handle: handle.clone(),
                    reason: *reason,
                    reason_notes: Some(notes.clone()),
                    notify_merchant: *notify_merchant,
                    fulfillment_order_line_items: Vec::new(),
                };
                let held = self
                    .call("hold", self.client.hold(d, fulfillment_order, &request))
                    .await?;
                echoes.extend(stamp(held.fulfillment_order.order));
                echoes.push(Echo::HoldPlaced(held.fulfillment_hold.id));
            }
            Action::Fulfill {
                fulfillment_order,
                lines,
                notify_customer,
            } => {
                let request = FulfillmentRequest {
                    line_items_by_fulfillment_order: vec![FulfillmentOrderLines {
                        fulfillment_order_id: fulfillment_order.clone(),
                        fulfillment_order_line_items: lines
                            .iter()
                            .map(|l| LineQuantity {
                                id: l.id.clone(),
                                quantity: l.quantity,
                            })
                            .collect(),
                    }],
                    notify_customer: *notify_customer,
                };
                let created = self
                    .call("fulfill", self.client.fulfill(d, &request))
                    .await?;
                echoes.extend(stamp(created.order));
                echoes.push(Echo::Fulfillment(created.id));
            }
            Action::TagsAdd { tags } => {
                let order = self
                    .call("tags_add", self.client.add_tags(d, &plan.order_id, tags))
                    .await?;
                echoes.extend(stamp(order));
            }
            Action::TagsRemove { tags } => {
                let order = self
                    .call(
                        "tags_remove",
                        self.client.remove_tags(d, &plan.order_id, tags),
                    )
                    .await?;
                echoes.extend(stamp(order));
            }
            Action::SetDecision { decision } => {
                let input = MetafieldInput {
                    owner_id: plan.order_id.clone(),
                    namespace: METAFIELD_NAMESPACE.into(),
                    key: METAFIELD_KEY.into(),
                    kind: METAFIELD_TYPE.into(),
                    value: decision.to_json(),
                };
                let written = self
                    .call(
                        "metafields_set",
                        self.client.set_metafields_stamped(d, &[input]),
                    )
                    .await?;
                echoes.extend(written.into_iter().filter_map(|(_, o)| stamp(o)));
            }
            Action::SetDeadline {
                fulfillment_orders,
                at,
            } => {
                self.call(
                    "set_deadline",
                    self.client
                        .set_fulfillment_deadline(d, fulfillment_orders, *at),
                )
                .await?;
            }
            Action::Close => {
                self.call("close", self.client.close_order(d, &plan.order_id))
                    .await?;
            }
            Action::Capture {
                parent_transaction,
                amount,
                currency,
                final_capture,
            } => {
                let request = CaptureRequest {
                    order_id: plan.order_id.clone(),
                    parent_transaction_id: parent_transaction.clone(),
                    amount: *amount,
                    currency: currency.clone(),
                    final_capture: *final_capture,
                };
                self.call("capture", self.client.capture(d, &request))
                    .await?;
            }
            Action::WakeUp { .. } => {}
        }
        Ok(echoes)
    }

    /// Runs one Shopify call and counts it by operation and outcome.
    async fn call<T>(
        &self,
        operation: &'static str,
        call: impl std::future::Future<Output = Result<T, ShopifyError>>,
    ) -> Result<T, ShopifyError> {
        let result = call.await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.class(),
        };
        self.metrics.shopify_call(operation, outcome);
        result
    }

    /// How a failed call settles the message.
    fn failed(&self, e: ShopifyError, msg: &Incoming) -> Disposition {
        let disposition = self.settle_failure(e, msg);
        let (kind, error) = match &disposition {
            Disposition::Retry { error } => ("retry", error.clone()),
            Disposition::DeadLetter { detail, .. } => ("dead_letter", detail.clone()),
            _ => return disposition,
        };
        self.metrics.recent.error(
            msg.shop().unwrap_or_default(),
            ShopError {
                at: self.clock.now().as_second(),
                disposition: kind.to_owned(),
                error,
            },
        );
        disposition
    }

    fn settle_failure(&self, e: ShopifyError, msg: &Incoming) -> Disposition {
        match &e {
            e if e.is_transient() => Disposition::Retry {
                error: e.to_string(),
            },
            ShopifyError::Unauthorized { .. } => Disposition::DeadLetter {
                reason: DeadLetterReason::Unauthorized,
                detail: format!("{e}: the token was refused (app uninstalled or scopes revoked)"),
            },
            // Shopify disagreed with a plan made from a snapshot that may have been stale:
            // re-read and re-plan once; if it still disagrees, a person must look.
            ShopifyError::UserErrors { .. } if msg.attempts() == 0 => Disposition::Retry {
                error: e.to_string(),
            },
            ShopifyError::UserErrors { .. } => Disposition::DeadLetter {
                reason: DeadLetterReason::UserErrors,
                detail: e.to_string(),
            },
            _ => Disposition::DeadLetter {
                reason: e.reason(),
                detail: e.to_string(),
            },
        }
    }
}

/// Whether `action` changes the order through a mutation that answers no `updatedAt` of the
/// order (`FulfillmentOrdersSetFulfillmentDeadlinePayload` has only `success`; capture and close
/// are not read back for one): its echo is known only by the stamps around it.
fn changes_without_stamp(action: &Action) -> bool {
    matches!(
        action,
        Action::SetDeadline { .. } | Action::Close | Action::Capture { .. }
    )
}

/// Whether the state `plan` leaves needs no further pass beyond the wake-up it asks for, so the
/// echoes of its changes add nothing. A fulfilment can make the order finished (`[archive]`) or
/// due for capture (`[payment] capture = "on_fulfilment"`), and a capture can make it paid
/// (finished): those are read back. (A release asks for an immediate wake-up of its own.)
fn settles_itself(plan: &Plan, rules: &crate::rules::Rules) -> bool {
    use crate::rules::policy::CapturePolicy;
    let archive = rules.archive.when_fulfilled;
    !plan.changes().any(|s| match s.action {
        Action::Fulfill { .. } => archive || rules.payment.capture == CapturePolicy::OnFulfilment,
        Action::Capture { .. } => archive,
        _ => false,
    })
}
