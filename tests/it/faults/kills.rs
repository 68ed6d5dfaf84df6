//! Random kills: orders run through the receiver and a worker *process* (the real `orderflow
//! work`) that a controller kills with SIGKILL at random moments and starts again. The moments
//! are picked from what the sandbox shop sees, so they land where a crash hurts: just after a
//! mutation was applied (between two mutations, or between the last one and the ack), while a
//! request is in flight, or anywhere. At the end every order is as the rules want it and the
//! sandbox's mutation log holds no action twice.
//!
//! The seed is printed; `ORDERFLOW_KILLS_SEED=<n>` runs the same choices again (the moments
//! still depend on the machine's timing). `ORDERFLOW_KILLS_LOG=1` lets the workers' logs
//! through to stderr.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use orderflow::app::Roles;
use orderflow::clock::{Clock, SystemClock};
use orderflow::config::{Config, Env};
use orderflow::id::ShopDomain;
use orderflow::sandbox::{BucketConfig, MutationRecord, Sandbox, SandboxConfig};
use orderflow::shopify::OrderSnapshot;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use tokio::process::{Child, Command};

use crate::harness::e2e::{Shop, rules_toml};
use crate::harness::{self, Options, SECRET_NEW, SHOP, TOKEN, TestApp, eventually, signature};

/// Fixtures whose plans need several mutations (fulfil, hold, tags, the decision), or none.
/// `risk-pending` is left out: it wakes itself up every hop, so its queue is never quiet.
const FIXTURES: &[&str] = &[
    "digital",
    "mixed",
    "high-risk",
    "handmade",
    "seven-locations",
    "gift-card",
    "pickup",
    "preorder",
];
const ORDERS: u64 = 48;
const KILLS: usize = 20;
/// Every Admin API request waits this long, so requests are in flight long enough to be hit.
const LATENCY: Duration = Duration::from_millis(40);

/// The root mutation fields that act on the order. `metafieldsSet` (the decision) is a write of
/// state, compared separately.
const ACTIONS: &[&str] = &[
    "fulfillmentCreate",
    "fulfillmentOrderHold",
    "fulfillmentOrderReleaseHold",
    "tagsAdd",
    "tagsRemove",
    "orderCapture",
    "orderClose",
    "fulfillmentOrdersSetFulfillmentDeadline",
];

/// A clone of `fixture` with GIDs of its own (`n`), named after the test.
fn clone_of(fixture: &str, n: u64) -> OrderSnapshot {
    let mut order = Shop::fixture_clone(fixture, n);
    order.name = format!("#K{n} {fixture}");
    order
}

fn seed() -> u64 {
    match std::env::var("ORDERFLOW_KILLS_SEED") {
        Ok(s) => s.parse().expect("ORDERFLOW_KILLS_SEED is a u64"),
        Err(_) => rand::random(),
    }
}

/// The worker's config: the harness's broker and secrets, the example config's rules, the
/// sandbox as the shop's Admin API.
fn worker_config(prefix: &str, admin: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [amqp]\nurl = \"{url}\"\nprefix = \"{prefix}\"\npartitions = 4\n\
         [shopify]\nclient_secrets = [\"{SECRET_NEW}\"]\n\
         [sweep]\nevery = \"off\"\n\
         [[shops]]\ndomain = \"{SHOP}\"\naccess_token = \"{TOKEN}\"\n\
         timezone = \"Europe/Amsterdam\"\nadmin_api_url = \"{admin}\"\n\n{rules}",
        url = harness::AMQP_URL,
        rules = rules_toml(5),
    )
}

