//! `--mix`: the webhooks Shopify sends for what happens to each order, not one `orders/create`.
//!
//! Per order, up front: `orders/create`, `orders/paid` and `orders/updated` for its creation
//! (bodies with the order's `updated_at` as the sandbox holds it, triggered now), and the same
//! `orders/create` delivered again to a second receiver (an app with the RECEIVE role on the
//! same broker, whose dedupe cache has never seen it: Shopify's retry landing on another
//! replica). Then, following the sandbox's mutation log, after each change orderflow made, the
//! webhooks that change fires (`WebhookSubscriptionTopic` in the 2026-10 schema: "occurs
//! whenever an order is updated / fulfilled / partially fulfilled", "whenever a fulfillment is
//! created", a hold added or released on a fulfilment order), each triggered at the change's
//! instant and carrying the `updatedAt` it gave the order (the log's `at`):
//!
//! | orderflow's mutation | webhooks |
//! |---|---|
//! | `tagsAdd`, `tagsRemove`, `metafieldsSet`, deadlines | `orders/updated` |
//! | `fulfillmentCreate` | `fulfillments/create`, `orders/fulfilled` or `orders/partially_fulfilled`, `orders/updated` |
//! | `fulfillmentOrderHold` | `fulfillment_orders/placed_on_hold`, `fulfillment_holds/added`, `orders/updated` |
//! | `fulfillmentOrderReleaseHold` | `fulfillment_orders/hold_released`, `fulfillment_holds/released`, `orders/updated` |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;
use orderflow::app::{App, Roles};
use orderflow::clock::{Clock, SystemClock};
use orderflow::sandbox::{BucketConfig, MutationRecord};
use orderflow::shopify::snapshot::OrderFulfillmentStatus;
use orderflow::webhook::verify::sign;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{BenchOrder, IdGen, POLL, SECRET, SHOP, Stage, Template, order_of, sum};

pub struct MixResult {
    pub orders: usize,
    pub webhooks: usize,
    pub snapshots_per_order: f64,
    pub points_per_order: f64,
    pub seconds: f64,
    pub covered_by_read: f64,
    pub own_echo: f64,
    pub surfaced: u64,
    pub absorbed: u64,
}

/// One signed delivery.
struct Webhook {
    topic: &'static str,
    id: String,
    triggered: Timestamp,
    body: Vec<u8>,
}

