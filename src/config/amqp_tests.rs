//! `[amqp]` with a cluster: `urls` in order, `url` and `urls` exclusive, `quorum_group_size`
//! checked, and no password in `check` or `Debug`.

use std::path::Path;

use secrecy::ExposeSecret;

use super::*;

const SHOPS: &str = r#"
[shopify]
client_secrets = ["s"]

[[shops]]
domain = "acme.myshopify.com"
access_token = "t"
"#;

fn load(amqp: &str) -> Result<Config, ConfigError> {
    let text = format!("[amqp]\n{amqp}\n{SHOPS}");
    Config::from_toml(&text, Path::new("orderflow.toml"), &Env::default())
}

fn issues(err: &ConfigError) -> Vec<(String, String)> {
    err.issues()
        .iter()
        .map(|i| (i.key.clone(), i.message.clone()))
        .collect()
}

#[test]
fn urls_are_kept_in_order_and_url_is_the_first() {
    let c = load(
        r#"urls = ["amqp://u:pw1@n1:5672/%2f", "amqp://u:pw2@n2:5672/%2f", "amqps://n3/%2f"]"#,
    )
    .unwrap();
    let urls: Vec<&str> = c.amqp.urls.iter().map(|u| u.expose_secret()).collect();
    assert_eq!(
        urls,
        [
            "amqp://u:pw1@n1:5672/%2f",
            "amqp://u:pw2@n2:5672/%2f",
            "amqps://n3/%2f"
        ]
    );
    assert_eq!(c.amqp.url.expose_secret(), urls[0]);
    assert_eq!(c.amqp.quorum_group_size, None, "every node by default");
}

#[test]
fn one_url_is_a_list_of_one() {
    let c = load(r#"url = "amqp://u:pw@h:5672/%2f""#).unwrap();
    assert_eq!(c.amqp.urls.len(), 1);
    assert_eq!(c.amqp.urls[0].expose_secret(), "amqp://u:pw@h:5672/%2f");
}

#[test]
fn url_and_urls_together_are_refused_with_the_fix() {
    let err = load("url = \"amqp://h1/%2f\"\nurls = [\"amqp://h2/%2f\"]").unwrap_err();
    let found = issues(&err);
    assert_eq!(found.len(), 1, "{found:?}");
    let (key, message) = &found[0];
    assert_eq!(key, "amqp.urls");
    assert!(
        message.contains("amqp.url") && message.contains("keep one"),
        "{message}"
    );
}

#[test]
fn empty_urls_and_a_bad_entry_name_their_key() {
    let err = load("urls = []").unwrap_err();
    assert_eq!(issues(&err)[0].0, "amqp.urls");
    let err = load(r#"urls = ["amqp://h1/%2f", "http://u:leaked@h2"]"#).unwrap_err();
    let found = issues(&err);
    assert_eq!(found[0].0, "amqp.urls[1]");
    assert!(!found[0].1.contains("leaked"), "{}", found[0].1);
}

#[test]
fn quorum_group_size_is_at_least_one() {
    let c = load("quorum_group_size = 3").unwrap();
    assert_eq!(c.amqp.quorum_group_size, Some(3));
    for bad in ["0", "-1", "256"] {
        let err = load(&format!("quorum_group_size = {bad}")).unwrap_err();
        let found = issues(&err);
        assert_eq!(found[0].0, "amqp.quorum_group_size", "{bad}");
        assert!(found[0].1.contains("1 to 255"), "{}", found[0].1);
    }
}

#[test]
fn check_and_debug_list_the_nodes_without_passwords() {
    let c = load(
        "urls = [\"amqp://u:pass-one@n1:5672/%2f\", \"amqp://u:pass-two@n2:5672/%2f\"]\nquorum_group_size = 2",
    )
    .unwrap();
    let shown = format!("{}\n{:?}\n{:?}", c.redacted(), c, c.amqp.redacted_urls());
    for secret in ["pass-one", "pass-two"] {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
    assert!(
        c.redacted()
            .contains(r#"urls = ["amqp://u:***@n1:5672/%2f", "amqp://u:***@n2:5672/%2f"]"#),
        "{}",
        c.redacted()
    );
    assert!(c.redacted().contains("quorum_group_size = 2"));
}
