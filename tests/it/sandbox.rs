//! The sandbox shop over raw HTTP: Shopify's answers for bad tokens, invalid documents, costly
//! queries and an empty bucket; generic execution; the control API.

use serde_json::{Value, json};

use orderflow::sandbox::{BucketConfig, Sandbox, SandboxConfig};
use orderflow::shopify::documents;

use crate::shopify::{SHOP, TOKEN, harness, order_gid};

async fn post(sandbox: &Sandbox, token: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/admin/api/2026-10/graphql.json",
            sandbox.base_url()
        ))
        .header("Host", SHOP)
        .header("X-Shopify-Access-Token", token)
        .json(&body)
        .send()
        .await
        .expect("sandbox answers");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

async fn query(sandbox: &Sandbox, query: &str, variables: Value) -> Value {
    let (status, body) = post(
        sandbox,
        TOKEN,
        json!({"query": query, "variables": variables}),
    )
    .await;
    assert_eq!(status, 200);
    body
}

#[tokio::test]
async fn a_wrong_token_gets_401_with_shopifys_body() {
    let h = harness().await;
    let (status, body) = post(
        &h.sandbox,
        "shpat_wrong",
        json!({"query": "{ shop { id } }"}),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
    );
}

#[tokio::test]
async fn a_schema_invalid_document_is_refused_with_http_200_errors_and_locations() {
    let h = harness().await;
    let body = query(
        &h.sandbox,
        "query {\n  order(id: \"x\") { id financialStatus }\n}",
        json!({}),
    )
    .await;
    let error = &body["errors"][0];
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("financialStatus"),
        "{body}"
    );
    assert_eq!(error["locations"][0]["line"], 2);
    assert!(body.get("data").is_none(), "nothing ran: {body}");
    assert!(h.sandbox.mutations().is_empty());
}

#[tokio::test]
async fn a_query_over_1000_points_is_refused_with_max_cost_exceeded() {
    let h = harness().await;
    let text = "{ orders(first: 100) { nodes { lineItems(first: 100) { nodes { id } } } } }";
    let body = query(&h.sandbox, text, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "MAX_COST_EXCEEDED",
        "{body}"
    );
    assert_eq!(
        body["extensions"]["cost"]["requestedQueryCost"],
        2 + 100 * (1 + 2 + 100)
    );
}

#[tokio::test]
async fn an_empty_bucket_answers_throttled_with_http_200_and_its_status() {
    let h = harness().await;
    h.sandbox.set_bucket(BucketConfig {
        maximum_available: 50.0,
        restore_rate: 1.0,
    });
    let snapshot = documents::ORDER_SNAPSHOT.text();
    let body = query(&h.sandbox, snapshot, json!({"id": order_gid(1)})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "THROTTLED",
        "{body}"
    );
    let status = &body["extensions"]["cost"]["throttleStatus"];
    assert_eq!(status["maximumAvailable"], 50.0);
    assert_eq!(status["restoreRate"], 1.0);
}

#[tokio::test]
async fn every_answer_reports_requested_and_actual_cost_and_refunds_the_difference() {
    let h = harness().await;
    let body = query(
        &h.sandbox,
        documents::ORDER_SNAPSHOT.text(),
        json!({"id": order_gid(1)}),
    )
    .await;
    let cost = &body["extensions"]["cost"];
    let requested = cost["requestedQueryCost"].as_u64().expect("requested");
    let actual = cost["actualQueryCost"].as_u64().expect("actual");
    assert!(actual < requested, "{cost}");
    assert_eq!(
        cost["throttleStatus"]["currentlyAvailable"].as_f64(),
        Some(2000.0 - actual as f64)
    );
}

