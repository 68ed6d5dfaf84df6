//! Issue 9's "Done when", as one test: a public app pointed at orderflow (oauth mode, a token
//! store database of the test's own, NO `[[shops]]` entry) is installed on the sandbox shop by
//! following the redirects exactly as they are given (the state cookie carried as a browser
//! would); the shop's fixture orders are reconciled with the global rules; the access token
//! expires and is refreshed by itself, once; `app/uninstalled` deletes the tokens and the
//! shop's later orders dead-letter as `unauthorized` without a Shopify call, also after a
//! restart on the same store. No token or secret reaches a log line.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use jiff::SignedDuration;
use secrecy::{ExposeSecret, SecretString};

use orderflow::app::{App, AppError, Roles};
use orderflow::auth::query_hmac;
use orderflow::clock::{Clock as _, ManualClock};
use orderflow::config::{Config, DEFAULT_SCOPES, Env};
use orderflow::id::ShopDomain;
use orderflow::queue::Names;
use orderflow::rules;
use orderflow::sandbox::{Grant, Sandbox, SandboxApp, SandboxConfig, TokenOutcome};
use orderflow::store::{Store, StoredShop};
use tokio_util::sync::CancellationToken;

use crate::harness::broker::{Got, delete_prefix, drain};
use crate::harness::db::{KEY, TestDb};
use crate::harness::e2e::{Shop as E2e, rules_toml, start_instant};
use crate::harness::{self, eventually, logs, signature};

const SHOP: &str = "acme.myshopify.com";
const CLIENT_ID: &str = "app-install-client-id";
/// Sentinel: must never show up in a log line.
const SECRET: &str = "shpss_SENTINEL_APP_INSTALL_SECRET_7e02";
const PARTITIONS: u16 = 2;
const DEADLINE: Duration = Duration::from_secs(30);
/// Reconciled before the token's hour runs out.
const BEFORE: &[&str] = &["digital", "handmade", "high-risk", "cancelled"];
/// Reconciled with the refreshed token.
const AFTER: &str = "mixed";

fn shop() -> ShopDomain {
    ShopDomain::parse(SHOP).unwrap()
}

/// The app's config: oauth, the store, the example's rules as the global ones, no shop.
fn config_text(listen: &str, app_url: &str, admin: &str, db: &str, prefix: &str) -> String {
    format!(
        r#"
[server]
listen = "{listen}"
[amqp]
url = "{amqp}"
prefix = "{prefix}"
partitions = {PARTITIONS}
[shopify]
client_secrets = ["{SECRET}"]
auth = "oauth"
client_id = "{CLIENT_ID}"
app_url = "{app_url}"
admin_url = "{admin}"
[store]
url = "{db}"
encryption_key = "{KEY}"
[sweep]
every = "off"
{rules}
"#,
        amqp = harness::AMQP_URL,
        rules = rules_toml(8),
    )
}

struct Running {
    addr: std::net::SocketAddr,
    shutdown: CancellationToken,
    stopped: tokio::task::JoinHandle<Result<(), AppError>>,
    metrics: Arc<orderflow::telemetry::Metrics>,
}

