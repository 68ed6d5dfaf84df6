//! `orderflow report` against the sandbox: orders fulfilled by orderflow (its decision records
//! the fulfilment, by id or not yet), by a person, paid after checkout, late and open, held,
//! and one placed before the window; the binary's table, JSON and CSV are checked against
//! figures this test works out from the scenario itself. The placed-orders query pages.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use orderflow::clock::ManualClock;
use orderflow::id::ShopDomain;
use orderflow::rules::decision::{self, Decision, FulfilmentRecord, HoldKey, HoldRecord, Previous};
use orderflow::sandbox::{Sandbox, SandboxConfig};
use orderflow::shopify::Client;
use orderflow::shopify::ops::{FulfillmentOrderLines, FulfillmentRequest, MetafieldInput};
use orderflow::shopify::snapshot::{OrderSnapshot, Transaction};
use secrecy::SecretString;
use serde_json::Value;

use crate::harness;
use crate::shopify::{SHOP, fast_retries, shop, shop_config, shopify_config};

const T0: &str = "2026-11-23T00:00:00Z";

fn t(hours: i64) -> Timestamp {
    T0.parse::<Timestamp>().expect("T0") + SignedDuration::from_hours(hours)
}

/// The digital fixture (one fulfilment order, one line) as order `n`, every id its own.
fn order(n: u64, created: Timestamp) -> OrderSnapshot {
    let fixture = orderflow::sandbox::load_dir(&crate::shopify::fixtures_dir())
        .expect("fixtures")
        .into_iter()
        .find(|f| f.order.name == "#1001")
        .expect("the digital fixture");
    let mut v = serde_json::to_value(&fixture.order).expect("json");
    renumber(&mut v, n);
    let mut o: OrderSnapshot = serde_json::from_value(v).expect("snapshot");
    o.id = format!("gid://shopify/Order/{}", 5_000 + n);
    o.name = format!("#{}", 2_000 + n);
    o.created_at = created;
    o.processed_at = created;
    o.transactions = Vec::new();
    o.decision = None;
    o
}

fn renumber(v: &mut Value, n: u64) {
    match v {
        Value::String(s) if s.starts_with("gid://shopify/") => {
            let (kind, num) = s.rsplit_once('/').expect("gid");
            let num: u64 = num.parse().unwrap_or(0);
            *s = format!("{kind}/{}", n * 1_000_000_000 + num % 1_000_000_000);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| renumber(x, n)),
        Value::Object(m) => m.values_mut().for_each(|x| renumber(x, n)),
        _ => {}
    }
}

struct Scene {
    sandbox: Sandbox,
    clock: ManualClock,
    client: Client,
    shop: ShopDomain,
}

