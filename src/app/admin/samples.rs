//! The Prometheus text exposition read back: the ops page takes its figures from exactly what
//! `/metrics` serves, so the two can never disagree about what a number means.

use std::collections::BTreeMap;

/// One sample: the metric's full name (`_total`, `_bucket`… included), its labels, its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Samples(pub Vec<Sample>);

impl Samples {
    /// Parses the text format; lines it cannot read (comments, `# EOF`) are skipped.
    pub fn parse(text: &str) -> Self {
        Self(text.lines().filter_map(parse_line).collect())
    }

    /// The sum over the samples named `name` whose labels include every `(key, value)` of
    /// `with`: what the page shows for a figure tagged `data-metric`/`data-labels`.
    pub fn sum(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.matching(name, with).map(|s| s.value).sum()
    }

    pub fn matching<'a>(
        &'a self,
        name: &'a str,
        with: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.0.iter().filter(move |s| {
            s.name == name
                && with
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).is_some_and(|have| have == v))
        })
    }

    /// The distinct values of `label` among the samples named `name`, sorted.
    pub fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        let mut values: Vec<String> = self
            .0
            .iter()
            .filter(|s| s.name == name)
            .filter_map(|s| s.labels.get(label).cloned())
            .collect();
        values.sort();
        values.dedup();
        values
    }
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => return None,
    };
    let mut labels = BTreeMap::new();
    let rest = if let Some(body) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(body)?;
        labels = parsed;
        after
    } else {
        rest
    };
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// `k="v",k2="v2"}` → the labels and what follows the `}`. Values unescape `\"`, `\\`, `\n`.
fn parse_labels(mut s: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    loop {
        s = s.trim_start_matches([',', ' ']);
        if let Some(after) = s.strip_prefix('}') {
            return Some((labels, after));
        }
        let eq = s.find('=')?;
        let key = s[..eq].trim().to_owned();
        let mut chars = s[eq + 1..].char_indices();
        if chars.next()?.1 != '"' {
            return None;
        }
        let mut value = String::new();
        let mut escaped = false;
        let mut end = None;
        for (i, c) in chars {
            match (escaped, c) {
                (true, 'n') => {
                    value.push('\n');
                    escaped = false;
                }
                (true, c) => {
                    value.push(c);
                    escaped = false;
                }
                (false, '\\') => escaped = true,
                (false, '"') => {
                    end = Some(eq + 1 + i + 1);
                    break;
                }
                (false, c) => value.push(c),
            }
        }
        labels.insert(key, value);
        s = &s[end?..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP orderflow_webhooks Webhooks received, by topic and outcome.
# TYPE orderflow_webhooks counter
orderflow_webhooks_total{topic="orders/create",outcome="published"} 3
orderflow_webhooks_total{topic="orders/paid",outcome="published"} 2
orderflow_webhooks_total{topic="orders/paid",outcome="unauthorized"} 1
orderflow_broker_connected 1
orderflow_actions_total{kind="hold",rule="say \"hi\", a\\b"} 4
orderflow_event_lag_seconds_bucket{le="+Inf"} 7
# EOF
"#;

    #[test]
    fn sums_by_label_subset_and_unescapes_values() {
        let s = Samples::parse(TEXT);
        assert_eq!(s.sum("orderflow_webhooks_total", &[]), 6.0);
        assert_eq!(
            s.sum("orderflow_webhooks_total", &[("outcome", "published")]),
            5.0
        );
        assert_eq!(s.sum("orderflow_broker_connected", &[]), 1.0);
        assert_eq!(
            s.sum("orderflow_actions_total", &[("rule", "say \"hi\", a\\b")]),
            4.0
        );
        assert_eq!(
            s.label_values("orderflow_webhooks_total", "outcome"),
            ["published", "unauthorized"]
        );
        assert_eq!(s.sum("orderflow_event_lag_seconds_bucket", &[]), 7.0);
        assert_eq!(s.sum("orderflow_missing", &[]), 0.0);
    }
}
