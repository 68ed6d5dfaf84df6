//! `orderflow tokens` as a user runs it: the real binary against the sandbox shop (with an app,
//! so it speaks OAuth) and a token store in a PostgreSQL database of the test's own. Migration of
//! one shop and of all, re-runs that send nothing, a lost answer recovered by running again,
//! the status table, and no secret in any output.

use std::path::{Path, PathBuf};
use std::process::Output;

use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};

use orderflow::clock::{Clock, SystemClock};
use orderflow::id::ShopDomain;
use orderflow::sandbox::{Grant, Sandbox, SandboxApp, SandboxConfig, TokenOutcome};
use orderflow::store::{Store, TokenGrant};

use crate::store::db::{KEY, TestDb};

const CLIENT_ID: &str = "client-id-tokens-cli";
/// Sentinels: none may appear in any output of the command.
const SECRET: &str = "shpss_SENTINEL_TOKENS_SECRET_8d41";
const ACME_TOKEN: &str = "shpat_SENTINEL_ACME_LEGACY_1a2b";
const BETA_TOKEN: &str = "shpat_SENTINEL_BETA_LEGACY_3c4d";
const GAMMA_TOKEN: &str = "shpat_SENTINEL_GAMMA_LEGACY_5e6f";
const DELTA_ACCESS: &str = "shpat_SENTINEL_DELTA_EXPIRING_7a8b";
const DELTA_REFRESH: &str = "shprt_SENTINEL_DELTA_REFRESH_9c0d";
const SCOPES: &str = "read_orders,write_orders";

fn domain(name: &str) -> ShopDomain {
    ShopDomain::parse(&format!("{name}.myshopify.com")).expect("domain")
}