async fn run(text: &str, clock: &ManualClock) -> Running {
    let config = Config::from_toml(text, std::path::Path::new("app.toml"), &Env::default())
        .expect("an oauth config with no [[shops]] is valid");
    assert!(config.shops.is_empty());
    let app = App::build_with(config, Arc::new(clock.clone()), Roles::ALL)
        .await
        .expect("app builds");
    app.broker()
        .wait_connected(Duration::from_secs(10))
        .await
        .expect("the broker answers");
    let addr = app.local_addr();
    let metrics = app.metrics();
    let shutdown = CancellationToken::new();
    let stopped = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    Running {
        addr,
        shutdown,
        stopped,
        metrics,
    }
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.stopped)
            .await
            .expect("stops")
            .expect("joins")
            .expect("stops cleanly");
    }

    /// A signed webhook as Shopify sends it; what the receiver answered (always 200).
    async fn webhook(&self, http: &reqwest::Client, topic: &str, id: &str, body: &[u8]) -> String {
        let r = http
            .post(self.url("/webhooks"))
            .header("X-Shopify-Topic", topic)
            .header("X-Shopify-Shop-Domain", SHOP)
            .header("X-Shopify-Webhook-Id", id)
            .header("X-Shopify-API-Version", "2026-10")
            .header("X-Shopify-Triggered-At", "2026-11-23T09:00:00.000Z")
            .header("X-Shopify-Event-Id", format!("event-{id}"))
            .header("X-Shopify-Hmac-Sha256", signature(body, SECRET))
            .body(body.to_vec())
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(r.status(), 200, "{topic} {id}");
        r.text().await.unwrap()
    }

    async fn order_webhook(&self, http: &reqwest::Client, fixture: &str, id: &str) -> String {
        let body = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/orders")
                .join(format!("{fixture}.webhook.json")),
        )
        .unwrap();
        self.webhook(http, "orders/create", id, &body).await
    }

    /// `orderflow_messages_total` summed, and whether any was not handled on its first try.
    fn settled(&self) -> (u64, Vec<String>) {
        let text = self.metrics.encode();
        let mut n = 0;
        let mut other = Vec::new();
        for l in text.lines() {
            let Some(l) = l.strip_prefix("orderflow_messages_total{") else {
                continue;
            };
            let label = l
                .split("disposition=\"")
                .nth(1)
                .and_then(|s| s.split('"').next());
            let count: u64 = l
                .rsplit(' ')
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            n += count;
            if let Some(label) = label
                && count > 0
                && label != "done"
                && label != "done_wake_up"
            {
                other.push(label.to_owned());
            }
        }
        (n, other)
    }

    async fn wait_settled(&self, n: u64) {
        eventually(DEADLINE, &format!("{n} settled messages"), || async {
            (self.settled().0 >= n).then_some(())
        })
        .await;
    }
}

/// The mutations the sandbox logged for one fixture order.
fn mutations(sandbox: &Sandbox, fixture: &str) -> usize {
    let snap = E2e::fixture(fixture);
    let mut ids = vec![snap.id.clone()];
    ids.extend(snap.fulfillment_orders.iter().map(|f| f.id.clone()));
    sandbox
        .mutations()
        .into_iter()
        .filter(|m| {
            let vars = m.variables.to_string();
            ids.iter().any(|id| vars.contains(&format!("\"{id}\"")))
        })
        .count()
}

/// The changes the global rules plan for the fixture as loaded, in the shop's zone at the
/// tests' start: resolved as a `[[shops]]` entry with no rules of its own would resolve them.
fn planned(text: &str, fixture: &str) -> usize {
    let with_shop = format!(
        "{text}\n[[shops]]\ndomain = \"{SHOP}\"\nauth = \"static\"\naccess_token = \"x\"\ntimezone = \"Europe/Amsterdam\"\n"
    );
    let config = Config::from_toml(&with_shop, std::path::Path::new("p.toml"), &Env::default())
        .expect("valid");
    let order = E2e::fixture(fixture).to_rules_order();
    rules::plan(&order, &config.shops[0].rules, start_instant())
        .changes()
        .count()
}

/// Shopify's install request to the App URL, signed with the app's secret.
fn install_query(now: jiff::Timestamp) -> String {
    let host = base64::engine::general_purpose::STANDARD_NO_PAD.encode(format!("{SHOP}/admin"));
    let pairs = [
        ("host", host.as_str()),
        ("shop", SHOP),
        ("timestamp", &now.as_second().to_string()),
    ];
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let hmac = query_hmac::sign(&owned, &SecretString::from(SECRET));
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(pairs);
    q.append_pair("hmac", &hmac);
    q.finish()
}

fn location(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 302, "a redirect");
    r.headers()["location"].to_str().unwrap().to_owned()
}

fn tokens_of(row: &StoredShop) -> Vec<String> {
    [
        &row.access_token,
        &row.refresh_token,
        &row.previous_refresh_token,
    ]
    .into_iter()
    .flatten()
    .map(|t| t.expose_secret().to_owned())
    .collect()
}

