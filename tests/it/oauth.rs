//! oauth mode end to end: the shop's expiring offline pair in the token store (a PostgreSQL
//! database of the test's own), the whole app (receiver and workers, the real broker), the
//! sandbox speaking OAuth, one manual clock for both. A token that expires in the middle of a
//! stream of orders is refreshed and no order fails; two worker processes needing a refresh of
//! one shop at once send one refresh request; a lost refresh answer is recovered; a 401 to a
//! token the store thinks fresh refreshes it; an uninstalled shop's messages dead-letter as
//! `unauthorized`; a database that goes away makes the worker retry, and it converges once the
//! database is back; no token reaches a log line.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use orderflow::app::Roles;
use orderflow::auth::{Admin, Grants};
use orderflow::clock::{Clock, ManualClock};
use orderflow::config::DEFAULT_SCOPES;
use orderflow::id::ShopDomain;
use orderflow::queue::Names;
use orderflow::sandbox::{Grant, Sandbox, SandboxApp, SandboxConfig, TokenOutcome};
use orderflow::store::Store;
use secrecy::{ExposeSecret, SecretString};

use crate::harness::broker::drain;
use crate::harness::db::{KEY, TestDb};
use crate::harness::e2e::{rules_toml, start_instant};
use crate::harness::proxy::Proxy;
use crate::harness::{Options, SECRET_NEW, SHOP, TestApp, eventually, logs};

const CLIENT_ID: &str = "oauth-e2e-client-id";
const DEADLINE: Duration = Duration::from_secs(30);

fn shop() -> ShopDomain {
    ShopDomain::parse(SHOP).expect("shop")
}

/// The sandbox shop, the test's database and the shop's install in it.
struct World {
    sandbox: Sandbox,
    clock: ManualClock,
    db: TestDb,
    store: Store,
}

