//! Reload without a restart: a worker *process* (the real `orderflow work`) plans an order
//! under rules v1; its config file is rewritten and the process told to reload (SIGHUP, or
//! `POST /reload` on the admin listener); the next order is planned by the new rule, and
//! `orderflow_config_info` names the new file's SHA-256. A broken config (bad TOML, a key
//! with a wrong value) changes nothing, and a key that cannot change at run time
//! (`amqp.partitions`) is reported, not applied.

use std::path::PathBuf;
use std::time::Duration;

use orderflow::app::Roles;
use orderflow::id::ShopDomain;
use orderflow::sandbox::{BucketConfig, Sandbox, SandboxConfig};
use secrecy::SecretString;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::harness::e2e::{Shop, rules_toml};
use crate::harness::{self, Options, SECRET_NEW, SHOP, TOKEN, TestApp, eventually};

mod process;

use process::{Worker, message};

const WAIT: Duration = Duration::from_secs(20);
const ADMIN_TOKEN: &str = "reload-admin-token-0123456789";

/// The example config's digital-goods rule, and the two versions the tests swap between.
const EXAMPLE_DIGITAL: &str =
    "name = \"digital goods\"\nwhen = { requires_shipping = false }\naction = \"auto\"";
const V1_DIGITAL: &str =
    "name = \"digital goods wait\"\nwhen = { requires_shipping = false }\naction = \"manual\"";
const V2_DIGITAL: &str =
    "name = \"digital goods ship\"\nwhen = { requires_shipping = false }\naction = \"auto\"";