struct Setup {
    sandbox: Sandbox,
    db: TestDb,
    store: Store,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Setup {
    /// The sandbox with acme and beta holding their non-expiring tokens, an empty store.
    async fn start() -> Setup {
        let sandbox = Sandbox::start(SandboxConfig {
            app: Some(SandboxApp {
                client_id: CLIENT_ID.into(),
                client_secret: SecretString::from(SECRET),
                scopes: SCOPES.into(),
            }),
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox starts");
        sandbox.add_shop(domain("acme"), SecretString::from(ACME_TOKEN));
        sandbox.add_shop(domain("beta"), SecretString::from(BETA_TOKEN));
        let db = TestDb::create().await;
        let store = Store::connect(&db.config(KEY)).await.expect("store");
        Setup {
            sandbox,
            db,
            store,
            dir: tempfile::tempdir().expect("tempdir"),
            http: reqwest::Client::new(),
        }
    }

    /// A config with acme in static mode and beta in oauth mode, both with their old tokens;
    /// `store` and `client_id` as asked.
    fn config(&self, store: bool, client_id: bool) -> PathBuf {
        let mut text = format!(
            "[shopify]\nclient_secrets = [\"{SECRET}\"]\nadmin_url = \"{}\"\napp_url = \"https://app.example.com\"\n",
            self.sandbox.base_url()
        );
        if client_id {
            text.push_str(&format!("client_id = \"{CLIENT_ID}\"\n"));
        }
        if store {
            text.push_str(&format!(
                "[store]\nurl = \"{}\"\nencryption_key = \"{KEY}\"\n",
                self.db.url
            ));
        }
        text.push_str(&format!(
            "[[shops]]\ndomain = \"acme.myshopify.com\"\naccess_token = \"{ACME_TOKEN}\"\ntimezone = \"Europe/Amsterdam\"\n"
        ));
        if store {
            // oauth needs [store]; without it beta is left out.
            text.push_str(&format!(
                "[[shops]]\ndomain = \"beta.myshopify.com\"\nauth = \"oauth\"\naccess_token = \"{BETA_TOKEN}\"\n"
            ));
        }
        let path = self.dir.path().join("orderflow.toml");
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// gamma: a stored non-expiring token (known to the sandbox); delta: a stored expiring pair.
    async fn stored_shops(&self) {
        let now = SystemClock.now();
        self.sandbox
            .add_shop(domain("gamma"), SecretString::from(GAMMA_TOKEN));
        let non_expiring = TokenGrant {
            access_token: SecretString::from(GAMMA_TOKEN),
            access_expires_at: None,
            refresh_token: None,
            refresh_expires_at: None,
            scopes: SCOPES.into(),
        };
        self.store
            .install(&domain("gamma"), &non_expiring, None, now)
            .await
            .expect("install gamma");
        let pair = TokenGrant {
            access_token: SecretString::from(DELTA_ACCESS),
            access_expires_at: Some(now + SignedDuration::from_hours(1)),
            refresh_token: Some(SecretString::from(DELTA_REFRESH)),
            refresh_expires_at: Some(now + SignedDuration::from_hours(90 * 24)),
            scopes: SCOPES.into(),
        };
        self.store
            .install(&domain("delta"), &pair, None, now)
            .await
            .expect("install delta");
    }

    /// Whether the sandbox's Admin API accepts `token` for `shop` (anything but a 401).
    async fn accepted(&self, shop: &str, token: &str) -> bool {
        let response = self
            .http
            .post(format!(
                "{}/admin/api/2026-10/graphql.json",
                self.sandbox.base_url()
            ))
            .header("Host", format!("{shop}.myshopify.com"))
            .header("X-Shopify-Access-Token", token)
            .json(&serde_json::json!({"query": "{ __typename }"}))
            .send()
            .await
            .expect("graphql request");
        response.status() != reqwest::StatusCode::UNAUTHORIZED
    }

    /// The shop's stored access token, which must expire, with its refresh token.
    async fn stored_pair(&self, shop: &str) -> (String, String, Timestamp) {
        let row = self
            .store
            .shop(&domain(shop))
            .await
            .expect("read the store")
            .unwrap_or_else(|| panic!("{shop} is stored"));
        (
            row.access_token
                .expect("access token")
                .expose_secret()
                .to_owned(),
            row.refresh_token
                .expect("refresh token")
                .expose_secret()
                .to_owned(),
            row.access_expires_at.expect("an expiring access token"),
        )
    }

    fn migrations(&self) -> Vec<TokenOutcome> {
        self.sandbox
            .token_requests()
            .into_iter()
            .inspect(|r| assert_eq!(r.grant, Grant::Migration, "{r:?}"))
            .map(|r| r.outcome)
            .collect()
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn orderflow(config: &Path, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("tokens")
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .await
        .expect("run orderflow");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

impl Run {
    fn succeeded(&self) -> &Self {
        assert_eq!(self.code, Some(0), "{}{}", self.stdout, self.stderr);
        self
    }

    /// No sentinel, and none of `extra` (tokens the sandbox minted), in stdout or stderr.
    fn assert_no_secret(&self, extra: &[&str]) {
        let all = format!("{}{}", self.stdout, self.stderr);
        let fixed = [
            SECRET,
            ACME_TOKEN,
            BETA_TOKEN,
            GAMMA_TOKEN,
            DELTA_ACCESS,
            DELTA_REFRESH,
            KEY,
        ];
        for secret in fixed.iter().chain(extra) {
            assert!(!all.contains(secret), "{secret} leaked:\n{all}");
        }
    }

    fn line(&self, shop: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{shop}.myshopify.com")))
            .unwrap_or_else(|| panic!("a line for {shop}:\n{}", self.stdout))
    }
}

#[tokio::test]
async fn migrating_a_shop_stores_a_working_expiring_pair_and_running_again_sends_nothing() {
    let s = Setup::start().await;
    let config = s.config(true, true);
    let run = orderflow(&config, &["migrate", "--shop", "acme.myshopify.com"]).await;
    run.succeeded();
    assert!(
        run.line("acme")
            .contains("migrated the config's non-expiring token"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("set this shop's auth = \"oauth\""),
        "acme is static: it must move to oauth: {}",
        run.stdout
    );
    let (access, refresh, expires) = s.stored_pair("acme").await;
    assert!(expires > SystemClock.now(), "expires in the future");
    assert!(s.accepted("acme", &access).await, "the stored token works");
    assert!(
        !s.accepted("acme", ACME_TOKEN).await,
        "Shopify revoked the old token"
    );
    assert!(
        s.store.shop(&domain("beta")).await.unwrap().is_none(),
        "--shop migrates that shop only"
    );
    assert_eq!(s.migrations(), [TokenOutcome::Issued { expiring: true }]);
    run.assert_no_secret(&[&access, &refresh]);

    let again = orderflow(&config, &["migrate", "--shop", "acme.myshopify.com"]).await;
    again.succeeded();
    assert!(
        again
            .line("acme")
            .contains("already expiring: nothing sent"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("set this shop's auth = \"oauth\""),
        "acme is still static: the hint stays until it moves: {}",
        again.stdout
    );
    assert_eq!(s.migrations().len(), 1, "nothing sent the second time");
    assert_eq!(s.stored_pair("acme").await.0, access, "the pair is kept");
    again.assert_no_secret(&[&access, &refresh]);
}

#[tokio::test]
async fn migrating_all_swaps_configured_and_stored_non_expiring_tokens_and_skips_the_rest() {
    let s = Setup::start().await;
    s.stored_shops().await;
    let config = s.config(true, true);
    let run = orderflow(&config, &["migrate", "--all"]).await;
    run.succeeded();
    assert!(
        run.line("acme").contains("migrated the config's"),
        "{}",
        run.stdout
    );
    assert!(
        run.line("beta").contains("migrated the config's"),
        "{}",
        run.stdout
    );
    assert!(
        run.line("gamma").contains("migrated the store's"),
        "{}",
        run.stdout
    );
    assert!(
        run.line("delta").contains("already expiring: nothing sent"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("its access_token can be removed"),
        "beta already uses oauth: {}",
        run.stdout
    );
    assert_eq!(
        s.migrations(),
        vec![TokenOutcome::Issued { expiring: true }; 3],
        "one exchange per non-expiring token"
    );
    let mut minted = Vec::new();
    for shop in ["acme", "beta", "gamma"] {
        let (access, refresh, _) = s.stored_pair(shop).await;
        assert!(
            s.accepted(shop, &access).await,
            "{shop}'s stored token works"
        );
        minted.extend([access, refresh]);
    }
    let delta = s.stored_pair("delta").await;
    assert_eq!(delta.0, DELTA_ACCESS, "delta's pair is left alone");
    let minted: Vec<&str> = minted.iter().map(String::as_str).collect();
    run.assert_no_secret(&minted);

    let again = orderflow(&config, &["migrate", "--all"]).await;
    again.succeeded();
    for shop in ["acme", "beta", "gamma", "delta"] {
        assert!(
            again.line(shop).contains("already expiring: nothing sent"),
            "{}",
            again.stdout
        );
    }
    assert_eq!(s.migrations().len(), 3, "a re-run sends nothing");
}

#[tokio::test]
async fn a_lost_migration_answer_is_recovered_by_running_the_command_again() {
    let s = Setup::start().await;
    let config = s.config(true, true);
    s.sandbox.lose_next_token_response();
    let lost = orderflow(&config, &["migrate", "--shop", "acme.myshopify.com"]).await;
    assert_eq!(lost.code, Some(1), "{}{}", lost.stdout, lost.stderr);
    assert!(
        lost.line("acme").contains("HTTP 520")
            && lost.line("acme").contains("run the command again"),
        "{}",
        lost.stdout
    );
    assert!(
        s.store.shop(&domain("acme")).await.unwrap().is_none(),
        "nothing stored without an answer"
    );
    assert!(
        !s.sandbox_accepts_old_acme().await,
        "Shopify applied the lost migration: the old token is revoked"
    );

    let recovered = orderflow(&config, &["migrate", "--shop", "acme.myshopify.com"]).await;
    recovered.succeeded();
    assert!(
        recovered.line("acme").contains("migrated"),
        "{}",
        recovered.stdout
    );
    assert_eq!(
        s.migrations(),
        [TokenOutcome::Lost, TokenOutcome::Issued { expiring: true }]
    );
    let (access, refresh, _) = s.stored_pair("acme").await;
    assert!(
        s.accepted("acme", &access).await,
        "the recovered pair works"
    );
    lost.assert_no_secret(&[&access, &refresh]);
    recovered.assert_no_secret(&[&access, &refresh]);
}

impl Setup {
    async fn sandbox_accepts_old_acme(&self) -> bool {
        self.accepted("acme", ACME_TOKEN).await
    }
}

#[tokio::test]
async fn status_lists_every_configured_and_stored_shop_without_a_token() {
    let s = Setup::start().await;
    s.stored_shops().await;
    let config = s.config(true, true);
    orderflow(&config, &["migrate", "--shop", "acme.myshopify.com"])
        .await
        .succeeded();
    let (access, refresh, expires) = s.stored_pair("acme").await;
    let run = orderflow(&config, &["status"]).await;
    run.succeeded();
    let header = run.stdout.lines().next().unwrap_or_default();
    for column in [
        "SHOP",
        "MODE",
        "STATE",
        "TOKEN EXPIRES",
        "REFRESH EXPIRES",
        "LAST REFRESH",
        "SCOPES",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let acme = run.line("acme");
    assert!(
        acme.contains("static") && acme.contains("installed"),
        "{acme}"
    );
    assert!(
        acme.contains("stored pair unused until auth = \"oauth\""),
        "{acme}"
    );
    let shown = expires.round(jiff::Unit::Second).unwrap().to_string();
    assert!(acme.contains(&shown), "the token's expiry {shown}: {acme}");
    assert!(acme.contains(SCOPES), "{acme}");
    let beta = run.line("beta");
    assert!(
        beta.contains("oauth") && beta.contains("not installed"),
        "{beta}"
    );
    let gamma = run.line("gamma");
    assert!(
        gamma.contains("oauth") && gamma.contains(" never "),
        "{gamma}"
    );
    assert!(run.line("delta").contains("installed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("before 2027-01-01"),
        "gamma's token never expires: {}",
        run.stdout
    );
    run.assert_no_secret(&[&access, &refresh]);
}

#[tokio::test]
async fn migrate_names_the_missing_store_and_client_id_and_sends_nothing() {
    let s = Setup::start().await;
    let no_store = orderflow(&s.config(false, true), &["migrate", "--all"]).await;
    assert_eq!(
        no_store.code,
        Some(1),
        "{}{}",
        no_store.stdout,
        no_store.stderr
    );
    assert!(no_store.stderr.contains("[store]"), "{}", no_store.stderr);
    let no_id = orderflow(&s.config(true, false), &["migrate", "--all"]).await;
    assert_eq!(no_id.code, Some(1), "{}{}", no_id.stdout, no_id.stderr);
    assert!(
        no_id.stderr.contains("shopify.client_id"),
        "{}",
        no_id.stderr
    );
    assert!(s.sandbox.token_requests().is_empty());
    no_store.assert_no_secret(&[]);
    no_id.assert_no_secret(&[]);
}

#[tokio::test]
async fn status_without_a_store_lists_the_configured_shops_only() {
    let s = Setup::start().await;
    let run = orderflow(&s.config(false, true), &["status"]).await;
    run.succeeded();
    let acme = run.line("acme");
    assert!(acme.contains("static") && acme.contains("never"), "{acme}");
    assert!(run.stdout.contains("no [store]"), "{}", run.stdout);
    run.assert_no_secret(&[]);
}

#[tokio::test]
async fn a_store_that_cannot_be_opened_is_named_without_its_password() {
    let s = Setup::start().await;
    let path = s.config(true, true);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        &s.db.url,
        "postgres://orderflow:PW-SENTINEL-7d1c@127.0.0.1:99999/of",
    );
    std::fs::write(&path, text).unwrap();
    for args in [&["status"][..], &["migrate", "--all"]] {
        let run = orderflow(&path, args).await;
        assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains("store.url"), "{}", run.stderr);
        assert!(!run.stderr.contains("PW-SENTINEL"), "{}", run.stderr);
        run.assert_no_secret(&["PW-SENTINEL"]);
    }
    assert!(s.sandbox.token_requests().is_empty());
}
