//! The module graph keeps its shape. Imports are read from each file's tokens (`imports`), so a
//! grouped, relative or inline path counts and a comment does not: lower layers never import
//! higher ones, top-level modules form no cycle, only the CLI reaches the sandbox, and only
//! `queue` names lapin. The pure core also stays pure by text: no I/O, clock, environment or
//! logger, so it returns reasons and the caller logs them.

mod imports;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use imports::{crate_paths, module_of, tokenize};

/// Top-level modules by layer, lowest first. A module may import its own layer and the ones
/// below it, never one above.
const LAYERS: &[(&str, &[&str])] = &[
    ("pure core", &["id", "event", "calendar", "rules", "report"]),
    (
        "adapters",
        &[
            "config",
            "auth",
            "install",
            "queue",
            "shopify",
            "shops",
            "webhook",
            "sandbox",
            "store",
            "telemetry",
            "clock",
        ],
    ),
    ("composition", &["worker", "sweep", "dlq", "app", "cli"]),
];

/// The shipped dev commands (`orderflow sandbox`, `orderflow demo`) live in `cli`; no other
/// production module may reach the simulated shop.
const SANDBOX_USERS: &[&str] = &["cli"];

/// Imports the layer order allows but the design does not: each was cut once, for a reason.
const CUT: &[(&str, &str, &str)] = &[
    (
        "telemetry",
        "shopify",
        "the app copies the client's counters into the metrics",
    ),
    (
        "dlq",
        "worker",
        "the message contract (headers, reasons, the delivery view) is event's and queue's",
    ),
    ("dlq", "webhook", "replay routes with event's one route()"),
];

const PURE_CORE_FORBIDDEN: &[&str] = &[
    "tokio::",
    "reqwest::",
    "lapin::",
    "axum::",
    "std::env",
    "::now(",
    "tracing::",
];

/// One import of module `to` written in module `from`'s file.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
    path: String,
}

impl std::fmt::Display for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "src/{}:{}: {} -> {} ({})",
            self.file, self.line, self.from, self.to, self.path
        )
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every file under `src/`, as (path relative to `src/`, text).
fn sources() -> Vec<(String, String)> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (relative, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// Every import across top-level modules in the library (`main.rs` is the binary: it names
/// the library by its crate name).
fn edges() -> Vec<Edge> {
    let mut edges = Vec::new();
    for (file, text) in sources() {
        if file == "main.rs" {
            continue;
        }
        let module = module_of(&file);
        let Some(from) = module.first() else {
            continue;
        };
        for path in crate_paths(&module, &text) {
            let Some(to) = path.segments.first() else {
                continue;
            };
            if to != from {
                edges.push(Edge {
                    from: from.clone(),
                    to: to.clone(),
                    file: file.clone(),
                    line: path.line,
                    path: format!("crate::{}", path.segments.join("::")),
                });
            }
        }
    }
    // A parser that finds nothing would pass every check below: these imports exist.
    for (from, to) in [("app", "config"), ("cli", "app"), ("webhook", "event")] {
        assert!(
            edges.iter().any(|e| e.from == from && e.to == to),
            "the import reader lost {from} -> {to}; it found {} edges",
            edges.len()
        );
    }
    edges
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, modules)| modules.contains(&module))
}

fn fail_if_any(what: &str, found: &[String]) {
    assert!(
        found.is_empty(),
        "{what} ({} found):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let mut unplaced = BTreeSet::new();
    for (file, _) in sources() {
        let module = module_of(&file);
        if let Some(top) = module.first()
            && file != "main.rs"
            && layer_of(top).is_none()
        {
            unplaced.insert(format!("src/{file}: `{top}` is in no layer of LAYERS"));
        }
    }
    fail_if_any(
        "every top-level module belongs to a layer",
        &unplaced.into_iter().collect::<Vec<_>>(),
    );
}

#[test]
fn imports_follow_the_layer_order() {
    let found: Vec<String> = edges()
        .into_iter()
        .filter_map(|e| {
            let (from, to) = (layer_of(&e.from)?, layer_of(&e.to)?);
            (from < to).then(|| format!("{e}: the {} imports the {}", LAYERS[from].0, LAYERS[to].0))
        })
        .collect();
    fail_if_any("a lower layer imports a higher one", &found);
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let edges = edges();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for e in &edges {
        graph.entry(&e.from).or_default().insert(&e.to);
    }
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(m) = stack.pop() {
            if m == to {
                return true;
            }
            if seen.insert(m) {
                stack.extend(graph.get(m).into_iter().flatten().copied());
            }
        }
        false
    };
    // An edge is on a cycle when its target leads back to its source.
    let found: Vec<String> = edges
        .iter()
        .filter(|e| reaches(&e.to, &e.from))
        .map(|e| format!("{e}: and {} leads back to {}", e.to, e.from))
        .collect();
    fail_if_any("an import closes a cycle between top-level modules", &found);
}

