//! `rules::plan` for a typical order and a 300-line order, against two references measured in
//! the same run: cloning the order, and parsing it from JSON with serde_json (what any worker
//! does with a snapshot anyway). See BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use orderflow::config::rules::{RulesLayer, resolve};
use orderflow::rules::enums::*;
use orderflow::rules::{
    FulfillmentOrder, FulfillmentOrderLineItem, LineItem, Order, Risk, Rules, plan,
};
use rust_decimal::Decimal;

const RULES: &str = r#"
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
when = { delivery_method = ["PICK_UP", "PICKUP_POINT"] }
action = "manual"
[[fulfilment.rule]]
name = "made to order"
when = { product_tag = ["made-to-order", "custom"] }
action = "manual"
[[fulfilment.rule]]
name = "everything else ships"
action = "auto"
[processing]
cutoff = "13:00"
holidays = ["2026-12-25", "2026-12-26", "2027-01-01"]
hold = true
[[processing.rule]]
name = "handmade"
when = { product_tag = ["handmade"] }
days = 3
[[processing.rule]]
name = "engraving"
when = { sku_prefix = ["ENG-"] }
days = 2
[fraud]
hold_on_risk = ["HIGH"]
hold_on_recommendation = ["CANCEL", "INVESTIGATE"]
"#;

fn rules() -> Rules {
    let table: toml::Table = toml::from_str(RULES).unwrap();
    let section = |n: &str| table.get(n).and_then(toml::Value::as_table);
    let layer = RulesLayer {
        key_prefix: String::new(),
        fulfilment: section("fulfilment"),
        processing: section("processing"),
        fraud: section("fraud"),
        archive: section("archive"),
        payment: section("payment"),
    };
    resolve(&[layer], TimeZone::get("Europe/Amsterdam").unwrap()).unwrap()
}

/// `lines` lines spread over fulfilment orders of at most 100 lines, mixing digital, handmade,
/// engraved, made-to-order and plain goods, each with a few product tags.
fn order(lines: usize) -> Order {
    let mut o = Order {
        id: "gid://shopify/Order/820982911946154508".into(),
        name: "#1042".into(),
        tags: vec!["vip".into(), "newsletter".into()],
        cancelled: false,
        closed: false,
        closed_at: None,
        fulfillment_status: None,
        test: false,
        processed_at: "2026-11-23T09:00:00Z".parse().unwrap(),
        paid_at: None,
        financial_status: Some(FinancialStatus::Paid),
        total_price: Decimal::new(12_950, 2),
        source_name: Some("web".into()),
        shipping_country: Some("NL".into()),
        risk: Risk {
            recommendation: RiskRecommendation::Accept,
            assessments: vec![RiskLevel::Low],
        },
        lines: vec![],
        fulfillment_orders: vec![],
        decision_metafield: None,
        payment: Default::default(),
        fulfillments: vec![],
        fulfillments_truncated: false,
    };
    for i in 0..lines {
        if i % 100 == 0 {
            o.fulfillment_orders.push(FulfillmentOrder {
                id: format!("gid://shopify/FulfillmentOrder/{}", 600 + i / 100),
                status: FulfillmentOrderStatus::Open,
                request_status: FulfillmentOrderRequestStatus::Unsubmitted,
                delivery_method: Some(DeliveryMethodType::Shipping),
                holds: vec![],
                supported_actions: vec![
                    FulfillmentOrderAction::CreateFulfillment,
                    FulfillmentOrderAction::Hold,
                    FulfillmentOrderAction::Move,
                ],
                line_items: vec![],
                fulfill_by: None,
            });
        }
        let kind = i % 5;
        let line = LineItem {
            id: format!("gid://shopify/LineItem/{}", 1000 + i),
            name: format!("Item {i}"),
            sku: Some(if kind == 2 {
                format!("ENG-{i}")
            } else {
                format!("SKU-{i}")
            }),
            vendor: Some("Acme".into()),
            quantity: 1 + (i % 3) as u32,
            requires_shipping: kind != 0,
            gift_card: false,
            product_tags: match kind {
                1 => vec!["ceramic".into(), "handmade".into()],
                3 => vec!["made-to-order".into(), "wood".into()],
                _ => vec!["new".into(), "sale".into()],
            },
            preorder: false,
        };
        o.fulfillment_orders
            .last_mut()
            .unwrap()
            .line_items
            .push(FulfillmentOrderLineItem {
                id: format!("gid://shopify/FulfillmentOrderLineItem/{}", 5000 + i),
                line_item_id: line.id.clone(),
                remaining_quantity: line.quantity,
            });
        o.lines.push(line);
    }
    o
}

fn bench(c: &mut Criterion) {
    let rules = rules();
    let now: Timestamp = "2026-11-23T09:05:00Z".parse().unwrap();
    for (name, lines) in [("typical_5_lines", 5), ("large_300_lines", 300)] {
        let mut o = order(lines);
        // A steady-state order: the previous plan's decision is on it.
        if let Some(d) = plan(&o, &rules, now)
            .steps
            .iter()
            .find_map(|s| match &s.action {
                orderflow::rules::Action::SetDecision { decision } => Some(decision.to_json()),
                _ => None,
            })
        {
            o.decision_metafield = Some(d);
        }
        let json = serde_json::to_string(&o).unwrap();
        let mut g = c.benchmark_group(name);
        g.bench_function("plan", |b| b.iter(|| plan(black_box(&o), &rules, now)));
        g.bench_function("reference_clone", |b| b.iter(|| black_box(&o).clone()));
        g.bench_function("reference_serde_json_parse", |b| {
            b.iter(|| serde_json::from_str::<Order>(black_box(&json)).unwrap())
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