impl World {
    async fn start() -> World {
        let clock = ManualClock::new(start_instant());
        let sandbox = Sandbox::start(SandboxConfig {
            clock: Arc::new(clock.clone()),
            app: Some(SandboxApp {
                client_id: CLIENT_ID.to_owned(),
                client_secret: SecretString::from(SECRET_NEW),
                scopes: DEFAULT_SCOPES.join(","),
            }),
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox starts");
        // The shop's own token is one nobody has: only the tokens the app acquires work.
        sandbox
            .load_fixtures(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders"),
                &SecretString::from("shpat_nobody_has_this"),
            )
            .expect("fixtures load");
        let db = TestDb::create().await;
        let store = Store::connect(&db.config(KEY)).await.expect("store");
        // The install: an embedded frontend's session token exchanged for an expiring pair.
        let grants = Grants::new(
            CLIENT_ID.to_owned(),
            SecretString::from(SECRET_NEW),
            Arc::new(clock.clone()),
        )
        .expect("grants");
        let admin = Admin {
            shop: shop(),
            base: Some(sandbox.base_url()),
        };
        let grant = grants
            .exchange_session_token(&admin, &sandbox.session_token(&shop(), 1))
            .await
            .expect("token exchange");
        assert!(grant.refresh_token.is_some(), "an expiring pair");
        store
            .install(&shop(), &grant, Some("Europe/Amsterdam"), clock.now())
            .await
            .expect("install");
        World {
            sandbox,
            clock,
            db,
            store,
        }
    }

    /// A process of the app (receiver and workers) in oauth mode, its store at `store_url`.
    async fn app(&self, name: &str, store_url: &str) -> TestApp {
        self.app_with(name, store_url, "").await
    }

    /// An app with `extra` appended to its config.
    async fn app_with(&self, name: &str, store_url: &str, extra: &str) -> TestApp {
        let app = TestApp::spawn_with(
            name,
            Options {
                roles: Some(Roles::ALL),
                admin_api_url: Some(self.sandbox.base_url()),
                clock: Some(Arc::new(self.clock.clone())),
                shopify_toml: format!(
                    "auth = \"oauth\"\nclient_id = \"{CLIENT_ID}\"\napp_url = \"https://orderflow.example.com\""
                ),
                extra_toml: format!(
                    "{}\n[store]\nurl = \"{store_url}\"\nencryption_key = \"{KEY}\"\n{extra}",
                    rules_toml(8)
                ),
                ..Default::default()
            },
        )
        .await;
        app.broker
            .wait_connected(Duration::from_secs(10))
            .await
            .expect("the app connects to the broker");
        app
    }

    /// The refresh requests the sandbox received, by outcome.
    fn refreshes(&self) -> Vec<TokenOutcome> {
        self.sandbox
            .token_requests()
            .into_iter()
            .filter(|r| r.grant == Grant::RefreshToken)
            .map(|r| r.outcome)
            .collect()
    }

    /// Every token the store holds for the shop now.
    async fn stored_tokens(&self) -> Vec<String> {
        let row = self.store.shop(&shop()).await.expect("read").expect("row");
        [
            row.access_token,
            row.refresh_token,
            row.previous_refresh_token,
        ]
        .into_iter()
        .flatten()
        .map(|t| t.expose_secret().to_owned())
        .collect()
    }

    async fn stop(self, apps: Vec<TestApp>) {
        for app in apps {
            app.stop().await;
        }
        self.store.close().await;
        self.sandbox.shutdown().await;
    }
}

/// `orderflow_messages_total` by disposition.
fn dispositions(app: &TestApp) -> BTreeMap<String, u64> {
    app.metrics
        .encode()
        .lines()
        .filter_map(|l| l.strip_prefix("orderflow_messages_total{"))
        .filter_map(|l| {
            let label = l.split("disposition=\"").nth(1)?.split('"').next()?;
            let n = l.rsplit(' ').next()?.parse().ok()?;
            Some((label.to_owned(), n))
        })
        .collect()
}

fn settled(app: &TestApp) -> u64 {
    dispositions(app).values().sum()
}

async fn wait_settled(app: &TestApp, n: u64) {
    eventually(DEADLINE, &format!("{n} settled messages"), || async {
        (settled(app) >= n).then_some(())
    })
    .await;
}

/// Every settled message was handled on its first try: no retry, no dead letter.
fn assert_none_failed(app: &TestApp) {
    let d = dispositions(app);
    assert!(
        d.keys().all(|k| k == "done" || k == "done_wake_up"),
        "only handled messages: {d:?}"
    );
}

/// Sends the digital order's `orders/updated` webhook as `webhook_id`.
/// An `orders/updated` announcing a change made after every read of this test (no `updated_at`
/// in the body, triggered far ahead of the manual clock): the worker cannot take it as covered
/// by an earlier read, so it reads the order, and needs a token to.
async fn send(app: &TestApp, webhook_id: &str) {
    let body = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/orders/digital.webhook.json"),
    )
    .expect("webhook body");
    let mut json: serde_json::Value = serde_json::from_slice(&body).expect("a JSON body");
    json.as_object_mut()
        .expect("an object")
        .remove("updated_at");
    let body = serde_json::to_vec(&json).expect("serialises");
    let res = app
        .delivery_with("orders/updated", webhook_id, &body, |h| {
            for (k, v) in h.iter_mut() {
                if *k == "X-Shopify-Triggered-At" {
                    *v = "2100-01-01T00:00:00.000Z".to_owned();
                }
            }
        })
        .send()
        .await
        .expect("receiver answers");
    assert_eq!(res.status(), 200, "{webhook_id}");
}

fn assert_not_logged(tokens: &[String]) {
    let logged = logs::captured();
    for t in tokens {
        assert!(!logged.contains(t.as_str()), "a token was logged");
    }
}

/// The renewal margin is 5 minutes of a 60-minute token: 56 minutes later it is due.
fn into_renewal(clock: &ManualClock) {
    clock.advance(SignedDuration::from_mins(56));
}

#[tokio::test]
async fn a_token_expiring_mid_stream_is_refreshed_once_and_no_order_fails() {
    let w = World::start().await;
    let first = w.stored_tokens().await;
    let app = w.app("oauthstream", &w.db.url).await;
    for i in 0..4 {
        send(&app, &format!("stream-a-{i}")).await;
    }
    wait_settled(&app, 4).await;
    into_renewal(&w.clock);
    for i in 0..4 {
        send(&app, &format!("stream-b-{i}")).await;
    }
    wait_settled(&app, 8).await;
    assert_none_failed(&app);
    assert_eq!(
        w.refreshes(),
        [TokenOutcome::Issued { expiring: true }],
        "one refresh, before the token expired"
    );
    let row = w.store.shop(&shop()).await.unwrap().unwrap();
    assert_eq!(row.version, 2, "the install and one refresh");
    assert_eq!(row.last_refresh_at, Some(w.clock.now()));
    // Past the old token's expiry, orders keep going with the refreshed one, no new refresh.
    w.clock.advance(SignedDuration::from_mins(10));
    send(&app, "stream-c").await;
    wait_settled(&app, 9).await;
    assert_none_failed(&app);
    assert_eq!(w.refreshes().len(), 1);
    let mut tokens = first;
    tokens.extend(w.stored_tokens().await);
    assert_not_logged(&tokens);
    w.stop(vec![app]).await;
}

#[tokio::test]
async fn two_worker_processes_needing_a_refresh_of_one_shop_send_one_refresh_request() {
    let w = World::start().await;
    let a = w.app("oauthtwo-a", &w.db.url).await;
    let b = w.app("oauthtwo-b", &w.db.url).await;
    send(&a, "two-a-0").await;
    send(&b, "two-b-0").await;
    wait_settled(&a, 1).await;
    wait_settled(&b, 1).await;
    into_renewal(&w.clock);
    // Both hold the token that is now due; both need it renewed at the same moment.
    tokio::join!(send(&a, "two-a-1"), send(&b, "two-b-1"));
    wait_settled(&a, 2).await;
    wait_settled(&b, 2).await;
    assert_none_failed(&a);
    assert_none_failed(&b);
    assert_eq!(
        w.refreshes(),
        [TokenOutcome::Issued { expiring: true }],
        "the second process used the token the first wrote"
    );
    let row = w.store.shop(&shop()).await.unwrap().unwrap();
    assert_eq!(row.version, 2);
    w.stop(vec![a, b]).await;
}

#[tokio::test]
async fn a_lost_refresh_answer_is_recovered_with_the_stored_refresh_token() {
    let w = World::start().await;
    let first = w.stored_tokens().await;
    let app = w.app("oauthlost", &w.db.url).await;
    send(&app, "lost-0").await;
    wait_settled(&app, 1).await;
    w.sandbox.lose_next_token_response();
    into_renewal(&w.clock);
    send(&app, "lost-1").await;
    wait_settled(&app, 2).await;
    assert_none_failed(&app);
    assert_eq!(
        w.refreshes(),
        [TokenOutcome::Lost, TokenOutcome::Issued { expiring: true }],
        "applied and lost, then retried with the same stored refresh token"
    );
    // The pair written is the live one: the next refresh, an hour on, works too.
    w.clock.advance(SignedDuration::from_mins(60));
    send(&app, "lost-2").await;
    wait_settled(&app, 3).await;
    assert_none_failed(&app);
    assert_eq!(w.refreshes().len(), 3);
    assert_eq!(
        w.refreshes().last(),
        Some(&TokenOutcome::Issued { expiring: true })
    );
    let mut tokens = first;
    tokens.extend(w.stored_tokens().await);
    assert_not_logged(&tokens);
    w.stop(vec![app]).await;
}

#[tokio::test]
async fn with_the_database_gone_the_worker_retries_and_converges_once_it_is_back() {
    let w = World::start().await;
    let proxy = Proxy::start("127.0.0.1:5432".parse().expect("addr")).await;
    // No subscription check: it would read the shop's token from the store before the cut,
    // and the worker would then need no database for its first order.
    let app = w
        .app_with(
            "oauthdbdown",
            &w.db.url_through(proxy.addr),
            "[webhooks]\ncheck = false\n",
        )
        .await;
    proxy.cut();
    // The receiver does not need the store: the webhook is still taken.
    send(&app, "down-0").await;
    eventually(DEADLINE, "a retry while the database is gone", || async {
        (dispositions(&app).get("retry").copied().unwrap_or(0) >= 1).then_some(())
    })
    .await;
    assert_eq!(dispositions(&app).get("dead_letter"), None, "nothing lost");
    proxy.restore();
    // Retries wait on the app's clock: let it run faster than the wall clock until done.
    eventually(
        DEADLINE,
        "the order handled once the database is back",
        || async {
            w.clock.advance(SignedDuration::from_millis(250));
            (dispositions(&app).get("done").copied().unwrap_or(0) >= 1).then_some(())
        },
    )
    .await;
    assert_eq!(dispositions(&app).get("dead_letter"), None);
    assert!(w.refreshes().is_empty(), "the stored token was still fresh");
    w.stop(vec![app]).await;
}

#[tokio::test]
async fn a_401_to_a_token_the_store_thinks_fresh_refreshes_it_and_the_order_succeeds() {
    let w = World::start().await;
    // The stored expiry is wrong (later than Shopify's): only Shopify's 401 tells.
    let now = w.clock.now();
    w.store
        .refresh(&shop(), DEADLINE, now, |row| async move {
            Ok::<_, String>(Some(orderflow::store::TokenGrant {
                access_token: row.access_token.expect("token"),
                access_expires_at: Some(now + SignedDuration::from_hours(10)),
                refresh_token: row.refresh_token,
                refresh_expires_at: row.refresh_expires_at,
                scopes: row.scopes,
            }))
        })
        .await
        .expect("store")
        .expect("written");
    let app = w.app("oauth401", &w.db.url).await;
    send(&app, "401-0").await;
    wait_settled(&app, 1).await;
    w.clock.advance(SignedDuration::from_mins(61));
    send(&app, "401-1").await;
    wait_settled(&app, 2).await;
    assert_none_failed(&app);
    assert_eq!(w.refreshes(), [TokenOutcome::Issued { expiring: true }]);
    w.stop(vec![app]).await;
}

#[tokio::test]
async fn an_uninstalled_shop_has_no_token_and_its_messages_dead_letter_as_unauthorized() {
    let w = World::start().await;
    let app = w.app("oauthgone", &w.db.url).await;
    send(&app, "gone-0").await;
    wait_settled(&app, 1).await;
    // Shopify revokes the tokens at uninstall; the store forgets them.
    w.sandbox.revoke_token(&shop());
    w.store
        .uninstall(&shop(), w.clock.now())
        .await
        .expect("uninstall");
    send(&app, "gone-1").await;
    wait_settled(&app, 2).await;
    assert_eq!(dispositions(&app).get("dead_letter"), Some(&1));
    assert_eq!(
        dispositions(&app).get("retry"),
        None,
        "permanent, not retried"
    );
    let dead = drain(&Names::new(&app.prefix).dead_queue()).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].header("reason"), Some("unauthorized"));
    assert!(w.refreshes().is_empty(), "nothing to refresh with");
    w.stop(vec![app]).await;
}

