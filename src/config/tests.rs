//! Loading a whole config file: defaults, layering, every problem at once with its key, the
//! redacted view, and shops' rules inline or in files of their own.

use std::path::Path;

use secrecy::ExposeSecret;

use super::*;

const MINIMAL: &str = r#"
[shopify]
client_secrets = ["${SECRET}"]

[[shops]]
domain = "acme.myshopify.com"
access_token = "${TOKEN}"
timezone = "Europe/Amsterdam"
"#;

fn env() -> Env {
    Env::from_pairs([("SECRET", "s3cret-value"), ("TOKEN", "shpat_token_value")])
}

fn load(text: &str, env: &Env) -> Result<Config, ConfigError> {
    Config::from_toml(text, Path::new("orderflow.toml"), env)
}

fn issue_keys(err: &ConfigError) -> Vec<&str> {
    err.issues().iter().map(|i| i.key.as_str()).collect()
}

#[test]
fn minimal_config_gets_documented_defaults() {
    let c = load(MINIMAL, &env()).unwrap();
    assert_eq!(c.server.listen.to_string(), "0.0.0.0:8080");
    assert_eq!(c.server.max_body_bytes, 5 * 1024 * 1024);
    assert_eq!(
        c.amqp.url.expose_secret(),
        "amqp://guest:guest@127.0.0.1:5672/%2f"
    );
    assert_eq!(c.amqp.prefix, "orderflow");
    assert_eq!(c.amqp.partitions, 8);
    assert_eq!(c.amqp.confirm_timeout, Duration::from_millis(3000));
    assert_eq!(c.shopify.api_version, "2026-10");
    assert_eq!(c.shopify.client_secrets[0].expose_secret(), "s3cret-value");
    assert_eq!(c.shops[0].access_token.expose_secret(), "shpat_token_value");
    assert_eq!(c.shops[0].timezone_name, "Europe/Amsterdam");
}

#[test]
fn interpolation_defaults_and_empty_rotation_slot() {
    let text = r#"
[amqp]
url = "${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
prefix = "of-${ENVIRONMENT:-dev}"
[shopify]
client_secrets = ["${SECRET}", "${SECRET_OLD:-}"]
[[shops]]
domain = "acme.myshopify.com"
access_token = "${TOKEN}"
"#;
    let c = load(text, &env()).unwrap();
    assert_eq!(c.amqp.prefix, "of-dev");
    assert_eq!(
        c.shopify.client_secrets.len(),
        1,
        "an empty old secret is skipped"
    );
}

#[test]
fn missing_variable_is_named_with_its_key() {
    let err = load(MINIMAL, &Env::from_pairs([("SECRET", "x")])).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops[0].access_token"]);
    let text = err.to_string();
    assert!(text.contains("orderflow.toml"), "{text}");
    assert!(text.contains("`TOKEN`"), "{text}");
}

#[test]
fn env_override_replaces_a_scalar_key() {
    let e = Env::from_pairs(
        [
            ("ORDERFLOW_AMQP__PARTITIONS", "3"),
            ("ORDERFLOW_AMQP__URL", "amqp://u:p@rabbit:5672/%2f"),
            ("ORDERFLOW_SERVER__LISTEN", "127.0.0.1:0"),
        ]
        .into_iter()
        .chain([("SECRET", "a"), ("TOKEN", "b")]),
    );
    let c = load(MINIMAL, &e).unwrap();
    assert_eq!(c.amqp.partitions, 3);
    assert_eq!(c.amqp.url.expose_secret(), "amqp://u:p@rabbit:5672/%2f");
    assert_eq!(c.server.listen.port(), 0);
}

#[test]
fn unknown_key_is_named_with_valid_keys() {
    let text = MINIMAL.replace("[shopify]", "[amqp]\npartitons = 4\n[shopify]");
    let err = load(&text, &env()).unwrap_err();
    let text = err.to_string();
    assert_eq!(issue_keys(&err), ["amqp.partitons"], "{text}");
    assert!(text.contains("partitions"), "lists the valid keys: {text}");
}

