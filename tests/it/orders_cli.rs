//! `orderflow orders reevaluate`: the dry run lists exactly the selected orders (by tag, by id,
//! by creation window) and publishes nothing; `--apply` puts one wake-up per selected order on
//! its own partition; the CSV has one row per order; bad input and a missing broker exit as
//! documented.

use std::path::{Path, PathBuf};

use orderflow::event::{PartitionKey, header, partition_of};
use orderflow::id::OrderId;
use orderflow::queue::Names;
use orderflow::sandbox::{Sandbox, SandboxConfig};
use secrecy::SecretString;

use crate::harness::broker::{drain, drain_all};
use crate::harness::{self, TestApp};
use crate::shopify::SHOP;

/// Every fixture order of the sandbox shop, by name and id.
const ORDERS: &[(&str, u64)] = &[
    ("#1001", 820_982_911_946_154_509),
    ("#1002", 820_982_911_946_154_510),
    ("#1003", 820_982_911_946_154_511),
    ("#1004", 820_982_911_946_154_512),
    ("#1005", 820_982_911_946_154_513),
    ("#1006", 820_982_911_946_154_514),
    ("#1007", 820_982_911_946_154_515),
    ("#1008", 820_982_911_946_154_516),
    ("#1009", 820_982_911_946_154_517),
    ("#1010", 820_982_911_946_154_518),
    ("#1011", 820_982_911_946_154_519),
    ("#1012", 820_982_911_946_154_520),
    ("#1013", 820_982_911_946_154_521),
];

pub(crate) fn config_file(dir: &Path, prefix: &str, amqp_url: &str, sandbox: &Sandbox) -> PathBuf {
    let path = dir.join("orderflow.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[amqp]
url = "{amqp_url}"
prefix = "{prefix}"
partitions = 4
[shopify]
client_secrets = ["{secret}"]
[[shops]]
domain = "{SHOP}"
access_token = "{token}"
timezone = "Europe/Amsterdam"
admin_api_url = "{admin}"
"#,
            secret = harness::SECRET_NEW,
            token = harness::TOKEN,
            admin = sandbox.base_url(),
        ),
    )
    .expect("config written");
    path
}

async fn reevaluate(config: &Path, args: &[&str]) -> (i32, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["orders", "reevaluate", "--config"])
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

async fn sandbox_with_fixtures() -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    sandbox
        .load_fixtures(
            &crate::shopify::fixtures_dir(),
            &SecretString::from(harness::TOKEN.to_owned()),
        )
        .expect("fixtures load");
    sandbox
}

/// The fixture orders the output names, in fixture order.
fn listed(out: &str) -> Vec<&'static str> {
    ORDERS
        .iter()
        .filter(|(name, id)| {
            out.lines()
                .any(|l| l.contains(name) && l.contains(&id.to_string()))
        })
        .map(|(name, _)| *name)
        .collect()
}

