//! The main listener's HTTP server: hyper, with the limits a server facing the internet needs
//! (`[server]`): a client that sends half its headers is cut at `header_read_timeout`, one past
//! `max_connections` is answered 503 and closed without a task of its own, and request heads are
//! bounded by `max_header_bytes` (431 past it). The body's deadline and the in-flight limit are
//! the receiver's (`webhook`), since they are per request.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::ServerLimits;

/// hyper's default, said out loud: Shopify sends about a dozen.
const MAX_HEADERS: usize = 100;

/// What a connection past the limit is told before it is closed.
const SATURATED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";

/// Serves `router` on `listener` until `stop`, then lets the open connections finish their
/// requests (the caller bounds the wait with its grace period).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    stop: CancellationToken,
) -> std::io::Result<()> {
    // HTTP/1.1 only, as before (Shopify delivers webhooks over HTTP/1.1).
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .max_headers(MAX_HEADERS);
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, _peer) = tokio::select! {
            _ = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            // Saturated: a fast, final answer. The write is bounded and the stream dropped,
            // so a flood costs a socket for an instant, never a connection's task.
            let mut stream = stream;
            let _ =
                tokio::time::timeout(Duration::from_millis(100), stream.write_all(SATURATED)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that went away mid-request, or a timed-out head: nothing to report.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
