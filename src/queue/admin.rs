//! A broker connection of its own, outside a running app: for the commands and tools that
//! inspect queues or delete a prefix's topology (the demo, the load generator, test clean-up)
//! after the app's connection is gone.

use lapin::options::{ExchangeDeleteOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use secrecy::{ExposeSecret, SecretString};

use super::QueueError;
use super::delay::Tier;
use super::names::Names;

pub struct Admin {
    connection: Connection,
    channel: Channel,
}

impl Admin {
    pub async fn connect(url: &SecretString) -> Result<Self, QueueError> {
        let lapin = QueueError::from_lapin;
        let connection = Connection::connect(url.expose_secret(), ConnectionProperties::default())
            .await
            .map_err(lapin)?;
        let channel = connection.create_channel().await.map_err(lapin)?;
        Ok(Self {
            connection,
            channel,
        })
    }

    /// The ready messages of `queue`, which must exist.
    pub async fn ready(&self, queue: &str) -> Result<usize, QueueError> {
        ready(&self.channel, queue).await
    }

    /// Deletes every queue and exchange of the prefix `names` with `partitions` partitions,
    /// messages included: for tests, the load generator and the demo, which run under a prefix
    /// of their own.
    pub async fn delete(&self, names: &Names, partitions: u16) -> Result<(), QueueError> {
        let lapin = QueueError::from_lapin;
        let ch = &self.channel;
        let mut queues: Vec<String> = (0..partitions).map(|p| names.partition_queue(p)).collect();
        queues.push(names.dead_queue());
        queues.push(names.compliance_queue());
        queues.push(names.sweep_queue());
        queues.push(names.control_stream());
        queues.extend(Tier::all().map(|t| names.delay_queue(t)));
        for q in queues {
            ch.queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(lapin)?;
        }
        let mut exchanges = vec![names.events_exchange()];
        exchanges.extend(Tier::all().map(|t| names.delay_exchange(t)));
        for e in exchanges {
            ch.exchange_delete(e.as_str().into(), ExchangeDeleteOptions::default())
                .await
                .map_err(lapin)?;
        }
        Ok(())
    }

    pub async fn close(self, why: &str) -> Result<(), QueueError> {
        self.connection
            .close(200, why.into())
            .await
            .map_err(QueueError::from_lapin)
    }
}

/// The ready messages of `queue` (a passive declare: it must exist).
pub(crate) async fn ready(channel: &Channel, queue: &str) -> Result<usize, QueueError> {
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(QueueError::from_lapin)?;
    Ok(declared.message_count() as usize)
}
