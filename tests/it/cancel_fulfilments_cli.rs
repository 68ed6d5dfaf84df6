//! `orderflow orders cancel-fulfilments` against the real pipeline, the issue's "cancel 50
//! fulfilments in one command with a CSV of what happened": 50 fulfilled orders (30 fulfilled
//! by orderflow's workers, 20 by a person in the admin, 5 of them shipped since), a dry run
//! that sends nothing, an `--apply` that cancels exactly the 45 unshipped fulfilments and
//! refuses the shipped with the reason, one CSV row per order, no line fulfilled again once the
//! workers re-planned, and a second run that does nothing new.

use std::path::Path;
use std::time::Duration;

use orderflow::id::OrderId;
use orderflow::rules::decision::Previous;
use orderflow::rules::enums::{FulfillmentDisplayStatus, FulfillmentStatus};
use orderflow::sandbox::Shipment;
use orderflow::shopify::OrderSnapshot;

use crate::harness::e2e::Shop;
use crate::harness::{self, eventually};
use crate::orders_cli::config_file;
use crate::shopify::SHOP;

const ORDERS: usize = 50;
const BY_ORDERFLOW: usize = 30;
/// Shipped since: three of orderflow's fulfilments (in transit), two of the person's (delivered).
const SHIPPED: [usize; 5] = [0, 1, 2, 30, 31];

