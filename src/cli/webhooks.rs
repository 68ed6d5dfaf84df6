//! `orderflow webhooks toml`: the `[access_scopes]` and `[webhooks]` blocks of the app's
//! `shopify.app.toml`, rendered from the receiver's topic list (`event::subject`) and the config.
//! Pure rendering plus the command's exit code.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::Config;
use crate::event::subject::{COMPLIANCE_TOPICS, SUBSCRIBED_TOPICS};

/// `orderflow webhooks toml --config FILE`: prints the blocks, or the problem and exit 1.
pub(super) fn toml(config: &Path) -> i32 {
    let Some(config) = super::load_config_or_report(config) else {
        return 1;
    };
    match render(&config) {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

/// The blocks for `shopify.app.toml`: the scopes orderflow asks for, the API version of every
/// payload, one subscription with every topic the receiver routes and one with the compliance
/// topics, both to `{app_url}/webhooks`. Errs, naming the key, without `shopify.app_url`.
fn render(config: &Config) -> Result<String, String> {
    let app_url = config.auth.app_url.as_deref().ok_or(
        "shopify.app_url: missing: the subscriptions point at {app_url}/webhooks; write \
         app_url = \"https://orderflow.example.com\" under [shopify]",
    )?;
    let uri = quoted(&format!("{app_url}/webhooks"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# For shopify.app.toml (printed by `orderflow webhooks toml`); deploy with `shopify app deploy`.\n"
    );
    let _ = writeln!(out, "[access_scopes]");
    let _ = writeln!(out, "scopes = {}\n", quoted(&config.auth.scopes.join(",")));
    let _ = writeln!(out, "[webhooks]");
    let _ = writeln!(
        out,
        "api_version = {}\n",
        quoted(&config.shopify.api_version)
    );
    for (key, topics) in [
        ("topics", SUBSCRIBED_TOPICS),
        ("compliance_topics", COMPLIANCE_TOPICS),
    ] {
        let _ = writeln!(out, "[[webhooks.subscriptions]]");
        let _ = writeln!(out, "{key} = [");
        for topic in topics {
            let _ = writeln!(out, "  {},", quoted(topic));
        }
        let _ = writeln!(out, "]");
        let _ = writeln!(out, "uri = {uri}\n");
    }
    Ok(out.trim_end().to_owned() + "\n")
}

/// A TOML basic string, escaped by the `toml` crate.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}
