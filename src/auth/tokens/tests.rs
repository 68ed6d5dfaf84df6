use std::path::Path;

use futures_util::future::BoxFuture;

use super::*;
use crate::auth::stored::{Refresh, StoredTokens};
use crate::clock::ManualClock;
use crate::config::Env;

/// One stored row, fresh: what the store would hold for a shop installed after start.
struct OneRow;

fn row() -> StoredTokens {
    StoredTokens {
        access_token: Some(SecretString::from("shpat_installed".to_owned())),
        access_expires_at: Some(now() + SignedDuration::from_hours(1)),
        refresh_token: Some(SecretString::from("shprt_installed".to_owned())),
        previous_refresh_token: None,
    }
}

fn now() -> Timestamp {
    "2026-12-01T10:00:00Z".parse().unwrap()
}

impl TokenStore for OneRow {
    fn refresh<'a>(
        &'a self,
        _shop: &'a ShopDomain,
        _lock_timeout: Duration,
        _now: Timestamp,
        refresh: Refresh,
    ) -> BoxFuture<'a, Result<Result<StoredTokens, GrantError>, AuthError>> {
        Box::pin(async move {
            match refresh(row()).await {
                Ok(_) => Ok(Ok(row())),
                Err(e) => Ok(Err(e)),
            }
        })
    }
}

fn config() -> Config {
    let text = r#"
[shopify]
client_secrets = ["s"]
client_id = "id"
[[shops]]
domain = "acme.myshopify.com"
access_token = "shpat_static"
"#;
    Config::from_toml(text, Path::new("t.toml"), &Env::default()).expect("valid")
}

#[tokio::test]
async fn a_shop_not_in_the_config_takes_its_token_from_the_store_as_an_oauth_shop() {
    let clock = Arc::new(ManualClock::new(now()));
    let installed = ShopDomain::parse("newshop.myshopify.com").unwrap();
    let tokens = Tokens::new(&config(), clock.clone(), Some(Arc::new(OneRow))).unwrap();
    let token = tokens
        .access_token(&installed)
        .await
        .expect("from the store");
    assert_eq!(token.expose_secret(), "shpat_installed");
    assert_eq!(tokens.mode(&installed), Some(AuthMode::OAuth));
    assert!(tokens.renews(&installed), "a 401 renews it");

    let without_store = Tokens::new(&config(), clock, None).unwrap();
    assert!(matches!(
        without_store.access_token(&installed).await,
        Err(AuthError::UnknownShop(_))
    ));
}
