//! The pure core stays pure: `rules` and `calendar` do no I/O, read no clock or environment,
//! and do not log. They return reasons; the caller logs them.

use std::path::{Path, PathBuf};

const FORBIDDEN: &[&str] = &[
    "tokio::",
    "reqwest::",
    "lapin::",
    "axum::",
    "std::env",
    "::now(",
    "tracing::",
];

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

#[test]
fn rules_and_calendar_touch_no_network_clock_environment_or_logger() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join("calendar.rs")];
    rust_files(&src.join("calendar"), &mut files);
    rust_files(&src.join("rules"), &mut files);
    assert!(files.len() > 5, "found the sources: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for word in FORBIDDEN {
                if line.contains(word) {
                    found.push(format!("{}:{}: {word}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the pure core must stay pure:\n{}",
        found.join("\n")
    );
}
