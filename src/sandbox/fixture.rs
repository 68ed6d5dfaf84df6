//! Loading orders from fixture files (`fixtures/orders/*.json`, the [`OrderSnapshot`] format plus
//! `"shop"`; `*.webhook.json` files are webhook bodies and are skipped).
//!
//! [`OrderSnapshot`]: crate::shopify::OrderSnapshot

use std::path::{Path, PathBuf};

use super::state::Fixture;

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not an order fixture: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// Every order fixture in `dir`, sorted by file name.
pub fn load_dir(dir: &Path) -> Result<Vec<Fixture>, FixtureError> {
    let read_err = |source| FixtureError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            name.ends_with(".json") && !name.ends_with(".webhook.json")
        })
        .collect();
    paths.sort();
    paths.iter().map(|p| load_file(p)).collect()
}

pub fn load_file(path: &Path) -> Result<Fixture, FixtureError> {
    let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| FixtureError::Parse {
        path: path.to_path_buf(),
        source,
    })
}