async fn scene() -> Scene {
    let clock = ManualClock::new(t(0));
    let sandbox = Sandbox::start(SandboxConfig {
        clock: Arc::new(clock.clone()),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    sandbox.add_shop(shop(), SecretString::from(harness::TOKEN.to_owned()));
    let shops = [shop_config(SHOP, &sandbox.base_url(), harness::TOKEN)];
    let client = Client::with_retry(&shopify_config(), &shops, fast_retries()).expect("client");
    Scene {
        sandbox,
        clock,
        client,
        shop: shop(),
    }
}

impl Scene {
    /// Fulfils every line of order `o` at `at` (the sandbox's clock), as anyone would.
    async fn fulfil(&self, o: &OrderSnapshot, at: Timestamp) -> String {
        self.clock.set(at);
        let request = FulfillmentRequest {
            line_items_by_fulfillment_order: vec![FulfillmentOrderLines {
                fulfillment_order_id: o.fulfillment_orders[0].id.clone(),
                fulfillment_order_line_items: Vec::new(),
            }],
            notify_customer: false,
        };
        self.client
            .fulfill(&self.shop, &request)
            .await
            .expect("fulfilled")
            .id
    }

    async fn decide(&self, o: &OrderSnapshot, d: &Decision) {
        self.client
            .set_metafields(
                &self.shop,
                &[MetafieldInput {
                    owner_id: o.id.clone(),
                    namespace: decision::METAFIELD_NAMESPACE.to_owned(),
                    key: decision::METAFIELD_KEY.to_owned(),
                    kind: decision::METAFIELD_TYPE.to_owned(),
                    value: d.to_json(),
                }],
            )
            .await
            .expect("decision written");
    }
}

fn decision_with(ship_by: Timestamp, rules: &[&str]) -> Decision {
    Decision {
        version: decision::VERSION,
        ship_by: None,
        ship_by_at: Some(ship_by),
        holds: Vec::new(),
        released_by_person: Vec::new(),
        rules: rules.iter().map(|r| (*r).to_owned()).collect(),
        planned_at: t(0),
        fulfilments: Vec::new(),
        taken_back_by_person: Vec::new(),
        closed_by_orderflow_at: None,
    }
}

fn ours(o: &OrderSnapshot, id: Option<&str>, rule: &str) -> FulfilmentRecord {
    FulfilmentRecord {
        fulfillment_order: o.fulfillment_orders[0].id.clone(),
        fulfillment: id.map(str::to_owned),
        lines: vec![decision::RecordLine {
            line_item: o.line_items[0].id.clone(),
            quantity: 1,
        }],
        rule: rule.to_owned(),
    }
}

/// Nearest rank, written again here so the test does not trust the code under test.
fn rank(mut hours: Vec<i64>, p: usize) -> i64 {
    hours.sort();
    let r = (p * hours.len()).div_ceil(100).max(1);
    hours[r - 1] * 3600
}

fn config_file(dir: &Path, sandbox: &Sandbox) -> PathBuf {
    let path = dir.join("orderflow.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[amqp]
url = "{url}"
prefix = "report-test"
[shopify]
client_secrets = ["{secret}"]
[[shops]]
domain = "{SHOP}"
access_token = "{token}"
timezone = "UTC"
admin_api_url = "{admin}"
"#,
            url = harness::AMQP_URL,
            secret = harness::SECRET_NEW,
            token = harness::TOKEN,
            admin = sandbox.base_url(),
        ),
    )
    .expect("config written");
    path
}

async fn report(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("report")
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("ORDERFLOW_CONFIG")
        .output()
        .await
        .expect("orderflow runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_report_counts_who_fulfilled_how_fast_what_is_late_and_the_holds() {
    let s = scene().await;
    let a = order(1, t(1)); // orderflow, recorded by id: 2 h, on time
    let b = order(2, t(2)); // orderflow, record without id yet: 6 h, late by 3 h
    let c = order(3, t(3)); // a person: 1 h, on time; rule from the decision
    let d = order(4, t(4)); // open, ship-by passed: late and open
    let e = order(5, t(5)); // open and held, ship-by far ahead
    let mut g = order(6, t(6)); // paid a day later; a person fulfils 1 h after payment
    g.transactions = vec![Transaction {
        kind: "SALE".to_owned(),
        status: "SUCCESS".to_owned(),
        processed_at: Some(t(30)),
        ..Default::default()
    }];
    let before = order(7, t(-1)); // placed before the window
    for o in [&a, &b, &c, &d, &e, &g, &before] {
        s.sandbox.insert_order(&s.shop, o.clone());
    }
    let fa = s.fulfil(&a, t(3)).await;
    s.fulfil(&b, t(8)).await;
    s.fulfil(&c, t(4)).await;
    s.fulfil(&g, t(31)).await;
    s.fulfil(&before, t(1)).await;

    let mut da = decision_with(t(24), &["digital goods"]);
    da.fulfilments = vec![ours(&a, Some(&fa), "digital goods")];
    s.decide(&a, &da).await;
    let mut db = decision_with(t(5), &["handmade"]);
    db.fulfilments = vec![ours(&b, None, "handmade")];
    s.decide(&b, &db).await;
    s.decide(&c, &decision_with(t(30), &["handmade"])).await;
    s.decide(&d, &decision_with(t(48), &["handmade"])).await;
    let mut de = decision_with(t(480), &["handmade"]);
    de.holds = vec![HoldRecord {
        fulfillment_order: e.fulfillment_orders[0].id.clone(),
        handle: "orderflow-processing".to_owned(),
        rule: "handmade".to_owned(),
    }];
    de.released_by_person = vec![HoldKey {
        fulfillment_order: e.fulfillment_orders[0].id.clone(),
        handle: "orderflow-fraud".to_owned(),
    }];
    s.decide(&e, &de).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), &s.sandbox);
    let csv_path = dir.path().join("report.csv");
    let until = t(240).to_string();
    let since = t(0).to_string();
    let (code, json, stderr) = report(
        &config,
        &[
            "--shop",
            SHOP,
            "--since",
            &since,
            "--until",
            &until,
            "--json",
            "--csv",
            csv_path.to_str().expect("utf-8"),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let r: Value = serde_json::from_str(&json).expect("one JSON object");
    // The documented fields, no more and no fewer: renaming one breaks readers of `--json`.
    let keys: Vec<&str> = r
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut documented = vec![
        "shop",
        "since",
        "until",
        "placed",
        "cancelled",
        "fulfilled",
        "fulfilled_by_orderflow",
        "fulfilled_by_person",
        "fulfilled_by_both",
        "fulfilment_rate",
        "paid_to_fulfilled",
        "paid_to_fulfilled_by_rule",
        "on_time",
        "late",
        "without_ship_by",
        "late_open",
        "holds",
        "orders",
    ];
    documented.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, documented);
    let mut row: Vec<&str> = r["orders"][0]
        .as_object()
        .expect("row")
        .keys()
        .map(String::as_str)
        .collect();
    row.sort();
    assert_eq!(
        row,
        [
            "by",
            "cancelled",
            "fulfilled",
            "holds",
            "id",
            "late_by_seconds",
            "name",
            "on_time",
            "paid",
            "placed",
            "rule",
            "ship_by"
        ]
    );

    // Worked out from the scenario: 6 placed in the window, 4 fulfilled (a, b by orderflow;
    // c, g by a person); paid to fulfilled a 2 h, b 6 h, c 1 h, g 1 h (from the payment).
    assert_eq!(r["placed"], 6);
    assert_eq!(r["cancelled"], 0);
    assert_eq!(r["fulfilled"], 4);
    assert_eq!(r["fulfilled_by_orderflow"], 2);
    assert_eq!(r["fulfilled_by_person"], 2);
    assert_eq!(r["fulfilled_by_both"], 0);
    assert!((r["fulfilment_rate"].as_f64().expect("rate") - 4.0 / 6.0).abs() < 1e-9);
    let all = &r["paid_to_fulfilled"];
    assert_eq!(all["count"], 4);
    assert_eq!(all["p50_seconds"], rank(vec![2, 6, 1, 1], 50));
    assert_eq!(all["p90_seconds"], rank(vec![2, 6, 1, 1], 90));
    assert_eq!(all["max_seconds"], 6 * 3600);
    let by_rule = &r["paid_to_fulfilled_by_rule"];
    assert_eq!(by_rule["digital goods"]["max_seconds"], 2 * 3600);
    assert_eq!(by_rule["handmade"]["count"], 2);
    assert_eq!(by_rule["handmade"]["p50_seconds"], rank(vec![6, 1], 50));
    assert_eq!(by_rule["handmade"]["max_seconds"], 6 * 3600);
    assert_eq!(
        by_rule["(no rule)"]["max_seconds"], 3600,
        "g: from payment, not checkout"
    );
    assert_eq!(r["on_time"], 2);
    assert_eq!(r["late"], 1);
    assert_eq!(r["without_ship_by"], 1);
    let late = r["late_open"].as_array().expect("late_open");
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0]["name"], "#2004");
    assert_eq!(late[0]["late_by_seconds"], (240 - 48) * 3600);
    assert_eq!(r["holds"]["orderflow-processing"]["on"], 1);
    assert_eq!(r["holds"]["orderflow-fraud"]["released_by_person"], 1);
    let names: Vec<&str> = r["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .map(|o| o["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        names,
        ["#2001", "#2002", "#2003", "#2004", "#2005", "#2006"]
    );

    let csv = std::fs::read_to_string(&csv_path).expect("csv written");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "name,id,placed,paid,fulfilled,by,rule,ship_by,on_time,late_by_seconds,holds"
    );
    assert_eq!(lines.len(), 7, "a header and one row per order");
    assert_eq!(
        lines[2],
        format!(
            "#2002,5002,{},{},{},orderflow,handmade,{},false,{},",
            t(2),
            t(2),
            t(8),
            t(5),
            3 * 3600
        )
    );
    assert_eq!(
        lines[5],
        format!(
            "#2005,5005,{},{},,,handmade,{},,,orderflow-processing;released:orderflow-fraud",
            t(5),
            t(5),
            t(480)
        )
    );
    assert!(lines[6].starts_with(&format!("#2006,5006,{},{},{},person,", t(6), t(30), t(31))));

    let (code, table, stderr) = report(
        &config,
        &["--shop", SHOP, "--since", &since, "--until", &until],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "placed            6",
        "fulfilled         4",
        "  by orderflow    2",
        "  by a person     2",
        "fulfilment rate   66.7%",
        "late and still open: 1",
        "  #2004      ship by 2026-11-25T00:00:00Z  late by 8d 0h",
    ] {
        assert!(table.contains(line), "`{line}` in\n{table}");
    }
    for line in [
        "all                              4     1h 00m     6h 00m     6h 00m",
        "  handmade                       2     1h 00m     6h 00m     6h 00m",
        "  orderflow-processing           1                  0",
    ] {
        assert!(table.contains(line), "`{line}` in\n{table}");
    }
}

