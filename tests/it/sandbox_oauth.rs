//! The sandbox's OAuth over real HTTP: the authorize redirect and its signature (checked by an
//! independent computation), each grant of the token endpoint with Shopify's shapes, rotation
//! and its retry rules, expiry on the sandbox clock, token faults, the log, and secrets kept
//! out of it.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::Sha256;

use orderflow::clock::ManualClock;
use orderflow::id::ShopDomain;
use orderflow::sandbox::{Grant, Sandbox, SandboxApp, SandboxConfig, TokenOutcome};

use crate::shopify::{SHOP, fixtures_dir, order_gid};

const CLIENT_ID: &str = "client-id-1f2e";
/// Sentinels: none may show up in the token log or any `Debug`.
const SECRET: &str = "shpss_SENTINEL_SECRET_5b1e";
const LEGACY: &str = "shpat_SENTINEL_LEGACY_0c2d";
const SCOPES: &str = "read_orders,write_orders";
const REDIRECT: &str = "https://app.example.com/auth/callback";
const INACTIVE: &str = "This request requires an active refresh_token";

fn app() -> SandboxApp {
    SandboxApp {
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(SECRET),
        scopes: SCOPES.into(),
    }
}

struct OAuth {
    sandbox: Sandbox,
    clock: ManualClock,
    http: reqwest::Client,
}

async fn start_with(app: Option<SandboxApp>) -> OAuth {
    let clock = ManualClock::new("2026-12-01T10:00:00Z".parse().expect("instant"));
    let sandbox = Sandbox::start(SandboxConfig {
        clock: Arc::new(clock.clone()),
        app,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    sandbox
        .load_fixtures(&fixtures_dir(), &SecretString::from(LEGACY))
        .expect("fixtures load");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    OAuth {
        sandbox,
        clock,
        http,
    }
}

async fn start() -> OAuth {
    start_with(Some(app())).await
}

fn shop() -> ShopDomain {
    ShopDomain::parse(SHOP).expect("shop")
}

fn creds<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("client_id", CLIENT_ID), ("client_secret", SECRET)];
    form.extend_from_slice(extra);
    form
}

impl OAuth {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    async fn answer(response: reqwest::Response) -> (u16, Value) {
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A form-urlencoded token request, as Shopify's docs send it.
    async fn token(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/admin/oauth/access_token"))
            .header("Host", SHOP)
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("sandbox answers");
        Self::answer(response).await
    }

    /// A JSON token request, as Shopify's Node library sends it.
    async fn token_json(&self, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url("/admin/oauth/access_token"))
            .header("Host", SHOP)
            .json(&body)
            .send()
            .await
            .expect("sandbox answers");
        Self::answer(response).await
    }

    /// The status of an Admin API query with `token`.
    async fn graphql(&self, token: &str) -> u16 {
        let query = format!("{{ order(id: \"{}\") {{ id }} }}", order_gid(1));
        self.http
            .post(self.url("/admin/api/2026-10/graphql.json"))
            .header("Host", SHOP)
            .header("X-Shopify-Access-Token", token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("sandbox answers")
            .status()
            .as_u16()
    }

    /// `GET /admin/oauth/authorize`: the callback's query, parsed (decoded).
    async fn authorize(&self, client_id: &str) -> Result<BTreeMap<String, String>, u16> {
        let response = self
            .http
            .get(self.url("/admin/oauth/authorize"))
            .header("Host", SHOP)
            .query(&[
                ("client_id", client_id),
                ("scope", SCOPES),
                ("redirect_uri", REDIRECT),
                ("state", "nonce-8d1f"),
                ("grant_options[]", ""),
            ])
            .send()
            .await
            .expect("sandbox answers");
        if response.status() != 302 {
            return Err(response.status().as_u16());
        }
        let location = response.headers()["location"].to_str().expect("location");
        assert!(location.starts_with(REDIRECT), "{location}");
        let url = reqwest::Url::parse(location).expect("absolute location");
        Ok(url.query_pairs().into_owned().collect())
    }

    /// An expiring pair by the authorization code grant: (access, refresh).
    async fn install(&self) -> (String, String) {
        let callback = self.authorize(CLIENT_ID).await.expect("approved");
        let (status, body) = self
            .token(&creds(&[("code", &callback["code"]), ("expiring", "1")]))
            .await;
        assert_eq!(status, 200, "{body}");
        pair(&body)
    }

    async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        self.token(&creds(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ]))
        .await
    }
}

