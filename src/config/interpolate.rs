//! Pure `${VAR}` / `${VAR:-default}` interpolation over a parsed TOML tree, after the overrides
//! are applied, so an override may itself use `${VAR}`.

use toml::Value;

use super::{ConfigIssue, Env};

/// Replaces every `${VAR}` and `${VAR:-default}` inside string values (keys are left alone).
/// Every missing variable is reported with the key it appears in.
pub fn interpolate(value: &mut Value, env: &Env, issues: &mut Vec<ConfigIssue>) {
    walk(value, String::new(), env, issues);
}

fn walk(value: &mut Value, path: String, env: &Env, issues: &mut Vec<ConfigIssue>) {
    match value {
        Value::String(s) => match expand(s, env) {
            Ok(expanded) => *s = expanded,
            Err(message) => issues.push(ConfigIssue::new(path, message)),
        },
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, format!("{path}[{i}]"), env, issues);
            }
        }
        Value::Table(table) => {
            for (key, item) in table.iter_mut() {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                walk(item, child, env, issues);
            }
        }
        Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::Datetime(_) => {}
    }
}

/// Expands one string. `$${` is not special-cased: a literal `${` cannot appear in a value,
/// which no key of ours needs.
fn expand(input: &str, env: &Env) -> Result<String, String> {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed `${{` in `{input}`: write `${{NAME}}`"))?;
        let expr = &after[..end];
        let (name, default) = match expr.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (expr, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`${{{expr}}}` is not a variable reference: names use letters, digits and `_`"
            ));
        }
        match (env.get(name), default) {
            (Some(v), _) => out.push_str(v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(format!(
                    "environment variable `{name}` is not set: set it, or write `${{{name}:-default}}`"
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_variables_and_defaults() {
        let e = Env::from_pairs([("A", "x"), ("B", "")]);
        assert_eq!(expand("a${A}b", &e).unwrap(), "axb");
        assert_eq!(expand("${MISSING:-dflt}", &e).unwrap(), "dflt");
        assert_eq!(
            expand("${B:-dflt}", &e).unwrap(),
            "",
            "set but empty is kept"
        );
        assert_eq!(expand("${A}${A}", &e).unwrap(), "xx");
        assert_eq!(expand("plain", &e).unwrap(), "plain");
    }

    #[test]
    fn missing_variable_names_it_and_the_fix() {
        let err = expand("${NOPE}", &Env::default()).unwrap_err();
        assert!(err.contains("`NOPE`"), "{err}");
        assert!(err.contains("${NOPE:-default}"), "{err}");
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(expand("${A", &Env::default()).is_err());
        assert!(expand("${}", &Env::default()).is_err());
        assert!(expand("${A B}", &Env::default()).is_err());
    }
}