async fn cancel_fulfilments(config: &Path, args: &[&str]) -> (i32, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["orders", "cancel-fulfilments", "--config"])
        .arg(config)
        .args(args)
        .env_remove("ORDERFLOW_CONFIG")
        .output()
        .await
        .expect("orderflow runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

/// Order `i`: the digital fixture (one e-book line, fulfilled automatically by the rules) with
/// ids of its own and the tag the selection picks.
fn order(i: usize) -> OrderSnapshot {
    let base = Shop::fixture("digital");
    let text = serde_json::to_string(&base)
        .expect("snapshot")
        .replace(
            "Order/820982911946154509",
            &format!("Order/{}", 930_000 + i),
        )
        .replace(
            "LineItem/487817672276298555",
            &format!("LineItem/{}", 931_000 + i),
        )
        .replace(
            "FulfillmentOrder/6493184229183717101",
            &format!("FulfillmentOrder/{}", 932_000 + i),
        )
        .replace(
            "FulfillmentOrderLineItem/7012938471109302201",
            &format!("FulfillmentOrderLineItem/{}", 933_000 + i),
        );
    let mut o: OrderSnapshot = serde_json::from_str(&text).expect("snapshot");
    o.name = format!("#3{i:03}");
    o.tags = vec!["bulk-cancel".into()];
    o
}

fn count(shop: &Shop, field: &str) -> usize {
    shop.sandbox
        .mutations()
        .iter()
        .filter(|m| m.fields.iter().any(|f| f == field))
        .count()
}

/// Each order's one fulfilment, as the sandbox holds it now.
fn fulfilment(shop: &Shop, i: usize) -> orderflow::sandbox::state::StoredFulfillment {
    let mut all = shop.sandbox.fulfillments(&shop.shop, &order(i).id);
    assert_eq!(all.len(), 1, "order {i}: one fulfilment, never a new one");
    all.remove(0)
}

#[tokio::test]
async fn cancels_fifty_unshipped_fulfilments_refuses_the_shipped_and_none_is_fulfilled_again() {
    let shop = Shop::start("cancelful").await;
    for i in 0..ORDERS {
        shop.sandbox.insert_order(&shop.shop, order(i));
    }
    // 30 fulfilled by orderflow's workers, from their orders/create webhooks.
    for i in 0..BY_ORDERFLOW {
        let gid = order(i).id;
        let n = gid.rsplit('/').next().expect("id");
        let body = format!(r#"{{"id": {n}, "admin_graphql_api_id": "{gid}"}}"#);
        shop.send_body("orders/create", &format!("wh-create-{i}"), body.as_bytes())
            .await;
    }
    eventually(
        Duration::from_secs(60),
        "30 fulfilments by orderflow",
        || async { (count(&shop, "fulfillmentCreate") >= BY_ORDERFLOW).then_some(()) },
    )
    .await;
    // The fulfilments show before the workers finish those orders (decision, tags).
    shop.wait_settled(BY_ORDERFLOW as u64).await;
    // 20 fulfilled by a person in the admin, which orderflow never heard of.
    for i in BY_ORDERFLOW..ORDERS {
        shop.sandbox
            .fulfill_by_hand(&shop.shop, &order(i).id)
            .expect("fulfilled by hand");
    }
    for i in SHIPPED {
        let f = fulfilment(&shop, i);
        let shipment = if i < BY_ORDERFLOW {
            Shipment {
                display_status: FulfillmentDisplayStatus::InTransit,
                in_transit_at: Some("2026-11-23T14:00:00Z".parse().expect("instant")),
                delivered_at: None,
                tracking_company: Some("UPS".into()),
                tracking_number: Some(format!("1Z{i:04}")),
            }
        } else {
            Shipment {
                display_status: FulfillmentDisplayStatus::Delivered,
                in_transit_at: None,
                delivered_at: Some("2026-11-24T10:00:00Z".parse().expect("instant")),
                tracking_company: None,
                tracking_number: None,
            }
        };
        assert!(shop.sandbox.ship_fulfillment(&shop.shop, &f.id, shipment));
    }
    let creates = count(&shop, "fulfillmentCreate");
    assert_eq!(creates, BY_ORDERFLOW);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(
        dir.path(),
        &shop.app.prefix,
        harness::AMQP_URL,
        &shop.sandbox,
    );

    // Flags fulfillmentCancel cannot honour are refused before anything is read.
    let (code, out) = cancel_fulfilments(
        &config,
        &["--shop", SHOP, "--tag", "bulk-cancel", "--no-restock"],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("fulfillmentCancel (Admin API 2026-10)"),
        "{out}"
    );

    // Dry run: the plan and its cost, and not one mutation.
    let before = shop.sandbox.mutations().len();
    let (code, out) = cancel_fulfilments(&config, &["--shop", SHOP, "--tag", "bulk-cancel"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "dry run: 45 fulfilment(s) of 45 order(s) would be cancelled, 5 refused; pass --apply"
        ),
        "{out}"
    );
    assert!(out.contains("cost: 50 read(s) × "), "{out}");
    assert_eq!(
        shop.sandbox.mutations().len(),
        before,
        "the dry run mutates nothing"
    );

    // --apply: the 45 unshipped are cancelled, the 5 shipped refused with the reason.
    let csv = dir.path().join("cancel.csv");
    let settled = shop.settled();
    let (code, out) = cancel_fulfilments(
        &config,
        &[
            "--shop",
            SHOP,
            "--tag",
            "bulk-cancel",
            "--apply",
            "--csv",
            csv.to_str().expect("path"),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "cancelled: fulfilments of 45 order(s), 5 fulfilment(s) refused, 0 woken, 0 failed"
        ),
        "{out}"
    );
    let text = std::fs::read_to_string(&csv).expect("csv written");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "shop,name,id,planned,done,reason");
    assert_eq!(rows.len(), 1 + ORDERS, "one row per order: {text}");
    for i in 0..ORDERS {
        let id = OrderId::from_gid(&order(i).id).expect("id").0;
        let row = rows
            .iter()
            .find(|r| r.contains(&format!(",#3{i:03},{id},")))
            .unwrap_or_else(|| panic!("no row for order {i}: {text}"));
        let f = fulfilment(&shop, i);
        if SHIPPED.contains(&i) {
            assert!(row.contains(",nothing,,"), "{row}");
            let why = if i < BY_ORDERFLOW {
                format!(
                    "refused: shipped: in transit, in transit since 2026-11-23T14:00:00Z (tracking UPS 1Z{i:04})"
                )
            } else {
                "refused: shipped: delivered at 2026-11-24T10:00:00Z".to_owned()
            };
            assert!(row.contains(&why), "{row}");
            assert_eq!(
                f.status,
                FulfillmentStatus::Success,
                "order {i} shipped: left alone"
            );
        } else {
            assert!(
                row.contains(",cancel Fulfillment/") && row.ends_with(",cancelled,"),
                "{row}"
            );
            assert_eq!(f.status, FulfillmentStatus::Cancelled, "order {i}");
        }
    }
    assert_eq!(count(&shop, "fulfillmentCancel"), 45);
    // The workers re-plan the 45 woken orders: nothing is fulfilled again, and the decision
    // says the lines were taken back, a person's fulfilment and orderflow's alike.
    // The command spent most of the shop's bucket: the workers wait for it to refill, so the
    // 45 re-plans take a while at the sandbox's restore rate.
    shop.wait_settled_within(settled + 45, Duration::from_secs(120))
        .await;
    eventually(
        Duration::from_secs(30),
        "every cancellation recorded",
        || async {
            let all = (0..ORDERS).filter(|i| !SHIPPED.contains(i)).all(|i| {
                let o = shop.sandbox.order(&shop.shop, &order(i).id).expect("order");
                let prev = Previous::read(o.decision.as_ref().map(|m| m.value.as_str()));
                prev.decision()
                    .is_some_and(|d| d.taken_back(&o.line_items[0].id))
            });
            all.then_some(())
        },
    )
    .await;
    assert_eq!(
        count(&shop, "fulfillmentCreate"),
        creates,
        "no cancelled line is fulfilled again"
    );
    // The command recorded exactly the person's unshipped fulfilments before cancelling them;
    // orderflow's were recorded already.
    let mutations = shop.sandbox.mutations();
    for i in 0..ORDERS {
        let gid = order(i).id;
        let recorded = mutations.iter().any(|m| {
            let vars = m.variables.to_string();
            m.fields.iter().any(|f| f == "metafieldsSet")
                && vars.contains(&format!("\"{gid}\""))
                && vars.contains(orderflow::rules::cancel::CANCEL_RULE)
        });
        let persons_unshipped = i >= BY_ORDERFLOW && !SHIPPED.contains(&i);
        assert_eq!(recorded, persons_unshipped, "order {i}");
    }

    // A second run does nothing new: the cancelled are done, the shipped still refused.
    let before = shop.sandbox.mutations().len();
    let (code, out) = cancel_fulfilments(
        &config,
        &["--shop", SHOP, "--tag", "bulk-cancel", "--apply"],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "cancelled: fulfilments of 0 order(s), 5 fulfilment(s) refused, 0 woken, 0 failed"
        ),
        "{out}"
    );
    assert_eq!(
        out.matches("cancelled earlier: Fulfillment/").count(),
        45,
        "{out}"
    );
    assert_eq!(shop.sandbox.mutations().len(), before, "nothing sent again");
    shop.stop().await;
}