fn pair(body: &Value) -> (String, String) {
    let text = |k: &str| {
        body[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k}: {body}"))
            .to_owned()
    };
    (text("access_token"), text("refresh_token"))
}

fn keys(body: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn authorize_redirects_to_the_callback_signed_with_the_client_secret() {
    let o = start().await;
    let callback = o.authorize(CLIENT_ID).await.expect("approved at once");
    let names: Vec<&str> = callback.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["code", "hmac", "host", "shop", "state", "timestamp"]
    );
    assert_eq!(callback["shop"], SHOP);
    assert_eq!(callback["state"], "nonce-8d1f");
    assert_eq!(
        callback["timestamp"], "1796119200",
        "the sandbox clock's now"
    );
    let host = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(&callback["host"])
        .expect("base64 without padding");
    assert_eq!(host, format!("{SHOP}/admin").as_bytes());
    // Independently: every parameter but hmac, sorted, `k=v` joined by `&`, HMAC-SHA256 with
    // the client secret, lower-case hex.
    let message = callback
        .iter()
        .filter(|(k, _)| *k != "hmac")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(message.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(callback["hmac"], expected);
}

#[tokio::test]
async fn authorize_refuses_another_apps_client_id() {
    let o = start().await;
    assert_eq!(o.authorize("someone-else").await, Err(400));
}

#[tokio::test]
async fn an_expiring_code_grant_answers_the_pair_and_the_code_works_once() {
    let o = start().await;
    let callback = o.authorize(CLIENT_ID).await.expect("approved");
    let form = creds(&[("code", &callback["code"]), ("expiring", "1")]);
    let (status, body) = o.token(&form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        keys(&body),
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "refresh_token_expires_in",
            "scope"
        ]
    );
    assert_eq!(body["scope"], SCOPES, "the scope authorize asked for");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["refresh_token_expires_in"], 7_776_000);
    assert!(
        body["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("shpat_"))
    );
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("shprt_"))
    );
    assert_eq!(
        o.graphql(body["access_token"].as_str().expect("token"))
            .await,
        200
    );
    let (again, refused) = o.token(&form).await;
    assert_eq!(
        (again, refused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn a_code_grant_without_expiring_answers_the_shops_non_expiring_token_as_json() {
    let o = start().await;
    let callback = o.authorize(CLIENT_ID).await.expect("approved");
    let (status, body) = o
        .token_json(
            json!({"client_id": CLIENT_ID, "client_secret": SECRET, "code": callback["code"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(keys(&body), ["access_token", "scope"]);
    assert_eq!(
        body["access_token"], LEGACY,
        "re-authorizing returns the same token"
    );
}

#[tokio::test]
async fn refresh_rotates_and_the_old_access_token_lives_out_its_hour() {
    let o = start().await;
    let (a1, r1) = o.install().await;
    o.clock.advance(SignedDuration::from_mins(50));
    let (status, body) = o.refresh(&r1).await;
    assert_eq!(status, 200, "{body}");
    let (a2, r2) = pair(&body);
    assert_ne!((&a1, &r1), (&a2, &r2));
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["refresh_token_expires_in"], 7_776_000);
    assert_eq!(o.graphql(&a1).await, 200, "still within its hour");
    o.clock.advance(SignedDuration::from_mins(10));
    assert_eq!(o.graphql(&a1).await, 401, "its hour is over");
    assert_eq!(o.graphql(&a2).await, 200);
}

#[tokio::test]
async fn the_previous_refresh_token_retries_until_its_replacement_is_used() {
    let o = start().await;
    let (_, r1) = o.install().await;
    let (_, first) = o.refresh(&r1).await;
    let (status, retried) = o.refresh(&r1).await;
    assert_eq!(status, 200, "a retry with the previous token: {retried}");
    let (a3, r3) = pair(&retried);
    assert_eq!(o.graphql(&a3).await, 200);
    let (lost_status, lost) = o.refresh(&pair(&first).1).await;
    assert_eq!(
        (lost_status, lost["error_description"].as_str()),
        (401, Some(INACTIVE)),
        "the retry minted a fresh pair and retired the one it replaced"
    );
    let (status, _) = o.refresh(&r3).await;
    assert_eq!(status, 200, "the replacement is used");
    let (status, body) = o.refresh(&r1).await;
    assert_eq!(status, 401, "now the previous one is retired: {body}");
}

#[tokio::test]
async fn a_new_acquisition_kills_the_older_refresh_token_with_shopifys_401() {
    let o = start().await;
    let (a1, r1) = o.install().await;
    let (_a2, _r2) = o.install().await;
    let (status, body) = o.refresh(&r1).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"error": "invalid_request", "error_description": INACTIVE})
    );
    assert_eq!(
        o.graphql(&a1).await,
        200,
        "its access token lives out its hour"
    );
}

#[tokio::test]
async fn tokens_expire_on_the_sandbox_clock_and_graphql_answers_todays_401() {
    let o = start().await;
    let (access, _) = o.install().await;
    let (status, cc) = o
        .token_json(json!({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET}))
        .await;
    assert_eq!(status, 200, "{cc}");
    assert_eq!(keys(&cc), ["access_token", "expires_in", "scope"]);
    assert_eq!(
        (cc["expires_in"].as_i64(), cc["scope"].as_str()),
        (Some(86_399), Some(SCOPES))
    );
    let cc = cc["access_token"].as_str().expect("token").to_owned();
    o.clock.advance(SignedDuration::from_secs(3_599));
    assert_eq!((o.graphql(&access).await, o.graphql(&cc).await), (200, 200));
    o.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(o.graphql(&access).await, 401);
    o.clock.advance(SignedDuration::from_secs(86_399 - 3_600));
    assert_eq!(o.graphql(&cc).await, 401, "24 hours are over");
    let body = o
        .http
        .post(o.url("/admin/api/2026-10/graphql.json"))
        .header("Host", SHOP)
        .header("X-Shopify-Access-Token", &access)
        .json(&json!({"query": "{ shop { id } }"}))
        .send()
        .await
        .expect("answers")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        body,
        json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
    );
}

#[tokio::test]
async fn a_session_token_is_exchanged_for_a_pair_and_an_invalid_one_gets_400() {
    let o = start().await;
    let session = o.sandbox.session_token(&shop(), 42);
    let exchange = |subject: String| {
        creds(&[])
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .chain([
                (
                    "grant_type".into(),
                    "urn:ietf:params:oauth:grant-type:token-exchange".into(),
                ),
                ("subject_token".into(), subject),
                (
                    "subject_token_type".into(),
                    "urn:ietf:params:oauth:token-type:id_token".into(),
                ),
                (
                    "requested_token_type".into(),
                    "urn:shopify:params:oauth:token-type:offline-access-token".into(),
                ),
                ("expiring".into(), "1".into()),
            ])
            .collect::<Vec<(String, String)>>()
    };
    let form = exchange(session.expose_secret().to_owned());
    let as_refs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, body) = o.token(&as_refs).await;
    assert_eq!(status, 200, "{body}");
    let (access, _) = pair(&body);
    assert_eq!(o.graphql(&access).await, 200);
    o.clock.advance(SignedDuration::from_secs(60));
    let (status, body) = o.token(&as_refs).await;
    assert_eq!(status, 400, "a session token lives a minute");
    assert_eq!(
        body,
        json!({"error": "invalid_subject_token", "error_description": "Token exchange cannot be performed due to an invalid subject token."})
    );
}