#[tokio::test]
async fn with_the_app_in_oauth_mode_a_shop_installed_but_not_configured_gets_its_stored_token() {
    let w = World::start().await;
    let config = crate::harness::test_config(
        "unused",
        &Options {
            shopify_toml: format!(
                "auth = \"oauth\"\nclient_id = \"{CLIENT_ID}\"\napp_url = \"https://orderflow.example.com\""
            ),
            extra_toml: format!(
                "[store]\nurl = \"{}\"\nencryption_key = \"{KEY}\"\n",
                w.db.url
            ),
            ..Default::default()
        },
    );
    let store = orderflow::app::open_store(&config)
        .await
        .expect("[store] is set");
    let tokens = orderflow::auth::Tokens::new(
        &config,
        Arc::new(w.clock.clone()),
        Some(store.token_store()),
    )
    .expect("tokens");
    let other = ShopDomain::parse("beta.myshopify.com").unwrap();
    let now = w.clock.now();
    let grant = orderflow::store::TokenGrant {
        access_token: SecretString::from("shpat_sentinel_beta_7c1f"),
        access_expires_at: Some(now + SignedDuration::from_mins(60)),
        refresh_token: Some(SecretString::from("shprt_sentinel_beta_2a9d")),
        refresh_expires_at: Some(now + SignedDuration::from_hours(24 * 90)),
        scopes: DEFAULT_SCOPES.join(","),
    };
    // Not installed yet: permanent, the shop's messages dead-letter as unauthorized.
    let err = tokens
        .access_token(&other)
        .await
        .expect_err("not installed");
    assert!(!err.is_transient(), "{err}");
    w.store
        .install(&other, &grant, None, now)
        .await
        .expect("install");
    let token = tokens.access_token(&other).await.expect("stored token");
    assert_eq!(token.expose_secret(), "shpat_sentinel_beta_7c1f");
    assert_eq!(
        tokens.mode(&other),
        Some(orderflow::config::AuthMode::OAuth)
    );
    assert!(
        w.refreshes().is_empty(),
        "a fresh stored token is used as it is"
    );
    let shown = format!("{tokens:?} {store:?} {err}");
    assert!(!shown.contains("sentinel"), "{shown}");
    w.stop(vec![]).await;
}

#[tokio::test]
async fn a_database_down_at_start_up_does_not_stop_the_app_and_is_connected_once_it_is_back() {
    let w = World::start().await;
    let proxy = Proxy::start("127.0.0.1:5432".parse().expect("addr")).await;
    proxy.cut();
    let app = w.app("oauthdbstart", &w.db.url_through(proxy.addr)).await;
    send(&app, "start-0").await;
    eventually(DEADLINE, "a retry while the database is gone", || async {
        (dispositions(&app).get("retry").copied().unwrap_or(0) >= 1).then_some(())
    })
    .await;
    proxy.restore();
    eventually(
        DEADLINE,
        "the order handled once the database is up",
        || async {
            w.clock.advance(SignedDuration::from_millis(250));
            (dispositions(&app).get("done").copied().unwrap_or(0) >= 1).then_some(())
        },
    )
    .await;
    assert_eq!(dispositions(&app).get("dead_letter"), None, "nothing lost");
    w.stop(vec![app]).await;
}
