//! `orderflow orders release-holds` against the real pipeline: the workers hold orders for
//! fraud and processing, the command releases only orderflow's holds for the reason asked
//! (a merchant's hold on the same fulfilment order stays), the dry run changes nothing, and
//! after the wake-up the worker records the hold as released by a person and never places it
//! again.

use std::path::Path;
use std::time::Duration;

use orderflow::rules::enums::FulfillmentHoldReason;

use crate::harness::e2e::Shop;
use crate::harness::{self, eventually};
use crate::orders_cli::config_file;
use crate::shopify::SHOP;

const HIGH_RISK: &str = "820982911946154512";
const HANDMADE: &str = "820982911946154511";

async fn release_holds(config: &Path, args: &[&str]) -> (i32, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["orders", "release-holds", "--config"])
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

fn hold_mutations(shop: &Shop, fixture: &str, field: &str) -> usize {
    shop.mutations_of(fixture)
        .iter()
        .filter(|m| m.fields.iter().any(|f| f == field))
        .count()
}

/// The line of the output naming the order id.
fn line_of<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("no line for {id}: {out}"))
}

#[tokio::test]
async fn releases_only_orderflows_holds_for_the_reason_and_they_are_not_placed_again() {
    let shop = Shop::start("relholds").await;
    shop.send("high-risk", "orders/create", "wh-hr").await;
    shop.send("handmade", "orders/create", "wh-hm").await;
    eventually(Duration::from_secs(20), "both holds", || async {
        (shop.hold_handles("high-risk") == ["orderflow-fraud"]
            && shop.hold_handles("handmade") == ["orderflow-processing"])
        .then_some(())
    })
    .await;
    // The holds show before the workers finish those orders (decision, tags): wait until both
    // events are settled, or their last mutations would land during the dry run below.
    shop.wait_settled(2).await;
    // The merchant holds the fraud order's fulfilment order too: that hold is not ours.
    let fo = shop.order("high-risk").fulfillment_orders[0].id.clone();
    let merchants = shop
        .sandbox
        .hold_by_hand(&shop.shop, &fo, FulfillmentHoldReason::Other, None)
        .expect("the merchant's hold");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(
        dir.path(),
        &shop.app.prefix,
        harness::AMQP_URL,
        &shop.sandbox,
    );
    let ids = ["--order-id", HIGH_RISK, "--order-id", HANDMADE];

    // Dry run: lists what it would release, mutates nothing.
    let before = shop.sandbox.mutations().len();
    let mut args = vec!["--shop", SHOP, "--reason", "all"];
    args.extend(ids);
    let (code, out) = release_holds(&config, &args).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        line_of(&out, HIGH_RISK).contains("release orderflow-fraud on FulfillmentOrder/"),
        "{out}"
    );
    assert!(
        line_of(&out, HANDMADE).contains("release orderflow-processing on"),
        "{out}"
    );
    assert!(
        out.contains("dry run: holds of 2 order(s) would be released; pass --apply"),
        "{out}"
    );
    assert_eq!(
        shop.sandbox.mutations().len(),
        before,
        "the dry run mutates nothing"
    );

    // --reason processing leaves the fraud hold alone; the CSV says why.
    let csv = dir.path().join("processing.csv");
    let settled = shop.settled();
    let mut args = vec!["--shop", SHOP, "--reason", "processing", "--apply", "--csv"];
    args.push(csv.to_str().expect("path"));
    args.extend(ids);
    let (code, out) = release_holds(&config, &args).await;
    assert_eq!(code, 0, "{out}");
    let text = std::fs::read_to_string(&csv).expect("csv written");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "shop,name,id,planned,done,reason");
    assert!(
        rows.contains(
            &format!("{SHOP},#1004,{HIGH_RISK},nothing,,no hold of orderflow's").as_str()
        ),
        "{text}"
    );
    assert!(
        rows.iter().any(|r| r.starts_with(&format!(
            "{SHOP},#1003,{HANDMADE},release orderflow-processing on FulfillmentOrder/"
        )) && r.ends_with(",released,")),
        "{text}"
    );
    assert_eq!(rows.len(), 3, "{text}");
    assert_eq!(shop.hold_handles("high-risk"), ["orderflow-fraud"]);
    assert!(shop.hold_handles("handmade").is_empty());
    shop.wait_settled(settled + 1).await;

    // --reason fraud releases our fraud hold and only it.
    let settled = shop.settled();
    let (code, out) = release_holds(
        &config,
        &[
            "--shop",
            SHOP,
            "--reason",
            "fraud",
            "--apply",
            "--order-id",
            HIGH_RISK,
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(line_of(&out, HIGH_RISK).contains("released"), "{out}");
    let holds: Vec<String> = shop.order("high-risk").fulfillment_orders[0]
        .fulfillment_holds
        .iter()
        .map(|h| h.id.clone())
        .collect();
    assert_eq!(
        holds,
        std::slice::from_ref(&merchants),
        "the merchant's hold stays"
    );
    let release = shop
        .mutations_of("high-risk")
        .into_iter()
        .find(|m| m.fields.iter().any(|f| f == "fulfillmentOrderReleaseHold"))
        .expect("a release");
    let released = release.variables["holdIds"]
        .as_array()
        .expect("holdIds")
        .clone();
    assert_eq!(released.len(), 1, "only our fraud hold: {released:?}");
    assert_ne!(released[0], merchants.as_str(), "never the merchant's");

    // The worker handles the wake-up: records the release and does not hold again.
    shop.wait_settled(settled + 1).await;
    for (fixture, handle) in [
        ("high-risk", "orderflow-fraud"),
        ("handmade", "orderflow-processing"),
    ] {
        assert_eq!(
            hold_mutations(&shop, fixture, "fulfillmentOrderHold"),
            1,
            "{fixture}"
        );
        let decision = shop
            .snapshot(fixture)
            .await
            .decision
            .expect("decision")
            .value;
        let d: serde_json::Value = serde_json::from_str(&decision).expect("decision json");
        assert!(
            d["released_by_person"]
                .as_array()
                .is_some_and(|a| a.iter().any(|h| h["handle"] == handle)),
            "{fixture}: {decision}"
        );
    }
    assert!(shop.hold_handles("handmade").is_empty());
    assert_eq!(
        shop.order("high-risk").fulfillment_orders[0]
            .fulfillment_holds
            .len(),
        1
    );

    // Re-running finds nothing of ours left to release.
    let (code, out) = release_holds(
        &config,
        &[
            "--shop",
            SHOP,
            "--reason",
            "all",
            "--apply",
            "--order-id",
            HIGH_RISK,
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        line_of(&out, HIGH_RISK).contains("no hold of orderflow's"),
        "{out}"
    );
    shop.stop().await;
}

#[tokio::test]
async fn a_bad_reason_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("missing.toml");
    let (code, out) = release_holds(
        &config,
        &["--shop", SHOP, "--reason", "everything", "--tag", "x"],
    )
    .await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("invalid value 'everything'"), "{out}");
    assert!(out.contains("fraud") && out.contains("processing"), "{out}");
}

