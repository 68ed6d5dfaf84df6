//! The rules engine, driven through its public API with rules written as a merchant writes
//! them: an order builder, rules from TOML text (read by config's loader, which is why these
//! tests live here and not inside `rules`), and a model of Shopify applying a plan (for
//! idempotence tests).

mod archive;
mod capture;
mod example;
mod holds;
mod matchers;
mod properties;
mod scenarios;
mod taken_back;
mod unknown;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;

use orderflow::config::rules::{RulesLayer, resolve};
use orderflow::rules::enums::*;
use orderflow::rules::*;

pub(super) fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// Rules from the `[fulfilment]`, `[processing]` and `[fraud]` of a TOML text, for a shop in
/// Europe/Amsterdam. Panics with the issues if they are invalid.
pub(super) fn rules(text: &str) -> Rules {
    rules_in(text, "Europe/Amsterdam")
}

pub(super) fn rules_in(text: &str, zone: &str) -> Rules {
    let table: toml::Table = toml::from_str(text).unwrap();
    let section = |n: &str| table.get(n).and_then(toml::Value::as_table);
    let layer = RulesLayer {
        key_prefix: String::new(),
        fulfilment: section("fulfilment"),
        processing: section("processing"),
        fraud: section("fraud"),
        archive: section("archive"),
        payment: section("payment"),
    };
    resolve(&[layer], TimeZone::get(zone).unwrap()).unwrap_or_else(|issues| panic!("{issues:#?}"))
}

pub(super) struct OrderBuilder(Order);

/// Order #1001, paid at creation on Monday 23 November 2026, 10:00 in Amsterdam (09:00Z),
/// EUR 50, from the online store, to the Netherlands, no risk, no lines yet.
pub(super) fn order() -> OrderBuilder {
    OrderBuilder(Order {
        id: "gid://shopify/Order/1001".into(),
        name: "#1001".into(),
        tags: vec![],
        cancelled: false,
        closed: false,
        closed_at: None,
        fulfillment_status: None,
        test: false,
        processed_at: ts("2026-11-23T09:00:00Z"),
        paid_at: None,
        financial_status: Some(FinancialStatus::Paid),
        total_price: Decimal::new(5000, 2),
        source_name: Some("web".into()),
        shipping_country: Some("NL".into()),
        risk: Risk::none(),
        lines: vec![],
        fulfillment_orders: vec![],
        decision_metafield: None,
        payment: Default::default(),
        fulfillments: vec![],
        fulfillments_truncated: false,
    })
}

/// An open, merchant-managed, shipped fulfilment order with no holds.
pub(super) fn fo(n: u32) -> FulfillmentOrder {
    FulfillmentOrder {
        id: format!("gid://shopify/FulfillmentOrder/{n}"),
        status: FulfillmentOrderStatus::Open,
        request_status: FulfillmentOrderRequestStatus::Unsubmitted,
        delivery_method: Some(DeliveryMethodType::Shipping),
        holds: vec![],
        supported_actions: open_actions(),
        line_items: vec![],
        fulfill_by: None,
    }
}

fn open_actions() -> Vec<FulfillmentOrderAction> {
    use FulfillmentOrderAction::*;
    vec![CreateFulfillment, Hold, Move, Split]
}

/// A physical line, quantity 1.
pub(super) fn line(name: &str) -> LineItem {
    LineItem {
        id: String::new(),
        name: name.into(),
        sku: None,
        vendor: None,
        quantity: 1,
        requires_shipping: true,
        gift_card: false,
        product_tags: vec![],
        preorder: false,
    }
}

pub(super) fn digital(name: &str) -> LineItem {
    LineItem {
        requires_shipping: false,
        ..line(name)
    }
}

pub(super) fn tagged(name: &str, tag: &str) -> LineItem {
    LineItem {
        product_tags: vec![tag.into()],
        ..line(name)
    }
}

pub(super) fn hold(id: u32, handle: &str, ours: bool) -> Hold {
    Hold {
        id: format!("gid://shopify/FulfillmentHold/{id}"),
        handle: Some(handle.into()),
        reason: if handle == "orderflow-fraud" {
            FulfillmentHoldReason::HighRiskOfFraud
        } else {
            FulfillmentHoldReason::Other
        },
        held_by_us: ours,
    }
}

impl OrderBuilder {
    /// Adds a line to the last fulfilment order (a new open one if there is none).
    pub fn line(mut self, line: LineItem) -> Self {
        if self.0.fulfillment_orders.is_empty() {
            self.0.fulfillment_orders.push(fo(1));
        }
        let n = self.0.lines.len() + 1;
        let line = LineItem {
            id: format!("gid://shopify/LineItem/{n}"),
            ..line
        };
        let fo = self.0.fulfillment_orders.last_mut().unwrap();
        fo.line_items.push(FulfillmentOrderLineItem {
            id: format!("gid://shopify/FulfillmentOrderLineItem/{n}"),
            line_item_id: line.id.clone(),
            remaining_quantity: line.quantity,
        });
        self.0.lines.push(line);
        self
    }

