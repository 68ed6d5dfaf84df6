//! `orderflow pause` / `resume`: through the control stream, every worker process parks a
//! paused shop's messages (none acted on, none lost) while other shops' are processed; a
//! worker that starts while the shop is paused reads the log before it acts; after `resume`
//! the parked messages converge, each action once. And the commands' own answers.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use orderflow::app::Roles;
use orderflow::clock::{Clock, SystemClock};
use orderflow::config::{Config, Env};
use orderflow::event::control::ControlEvent;
use orderflow::id::ShopDomain;
use orderflow::sandbox::{BucketConfig, Sandbox, SandboxConfig};
use secrecy::SecretString;
use tokio::process::{Child, Command};

use crate::harness::e2e::{Shop, rules_toml};
use crate::harness::{self, Options, SECRET_NEW, SHOP, TOKEN, TestApp, eventually, signature};

/// The second shop: never paused, its orders are the baseline.
const OTHER: &str = "beta.myshopify.com";
/// Fixtures whose plans need mutations (fulfil, hold, tags, the decision).
const FIXTURES: &[&str] = &["digital", "mixed", "high-risk"];

fn shop_toml(domain: &str, admin: &str) -> String {
    format!(
        "[[shops]]\ndomain = \"{domain}\"\naccess_token = \"{TOKEN}\"\n\
         timezone = \"Europe/Amsterdam\"\nadmin_api_url = \"{admin}\"\n"
    )
}

/// A worker's config: both shops on the sandbox, the example config's rules, its own port.
fn worker_config(prefix: &str, admin: &str, port: u16) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n\
         [amqp]\nurl = \"{url}\"\nprefix = \"{prefix}\"\npartitions = 4\n\
         [shopify]\nclient_secrets = [\"{SECRET_NEW}\"]\n\
         [sweep]\nevery = \"off\"\n\
         {a}\n{rules}\n\n{b}",
        url = harness::AMQP_URL,
        a = shop_toml(SHOP, admin),
        rules = rules_toml(5),
        b = shop_toml(OTHER, admin),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn start_worker(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("work")
        .arg("--config")
        .arg(config)
        .env_remove("ORDERFLOW_CONFIG")
        .env("ORDERFLOW_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the orderflow binary starts")
}

