//! The Admin API endpoint: `POST /admin/api/{version}/graphql.json`, answered like Shopify:
//! 401 for a wrong, expired or revoked token, GraphQL errors (HTTP 200) for a document the schema refuses,
//! MAX_COST_EXCEEDED over 1,000 requested points, THROTTLED when the shop's bucket is short,
//! and `extensions.cost` on every answer.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Instant;

use apollo_compiler::resolvers::Execution;
use apollo_compiler::response::JsonMap;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::execute::{MutationRoot, QueryRoot};
use super::fault::Fault;
use super::log::{MutationRecord, QueryRecord};
use crate::id::ShopDomain;
use crate::shopify::{cost, schema};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphqlRequest {
    query: String,
    #[serde(default)]
    variables: Option<Value>,
    #[serde(default)]
    operation_name: Option<String>,
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

/// Shopify's answer to a missing or wrong token.
fn unauthorized() -> Response {
    json_response(
        StatusCode::UNAUTHORIZED,
        json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
    )
}

/// The request's shop: the `Host` header when it names a sandbox shop (the client sends it when
/// it talks to an `admin_api_url` override), else the one shop whose token matches.
fn shop_of(shared: &Shared, headers: &HeaderMap) -> Option<ShopDomain> {
    let token = headers.get("x-shopify-access-token")?.to_str().ok()?;
    let shops = shared.lock_shops();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h))
        .and_then(|h| ShopDomain::parse(h).ok())
        .filter(|d| shops.contains_key(d));
    let now = shared.clock.now();
    let matches = |d: &ShopDomain| shops.get(d).is_some_and(|s| s.accepts(token, now));
    match host {
        Some(domain) => matches(&domain).then_some(domain),
        None => {
            let mut found = shops.keys().filter(|d| matches(d));
            let first = found.next()?.clone();
            found.next().is_none().then_some(first)
        }
    }
}

pub async fn graphql(
    State(shared): State<Arc<Shared>>,
    Path(version): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.count_request();
    let (fault, latency) = shared.next_fault();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(Fault::Http500) => {
            return json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"errors": "Internal Server Error"}),
            );
        }
        Some(Fault::Http429 { retry_after_secs }) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, retry_after_secs.to_string())],
                json!({"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}).to_string(),
            )
                .into_response();
        }
        Some(Fault::Drop) => {
            let parts: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"{\"data\":{")),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "sandbox fault: dropped",
                )),
            ];
            return Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(futures_util::stream::iter(parts)))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
        Some(Fault::Delay { millis }) => {
            tokio::time::sleep(std::time::Duration::from_millis(millis)).await;
        }
        Some(Fault::Throttled) | None => {}
    }
    if !is_api_version(&version) {
        return json_response(StatusCode::NOT_FOUND, json!({"errors": "Not Found"}));
    }
    let Some(shop) = shop_of(&shared, &headers) else {
        return unauthorized();
    };
    let request: GraphqlRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({"errors": {"query": [format!("Required parameter missing or invalid: {e}")]}}),
            );
        }
    };
    let body = answer(&shared, &shop, request, fault == Some(Fault::Throttled))
        .unwrap_or_else(|refused| refused.to_string());
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body,
    )
        .into_response()
}

fn is_api_version(v: &str) -> bool {
    v == "unstable"
        || (v.len() == 7
            && v.as_bytes()[4] == b'-'
            && v.chars().filter(char::is_ascii_digit).count() == 6)
}