#[tokio::test]
async fn the_placed_orders_are_read_whole_over_several_pages_and_only_those_in_the_window() {
    let s = scene().await;
    for n in 0..45 {
        s.sandbox.insert_order(&s.shop, order(100 + n, t(n as i64)));
    }
    s.sandbox.insert_order(&s.shop, order(200, t(-2)));
    s.sandbox.insert_order(&s.shop, order(201, t(100)));
    let before = s.sandbox.request_count();
    let found = s
        .client
        .orders_placed(&s.shop, t(0), t(44))
        .await
        .expect("orders");
    let names: Vec<String> = found.iter().map(|o| o.name.clone()).collect();
    let expected: Vec<String> = (0..45).map(|n| format!("#{}", 2_100 + n)).collect();
    assert_eq!(names, expected, "all 45, oldest first, none outside");
    assert_eq!(
        s.sandbox.request_count() - before,
        3,
        "pages of 20, 20 and 5"
    );
}

#[tokio::test]
async fn bad_arguments_and_unknown_shops_exit_1_naming_the_flag() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), &sandbox);
    let (code, _, err) = report(&config, &["--shop", SHOP, "--since", "yesterday"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("--since `yesterday` is not an instant"),
        "{err}"
    );
    let (code, _, err) = report(
        &config,
        &[
            "--shop",
            SHOP,
            "--since",
            T0,
            "--until",
            "2026-11-22T00:00:00Z",
        ],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("is after --until"), "{err}");
    let (code, _, err) = report(&config, &["--shop", "other.myshopify.com", "--since", T0]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains("shop `other.myshopify.com` is not known"),
        "{err}"
    );
}