/// Ctrl-C mid-run: the command stops, prints and writes the rows done so far, exits 130, and
/// the same command run again finishes the rest and skips what the first run did.
#[tokio::test]
async fn an_interrupted_run_writes_what_it_did_and_a_rerun_finishes_the_rest() {
    let shop = Shop::start("cancelint").await;
    const N: usize = 10;
    for i in 0..N {
        shop.sandbox.insert_order(&shop.shop, order(i));
        shop.sandbox
            .fulfill_by_hand(&shop.shop, &order(i).id)
            .expect("fulfilled by hand");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(
        dir.path(),
        &shop.app.prefix,
        harness::AMQP_URL,
        &shop.sandbox,
    );
    // Slow enough that the run is surely still going when the interrupt comes.
    shop.sandbox.set_latency(Duration::from_millis(150));
    let reads = || {
        shop.sandbox
            .queries()
            .iter()
            .filter(|q| q.operation_name.as_deref() == Some("OrderFulfillments"))
            .count()
    };
    let csv = dir.path().join("interrupted.csv");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["orders", "cancel-fulfilments", "--config"])
        .arg(&config)
        .args(["--shop", SHOP, "--tag", "bulk-cancel", "--apply", "--csv"])
        .arg(&csv)
        .env_remove("ORDERFLOW_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("orderflow runs");
    eventually(Duration::from_secs(30), "three orders read", || async {
        (reads() >= 3).then_some(())
    })
    .await;
    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let out = child.wait_with_output().await.expect("orderflow exits");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(130), "{text}");
    assert!(text.contains("interrupted: "), "{text}");
    assert!(
        text.contains(&format!(" of {N} order(s) handled")),
        "{text}"
    );
    let rows = std::fs::read_to_string(&csv).expect("the rows done so far are written");
    let done: Vec<&str> = rows.lines().skip(1).collect();
    assert!(!done.is_empty() && done.len() < N, "{rows}");
    let cancelled_first = done.iter().filter(|r| r.contains(",cancelled,")).count();
    let cancelled_now = (0..N)
        .filter(|&i| fulfilment(&shop, i).status == FulfillmentStatus::Cancelled)
        .count();
    // What the rows say was cancelled was; the order in progress may have been too.
    assert!(cancelled_now >= cancelled_first, "{rows}");
    assert!(cancelled_now < N, "interrupted before the end: {rows}");

    shop.sandbox.set_latency(Duration::ZERO);
    let (code, out) = cancel_fulfilments(
        &config,
        &["--shop", SHOP, "--tag", "bulk-cancel", "--apply"],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.matches("cancelled earlier: Fulfillment/").count(),
        cancelled_now,
        "{out}"
    );
    for i in 0..N {
        assert_eq!(
            fulfilment(&shop, i).status,
            FulfillmentStatus::Cancelled,
            "order {i}"
        );
    }
    shop.stop().await;
}