#[tokio::test]
async fn the_dry_run_lists_exactly_the_selection_and_publishes_nothing() {
    let app = TestApp::spawn("reevaldry").await;
    let sandbox = sandbox_with_fixtures().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), &app.prefix, harness::AMQP_URL, &sandbox);

    // By tag, ignoring case as Shopify does.
    let (code, out) = reevaluate(&config, &["--shop", SHOP, "--tag", "NEWSLETTER"]).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(listed(&out), ["#1001", "#1013"], "{out}");
    assert!(
        out.contains("dry run: 2 order(s) would be re-evaluated; pass --apply"),
        "{out}"
    );

    // By id, repeated, one named twice.
    let (code, out) = reevaluate(
        &config,
        &[
            "--shop",
            "all",
            "--order-id",
            "820982911946154516",
            "--order-id",
            "820982911946154511",
            "--order-id",
            "820982911946154516",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(listed(&out), ["#1003", "#1008"], "{out}");
    assert!(out.contains("dry run: 2 order(s)"), "{out}");

    // By creation window: #1003 was created at 14:05 on the 20th, the others earlier.
    let csv = dir.path().join("dry.csv");
    let (code, out) = reevaluate(
        &config,
        &[
            "--shop",
            SHOP,
            "--since",
            "2026-11-20T10:00:00Z",
            "--until",
            "2026-11-21T00:00:00Z",
            "--csv",
            csv.to_str().expect("path"),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(listed(&out), ["#1003"], "{out}");
    assert_eq!(
        std::fs::read_to_string(&csv).expect("csv"),
        format!("shop,name,id,planned,done,reason\n{SHOP},#1003,820982911946154511,wake,,\n")
    );

    // A tag and an id together: the id must also carry the tag.
    let (code, out) = reevaluate(
        &config,
        &[
            "--shop",
            SHOP,
            "--tag",
            "newsletter",
            "--order-id",
            "820982911946154509",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(listed(&out), ["#1001"], "{out}");

    assert!(
        drain_all(&app.prefix, app.partitions).await.is_empty(),
        "a dry run publishes nothing"
    );
    app.stop().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn apply_puts_one_wake_up_per_order_on_its_own_partition_and_writes_the_csv() {
    let app = TestApp::spawn("reevalapply").await;
    let sandbox = sandbox_with_fixtures().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), &app.prefix, harness::AMQP_URL, &sandbox);
    let csv = dir.path().join("applied.csv");

    let (code, out) = reevaluate(
        &config,
        &[
            "--shop",
            SHOP,
            "--tag",
            "newsletter",
            "--apply",
            "--csv",
            csv.to_str().expect("path"),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("woke 2 order(s), 0 failed"), "{out}");
    let names = Names::new(&app.prefix);
    let mut woken = Vec::new();
    for p in 0..app.partitions {
        for got in drain(&names.partition_queue(p)).await {
            let id: u64 = got
                .header(header::ORDER_ID)
                .expect("order id")
                .parse()
                .expect("number");
            assert_eq!(
                p,
                partition_of(SHOP, PartitionKey::Order(OrderId(id)), app.partitions),
                "order {id} on its own partition"
            );
            assert_eq!(got.header(header::KIND), Some("order"));
            assert_eq!(got.header(header::SHOP), Some(SHOP));
            assert_eq!(got.header(header::TOPIC), Some("orderflow/reevaluate"));
            woken.push(id);
        }
    }
    woken.sort();
    assert_eq!(woken, [820_982_911_946_154_509, 820_982_911_946_154_521]);
    assert_eq!(
        std::fs::read_to_string(&csv).expect("csv"),
        format!(
            "shop,name,id,planned,done,reason\n\
             {SHOP},#1001,820982911946154509,wake,woken,\n\
             {SHOP},#1013,820982911946154521,wake,woken,\n"
        )
    );

    // An id that is not there fails its row and the run, and wakes nothing.
    let (code, out) = reevaluate(
        &config,
        &[
            "--shop",
            SHOP,
            "--order-id",
            "1",
            "--apply",
            "--csv",
            csv.to_str().expect("path"),
        ],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("woke 0 order(s), 1 failed"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&csv).expect("csv"),
        format!(
            "shop,name,id,planned,done,reason\n\
             {SHOP},,1,wake,failed,no such order matches the selection\n"
        )
    );
    assert!(drain_all(&app.prefix, app.partitions).await.is_empty());
    assert!(drain(&names.dead_queue()).await.is_empty());
    app.stop().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn bad_input_exits_1_naming_it_and_a_missing_broker_exits_2_with_apply() {
    let sandbox = sandbox_with_fixtures().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = harness::unique_prefix("reevalbad");
    let config = config_file(dir.path(), &prefix, harness::AMQP_URL, &sandbox);

    let (code, out) = reevaluate(&config, &["--shop", SHOP, "--since", "yesterday"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("--since `yesterday` is not an instant"),
        "{out}"
    );

    let (code, out) = reevaluate(
        &config,
        &["--shop", "other.myshopify.com", "--tag", "newsletter"],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("shop `other.myshopify.com` is not known"),
        "{out}"
    );

    let (code, out) = reevaluate(&config, &["--shop", SHOP]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("select the orders"), "{out}");

    // A query term Shopify has but the selection cannot be read: the shop's error, exit 1.
    let (code, out) = reevaluate(&config, &["--shop", SHOP, "--query", "vip"]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("cannot list the orders matching `vip`"),
        "{out}"
    );

    let closed = config_file(
        dir.path(),
        &prefix,
        "amqp://guest:guest@127.0.0.1:1/%2f",
        &sandbox,
    );
    let (code, out) =
        reevaluate(&closed, &["--shop", SHOP, "--tag", "newsletter", "--apply"]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cannot reach RabbitMQ"), "{out}");
    sandbox.shutdown().await;
}
