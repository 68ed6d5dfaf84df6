//! The `[sweep]` section: how often each shop's orders updated since the last sweep are woken
//! (the safety net for webhooks that never came), and how far each sweep reaches back before
//! the previous one's start. Durations are written like `"10m"`, `"90s"` or `"1h 30m"` (jiff's
//! friendly format); `every = "off"` disables the sweep.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigIssue;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub every: Option<String>,
    pub overlap: Option<String>,
}

/// The sweep, validated: `0 < overlap < every` whenever it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepConfig {
    /// `None`: `every = "off"`, no sweep runs.
    pub every: Option<Duration>,
    pub overlap: Duration,
}

impl Default for SweepConfig {
    fn default() -> Self {
        Self {
            every: Some(DEFAULT_EVERY),
            overlap: DEFAULT_OVERLAP,
        }
    }
}

pub const DEFAULT_EVERY: Duration = Duration::from_secs(600);
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(300);

/// A duration as `check` prints it and the file accepts it back (`"10m"`, `"1s 500ms"`).
pub fn render_duration(d: Duration) -> String {
    let signed = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
    format!("{signed:#}")
}

fn parse(key: &str, text: &str, issues: &mut Vec<ConfigIssue>) -> Option<Duration> {
    let parsed = text
        .trim()
        .parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .filter(|d| !d.is_zero());
    if parsed.is_none() {
        issues.push(ConfigIssue::new(
            key,
            format!(
                "`{text}` is not a positive duration: write e.g. \"10m\", \"90s\" or \"1h 30m\""
            ),
        ));
    }
    parsed
}

pub(super) fn validate(raw: &RawSweep, issues: &mut Vec<ConfigIssue>) -> SweepConfig {
    let overlap = match &raw.overlap {
        None => Some(DEFAULT_OVERLAP),
        Some(text) => parse("sweep.overlap", text, issues),
    };
    let every = match raw.every.as_deref().map(str::trim) {
        None => Some(Some(DEFAULT_EVERY)),
        Some("off") => Some(None),
        Some(text) => parse("sweep.every", text, issues).map(Some),
    };
    let (Some(every), Some(overlap)) = (every, overlap) else {
        return SweepConfig::default();
    };
    if let Some(every) = every
        && overlap >= every
    {
        issues.push(ConfigIssue::new(
            "sweep.overlap",
            format!(
                "\"{}\" is not shorter than sweep.every \"{}\": make overlap shorter than every (defaults \"5m\" and \"10m\")",
                render_duration(overlap),
                render_duration(every)
            ),
        ));
    }
    SweepConfig { every, overlap }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(every: Option<&str>, overlap: Option<&str>) -> (SweepConfig, Vec<ConfigIssue>) {
        let raw = RawSweep {
            every: every.map(str::to_owned),
            overlap: overlap.map(str::to_owned),
        };
        let mut issues = Vec::new();
        let config = validate(&raw, &mut issues);
        (config, issues)
    }

    #[test]
    fn defaults_to_every_ten_minutes_with_five_of_overlap() {
        let (c, issues) = check(None, None);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.every, Some(Duration::from_secs(600)));
        assert_eq!(c.overlap, Duration::from_secs(300));
    }

    #[test]
    fn reads_friendly_durations_and_off() {
        let (c, issues) = check(Some("2s"), Some("500ms"));
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.every, Some(Duration::from_secs(2)));
        assert_eq!(c.overlap, Duration::from_millis(500));
        let (c, issues) = check(Some("off"), None);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(c.every, None);
    }

    #[test]
    fn errors_name_the_key_and_the_fix() {
        let (_, issues) = check(Some("often"), Some("0s"));
        let keys: Vec<_> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["sweep.overlap", "sweep.every"], "{issues:?}");
        assert!(issues[1].message.contains("\"10m\""), "{issues:?}");
        let (_, issues) = check(Some("5m"), Some("5m"));
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].key, "sweep.overlap");
        assert!(
            issues[0].message.contains("shorter than every"),
            "{issues:?}"
        );
    }

    #[test]
    fn renders_what_it_reads() {
        assert_eq!(render_duration(Duration::from_secs(600)), "10m");
        assert_eq!(render_duration(Duration::from_millis(1500)), "1s 500ms");
    }

    const FILE: &str = r#"
[shopify]
client_secrets = ["s"]
[[shops]]
domain = "acme.myshopify.com"
access_token = "shpat_x"
timezone = "Europe/Amsterdam"
"#;

    fn load(
        extra: &str,
        env: &crate::config::Env,
    ) -> Result<crate::config::Config, crate::config::ConfigError> {
        crate::config::Config::from_toml(
            &format!("{FILE}{extra}"),
            std::path::Path::new("o.toml"),
            env,
        )
    }

    #[test]
    fn a_file_without_the_section_sweeps_and_check_shows_it() {
        let c = load("", &crate::config::Env::default()).expect("valid");
        assert_eq!(c.sweep, SweepConfig::default());
        let shown = c.redacted();
        assert!(
            shown.contains("[sweep]\nevery = \"10m\"\noverlap = \"5m\""),
            "{shown}"
        );
        let c = load("[sweep]\nevery = \"off\"\n", &crate::config::Env::default()).expect("valid");
        assert!(c.redacted().contains("[sweep]\nevery = \"off\""));
    }

    #[test]
    fn the_file_and_the_environment_set_it_and_mistakes_name_their_key() {
        let env = crate::config::Env::from_pairs([("ORDERFLOW_SWEEP__EVERY", "30m")]);
        let c = load("[sweep]\noverlap = \"90s\"\n", &env).expect("valid");
        assert_eq!(c.sweep.every, Some(Duration::from_secs(1800)));
        assert_eq!(c.sweep.overlap, Duration::from_secs(90));
        let err = load(
            "[sweep]\nevery = \"1m\"\noverlap = \"2m\"\n",
            &crate::config::Env::default(),
        )
        .expect_err("overlap too long");
        let keys: Vec<_> = err.issues().iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["sweep.overlap"]);
        let err =
            load("[sweep]\nevry = \"1m\"\n", &crate::config::Env::default()).expect_err("misspelt");
        let text = err.to_string();
        assert!(text.contains("sweep.evry"), "{text}");
    }
}