/// Validates, costs, throttles and runs one request: the JSON body Shopify would send, as text
/// when it ran, as a value when it was refused.
fn answer(
    shared: &Shared,
    shop: &ShopDomain,
    request: GraphqlRequest,
    force_throttle: bool,
) -> Result<String, Value> {
    let schema = schema::schema();
    let document = match schema::validate(&request.query, "request.graphql") {
        Ok(d) => d,
        Err(invalid) => {
            let errors: Vec<Value> = invalid
                .errors
                .iter()
                .map(|e| {
                    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
                    v["extensions"] = json!({"code": "GRAPHQL_VALIDATION_FAILED"});
                    v
                })
                .collect();
            return Err(json!({"errors": errors}));
        }
    };
    let operation = match document.operations.get(request.operation_name.as_deref()) {
        Ok(op) => op,
        Err(e) => return Err(json!({"errors": [{"message": e.message().to_string()}]})),
    };
    let variables: JsonMap = request
        .variables
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let now = Instant::now();
    let requested = match cost::requested(schema, &document, operation, &variables) {
        Ok(c) => c,
        Err(e) => {
            return Err(
                json!({"errors": [{"message": e.to_string(), "extensions": {"code": "BAD_REQUEST"}}]}),
            );
        }
    };
    if requested > cost::MAX_QUERY_COST {
        let status = shared.bucket_status(shop, now);
        return Err(json!({
            "errors": [{
                "message": format!("Query cost is {requested}, which exceeds the single query max cost limit ({}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n", cost::MAX_QUERY_COST),
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": cost::MAX_QUERY_COST},
            }],
            "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": null, "throttleStatus": status}},
        }));
    }
    if force_throttle || !shared.take(shop, requested as f64, now) {
        shared
            .throttled
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let status = shared.bucket_status(shop, now);
        return Err(json!({
            "errors": [{
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }],
            "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": null, "throttleStatus": status}},
        }));
    }
    let execution = Execution::new(schema, &document)
        .operation(operation)
        .raw_variable_values(&variables);
    let result = {
        let mut shops = shared.lock_shops();
        let Some(state) = shops.get_mut(shop) else {
            return Err(json!({"errors": [{"message": "shop vanished"}]}));
        };
        if operation.is_mutation() {
            // One instant for the whole mutation: the record's `at` is then the `updatedAt`
            // it gave the order it changed (what the benchmark's echo webhooks carry).
            let at = shared.clock.now();
            let fixed = crate::clock::ManualClock::new(at);
            shared.record(MutationRecord {
                shop: shop.clone(),
                operation_name: operation.name.as_ref().map(|n| n.to_string()),
                fields: operation
                    .root_fields(&document)
                    .map(|f| f.name.to_string())
                    .collect(),
                variables: serde_json::to_value(&variables).unwrap_or(Value::Null),
                at,
            });
            let root = MutationRoot {
                shop: RefCell::new(state),
                clock: &fixed,
            };
            execution.execute_sync(&root)
        } else {
            shared.record_query(QueryRecord {
                shop: shop.clone(),
                operation_name: operation.name.as_ref().map(|n| n.to_string()),
                variables: serde_json::to_value(&variables).unwrap_or(Value::Null),
                at: shared.clock.now(),
            });
            execution.execute_sync(&QueryRoot { shop: state })
        }
    };
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            shared.refund(shop, requested as f64, now);
            return Err(json!({"errors": [{"message": e.message().to_string()}]}));
        }
    };
    let actual = response
        .data
        .as_ref()
        .map(|data| cost::actual(schema, &document, operation, &variables, data))
        .unwrap_or(0);
    let after = Instant::now();
    shared.refund(shop, requested.saturating_sub(actual) as f64, after);
    shared.add_actual_cost(actual);
    let status = shared.bucket_status(shop, after);
    // Serialised from the execution result directly, so fields keep the document's order.
    let answer = Answer {
        errors: &response.errors,
        data: response.data.as_ref(),
        extensions: json!({
            "cost": {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": status},
        }),
    };
    serde_json::to_string(&answer).map_err(|e| json!({"errors": [{"message": e.to_string()}]}))
}

#[derive(serde::Serialize)]
struct Answer<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    errors: &'a [apollo_compiler::response::GraphQLError],
    data: Option<&'a JsonMap>,
    extensions: Value,
}
