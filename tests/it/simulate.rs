//! `orderflow simulate` against the sandbox shop's fixture orders: a candidate that makes one
//! vendor's lines manual and gives another vendor a longer lead time reports exactly the
//! orders those two rules touch, worked out here from the fixture files themselves, not by the
//! code under test; nothing is sent but queries and the bucket is never exhausted. A candidate
//! equal to today's rules (as a rules file, or as a whole config) changes nothing; a candidate
//! with a mistake is refused with the words `check` uses. The JSON and CSV shapes are checked.

use std::path::{Path, PathBuf};

use orderflow::sandbox::{BucketConfig, Sandbox, SandboxConfig};
use secrecy::SecretString;
use serde_json::Value;

use crate::harness;
use crate::shopify::SHOP;

const SINCE: &str = "2026-11-20T00:00:00Z";
const UNTIL: &str = "2026-11-30T00:00:00Z";

/// Points in the first run's bucket, less than reading every fixture order costs.
const SMALL_BUCKET: f64 = 1000.0;

const TODAY: &str = "[fulfilment]\ndefault = \"auto\"\n";

const CANDIDATE: &str = r#"
[fulfilment]
default = "auto"

[[fulfilment.rule]]
name = "goods by hand"
when.vendor = "Acme Goods"
action = "manual"

[[processing.rule]]
name = "pottery takes a week"
when.vendor = "Studio Klei"
days = 5
"#;

/// The folder with today's config (the shop's rules in `rules/today.toml`) and candidates.
fn setup(sandbox: &Sandbox) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("rules")).expect("rules dir");
    std::fs::write(dir.path().join("rules/today.toml"), TODAY).expect("today");
    std::fs::write(dir.path().join("rules/candidate.toml"), CANDIDATE).expect("candidate");
    std::fs::write(dir.path().join("rules/same.toml"), TODAY).expect("same");
    std::fs::write(
        dir.path().join("rules/bad.toml"),
        "[fulfilment]\ndefault = \"sometimes\"\n[processing]\ncutof = \"14:00\"\n",
    )
    .expect("bad");
    let config = write_config(dir.path(), "orderflow.toml", "rules/today.toml", sandbox);
    (dir, config)
}

fn write_config(dir: &Path, name: &str, rules: &str, sandbox: &Sandbox) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            r#"
[amqp]
url = "{url}"
prefix = "simulate-test"
[shopify]
client_secrets = ["{secret}"]
[[shops]]
domain = "{SHOP}"
access_token = "{token}"
timezone = "Europe/Amsterdam"
admin_api_url = "{admin}"
rules = "{rules}"
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

async fn orderflow(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .current_dir(dir)
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

async fn simulate(dir: &Path, candidate: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "simulate",
        "--config",
        "orderflow.toml",
        "--rules",
        candidate,
        "--shop",
        SHOP,
        "--since",
        SINCE,
        "--until",
        UNTIL,
    ];
    args.extend_from_slice(extra);
    orderflow(dir, &args).await
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

/// What the candidate must change, read from the fixture files: the orders placed in the
/// window, and of those that orderflow plans (not cancelled, closed or test), the ones with an
/// Acme Goods line still to fulfil (made manual) and the ones with a Studio Klei line (a
/// five-day lead time where today's is zero moves the ship-by later).
struct Expected {
    read: Vec<String>,
    to_manual: Vec<String>,
    later: Vec<String>,
}

fn expected() -> Expected {
    let since: jiff::Timestamp = SINCE.parse().expect("since");
    let until: jiff::Timestamp = UNTIL.parse().expect("until");
    let mut e = Expected {
        read: vec![],
        to_manual: vec![],
        later: vec![],
    };
    let mut files: Vec<_> = std::fs::read_dir(crate::shopify::fixtures_dir())
        .expect("fixtures")
        .map(|f| f.expect("entry").path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && !p.to_string_lossy().ends_with(".webhook.json")
        })
        .collect();
    files.sort();
    for f in files {
        let o: Value = serde_json::from_str(&std::fs::read_to_string(&f).expect("read"))
            .expect("fixture json");
        if o["shop"] != SHOP {
            continue;
        }
        let created: jiff::Timestamp = o["createdAt"]
            .as_str()
            .expect("createdAt")
            .parse()
            .expect("t");
        if created < since || created > until {
            continue;
        }
        let name = o["name"].as_str().expect("name").to_owned();
        e.read.push(name.clone());
        let planned = o["cancelledAt"].is_null() && o["closed"] == false && o["test"] == false;
        if !planned {
            continue;
        }
        let vendor_of = |line_id: &Value| {
            o["lineItems"]
                .as_array()
                .expect("lines")
                .iter()
                .find(|l| &l["id"] == line_id)
                .map(|l| l["vendor"].clone())
        };
        let goods_left = o["fulfillmentOrders"]
            .as_array()
            .expect("fos")
            .iter()
            .flat_map(|fo| fo["lineItems"].as_array().expect("fo lines").iter())
            .any(|l| {
                l["remainingQuantity"].as_u64().expect("remaining") > 0
                    && vendor_of(&l["lineItem"]["id"]) == Some(Value::from("Acme Goods"))
            });
        if goods_left {
            e.to_manual.push(name.clone());
        }
        let pottery = o["lineItems"]
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l["vendor"] == "Studio Klei");
        if pottery {
            e.later.push(name);
        }
    }
    e
}