#[tokio::test]
async fn aliases_fragments_node_look_ups_and_unknown_ids_execute_like_shopify() {
    let h = harness().await;
    let text = r#"
        query($a: ID!, $b: ID!) {
          first: order(id: $a) { ...O }
          missing: order(id: "gid://shopify/Order/1") { id }
          n: node(id: $b) { __typename ... on Order { name } ... on SellingPlan { category } }
          ns: nodes(ids: [$a, "gid://shopify/Product/1"]) { id }
        }
        fragment O on Order { name lineItems(first: 1) { edges { cursor node { sku } } pageInfo { hasNextPage } } }
    "#;
    let body = query(
        &h.sandbox,
        text,
        json!({"a": order_gid(2), "b": order_gid(3)}),
    )
    .await;
    let data = &body["data"];
    assert_eq!(data["first"]["name"], "#1002", "{body}");
    assert_eq!(
        data["first"]["lineItems"]["edges"][0]["node"]["sku"],
        "MUG-BLUE-350"
    );
    assert_eq!(data["first"]["lineItems"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(data["missing"], Value::Null);
    assert_eq!(data["n"], json!({"__typename": "Order", "name": "#1003"}));
    assert_eq!(data["ns"], json!([{"id": order_gid(2)}, null]));
}

#[tokio::test]
async fn the_control_api_injects_faults_acts_as_the_merchant_and_lists_mutations() {
    let h = harness().await;
    let http = reqwest::Client::new();
    let control = |path: &str| format!("{}/_sandbox{path}", h.sandbox.base_url());
    let sent = http
        .post(control("/faults"))
        .json(&json!({"fault": {"kind": "http500"}, "times": 1}))
        .send()
        .await
        .expect("control");
    assert_eq!(sent.status().as_u16(), 204);
    let (status, _) = post(&h.sandbox, TOKEN, json!({"query": "{ shop { id } }"})).await;
    assert_eq!(status, 500);

    let order = 820_982_911_946_154_508u64 + 4;
    let risk = http
        .post(control(&format!("/shops/{SHOP}/orders/{order}/risk")))
        .json(&json!({"recommendation": "ACCEPT", "riskLevels": ["LOW"]}))
        .send()
        .await
        .expect("control");
    assert_eq!(risk.status().as_u16(), 204);
    let snapshot = h
        .client
        .fetch_snapshot(&h.shop, crate::shopify::order_id(4))
        .await
        .expect("snapshot");
    assert_eq!(
        snapshot.risk.recommendation,
        orderflow::shopify::snapshot::RiskRecommendation::Accept
    );

    h.client
        .add_tags(&h.shop, &order_gid(4), &["reviewed".to_owned()])
        .await
        .expect("tagged");
    let log: Value = http
        .get(control("/mutations"))
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("json");
    assert_eq!(log[0]["operationName"], "TagsAdd");
    assert_eq!(log[0]["variables"]["tags"], json!(["reviewed"]));
    assert_eq!(log[0]["shop"], SHOP);
    let count: Value = http
        .get(control("/requests"))
        .send()
        .await
        .expect("count")
        .json()
        .await
        .expect("json");
    assert_eq!(count["count"], h.sandbox.request_count());
}

#[tokio::test]
async fn the_control_api_touches_an_order_without_a_webhook_and_lists_the_queries() {
    let h = harness().await;
    let http = reqwest::Client::new();
    let control = |path: &str| format!("{}/_sandbox{path}", h.sandbox.base_url());
    let order = 820_982_911_946_154_508u64 + 4;
    let touched = http
        .post(control(&format!("/shops/{SHOP}/orders/{order}/touch")))
        .send()
        .await
        .expect("control");
    assert_eq!(touched.status().as_u16(), 204);
    let missing = http
        .post(control(&format!("/shops/{SHOP}/orders/1/touch")))
        .send()
        .await
        .expect("control");
    assert_eq!(missing.status().as_u16(), 404);
    // Its updatedAt is now the sandbox's clock: the search for the last hour finds it alone.
    let now = orderflow::clock::Clock::now(&orderflow::clock::SystemClock);
    let found = h
        .client
        .orders_updated(&h.shop, now - jiff::SignedDuration::from_hours(1), now)
        .await
        .expect("orders");
    let ids: Vec<u64> = found.iter().map(|o| o.id.0).collect();
    assert_eq!(ids, [order]);
    let log: Value = http
        .get(control("/queries"))
        .send()
        .await
        .expect("log")
        .json()
        .await
        .expect("json");
    let last = log.as_array().expect("a list").last().expect("one query");
    assert_eq!(last["operationName"], "OrdersUpdatedPage");
    assert_eq!(last["shop"], SHOP);
    assert!(
        last["variables"]["query"]
            .as_str()
            .expect("search")
            .starts_with("updated_at:>=")
    );
}

#[tokio::test]
async fn order_snapshot_costs_stay_under_the_cap_for_a_typical_and_a_300_line_order() {
    let h = harness().await;
    for (label, n) in [("typical (#1002, 2 lines)", 2), ("300 lines (#1010)", 10)] {
        let body = query(
            &h.sandbox,
            documents::ORDER_SNAPSHOT.text(),
            json!({"id": order_gid(n)}),
        )
        .await;
        let cost = &body["extensions"]["cost"];
        let requested = cost["requestedQueryCost"].as_u64().expect("requested");
        assert!(requested <= 1000);
        eprintln!(
            "OrderSnapshot {label}: requested {requested}, actual {}",
            cost["actualQueryCost"]
        );
    }
    let before = h.sandbox.request_count();
    h.client
        .fetch_snapshot(&h.shop, crate::shopify::order_id(10))
        .await
        .expect("snapshot");
    eprintln!(
        "fetch_snapshot 300 lines: {} requests, actual cost {} in total",
        h.sandbox.request_count() - before,
        h.client.metrics().actual_cost
    );
}

#[tokio::test]
async fn two_shops_are_told_apart_by_host_and_keep_their_own_orders() {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox");
    let other = orderflow::id::ShopDomain::parse("bolt.myshopify.com").expect("valid");
    sandbox
        .load_fixtures(
            &crate::shopify::fixtures_dir(),
            &secrecy::SecretString::from(TOKEN.to_owned()),
        )
        .expect("fixtures");
    sandbox.add_shop(other.clone(), secrecy::SecretString::from(TOKEN.to_owned()));
    let shops = [
        crate::shopify::shop_config(SHOP, &sandbox.base_url(), TOKEN),
        crate::shopify::shop_config("bolt.myshopify.com", &sandbox.base_url(), TOKEN),
    ];
    let client = orderflow::shopify::Client::with_retry(
        &crate::shopify::shopify_config(),
        &shops,
        crate::shopify::fast_retries(),
    )
    .expect("client");
    assert!(
        client
            .fetch_snapshot(&crate::shopify::shop(), crate::shopify::order_id(1))
            .await
            .is_ok()
    );
    let err = client
        .fetch_snapshot(&other, crate::shopify::order_id(1))
        .await
        .expect_err("not bolt's order");
    assert!(
        matches!(err, orderflow::shopify::ShopifyError::NotFound { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn every_fixture_file_already_holds_what_shopify_would_derive() {
    // So `explain --snapshot fixtures/orders/x.json` sees the same order the sandbox serves.
    let h = harness().await;
    for fixture in orderflow::sandbox::load_dir(&crate::shopify::fixtures_dir()).expect("fixtures")
    {
        let mut served = h
            .sandbox
            .order(&fixture.shop, &fixture.order.id)
            .expect("loaded");
        // The sandbox answers the order's `updatedAt` (its creation, until a change); the
        // fixture files leave it out.
        assert_eq!(served.updated_at, Some(fixture.order.created_at));
        served.updated_at = None;
        assert_eq!(served, fixture.order, "{}", fixture.order.name);
    }
}
