//! The ops page on the admin listener, in a real headless browser (Debian's Chromium): loaded
//! while the pipeline runs against the sandbox, every figure it shows matches `/metrics`, its
//! decisions list the orders the workers planned, and a screenshot is taken. The admin token
//! keeps everyone else out, and never shows.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::harness::e2e::{E2eOptions, Shop};
use crate::harness::{Options, TestApp};

const FIXTURES: &[&str] = &["digital", "handmade", "high-risk", "mixed"];

/// Runs headless Chromium with `args` and the URL; its stdout.
async fn chromium(args: &[&str], url: &str, profile: &Path) -> String {
    let out = tokio::time::timeout(
        Duration::from_secs(90),
        tokio::process::Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(url)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("chromium answers within 90 s")
    .expect("chromium runs (scripts/services installs Debian's chromium)");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(unescape(&tag[start..start + len]))
}

/// A figure the page shows: the metric, its label filter, the number, the text shown.
#[derive(Debug)]
struct Figure {
    metric: String,
    labels: BTreeMap<String, String>,
    value: f64,
    text: String,
}

fn figures(dom: &str) -> Vec<Figure> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(at) = rest.find(" data-metric=\"") {
        let open = rest[..at].rfind('<').expect("inside a tag");
        let close = at + rest[at..].find('>').expect("tag ends");
        let tag = &rest[open..close];
        let text_end = rest[close + 1..]
            .find('<')
            .map_or(rest.len(), |e| close + 1 + e);
        out.push(Figure {
            metric: attr(tag, "data-metric").expect("data-metric"),
            labels: serde_json::from_str(&attr(tag, "data-labels").expect("data-labels"))
                .expect("labels are JSON"),
            value: attr(tag, "data-value")
                .expect("data-value")
                .parse()
                .expect("a number"),
            text: unescape(&rest[close + 1..text_end]),
        });
        rest = &rest[close..];
    }
    out
}

/// `/metrics` read independently of the page's own parser: name, labels, value per line.
fn metric_sum(text: &str, name: &str, with: &BTreeMap<String, String>) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (n, labels) = match series.split_once('{') {
                Some((n, l)) => (n, l.trim_end_matches('}')),
                None => (series, ""),
            };
            if n != name {
                return None;
            }
            let have: BTreeMap<&str, &str> = labels
                .split("\",")
                .filter(|p| !p.is_empty())
                .filter_map(|p| {
                    let (k, v) = p.split_once("=\"")?;
                    Some((k, v.trim_end_matches('"')))
                })
                .collect();
            with.iter()
                .all(|(k, v)| have.get(k.as_str()) == Some(&v.as_str()))
                .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