#[tokio::test]
async fn migration_swaps_the_non_expiring_token_and_a_retry_recovers_the_same_pair() {
    let o = start().await;
    assert_eq!(o.graphql(LEGACY).await, 200);
    let migrate = |expiring: &'static str| {
        json!({
            "client_id": CLIENT_ID, "client_secret": SECRET,
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": LEGACY,
            "subject_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token",
            "expiring": expiring,
        })
    };
    let (status, body) = o.token_json(migrate("0")).await;
    assert_eq!(status, 400, "expiring=1 is required: {body}");
    o.sandbox.lose_next_token_response();
    let (status, _) = o.token_json(migrate("1")).await;
    assert_eq!(status, 520, "applied, answer lost");
    assert_eq!(o.graphql(LEGACY).await, 401, "the original is revoked");
    let (status, first) = o.token_json(migrate("1")).await;
    assert_eq!(status, 200, "{first}");
    o.clock.advance(SignedDuration::from_hours(24));
    let (status, again) = o.token_json(migrate("1")).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(pair(&again), pair(&first), "the same pair");
    assert_eq!(again["expires_in"], 3600, "access expiry extended");
    assert_eq!(
        again["refresh_token_expires_in"],
        7_776_000 - 86_400,
        "not extended"
    );
    assert_eq!(o.graphql(&pair(&again).0).await, 200);
    let (status, _) = o.refresh(&pair(&again).1).await;
    assert_eq!(status, 200);
    let (status, body) = o.token_json(migrate("1")).await;
    assert_eq!(status, 400, "recovery ends with the first refresh: {body}");
}