/// A bucket that refills at once, for the runs that are not about the bucket: each run reads
/// every fixture order again, more than one standard bucket, and would wait for it to refill.
fn fast_bucket(sandbox: &Sandbox) {
    sandbox.set_bucket(BucketConfig {
        maximum_available: 20_000.0,
        restore_rate: 20_000.0,
    });
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

#[tokio::test]
async fn simulate_reports_exactly_the_orders_a_rule_change_affects_and_sends_no_mutation() {
    let sandbox = sandbox_with_fixtures().await;
    // A bucket smaller than the run's cost, refilling fast: the run must wait for room.
    sandbox.set_bucket(BucketConfig {
        maximum_available: SMALL_BUCKET,
        restore_rate: 500.0,
    });
    let (dir, _config) = setup(&sandbox);
    let want = expected();
    assert!(
        want.to_manual.len() >= 3 && want.later.len() == 1,
        "the fixtures exercise both rules: {:?} {:?}",
        want.to_manual,
        want.later
    );
    let changed = sorted([want.to_manual.clone(), want.later.clone()].concat());

    let (code, out, err) = simulate(
        dir.path(),
        "rules/candidate.toml",
        &["--json", "--csv", "changed.csv"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let objects: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let (summary, orders) = objects.split_last().expect("a summary");
    assert!(summary.get("order_id").is_none(), "the summary comes last");
    // Every order read is listed once, with the documented keys.
    let names: Vec<String> = orders
        .iter()
        .map(|o| o["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(sorted(names.clone()), sorted(want.read.clone()));
    assert_eq!(names.len(), want.read.len(), "each order once");
    for o in orders {
        for key in [
            "order_id", "name", "at", "changed", "lines", "holds", "ship_by",
        ] {
            assert!(o.get(key).is_some(), "`{key}` in {o}");
        }
    }
    let named = |pred: &dyn Fn(&Value) -> bool| {
        sorted(
            orders
                .iter()
                .filter(|o| pred(o))
                .map(|o| o["name"].as_str().expect("name").to_owned())
                .collect(),
        )
    };
    assert_eq!(
        named(&|o| o["changed"] == true),
        changed,
        "exactly these, no other"
    );
    assert_eq!(
        named(&|o| !o["lines"].as_array().expect("lines").is_empty()),
        sorted(want.to_manual.clone())
    );
    assert_eq!(
        named(&|o| !o["ship_by"].is_null()),
        sorted(want.later.clone())
    );
    assert_eq!(
        named(&|o| !o["holds"].as_array().expect("holds").is_empty()),
        Vec::<String>::new()
    );
    for o in orders.iter().filter(|o| o["changed"] == true) {
        for l in o["lines"].as_array().expect("lines") {
            assert_eq!(l["from"], "auto", "{l}");
            assert_eq!(l["to"], "manual", "{l}");
            assert_eq!(l["current_rule"], "fulfilment.default");
            assert_eq!(l["candidate_rule"], "goods by hand");
        }
        if !o["ship_by"].is_null() {
            let s = &o["ship_by"];
            assert_eq!(s["current_rule"], "processing.default_days");
            assert_eq!(s["candidate_rule"], "pottery takes a week");
            assert!(s["to"].as_str() > s["from"].as_str(), "later: {s}");
        }
    }
    assert_eq!(summary["orders_read"], want.read.len());
    assert_eq!(summary["orders_changed"], changed.len());
    let kinds = &summary["changed_by_kind"];
    assert_eq!(kinds["lines_to_manual"], want.to_manual.len());
    assert_eq!(kinds["ship_by_later"], want.later.len());
    for k in [
        "lines_to_auto",
        "holds_placed",
        "holds_released",
        "ship_by_earlier",
        "skipped",
    ] {
        assert_eq!(kinds[k], 0, "{k}");
    }

    let csv = std::fs::read_to_string(dir.path().join("changed.csv")).expect("csv written");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(
        rows[0],
        "name,id,at,lines_to_manual,lines_to_auto,holds_placed,holds_released,ship_by_from,ship_by_to,current_rules,candidate_rules"
    );
    assert_eq!(
        rows.len(),
        1 + changed.len(),
        "a header and one row per changed order"
    );
    let pottery = rows
        .iter()
        .find(|r| r.starts_with(&format!("{},", want.later[0])))
        .expect("the pottery order's row");
    assert!(
        pottery.ends_with(",processing.default_days,pottery takes a week"),
        "{pottery}"
    );

    // Read-only, and never over the bucket although the run costs more than a full one: the
    // client waited for room instead.
    assert!(sandbox.mutations().is_empty(), "{:?}", sandbox.mutations());
    assert_eq!(sandbox.throttled_count(), 0, "no THROTTLED answer");
    assert!(
        sandbox.actual_cost_total() as f64 > SMALL_BUCKET,
        "{} points: more than one bucket",
        sandbox.actual_cost_total()
    );
    assert!(!sandbox.queries().is_empty(), "it did read");
    fast_bucket(&sandbox);

    // The sentences name the changed orders and no other.
    let (code, text, err) = simulate(dir.path(), "rules/candidate.toml", &[]).await;
    assert_eq!(code, 0, "{err}");
    let headed: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| l.split(' ').next().expect("name").to_owned())
        .collect();
    assert_eq!(sorted(headed), changed, "{text}");
    assert!(text.contains("goods by hand"), "{text}");
    assert!(
        text.contains(&format!("orders read        {}", want.read.len())),
        "{text}"
    );
    assert!(sandbox.mutations().is_empty());
}

#[tokio::test]
async fn a_candidate_equal_to_today_changes_nothing_and_a_broken_one_is_refused_as_check_does() {
    let sandbox = sandbox_with_fixtures().await;
    fast_bucket(&sandbox);
    let (dir, config) = setup(&sandbox);

    // The same rules as a rules file, and today's whole config as the candidate.
    for candidate in ["rules/same.toml", "orderflow.toml"] {
        let (code, out, err) = simulate(dir.path(), candidate, &["--at", "now"]).await;
        assert_eq!(code, 0, "{candidate}: {err}");
        assert!(out.contains("orders changed     0"), "{candidate}: {out}");
        assert!(
            !out.lines().any(|l| l.starts_with('#')),
            "{candidate}: {out}"
        );
    }

    let (code, out, err) = simulate(dir.path(), "rules/bad.toml", &[]).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.is_empty(), "nothing simulated: {out}");
    let broken = write_config(dir.path(), "broken.toml", "rules/bad.toml", &sandbox);
    let (check_code, _, check_err) = orderflow(
        dir.path(),
        &["check", "--config", broken.to_str().expect("utf-8")],
    )
    .await;
    assert_eq!(check_code, 1);
    let issues = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("  - "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(issues(&err).len(), 2, "{err}");
    assert_eq!(
        issues(&err),
        issues(&check_err),
        "simulate:\n{err}\ncheck:\n{check_err}"
    );
    assert!(err.contains("rules/bad.toml:fulfilment.default"), "{err}");
    assert!(config.exists());
    assert!(sandbox.mutations().is_empty());
}
