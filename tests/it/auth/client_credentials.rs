//! Client-credentials mode end to end: the Shopify client gets each shop's token from the token
//! endpoint on first use, reuses it, renews it 5 minutes before its 24 hours run out (on a
//! manual clock) and after a 401, and concurrent first uses share one token request.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use orderflow::auth::Tokens;
use orderflow::clock::ManualClock;
use orderflow::config::{AuthMode, Config, Env};
use orderflow::sandbox::{Sandbox, SandboxConfig};
use orderflow::shopify::{Client, ShopifyError};
use secrecy::SecretString;

use super::token_server::{CLIENT_ID, TokenServer};
use crate::shopify::{fast_retries, fixtures_dir, order_id, shop};

pub const CLIENT_SECRET: &str = "sentinel-cc-client-secret-41d2";

pub struct Setup {
    pub sandbox: Arc<Sandbox>,
    pub server: TokenServer,
    pub client: Client,
    pub tokens: Tokens,
    pub clock: ManualClock,
}

pub fn config(admin_url: &str, mode: &str) -> Config {
    let text = format!(
        r#"
[shopify]
auth = "{mode}"
client_id = "{CLIENT_ID}"
client_secrets = ["${{SECRET}}"]
admin_url = "{admin_url}"
[[shops]]
domain = "acme.myshopify.com"
"#
    );
    Config::from_toml(
        &text,
        Path::new("cc.toml"),
        &Env::from_pairs([("SECRET", CLIENT_SECRET)]),
    )
    .expect("valid config")
}

pub async fn setup() -> Setup {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    // The shop exists with a token nobody has: only issued tokens work.
    sandbox
        .load_fixtures(
            &fixtures_dir(),
            &SecretString::from("shpat_nobody".to_owned()),
        )
        .expect("fixtures");
    let sandbox = Arc::new(sandbox);
    let server = TokenServer::start(sandbox.clone(), CLIENT_SECRET).await;
    let config = config(&server.url, "client_credentials");
    assert_eq!(config.auth.mode_of(&shop()), AuthMode::ClientCredentials);
    let clock = ManualClock::new("2026-12-01T09:00:00Z".parse::<Timestamp>().unwrap());
    let tokens = Tokens::new(&config, Arc::new(clock.clone()), None).expect("tokens");
    let client = Client::with_tokens(
        &config.shopify,
        &config.shops,
        fast_retries(),
        tokens.clone(),
    )
    .expect("client");
    Setup {
        sandbox,
        server,
        client,
        tokens,
        clock,
    }
}

#[tokio::test]
async fn first_use_fetches_a_token_with_the_documented_request_and_later_uses_reuse_it() {
    let s = setup().await;
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
    let requests = s.server.requests();
    assert_eq!(requests.len(), 1, "one token for both calls");
    let r = &requests[0];
    assert_eq!(r.host, "acme.myshopify.com");
    assert_eq!(r.content_type, "application/x-www-form-urlencoded");
    assert_eq!(r.accept, "application/json");
    let keys: Vec<&str> = r.form.keys().map(String::as_str).collect();
    assert_eq!(keys, ["client_id", "client_secret", "grant_type"]);
    assert_eq!(r.form["grant_type"], "client_credentials");
}

#[tokio::test]
async fn the_token_is_renewed_five_minutes_before_its_24_hours_run_out() {
    let s = setup().await;
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
    // 86399 s of life: renewal is due at 86399 - 300 s.
    s.clock.advance(SignedDuration::from_secs(86_399 - 301));
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
    assert_eq!(s.server.request_count(), 1, "still fresh");
    s.clock.advance(SignedDuration::from_secs(2));
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
    assert_eq!(s.server.request_count(), 2, "renewed before expiry");
    // The renewed token is the one sent now (the first no longer works on the sandbox).
    let token = s.tokens.access_token(&shop()).await.expect("token");
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&token),
        TokenServer::token(2)
    );
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_the_call_succeeds() {
    let s = setup().await;
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
    s.sandbox.revoke_token(&shop());
    let before = s.sandbox.request_count();
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("renewed and retried");
    assert_eq!(s.server.request_count(), 2, "exactly one renewal");
    assert_eq!(
        s.sandbox.request_count() - before,
        2,
        "the refused request and its one retry"
    );
}

