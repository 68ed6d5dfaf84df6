//! Which keys of a reloaded config differ from the running process's in a way a reload cannot
//! apply. Compared on the files' TOML trees (before interpolation: the environment cannot
//! change under a running process), so a changed secret is found without reading it, and only
//! key names ever leave this module.
//!
//! What a reload applies: the global rules sections and, for each shop the process already
//! serves, its rules (inline or its `rules` file), `timezone` and `dry_run`. Everything else
//! was built into the listeners, the broker topology, the token sources or the background
//! tasks at start and needs a restart: `[server]`, `[amqp]`, `[shopify]`, `[worker]`,
//! `[webhooks]`, `[sweep]`, `[store]`, `[admin]`, a shop's `access_token`, `auth` and
//! `admin_api_url`, and a shop added or removed (its token source is made at start).

use toml::{Table, Value};

/// The top-level sections a reload applies; every other key needs a restart.
const APPLIED_SECTIONS: &[&str] = &[
    "shops",
    "fulfilment",
    "processing",
    "fraud",
    "archive",
    "payment",
];

/// A shop's keys that need a restart; the rest of its entry is applied.
const SHOP_FIXED_KEYS: &[&str] = &["access_token", "auth", "admin_api_url"];

/// The keys that differ between `running` and `next` and need a restart, as dotted paths
/// (`amqp.partitions`, `shops[1].access_token`; `shops[2] (x.myshopify.com added)` for a
/// shop added or removed, indexed in the file that has it), sorted.
pub fn restart_required(running: &Table, next: &Table) -> Vec<String> {
    let mut out = Vec::new();
    for key in union(running, next) {
        if APPLIED_SECTIONS.contains(&key) {
            continue;
        }
        differing(key.to_owned(), running.get(key), next.get(key), &mut out);
    }
    let (old, new) = (shops(running), shops(next));
    for (i, shop) in new.iter().enumerate() {
        match old.iter().find(|o| domain(o) == domain(shop)) {
            None => out.push(format!(
                "shops[{i}] ({} added)",
                domain(shop).unwrap_or("?")
            )),
            Some(was) => {
                for key in SHOP_FIXED_KEYS {
                    if was.get(*key) != shop.get(*key) {
                        out.push(format!("shops[{i}].{key}"));
                    }
                }
            }
        }
    }
    for (i, was) in old.iter().enumerate() {
        if !new.iter().any(|n| domain(n) == domain(was)) {
            out.push(format!(
                "shops[{i}] ({} removed)",
                domain(was).unwrap_or("?")
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The domains of shops in `next` but not in `running`, and in `running` but not in `next`.
pub fn added_and_removed(running: &Table, next: &Table) -> (Vec<String>, Vec<String>) {
    let (old, new) = (shops(running), shops(next));
    let names = |of: &[Value], not_in: &[Value]| {
        of.iter()
            .filter(|s| !not_in.iter().any(|o| domain(o) == domain(s)))
            .filter_map(|s| domain(s).map(str::to_owned))
            .collect::<Vec<_>>()
    };
    (names(&new, &old), names(&old, &new))
}

fn shops(tree: &Table) -> Vec<Value> {
    tree.get("shops")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn domain(shop: &Value) -> Option<&str> {
    shop.get("domain").and_then(Value::as_str)
}

fn union<'a>(a: &'a Table, b: &'a Table) -> Vec<&'a str> {
    let mut keys: Vec<&str> = a.keys().chain(b.keys()).map(String::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Pushes `path` for every leaf that differs; tables are compared key by key, anything else
/// (arrays included) whole.
fn differing(path: String, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<String>) {
    match (a, b) {
        (Some(Value::Table(a)), Some(Value::Table(b))) => {
            for key in union(a, b) {
                differing(format!("{path}.{key}"), a.get(key), b.get(key), out);
            }
        }
        (a, b) if a != b => out.push(path),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Table {
        toml::from_str(text).expect("toml")
    }

    const RUNNING: &str = r#"
[server]
listen = "127.0.0.1:8080"
[amqp]
url = "${AMQP_URL}"
partitions = 4
[fulfilment]
default = "manual"
[[shops]]
domain = "a.myshopify.com"
access_token = "${A}"
[[shops]]
domain = "b.myshopify.com"
access_token = "${B}"
"#;

    #[test]
    fn rules_and_shop_rules_need_no_restart() {
        let next = RUNNING.replace("default = \"manual\"", "default = \"auto\"")
            + "[shops.fulfilment]\ndefault = \"auto\"\n";
        assert_eq!(
            restart_required(&tree(RUNNING), &tree(&next)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn fixed_keys_are_named_by_their_path() {
        let next = RUNNING
            .replace("partitions = 4", "partitions = 8\nprefix = \"x\"")
            .replace("${B}", "${B2}")
            + "[admin]\nlisten = \"127.0.0.1:9\"\n";
        assert_eq!(
            restart_required(&tree(RUNNING), &tree(&next)),
            [
                "admin",
                "amqp.partitions",
                "amqp.prefix",
                "shops[1].access_token"
            ]
        );
    }

    #[test]
    fn a_shop_added_or_removed_needs_a_restart() {
        let next = RUNNING.replace("b.myshopify.com", "c.myshopify.com");
        assert_eq!(
            restart_required(&tree(RUNNING), &tree(&next)),
            [
                "shops[1] (b.myshopify.com removed)",
                "shops[1] (c.myshopify.com added)"
            ]
        );
        assert_eq!(
            added_and_removed(&tree(RUNNING), &tree(&next)),
            (
                vec!["c.myshopify.com".to_owned()],
                vec!["b.myshopify.com".to_owned()]
            )
        );
    }
}