fn start_worker(config: &Path) -> Child {
    let logs = std::env::var_os("ORDERFLOW_KILLS_LOG").is_some();
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("work")
        .arg("--config")
        .arg(config)
        .env_remove("ORDERFLOW_CONFIG")
        .env("ORDERFLOW_LOG", if logs { "info" } else { "error" })
        .stdout(Stdio::null())
        .stderr(if logs {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .kill_on_drop(true)
        .spawn()
        .expect("the orderflow binary starts")
}

/// Where a kill lands, as the controller chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Moment {
    /// Right after the sandbox applied a mutation: the worker holds its answer and is between
    /// two mutations, or between the last one and the ack.
    AfterMutation,
    /// While a request (query or mutation) waits in the sandbox.
    RequestInFlight,
    /// At a random time.
    Anytime,
}

/// Waits (a few ms at a time) until `f` is true or `within` has passed; false when it passed.
async fn until(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !f() {
        if start.elapsed() > within {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    true
}

/// An action twice: the same mutation field with the same variables, or a second fulfilment
/// of one fulfilment order.
pub(crate) fn duplicates(log: &[MutationRecord]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut fulfilled: BTreeMap<String, usize> = BTreeMap::new();
    for m in log {
        for field in m.fields.iter().filter(|f| ACTIONS.contains(&f.as_str())) {
            *seen.entry(format!("{field} {}", m.variables)).or_default() += 1;
            if field == "fulfillmentCreate" {
                let fos = m.variables["fulfillment"]["lineItemsByFulfillmentOrder"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for fo in fos {
                    let id = fo["fulfillmentOrderId"].as_str().unwrap_or("?").to_owned();
                    *fulfilled.entry(id).or_default() += 1;
                }
            }
        }
    }
    let mut out: Vec<String> = seen
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, n)| format!("{n}x {k}"))
        .collect();
    out.extend(
        fulfilled
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(fo, n)| format!("{n} fulfilments of {fo}")),
    );
    out
}

/// How many kills fell between two mutations of one order: the order of the last mutation
/// before the kill has another one after it.
fn split_orders(log: &[MutationRecord], cuts: &[usize], owner: &[(String, usize)]) -> usize {
    let order_of = |m: &MutationRecord| {
        let vars = m.variables.to_string();
        owner
            .iter()
            .find(|(gid, _)| vars.contains(&format!("\"{gid}\"")))
            .map(|(_, n)| *n)
    };
    cuts.iter()
        .filter(|&&cut| cut > 0 && cut < log.len())
        .filter(|&&cut| {
            let before = order_of(&log[cut - 1]);
            before.is_some() && log[cut..].iter().any(|m| order_of(m) == before)
        })
        .count()
}

/// The orders whose plan (with the workers' rules, now) still has something to change.
fn unconverged(
    sandbox: &Sandbox,
    shop: &ShopDomain,
    config: &Config,
    gids: &[String],
) -> Vec<String> {
    let rules = &config.shop(shop).expect("the shop is configured").rules;
    let now = SystemClock.now();
    gids.iter()
        .filter_map(|gid| {
            let snapshot = sandbox.order(shop, gid).expect("the order exists");
            let plan = orderflow::rules::plan(&snapshot.to_rules_order(), rules, now);
            (!plan.is_empty()).then(|| format!("{}:\n{plan}", snapshot.name))
        })
        .collect()
}

async fn ready_messages(prefix: &str) -> usize {
    let admin = orderflow::queue::Admin::connect(&harness::AMQP_URL.to_owned().into())
        .await
        .expect("the test broker");
    let mut n = 0;
    for q in harness::broker::all_queues(prefix, 4) {
        n += admin.ready(&q).await.unwrap_or(0);
    }
    let _ = admin.close("counted").await;
    n
}

async fn stop_gracefully(mut child: Child) {
    if let Some(pid) = child.id() {
        // SIGTERM: the worker finishes what it holds and settles it.
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
    let status = tokio::time::timeout(Duration::from_secs(15), child.wait())
        .await
        .expect("the worker stops within its grace period")
        .expect("waited");
    assert!(status.success(), "a clean stop: {status}");
}

#[tokio::test(flavor = "multi_thread")]
async fn random_worker_kills_leave_every_order_converged_with_no_action_twice() {
    let seed = seed();
    println!("random kills: ORDERFLOW_KILLS_SEED={seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();

    let sandbox = Sandbox::start(SandboxConfig {
        bucket: BucketConfig {
            maximum_available: 1_000_000.0,
            restore_rate: 1_000_000.0,
        },
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let shop = ShopDomain::parse(SHOP).expect("shop");
    sandbox.add_shop(shop.clone(), SecretString::from(TOKEN.to_owned()));
    let mut gids = Vec::new();
    // Every order's and fulfilment order's GID, by the order's index: whose a mutation is.
    let mut owner: Vec<(String, usize)> = Vec::new();
    for n in 0..ORDERS {
        let order = clone_of(FIXTURES[n as usize % FIXTURES.len()], n + 1);
        gids.push(order.id.clone());
        owner.push((order.id.clone(), n as usize));
        owner.extend(
            order
                .fulfillment_orders
                .iter()
                .map(|f| (f.id.clone(), n as usize)),
        );
        sandbox.insert_order(&shop, order);
    }
    sandbox.set_latency(LATENCY);

    // The receiver in this process; the workers are processes of their own on its prefix.
    let receiver = TestApp::spawn_with(
        "kills",
        Options {
            roles: Some(Roles::RECEIVE),
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config_path: PathBuf = dir.path().join("orderflow.toml");
    let config_text = worker_config(&receiver.prefix, &sandbox.base_url());
    std::fs::write(&config_path, &config_text).expect("config written");
    let config = Config::from_toml(&config_text, &config_path, &Env::default()).expect("valid");

    let deliver = |gid: &str, topic: &str, webhook_id: String| {
        let id = gid.rsplit_once('/').expect("a gid").1;
        let body = format!(r#"{{"id":{id},"admin_graphql_api_id":"{gid}"}}"#).into_bytes();
        let sig = signature(&body, SECRET_NEW);
        receiver
            .delivery_with(topic, &webhook_id, &body, |h| {
                for (k, v) in h.iter_mut() {
                    if *k == "X-Shopify-Hmac-Sha256" {
                        *v = sig.clone();
                    }
                }
            })
            .send()
    };
    for (i, gid) in gids.iter().enumerate() {
        let res = deliver(gid, "orders/create", format!("kills-create-{i}"))
            .await
            .expect("the receiver answers");
        assert_eq!(res.status(), 200, "order {gid} accepted");
    }

    let mut worker = start_worker(&config_path);
    let mut moments: BTreeMap<Moment, usize> = BTreeMap::new();
    let mut kills = 0;
    // The mutation log's length at each kill.
    let mut cuts: Vec<usize> = Vec::new();
    while kills < KILLS
        && started.elapsed() < Duration::from_secs(45)
        && !unconverged(&sandbox, &shop, &config, &gids).is_empty()
    {
        let moment = match rng.random_range(0..3) {
            0 => Moment::AfterMutation,
            1 => Moment::RequestInFlight,
            _ => Moment::Anytime,
        };
        let hit = match moment {
            Moment::AfterMutation => {
                let target = sandbox.mutations().len() + rng.random_range(1..=3);
                until(Duration::from_secs(5), || {
                    sandbox.mutations().len() >= target
                })
                .await
            }
            Moment::RequestInFlight => {
                let before = sandbox.request_count();
                let arrived =
                    until(Duration::from_secs(5), || sandbox.request_count() > before).await;
                tokio::time::sleep(LATENCY.mul_f64(rng.random_range(0.0..0.9))).await;
                arrived
            }
            Moment::Anytime => {
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..600))).await;
                true
            }
        };
        if !hit {
            // Nothing happened for a while: every order may be done.
            continue;
        }
        worker.start_kill().expect("SIGKILL sent");
        worker.wait().await.expect("the killed worker is reaped");
        cuts.push(sandbox.mutations().len());
        kills += 1;
        *moments.entry(moment).or_default() += 1;
        // A second delivery of some orders while no worker runs: redelivery plus duplicates.
        if rng.random_bool(0.5) {
            let gid = &gids[rng.random_range(0..gids.len())];
            let res = deliver(gid, "orders/updated", format!("kills-upd-{kills}"))
                .await
                .expect("the receiver answers");
            assert_eq!(res.status(), 200);
        }
        worker = start_worker(&config_path);
    }
    println!(
        "random kills: {kills} kills {moments:?} after {:?}",
        started.elapsed()
    );

    eventually(
        Duration::from_secs(40),
        "every order as the rules want it",
        || async {
            let left = unconverged(&sandbox, &shop, &config, &gids);
            left.is_empty().then_some(())
        },
    )
    .await;
    // Nothing left to handle: no message waits in any queue of the prefix.
    eventually(Duration::from_secs(20), "the queues drained", || async {
        (ready_messages(&receiver.prefix).await == 0).then_some(())
    })
    .await;
    stop_gracefully(worker).await;

    let log = sandbox.mutations();
    let twice = duplicates(&log);
    let actions = log
        .iter()
        .flat_map(|m| m.fields.iter())
        .filter(|f| ACTIONS.contains(&f.as_str()))
        .count();
    let split = split_orders(&log, &cuts, &owner);
    println!(
        "random kills: seed {seed}, {ORDERS} orders, {kills} kills ({split} between two \
         mutations of one order), {actions} actions, {} mutations, {} duplicates, {:?}",
        log.len(),
        twice.len(),
        started.elapsed()
    );
    assert!(
        twice.is_empty(),
        "ORDERFLOW_KILLS_SEED={seed}: actions done twice:\n{}",
        twice.join("\n")
    );
    assert!(
        actions >= ORDERS as usize,
        "the orders needed work: {actions} actions"
    );
    assert_eq!(
        ready_messages(&receiver.prefix).await,
        0,
        "the last worker settled what it held"
    );
    let left = unconverged(&sandbox, &shop, &config, &gids);
    assert!(left.is_empty(), "still to change:\n{}", left.join("\n"));
    assert!(kills > 0, "the controller killed the worker");

    receiver.stop().await;
    sandbox.shutdown().await;
}

#[test]
fn the_duplicate_check_finds_a_second_hold_and_a_second_fulfilment() {
    let record = |field: &str, variables: serde_json::Value| MutationRecord {
        shop: ShopDomain::parse(SHOP).expect("shop"),
        operation_name: None,
        fields: vec![field.to_owned()],
        variables,
        at: "2026-11-23T09:00:00Z".parse().expect("instant"),
    };
    let hold =
        serde_json::json!({"id": "gid://shopify/FulfillmentOrder/1", "handle": "orderflow-fraud"});
    let fulfil = |line: &str| {
        serde_json::json!({"fulfillment": {"lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/2",
             "fulfillmentOrderLineItems": [{"id": line, "quantity": 1}]}
        ]}})
    };
    let decision = serde_json::json!({"metafields": []});
    let once = [
        record("fulfillmentOrderHold", hold.clone()),
        record("fulfillmentCreate", fulfil("a")),
        record("metafieldsSet", decision.clone()),
        record("metafieldsSet", decision),
    ];
    assert!(duplicates(&once).is_empty(), "{:?}", duplicates(&once));
    let mut twice = once.to_vec();
    twice.push(record("fulfillmentOrderHold", hold));
    twice.push(record("fulfillmentCreate", fulfil("b")));
    let found = duplicates(&twice);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("2x fulfillmentOrderHold"), "{found:?}");
    assert!(found[1].contains("2 fulfilments of gid://shopify/FulfillmentOrder/2"));
}