async fn stop_gracefully(mut child: Child) {
    if let Some(pid) = child.id() {
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

/// Runs `orderflow <args> --config <config>`: exit code, stdout, stderr.
async fn cli(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("ORDERFLOW_CONFIG")
        .env("ORDERFLOW_LOG", "error")
        .output()
        .await
        .expect("the orderflow binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One worker's `/metrics`, or `None` while it is not listening yet.
async fn metrics(http: &reqwest::Client, port: u16) -> Option<String> {
    let res = http
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .ok()?;
    res.text().await.ok()
}

fn value(metrics: &str, line_start: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

fn paused_gauge(shop: &str) -> String {
    format!("orderflow_shop_paused{{shop=\"{shop}\"}} ")
}

const PARKED: &str = "orderflow_messages_total{disposition=\"paused\"} ";

/// Waits until the worker on `port` reports `gauge` at `want`.
async fn wait_gauge(http: &reqwest::Client, port: u16, gauge: &str, want: f64) {
    eventually(
        Duration::from_secs(20),
        &format!("{gauge}{want} on the worker at :{port}"),
        || async {
            let text = metrics(http, port).await?;
            (value(&text, gauge) == Some(want)).then_some(())
        },
    )
    .await;
}

/// The orders whose plan (with the workers' rules, now) still has something to change.
fn unconverged(sandbox: &Sandbox, shop: &ShopDomain, config: &Config, gids: &[String]) -> usize {
    let rules = &config.shop(shop).expect("the shop is configured").rules;
    let now = SystemClock.now();
    gids.iter()
        .filter(|gid| {
            let snapshot = sandbox.order(shop, gid).expect("the order exists");
            !orderflow::rules::plan(&snapshot.to_rules_order(), rules, now).is_empty()
        })
        .count()
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

/// Appends `n` entries that change nothing to the prefix's control log, so a worker that
/// starts takes a while to read it: long enough that consuming before the log is read would
/// act on the paused shop's waiting messages.
async fn lengthen_log(prefix: &str, n: usize) {
    use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
    let conn = harness::broker::connect_to(harness::AMQP_URL).await;
    let ch = conn.create_channel().await.expect("channel");
    ch.confirm_select(ConfirmSelectOptions::default())
        .await
        .expect("confirm mode");
    let stream = orderflow::queue::Names::new(prefix).control_stream();
    let bodies: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            ControlEvent::Mark {
                id: format!("filler-{i}"),
            }
            .encode()
        })
        .collect();
    // All at once: lapin keeps them in order on the channel, the confirms come back together.
    let publishes = bodies.iter().map(|body| {
        ch.basic_publish(
            "".into(),
            stream.as_str().into(),
            BasicPublishOptions::default(),
            body,
            lapin::BasicProperties::default(),
        )
    });
    let confirms = futures_util::future::join_all(publishes).await;
    for c in confirms {
        let confirmed = c.expect("published").await.expect("confirmed");
        assert!(confirmed.is_ack(), "the broker took it");
    }
    let _ = conn.close(200, "log lengthened".into()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_shop_waits_across_two_workers_and_a_restart_then_converges_once() {
    let sandbox = Sandbox::start(SandboxConfig {
        bucket: BucketConfig {
            maximum_available: 1_000_000.0,
            restore_rate: 1_000_000.0,
        },
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let paused_shop = ShopDomain::parse(SHOP).expect("shop");
    let other_shop = ShopDomain::parse(OTHER).expect("shop");
    let mut gids: Vec<(ShopDomain, Vec<String>)> = Vec::new();
    for (k, shop) in [&paused_shop, &other_shop].into_iter().enumerate() {
        sandbox.add_shop(shop.clone(), SecretString::from(TOKEN.to_owned()));
        let mut ids = Vec::new();
        for (i, fixture) in FIXTURES.iter().enumerate() {
            let mut order = Shop::fixture_clone(fixture, (k * 10 + i + 1) as u64);
            order.name = format!("#P{k}{i} {fixture}");
            ids.push(order.id.clone());
            sandbox.insert_order(shop, order);
        }
        gids.push((shop.clone(), ids));
    }

    let receiver = TestApp::spawn_with(
        "pause",
        Options {
            roles: Some(Roles::RECEIVE),
            extra_toml: shop_toml(OTHER, &sandbox.base_url()),
            ..Default::default()
        },
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ports = [free_port(), free_port()];
    let configs: Vec<_> = ports
        .iter()
        .enumerate()
        .map(|(i, port)| {
            let path = dir.path().join(format!("worker-{i}.toml"));
            let text = worker_config(&receiver.prefix, &sandbox.base_url(), *port);
            std::fs::write(&path, &text).expect("config written");
            path
        })
        .collect();
    let config_text = std::fs::read_to_string(&configs[0]).expect("config");
    let config = Config::from_toml(&config_text, &configs[0], &Env::default()).expect("valid");
    let http = reqwest::Client::new();
    let gauge = paused_gauge(SHOP);

    // A running worker obeys a pause live; one started after it reads the log at start.
    let mut first = start_worker(&configs[0]);
    eventually(Duration::from_secs(20), "the first worker serves", || {
        metrics(&http, ports[0])
    })
    .await;
    let (code, out, err) = cli(
        &configs[0],
        &["pause", "--shop", SHOP, "--reason", "carrier outage"],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("paused"), "{out}");
    wait_gauge(&http, ports[0], &gauge, 1.0).await;
    let mut second = start_worker(&configs[1]);
    wait_gauge(&http, ports[1], &gauge, 1.0).await;

    let deliver = |shop: &str, gid: &str, webhook_id: String| {
        let id = gid.rsplit_once('/').expect("a gid").1;
        let body = format!(r#"{{"id":{id},"admin_graphql_api_id":"{gid}"}}"#).into_bytes();
        let sig = signature(&body, SECRET_NEW);
        let shop = shop.to_owned();
        receiver
            .delivery_with("orders/create", &webhook_id, &body, move |h| {
                for (k, v) in h.iter_mut() {
                    match *k {
                        "X-Shopify-Hmac-Sha256" => *v = sig.clone(),
                        "X-Shopify-Shop-Domain" => *v = shop.clone(),
                        _ => {}
                    }
                }
            })
            .send()
    };
    for (shop, ids) in &gids {
        for (i, gid) in ids.iter().enumerate() {
            let res = deliver(shop.as_str(), gid, format!("pause-{shop}-{i}"))
                .await
                .expect("the receiver answers");
            // Webhooks of a paused shop are accepted as ever.
            assert_eq!(res.status(), 200, "{shop} {gid}");
        }
    }
    let of = |shop: &ShopDomain| {
        sandbox
            .mutations()
            .into_iter()
            .filter(|m| &m.shop == shop)
            .count()
    };

    // The other shop converges while the paused one's messages are parked, untouched.
    eventually(
        Duration::from_secs(30),
        "the other shop's orders converged",
        || async { (unconverged(&sandbox, &other_shop, &config, &gids[1].1) == 0).then_some(()) },
    )
    .await;
    eventually(
        Duration::from_secs(20),
        "each of the paused shop's messages parked",
        || async {
            let mut parked = 0.0;
            for port in ports {
                parked += value(&metrics(&http, port).await?, PARKED).unwrap_or(0.0);
            }
            (parked >= FIXTURES.len() as f64).then_some(())
        },
    )
    .await;
    assert_eq!(of(&paused_shop), 0, "nothing sent for the paused shop");
    assert!(of(&other_shop) > 0, "the other shop's orders needed work");

    // Both workers restart while the shop is paused: the new one reads the log before acting.
    stop_gracefully(first).await;
    stop_gracefully(second).await;
    lengthen_log(&receiver.prefix, 20_000).await;
    first = start_worker(&configs[0]);
    eventually(
        Duration::from_secs(20),
        "the restarted worker parks the paused shop's messages",
        || async {
            assert_eq!(
                of(&paused_shop),
                0,
                "the restarted worker acted before it read the control log"
            );
            let text = metrics(&http, ports[0]).await?;
            (value(&text, PARKED).unwrap_or(0.0) >= FIXTURES.len() as f64).then_some(())
        },
    )
    .await;
    assert_eq!(
        of(&paused_shop),
        0,
        "nothing sent for the paused shop after the restart"
    );
    second = start_worker(&configs[1]);
    wait_gauge(&http, ports[1], &gauge, 1.0).await;

    let (code, out, err) = cli(&configs[1], &["resume", "--shop", SHOP]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("resumed"), "{out}");
    eventually(
        Duration::from_secs(30),
        "the paused shop's orders converged after resume",
        || async { (unconverged(&sandbox, &paused_shop, &config, &gids[0].1) == 0).then_some(()) },
    )
    .await;
    for port in ports {
        wait_gauge(&http, port, &gauge, 0.0).await;
    }
    eventually(Duration::from_secs(20), "the queues drained", || async {
        (ready_messages(&receiver.prefix).await == 0).then_some(())
    })
    .await;

    // Nothing twice: the paused shop's orders took exactly the actions the same orders of the
    // other shop took, and no action of the whole log is repeated; nothing dead-lettered.
    assert_eq!(of(&paused_shop), of(&other_shop), "the same work, once");
    let twice = crate::faults::kills::duplicates(&sandbox.mutations());
    assert!(twice.is_empty(), "actions done twice: {twice:?}");
    let dead = orderflow::queue::Names::new(&receiver.prefix).dead_queue();
    let admin = orderflow::queue::Admin::connect(&harness::AMQP_URL.to_owned().into())
        .await
        .expect("the test broker");
    assert_eq!(admin.ready(&dead).await.expect("dead queue"), 0);
    let _ = admin.close("counted").await;
    for port in ports {
        let text = metrics(&http, port).await.expect("metrics");
        assert_eq!(
            value(
                &text,
                "orderflow_messages_total{disposition=\"dead_letter\"} "
            ),
            None,
            "{text}"
        );
    }

    stop_gracefully(first).await;
    stop_gracefully(second).await;
    receiver.stop().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn pause_lists_updates_a_reason_resumes_and_refuses_an_unknown_shop() {
    let prefix = harness::unique_prefix("pausecli");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("orderflow.toml");
    let admin = "http://127.0.0.1:9/admin";
    std::fs::write(&config, worker_config(&prefix, admin, 0)).expect("config written");

    let (code, out, _) = cli(&config, &["pause", "--list"]).await;
    assert_eq!((code, out.as_str()), (0, "no shop is paused\n"));

    let (code, out, err) = cli(
        &config,
        &["pause", "--shop", SHOP, "--reason", "carrier outage"],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.starts_with(&format!("{SHOP}: paused (reason: carrier outage)")),
        "{out}"
    );
    let (_, first_list, _) = cli(&config, &["pause", "--list"]).await;

    let (code, out, _) = cli(
        &config,
        &["pause", "--shop", SHOP, "--reason", "still down"],
    )
    .await;
    assert_eq!(code, 0);
    assert!(out.contains("already paused since"), "{out}");
    assert!(out.contains("reason updated to \"still down\""), "{out}");

    let (code, list, _) = cli(&config, &["pause", "--list"]).await;
    assert_eq!(code, 0);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one shop: {list}");
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells[0], SHOP, "{list}");
    let since: jiff::Timestamp = cells[1].parse().expect("since is RFC 3339");
    assert!(lines[1].ends_with("still down"), "{list}");
    // Since stays the first pause's.
    assert!(
        first_list.contains(&since.to_string()),
        "{first_list} / {list}"
    );

    let (code, out, _) = cli(&config, &["resume", "--shop", OTHER]).await;
    assert_eq!(code, 0, "resuming a shop not paused is not an error");
    assert_eq!(out, format!("{OTHER}: not paused: nothing to do\n"));

    let (code, _, err) = cli(&config, &["pause", "--shop", "nope.myshopify.com"]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("configured shops are {SHOP}, {OTHER}")),
        "{err}"
    );

    let (code, out, _) = cli(&config, &["resume", "--shop", SHOP]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with(&format!("{SHOP}: resumed")), "{out}");
    let (_, out, _) = cli(&config, &["pause", "--list"]).await;
    assert_eq!(out, "no shop is paused\n");

    harness::broker::delete_prefix(&prefix, 4).await;
}