#[test]
fn unknown_key_in_a_shop_is_named() {
    let text = format!("{MINIMAL}dryrun = true\n");
    let err = load(&text, &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops[0].dryrun"], "{err}");
}

#[test]
fn every_value_error_is_reported_at_once() {
    let text = r#"
[server]
listen = "everywhere"
max_body_bytes = 10
[amqp]
url = "http://rabbit"
prefix = "has space"
partitions = 0
confirm_timeout_ms = 5000
[shopify]
api_version = "latest"
client_secrets = []
[[shops]]
domain = "acme.com"
access_token = ""
timezone = "Mars/Olympus"
admin_api_url = "ftp://x"
"#;
    let err = load(text, &env()).unwrap_err();
    assert_eq!(
        issue_keys(&err),
        [
            "server.listen",
            "server.max_body_bytes",
            "amqp.url",
            "amqp.prefix",
            "amqp.partitions",
            "amqp.confirm_timeout_ms",
            "shopify.api_version",
            "shopify.client_secrets",
            "shops[0].domain",
            "shops[0].access_token",
            "shops[0].timezone",
            "shops[0].admin_api_url",
        ]
    );
    for issue in err.issues() {
        assert!(
            issue.message.contains("e.g.")
                || issue.message.contains("use ")
                || issue.message.contains("write"),
            "each message says what would be valid: {issue}"
        );
    }
}

#[test]
fn worker_problems_are_reported_with_the_others() {
    let text = format!(
        "{MINIMAL}\n[amqp]\npartitions = 0\n[worker]\nmax_attempts = 0\nmax_delay_hop_ms = 10\n"
    );
    let err = load(&text, &env()).unwrap_err();
    assert_eq!(
        issue_keys(&err),
        [
            "amqp.partitions",
            "worker.max_attempts",
            "worker.max_delay_hop_ms"
        ],
        "{err}"
    );
}

#[test]
fn duplicate_shop_is_an_error() {
    let text =
        format!("{MINIMAL}\n[[shops]]\ndomain = \"acme.myshopify.com\"\naccess_token = \"t\"\n");
    let err = load(&text, &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops[1].domain"]);
}

#[test]
fn no_shop_is_an_error() {
    let err = load("[shopify]\nclient_secrets = [\"x\"]\n", &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops"]);
}

#[test]
fn an_oauth_app_starts_with_no_shop_configured() {
    let text = r#"
[shopify]
client_secrets = ["x"]
auth = "oauth"
client_id = "id"
app_url = "https://orderflow.example.com"
[store]
url = "postgres://postgres@127.0.0.1:5432/orderflow"
encryption_key = "c2VudGluZWwta2V5LWFhYWFhYWFhYWFhYWFhYWFhYWE="
"#;
    let config = load(text, &env()).expect("shops come from installs");
    assert!(config.shops.is_empty());
    assert_eq!(config.auth.mode, AuthMode::OAuth);
    // Any other mode still needs a [[shops]] entry: nothing else tells it a shop.
    for mode in ["static", "client_credentials"] {
        let text = text.replace("\"oauth\"", &format!("\"{mode}\""));
        let err = load(&text, &env()).unwrap_err();
        assert!(issue_keys(&err).contains(&"shops"), "{mode}: {err}");
    }
}

#[test]
fn syntax_error_is_reported_with_position() {
    let err = load("[server\nlisten = 1", &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["(syntax)"]);
    assert!(err.to_string().contains("line"), "{err}");
}

#[test]
fn wrong_type_names_the_key() {
    let text = MINIMAL.replace("timezone = \"Europe/Amsterdam\"", "dry_run = \"yes\"");
    let err = load(&text, &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops[0].dry_run"], "{err}");
}

#[test]
fn redacted_view_and_debug_show_no_secret() {
    let text = MINIMAL.replace(
        "[shopify]",
        "[amqp]\nurl = \"amqp://user:amqp-password@h:5672/%2f\"\n[shopify]",
    );
    let c = load(&text, &env()).unwrap();
    let shown = format!("{}\n{:?}", c.redacted(), c);
    for secret in ["s3cret-value", "shpat_token_value", "amqp-password"] {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
    assert!(shown.contains("amqp://user:***@h:5672/%2f"), "{shown}");
    assert!(shown.contains("acme.myshopify.com"));
}

#[test]
fn redact_url_handles_urls_without_password() {
    assert_eq!(redact_url("amqp://h:5672"), "amqp://h:5672");
    assert_eq!(redact_url("amqp://u:p@h"), "amqp://u:***@h");
    assert_eq!(redact_url("garbage"), "***");
}

#[test]
fn shop_rules_merge_over_the_global_sections() {
    let text = format!(
        "{}\n{MINIMAL}\n[shops.processing]\ncutoff = \"15:00\"\n",
        "[processing]\ncutoff = \"13:00\"\nholidays = [\"2026-12-25\"]\nhold = true\n"
    );
    let c = load(&text, &env()).unwrap();
    let rules = &c.shops[0].rules;
    let cal = &rules.processing.calendar;
    assert_eq!(cal.cutoff().unwrap().to_string(), "15:00:00");
    assert_eq!(cal.holidays().count(), 1);
    assert!(rules.processing.hold);
    assert_eq!(rules.zone_name(), "Europe/Amsterdam");
}

#[test]
fn a_shop_overrides_the_global_archive_section_and_its_mistakes_name_its_key() {
    let text = format!(
        "[archive]\nwhen_fulfilled = true\nafter = \"2h\"\n{MINIMAL}\n[shops.archive]\nafter = \"0h\"\n"
    );
    let c = load(&text, &env()).unwrap();
    let a = &c.shops[0].rules.archive;
    assert!(a.when_fulfilled, "inherited from the global section");
    assert_eq!(a.after, jiff::SignedDuration::ZERO, "the shop's own");
    let bad = format!("{MINIMAL}\n[shops.archive]\nafter = \"later\"\n");
    let err = load(&bad, &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops[0].archive.after"], "{err}");
}

#[test]
fn a_shop_overrides_the_global_payment_section_and_its_mistakes_name_its_key() {
    use crate::rules::policy::CapturePolicy;
    let text = format!(
        "[payment]\ncapture = \"on_fulfilment\"\nexpiry_margin = \"6h\"\n{MINIMAL}\n[shops.payment]\ncapture = \"when_risk_clear\"\n"
    );
    let c = load(&text, &env()).unwrap();
    let p = &c.shops[0].rules.payment;
    assert_eq!(p.capture, CapturePolicy::WhenRiskClear, "the shop's own");
    assert_eq!(
        p.expiry_margin,
        jiff::SignedDuration::from_hours(6),
        "inherited from the global section"
    );
    let bad = format!("{MINIMAL}\n[shops.payment]\ncapture = \"always\"\n");
    let err = load(&bad, &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops[0].payment.capture"], "{err}");
}

#[test]
fn rules_issues_name_the_global_or_the_shop_key() {
    let text = format!(
        "[fraud]\nhold_on_risk = [\"HIHG\"]\n{MINIMAL}\n[shops.processing]\nbusiness_days = [\"monday\"]\n\n[[shops]]\ndomain = \"b.myshopify.com\"\naccess_token = \"t\"\n"
    );
    let err = load(&text, &env()).unwrap_err();
    assert_eq!(
        issue_keys(&err),
        ["shops[0].processing.business_days", "fraud.hold_on_risk"],
        "a global issue is reported once, not once per shop: {err}"
    );
}

#[test]
fn rules_can_live_in_a_file_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(
        dir.path().join("rules/acme.toml"),
        "[fulfilment]\ndefault = \"auto\"\n[processing]\ncutoff = \"9am\"\n",
    )
    .unwrap();
    let config = dir.path().join("orderflow.toml");
    std::fs::write(&config, format!("{MINIMAL}rules = \"rules/acme.toml\"\n")).unwrap();
    let err = Config::load(&config, &env()).unwrap_err();
    assert_eq!(
        issue_keys(&err),
        ["rules/acme.toml:processing.cutoff"],
        "{err}"
    );

    std::fs::write(
        dir.path().join("rules/acme.toml"),
        "[fulfilment]\ndefault = \"auto\"\n",
    )
    .unwrap();
    let c = Config::load(&config, &env()).unwrap();
    assert_eq!(
        c.shops[0].rules.fulfilment.default,
        crate::rules::FulfilmentAction::Auto
    );
}

#[test]
fn a_rules_file_that_is_missing_or_doubled_is_an_error() {
    let missing = format!("{MINIMAL}rules = \"/nonexistent/acme.toml\"\n");
    let err = load(&missing, &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops[0].rules"], "{err}");
    let both = format!("{MINIMAL}rules = \"acme.toml\"\n[shops.fraud]\nnotify_merchant = false\n");
    let err = load(&both, &env()).unwrap_err();
    assert_eq!(issue_keys(&err), ["shops[0].rules"], "{err}");
    assert!(err.to_string().contains("not both"), "{err}");
}

#[test]
fn check_prints_every_shops_resolved_rules() {
    let text = format!(
        "[[fulfilment.rule]]\nname = \"digital goods\"\nwhen = {{ requires_shipping = false }}\naction = \"auto\"\n{MINIMAL}"
    );
    let shown = load(&text, &env()).unwrap().redacted();
    for wanted in [
        "[shops.fulfilment]",
        "default = \"manual\"",
        "[[shops.fulfilment.rule]]",
        "name = \"digital goods\"",
        "when = { requires_shipping = false }",
        "[shops.processing]",
        "business_days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]",
        "[shops.fraud]",
        "hold_on_risk = [\"HIGH\"]",
    ] {
        assert!(shown.contains(wanted), "missing {wanted:?} in:\n{shown}");
    }
    let reparsed: toml::Table = toml::from_str(&shown).expect("check prints valid TOML");
    assert!(reparsed["shops"][0].get("fraud").is_some());
}

#[test]
fn a_secret_in_a_value_of_the_wrong_type_is_not_quoted_in_the_error() {
    // A common slip: a string where a list is expected, holding an interpolated secret.
    let text = MINIMAL.replace(
        "client_secrets = [\"${SECRET}\"]",
        "client_secrets = \"${SECRET}\"",
    );
    let err = load(&text, &env()).unwrap_err();
    let shown = format!("{err}\n{err:?}");
    assert!(!shown.contains("s3cret-value"), "{shown}");
    assert_eq!(issue_keys(&err), ["shopify.client_secrets"], "{shown}");
}

#[test]
fn the_subscription_check_is_on_by_default_and_its_key_is_validated() {
    let c = load(MINIMAL, &env()).unwrap();
    assert!(c.webhooks.check, "on unless turned off");
    assert!(c.redacted().contains("\n[webhooks]\ncheck = true\n"));
    let off = load(&format!("{MINIMAL}\n[webhooks]\ncheck = false\n"), &env()).unwrap();
    assert!(!off.webhooks.check);
    assert!(off.redacted().contains("check = false"));
    let typo = load(&format!("{MINIMAL}\n[webhooks]\nchekc = false\n"), &env()).unwrap_err();
    assert!(
        issue_keys(&typo).iter().any(|k| k.starts_with("webhooks")),
        "{typo}"
    );
    let wrong = load(&format!("{MINIMAL}\n[webhooks]\ncheck = \"no\"\n"), &env()).unwrap_err();
    assert_eq!(issue_keys(&wrong), ["webhooks.check"], "{wrong}");
}