/// The worker's config: the receiver's prefix, the sandbox as the shop's admin, the example
/// rules with `digital` as the digital-goods rule.
fn config_text(prefix: &str, admin: &str, digital: &str, partitions: u16, extra: &str) -> String {
    let rules = rules_toml(5);
    assert!(
        rules.contains(EXAMPLE_DIGITAL),
        "the example's digital rule"
    );
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [amqp]\nurl = \"{url}\"\nprefix = \"{prefix}\"\npartitions = {partitions}\n\
         [shopify]\nclient_secrets = [\"{SECRET_NEW}\"]\n\
         [sweep]\nevery = \"off\"\n\
         [admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{ADMIN_TOKEN}\"\n\
         [[shops]]\ndomain = \"{SHOP}\"\naccess_token = \"{TOKEN}\"\n\
         timezone = \"Europe/Amsterdam\"\nadmin_api_url = \"{admin}\"\n\n{rules}\n{extra}",
        url = harness::AMQP_URL,
        rules = rules.replace(EXAMPLE_DIGITAL, digital),
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sandbox with `orders` clones of the digital fixture, a receiver in this process, and
/// the folder for the worker's config.
struct Setup {
    sandbox: Sandbox,
    shop: ShopDomain,
    receiver: TestApp,
    gids: Vec<String>,
    _dir: tempfile::TempDir,
    config: PathBuf,
}

impl Setup {
    async fn start(name: &str, orders: u64) -> Self {
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
        let gids = (1..=orders)
            .map(|n| {
                let mut order = Shop::fixture_clone("digital", n);
                order.name = format!("#R{n}");
                let gid = order.id.clone();
                sandbox.insert_order(&shop, order);
                gid
            })
            .collect();
        let receiver = TestApp::spawn_with(
            name,
            Options {
                roles: Some(Roles::RECEIVE),
                ..Default::default()
            },
        )
        .await;
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("orderflow.toml");
        Self {
            sandbox,
            shop,
            receiver,
            gids,
            _dir: dir,
            config,
        }
    }

    /// Writes the worker's config with `digital` (and `partitions`); its SHA-256.
    fn write(&self, digital: &str, partitions: u16) -> String {
        let text = config_text(
            &self.receiver.prefix,
            &self.sandbox.base_url(),
            digital,
            partitions,
            "",
        );
        self.write_text(&text)
    }

    fn write_text(&self, text: &str) -> String {
        std::fs::write(&self.config, text).expect("config written");
        sha256_hex(text.as_bytes())
    }

    async fn deliver(&self, n: usize) {
        let gid = &self.gids[n - 1];
        let id = gid.rsplit_once('/').expect("a gid").1;
        let body = format!(r#"{{"id":{id},"admin_graphql_api_id":"{gid}"}}"#);
        let res = self
            .receiver
            .delivery("orders/create", &format!("reload-{n}"), body.as_bytes())
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(res.status(), 200, "order {n} accepted");
    }

    /// Order `n`'s decision once a worker wrote one.
    async fn decision(&self, n: usize) -> Value {
        let gid = &self.gids[n - 1];
        eventually(WAIT, &format!("order {n}'s decision"), || async {
            let order = self.sandbox.order(&self.shop, gid)?;
            serde_json::from_str(&order.decision?.value).ok()
        })
        .await
    }

    async fn stop(self) {
        self.receiver.stop().await;
        self.sandbox.shutdown().await;
    }
}

fn rules_of(decision: &Value) -> Vec<String> {
    decision["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect()
}

fn fulfilments(decision: &Value) -> usize {
    decision["fulfilments"].as_array().map_or(0, Vec::len)
}

fn refused(line: &Value) -> bool {
    message(line).starts_with("config reload refused")
}

fn invalid_key(line: &Value) -> Option<&str> {
    (message(line) == "config reload: invalid")
        .then(|| line["key"].as_str())
        .flatten()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sighup_puts_a_new_rule_in_force_for_the_next_order_and_a_broken_config_changes_nothing()
{
    let setup = Setup::start("reload-hup", 3).await;
    let v1 = setup.write(V1_DIGITAL, 4);
    let worker = Worker::start(&setup.config).await;
    let active = worker.log(|l| message(l) == "config version active").await;
    assert_eq!(active["sha256"], v1.as_str(), "the start names the version");
    assert_eq!(worker.config_info().await, [v1.as_str()]);

    setup.deliver(1).await;
    let first = setup.decision(1).await;
    assert!(
        rules_of(&first).contains(&"digital goods wait".to_owned()),
        "{first}"
    );
    assert_eq!(
        fulfilments(&first),
        0,
        "v1 leaves digital goods to a person"
    );

    // Bad TOML, then a valid file with a wrong value: each refused, with its key, and the
    // running version stays.
    setup.write_text("[fulfilment\ndefault = \"auto\"\n");
    worker.hangup();
    worker.log(refused).await;
    let bad_value = config_text(
        &setup.receiver.prefix,
        &setup.sandbox.base_url(),
        V2_DIGITAL,
        4,
        "",
    )
    .replacen("default = \"manual\"", "default = \"sometimes\"", 1);
    setup.write_text(&bad_value);
    worker.hangup();
    eventually(WAIT, "the second refusal", || async {
        (worker.count(refused) == 2).then_some(())
    })
    .await;
    let keys: Vec<String> = worker
        .logs
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| invalid_key(l).map(str::to_owned))
        .collect();
    assert!(keys.contains(&"(syntax)".to_owned()), "{keys:?}");
    assert!(keys.contains(&"fulfilment.default".to_owned()), "{keys:?}");
    assert_eq!(worker.config_info().await, [v1.as_str()], "nothing changed");
    setup.deliver(2).await;
    let second = setup.decision(2).await;
    assert!(
        rules_of(&second).contains(&"digital goods wait".to_owned()),
        "{second}"
    );
    assert_eq!(fulfilments(&second), 0, "still v1");

    let v2 = setup.write(V2_DIGITAL, 4);
    worker.hangup();
    let reloaded = worker
        .log(|l| message(l).starts_with("config reloaded"))
        .await;
    assert_eq!(reloaded["sha256"], v2.as_str());
    assert_eq!(reloaded["previous_sha256"], v1.as_str());
    assert_eq!(
        worker.config_info().await,
        [v2.as_str()],
        "only the new version"
    );
    setup.deliver(3).await;
    let third = eventually(WAIT, "order 3 fulfilled by the new rule", || async {
        let d = setup.decision(3).await;
        (fulfilments(&d) > 0).then_some(d)
    })
    .await;
    assert!(
        rules_of(&third).contains(&"digital goods ship".to_owned()),
        "{third}"
    );

    worker.stop().await;
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn post_reload_needs_the_token_applies_the_rules_and_reports_what_needs_a_restart() {
    let setup = Setup::start("reload-post", 1).await;
    let v1 = setup.write(V1_DIGITAL, 4);
    let worker = Worker::start(&setup.config).await;
    assert_eq!(worker.config_info().await, [v1.as_str()]);

    // The rule and the partition count change; the token is needed first.
    let v2 = setup.write(V2_DIGITAL, 8);
    assert_eq!(worker.post_reload(None).await.status(), 401);
    assert_eq!(
        worker
            .post_reload(Some("wrong-token-0123456789"))
            .await
            .status(),
        401
    );
    assert_eq!(
        worker.config_info().await,
        [v1.as_str()],
        "401 reloads nothing"
    );
    let res = worker.post_reload(Some(ADMIN_TOKEN)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["sha256"], v2.as_str(), "{body}");
    assert_eq!(body["previous_sha256"], v1.as_str(), "{body}");
    assert_eq!(body["shops_changed"], serde_json::json!([SHOP]), "{body}");
    assert_eq!(
        body["restart_required"],
        serde_json::json!(["amqp.partitions"]),
        "{body}"
    );
    let warned = worker
        .log(|l| message(l).starts_with("config reload: these keys changed"))
        .await;
    assert!(
        warned["keys"]
            .as_str()
            .unwrap_or("")
            .contains("amqp.partitions"),
        "{warned}"
    );
    assert_eq!(worker.config_info().await, [v2.as_str()]);

    // The new rule is in force and the partitions are not: the worker still consumes the 4
    // the receiver publishes to, and fulfils the order.
    setup.deliver(1).await;
    let d = eventually(WAIT, "order 1 fulfilled by the new rule", || async {
        let d = setup.decision(1).await;
        (fulfilments(&d) > 0).then_some(d)
    })
    .await;
    assert!(
        rules_of(&d).contains(&"digital goods ship".to_owned()),
        "{d}"
    );

    // A wrong value: 422 naming the key; the running version stays.
    let bad = config_text(
        &setup.receiver.prefix,
        &setup.sandbox.base_url(),
        V2_DIGITAL,
        8,
        "",
    )
    .replacen("default = \"manual\"", "default = \"sometimes\"", 1);
    setup.write_text(&bad);
    let res = worker.post_reload(Some(ADMIN_TOKEN)).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["sha256"], v2.as_str(), "{body}");
    let keys: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["key"].as_str())
        .collect();
    assert_eq!(keys, ["fulfilment.default"], "{body}");
    assert_eq!(worker.config_info().await, [v2.as_str()], "nothing changed");

    worker.stop().await;
    setup.stop().await;
}
