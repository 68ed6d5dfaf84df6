//! The depth and consumers of orderflow's queues, from the running app's broker connection, for
//! the ops page: a passive declare per queue on a channel of its own (closed after), so a
//! refresh never touches the publishing channel.

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;

use super::connection::Broker;
use super::{QueueError, names::Names};

/// One queue as the broker counts it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub name: String,
    /// Ready messages (not those delivered and unacked).
    pub messages: u32,
    pub consumers: u32,
}

/// The partition queues in order, then the dead-letter and compliance queues.
pub fn watched_queues(names: &Names, partitions: u16) -> Vec<String> {
    let mut queues: Vec<String> = (0..partitions).map(|p| names.partition_queue(p)).collect();
    queues.push(names.dead_queue());
    queues.push(names.compliance_queue());
    queues
}

pub async fn depths(broker: &Broker, queues: &[String]) -> Result<Vec<QueueDepth>, QueueError> {
    let session = broker.session().ok_or(QueueError::Unavailable)?;
    let lapin = QueueError::from_lapin;
    let channel = session.connection.create_channel().await.map_err(lapin)?;
    let mut out = Vec::with_capacity(queues.len());
    for name in queues {
        let q = channel
            .queue_declare(
                name.as_str().into(),
                QueueDeclareOptions {
                    passive: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(lapin)?;
        out.push(QueueDepth {
            name: name.clone(),
            messages: q.message_count(),
            consumers: q.consumer_count(),
        });
    }
    let _ = channel.close(200, "ops page".into()).await;
    Ok(out)
}
