//! A shop's admin for the token tests: `POST /admin/oauth/access_token` answering exactly as
//! Shopify documents the grants (facts sheet §1e, §2, §3b, §3e, §4), and every other request
//! passed through to the sandbox shop (the Admin GraphQL API), as one host would serve both.
//!
//! Each token it issues is registered with the sandbox, so GraphQL accepts it (and the shop's
//! previous token stops working). It records each token request's form and headers, can hold
//! its answers until released, and can answer the next ones with a status of the test's choice.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use orderflow::id::ShopDomain;
use orderflow::sandbox::Sandbox;
use secrecy::SecretString;
use tokio::sync::Semaphore;

pub const CLIENT_ID: &str = "client-id-for-tests";

/// One token request as received.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub host: String,
    pub content_type: String,
    pub accept: String,
    pub form: BTreeMap<String, String>,
}

struct State_ {
    sandbox: Arc<Sandbox>,
    sandbox_url: String,
    secret: String,
    requests: Mutex<Vec<TokenRequest>>,
    issued: AtomicU32,
    /// Answers wait for a permit when `held` is set.
    gate: Semaphore,
    held: std::sync::atomic::AtomicBool,
    /// The next `count` token requests are answered with this status.
    failing: Mutex<(u32, u16)>,
    /// Issued tokens are not registered with the sandbox (GraphQL keeps refusing them).
    unregistered: std::sync::atomic::AtomicBool,
    http: reqwest::Client,
}

pub struct TokenServer {
    pub url: String,
    state: Arc<State_>,
}

impl TokenServer {
    pub async fn start(sandbox: Arc<Sandbox>, secret: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(State_ {
            sandbox_url: sandbox.base_url(),
            sandbox,
            secret: secret.to_owned(),
            requests: Mutex::new(Vec::new()),
            issued: AtomicU32::new(0),
            gate: Semaphore::new(0),
            held: Default::default(),
            failing: Mutex::new((0, 0)),
            unregistered: Default::default(),
            http: reqwest::Client::new(),
        });
        let app = Router::new()
            .route("/admin/oauth/access_token", post(token))
            .fallback(pass_through)
            .with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    pub fn requests(&self) -> Vec<TokenRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// Answers wait until `release`.
    pub fn hold(&self) {
        self.state.held.store(true, Ordering::SeqCst);
    }

    pub fn release(&self, answers: usize) {
        self.state.held.store(false, Ordering::SeqCst);
        self.state.gate.add_permits(answers);
    }

    pub fn fail_next(&self, count: u32, status: u16) {
        *self.state.failing.lock().unwrap() = (count, status);
    }

    pub fn stop_registering(&self) {
        self.state.unregistered.store(true, Ordering::SeqCst);
    }

    /// The access token the `n`-th grant (from 1) issued.
    pub fn token(n: u32) -> String {
        format!("shpat_issued_{n}")
    }
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn token(State(s): State<Arc<State_>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let form: BTreeMap<String, String> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let request = TokenRequest {
        host: header("host"),
        content_type: header("content-type"),
        accept: header("accept"),
        form: form.clone(),
    };
    s.requests.lock().unwrap().push(request.clone());
    if s.held.load(Ordering::SeqCst) {
        s.gate.acquire().await.expect("gate").forget();
    }
    {
        let mut failing = s.failing.lock().unwrap();
        if failing.0 > 0 {
            failing.0 -= 1;
            let status = StatusCode::from_u16(failing.1).expect("status");
            return json(status, serde_json::json!({"error": "invalid_request"}));
        }
    }
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(s.secret.as_str()) {
        return json(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "invalid_client"}),
        );
    }
    let n = s.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let access = TokenServer::token(n);
    let answer = match (field("grant_type"), field("expiring")) {
        // §4: the only documented answer of the client-credentials grant.
        (Some("client_credentials"), _) => serde_json::json!({
            "access_token": access, "scope": "write_orders,read_products", "expires_in": 86399,
        }),
        // §1e, §2, §3b, §3e: the expiring offline shape.
        (Some("refresh_token"), _) | (_, Some("1")) => serde_json::json!({
            "access_token": access, "scope": "write_orders,read_products", "expires_in": 3600,
            "refresh_token": format!("shprt_issued_{n}"), "refresh_token_expires_in": 7_776_000,
        }),
        // §1e: a non-expiring offline token.
        _ => serde_json::json!({"access_token": access, "scope": "write_orders"}),
    };
    if !s.unregistered.load(Ordering::SeqCst) {
        let shop = ShopDomain::parse(&request.host).expect("the Host header names the shop");
        s.sandbox.add_shop(shop, SecretString::from(access));
    }
    json(StatusCode::OK, answer)
}

/// The Admin GraphQL API: the sandbox's, with the same headers and body.
async fn pass_through(
    State(s): State<Arc<State_>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let url = format!("{}{}", s.sandbox_url, uri.path());
    let mut request = s.http.request(method, url).body(body);
    for (name, value) in &headers {
        if name != "content-length" {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.expect("sandbox answers");
    let status = response.status();
    let bytes = response.bytes().await.expect("sandbox body");
    (status, bytes).into_response()
}
