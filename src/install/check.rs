//! The pure checks of an install: a timestamp fresh enough, and granted scopes that cover the
//! ones orderflow asked for.

use jiff::Timestamp;

/// How far Shopify's `timestamp` may be from now: Shopify's Node library refuses a request more
/// than 90 s old (facts sheet §1d; the docs say nothing). Also refused that far in the future.
pub const MAX_SKEW_SECONDS: i64 = 90;

/// Whether a request's `timestamp` (Unix seconds) is within [`MAX_SKEW_SECONDS`] of `now`.
pub fn fresh(timestamp: Option<&str>, now: Timestamp) -> bool {
    timestamp
        .and_then(|t| t.parse::<i64>().ok())
        .is_some_and(|t| (now.as_second() - t).abs() <= MAX_SKEW_SECONDS)
}

/// The scopes of `wanted` that `granted` (comma-separated, as Shopify's `scope`) does not
/// cover. A `write_x` grant covers `read_x` ("write implies read", §1e).
pub fn missing_scopes(wanted: &[String], granted: &str) -> Vec<String> {
    let granted: Vec<&str> = granted
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    wanted
        .iter()
        .filter(|scope| {
            let implied = scope
                .strip_prefix("read_")
                .is_some_and(|rest| granted.contains(&format!("write_{rest}").as_str()));
            !granted.contains(&scope.as_str()) && !implied
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_within_ninety_seconds_either_way_is_fresh_and_nothing_else() {
        let now = Timestamp::from_second(1_000_000).unwrap();
        assert!(fresh(Some("1000000"), now));
        assert!(fresh(Some("999910"), now));
        assert!(fresh(Some("1000090"), now));
        assert!(!fresh(Some("999909"), now));
        assert!(!fresh(Some("1000091"), now));
        assert!(!fresh(Some("soon"), now));
        assert!(!fresh(None, now));
    }

    #[test]
    fn write_implies_read_and_every_other_scope_must_be_granted() {
        let wanted: Vec<String> = ["read_orders", "write_orders", "read_products"]
            .map(String::from)
            .to_vec();
        assert!(missing_scopes(&wanted, "write_orders,read_products").is_empty());
        assert!(missing_scopes(&wanted, "read_orders, write_orders ,read_products").is_empty());
        assert_eq!(
            missing_scopes(&wanted, "read_orders,read_products"),
            ["write_orders"]
        );
        assert_eq!(
            missing_scopes(&wanted, ""),
            ["read_orders", "write_orders", "read_products"]
        );
        // Read does not imply write.
        assert_eq!(
            missing_scopes(&["write_orders".into()], "read_orders"),
            ["write_orders"]
        );
    }
}
