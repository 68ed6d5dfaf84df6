//! The environment as a value, and the `ORDERFLOW_SECTION__KEY` overrides it layers over the
//! parsed file. The environment is read once and passed in, so tests never touch the process
//! environment.

use std::collections::BTreeMap;

use toml::Value;

use super::ConfigIssue;

/// A read-only view of environment variables.
#[derive(Debug, Clone, Default)]
pub struct Env(BTreeMap<String, String>);

impl Env {
    /// The process environment, read once.
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Variables that configure the process rather than a config key.
const NOT_OVERRIDES: &[&str] = &["ORDERFLOW_CONFIG", "ORDERFLOW_LOG_FORMAT", "ORDERFLOW_LOG"];

/// Applies `ORDERFLOW_SECTION__KEY=value` overrides to scalar keys. `ORDERFLOW_SHOPS__0__DRY_RUN`
/// addresses the first `[[shops]]` entry. The value takes the type of the key it replaces
/// (integer, boolean, float); a new key becomes an integer or boolean when it reads as one.
pub fn apply_overrides(root: &mut Value, env: &Env, issues: &mut Vec<ConfigIssue>) {
    for (name, raw) in env.iter() {
        let Some(path) = name.strip_prefix("ORDERFLOW_") else {
            continue;
        };
        if NOT_OVERRIDES.contains(&name) || !path.contains("__") && path.is_empty() {
            continue;
        }
        let segments: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        let key = segments.join(".");
        if let Err(message) = set_path(root, &segments, raw) {
            issues.push(ConfigIssue::new(
                key,
                format!("cannot apply override `{name}`: {message}"),
            ));
        }
    }
}

fn set_path(node: &mut Value, segments: &[String], raw: &str) -> Result<(), String> {
    let (head, tail) = segments.split_first().ok_or("empty key")?;
    match node {
        Value::Table(table) => {
            if tail.is_empty() {
                let new = match table.get(head) {
                    Some(Value::Table(_)) | Some(Value::Array(_)) => {
                        return Err("only scalar keys can be overridden".into());
                    }
                    Some(existing) => typed_like(existing, raw)?,
                    None => guess_type(raw),
                };
                table.insert(head.clone(), new);
                Ok(())
            } else {
                let child = table
                    .entry(head.clone())
                    .or_insert_with(|| Value::Table(Default::default()));
                set_path(child, tail, raw)
            }
        }
        Value::Array(items) => {
            let index: usize = head
                .parse()
                .map_err(|_| format!("`{head}` is not an index into a list"))?;
            let len = items.len();
            let item = items
                .get_mut(index)
                .ok_or_else(|| format!("index {index} is past the {len} entries in the file"))?;
            if tail.is_empty() {
                *item = typed_like(item, raw)?;
                Ok(())
            } else {
                set_path(item, tail, raw)
            }
        }
        _ => Err(format!("`{head}` is under a scalar key")),
    }
}

fn typed_like(existing: &Value, raw: &str) -> Result<Value, String> {
    Ok(match existing {
        Value::Integer(_) => Value::Integer(
            raw.parse()
                .map_err(|_| format!("`{raw}` is not an integer"))?,
        ),
        Value::Boolean(_) => Value::Boolean(
            raw.parse()
                .map_err(|_| format!("`{raw}` is not `true` or `false`"))?,
        ),
        Value::Float(_) => Value::Float(
            raw.parse()
                .map_err(|_| format!("`{raw}` is not a number"))?,
        ),
        _ => Value::String(raw.to_owned()),
    })
}

fn guess_type(raw: &str) -> Value {
    if let Ok(i) = raw.parse::<i64>() {
        Value::Integer(i)
    } else if let Ok(b) = raw.parse::<bool>() {
        Value::Boolean(b)
    } else {
        Value::String(raw.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn overrides_keep_the_type_of_the_key_they_replace() {
        let mut root: Value = toml::from_str(
            "[amqp]\npartitions = 8\nprefix = \"a\"\n[[shops]]\ndomain = \"x\"\ndry_run = false\n",
        )
        .unwrap();
        let mut issues = vec![];
        let e = env(&[
            ("ORDERFLOW_AMQP__PARTITIONS", "4"),
            ("ORDERFLOW_AMQP__URL", "amqp://h"),
            ("ORDERFLOW_SHOPS__0__DRY_RUN", "true"),
            ("ORDERFLOW_CONFIG", "ignored.toml"),
            ("OTHER", "ignored"),
        ]);
        apply_overrides(&mut root, &e, &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(root["amqp"]["partitions"].as_integer(), Some(4));
        assert_eq!(root["amqp"]["url"].as_str(), Some("amqp://h"));
        assert_eq!(root["shops"][0]["dry_run"].as_bool(), Some(true));
        assert!(root.get("config").is_none());
    }

    #[test]
    fn override_with_wrong_type_is_reported() {
        let mut root: Value = toml::from_str("[amqp]\npartitions = 8\n").unwrap();
        let mut issues = vec![];
        apply_overrides(
            &mut root,
            &env(&[("ORDERFLOW_AMQP__PARTITIONS", "many")]),
            &mut issues,
        );
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].key, "amqp.partitions");
        assert!(issues[0].message.contains("not an integer"));
    }
}
