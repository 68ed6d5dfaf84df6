//! The demo's report: one short block per order, saying which rules fired, what orderflow did
//! to it (read back from the sandbox's mutation log, so it shows what Shopify received, not what
//! we meant to send) and the state the order is in now. Pure: snapshots and records in, text out.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::rules::decision::Previous;
use crate::rules::plan::day;
use crate::sandbox::MutationRecord;
use crate::shopify::OrderSnapshot;

/// Width of the left column (`#1001 digital`), so the blocks align.
pub const HEAD_WIDTH: usize = 26;

/// Hold ids seen on the orders, with their handles: a release names only hold ids, and the
/// report wants to say which hold went.
#[derive(Debug, Default)]
pub struct HoldNames(HashMap<String, String>);

impl HoldNames {
    /// Remembers every hold currently on `order`.
    pub fn learn(&mut self, order: &OrderSnapshot) {
        for fo in &order.fulfillment_orders {
            for hold in &fo.fulfillment_holds {
                let name = hold
                    .handle
                    .clone()
                    .unwrap_or_else(|| hold.reason.to_string());
                self.0.insert(hold.id.clone(), name);
            }
        }
    }

    fn name(&self, hold_id: &str) -> String {
        self.0
            .get(hold_id)
            .cloned()
            .unwrap_or_else(|| "a hold".to_owned())
    }
}

/// The mutations of `records` that touched `order`: its own id, or one of its fulfilment
/// orders', appears in the variables.
pub fn mutations_of<'a>(
    order: &OrderSnapshot,
    records: &'a [MutationRecord],
) -> Vec<&'a MutationRecord> {
    let mut ids: Vec<&str> = vec![&order.id];
    ids.extend(order.fulfillment_orders.iter().map(|fo| fo.id.as_str()));
    records
        .iter()
        .filter(|r| {
            let vars = r.variables.to_string();
            ids.iter().any(|id| mentions(&vars, id))
        })
        .collect()
}

/// `id` as a whole JSON string value (…/Order/1 must not match …/Order/12).
fn mentions(json: &str, id: &str) -> bool {
    json.contains(&format!("\"{id}\""))
}