#[tokio::test]
async fn the_ops_page_in_a_browser_shows_the_figures_of_metrics_and_the_last_decisions() {
    let shop = Shop::start_with(
        "admin-page",
        E2eOptions {
            extra_toml: "[admin]\nlisten = \"127.0.0.1:0\"\n".into(),
            ..Default::default()
        },
    )
    .await;
    let admin = shop
        .app
        .admin_addr
        .expect("[admin] gives an admin listener");
    let url = format!("http://{admin}/");
    let profile = tempfile::tempdir().unwrap();

    for f in FIXTURES {
        shop.send(f, "orders/create", &format!("wh-admin-{f}"))
            .await;
    }
    // A delivery with a wrong signature: a 401 the page counts.
    let refused = shop
        .app
        .delivery_with("orders/create", "wh-admin-bad", b"{\"id\":1}", |h| {
            for (k, v) in h.iter_mut() {
                if *k == "X-Shopify-Hmac-Sha256" {
                    *v = "bm90IHRoZSBzaWduYXR1cmU=".to_owned();
                }
            }
        })
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // While the workers run, the page loads.
    let during = chromium(&["--dump-dom"], &url, profile.path()).await;
    assert!(during.contains("orderflow ops"), "{during}");

    shop.wait_settled(FIXTURES.len() as u64).await;
    let metrics_url = format!("http://{}/metrics", shop.app.addr);
    // /metrics just before and just after the page was rendered: each figure the page shows
    // lies between the two (counters only grow; the gauges here move one way at a time).
    let scrape = || async {
        shop.app
            .http
            .get(&metrics_url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    let before = scrape().await;
    let dom = chromium(&["--dump-dom"], &url, profile.path()).await;
    let metrics = scrape().await;
    let shown = figures(&dom);
    assert!(shown.len() >= 12, "figures on the page: {shown:#?}");
    for f in &shown {
        let a = metric_sum(&before, &f.metric, &f.labels);
        let b = metric_sum(&metrics, &f.metric, &f.labels);
        assert!(
            f.value >= a.min(b) - 1e-3 && f.value <= a.max(b) + 1e-3,
            "{} {:?}: page {} vs /metrics {a} before and {b} after",
            f.metric,
            f.labels,
            f.value
        );
        if f.metric != "orderflow_broker_connected" && !f.metric.ends_with("_timestamp_seconds") {
            assert_eq!(f.text.parse::<f64>().ok(), Some(f.value), "{f:?}");
        }
    }
    let find = |metric: &str, labels: &[(&str, &str)]| {
        shown
            .iter()
            .find(|f| {
                f.metric == metric
                    && f.labels.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| f.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .unwrap_or_else(|| panic!("{metric} {labels:?} on the page"))
            .value
    };
    assert_eq!(find("orderflow_broker_connected", &[]), 1.0);
    assert_eq!(find("orderflow_hmac_failures_total", &[]), 1.0);
    assert_eq!(
        find("orderflow_webhooks_total", &[("outcome", "published")]),
        FIXTURES.len() as f64
    );
    assert!(find("orderflow_actions_total", &[("kind", "hold")]) >= 1.0);
    let lag = find(
        "orderflow_shop_event_lag_seconds",
        &[("shop", "acme.myshopify.com")],
    );
    assert!(lag >= 0.0);
    // The high-risk order's fraud hold and the handmade order's processing hold, as the
    // workers counted them.
    let shop_labels = |reason| [("shop", "acme.myshopify.com"), ("reason", reason)];
    assert_eq!(
        find("orderflow_holds_outstanding", &shop_labels("fraud")),
        1.0
    );
    assert!(find("orderflow_holds_outstanding", &shop_labels("processing")) >= 1.0);
    assert!(
        find(
            "orderflow_shopify_points_maximum",
            &[("shop", "acme.myshopify.com")]
        ) > 0.0
    );

    // The decisions: one row per planned order, each named by its id.
    let rows = dom.matches("class=\"decision\"").count();
    assert!(
        (FIXTURES.len()..=50).contains(&rows),
        "{rows} decision rows"
    );
    for f in FIXTURES {
        let gid = Shop::fixture(f).id;
        let id = gid.rsplit('/').next().expect("a GID").to_owned();
        assert!(
            dom.contains(&format!("data-order-id=\"{id}\"")),
            "the decision for {f} ({id})"
        );
    }
    // The queues as the broker counts them: nothing dead-lettered, a consumer on each partition.
    assert!(dom.contains("id=\"dead-letters\" class=\"ok\">0<"), "{dom}");
    assert!(dom.contains(&format!("{}.orders.0", shop.app.prefix)));

    let png = profile.path().join("ops-page.png");
    chromium(
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2200",
        ],
        &url,
        profile.path(),
    )
    .await;
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        bytes.len() > 10_000,
        "a page, not a blank: {} bytes",
        bytes.len()
    );
    shop.stop().await;
}

#[tokio::test]
async fn with_a_token_every_admin_route_answers_401_without_it_and_the_token_never_shows() {
    const ADMIN_TOKEN: &str = "ops-page-token-0123456789";
    let app = TestApp::spawn_with(
        "admin-token",
        Options {
            extra_toml: format!("[admin]\nlisten = \"127.0.0.1:0\"\ntoken = \"{ADMIN_TOKEN}\"\n"),
            ..Default::default()
        },
    )
    .await;
    let url = format!("http://{}/", app.admin_addr.expect("admin listener"));
    for auth in [
        None,
        Some("Bearer wrong-token-0123456789"),
        Some(ADMIN_TOKEN),
    ] {
        let mut req = app.http.get(&url);
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        assert_eq!(
            res.headers().get("www-authenticate").unwrap(),
            "Bearer",
            "{auth:?}"
        );
    }
    let res = app
        .http
        .get(&url)
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("orderflow ops"), "{page}");
    assert!(!page.contains(ADMIN_TOKEN));
    // The receiver's port does not serve the page.
    let public = app
        .http
        .get(format!("http://{}/", app.addr))
        .header("Authorization", format!("Bearer {ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    app.stop().await;
}

#[test]
fn check_shows_the_admin_section_with_the_token_redacted() {
    const ADMIN_TOKEN: &str = "never-printed-admin-token-42";
    let dir = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
    )
    .unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        format!("{example}\n[admin]\nlisten = \"0.0.0.0:8081\"\ntoken = \"{ADMIN_TOKEN}\"\n"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("check")
        .arg("--config")
        .arg(&file)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("[admin]\nlisten = \"0.0.0.0:8081\"\ntoken = "),
        "{said}"
    );
    assert!(!said.contains(ADMIN_TOKEN), "{said}");
}