    /// Starts a new fulfilment order; following lines go into it.
    pub fn fo(mut self, fo: FulfillmentOrder) -> Self {
        self.0.fulfillment_orders.push(fo);
        self
    }

    /// Changes the last fulfilment order.
    pub fn with_fo(mut self, f: impl FnOnce(&mut FulfillmentOrder)) -> Self {
        f(self
            .0
            .fulfillment_orders
            .last_mut()
            .expect("a fulfilment order"));
        self
    }

    /// Puts a hold on the last fulfilment order, as Shopify would show it.
    pub fn held(self, h: Hold) -> Self {
        self.with_fo(|fo| {
            fo.holds.push(h);
            fo.status = FulfillmentOrderStatus::OnHold;
            fo.supported_actions = vec![
                FulfillmentOrderAction::ReleaseHold,
                FulfillmentOrderAction::Hold,
            ];
        })
    }

    pub fn with(mut self, f: impl FnOnce(&mut Order)) -> Self {
        f(&mut self.0);
        self
    }

    pub fn paid(self, at: &str) -> Self {
        self.with(|o| o.processed_at = ts(at))
    }

    pub fn risk(self, recommendation: RiskRecommendation, levels: &[RiskLevel]) -> Self {
        self.with(|o| {
            o.risk = Risk {
                recommendation,
                assessments: levels.to_vec(),
            }
        })
    }

    pub fn build(self) -> Order {
        self.0
    }
}

/// Shopify applying a plan, as far as the rules can see it.
pub(super) fn apply(order: &Order, plan: &Plan) -> Order {
    let mut o = order.clone();
    let mut next_hold = 900;
    for step in plan.changes() {
        match &step.action {
            Action::Release {
                fulfillment_order,
                hold_ids,
            } => {
                let fo = o
                    .fulfillment_orders
                    .iter_mut()
                    .find(|f| &f.id == fulfillment_order)
                    .unwrap();
                fo.holds.retain(|h| !hold_ids.contains(&h.id));
                if fo.holds.is_empty() {
                    fo.status = FulfillmentOrderStatus::Open;
                    fo.supported_actions = open_actions();
                }
            }
            Action::Hold {
                fulfillment_order,
                handle,
                reason,
                ..
            } => {
                let fo = o
                    .fulfillment_orders
                    .iter_mut()
                    .find(|f| &f.id == fulfillment_order)
                    .unwrap();
                next_hold += 1;
                fo.holds.push(Hold {
                    id: format!("gid://shopify/FulfillmentHold/{next_hold}"),
                    handle: Some(handle.clone()),
                    reason: *reason,
                    held_by_us: true,
                });
                fo.status = FulfillmentOrderStatus::OnHold;
                fo.supported_actions = vec![
                    FulfillmentOrderAction::ReleaseHold,
                    FulfillmentOrderAction::Hold,
                ];
            }
            Action::Fulfill {
                fulfillment_order,
                lines,
                ..
            } => {
                let fo = o
                    .fulfillment_orders
                    .iter_mut()
                    .find(|f| &f.id == fulfillment_order)
                    .unwrap();
                let mut fulfilled = Vec::new();
                for l in lines {
                    let item = fo.line_items.iter_mut().find(|i| i.id == l.id).unwrap();
                    assert!(l.quantity <= item.remaining_quantity, "over-fulfilment");
                    item.remaining_quantity -= l.quantity;
                    fulfilled.push(FulfillmentLine {
                        line_item_id: item.line_item_id.clone(),
                        quantity: l.quantity,
                    });
                }
                let n = o.fulfillments.len() + 1;
                o.fulfillments.push(Fulfillment {
                    id: format!("gid://shopify/Fulfillment/{n}"),
                    status: FulfillmentStatus::Success,
                    lines: fulfilled,
                    created_at: None,
                });
                let fo = o
                    .fulfillment_orders
                    .iter_mut()
                    .find(|f| &f.id == fulfillment_order)
                    .unwrap();
                if fo.line_items.iter().all(|i| i.remaining_quantity == 0) {
                    fo.status = FulfillmentOrderStatus::Closed;
                    fo.supported_actions = vec![];
                }
            }
            Action::TagsAdd { tags } => o.tags.extend(tags.iter().cloned()),
            Action::TagsRemove { tags } => o.tags.retain(|t| !tags.contains(t)),
            Action::SetDecision { decision } => o.decision_metafield = Some(decision.to_json()),
            Action::SetDeadline {
                fulfillment_orders,
                at,
            } => {
                for fo in o
                    .fulfillment_orders
                    .iter_mut()
                    .filter(|f| fulfillment_orders.contains(&f.id))
                {
                    fo.fulfill_by = Some(*at);
                }
            }
            Action::Close => {
                o.closed = true;
                o.closed_at = Some(plan.planned_at);
            }
            Action::Capture {
                parent_transaction,
                amount,
                ..
            } => {
                o.payment
                    .transactions
                    .push(orderflow::rules::model::Transaction {
                        id: format!("{parent_transaction}-capture"),
                        kind: "CAPTURE".into(),
                        status: "SUCCESS".into(),
                        amount: *amount,
                        authorization_expires_at: None,
                        parent_id: Some(parent_transaction.clone()),
                        multi_capturable: false,
                    });
            }
            Action::WakeUp { .. } => unreachable!("not a change"),
        }
    }
    o
}