pub async fn run(
    phase: &str,
    bucket: BucketConfig,
    templates: &[Template],
    ids: &mut IdGen,
    n: usize,
) -> anyhow::Result<MixResult> {
    let stage = Stage::start(phase, bucket).await?;
    // The second receiver: same broker and prefix, its own dedupe cache.
    let config = super::config(&stage.config.amqp.prefix, &stage.sandbox.base_url())?;
    let replica = App::build_with(config, Arc::new(SystemClock), Roles::RECEIVE).await?;
    let replica_addr = replica.local_addr();
    replica
        .broker()
        .wait_connected(Duration::from_secs(10))
        .await?;
    let replica_stop = CancellationToken::new();
    let replica_task = tokio::spawn(replica.run_until_stopped(replica_stop.clone()));

    let orders = stage.insert(templates, ids, n);
    let bodies: HashMap<String, Value> = orders
        .iter()
        .map(|o| Ok((o.gid.clone(), serde_json::from_slice(&o.body)?)))
        .collect::<anyhow::Result<_>>()?;
    let start = SystemClock.now();
    let mut first = Vec::new();
    let mut again = Vec::new();
    for o in &orders {
        let updated = stage
            .sandbox
            .order(&stage.shop, &o.gid)
            .and_then(|s| s.updated_at)
            .unwrap_or(start);
        for topic in ["orders/create", "orders/paid", "orders/updated"] {
            let w = order_webhook(&bodies[&o.gid], topic, &o.gid, "created", updated, start)?;
            if topic == "orders/create" {
                again.push(order_webhook(
                    &bodies[&o.gid],
                    topic,
                    &o.gid,
                    "created",
                    updated,
                    start,
                )?);
            }
            first.push(w);
        }
    }
    let mut sent = first.len() + again.len();
    deliver(&stage.http, stage.addr, first).await?;
    deliver(&stage.http, replica_addr, again).await?;

    // Follow the mutation log: each change's webhooks, after it happened.
    let index: HashMap<&str, usize> = orders
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            std::iter::once(o.gid.as_str())
                .chain(o.fulfillment_orders.iter().map(String::as_str))
                .map(move |g| (g, i))
        })
        .collect();
    let give_up = tokio::time::Instant::now() + super::deadline_for(n * 2);
    let mut followed = 0;
    let mut last_change = vec![None::<Timestamp>; n];
    let mut decided = vec![false; n];
    let mut quiet_since: Option<tokio::time::Instant> = None;
    loop {
        let log = stage.sandbox.mutations();
        let mut echoes = Vec::new();
        for (k, m) in log.iter().enumerate().skip(followed) {
            let Some(i) = order_of(m, &index) else {
                continue;
            };
            last_change[i] = Some(last_change[i].map_or(m.at, |t: Timestamp| t.max(m.at)));
            decided[i] |= m.fields.iter().any(|f| f == "metafieldsSet");
            echoes.extend(echoes_of(
                &stage,
                &orders[i],
                &bodies[&orders[i].gid],
                m,
                k,
            )?);
        }
        followed = log.len();
        sent += echoes.len();
        let busy = !echoes.is_empty();
        deliver(&stage.http, stage.addr, echoes).await?;
        let settled = settled(&stage).await? as usize;
        let done = decided.iter().all(|d| *d) && settled >= sent;
        match (done && !busy, quiet_since) {
            (true, Some(t)) if t.elapsed() > Duration::from_secs(1) => break,
            (true, None) => quiet_since = Some(tokio::time::Instant::now()),
            (true, Some(_)) => {}
            (false, _) => quiet_since = None,
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < give_up,
            "the mix did not settle: {settled} of {sent} messages, {} of {n} orders decided",
            decided.iter().filter(|d| **d).count()
        );
        tokio::time::sleep(POLL).await;
    }
    let last = last_change
        .iter()
        .flatten()
        .max()
        .map_or(0.0, |t| t.duration_since(start).as_secs_f64());
    let text = metrics(&stage).await?;
    let snapshots = sum(&text, "orderflow_shopify_calls_total", |l| {
        l.contains(r#"operation="order_snapshot""#)
    });
    let failed = sum(&text, "orderflow_messages_total", |l| {
        l.contains(r#"disposition="retry""#) || l.contains(r#"disposition="dead_letter""#)
    });
    let not_ok = sum(&text, "orderflow_shopify_calls_total", |l| {
        !l.contains(r#"outcome="ok""#)
    });
    let result = MixResult {
        orders: n,
        webhooks: sent,
        snapshots_per_order: snapshots / n as f64,
        points_per_order: stage.sandbox.actual_cost_total() as f64 / n as f64,
        seconds: last,
        covered_by_read: sum(&text, "orderflow_events_coalesced_total", |l| {
            l.contains("covered_by_read")
        }),
        own_echo: sum(&text, "orderflow_events_coalesced_total", |l| {
            l.contains("own_echo")
        }),
        surfaced: (failed + not_ok) as u64,
        absorbed: sum(&text, "orderflow_shopify_throttled", |_| true) as u64,
    };
    replica_stop.cancel();
    replica_task.await??;
    stage.stop().await?;
    Ok(result)
}

/// The webhooks the mutation `m` of `order` fires.
fn echoes_of(
    stage: &Stage,
    order: &BenchOrder,
    body: &Value,
    m: &MutationRecord,
    k: usize,
) -> anyhow::Result<Vec<Webhook>> {
    let tag = format!("m{k}");
    let mut out = Vec::new();
    let snapshot = stage.sandbox.order(&stage.shop, &order.gid);
    let raw = |topic: &'static str, body: Value| Webhook {
        topic,
        id: format!("mix-{tag}-{topic}-{}", order.gid),
        triggered: m.at,
        body: body.to_string().into_bytes(),
    };
    let fo_id = m
        .variables
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    for field in &m.fields {
        match field.as_str() {
            "fulfillmentCreate" => {
                let created = stage
                    .sandbox
                    .fulfillments(&stage.shop, &order.gid)
                    .into_iter()
                    .find(|f| f.created_at == m.at);
                if let Some(f) = created {
                    let numeric = f.id.rsplit('/').next().unwrap_or_default().to_owned();
                    out.push(raw(
                        "fulfillments/create",
                        json!({"id": numeric.parse::<u64>().unwrap_or(0), "admin_graphql_api_id": f.id,
                               "order_id": body["id"], "status": "success",
                               "created_at": m.at.to_string(), "updated_at": m.at.to_string()}),
                    ));
                }
                let topic = match snapshot.as_ref().map(|s| s.display_fulfillment_status) {
                    Some(OrderFulfillmentStatus::Fulfilled) => "orders/fulfilled",
                    _ => "orders/partially_fulfilled",
                };
                out.push(order_webhook(body, topic, &order.gid, &tag, m.at, m.at)?);
            }
            "fulfillmentOrderHold" => {
                let handle = m.variables["hold"]["handle"].as_str().unwrap_or_default();
                let hold = snapshot.as_ref().and_then(|s| {
                    s.fulfillment_orders
                        .iter()
                        .filter(|f| f.id == fo_id)
                        .flat_map(|f| f.fulfillment_holds.iter())
                        .find(|h| h.handle.as_deref() == Some(handle))
                        .map(|h| h.id.clone())
                });
                let h = json!({"id": hold, "handle": handle, "held_by_requesting_app": true});
                out.push(raw(
                    "fulfillment_orders/placed_on_hold",
                    json!({"fulfillment_order": {"id": fo_id, "status": "on_hold"}, "created_fulfillment_hold": h}),
                ));
                out.push(raw(
                    "fulfillment_holds/added",
                    json!({"fulfillment_order": {"id": fo_id}, "fulfillment_hold": h}),
                ));
            }
            "fulfillmentOrderReleaseHold" => {
                out.push(raw(
                    "fulfillment_orders/hold_released",
                    json!({"fulfillment_order": {"id": fo_id, "status": "open"}}),
                ));
                for hold in m.variables["holdIds"].as_array().into_iter().flatten() {
                    out.push(raw(
                        "fulfillment_holds/released",
                        json!({"fulfillment_order": {"id": fo_id}, "fulfillment_hold": {"id": hold}}),
                    ));
                }
            }
            _ => {}
        }
    }
    // Every change of the order is also an orders/updated.
    out.push(order_webhook(
        body,
        "orders/updated",
        &order.gid,
        &tag,
        m.at,
        m.at,
    )?);
    Ok(out)
}

/// An orders/* webhook: the order's body with `updated_at`.
fn order_webhook(
    body: &Value,
    topic: &'static str,
    gid: &str,
    tag: &str,
    updated: Timestamp,
    triggered: Timestamp,
) -> anyhow::Result<Webhook> {
    let mut body = body.clone();
    body["updated_at"] = json!(updated.to_string());
    Ok(Webhook {
        topic,
        id: format!("mix-{tag}-{topic}-{gid}"),
        triggered,
        body: serde_json::to_vec(&body)?,
    })
}

async fn deliver(
    http: &reqwest::Client,
    addr: std::net::SocketAddr,
    webhooks: Vec<Webhook>,
) -> anyhow::Result<()> {
    let secret = SecretString::from(SECRET.to_owned());
    let results = futures_util::stream::iter(webhooks.into_iter().map(|w| {
        let signature = sign(&w.body, &secret);
        async move {
            let res = http
                .post(format!("http://{addr}/webhooks"))
                .header("X-Shopify-Topic", w.topic)
                .header("X-Shopify-Shop-Domain", SHOP)
                .header("X-Shopify-Webhook-Id", w.id)
                .header("X-Shopify-Triggered-At", w.triggered.to_string())
                .header("X-Shopify-Hmac-Sha256", signature)
                .body(w.body)
                .send()
                .await?;
            anyhow::ensure!(res.status() == 200, "webhook answered {}", res.status());
            anyhow::Ok(())
        }
    }))
    .buffer_unordered(16)
    .collect::<Vec<_>>()
    .await;
    results.into_iter().collect()
}

async fn metrics(stage: &Stage) -> anyhow::Result<String> {
    Ok(stage
        .http
        .get(format!("http://{}/metrics", stage.addr))
        .send()
        .await?
        .text()
        .await?)
}

async fn settled(stage: &Stage) -> anyhow::Result<f64> {
    Ok(sum(
        &metrics(stage).await?,
        "orderflow_messages_total",
        |l| !l.contains(r#"disposition="reroute""#),
    ))
}