#[tokio::test]
async fn a_lost_refresh_response_recovers_by_retrying_the_previous_refresh_token() {
    let o = start().await;
    let (_, r1) = o.install().await;
    o.sandbox.lose_next_token_response();
    let response = o
        .http
        .post(o.url("/admin/oauth/access_token"))
        .header("Host", SHOP)
        .form(&creds(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", &r1),
        ]))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 520);
    let lost = response.text().await.expect("body");
    assert!(
        !lost.contains("shpat_") && !lost.contains("shprt_"),
        "{lost}"
    );
    let (status, body) = o.refresh(&r1).await;
    assert_eq!(status, 200, "recovered: {body}");
    let (access, refresh) = pair(&body);
    assert_eq!(o.graphql(&access).await, 200);
    assert_eq!(o.refresh(&refresh).await.0, 200);
    let outcomes: Vec<TokenOutcome> = o
        .sandbox
        .token_requests()
        .into_iter()
        .filter(|r| r.grant == Grant::RefreshToken)
        .map(|r| r.outcome)
        .collect();
    let issued = TokenOutcome::Issued { expiring: true };
    assert_eq!(outcomes, [TokenOutcome::Lost, issued.clone(), issued]);
}

#[tokio::test]
async fn injected_failures_answer_their_status_and_apply_nothing() {
    let o = start().await;
    let (_, r1) = o.install().await;
    o.sandbox.fail_token_requests(2, 503);
    assert_eq!(o.refresh(&r1).await.0, 503);
    assert_eq!(o.refresh(&r1).await.0, 503);
    let (status, body) = o.refresh(&r1).await;
    assert_eq!(status, 200, "the token was never used: {body}");
    let last = o.sandbox.token_requests();
    assert_eq!(last[1].outcome, TokenOutcome::Injected { status: 503 });
    assert_eq!(last[1].shop.as_ref(), Some(&shop()));
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_with_400_invalid_client() {
    let o = start().await;
    let (status, body) = o
        .token(&[
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
            ("grant_type", "client_credentials"),
        ])
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_client"))
    );
}

#[tokio::test]
async fn revoking_the_shop_kills_every_issued_token() {
    let o = start().await;
    let (access, refresh) = o.install().await;
    o.sandbox.revoke_token(&shop());
    assert_eq!(o.graphql(&access).await, 401);
    assert_eq!(o.graphql(LEGACY).await, 401);
    assert_eq!(o.refresh(&refresh).await.0, 401);
}

#[tokio::test]
async fn without_an_app_no_oauth_route_answers() {
    let o = start_with(None).await;
    assert_eq!(o.authorize(CLIENT_ID).await, Err(404));
    assert_eq!(
        o.token(&creds(&[("grant_type", "client_credentials")]))
            .await
            .0,
        404
    );
    assert_eq!(o.graphql(LEGACY).await, 200, "GraphQL as today");
}

