//! The rules loader on its own: every kind of mistake named by its key, layers merged key by
//! key, and the printed rules reading back as the same rules.

use jiff::civil::Time;
use rust_decimal::Decimal;

use super::*;
use crate::config::render::rules_toml;
use crate::rules::enums::RiskLevel;
use crate::rules::policy::FulfilmentAction;

fn resolve(text: &str) -> Result<Rules, Vec<ConfigIssue>> {
    let table: toml::Table = toml::from_str(text).unwrap();
    let section = |n: &str| table.get(n).and_then(Value::as_table);
    let layer = RulesLayer {
        key_prefix: String::new(),
        fulfilment: section("fulfilment"),
        processing: section("processing"),
        fraud: section("fraud"),
        archive: section("archive"),
        payment: section("payment"),
    };
    super::resolve(&[layer], TimeZone::UTC)
}

/// (rules text, the key the issue names, a word the message must contain)
const INVALID: &[(&str, &str, &str)] = &[
    (
        "[payment]\ncapture = \"at_fulfilment\"",
        "payment.capture",
        "use \"never\", \"on_fulfilment\", \"when_risk_clear\"",
    ),
    (
        "[payment]\ncapture = true",
        "payment.capture",
        "not a capture policy",
    ),
    (
        "[payment]\nexpiry_margin = \"half a day\"",
        "payment.expiry_margin",
        "duration",
    ),
    (
        "[payment]\nexpiry = \"12h\"",
        "payment.expiry",
        "expiry_margin",
    ),
    ("[archive]\nafter = \"soon\"", "archive.after", "duration"),
    (
        "[processing]\nset_deadline = 1",
        "processing.set_deadline",
        "true or false",
    ),
    (
        "[archive]\nafter = \"-2h\"",
        "archive.after",
        "out of range",
    ),
    ("[archive]\nafter = 2", "archive.after", "duration"),
    (
        "[archive]\nwhen_fulfilled = \"yes\"",
        "archive.when_fulfilled",
        "true or false",
    ),
    ("[archive]\nwhen = true", "archive.when", "when_fulfilled"),
    (
        "[fulfilment]\ndefalt = \"auto\"",
        "fulfilment.defalt",
        "default",
    ),
    (
        "[fulfilment]\ndefault = \"automatic\"",
        "fulfilment.default",
        "\"auto\" or \"manual\"",
    ),
    (
        "[fulfilment]\nnotify_customer = \"yes\"",
        "fulfilment.notify_customer",
        "true or false",
    ),
    (
        "[fulfilment]\nmanual_tag = \"a,b\"",
        "fulfilment.manual_tag",
        "no comma",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\naction = \"auto\"\ncolour = 1",
        "fulfilment.rule[0].colour",
        "when",
    ),
    (
        "[[fulfilment.rule]]\nwhen = {}\naction = \"auto\"",
        "fulfilment.rule[0].name",
        "missing",
    ),
    (
        "[[fulfilment.rule]]\nname = \"\"\naction = \"auto\"",
        "fulfilment.rule[0].name",
        "non-empty",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"",
        "fulfilment.rule[0].action",
        "missing",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\naction = \"auto\"\n[[fulfilment.rule]]\nname = \"x\"\naction = \"manual\"",
        "fulfilment.rule[1].name",
        "unique",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = \"always\"\naction = \"auto\"",
        "fulfilment.rule[0].when",
        "table",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = { tag = \"a\" }\naction = \"auto\"",
        "fulfilment.rule[0].when.tag",
        "product_tag",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = { delivery_method = [\"PICKUP\"] }\naction = \"auto\"",
        "fulfilment.rule[0].when.delivery_method",
        "PICK_UP",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = { product_tag = [] }\naction = \"auto\"",
        "fulfilment.rule[0].when.product_tag",
        "empty list",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = { vendor = 3 }\naction = \"auto\"",
        "fulfilment.rule[0].when.vendor",
        "string",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = { shipping_country = [\"NLD\"] }\naction = \"auto\"",
        "fulfilment.rule[0].when.shipping_country",
        "alpha-2",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = { min_total = \"ten\" }\naction = \"auto\"",
        "fulfilment.rule[0].when.min_total",
        "amount",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = { min_total = 100, max_total = 10 }\naction = \"auto\"",
        "fulfilment.rule[0].when.min_total",
        "max_total",
    ),
    (
        "[[fulfilment.rule]]\nname = \"x\"\nwhen = { preorder = \"yes\" }\naction = \"auto\"",
        "fulfilment.rule[0].when.preorder",
        "true or false",
    ),
    ("[fulfilment]\nrule = 3", "fulfilment.rule", "[[...rule]]"),
    (
        "[processing]\ncutoff = \"1pm\"",
        "processing.cutoff",
        "HH:MM",
    ),
    (
        "[processing]\ncutoff = \"25:00\"",
        "processing.cutoff",
        "HH:MM",
    ),
    (
        "[processing]\nbusiness_days = [\"mon\", \"thurs\"]",
        "processing.business_days",
        "thu",
    ),
    (
        "[processing]\nbusiness_days = []",
        "processing.business_days",
        "at least one",
    ),
    (
        "[processing]\nholidays = [\"2026-12-32\"]",
        "processing.holidays",
        "ISO dates",
    ),
    (
        "[processing]\nholidays = [\"25/12/2026\"]",
        "processing.holidays",
        "ISO dates",
    ),
    (
        "[processing]\ndefault_days = -1",
        "processing.default_days",
        "0 to 250",
    ),
    (
        "[[processing.rule]]\nname = \"slow\"\ndays = 1000",
        "processing.rule[0].days",
        "0 to 250",
    ),
    (
        "[[processing.rule]]\nname = \"slow\"",
        "processing.rule[0].days",
        "missing",
    ),
    (
        "[processing]\ncut_off = \"13:00\"",
        "processing.cut_off",
        "cutoff",
    ),
    (
        "[fraud]\nhold_on_risk = [\"HIHG\"]",
        "fraud.hold_on_risk",
        "HIGH, LOW, MEDIUM, NONE, PENDING",
    ),
    (
        "[fraud]\nhold_on_risk = [\"high\"]",
        "fraud.hold_on_risk",
        "HIGH",
    ),
    (
        "[fraud]\nhold_on_risk = [\"PENDING\"]",
        "fraud.hold_on_risk",
        "pending_recheck_minutes",
    ),
    (
        "[fraud]\nhold_on_recommendation = [\"REVIEW\"]",
        "fraud.hold_on_recommendation",
        "ACCEPT, CANCEL, INVESTIGATE, NONE",
    ),
    (
        "[fraud]\nhold_on_recommendation = [\"ACCEPT\"]",
        "fraud.hold_on_recommendation",
        "CANCEL and/or INVESTIGATE",
    ),
    (
        "[fraud]\npending_recheck_minutes = 0",
        "fraud.pending_recheck_minutes",
        "1 to 1440",
    ),
    (
        "[fraud]\nrelease_on_accept = 1",
        "fraud.release_on_accept",
        "true or false",
    ),
];

#[test]
fn every_kind_of_mistake_names_its_key_and_the_fix() {
    for (text, key, fragment) in INVALID {
        let issues = resolve(text).expect_err(text);
        assert!(
            issues
                .iter()
                .any(|i| i.key == *key && i.message.contains(fragment)),
            "{text}\n  wanted `{key}` mentioning {fragment:?}, got {issues:#?}"
        );
        for i in &issues {
            assert!(
                ["use ", "write", "e.g."]
                    .iter()
                    .any(|w| i.message.contains(w)),
                "each message says what would be valid: {i}"
            );
        }
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let issues = resolve(
        "[fulfilment]\ndefault = \"x\"\n[processing]\ncutoff = \"x\"\n[fraud]\nhold_on_risk = [\"x\"]\n",
    )
    .unwrap_err();
    let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "fulfilment.default",
            "processing.cutoff",
            "fraud.hold_on_risk"
        ]
    );
}

#[test]
fn no_sections_means_documented_defaults() {
    let r = resolve("").unwrap();
    assert_eq!(r, Rules::defaults(TimeZone::UTC));
    assert_eq!(r.fulfilment.default, FulfilmentAction::Manual);
    assert!(r.fulfilment.skip_test_orders);
    assert_eq!(r.fraud.hold_on_risk, [RiskLevel::High]);
    assert!(!r.processing.hold);
}

#[test]
fn a_shop_layer_merges_over_the_global_one_key_by_key() {
    let global: toml::Table = toml::from_str(
        "cutoff = \"13:00\"\nholidays = [\"2026-12-25\"]\n[[rule]]\nname = \"handmade\"\ndays = 3\n",
    )
    .unwrap();
    let shop: toml::Table =
        toml::from_str("cutoff = \"15:30\"\nbusiness_days = \"fri\"\n").unwrap();
    let layers = [
        RulesLayer {
            key_prefix: String::new(),
            processing: Some(&global),
            ..Default::default()
        },
        RulesLayer {
            key_prefix: "shops[0].".into(),
            processing: Some(&shop),
            ..Default::default()
        },
    ];
    let r = super::resolve(&layers, TimeZone::UTC).unwrap();
    let cal = &r.processing.calendar;
    assert_eq!(cal.cutoff(), Some(Time::constant(15, 30, 0, 0)));
    assert_eq!(cal.business_days(), [jiff::civil::Weekday::Friday]);
    assert_eq!(cal.holidays().count(), 1, "inherited");
    assert_eq!(r.processing.rules[0].name, "handmade", "inherited");

    let bad: toml::Table = toml::from_str("cutoff = \"3pm\"\n").unwrap();
    let layers = [
        RulesLayer {
            key_prefix: String::new(),
            processing: Some(&global),
            ..Default::default()
        },
        RulesLayer {
            key_prefix: "shops[2].".into(),
            processing: Some(&bad),
            ..Default::default()
        },
    ];
    let issues = super::resolve(&layers, TimeZone::UTC).unwrap_err();
    assert_eq!(issues[0].key, "shops[2].processing.cutoff");
}

#[test]
fn toml_dates_and_numbers_are_accepted() {
    let r = resolve(
        "[processing]\nholidays = [2026-12-25]\n[[fulfilment.rule]]\nname = \"big\"\nwhen = { min_total = 99.5 }\naction = \"manual\"\n",
    )
    .unwrap();
    assert_eq!(
        r.processing.calendar.holidays().next(),
        Some(jiff::civil::date(2026, 12, 25))
    );
    assert_eq!(
        r.fulfilment.rules[0].when.min_total,
        Some(Decimal::new(995, 1))
    );
}

#[test]
fn resolved_rules_print_as_toml_that_resolves_to_the_same_rules() {
    let text = r#"
[fulfilment]
default = "auto"
manual_tag = ""
[[fulfilment.rule]]
name = "pickups"
when = { delivery_method = ["PICK_UP"], min_total = "10.5", preorder = false }
action = "manual"
[processing]
cutoff = "13:00"
holidays = ["2026-12-25"]
hold = true
[[processing.rule]]
name = "handmade"
when = { product_tag = ["handmade"] }
days = 3
[fraud]
hold_on_recommendation = ["CANCEL", "INVESTIGATE"]
"#;
    let r = resolve(text).unwrap();
    let printed = rules_toml(&r, "");
    assert_eq!(resolve(&printed).unwrap(), r, "{printed}");
}

#[test]
fn payment_capture_is_never_by_default_parses_each_policy_and_prints_back() {
    use crate::rules::policy::CapturePolicy;
    let d = resolve("").unwrap();
    assert_eq!(d.payment.capture, CapturePolicy::Never);
    assert_eq!(
        d.payment.expiry_margin,
        jiff::SignedDuration::from_hours(12)
    );
    for p in CapturePolicy::ALL {
        let r = resolve(&format!(
            "[payment]\ncapture = \"{}\"\nexpiry_margin = \"1d\"",
            p.as_str()
        ))
        .unwrap();
        assert_eq!(r.payment.capture, *p);
        assert_eq!(
            r.payment.expiry_margin,
            jiff::SignedDuration::from_hours(24)
        );
        let printed = rules_toml(&r, "");
        assert!(
            printed.contains(&format!(
                "[payment]\ncapture = \"{}\"\nexpiry_margin = \"24h\"",
                p.as_str()
            )),
            "{printed}"
        );
        assert_eq!(resolve(&printed).unwrap().payment, r.payment);
    }
}

#[test]
fn archive_is_off_by_default_parses_durations_and_prints_back() {
    let d = resolve("").unwrap();
    assert!(!d.archive.when_fulfilled);
    assert_eq!(d.archive.after, jiff::SignedDuration::ZERO);
    let r = resolve("[archive]\nwhen_fulfilled = true\nafter = \"2h\"").unwrap();
    assert!(r.archive.when_fulfilled);
    assert_eq!(r.archive.after, jiff::SignedDuration::from_hours(2));
    let days = resolve("[archive]\nafter = \"3d\"").unwrap();
    assert_eq!(days.archive.after, jiff::SignedDuration::from_hours(72));
    let printed = rules_toml(&r, "");
    assert!(
        printed.contains("[archive]\nwhen_fulfilled = true\nafter = \"2h\""),
        "{printed}"
    );
    assert_eq!(resolve(&printed).unwrap().archive, r.archive);
}
