//! The example config says what a merchant would expect of it.

use std::path::Path;

use orderflow::rules::plan;
use orderflow::shopify::snapshot::OrderSnapshot;

use super::ts;

fn example_rules() -> orderflow::rules::Rules {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("fixtures/config/example.toml")).unwrap();
    let c =
        orderflow::config::Config::from_toml(&text, Path::new("example.toml"), &Default::default())
            .expect("the example is valid");
    (*c.shops[0].rules).clone()
}

fn fixture(name: &str) -> OrderSnapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("fixtures/orders/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn pre_orders_and_pickups_wait_for_a_person_even_when_digital() {
    let rules = example_rules();
    let now = ts("2026-11-23T09:00:00Z");
    let pickup = plan(&fixture("pickup").to_rules_order(), &rules, now);
    assert_eq!(pickup.lines[0].action_rule, "pickups wait", "{pickup}");
    let preorder = plan(&fixture("preorder").to_rules_order(), &rules, now);
    assert_eq!(
        preorder.lines[0].action_rule, "pre-orders wait",
        "{preorder}"
    );
    // A digital line picked up in store waits too: the waiting rules come first.
    let mut digital_pickup = fixture("pickup");
    digital_pickup.line_items[0].requires_shipping = false;
    let p = plan(&digital_pickup.to_rules_order(), &rules, now);
    assert_eq!(p.lines[0].action_rule, "pickups wait", "{p}");
    assert!(p.steps.iter().all(|s| s.action.kind() != "fulfill"), "{p}");
    // A digital line shipped is still fulfilled at once.
    let d = plan(&fixture("digital").to_rules_order(), &rules, now);
    assert_eq!(d.lines[0].action_rule, "digital goods");
}

#[test]
fn the_taken_back_fixture_explains_a_persons_cancellation_and_fulfils_nothing() {
    let p = plan(
        &fixture("taken-back").to_rules_order(),
        &example_rules(),
        ts("2026-11-23T09:00:00Z"),
    );
    let text = p.to_string();
    assert!(
        text.contains("a person cancelled orderflow's fulfilment gid://shopify/Fulfillment/5550000000000000013 (Shop owner's guide (e-book))"),
        "{text}"
    );
    assert!(text.contains("taken back by a person"), "{text}");
    assert!(text.contains("add tag(s) orderflow:manual"), "{text}");
    assert!(
        p.steps.iter().all(|s| s.action.kind() != "fulfill"),
        "{text}"
    );
}