/// Plans and applies until nothing changes (at most 3 rounds); returns the settled order.
pub(super) fn settle(order: &Order, rules: &Rules, now: Timestamp) -> Order {
    let mut o = order.clone();
    for _ in 0..3 {
        let p = plan(&o, rules, now);
        if p.is_empty() {
            return o;
        }
        o = apply(&o, &p);
    }
    let p = plan(&o, rules, now);
    assert!(p.is_empty(), "did not settle in 3 rounds:\n{p}");
    o
}

/// The kinds of the plan's changes, in order, e.g. `["hold", "tags_add", "set_decision"]`.
pub(super) fn kinds(plan: &Plan) -> Vec<&'static str> {
    plan.steps.iter().map(|s| s.action.kind()).collect()
}

/// The fulfilment-order line ids a plan fulfils.
pub(super) fn fulfilled(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .flat_map(|s| match &s.action {
            Action::Fulfill { lines, .. } => lines.iter().map(|l| l.id.clone()).collect(),
            _ => vec![],
        })
        .collect()
}

pub(super) fn fo_line(n: u32) -> String {
    format!("gid://shopify/FulfillmentOrderLineItem/{n}")
}

// The shop most scenarios run in: digital goods ship, pre-orders, pickups and made-to-order
// wait for a person, handmade takes 3 business days, fraud holds on HIGH, CANCEL, INVESTIGATE.
pub(super) const SHOP: &str = r#"
[fulfilment]
default = "manual"
[[fulfilment.rule]]
name = "digital goods"
when = { requires_shipping = false }
action = "auto"
[[fulfilment.rule]]
name = "pre-orders wait"
when = { preorder = true }
action = "manual"
[[fulfilment.rule]]
name = "pickups wait"
when = { delivery_method = ["PICK_UP"] }
action = "manual"
[[fulfilment.rule]]
name = "made to order"
when = { product_tag = ["made-to-order"] }
action = "manual"
[[fulfilment.rule]]
name = "everything else ships"
action = "auto"

[processing]
cutoff = "13:00"
business_days = ["mon", "tue", "wed", "thu", "fri"]
holidays = ["2026-12-25", "2026-12-26"]
default_days = 0
hold = true
[[processing.rule]]
name = "handmade"
when = { product_tag = ["handmade"] }
days = 3

[fraud]
hold_on_risk = ["HIGH"]
hold_on_recommendation = ["CANCEL", "INVESTIGATE"]
release_on_accept = true
notify_merchant = true
"#;

/// Monday 23 November 2026, 10:05 in Amsterdam.
pub(super) const NOW: &str = "2026-11-23T09:05:00Z";

pub(super) fn shop() -> Rules {
    rules(SHOP)
}

pub(super) fn now() -> Timestamp {
    ts(NOW)
}

pub(super) fn hold_step(p: &Plan) -> (&str, &str, FulfillmentHoldReason, &str, bool) {
    p.steps
        .iter()
        .find_map(|s| match &s.action {
            Action::Hold {
                fulfillment_order,
                handle,
                reason,
                notes,
                notify_merchant,
            } => Some((
                fulfillment_order.as_str(),
                handle.as_str(),
                *reason,
                notes.as_str(),
                *notify_merchant,
            )),
            _ => None,
        })
        .expect("a hold step")
}

pub(super) fn released(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .flat_map(|s| match &s.action {
            Action::Release { hold_ids, .. } => hold_ids.clone(),
            _ => vec![],
        })
        .collect()
}

pub(super) fn tags_added(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .flat_map(|s| match &s.action {
            Action::TagsAdd { tags } => tags.clone(),
            _ => vec![],
        })
        .collect()
}
