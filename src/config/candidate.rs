//! The rules a shop would run under a candidate file, for `orderflow simulate`: either a rules
//! file (the format of `[[shops]] rules = "…"`), which then takes the place of the shop's own
//! rules over the current config's global sections, or a whole config, whose rules for the
//! shop are taken as they are. Both go through the loader `check` uses, so a mistake is told
//! with the same words.

use std::path::Path;
use std::sync::Arc;

use super::rules::{self, RulesLayer};
use super::{Config, ConfigError, ConfigIssue, Env, defaults, raw_from_toml};
use crate::id::ShopDomain;
use crate::rules::Rules;

/// The top-level tables of a rules file; a file with any other key is a whole config.
const RULES_SECTIONS: &[&str] = &["fulfilment", "processing", "fraud", "archive", "payment"];

/// The rules `shop` would run if `candidate` were applied to the config at `current`.
///
/// A rules file is read relative to the working directory and named in issues as it was
/// given, exactly as `check` names `rules = "<path>"`. A whole config is loaded like
/// `check` loads one (with `env`); it must configure `shop`.
pub fn candidate_rules(
    current: &Path,
    env: &Env,
    shop: &ShopDomain,
    candidate: &Path,
) -> Result<Arc<Rules>, ConfigError> {
    let text = std::fs::read_to_string(candidate).map_err(|source| ConfigError::Read {
        file: candidate.to_path_buf(),
        source,
    })?;
    // Unparseable: a rules file's loader says so in the form `check` would.
    let is_rules_file = toml::from_str::<toml::Table>(&text)
        .map(|t| t.keys().all(|k| RULES_SECTIONS.contains(&k.as_str())))
        .unwrap_or(true);
    if !is_rules_file {
        let config = Config::load(candidate, env)?;
        return match config.shop(shop) {
            Some(s) => Ok(s.rules.clone()),
            None => Err(ConfigError::Invalid {
                file: candidate.to_path_buf(),
                issues: vec![ConfigIssue::new(
                    "shops",
                    format!(
                        "`{shop}` is not configured here: add its [[shops]] entry, or give a rules file instead"
                    ),
                )],
            }),
        };
    }

    let current_text = std::fs::read_to_string(current).map_err(|source| ConfigError::Read {
        file: current.to_path_buf(),
        source,
    })?;
    let raw = raw_from_toml(&current_text, current, env)?;
    let invalid = |file: &Path, issues| ConfigError::Invalid {
        file: file.to_path_buf(),
        issues,
    };
    let Some(i) = raw.shops.iter().position(|s| {
        s.domain
            .as_deref()
            .and_then(|d| ShopDomain::parse(d).ok())
            .as_ref()
            == Some(shop)
    }) else {
        return Err(invalid(
            current,
            vec![ConfigIssue::new(
                "shops",
                format!(
                    "`{shop}` is not configured: a rules file replaces a configured shop's rules"
                ),
            )],
        ));
    };
    let zone_name = raw.shops[i]
        .timezone
        .clone()
        .unwrap_or_else(|| defaults::TIMEZONE.to_owned());
    // The current config loaded, so its zone is valid.
    let zone = jiff::tz::TimeZone::get(&zone_name).unwrap_or(jiff::tz::TimeZone::UTC);
    let global = RulesLayer {
        key_prefix: String::new(),
        fulfilment: raw.fulfilment.as_ref(),
        processing: raw.processing.as_ref(),
        fraud: raw.fraud.as_ref(),
        archive: raw.archive.as_ref(),
        payment: raw.payment.as_ref(),
    };
    let shown = candidate.to_string_lossy();
    let file = rules::file::load(i, &shown, Path::new(""))
        .map_err(|issue| invalid(candidate, vec![issue]))?;
    rules::resolve(&[global, file.layer()], zone)
        .map(Arc::new)
        .map_err(|issues| invalid(candidate, issues))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("written");
        path
    }

    const CONFIG: &str = r#"
[shopify]
client_secrets = ["s"]
[fulfilment]
default = "auto"
[processing]
default_days = 2
[[shops]]
domain = "acme.myshopify.com"
access_token = "t"
timezone = "Europe/Amsterdam"
[shops.fulfilment]
default = "manual"
"#;

    fn shop() -> ShopDomain {
        ShopDomain::parse("acme.myshopify.com").expect("domain")
    }

    #[test]
    fn a_rules_file_replaces_the_shops_own_rules_over_the_global_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let current = write(dir.path(), "orderflow.toml", CONFIG);
        let candidate = write(
            dir.path(),
            "candidate.toml",
            "[processing]\ndefault_days = 5\n",
        );
        let rules = candidate_rules(&current, &Env::default(), &shop(), &candidate)
            .expect("valid candidate");
        assert_eq!(rules.processing.default_days, 5, "the candidate's");
        assert_eq!(
            rules.fulfilment.default,
            crate::rules::FulfilmentAction::Auto,
            "the global section, not the shop's inline one the file replaces"
        );
        assert_eq!(rules.zone_name(), "Europe/Amsterdam", "the shop's zone");
    }

    #[test]
    fn a_whole_config_gives_its_own_rules_for_the_shop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let current = write(dir.path(), "orderflow.toml", CONFIG);
        let candidate = write(
            dir.path(),
            "next.toml",
            &CONFIG.replace("default_days = 2", "default_days = 7"),
        );
        let rules = candidate_rules(&current, &Env::default(), &shop(), &candidate)
            .expect("valid candidate");
        assert_eq!(rules.processing.default_days, 7);
        assert_eq!(
            rules.fulfilment.default,
            crate::rules::FulfilmentAction::Manual
        );
        let other = ShopDomain::parse("other.myshopify.com").expect("domain");
        let e = candidate_rules(&current, &Env::default(), &other, &candidate)
            .expect_err("not in the candidate");
        assert!(e.to_string().contains("other.myshopify.com"), "{e}");
    }

    #[test]
    fn a_rules_file_with_mistakes_names_each_key_as_check_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let current = write(dir.path(), "orderflow.toml", CONFIG);
        let candidate = write(
            dir.path(),
            "bad.toml",
            "[fulfilment]\ndefault = \"sometimes\"\n[processing]\ncutof = \"14:00\"\n",
        );
        let e = candidate_rules(&current, &Env::default(), &shop(), &candidate)
            .expect_err("invalid candidate");
        let shown = candidate.to_string_lossy();
        let keys: Vec<&str> = e.issues().iter().map(|i| i.key.as_str()).collect();
        assert!(
            keys.contains(&format!("{shown}:fulfilment.default").as_str()),
            "{keys:?}"
        );
        assert!(
            keys.contains(&format!("{shown}:processing.cutof").as_str()),
            "{keys:?}"
        );
        let not_rules = write(dir.path(), "sections.toml", "[fulfilment]\n[worker]\n");
        assert!(
            candidate_rules(&current, &Env::default(), &shop(), &not_rules).is_err(),
            "a config with errors is refused too"
        );
    }
}