#[test]
fn only_the_cli_imports_the_sandbox() {
    let found: Vec<String> = edges()
        .into_iter()
        .filter(|e| e.to == "sandbox" && !SANDBOX_USERS.contains(&e.from.as_str()))
        .map(|e| e.to_string())
        .collect();
    fail_if_any(
        "a production module imports the sandbox (only the cli's dev commands may)",
        &found,
    );
}

#[test]
fn cut_imports_stay_cut() {
    let found: Vec<String> = edges()
        .into_iter()
        .filter_map(|e| {
            let (_, _, why) = CUT
                .iter()
                .find(|(from, to, _)| e.from == *from && e.to == *to)?;
            Some(format!("{e}: cut because {why}"))
        })
        .collect();
    fail_if_any("an import the design cut is back", &found);
}

#[test]
fn only_queue_names_lapin() {
    let mut found = Vec::new();
    for (file, text) in sources() {
        if file.starts_with("queue/") {
            continue;
        }
        let lines: BTreeSet<usize> = tokenize(&text)
            .into_iter()
            .filter(|t| t.text == "lapin")
            .map(|t| t.line)
            .collect();
        found.extend(lines.into_iter().map(|n| format!("src/{file}:{n}: lapin")));
    }
    fail_if_any("lapin is named outside src/queue/", &found);
}

#[test]
fn pure_core_touches_no_network_clock_environment_or_logger() {
    let pure = ["id", "event", "calendar", "rules", "report"];
    let files: Vec<(String, String)> = sources()
        .into_iter()
        .filter(|(file, _)| {
            module_of(file)
                .first()
                .is_some_and(|m| pure.contains(&m.as_str()))
        })
        .collect();
    for module in pure {
        assert!(
            files
                .iter()
                .any(|(f, _)| module_of(f).first().map(String::as_str) == Some(module)),
            "found the sources of {module}"
        );
    }
    let mut found = Vec::new();
    for (file, text) in &files {
        for (n, line) in text.lines().enumerate() {
            for word in PURE_CORE_FORBIDDEN {
                if line.contains(word) {
                    found.push(format!("src/{file}:{}: {word}", n + 1));
                }
            }
        }
    }
    fail_if_any("the pure core must stay pure", &found);
}

/// The reader on a small source with every form it must understand, so a broken reader cannot
/// make the checks above pass by finding nothing.
#[test]
fn the_import_reader_resolves_grouped_relative_and_inline_paths() {
    let source = r##"
//! Docs naming crate::sandbox::Sandbox are not imports.
use std::sync::Arc;
pub use crate::event::{
    header::{self, TOPIC},
    WebhookMeta as Meta,
};
pub(crate) use super::names::Names;
use self::inner::Thing;
use super::super::rules::*;

fn f() -> crate::clock::SystemClock {
    let s = "crate::shopify::Client";
    let c = '{'; /* crate::sandbox, nor in a /* nested */ comment */
    let _ = super::publisher::publish::<'static>(r#"crate::sandbox "quoted""#);
    crate::clock::SystemClock
}

#[cfg(test)]
mod tests {
    use super::*;
    use super::super::topology::Topology;
}
"##;
    let module = module_of("queue/connection/mod.rs");
    assert_eq!(module, ["queue", "connection"]);
    let got: Vec<(usize, String)> = crate_paths(&module, source)
        .into_iter()
        .map(|p| (p.line, p.segments.join("::")))
        .collect();
    let want: Vec<(usize, String)> = [
        (5, "event::header"),
        (5, "event::header::TOPIC"),
        (6, "event::WebhookMeta"),
        (8, "queue::names::Names"),
        (9, "queue::connection::inner::Thing"),
        (10, "rules"),
        (12, "clock::SystemClock"),
        (15, "queue::publisher::publish"),
        (16, "clock::SystemClock"),
        (21, "queue::connection"),
        (22, "queue::topology::Topology"),
    ]
    .into_iter()
    .map(|(n, p)| (n, p.to_owned()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(module_of("lib.rs"), Vec::<String>::new());
    assert_eq!(module_of("rules/load/value.rs"), ["rules", "load", "value"]);
}
