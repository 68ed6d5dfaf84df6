//! The broker connection, kept alive in the background. Publishers never wait for a reconnect:
//! while there is no session they fail at once (the receiver answers 503 and Shopify retries),
//! and `/readyz` says not ready. With a cluster's nodes the supervisor tries them in order,
//! starting after the node it lost, so a dead node costs one refused (or timed out) attempt,
//! not a backoff.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties, Event};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::QueueError;
use super::topology::Topology;

/// A live connection with a confirm-mode channel for publishing.
#[derive(Clone)]
pub struct Session {
    pub connection: Arc<Connection>,
    /// Confirm mode: every publish on it is acked or nacked by the broker.
    pub publish_channel: Channel,
    /// Bumped at every reconnect, so a failure report names the session it saw.
    pub generation: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Handle to the supervised connection; cheap to clone.
#[derive(Clone, Debug)]
pub struct Broker {
    state: watch::Receiver<Option<Session>>,
    broken: Arc<tokio::sync::Notify>,
    /// The supervisor and its event reader, so a shutdown can wait for the connection's close.
    tasks: TaskTracker,
}

struct Supervisor {
    /// Never empty (the config guarantees it).
    nodes: Vec<Node>,
    topology: Topology,
    state: watch::Sender<Option<Session>>,
    broken: Arc<tokio::sync::Notify>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

/// A node to connect to: its URL (a secret) and what logs say instead.
struct Node {
    url: SecretString,
    shown: String,
}

/// A node that accepts TCP but never answers the handshake (a partition, a stalled VM) gives
/// way to the next after this long.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

impl Broker {
    /// Starts the supervisor: it connects, declares the topology, and reconnects with backoff
    /// whenever the connection is lost, until `shutdown`. `urls` are a cluster's nodes (or the
    /// one broker), tried in order; it must not be empty.
    pub fn start(urls: Vec<SecretString>, topology: Topology, shutdown: CancellationToken) -> Self {
        assert!(!urls.is_empty(), "Broker::start needs at least one URL");
        let nodes = urls
            .into_iter()
            .map(|url| Node {
                shown: crate::config::redact_url(url.expose_secret()),
                url,
            })
            .collect();
        let (tx, rx) = watch::channel(None);
        let broken = Arc::new(tokio::sync::Notify::new());
        let tasks = TaskTracker::new();
        let supervisor = Supervisor {
            nodes,
            topology,
            state: tx,
            broken: broken.clone(),
            shutdown,
            tasks: tasks.clone(),
        };
        tasks.spawn(supervisor.run());
        // Closed at once: the supervisor spawns each event reader while it runs itself, so the
        // tracker empties only when both have ended.
        tasks.close();
        Self {
            state: rx,
            broken,
            tasks,
        }
    }

    /// Waits until the supervisor has ended: after `shutdown` fired and the connection's
    /// `close` was answered (or the broker was unreachable).
    pub async fn closed(&self) {
        self.tasks.wait().await;
    }

    /// The current session, if connected.
    pub fn session(&self) -> Option<Session> {
        self.state
            .borrow()
            .as_ref()
            .filter(|s| s.connection.status().connected())
            .cloned()
    }

    pub fn is_ready(&self) -> bool {
        self.session()
            .is_some_and(|s| !s.connection.status().blocked())
    }

