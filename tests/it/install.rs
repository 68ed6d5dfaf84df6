//! The install routes over real HTTP: an oauth app (receiver, a token store database of its own)
//! in front of the sandbox shop with an app configured, one clock for both. The install flow
//! follows the real redirects by hand (redirects off, the state cookie carried as a browser
//! would); every refusal of the callback answers 400 and stores nothing; `/auth/session`
//! accepts a session token and exchanges it once; the routes are absent without oauth.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use jiff::SignedDuration;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use orderflow::app::{App, Roles};
use orderflow::auth::query_hmac;
use orderflow::clock::{Clock as _, ManualClock};
use orderflow::config::{Config, DEFAULT_SCOPES, Env};
use orderflow::id::ShopDomain;
use orderflow::sandbox::{Fault, Grant, Sandbox, SandboxApp, SandboxConfig, TokenOutcome};
use orderflow::store::{Store, StoredShop};
use tokio_util::sync::CancellationToken;

use crate::harness::{self, logs};
use crate::store::db::{KEY, TestDb};

const SHOP: &str = "acme.myshopify.com";
const CLIENT_ID: &str = "install-client-id";
/// Sentinel: must never show up in a log line.
const SECRET: &str = "shpss_SENTINEL_INSTALL_SECRET_a41c";
const APP_URL: &str = "https://orderflow.example.com";
const TIME_ZONE: &str = "Europe/Amsterdam";

fn shop() -> ShopDomain {
    ShopDomain::parse(SHOP).unwrap()
}

struct Setup {
    addr: std::net::SocketAddr,
    sandbox: Sandbox,
    clock: ManualClock,
    db: TestDb,
    http: reqwest::Client,
    prefix: String,
    shutdown: CancellationToken,
    stopped: tokio::task::JoinHandle<Result<(), orderflow::app::AppError>>,
}

async fn start(name: &str) -> Setup {
    start_with(name, None).await
}

/// `store_url`: instead of the test database's (e.g. one where nothing answers).
async fn start_with(name: &str, store_url: Option<&str>) -> Setup {
    logs::init();
    let clock = ManualClock::new("2026-12-01T10:00:00Z".parse().unwrap());
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
    sandbox.add_shop(shop(), SecretString::from("shpat_legacy_install_test"));
    assert!(sandbox.set_time_zone(&shop(), TIME_ZONE));
    let db = TestDb::create().await;
    let prefix = harness::unique_prefix(name);
    // The configured shop is another one: the installed shop needs no [[shops]] entry.
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"
[amqp]
url = "{amqp}"
prefix = "{prefix}"
partitions = 2
[shopify]
client_secrets = ["{SECRET}"]
auth = "oauth"
client_id = "{CLIENT_ID}"
app_url = "{APP_URL}"
admin_url = "{admin}"
[store]
url = "{db}"
encryption_key = "{KEY}"
[[shops]]
domain = "configured.myshopify.com"
auth = "static"
access_token = "shpat_configured"
"#,
        amqp = harness::AMQP_URL,
        admin = sandbox.base_url(),
        db = store_url.unwrap_or(&db.url),
    );
    let config = Config::from_toml(&text, std::path::Path::new("install.toml"), &Env::default())
        .expect("oauth config is valid");
    let app = App::build_with(config, Arc::new(clock.clone()), Roles::RECEIVE)
        .await
        .expect("app builds");
    let addr = app.local_addr();
    let shutdown = CancellationToken::new();
    let stopped = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Setup {
        addr,
        sandbox,
        clock,
        db,
        http,
        prefix,
        shutdown,
        stopped,
    }
}

