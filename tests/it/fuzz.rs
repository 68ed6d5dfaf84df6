//! The fuzz targets' checks in the ordinary test run: every committed corpus file replayed
//! through the same function its fuzz target calls (`fuzz/src/checks.rs`), and proptest
//! properties for each parser that sees untrusted bytes, with inputs shaped to reach past
//! the first "not JSON" or "not a header" (deep nesting, huge numbers, invalid UTF-8, long
//! values).

use std::path::Path;

use orderflow::event::Subject;
use orderflow::event::subject::{classify, subject};
use orderflow::webhook::verify::{SignatureError, Unverified, sign};
use proptest::prelude::*;
use secrecy::SecretString;

#[path = "../../fuzz/src/checks.rs"]
mod checks;

#[test]
fn every_committed_corpus_file_passes_its_fuzz_targets_checks() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (name, check) in checks::TARGETS {
        let dir = corpus.join(name);
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a corpus entry").path();
            let data = std::fs::read(&path).expect("a corpus file");
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{name}: {} fails", path.display());
            files += 1;
        }
        assert!(files > 0, "{name} has a corpus");
    }
}

#[test]
fn every_fuzz_target_has_a_file_and_a_corpus() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for (name, _) in checks::TARGETS {
        let source = std::fs::read_to_string(fuzz.join(format!("fuzz_targets/{name}.rs")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(source.contains(&format!("checks::{name}(data)")), "{name}");
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name}");
    }
}

/// JSON nested `depth` deep, around `inner`.
fn nested(depth: usize, inner: &str) -> String {
    format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deeply_nested_huge_and_invalid_bodies_are_unusable_not_a_crash() {
    let deep = nested(100_000, r#"{"id":1}"#);
    for topic in ["orders/create", "fulfillment_orders/placed_on_hold"] {
        let got = subject(classify(topic), topic, deep.as_bytes());
        assert!(
            matches!(got, Some(Subject::Unusable(_))),
            "{topic}: {got:?}"
        );
    }
    for body in [
        r#"{"id":1e400}"#.to_owned(),
        format!(r#"{{"id":{}}}"#, "9".repeat(100_000)),
        r#"{"id":18446744073709551616}"#.to_owned(),
        r#"{"id":-1}"#.to_owned(),
        r#"{"id":0}"#.to_owned(),
    ] {
        let got = subject(classify("orders/create"), "orders/create", body.as_bytes());
        assert!(matches!(got, Some(Subject::Unusable(_))), "{got:?}");
    }
    // Invalid UTF-8 in a field the skim skips is not looked at (the body is queued as the
    // signed bytes it is, and the worker reads the order from Shopify): the id still counts.
    let invalid = b"{\"id\":1,\"name\":\"\xff\xfe\"}";
    let got = subject(classify("orders/create"), "orders/create", invalid);
    assert!(
        matches!(got, Some(Subject::Order(o)) if o.0 == 1),
        "{got:?}"
    );
    // In the id itself it is refused.
    let got = subject(
        classify("orders/create"),
        "orders/create",
        b"{\"id\":\"1\xff\"}",
    );
    assert!(matches!(got, Some(Subject::Unusable(_))), "{got:?}");
    for (_, check) in checks::TARGETS {
        check(deep.as_bytes());
        check(invalid);
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// 256 cases per property; `ORDERFLOW_FUZZ_CASES=<n>` runs a longer random search without the
/// fuzzer (e.g. where no nightly compiler is at hand).
fn cases() -> u32 {
    std::env::var("ORDERFLOW_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_pass_every_fuzz_check(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        for (_, check) in checks::TARGETS {
            check(&data);
        }
    }

    #[test]
    fn a_signature_verifies_only_for_its_body_and_secret(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        other in proptest::collection::vec(any::<u8>(), 0..256),
        key in "[ -~]{1,40}",
    ) {
        let secrets = [secret(&key)];
        let sig = sign(&body, &secrets[0]);
        let good = Unverified { body: &body, signature: Some(&sig) }.verify(&secrets);
        prop_assert!(good.is_ok());
        if other != body {
            prop_assert_eq!(
                Unverified { body: &other, signature: Some(&sig) }.verify(&secrets).err(),
                Some(SignatureError::Mismatch)
            );
        }
        let wrong_secret = Unverified { body: &body, signature: Some(&sig) }
            .verify(&[secret(&format!("{key}x"))]);
        prop_assert!(wrong_secret.is_err());
    }

    #[test]
    fn header_values_of_any_length_and_bytes_are_bounded(
        value in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut lines = b"X-Shopify-Shop-Domain: acme.myshopify.com\nX-Shopify-Webhook-Id: w\nX-Shopify-Topic: ".to_vec();
        lines.extend(value.iter().filter(|&&b| b != b'\n'));
        checks::webhook_headers(&lines);
    }

    #[test]
    fn an_order_id_is_read_from_any_u64_and_nothing_else(
        id in any::<u64>(),
        as_text in any::<bool>(),
        depth in 0usize..200,
    ) {
        let value = if as_text { format!("\"{id}\"") } else { id.to_string() };
        let body = format!(r#"{{"name":{},"id":{value}}}"#, nested(depth, "1"));
        let got = subject(classify("orders/create"), "orders/create", body.as_bytes());
        if id > 0 {
            prop_assert!(matches!(got, Some(Subject::Order(o)) if o.0 == id), "{got:?}");
        } else {
            prop_assert!(matches!(got, Some(Subject::Unusable(_))), "{got:?}");
        }
        let mut tagged = vec![0u8];
        tagged.extend(body.as_bytes());
        checks::order_id_skim(&tagged);
    }

    #[test]
    fn a_signed_query_verifies_whatever_its_parameters(
        params in proptest::collection::vec(("[ -~]{0,12}", "\\PC{0,24}"), 0..8),
    ) {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        checks::query_hmac(query.as_bytes());
    }

    #[test]
    fn interpolation_of_reference_like_text_is_bounded(text in "[A-Z_a${}:\\- ]{0,80}") {
        checks::config_interpolate(text.as_bytes());
    }

    #[test]
    fn a_decision_like_json_reads_back_or_is_unreadable(
        version in 0u32..3,
        ship_by in "(null|\"2026-11-2[0-9]\"|\"2026-13-40\"|12)",
        holds in "(\\[\\]|\\[\\{\"fulfillment_order\":\"gid://shopify/FulfillmentOrder/1\",\"handle\":\"orderflow-fraud\"\\}\\]|\\{\\})",
        planned_at in "(\"2026-11-23T09:00:00Z\"|\"yesterday\"|null)",
    ) {
        let text = format!(
            r#"{{"version":{version},"ship_by":{ship_by},"holds":{holds},"rules":[],"planned_at":{planned_at}}}"#
        );
        checks::decision_json(text.as_bytes());
    }

    #[test]
    fn a_config_with_any_value_in_a_key_is_an_error_or_a_config(value in "\\PC{0,40}") {
        let text = format!(
            "[amqp]\nurl = {value:?}\n[shopify]\nclient_secrets = [\"${{SHOPIFY_CLIENT_SECRET}}\"]\n\
             [[shops]]\ndomain = {value:?}\naccess_token = \"${{ACME_TOKEN}}\"\ntimezone = {value:?}\n"
        );
        checks::config_toml(text.as_bytes());
    }
}
