//! The reload seam: re-reads the config file a process was started with (SIGHUP, or
//! `POST /reload` on the admin listener), validates it whole with the loader `check` uses, and
//! puts the new rules and shop settings in force for the next message in one swap
//! ([`Shops::reconfigure`]). A config with any error changes nothing. Keys that were built
//! into the process at start ([`diff`]) are reported as needing a restart and keep their
//! running values.

use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::config::{Config, ConfigError, ConfigSource, Env, ShopConfig};
use crate::rules::Rules;
use crate::shops::Shops;
use crate::telemetry::Metrics;

mod diff;

/// What a process reloads into, and what it runs.
pub struct Reloader {
    shops: Shops,
    metrics: Arc<Metrics>,
    /// The tree of the file the process started with: what the keys needing a restart still
    /// are, however many reloads later.
    started: toml::Table,
    /// Held through a reload, so two (a signal and a request) do not interleave.
    active: Mutex<Active>,
}

/// The version in force.
struct Active {
    source: Arc<ConfigSource>,
    /// The configured shops as served (restart-only keys from the start).
    shops: Vec<ShopConfig>,
    global_rules: Arc<Rules>,
}

/// A reload that was applied.
#[derive(Debug, Clone, Serialize)]
pub struct Reloaded {
    /// The version now in force.
    pub sha256: String,
    pub previous_sha256: String,
    /// Configured shops whose rules, time zone or `dry_run` changed.
    pub shops_changed: Vec<String>,
    /// Shops in the file that this process does not serve (until a restart).
    pub shops_added: Vec<String>,
    /// Shops no longer in the file that this process keeps serving (until a restart).
    pub shops_removed: Vec<String>,
    /// The global rules sections changed (shops installed from the store use them).
    pub global_rules_changed: bool,
    /// Keys that differ but keep their running values until a restart.
    pub restart_required: Vec<String>,
}

/// A reload that was refused: the running config stays.
#[derive(Debug, Clone, Serialize)]
pub struct Refused {
    /// The version still in force.
    pub sha256: String,
    pub errors: Vec<RefusedIssue>,
}

/// One problem of a refused config, as `check` tells it.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedIssue {
    pub key: String,
    pub message: String,
}

impl Reloader {
    /// `None` for a config that was not loaded from a file (built in a test): there is
    /// nothing to re-read.
    pub fn new(config: &Config, shops: Shops, metrics: Arc<Metrics>) -> Option<Self> {
        let source = config.source.clone()?;
        let started = source.tree().unwrap_or_default();
        Some(Self {
            shops,
            metrics,
            started,
            active: Mutex::new(Active {
                source,
                shops: config.shops.clone(),
                global_rules: config.global_rules.clone(),
            }),
        })
    }

    /// The version in force.
    pub fn sha256(&self) -> String {
        self.lock().source.sha256.clone()
    }

    /// Re-reads the file and applies it, or refuses it; either way logged.
    pub fn reload(&self) -> Result<Reloaded, Refused> {
        let mut active = self.lock();
        let path = active.source.path.clone();
        let next = match Config::load(&path, &Env::from_process()) {
            Ok(next) => next,
            Err(e) => {
                let refused = Refused {
                    sha256: active.source.sha256.clone(),
                    errors: issues(&e),
                };
                for issue in &refused.errors {
                    tracing::error!(key = %issue.key, reason = %issue.message, "config reload: invalid");
                }
                tracing::error!(file = %path.display(), errors = refused.errors.len(), sha256 = %refused.sha256, "config reload refused: the running config stays");
                return Err(refused);
            }
        };
        let source = next
            .source
            .clone()
            .expect("a config loaded from a file has its source");
        let tree = source.tree().unwrap_or_default();
        let restart_required = diff::restart_required(&self.started, &tree);
        let (shops_added, shops_removed) = diff::added_and_removed(&self.started, &tree);
        let shops = served(&active.shops, &next.shops);
        let shops_changed = changed(&active.shops, &shops);
        let global_rules_changed = *active.global_rules != *next.global_rules;
        self.shops
            .reconfigure(shops.clone(), next.global_rules.clone());
        let previous = std::mem::replace(
            &mut *active,
            Active {
                source,
                shops,
                global_rules: next.global_rules.clone(),
            },
        );
        self.metrics.config_info.set(&active.source.sha256);
        let reloaded = Reloaded {
            sha256: active.source.sha256.clone(),
            previous_sha256: previous.source.sha256.clone(),
            shops_changed,
            shops_added,
            shops_removed,
            global_rules_changed,
            restart_required,
        };
        tracing::info!(
            sha256 = %reloaded.sha256,
            previous_sha256 = %reloaded.previous_sha256,
            shops_changed = ?reloaded.shops_changed,
            global_rules_changed,
            "config reloaded: this version is active for the next message"
        );
        if !reloaded.restart_required.is_empty() {
            tracing::warn!(
                keys = ?reloaded.restart_required,
                "config reload: these keys changed but keep their running values until a restart"
            );
        }
        Ok(reloaded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Active> {
        self.active.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The shops to serve: each shop served now, with the new entry's rules, zone and `dry_run`
/// when the file still has it and its token and admin from now (those need a restart). Shops
/// added to the file wait for a restart; removed ones keep being served until then.
fn served(now: &[ShopConfig], next: &[ShopConfig]) -> Vec<ShopConfig> {
    now.iter()
        .map(|was| match next.iter().find(|n| n.domain == was.domain) {
            Some(new) => ShopConfig {
                access_token: was.access_token.clone(),
                admin_api_url: was.admin_api_url.clone(),
                ..new.clone()
            },
            None => was.clone(),
        })
        .collect()
}

/// The domains whose served config differs, in order.
fn changed(now: &[ShopConfig], next: &[ShopConfig]) -> Vec<String> {
    next.iter()
        .filter(|n| {
            now.iter().find(|w| w.domain == n.domain).is_none_or(|w| {
                w.rules != n.rules || w.timezone_name != n.timezone_name || w.dry_run != n.dry_run
            })
        })
        .map(|n| n.domain.to_string())
        .collect()
}

/// Every problem `check` would print, each with its key.
fn issues(e: &ConfigError) -> Vec<RefusedIssue> {
    match e {
        ConfigError::Read { .. } => vec![RefusedIssue {
            key: "(file)".to_owned(),
            message: e.to_string(),
        }],
        ConfigError::Invalid { issues, .. } => issues
            .iter()
            .map(|i| RefusedIssue {
                key: i.key.clone(),
                message: i.message.clone(),
            })
            .collect(),
    }
}