#[tokio::test]
async fn a_second_401_after_renewal_is_unauthorized_without_more_renewals() {
    let s = setup().await;
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
    s.server.stop_registering();
    s.sandbox.revoke_token(&shop());
    let err = s
        .client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect_err("refused twice");
    assert!(
        matches!(err, ShopifyError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(s.server.request_count(), 2, "one renewal, not a loop");
}

#[tokio::test]
async fn concurrent_first_uses_send_one_token_request() {
    let s = setup().await;
    s.server.hold();
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let client = s.client.clone();
            tokio::spawn(async move { client.fetch_snapshot(&shop(), order_id(1)).await })
        })
        .collect();
    crate::harness::eventually(
        Duration::from_secs(5),
        "the first token request",
        || async { (s.server.request_count() >= 1).then_some(()) },
    )
    .await;
    s.server.release(8);
    for call in calls {
        call.await.expect("task").expect("snapshot");
    }
    assert_eq!(
        s.server.request_count(),
        1,
        "the callers shared one request"
    );
}

#[tokio::test]
async fn a_failing_token_endpoint_is_transient_on_5xx_and_unauthorized_on_4xx() {
    let s = setup().await;
    s.server.fail_next(1, 503);
    let err = s
        .client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect_err("no token");
    assert!(err.is_transient(), "{err:?}");
    s.server.fail_next(1, 400);
    let err = s
        .client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect_err("no token");
    assert!(
        matches!(err, ShopifyError::Unauthorized { status: 400, .. }),
        "{err:?}"
    );
    // The endpoint answers again: so does the client.
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
}

#[tokio::test]
async fn no_issued_token_or_client_secret_in_logs_debug_or_errors() {
    crate::harness::logs::init();
    let s = setup().await;
    let mut shown = Vec::new();
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("snapshot");
    s.sandbox.revoke_token(&shop());
    s.client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("renewed");
    for status in [503, 400] {
        s.server.fail_next(1, status);
        s.sandbox.revoke_token(&shop());
        let err = s
            .client
            .fetch_snapshot(&shop(), order_id(1))
            .await
            .expect_err("no token");
        shown.push(format!("{err} {err:?}"));
    }
    shown.push(format!("{:?} {:?}", s.client, s.tokens));
    shown.push(crate::harness::logs::captured());
    let text = shown.join("\n");
    assert!(
        !text.contains(CLIENT_SECRET),
        "the client secret leaked:\n{text}"
    );
    assert!(
        !text.contains("shpat_issued_"),
        "an issued token leaked:\n{text}"
    );
}

/// The same mode against the sandbox's own token endpoint (Shopify's shapes, its 24-hour
/// tokens judged on the sandbox clock) instead of the recording endpoint above: the first use
/// gets a token, a use after the token's life is over gets a new one, and a 5xx from the token
/// endpoint is transient.
#[tokio::test]
async fn against_the_sandboxs_token_endpoint_a_token_is_fetched_used_and_renewed_in_time() {
    use orderflow::sandbox::{Grant, SandboxApp};
    let clock = ManualClock::new("2026-12-01T09:00:00Z".parse::<Timestamp>().unwrap());
    let sandbox = Sandbox::start(SandboxConfig {
        clock: Arc::new(clock.clone()),
        app: Some(SandboxApp {
            client_id: CLIENT_ID.to_owned(),
            client_secret: SecretString::from(CLIENT_SECRET),
            scopes: orderflow::config::DEFAULT_SCOPES.join(","),
        }),
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    sandbox
        .load_fixtures(
            &fixtures_dir(),
            &SecretString::from("shpat_nobody".to_owned()),
        )
        .expect("fixtures");
    let config = config(&sandbox.base_url(), "client_credentials");
    let tokens = Tokens::new(&config, Arc::new(clock.clone()), None).expect("tokens");
    let client = Client::with_tokens(&config.shopify, &config.shops, fast_retries(), tokens)
        .expect("client");
    let granted = |sandbox: &Sandbox| {
        sandbox
            .token_requests()
            .iter()
            .filter(|r| r.grant == Grant::ClientCredentials)
            .count()
    };
    client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("the first use gets a token the sandbox accepts");
    assert_eq!(granted(&sandbox), 1);
    client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("reused");
    assert_eq!(granted(&sandbox), 1, "the token is reused while fresh");
    // Past its 86399 s the sandbox refuses the old token; orderflow renews it before, in time.
    clock.advance(SignedDuration::from_secs(86_399 - 60));
    client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("renewed before it ran out");
    assert_eq!(granted(&sandbox), 2, "renewed within the last 5 minutes");
    clock.advance(SignedDuration::from_secs(86_399 - 60));
    sandbox.fail_token_requests(1, 503);
    let err = client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect_err("the token endpoint answered 503");
    assert!(err.is_transient(), "{err}");
    client
        .fetch_snapshot(&shop(), order_id(1))
        .await
        .expect("the next attempt renews");
}