/// The decision the real workers write is the one the report reads: the digital order fulfilled
/// by the pipeline counts as orderflow's, under the rule its decision names, timed from its
/// payment to the fulfilment the sandbox recorded. The record has no fulfilment id yet (it is
/// written before the mutation), so this is the id-less attribution at work.
#[tokio::test]
async fn an_order_fulfilled_by_the_pipeline_counts_as_orderflows() {
    let shop = crate::harness::e2e::Shop::start("report-e2e").await;
    let fixture = crate::harness::e2e::Shop::fixture("digital");
    let settled = shop.settled();
    shop.send("digital", "orders/create", "wh-report-1").await;
    shop.wait_settled(settled + 1).await;
    let made = shop.sandbox.fulfillments(&shop.shop, &fixture.id);
    assert_eq!(made.len(), 1, "the pipeline fulfilled the digital order");
    let held = shop.sandbox.order(&shop.shop, &fixture.id).expect("order");
    let written = Previous::read(held.decision.as_ref().map(|d| d.value.as_str()));
    let written = written.decision().expect("a decision was written");
    assert_eq!(written.fulfilments.len(), 1);

    let until = orderflow::clock::Clock::now(&shop.clock);
    let since = fixture.created_at;
    let placed = shop
        .client
        .orders_placed(&shop.shop, since, until)
        .await
        .expect("orders");
    let r = orderflow::report::build(SHOP, since, until, &placed);
    let row = r
        .orders
        .iter()
        .find(|o| o.name == fixture.name)
        .expect("the digital order is in the window");
    assert_eq!(row.by, Some(orderflow::report::By::Orderflow));
    assert_eq!(
        row.rule.as_deref(),
        Some(written.fulfilments[0].rule.as_str())
    );
    assert_eq!(row.fulfilled, Some(made[0].created_at));
    assert_eq!(row.paid, fixture.processed_at);
    assert!(r.fulfilled_by_orderflow >= 1);
    shop.stop().await;
}