/// A run stopped between the release and the wake-up: the hold is gone but the worker never
/// heard. The re-run wakes the order so the release is recorded.
#[tokio::test]
async fn a_release_the_worker_has_not_recorded_is_woken_again() {
    let shop = Shop::start("relwake").await;
    shop.send("handmade", "orders/create", "wh-hm").await;
    eventually(Duration::from_secs(20), "the processing hold", || async {
        (shop.hold_handles("handmade") == ["orderflow-processing"]).then_some(())
    })
    .await;
    let fo = &shop.order("handmade").fulfillment_orders[0];
    let ours = vec![fo.fulfillment_holds[0].id.clone()];
    assert!(
        shop.sandbox
            .release_by_hand(&shop.shop, &fo.id, Some(&ours))
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(
        dir.path(),
        &shop.app.prefix,
        harness::AMQP_URL,
        &shop.sandbox,
    );
    let args = [
        "--shop",
        SHOP,
        "--reason",
        "processing",
        "--order-id",
        HANDMADE,
    ];

    let (code, out) = release_holds(&config, &args).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        line_of(&out, HANDMADE).ends_with("wake     released earlier, not recorded yet"),
        "{out}"
    );

    let settled = shop.settled();
    let mut apply = args.to_vec();
    apply.push("--apply");
    let (code, out) = release_holds(&config, &apply).await;
    assert_eq!(code, 0, "{out}");
    assert!(line_of(&out, HANDMADE).contains("woken"), "{out}");
    assert!(
        out.contains("released: holds of 0 order(s), 1 woken, 0 failed"),
        "{out}"
    );
    shop.wait_settled(settled + 1).await;
    assert_eq!(hold_mutations(&shop, "handmade", "fulfillmentOrderHold"), 1);
    let decision = shop
        .snapshot("handmade")
        .await
        .decision
        .expect("decision")
        .value;
    assert!(decision.contains("released_by_person\":[{"), "{decision}");

    // Recorded now: nothing more to do.
    let (code, out) = release_holds(&config, &apply).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        line_of(&out, HANDMADE).contains("no hold of orderflow's"),
        "{out}"
    );
    shop.stop().await;
}
