//! The token keys: today's configs keep meaning `static`; each mode's needs are errors naming
//! the key and the fix; a shop can override the app's mode; `check` prints the modes and the
//! scopes and never a secret.

use std::path::Path;
use std::sync::Arc;

use orderflow::auth::{AuthError, Tokens};
use orderflow::clock::SystemClock;
use orderflow::config::{AuthMode, Config, ConfigError, DEFAULT_SCOPES, Env};

const SECRET: &str = "sentinel-config-secret-77aa";
const TOKEN: &str = "sentinel-config-token-1f0c";

fn load(text: &str) -> Result<Config, ConfigError> {
    let env = Env::from_pairs([("SECRET", SECRET), ("TOKEN", TOKEN)]);
    Config::from_toml(text, Path::new("auth.toml"), &env)
}

fn keys(err: &ConfigError) -> Vec<String> {
    err.issues().iter().map(|i| i.key.clone()).collect()
}

const STATIC: &str = r#"
[shopify]
client_secrets = ["${SECRET}"]
[[shops]]
domain = "acme.myshopify.com"
access_token = "${TOKEN}"
"#;

#[test]
fn a_config_without_auth_keys_is_static_with_the_default_scopes() {
    let c = load(STATIC).expect("valid");
    assert_eq!(c.auth.mode, AuthMode::Static);
    assert_eq!(c.auth.mode_of(&c.shops[0].domain), AuthMode::Static);
    assert_eq!(c.auth.scopes, DEFAULT_SCOPES);
    assert!(c.auth.client_id.is_none() && c.auth.app_url.is_none());
    assert!(Tokens::new(&c, Arc::new(SystemClock), None).is_ok());
}

#[test]
fn client_credentials_needs_the_client_id_but_no_shop_token() {
    let text = r#"
[shopify]
auth = "client_credentials"
client_secrets = ["${SECRET}"]
[[shops]]
domain = "acme.myshopify.com"
"#;
    let err = load(text).expect_err("no client id");
    assert_eq!(keys(&err), ["shopify.client_id"], "{err}");
    assert!(
        err.to_string().contains("client_id = "),
        "says the fix: {err}"
    );
    let ok = text.replace("auth = ", "client_id = \"abc\"\nauth = ");
    let c = load(&ok).expect("valid");
    assert_eq!(
        c.auth.mode_of(&c.shops[0].domain),
        AuthMode::ClientCredentials
    );
}

#[test]
fn a_shop_can_override_the_apps_mode_and_its_needs_follow() {
    let text = format!("{STATIC}auth = \"client_credentials\"\n");
    let err = load(&text).expect_err("the shop's mode needs a client id");
    assert_eq!(keys(&err), ["shopify.client_id"], "{err}");
    let text = format!(
        "{}\n[[shops]]\ndomain = \"bolt.myshopify.com\"\nauth = \"client_credentials\"\n",
        STATIC.replace("[shopify]", "[shopify]\nclient_id = \"abc\"")
    );
    let c = load(&text).expect("valid");
    assert_eq!(c.auth.mode_of(&c.shops[0].domain), AuthMode::Static);
    assert_eq!(
        c.auth.mode_of(&c.shops[1].domain),
        AuthMode::ClientCredentials
    );
}

#[test]
fn static_still_needs_each_shops_token() {
    let text = STATIC.replace("access_token = \"${TOKEN}\"\n", "");
    let err = load(&text).expect_err("no token");
    assert_eq!(keys(&err), ["shops[0].access_token"], "{err}");
}

#[test]
fn oauth_needs_the_client_id_the_app_url_and_a_store() {
    let text = r#"
[shopify]
auth = "oauth"
client_secrets = ["${SECRET}"]
[[shops]]
domain = "acme.myshopify.com"
"#;
    let err = load(text).expect_err("oauth needs more");
    assert_eq!(
        keys(&err),
        ["shopify.client_id", "shopify.app_url", "store"],
        "{err}"
    );
    let ok = text.replace(
        "auth = \"oauth\"",
        "auth = \"oauth\"\nclient_id = \"abc\"\napp_url = \"https://of.example.com/\"",
    ) + "[store]\nurl = \"postgres://127.0.0.1/orderflow\"\nencryption_key = \"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\n";
    let c = load(&ok).expect("valid");
    assert_eq!(c.auth.app_url.as_deref(), Some("https://of.example.com"));
    // Until the token store is wired, the process refuses an oauth shop at start-up.
    let err = Tokens::new(&c, Arc::new(SystemClock), None).expect_err("no store");
    assert!(matches!(err, AuthError::NoStore(_)), "{err}");
}

#[test]
fn bad_values_are_named_by_their_key() {
    let text = r#"
[shopify]
auth = "magic"
client_secrets = ["${SECRET}"]
scopes = ["read_orders", "Write Orders"]
app_url = "of.example.com"
admin_url = "ftp://x"
[[shops]]
domain = "acme.myshopify.com"
access_token = "${TOKEN}"
auth = "oauth2"
"#;
    let err = load(text).expect_err("bad values");
    assert_eq!(
        keys(&err),
        [
            "shopify.auth",
            "shopify.scopes[1]",
            "shopify.app_url",
            "shopify.admin_url",
            "shops[0].auth"
        ],
        "{err}"
    );
    assert!(err.to_string().contains("\"client_credentials\""), "{err}");
}

#[test]
fn admin_url_stands_in_for_every_shop_without_its_own() {
    let text = STATIC.replace(
        "[shopify]",
        "[shopify]\nadmin_url = \"http://127.0.0.1:9900/\"",
    ) + "[[shops]]\ndomain = \"bolt.myshopify.com\"\naccess_token = \"t\"\nadmin_api_url = \"http://127.0.0.1:9901\"\n";
    let c = load(&text).expect("valid");
    assert_eq!(
        c.shops[0].admin_api_url.as_deref(),
        Some("http://127.0.0.1:9900")
    );
    assert_eq!(
        c.shops[1].admin_api_url.as_deref(),
        Some("http://127.0.0.1:9901")
    );
}

#[test]
fn check_prints_each_mode_and_the_scopes_and_no_secret() {
    let text = STATIC.replace("[shopify]", "[shopify]\nclient_id = \"abc\"")
        + "[[shops]]\ndomain = \"bolt.myshopify.com\"\nauth = \"client_credentials\"\n";
    let c = load(&text).expect("valid");
    let shown = c.redacted();
    assert!(shown.contains("auth = \"static\""), "{shown}");
    assert!(shown.contains("auth = \"client_credentials\""), "{shown}");
    assert!(shown.contains("client_id = \"abc\""), "{shown}");
    assert!(
        shown.contains("\"write_third_party_fulfillment_orders\""),
        "{shown}"
    );
    assert!(
        shown.contains("# no access_token: tokens from client_credentials"),
        "{shown}"
    );
    let tokens = Tokens::new(&c, Arc::new(SystemClock), None).expect("tokens");
    let all = format!("{shown}\n{c:?}\n{tokens:?}");
    for secret in [SECRET, TOKEN] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
}