#[tokio::test]
async fn the_token_log_and_debug_never_show_a_token_or_the_secret() {
    let o = start().await;
    let (a1, r1) = o.install().await;
    let (_, rotated) = o.refresh(&r1).await;
    let (a2, r2) = pair(&rotated);
    let session = o.sandbox.session_token(&shop(), 7);
    let log = o.sandbox.token_requests();
    assert_eq!(
        log.iter().map(|r| r.grant).collect::<Vec<_>>(),
        [Grant::AuthorizationCode, Grant::RefreshToken]
    );
    assert!(log.iter().all(|r| r.shop.as_ref() == Some(&shop())));
    let served = o
        .http
        .get(o.url("/_sandbox/token-requests"))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("body");
    let shown = [
        format!("{log:?}"),
        served,
        format!("{:?}", app()),
        format!("{session:?}"),
    ];
    for text in &shown {
        for secret in [SECRET, LEGACY, &a1, &r1, &a2, &r2, session.expose_secret()] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn the_control_api_configures_the_app_and_drives_token_faults() {
    let o = start_with(None).await;
    let control = |path: &str| o.http.post(o.url(path));
    let put = o
        .http
        .put(o.url("/_sandbox/app"))
        .json(&json!({"clientId": CLIENT_ID, "clientSecret": SECRET, "scopes": SCOPES}))
        .send()
        .await
        .expect("answers");
    assert_eq!(put.status(), 204);
    let (_, r1) = o.install().await;
    let faults = control("/_sandbox/token-faults")
        .json(&json!({"status": 500, "count": 1}))
        .send()
        .await
        .expect("answers");
    assert_eq!(faults.status(), 204);
    assert_eq!(o.refresh(&r1).await.0, 500);
    control("/_sandbox/token-faults/lose-next")
        .send()
        .await
        .expect("answers");
    assert_eq!(o.refresh(&r1).await.0, 520);
    let minted: Value = control(&format!("/_sandbox/shops/{SHOP}/session-token"))
        .json(&json!({"userId": 42}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let token = minted["sessionToken"].as_str().expect("a session token");
    assert_eq!(token.split('.').count(), 3, "a JWT");
    let log: Value = o
        .http
        .get(o.url("/_sandbox/token-requests"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    let kinds: Vec<&str> = log
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|r| r["outcome"]["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["issued", "injected", "lost"]);
    let at = log[0]["at"].as_str().expect("time");
    assert_eq!(at.parse::<Timestamp>().ok(), Some(o.clock_now()));
}

impl OAuth {
    fn clock_now(&self) -> Timestamp {
        orderflow::clock::Clock::now(&self.clock)
    }
}

#[tokio::test]
async fn following_the_redirect_without_a_host_header_reaches_the_callback_for_the_only_shop() {
    use axum::extract::RawQuery;
    let o = start().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let callback = format!(
        "http://{}/auth/callback",
        listener.local_addr().expect("addr")
    );
    let app = axum::Router::new().route(
        "/auth/callback",
        axum::routing::get(|RawQuery(q): RawQuery| async move { q.unwrap_or_default() }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    // As a browser or `curl -L` would: the admin URL's own host, redirects followed.
    let query = reqwest::get(format!(
        "{}/admin/oauth/authorize?client_id={CLIENT_ID}&scope={SCOPES}&redirect_uri={callback}&state=s1",
        o.sandbox.base_url()
    ))
    .await
    .expect("followed")
    .text()
    .await
    .expect("body");
    server.abort();
    let params: BTreeMap<String, String> = reqwest::Url::parse(&format!("http://x/?{query}"))
        .expect("query")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(
        params.get("shop").map(String::as_str),
        Some(SHOP),
        "{query}"
    );
    let (status, body) = o
        .token(&creds(&[("code", &params["code"]), ("expiring", "1")]))
        .await;
    assert_eq!(status, 200, "{body}");
}