async fn dead_letters(prefix: &str) -> Vec<Got> {
    drain(&Names::new(prefix).dead_queue()).await
}

async fn wait_dead_letter(prefix: &str, id: &str) -> Got {
    eventually(DEADLINE, &format!("the dead letter of {id}"), || async {
        dead_letters(prefix)
            .await
            .into_iter()
            .find(|g| g.header("X-Shopify-Webhook-Id") == Some(id))
    })
    .await
}

/// A free port on localhost, so the app's public URL can be its own address and the callback
/// redirect can be followed as given.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_public_app_installs_by_redirects_reconciles_refreshes_uninstalls_and_stays_uninstalled()
{
    logs::init();
    let clock = ManualClock::new(start_instant());
    let sandbox = Sandbox::start(SandboxConfig {
        clock: Arc::new(clock.clone()),
        app: Some(SandboxApp {
            client_id: CLIENT_ID.into(),
            client_secret: SecretString::from(SECRET),
            scopes: DEFAULT_SCOPES.join(","),
        }),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    // The shop's own token is one nobody has: only what the install acquires works.
    sandbox
        .load_fixtures(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders"),
            &SecretString::from("shpat_nobody_has_this"),
        )
        .expect("fixtures load");
    assert!(sandbox.set_time_zone(&shop(), "Europe/Amsterdam"));
    let db = TestDb::create().await;
    let prefix = harness::unique_prefix("appinstall");
    let listen = format!("127.0.0.1:{}", free_port());
    let app_url = format!("http://{listen}");
    let text = config_text(&listen, &app_url, &sandbox.base_url(), &db.url, &prefix);
    let app = run(&text, &clock).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // The install, following each Location as given; the cookie kept as a browser keeps it.
    let r = http
        .get(app.url(&format!("/auth/install?{}", install_query(clock.now()))))
        .send()
        .await
        .unwrap();
    let authorize = location(&r);
    assert!(authorize.starts_with(&format!("{}/admin/oauth/authorize?", sandbox.base_url())));
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let callback = location(&http.get(&authorize).send().await.unwrap());
    assert!(
        callback.starts_with(&format!("{app_url}/auth/callback?")),
        "{callback}"
    );
    let code = reqwest::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let r = http
        .get(&callback)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(
        page.contains(&format!("orderflow is installed on {SHOP}")),
        "{page}"
    );
    let store = Store::connect(&db.config(KEY)).await.expect("store");
    let installed = store
        .shop(&shop())
        .await
        .unwrap()
        .expect("the shop is stored");
    assert!(installed.refresh_token.is_some(), "an expiring pair");
    assert_eq!(installed.time_zone.as_deref(), Some("Europe/Amsterdam"));
    let mut secrets = tokens_of(&installed);

    // Orders: the first webhook waits for the registry to learn the install (NOTIFY); a try
    // before that is dead-lettered as unknown_shop and taken off the queue here.
    let mut tries = 0;
    eventually(DEADLINE, "the installed shop served", || {
        tries += 1;
        let id = format!("create-{}-{tries}", BEFORE[0]);
        let (app, http) = (&app, &http);
        async move { (app.order_webhook(http, BEFORE[0], &id).await == "published").then_some(()) }
    })
    .await;
    let probes = dead_letters(&prefix).await;
    assert!(
        probes
            .iter()
            .all(|g| g.header("reason") == Some("unknown_shop")),
        "only tries before the registry knew the shop"
    );
    for f in &BEFORE[1..] {
        assert_eq!(
            app.order_webhook(&http, f, &format!("create-{f}")).await,
            "published"
        );
    }
    app.wait_settled(BEFORE.len() as u64).await;
    for f in BEFORE {
        let want = planned(&text, f);
        eventually(DEADLINE, &format!("{f} converged"), || async {
            (mutations(&sandbox, f) >= want).then_some(())
        })
        .await;
        assert_eq!(
            mutations(&sandbox, f),
            want,
            "{f}: exactly its planned changes"
        );
    }
    assert!(planned(&text, "digital") > 0, "something to do");
    assert_eq!(mutations(&sandbox, "cancelled"), 0);

    // The token's hour runs out (the renewal is due 5 minutes before): refreshed by itself.
    clock.advance(SignedDuration::from_mins(56));
    assert_eq!(
        app.order_webhook(&http, AFTER, "create-after").await,
        "published"
    );
    app.wait_settled(BEFORE.len() as u64 + 1).await;
    let want = planned(&text, AFTER);
    eventually(
        DEADLINE,
        "the order after the refresh converged",
        || async { (mutations(&sandbox, AFTER) >= want).then_some(()) },
    )
    .await;
    assert_eq!(mutations(&sandbox, AFTER), want);
    let refreshes: Vec<TokenOutcome> = sandbox
        .token_requests()
        .into_iter()
        .filter(|r| r.grant == Grant::RefreshToken)
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        refreshes,
        [TokenOutcome::Issued { expiring: true }],
        "exactly one refresh"
    );
    let (_, failed) = app.settled();
    assert!(
        failed.is_empty(),
        "every order handled on its first try: {failed:?}"
    );
    assert!(dead_letters(&prefix).await.is_empty(), "zero dead letters");
    let refreshed = store.shop(&shop()).await.unwrap().unwrap();
    assert_eq!(refreshed.version, installed.version + 1);
    secrets.extend(tokens_of(&refreshed));

    // The merchant uninstalls the app.
    let uninstalled_body = harness::fixture("app/uninstalled");
    assert_eq!(
        app.webhook(&http, "app/uninstalled", "uninstall", &uninstalled_body)
            .await,
        "published"
    );
    let row = eventually(DEADLINE, "the uninstall in the store", || async {
        store
            .shop(&shop())
            .await
            .unwrap()
            .filter(|r| r.uninstalled_at.is_some())
    })
    .await;
    assert!(tokens_of(&row).is_empty(), "no token left in the store");
    // A new order: known, but uninstalled (README: "on app/uninstalled dead-letters that
    // shop's later messages as `unauthorized` at once"), and Shopify is not called.
    let calls = sandbox.request_count();
    let token_calls = sandbox.token_requests().len();
    assert_eq!(
        app.order_webhook(&http, "preorder", "create-uninstalled")
            .await,
        "published"
    );
    let dead = wait_dead_letter(&prefix, "create-uninstalled").await;
    assert_eq!(dead.header("reason"), Some("unauthorized"));
    assert_eq!(dead.header("shop"), Some(SHOP));
    assert_eq!(sandbox.request_count(), calls, "no Shopify call");
    app.stop().await;

    // A restart on the same store: the shop is still uninstalled.
    let restarted_text = config_text(
        "127.0.0.1:0",
        &app_url,
        &sandbox.base_url(),
        &db.url,
        &prefix,
    );
    let restarted = run(&restarted_text, &clock).await;
    assert_eq!(
        restarted
            .order_webhook(&http, "pickup", "create-restarted")
            .await,
        "published",
        "still known, as uninstalled"
    );
    let dead = wait_dead_letter(&prefix, "create-restarted").await;
    assert_eq!(dead.header("reason"), Some("unauthorized"));
    assert_eq!(
        sandbox.request_count(),
        calls,
        "no Shopify call after the restart"
    );
    assert_eq!(
        sandbox.token_requests().len(),
        token_calls,
        "no token acquired"
    );
    assert!(
        store
            .shop(&shop())
            .await
            .unwrap()
            .unwrap()
            .uninstalled_at
            .is_some()
    );

    let logged = logs::captured();
    secrets.push(SECRET.to_owned());
    secrets.push(code);
    secrets.push(cookie.split_once('=').unwrap().1.to_owned());
    for s in &secrets {
        assert!(!logged.contains(s.as_str()), "a token or secret was logged");
    }
    restarted.stop().await;
    store.close().await;
    delete_prefix(&prefix, PARTITIONS).await;
    sandbox.shutdown().await;
}