/// One mutation in a few words: `held (orderflow-processing)`, `fulfilled 2 lines`.
pub fn describe(record: &MutationRecord, holds: &HoldNames) -> String {
    let v = &record.variables;
    let strings = |value: &serde_json::Value| -> Vec<String> {
        value
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    match record.operation_name.as_deref().unwrap_or_default() {
        "FulfillmentOrderHold" => format!(
            "held ({})",
            v["hold"]["handle"].as_str().unwrap_or("no handle")
        ),
        "FulfillmentOrderReleaseHold" => {
            let names: Vec<String> = strings(&v["holdIds"])
                .iter()
                .map(|id| holds.name(id))
                .collect();
            format!("released ({})", names.join(", "))
        }
        "FulfillmentCreate" => {
            let lines: usize = v["fulfillment"]["lineItemsByFulfillmentOrder"]
                .as_array()
                .map(|fos| {
                    fos.iter()
                        .map(|fo| {
                            fo["fulfillmentOrderLineItems"]
                                .as_array()
                                .map_or(0, Vec::len)
                        })
                        .sum()
                })
                .unwrap_or(0);
            let notify = if v["fulfillment"]["notifyCustomer"].as_bool() == Some(true) {
                ", customer notified"
            } else {
                ""
            };
            format!("fulfilled {lines} line{}{notify}", plural(lines))
        }
        "TagsAdd" => format!("tagged +{}", strings(&v["tags"]).join(" +")),
        "TagsRemove" => format!("untagged -{}", strings(&v["tags"]).join(" -")),
        "MetafieldsSet" => "wrote decision".to_owned(),
        "OrderCapture" => {
            let input = &v["input"];
            let currency = input["currency"]
                .as_str()
                .map_or(String::new(), |c| format!(" {c}"));
            format!(
                "captured {}{currency}",
                input["amount"].as_str().unwrap_or("?")
            )
        }
        "OrderClose" => "closed (archived)".to_owned(),
        "FulfillmentOrdersSetFulfillmentDeadline" => "set fulfil-by deadline".to_owned(),
        other => other.to_owned(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Descriptions in order, repeats folded (`held (orderflow-processing) ×7`).
pub fn actions(records: &[&MutationRecord], holds: &HoldNames) -> String {
    let mut folded: Vec<(String, usize)> = Vec::new();
    for r in records {
        let d = describe(r, holds);
        match folded.iter_mut().find(|(seen, _)| *seen == d) {
            Some((_, n)) => *n += 1,
            None => folded.push((d, 1)),
        }
    }
    if folded.is_empty() {
        return "nothing (already as the rules want it)".to_owned();
    }
    folded
        .iter()
        .map(|(d, n)| {
            if *n == 1 {
                d.clone()
            } else {
                format!("{d} ×{n}")
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The order now: fulfilment order statuses (counted), holds by handle, tags, ship-by.
pub fn state(order: &OrderSnapshot) -> String {
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut holds: BTreeMap<String, usize> = BTreeMap::new();
    for fo in &order.fulfillment_orders {
        *statuses.entry(fo.status.to_string()).or_default() += 1;
        for h in &fo.fulfillment_holds {
            let who = if h.held_by_requesting_app {
                ""
            } else {
                " by another app"
            };
            let name = h.handle.clone().unwrap_or_else(|| h.reason.to_string());
            *holds.entry(format!("{name}{who}")).or_default() += 1;
        }
    }
    // "orderflow-fraud", "orderflow-processing ×7"
    let counted = |m: &BTreeMap<String, usize>| {
        m.iter()
            .map(|(k, n)| {
                if *n == 1 {
                    k.clone()
                } else {
                    format!("{k} ×{n}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!("{} · ", order.display_fulfillment_status);
    let fos = order.fulfillment_orders.len();
    let _ = match statuses.len() {
        // "1 FO CLOSED", "7 FOs OPEN"
        1 => write!(
            out,
            "{fos} FO{} {}",
            plural(fos),
            statuses.keys().next().expect("one status")
        ),
        _ => write!(
            out,
            "{fos} FOs: {}",
            statuses
                .iter()
                .map(|(k, n)| format!("{n} {k}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if !holds.is_empty() {
        let _ = write!(out, " · holds: {}", counted(&holds));
    }
    if order.cancelled_at.is_some() {
        out.push_str(" · cancelled");
    }
    let tags = if order.tags.is_empty() {
        "none".to_owned()
    } else {
        order.tags.join(", ")
    };
    let _ = write!(out, " · tags: {tags}");
    if order.transactions.iter().any(|t| t.kind == "AUTHORIZATION")
        && let Some(status) = order.display_financial_status
    {
        let _ = write!(out, " · payment {status}");
    }
    if order.closed {
        out.push_str(" · closed (archived)");
    }
    if let Previous::Found(d) = Previous::read(order.decision.as_ref().map(|m| m.value.as_str()))
        && let Some(date) = d.ship_by
    {
        let _ = write!(out, " · ship by {}", day(date));
    }
    out
}

/// The rules that decided something, from the decision orderflow wrote on the order; or why
/// the plan `skipped` the order before any rule ran.
pub fn rules_fired(order: &OrderSnapshot, skipped: Option<&str>) -> String {
    match (
        Previous::read(order.decision.as_ref().map(|m| m.value.as_str())),
        skipped,
    ) {
        (Previous::Found(d), _) if !d.rules.is_empty() => d.rules.join(", "),
        (_, Some(why)) => format!("none: {why}, so orderflow leaves it alone"),
        _ => "none".to_owned(),
    }
}

/// One order's block:
///
/// ```text
/// #1003 handmade            rules  handmade
///                           did    held (orderflow-processing) · tagged +… · wrote decision
///                           now    ON_HOLD · 1 FO ON_HOLD · holds: orderflow-processing · …
/// ```
pub fn block(fixture: &str, order: &OrderSnapshot, did: &str, skipped: Option<&str>) -> String {
    let head = format!("{} {fixture}", order.name);
    let pad = " ".repeat(HEAD_WIDTH);
    format!(
        "{head:<HEAD_WIDTH$}rules  {}\n{pad}did    {did}\n{pad}now    {}\n",
        rules_fired(order, skipped),
        state(order)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::id::ShopDomain;

    fn record(op: &str, variables: serde_json::Value) -> MutationRecord {
        MutationRecord {
            shop: ShopDomain::parse("acme.myshopify.com").unwrap(),
            operation_name: Some(op.to_owned()),
            fields: vec![],
            variables,
            at: jiff::Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_release_is_named_by_the_handle_of_the_hold_it_released() {
        let mut holds = HoldNames::default();
        holds.0.insert(
            "gid://shopify/FulfillmentHold/7".into(),
            "orderflow-fraud".into(),
        );
        let r = record(
            "FulfillmentOrderReleaseHold",
            json!({"id": "gid://shopify/FulfillmentOrder/1", "holdIds": ["gid://shopify/FulfillmentHold/7"]}),
        );
        assert_eq!(describe(&r, &holds), "released (orderflow-fraud)");
    }

    #[test]
    fn repeated_actions_are_folded_and_none_says_so() {
        let hold = record(
            "FulfillmentOrderHold",
            json!({"id": "x", "hold": {"handle": "orderflow-processing"}}),
        );
        let holds = HoldNames::default();
        assert_eq!(
            actions(&[&hold, &hold], &holds),
            "held (orderflow-processing) ×2"
        );
        assert_eq!(
            actions(&[], &holds),
            "nothing (already as the rules want it)"
        );
    }

    #[test]
    fn the_state_counts_fulfilment_orders_by_status_and_names_other_apps_holds() {
        let text = include_str!("../../../fixtures/orders/preorder.json");
        let mut order = serde_json::from_str::<crate::sandbox::Fixture>(text)
            .unwrap()
            .order;
        let now = state(&order);
        assert!(now.contains("1 FO ON_HOLD"), "{now}");
        assert!(
            now.contains("holds: preorder-app-release by another app"),
            "{now}"
        );
        let mut open = order.fulfillment_orders[0].clone();
        open.status = crate::shopify::snapshot::FulfillmentOrderStatus::Open;
        open.fulfillment_holds.clear();
        order.fulfillment_orders.push(open);
        assert!(state(&order).contains("2 FOs: 1 ON_HOLD, 1 OPEN"));
    }

    #[test]
    fn an_id_matches_only_whole() {
        assert!(mentions(
            r#"{"id":"gid://shopify/Order/1"}"#,
            "gid://shopify/Order/1"
        ));
        assert!(!mentions(
            r#"{"id":"gid://shopify/Order/12"}"#,
            "gid://shopify/Order/1"
        ));
    }
}
