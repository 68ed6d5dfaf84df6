//! `orderflow_config_info{sha256}`: which config version a process runs, 1 for the active one
//! only, so a dashboard shows at a glance whether every replica took a reload.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConfigLabels {
    pub sha256: String,
}

/// The info gauge; [`ConfigInfo::set`] replaces the label.
#[derive(Clone, Default)]
pub struct ConfigInfo(Family<ConfigLabels, Gauge>);

impl ConfigInfo {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let info = Self::default();
        registry.register(
            "config_info",
            "Always 1; the label is the SHA-256 of the active config file and its rules files",
            info.0.clone(),
        );
        info
    }

    /// `sha256` is the active version: the previous one's series is dropped, not left at 0,
    /// so a query for the value 1 and a count of series agree.
    pub fn set(&self, sha256: &str) {
        self.0.clear();
        self.0
            .get_or_create(&ConfigLabels {
                sha256: sha256.to_owned(),
            })
            .set(1);
    }
}