    /// Waits until connected, or `timeout`.
    pub async fn wait_connected(&self, timeout: Duration) -> Result<Session, QueueError> {
        let mut rx = self.state.clone();
        let wait = async {
            loop {
                if let Some(s) = self.session() {
                    return s;
                }
                if rx.changed().await.is_err() {
                    // Supervisor gone (shutdown): never connected.
                    std::future::pending::<()>().await;
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| QueueError::Unavailable)
    }

    /// Tells the supervisor that `session` failed in a way that needs a new connection (a
    /// channel closed by the broker, say).
    pub fn report_broken(&self, session: &Session) {
        if self
            .state
            .borrow()
            .as_ref()
            .is_some_and(|s| s.generation == session.generation)
        {
            self.broken.notify_one();
        }
    }
}

impl Supervisor {
    async fn run(self) {
        let mut backoff = BACKOFF_START;
        let mut generation = 0;
        // The node the next round starts at: the first at start, the one after a lost node.
        let mut start_at = 0;
        loop {
            if self.shutdown.is_cancelled() {
                break;
            }
            generation += 1;
            match self.connect_any(start_at, generation).await {
                Ok((index, session, mut events)) => {
                    let node = &self.nodes[index].shown;
                    tracing::info!(generation, node = %node, "connected to the broker");
                    start_at = (index + 1) % self.nodes.len();
                    backoff = BACKOFF_START;
                    // Kept (channel included) until the connection's close is answered: a
                    // channel whose last handle drops while the connection closes is closed
                    // on its own by lapin, which then reports a connection error.
                    let current = session.clone();
                    let _ = self.state.send(Some(session));
                    let reason = tokio::select! {
                        _ = self.shutdown.cancelled() => None,
                        _ = self.broken.notified() => Some("a channel failed".to_owned()),
                        lost = async {
                            while let Some(event) = events.recv().await {
                                match event {
                                    Event::Error(e) => return e.to_string(),
                                    Event::ConnectionBlocked(why) => {
                                        tracing::warn!(reason = %why, "broker blocked publishing (resource alarm)");
                                    }
                                    Event::ConnectionUnblocked => tracing::info!("broker unblocked publishing"),
                                    _ => {}
                                }
                            }
                            "connection events ended".to_owned()
                        } => Some(lost),
                    };
                    let _ = self.state.send(None);
                    let _ = current
                        .connection
                        .close(200, "orderflow closing".into())
                        .await;
                    drop(current);
                    match reason {
                        None => break,
                        Some(reason) => {
                            tracing::warn!(%reason, node = %node, "lost the broker connection; reconnecting")
                        }
                    }
                }
                Err(e) => {
                    // Every node was tried once: wait before the next round.
                    tracing::warn!(error = %e, nodes = self.nodes.len(), retry_in_ms = backoff.as_millis() as u64, "cannot connect to the broker");
                    tokio::select! {
                        _ = self.shutdown.cancelled() => break,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        let _ = self.state.send(None);
    }

    /// Tries every node once, from `start_at` on, wrapping around: the first that connects and
    /// takes the topology wins. The error is the last node's.
    async fn connect_any(
        &self,
        start_at: usize,
        generation: u64,
    ) -> Result<(usize, Session, mpsc::UnboundedReceiver<Event>), QueueError> {
        let count = self.nodes.len();
        let mut last = QueueError::Unavailable;
        for i in (0..count).map(|k| (start_at + k) % count) {
            if self.shutdown.is_cancelled() {
                break;
            }
            match self.connect(&self.nodes[i], generation).await {
                Ok((session, events)) => return Ok((i, session, events)),
                Err(e) => {
                    if count > 1 {
                        tracing::warn!(error = %e, node = %self.nodes[i].shown, "cannot connect to this broker node; trying the next");
                    }
                    last = e;
                }
            }
        }
        Err(last)
    }

    async fn connect(
        &self,
        node: &Node,
        generation: u64,
    ) -> Result<(Session, mpsc::UnboundedReceiver<Event>), QueueError> {
        // Named after the prefix, so ops (and tests) can tell deployments apart in the broker.
        let name = format!("orderflow {}", self.topology.names.prefix());
        let properties = ConnectionProperties::default().with_connection_name(name.as_str().into());
        let connect = Connection::connect(node.url.expose_secret(), properties);
        let connection = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| QueueError::Unavailable)?
            .map_err(QueueError::from_lapin)?;
        let connection = Arc::new(connection);
        let events = forward_events(&self.tasks, connection.clone(), self.shutdown.child_token());
        let setup = connection
            .create_channel()
            .await
            .map_err(QueueError::from_lapin)?;
        self.topology
            .declare(&setup)
            .await
            .map_err(QueueError::from_lapin)?;
        let _ = setup.close(200, "topology declared".into()).await;
        let publish_channel = connection
            .create_channel()
            .await
            .map_err(QueueError::from_lapin)?;
        publish_channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(QueueError::from_lapin)?;
        Ok((
            Session {
                connection,
                publish_channel,
                generation,
            },
            events,
        ))
    }
}

/// Copies the connection's events into a channel. lapin's stream borrows the connection, so a
/// task that owns a handle to it does the reading; it stops when the connection's events end,
/// the receiver is gone, or `stop` fires.
fn forward_events(
    tasks: &TaskTracker,
    connection: Arc<Connection>,
    stop: CancellationToken,
) -> mpsc::UnboundedReceiver<Event> {
    let (tx, rx) = mpsc::unbounded_channel();
    tasks.spawn(async move {
        let mut events = std::pin::pin!(connection.events_listener());
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tx.closed() => break,
                event = events.next() => match event {
                    Some(e) => if tx.send(e).is_err() { break },
                    None => break,
                },
            }
        }
    });
    rx
}
