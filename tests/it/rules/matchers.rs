//! Every matcher, once matching and once not.

use super::*;

type Tweak = fn(&mut Order);

fn nothing(_: &mut Order) {}

/// (when, change to the base order, matches?)
///
/// The base order: one shipped line "Mug" (sku MUG-RED, vendor Acme, tag ceramic), in an open
/// SHIPPING fulfilment order, EUR 50, source web, to NL, order tag vip.
const CASES: &[(&str, Tweak, bool)] = &[
    ("{ product_tag = [\"ceramic\", \"glass\"] }", nothing, true),
    ("{ product_tag = \"CERAMIC\" }", nothing, true),
    ("{ product_tag = [\"glass\"] }", nothing, false),
    ("{ vendor = [\"acme\"] }", nothing, true),
    ("{ vendor = [\"Globex\"] }", nothing, false),
    ("{ sku_prefix = [\"MUG-\", \"CUP-\"] }", nothing, true),
    ("{ sku_prefix = [\"mug-\"] }", nothing, false),
    (
        "{ sku_prefix = [\"MUG-\"] }",
        |o| o.lines[0].sku = None,
        false,
    ),
    ("{ requires_shipping = true }", nothing, true),
    ("{ requires_shipping = false }", nothing, false),
    ("{ preorder = true }", |o| o.lines[0].preorder = true, true),
    ("{ preorder = true }", nothing, false),
    (
        "{ gift_card = true }",
        |o| o.lines[0].gift_card = true,
        true,
    ),
    (
        "{ gift_card = false }",
        |o| o.lines[0].gift_card = true,
        false,
    ),
    (
        "{ delivery_method = [\"SHIPPING\", \"LOCAL\"] }",
        nothing,
        true,
    ),
    ("{ delivery_method = [\"PICK_UP\"] }", nothing, false),
    (
        "{ delivery_method = [\"SHIPPING\"] }",
        |o| o.fulfillment_orders[0].delivery_method = None,
        false,
    ),
    ("{ order_tag = [\"VIP\"] }", nothing, true),
    ("{ order_tag = [\"wholesale\"] }", nothing, false),
    ("{ source_name = [\"web\", \"pos\"] }", nothing, true),
    ("{ source_name = [\"pos\"] }", nothing, false),
    ("{ shipping_country = [\"nl\", \"BE\"] }", nothing, true),
    ("{ shipping_country = [\"DE\"] }", nothing, false),
    (
        "{ shipping_country = [\"NL\"] }",
        |o| o.shipping_country = None,
        false,
    ),
    ("{ min_total = \"50.00\" }", nothing, true),
    ("{ min_total = 50.01 }", nothing, false),
    ("{ max_total = 50 }", nothing, true),
    ("{ max_total = \"49.99\" }", nothing, false),
    (
        "{ min_total = 10, max_total = 100, vendor = \"Acme\" }",
        nothing,
        true,
    ),
    (
        "{ min_total = 10, max_total = 100, vendor = \"Globex\" }",
        nothing,
        false,
    ),
    ("{}", nothing, true),
];

#[test]
fn every_matcher_matches_and_refuses() {
    for (when, tweak, expected) in CASES {
        let r = rules(&format!(
            "[fulfilment]\ndefault = \"manual\"\n[[fulfilment.rule]]\nname = \"r\"\nwhen = {when}\naction = \"auto\"\n"
        ));
        let mut o = order()
            .line(LineItem {
                sku: Some("MUG-RED".into()),
                vendor: Some("Acme".into()),
                ..tagged("Mug", "ceramic")
            })
            .with(|o| o.tags.push("vip".into()))
            .build();
        tweak(&mut o);
        let p = plan(&o, &r, ts("2026-11-23T09:05:00Z"));
        let matched = p.lines[0].action_rule == "r";
        assert_eq!(matched, *expected, "when = {when}");
    }
}

#[test]
fn first_matching_rule_wins_per_line() {
    let r = rules(
        r#"
[fulfilment]
[[fulfilment.rule]]
name = "first"
when = { vendor = "Acme" }
action = "manual"
[[fulfilment.rule]]
name = "second"
when = { requires_shipping = true }
action = "auto"
"#,
    );
    let o = order()
        .line(LineItem {
            vendor: Some("Acme".into()),
            ..line("A")
        })
        .line(line("B"))
        .build();
    let p = plan(&o, &r, ts("2026-11-23T09:05:00Z"));
    let rules: Vec<&str> = p.lines.iter().map(|l| l.action_rule.as_str()).collect();
    assert_eq!(rules, ["first", "second"]);
}
