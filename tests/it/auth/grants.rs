//! Each grant sends exactly the documented fields, form-encoded, and turns the answer's
//! lifetimes into instants on the injected clock; errors carry no secret.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use orderflow::auth::{Admin, GrantError, Grants, TokenGrant};
use orderflow::clock::ManualClock;
use orderflow::sandbox::{Sandbox, SandboxConfig};
use secrecy::{ExposeSecret, SecretString};

use super::token_server::{CLIENT_ID, TokenServer};
use crate::shopify::shop;

const SECRET: &str = "sentinel-grant-secret-0b7e";
const SUBJECT: &str = "sentinel-subject-token-d41c";

fn now() -> Timestamp {
    "2026-12-01T09:00:00Z".parse().unwrap()
}

async fn setup() -> (TokenServer, Grants, Admin) {
    let sandbox = Arc::new(
        Sandbox::start(SandboxConfig::default())
            .await
            .expect("sandbox"),
    );
    let server = TokenServer::start(sandbox, SECRET).await;
    let grants = Grants::new(
        CLIENT_ID.to_owned(),
        SecretString::from(SECRET.to_owned()),
        Arc::new(ManualClock::new(now())),
    )
    .expect("grants");
    let admin = Admin {
        shop: shop(),
        base: Some(server.url.clone()),
    };
    (server, grants, admin)
}

fn keys(server: &TokenServer) -> Vec<String> {
    server
        .requests()
        .last()
        .unwrap()
        .form
        .keys()
        .cloned()
        .collect()
}

fn field(server: &TokenServer, k: &str) -> String {
    server.requests().last().unwrap().form[k].clone()
}

fn assert_expiring_pair(g: &TokenGrant) {
    assert_eq!(
        g.access_expires_at,
        Some(now() + SignedDuration::from_secs(3600))
    );
    assert_eq!(
        g.refresh_expires_at,
        Some(now() + SignedDuration::from_secs(7_776_000))
    );
    assert!(g.refresh_token.is_some());
    assert_eq!(g.scopes, "write_orders,read_products");
}

#[tokio::test]
async fn authorization_code_is_exchanged_for_an_expiring_pair() {
    let (server, grants, admin) = setup().await;
    let code = SecretString::from("code-123".to_owned());
    let g = grants.exchange_code(&admin, &code).await.expect("grant");
    assert_eq!(
        keys(&server),
        ["client_id", "client_secret", "code", "expiring"]
    );
    assert_eq!(field(&server, "expiring"), "1");
    assert_eq!(field(&server, "code"), "code-123");
    assert_expiring_pair(&g);
    assert_eq!(
        server.requests()[0].content_type,
        "application/x-www-form-urlencoded"
    );
    assert_eq!(server.requests()[0].accept, "application/json");
}

#[tokio::test]
async fn refresh_sends_the_refresh_token_and_gets_a_rotated_pair() {
    let (server, grants, admin) = setup().await;
    let rt = SecretString::from("shprt_old".to_owned());
    let g = grants.refresh(&admin, &rt).await.expect("grant");
    assert_eq!(
        keys(&server),
        ["client_id", "client_secret", "grant_type", "refresh_token"]
    );
    assert_eq!(field(&server, "grant_type"), "refresh_token");
    assert_eq!(field(&server, "refresh_token"), "shprt_old");
    assert_expiring_pair(&g);
}

#[tokio::test]
async fn session_token_exchange_asks_for_an_expiring_offline_token() {
    let (server, grants, admin) = setup().await;
    let st = SecretString::from(SUBJECT.to_owned());
    let g = grants
        .exchange_session_token(&admin, &st)
        .await
        .expect("grant");
    assert_eq!(
        keys(&server),
        [
            "client_id",
            "client_secret",
            "expiring",
            "grant_type",
            "requested_token_type",
            "subject_token",
            "subject_token_type"
        ]
    );
    assert_eq!(
        field(&server, "grant_type"),
        "urn:ietf:params:oauth:grant-type:token-exchange"
    );
    assert_eq!(
        field(&server, "subject_token_type"),
        "urn:ietf:params:oauth:token-type:id_token"
    );
    assert_eq!(
        field(&server, "requested_token_type"),
        "urn:shopify:params:oauth:token-type:offline-access-token"
    );
    assert_eq!(field(&server, "expiring"), "1");
    assert_expiring_pair(&g);
}

#[tokio::test]
async fn migration_exchanges_the_offline_token_itself() {
    let (server, grants, admin) = setup().await;
    let offline = SecretString::from("shpat_non_expiring".to_owned());
    let g = grants
        .migrate_offline_token(&admin, &offline)
        .await
        .expect("grant");
    let urn = "urn:shopify:params:oauth:token-type:offline-access-token";
    assert_eq!(field(&server, "subject_token"), "shpat_non_expiring");
    assert_eq!(field(&server, "subject_token_type"), urn);
    assert_eq!(field(&server, "requested_token_type"), urn);
    assert_eq!(field(&server, "expiring"), "1");
    assert_expiring_pair(&g);
}

#[tokio::test]
async fn client_credentials_gets_a_24_hour_token_without_refresh_token() {
    let (_server, grants, admin) = setup().await;
    let g = grants.client_credentials(&admin).await.expect("grant");
    assert_eq!(
        g.access_expires_at,
        Some(now() + SignedDuration::from_secs(86_399))
    );
    assert!(g.refresh_token.is_none());
    assert!(g.refresh_expires_at.is_none());
}

#[tokio::test]
async fn refusals_are_classified_and_no_error_or_debug_shows_a_secret() {
    let (server, grants, admin) = setup().await;
    let st = SecretString::from(SUBJECT.to_owned());
    let mut shown = Vec::new();
    for (status, transient) in [
        (400, false),
        (401, false),
        (429, true),
        (500, true),
        (520, true),
    ] {
        server.fail_next(1, status);
        let err = grants
            .exchange_session_token(&admin, &st)
            .await
            .expect_err("refused");
        assert_eq!(err.is_transient(), transient, "{status}: {err}");
        assert_eq!(err.status(), Some(status));
        assert!(matches!(&err, GrantError::Status { code: Some(c), .. } if c == "invalid_request"));
        shown.push(format!("{err} {err:?}"));
    }
    let unreachable = Admin {
        shop: shop(),
        base: Some("http://127.0.0.1:1".to_owned()),
    };
    let err = grants
        .exchange_session_token(&unreachable, &st)
        .await
        .expect_err("no server");
    assert!(err.is_transient(), "{err}");
    shown.push(format!("{err} {err:?}"));
    let g = grants.client_credentials(&admin).await.expect("grant");
    shown.push(format!("{g:?} {grants:?}"));
    let text = shown.join("\n");
    for secret in [SECRET, SUBJECT, g.access_token.expose_secret()] {
        assert!(!text.contains(secret), "{secret} leaked:\n{text}");
    }
}
