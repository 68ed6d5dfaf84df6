//! What each fuzz target runs on one input: the parser that sees untrusted bytes, and the
//! properties its answer must have. Shared with the test suite (`tests/it/fuzz.rs` replays the
//! committed corpus through these same functions), so a corpus file that once crashed a parser
//! keeps being checked by `cargo test`. A failed property panics, which is what the fuzzer
//! reports.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use orderflow::auth::query_hmac;
use orderflow::config::interpolate::interpolate;
use orderflow::config::{Config, Env};
use orderflow::event::Subject;
use orderflow::event::subject::{classify, subject};
use orderflow::rules::decision::Previous;
use orderflow::webhook::headers;
use orderflow::webhook::verify::{SignatureError, Unverified, sign};
use secrecy::SecretString;

fn secrets() -> Vec<SecretString> {
    ["fuzz-secret-new", "fuzz-secret-old"]
        .map(|s| SecretString::from(s.to_owned()))
        .to_vec()
}

/// The webhook HMAC: a signature made from the input never verifies unless it is the body's
/// own, the body's own always does, and one changed character breaks it.
pub fn webhook_verify(data: &[u8]) {
    let secrets = secrets();
    // The first line is tried as a signature of the rest.
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let signature = String::from_utf8_lossy(head);
    let right = sign(body, &secrets[1]);
    let given = Unverified {
        body,
        signature: Some(&signature),
    }
    .verify(&secrets);
    if signature.trim() != right && signature.trim() != sign(body, &secrets[0]) {
        assert_eq!(given.err(), Some(SignatureError::Mismatch), "{signature:?}");
    }
    assert!(
        Unverified {
            body,
            signature: Some(&right),
        }
        .verify(&secrets)
        .is_ok()
    );
    let mut wrong = right.clone().into_bytes();
    wrong[0] = if wrong[0] == b'A' { b'B' } else { b'A' };
    let wrong = String::from_utf8(wrong).expect("base64 is ASCII");
    assert_eq!(
        Unverified {
            body,
            signature: Some(&wrong),
        }
        .verify(&secrets)
        .err(),
        Some(SignatureError::Mismatch)
    );
    assert_eq!(
        Unverified {
            body,
            signature: None,
        }
        .verify(&secrets)
        .err(),
        Some(SignatureError::Missing)
    );
}

/// Delivery headers: `name: value` lines. What `parse` returns is trimmed, non-empty and
/// bounded, whatever the values were.
pub fn webhook_headers(data: &[u8]) {
    let mut map = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(&line[colon + 1..]),
        ) else {
            continue;
        };
        map.append(name, value);
    }
    if let Ok(meta) = headers::parse(&map) {
        let required = [&meta.topic, &meta.shop, &meta.webhook_id];
        let optional = [&meta.api_version, &meta.triggered_at, &meta.event_id];
        for v in required.into_iter().chain(optional.into_iter().flatten()) {
            assert!(!v.is_empty() && v.len() <= 256 && v.trim() == v, "{v:?}");
        }
    }
}

/// Topics whose bodies are skimmed for an id, one picked by the input's first byte.
const TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/edited",
    "orders/risk_assessment_changed",
    "refunds/create",
    "fulfillments/create",
    "fulfillment_orders/placed_on_hold",
    "fulfillment_holds/added",
    "customers/redact",
    "products/update",
];

/// The order-id skim of a body: never a zero id, a fulfilment order's id is one, and an
/// order topic's body gives the same subject twice.
pub fn order_id_skim(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let topic = TOPICS[pick as usize % TOPICS.len()];
    let class = classify(topic);
    let got = subject(class, topic, body);
    match &got {
        Some(Subject::Order(id)) => assert!(id.0 > 0),
        Some(Subject::FulfillmentOrder(gid)) => {
            assert!(gid.starts_with("gid://shopify/FulfillmentOrder/"), "{gid}")
        }
        _ => {}
    }
    assert_eq!(
        format!("{got:?}"),
        format!("{:?}", subject(class, topic, body))
    );
}

/// The install callback's query HMAC: the input as a query never passes unless it was signed;
/// the same parameters signed with a configured secret always do.
pub fn query_hmac(data: &[u8]) {
    let secrets = secrets();
    let query = String::from_utf8_lossy(data);
    let _ = query_hmac::verify(&query, &secrets);
    assert!(
        query_hmac::verify(&query, &[]).is_err(),
        "no secret, no pass"
    );
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| k != "hmac" && k != "signature")
        .collect();
    let hmac = query_hmac::sign(&params, &secrets[0]);
    let signed = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .append_pair("hmac", &hmac)
        .finish();
    assert_eq!(query_hmac::verify(&signed, &secrets), Ok(()), "{signed:?}");
    assert!(query_hmac::verify(&signed, &secrets[..0]).is_err());
}

/// `${VAR}` interpolation of one value: no variable reference, no change; otherwise the
/// result is bounded by what the references could add (no blow-up).
pub fn config_interpolate(data: &[u8]) {
    let env = Env::from_pairs([("A", "alpha"), ("B_2", "${A}"), ("EMPTY", "")]);
    let text = String::from_utf8_lossy(data).into_owned();
    let mut value = toml::Value::Array(vec![
        toml::Value::String(text.clone()),
        toml::Value::Table(toml::map::Map::from_iter([(
            "key".to_owned(),
            toml::Value::String(text.clone()),
        )])),
    ]);
    let mut issues = Vec::new();
    interpolate(&mut value, &env, &mut issues);
    if issues.is_empty() {
        let out = value[0].as_str().expect("still a string");
        if !text.contains("${") {
            assert_eq!(out, text);
        }
        assert!(out.len() <= text.len() * 5 + 5, "{text:?} -> {out:?}");
        assert_eq!(value[1]["key"].as_str(), Some(out));
    } else {
        // Both copies are reported, each by its key.
        assert_eq!(issues.len(), 2, "{issues:?}");
    }
}

/// A whole config file: every problem is an error naming a key, never a panic.
pub fn config_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let env = Env::from_pairs([("SHOPIFY_CLIENT_SECRET", "s"), ("ACME_TOKEN", "t")]);
    let _ = Config::from_toml(&text, std::path::Path::new("fuzz.toml"), &env);
}

/// The decision metafield's JSON (written by us, but editable by anyone with admin access):
/// a decision that reads back writes out and reads again the same.
pub fn decision_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Previous::Found(d) = Previous::read(Some(text)) {
        assert_eq!(Previous::read(Some(&d.to_json())), Previous::Found(d));
    }
}

/// One target's check of one input.
pub type Check = fn(&[u8]);

/// Every target by the name of its `fuzz_targets/` file and corpus directory.
pub const TARGETS: &[(&str, Check)] = &[
    ("webhook_verify", webhook_verify),
    ("webhook_headers", webhook_headers),
    ("order_id_skim", order_id_skim),
    ("query_hmac", query_hmac),
    ("config_interpolate", config_interpolate),
    ("config_toml", config_toml),
    ("decision_json", decision_json),
];
