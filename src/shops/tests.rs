use std::path::Path;

use jiff::Timestamp;

use super::*;
use crate::config::Env;

const CONFIGURED: &str = "acme.myshopify.com";
const INSTALLED: &str = "newshop.myshopify.com";

fn config() -> Config {
    let text = format!(
        r#"
[shopify]
client_secrets = ["s"]
admin_url = "http://127.0.0.1:9900"
[processing]
default_days = 2
[[shops]]
domain = "{CONFIGURED}"
access_token = "shpat_x"
timezone = "Europe/Amsterdam"
"#
    );
    Config::from_toml(&text, Path::new("t.toml"), &Env::default()).expect("valid")
}

fn domain(s: &str) -> ShopDomain {
    ShopDomain::parse(s).unwrap()
}

fn row(shop: &str, zone: Option<&str>, uninstalled: bool) -> StoredShop {
    let at: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
    StoredShop {
        domain: domain(shop),
        installed_at: at,
        uninstalled_at: uninstalled.then_some(at),
        scopes: "read_orders".into(),
        time_zone: zone.map(str::to_owned),
        access_token: None,
        access_expires_at: None,
        refresh_token: None,
        refresh_expires_at: None,
        previous_refresh_token: None,
        last_refresh_at: None,
        version: 1,
    }
}

#[test]
fn an_installed_shop_not_configured_gets_the_global_rules_in_its_stored_zone() {
    let shops = Shops::configured(&config());
    assert!(!shops.knows(&domain(INSTALLED)));
    shops.load(&[row(INSTALLED, Some("America/New_York"), false)]);
    let c = shops.active(&domain(INSTALLED)).expect("served");
    assert_eq!(c.timezone_name, "America/New_York");
    assert_eq!(c.rules.zone_name(), "America/New_York");
    assert_eq!(c.rules.processing.default_days, 2, "the global rules");
    assert_eq!(c.admin_api_url.as_deref(), Some("http://127.0.0.1:9900"));
    assert!(shops.knows(&domain(CONFIGURED)), "configured shops stay");
}

#[test]
fn a_configured_shop_keeps_its_own_config_when_the_store_has_it() {
    let shops = Shops::configured(&config());
    shops.load(&[row(CONFIGURED, Some("Asia/Tokyo"), false)]);
    let c = shops.active(&domain(CONFIGURED)).unwrap();
    assert_eq!(c.timezone_name, "Europe/Amsterdam");
}

#[test]
fn a_missing_or_unknown_zone_is_utc() {
    let shops = Shops::configured(&config());
    shops.load(&[row(INSTALLED, Some("Mars/Olympus"), false)]);
    assert_eq!(
        shops.active(&domain(INSTALLED)).unwrap().timezone_name,
        "UTC"
    );
    shops.set(&domain(INSTALLED), Some(&row(INSTALLED, None, false)));
    assert_eq!(
        shops.active(&domain(INSTALLED)).unwrap().timezone_name,
        "UTC"
    );
}

#[test]
fn an_uninstalled_row_stays_known_until_it_is_redacted() {
    let shops = Shops::configured(&config());
    shops.set(&domain(INSTALLED), Some(&row(INSTALLED, None, false)));
    shops.set(&domain(INSTALLED), Some(&row(INSTALLED, None, true)));
    assert!(shops.knows(&domain(INSTALLED)));
    assert!(shops.get(&domain(INSTALLED)).unwrap().uninstalled);
    assert!(shops.active(&domain(INSTALLED)).is_none());
    shops.set(&domain(INSTALLED), None);
    assert!(!shops.knows(&domain(INSTALLED)), "redacted: unknown again");
}

#[test]
fn an_uninstall_seen_here_holds_for_a_configured_shop_without_a_row_until_it_is_installed() {
    let shops = Shops::configured(&config());
    let d = domain(CONFIGURED);
    shops.mark_uninstalled(&d);
    shops.set(&d, None);
    shops.load(&[]);
    assert!(shops.get(&d).unwrap().uninstalled);
    shops.set(&d, Some(&row(CONFIGURED, None, false)));
    assert!(shops.active(&d).is_some(), "installed again");
}

#[test]
fn the_registry_keeps_no_token_of_the_rows_it_reads() {
    let shops = Shops::configured(&config());
    let mut r = row(INSTALLED, None, false);
    r.access_token = Some(SecretString::from("shpat_registry-sentinel".to_owned()));
    r.refresh_token = Some(SecretString::from("shprt_registry-sentinel".to_owned()));
    shops.load(std::slice::from_ref(&r));
    let known = shops.get(&domain(INSTALLED)).unwrap();
    use secrecy::ExposeSecret as _;
    assert_eq!(
        known.config.access_token.expose_secret(),
        "",
        "oauth: the store's"
    );
    for text in [format!("{shops:?}"), format!("{known:?}")] {
        assert!(!text.contains("registry-sentinel"), "{text}");
    }
}

#[test]
fn a_reconfigure_swaps_the_configured_rules_and_the_installed_shops_global_rules() {
    let shops = Shops::configured(&config());
    shops.load(&[
        row(INSTALLED, Some("America/New_York"), false),
        row(CONFIGURED, None, true),
    ]);
    let changed = shops.changed();
    let text = format!(
        "[shopify]\nclient_secrets = [\"s\"]\n[processing]\ndefault_days = 5\n\
             [[shops]]\ndomain = \"{CONFIGURED}\"\naccess_token = \"shpat_x\"\n\
             timezone = \"Europe/Amsterdam\"\n[shops.processing]\ndefault_days = 1\n"
    );
    let next = Config::from_toml(&text, Path::new("t.toml"), &Env::default()).expect("valid");
    shops.reconfigure(next.shops.clone(), next.global_rules.clone());
    let configured = shops.get(&domain(CONFIGURED)).expect("still known");
    assert_eq!(configured.config.rules.processing.default_days, 1);
    assert!(configured.uninstalled, "the store's uninstall is kept");
    let installed = shops.active(&domain(INSTALLED)).expect("still served");
    assert_eq!(
        installed.rules.processing.default_days, 5,
        "new global rules"
    );
    assert_eq!(installed.rules.zone_name(), "America/New_York");
    assert!(changed.has_changed().unwrap(), "watchers are told");
}