impl Setup {
    fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.addr)
    }

    async fn stored(&self) -> Option<StoredShop> {
        let store = Store::connect(&self.db.config(KEY)).await.expect("store");
        let row = store.shop(&shop()).await.expect("read");
        store.close().await;
        row
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.stopped)
            .await
            .expect("stops")
            .expect("joins")
            .expect("stops cleanly");
        harness::broker::delete_prefix(&self.prefix, 2).await;
    }

    /// Shopify's request to the App URL, signed with the app's secret, at the clock's now.
    fn install_query(&self) -> String {
        let host = base64::engine::general_purpose::STANDARD_NO_PAD.encode(format!("{SHOP}/admin"));
        signed(&[
            ("host", host.as_str()),
            ("shop", SHOP),
            ("timestamp", &self.clock.now().as_second().to_string()),
        ])
    }

    /// `/auth/install` → 302: the authorize URL and the cookie a browser would keep.
    async fn begin(&self) -> (reqwest::Url, String) {
        let r = self
            .http
            .get(self.url(&format!("/auth/install?{}", self.install_query())))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        (reqwest::Url::parse(&location).unwrap(), cookie)
    }

    /// Follows the authorize URL to the sandbox's grant screen (which approves at once) and
    /// returns its redirect's query: Shopify's callback parameters.
    async fn approve(&self, authorize: reqwest::Url) -> Vec<(String, String)> {
        let r = self.http.get(authorize).send().await.unwrap();
        assert_eq!(r.status(), 302, "the sandbox approves");
        let callback = reqwest::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
        assert_eq!(
            format!(
                "{}{}",
                callback.origin().ascii_serialization(),
                callback.path()
            ),
            format!("{APP_URL}/auth/callback")
        );
        callback.query_pairs().into_owned().collect()
    }

    /// The browser arriving at the callback: `app.example.com` is this app's address.
    async fn callback(&self, query: &str, cookie: Option<&str>) -> (u16, String) {
        let mut request = self.http.get(self.url(&format!("/auth/callback?{query}")));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let r = request.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn session(&self, bearer: Option<&str>) -> (u16, Value) {
        let mut request = self.http.post(self.url("/auth/session"));
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let r = request.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

/// A query string of `pairs` plus their `hmac` under the app's secret.
fn signed(pairs: &[(&str, &str)]) -> String {
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

/// The callback's parameters without `hmac`, `edit`ed, then signed again: only the edited
/// check can refuse it.
fn resigned(params: &[(String, String)], edit: impl FnOnce(&mut Vec<(String, String)>)) -> String {
    let mut kept: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "hmac")
        .cloned()
        .collect();
    edit(&mut kept);
    let pairs: Vec<(&str, &str)> = kept.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    signed(&pairs)
}

fn encode(params: &[(String, String)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.extend_pairs(params);
    q.finish()
}

fn set(params: &mut [(String, String)], key: &str, value: &str) {
    params.iter_mut().find(|(k, _)| k == key).unwrap().1 = value.to_owned();
}

fn exposed(s: &Option<SecretString>) -> String {
    s.as_ref()
        .map(|s| s.expose_secret().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_install_flow_over_the_real_redirects_stores_an_expiring_pair_and_the_time_zone() {
    let s = start("install-flow").await;
    let (authorize, cookie) = s.begin().await;
    assert_eq!(
        format!(
            "{}{}",
            authorize.origin().ascii_serialization(),
            authorize.path()
        ),
        format!("{}/admin/oauth/authorize", s.sandbox.base_url())
    );
    let q: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    let keys: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["client_id", "scope", "redirect_uri", "state"],
        "no grant_options: offline"
    );
    assert_eq!(q[0].1, CLIENT_ID);
    assert_eq!(q[1].1, DEFAULT_SCOPES.join(","));
    assert_eq!(q[2].1, format!("{APP_URL}/auth/callback"));
    assert_eq!(q[3].1.len(), 32, "a 128-bit hex nonce");
    assert!(cookie.starts_with("orderflow_oauth_state="));
    // A second install gets another nonce.
    let (again, _) = s.begin().await;
    assert_ne!(
        again.query_pairs().find(|(k, _)| k == "state").unwrap().1,
        q[3].1
    );

    let callback = s.approve(authorize).await;
    let code = callback
        .iter()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .clone();
    let (status, page) = s.callback(&encode(&callback), Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("orderflow is installed on acme.myshopify.com"),
        "{page}"
    );

    let row = s.stored().await.expect("the shop is stored");
    let now = s.clock.now();
    assert_eq!(row.uninstalled_at, None);
    assert_eq!(row.time_zone.as_deref(), Some(TIME_ZONE));
    assert_eq!(
        row.access_expires_at,
        Some(now + SignedDuration::from_secs(3600))
    );
    assert_eq!(
        row.refresh_expires_at,
        Some(now + SignedDuration::from_hours(90 * 24))
    );
    assert!(exposed(&row.refresh_token).starts_with("shprt_"));
    assert_eq!(row.scopes, DEFAULT_SCOPES.join(","));
    let requests = s.sandbox.token_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].grant, Grant::AuthorizationCode);
    assert_eq!(requests[0].outcome, TokenOutcome::Issued { expiring: true });

    // Replayed with the same cookie: the code is spent, so Shopify refuses, and the pair stays.
    let (status, _) = s.callback(&encode(&callback), Some(&cookie)).await;
    assert_eq!(status, 502);
    assert_eq!(
        exposed(&s.stored().await.unwrap().access_token),
        exposed(&row.access_token)
    );

    let logged = logs::captured();
    let cookie_value = cookie.split_once('=').unwrap().1;
    for secret in [
        code.as_str(),
        cookie_value,
        SECRET,
        &exposed(&row.access_token),
        &exposed(&row.refresh_token),
    ] {
        assert!(!logged.contains(secret), "a secret was logged");
    }
    s.stop().await;
}

#[tokio::test]
async fn every_refused_callback_is_a_400_and_stores_nothing() {
    let s = start("install-refusals").await;
    let (authorize, cookie) = s.begin().await;
    let good = s.approve(authorize).await;
    let stale = (s.clock.now() - SignedDuration::from_secs(91))
        .as_second()
        .to_string();
    let wrong_hmac: Vec<(String, String)> = good
        .iter()
        .map(|(k, v)| {
            let v = if k == "hmac" {
                "0".repeat(64)
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    let no_hmac: Vec<(String, String)> =
        good.iter().filter(|(k, _)| k != "hmac").cloned().collect();
    // (what, the callback query, the cookie sent, a phrase of the page naming the check)
    let cases: Vec<(&str, String, Option<&str>, &str)> = vec![
        (
            "wrong hmac",
            encode(&wrong_hmac),
            Some(&cookie),
            "not signed by Shopify",
        ),
        (
            "missing hmac",
            encode(&no_hmac),
            Some(&cookie),
            "not signed by Shopify",
        ),
        (
            "state mismatch",
            resigned(&good, |p| {
                set(p, "state", "0123456789abcdef0123456789abcdef")
            }),
            Some(&cookie),
            "does not belong to an install started here",
        ),
        (
            "no cookie",
            encode(&good),
            None,
            "does not belong to an install started here",
        ),
        (
            "bad shop",
            resigned(&good, |p| set(p, "shop", "acme.example.com")),
            Some(&cookie),
            "not a *.myshopify.com domain",
        ),
        (
            "stale timestamp",
            resigned(&good, |p| set(p, "timestamp", &stale)),
            Some(&cookie),
            "too old",
        ),
    ];
    for (what, query, cookie, phrase) in cases {
        let (status, page) = s.callback(&query, cookie).await;
        assert_eq!(status, 400, "{what}: {page}");
        assert!(page.contains(phrase), "{what}: {page}");
    }
    assert!(
        s.sandbox.token_requests().is_empty(),
        "no code was exchanged"
    );
    assert!(s.stored().await.is_none());
    // The untouched callback still works: each refusal above was its own check's.
    let (status, page) = s.callback(&encode(&good), Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    s.stop().await;
}

#[tokio::test]
async fn a_grant_without_every_needed_scope_is_a_400_naming_them_and_stores_nothing() {
    let s = start("install-scopes").await;
    let (mut authorize, cookie) = s.begin().await;
    // The merchant edits the scope in the URL (§1e): only read_orders is granted.
    let edited: Vec<(String, String)> = authorize
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "scope" {
                (k, "read_orders".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    authorize.set_query(Some(&encode(&edited)));
    let callback = s.approve(authorize).await;
    let (status, page) = s.callback(&encode(&callback), Some(&cookie)).await;
    assert_eq!(status, 400, "{page}");
    let missing: Vec<&str> = DEFAULT_SCOPES
        .iter()
        .copied()
        .filter(|s| *s != "read_orders")
        .collect();
    assert!(
        page.contains(&format!("missing: {}.", missing.join(", "))),
        "{page}"
    );
    assert!(s.stored().await.is_none());
    s.stop().await;
}

#[tokio::test]
async fn an_install_request_is_checked_before_the_redirect() {
    let s = start("install-request").await;
    let now = s.clock.now().as_second().to_string();
    for (what, query) in [
        ("unsigned", format!("shop={SHOP}&timestamp={now}")),
        (
            "wrongly signed",
            format!("shop={SHOP}&timestamp={now}&hmac={}", "a".repeat(64)),
        ),
        (
            "bad shop",
            signed(&[("shop", "acme.example.com"), ("timestamp", &now)]),
        ),
        (
            "stale",
            signed(&[("shop", SHOP), ("timestamp", "1700000000")]),
        ),
    ] {
        let r = s
            .http
            .get(s.url(&format!("/auth/install?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{what}");
        assert!(r.headers().get("set-cookie").is_none(), "{what}");
    }
    s.stop().await;
}

#[tokio::test]
async fn a_session_token_installs_the_shop_once_by_token_exchange() {
    let s = start("install-session").await;
    let token = s.sandbox.session_token(&shop(), 42);
    let (status, body) = s.session(Some(token.expose_secret())).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!({"shop": SHOP, "installed": true}));
    let row = s.stored().await.expect("stored");
    assert_eq!(row.time_zone.as_deref(), Some(TIME_ZONE));
    assert!(row.access_expires_at.is_some() && row.refresh_token.is_some());
    // The next call finds the token in the store and acquires nothing (the scheme's case
    // does not matter).
    let again = s
        .http
        .post(s.url("/auth/session"))
        .header(
            "authorization",
            format!(
                "bearer {}",
                s.sandbox.session_token(&shop(), 42).expose_secret()
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let requests = s.sandbox.token_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].grant, Grant::TokenExchange);
    assert_eq!(requests[0].outcome, TokenOutcome::Issued { expiring: true });
    let logged = logs::captured();
    for secret in [
        token.expose_secret(),
        &exposed(&row.access_token),
        &exposed(&row.refresh_token),
    ] {
        assert!(!logged.contains(secret), "a secret was logged");
    }
    s.stop().await;
}

#[tokio::test]
async fn an_invalid_or_missing_session_token_is_a_401_and_acquires_nothing() {
    let s = start("install-session-refused").await;
    let forged = {
        // The sandbox's shape, signed with a secret that is not the app's.
        let other = Sandbox::start(SandboxConfig {
            clock: Arc::new(s.clock.clone()),
            app: Some(SandboxApp {
                client_id: CLIENT_ID.into(),
                client_secret: SecretString::from("not-the-apps-secret"),
                scopes: String::new(),
            }),
            ..SandboxConfig::default()
        })
        .await
        .unwrap();
        other.session_token(&shop(), 42)
    };
    let expired = s.sandbox.session_token(&shop(), 42);
    let (status, _) = s.session(None).await;
    assert_eq!(status, 401);
    let (status, _) = s.session(Some("not.a.jwt")).await;
    assert_eq!(status, 401);
    let (status, body) = s.session(Some(forged.expose_secret())).await;
    assert_eq!(status, 401);
    assert_eq!(body["installed"], false);
    s.clock.advance(SignedDuration::from_secs(120));
    let (status, _) = s.session(Some(expired.expose_secret())).await;
    assert_eq!(status, 401, "a session token lives a minute");
    assert!(s.sandbox.token_requests().is_empty());
    assert!(s.stored().await.is_none());
    s.stop().await;
}

#[tokio::test]
async fn a_time_zone_that_cannot_be_read_still_installs_the_shop_without_one() {
    let s = start("install-no-zone").await;
    let (authorize, cookie) = s.begin().await;
    let callback = s.approve(authorize).await;
    // Every attempt of the time-zone read gets a 500.
    s.sandbox.inject(Fault::Http500, 3);
    let (status, page) = s.callback(&encode(&callback), Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    let row = s.stored().await.expect("installed: the new pair is kept");
    assert_eq!(row.time_zone, None);
    assert!(row.refresh_token.is_some());
    assert_eq!(
        s.sandbox.request_count(),
        3,
        "three attempts, then given up"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_time_zone_orderflow_does_not_know_is_not_stored() {
    let s = start("install-odd-zone").await;
    assert!(s.sandbox.set_time_zone(&shop(), "Mars/Olympus_Mons"));
    let (authorize, cookie) = s.begin().await;
    let callback = s.approve(authorize).await;
    let (status, page) = s.callback(&encode(&callback), Some(&cookie)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(s.stored().await.expect("installed").time_zone, None);
    s.stop().await;
}

#[tokio::test]
async fn a_store_that_does_not_answer_is_a_503_before_the_code_is_spent() {
    // Nothing listens on port 9 of localhost (discard): the store cannot connect.
    let s = start_with(
        "install-no-store",
        Some("postgres://postgres@127.0.0.1:9/none"),
    )
    .await;
    let (authorize, cookie) = s.begin().await;
    let callback = s.approve(authorize).await;
    let (status, page) = s.callback(&encode(&callback), Some(&cookie)).await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("cannot reach its token store"), "{page}");
    assert!(
        s.sandbox.token_requests().is_empty(),
        "the code was not spent"
    );
    let token = s.sandbox.session_token(&shop(), 7);
    let (status, _) = s.session(Some(token.expose_secret())).await;
    assert_eq!(status, 503);
    assert!(s.sandbox.token_requests().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn without_oauth_the_install_routes_are_not_there() {
    let app = harness::TestApp::spawn("install-off").await;
    let install = app
        .http
        .get(app.url("/auth/install?shop=acme.myshopify.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(install.status(), 404);
    let session = app
        .http
        .post(app.url("/auth/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 404);
    let callback = app
        .http
        .get(app.url("/auth/callback"))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), 404);
    app.stop().await;
}
