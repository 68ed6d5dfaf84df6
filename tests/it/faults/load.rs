//! Steady webhook load for the fault tests: a few concurrent senders, each sending signed
//! deliveries with ids of its own, every answer recorded with its time.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::harness::{SECRET_NEW, SHOP, eventually, signature};

#[derive(Debug, Clone)]
pub struct Answer {
    pub at: Instant,
    pub id: String,
    /// The HTTP status; 0 when no answer came within the client's 10 s.
    pub status: u16,
    pub took: Duration,
}

pub struct Load {
    answers: Arc<Mutex<Vec<Answer>>>,
    stop: CancellationToken,
    senders: Vec<tokio::task::JoinHandle<()>>,
}

/// The fixture order's webhook body.
pub fn body(fixture: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/orders")
            .join(format!("{fixture}.webhook.json")),
    )
    .expect("webhook body")
}

/// One signed `orders/create` delivery of `body` with `id`; its status (0: no answer).
pub async fn send(http: &reqwest::Client, addr: SocketAddr, id: &str, body: &[u8]) -> u16 {
    let res = http
        .post(format!("http://{addr}/webhooks"))
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Shop-Domain", SHOP)
        .header("X-Shopify-Webhook-Id", id)
        .header("X-Shopify-API-Version", "2026-10")
        .header("X-Shopify-Triggered-At", "2026-11-23T10:00:00.000Z")
        .header("X-Shopify-Event-Id", format!("event-{id}"))
        .header("X-Shopify-Hmac-Sha256", signature(body, SECRET_NEW))
        .body(body.to_vec())
        .send()
        .await;
    res.map(|r| r.status().as_u16()).unwrap_or(0)
}

impl Load {
    /// `senders` tasks sending the fixtures' webhooks round-robin to the receiver at `addr`,
    /// ids `<tag>-<sender>-<n>`, each sender pausing `pace` between two, until `finish`.
    pub fn start(
        addr: SocketAddr,
        tag: &str,
        fixtures: &[&str],
        senders: usize,
        pace: Duration,
    ) -> Self {
        let answers = Arc::new(Mutex::new(Vec::new()));
        let stop = CancellationToken::new();
        let bodies: Arc<Vec<Vec<u8>>> = Arc::new(fixtures.iter().map(|f| body(f)).collect());
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let senders = (0..senders)
            .map(|s| {
                let (answers, stop, bodies, http) =
                    (answers.clone(), stop.clone(), bodies.clone(), http.clone());
                let tag = tag.to_owned();
                tokio::spawn(async move {
                    let mut n = 0usize;
                    while !stop.is_cancelled() {
                        let id = format!("{tag}-{s}-{n}");
                        let started = Instant::now();
                        let status = send(&http, addr, &id, &bodies[(s + n) % bodies.len()]).await;
                        let answer = Answer {
                            at: Instant::now(),
                            id,
                            status,
                            took: started.elapsed(),
                        };
                        answers.lock().expect("answers").push(answer);
                        n += 1;
                        // A steady pace, not a flood: the point is the fault, not throughput.
                        tokio::time::sleep(pace).await;
                    }
                })
            })
            .collect();
        Self {
            answers,
            stop,
            senders,
        }
    }

    pub fn answers(&self) -> Vec<Answer> {
        self.answers.lock().expect("answers").clone()
    }

    /// Waits until `n` deliveries were answered 200 after `since`.
    pub async fn wait_ok_after(&self, since: Instant, n: usize, within: Duration, what: &str) {
        eventually(within, &format!("{n} answers 200 {what}"), || async {
            let ok = self
                .answers()
                .iter()
                .filter(|a| a.at > since && a.status == 200)
                .count();
            (ok >= n).then_some(())
        })
        .await;
    }

    /// Stops the senders; every answer.
    pub async fn finish(self) -> Vec<Answer> {
        self.stop.cancel();
        for s in self.senders {
            s.await.expect("sender");
        }
        self.answers.lock().expect("answers").clone()
    }
}

/// What a fault did to the receiver, for the report.
#[derive(Debug)]
pub struct Window {
    pub ok: usize,
    pub unavailable: usize,
    /// From the fault to the first and to the last 503 (none: no 503 at all).
    pub first_503: Option<Duration>,
    pub last_503: Option<Duration>,
    /// The slowest answer.
    pub slowest: Duration,
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms =
            |d: Option<Duration>| d.map_or("-".to_owned(), |d| format!("{} ms", d.as_millis()));
        write!(
            f,
            "{} answered 200, {} answered 503 (first {}, last {} after the fault), slowest answer {} ms",
            self.ok,
            self.unavailable,
            ms(self.first_503),
            ms(self.last_503),
            self.slowest.as_millis()
        )
    }
}

pub fn window(answers: &[Answer], fault: Instant) -> Window {
    let after: Vec<&Answer> = answers.iter().filter(|a| a.at >= fault).collect();
    let unavailable: Vec<&&Answer> = after.iter().filter(|a| a.status == 503).collect();
    Window {
        ok: after.iter().filter(|a| a.status == 200).count(),
        unavailable: unavailable.len(),
        first_503: unavailable.iter().map(|a| a.at - fault).min(),
        last_503: unavailable.iter().map(|a| a.at - fault).max(),
        slowest: answers.iter().map(|a| a.took).max().unwrap_or_default(),
    }
}
