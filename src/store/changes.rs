//! Installs, uninstalls and redactions told to every replica: each write `NOTIFY`s on one
//! channel in its own transaction (so the notice goes out exactly when the write commits), and
//! [`Store::changes`] `LISTEN`s on it. Channels are per database, so tests in databases of
//! their own never hear each other.

use std::time::Duration;

use futures_util::Stream;
use sqlx::postgres::PgListener;
use sqlx::{Postgres, Transaction};

use super::{Store, StoreError};
use crate::id::ShopDomain;

const CHANNEL: &str = "orderflow_shops";
/// The first wait before listening again after the connection failed; doubled up to the max.
const RELISTEN_FIRST: Duration = Duration::from_millis(250);
const RELISTEN_MAX: Duration = Duration::from_secs(30);

/// What another replica (or this one) did to a shop's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShopChange {
    Installed(ShopDomain),
    Uninstalled(ShopDomain),
    Redacted(ShopDomain),
}

impl ShopChange {
    /// The notification payload: `<verb> <domain>`.
    fn payload(&self) -> String {
        match self {
            ShopChange::Installed(s) => format!("installed {s}"),
            ShopChange::Uninstalled(s) => format!("uninstalled {s}"),
            ShopChange::Redacted(s) => format!("redacted {s}"),
        }
    }

    fn parse(payload: &str) -> Result<Self, StoreError> {
        let corrupt = || StoreError::Corrupt {
            problem: format!("notification `{payload}`"),
        };
        let (verb, domain) = payload.split_once(' ').ok_or_else(corrupt)?;
        let domain = ShopDomain::parse(domain).map_err(|_| corrupt())?;
        match verb {
            "installed" => Ok(ShopChange::Installed(domain)),
            "uninstalled" => Ok(ShopChange::Uninstalled(domain)),
            "redacted" => Ok(ShopChange::Redacted(domain)),
            _ => Err(corrupt()),
        }
    }
}

pub(super) async fn notify(
    tx: &mut Transaction<'_, Postgres>,
    change: &ShopChange,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(change.payload())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

struct Listening {
    store: Store,
    listener: Option<PgListener>,
    /// The wait before the next attempt to listen, after a failure.
    backoff: Option<Duration>,
}

impl Store {
    /// Every change committed from now on, by any process using this database, this one
    /// included. The stream never ends. An `Err` item means the listening connection failed
    /// or was lost (transient): changes may have been missed, so the caller should re-read
    /// [`Store::installed`]; the stream then listens again by itself, waiting 250 ms doubling
    /// up to 30 s between attempts while the database is down.
    pub async fn changes(
        &self,
    ) -> Result<impl Stream<Item = Result<ShopChange, StoreError>> + Send + 'static, StoreError>
    {
        let listener = listen(&self.pool).await?;
        let state = Listening {
            store: self.clone(),
            listener: Some(listener),
            backoff: None,
        };
        Ok(futures_util::stream::unfold(state, |mut s| async move {
            let item = next(&mut s).await;
            Some((item, s))
        }))
    }
}

async fn listen(pool: &sqlx::PgPool) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

async fn next(s: &mut Listening) -> Result<ShopChange, StoreError> {
    let mut listener = match s.listener.take() {
        Some(l) => l,
        None => {
            if let Some(wait) = s.backoff {
                tokio::time::sleep(wait).await;
            }
            match listen(&s.store.pool).await {
                // Listening again: only now can a re-read miss nothing (a change committed
                // between the failure and this LISTEN was notified to nobody), so this is
                // said as one more `Err`, after which the caller re-reads.
                Ok(l) => {
                    s.backoff = None;
                    s.listener = Some(l);
                    return Err(StoreError::ChangesLost);
                }
                Err(e) => {
                    s.backoff = Some(
                        s.backoff
                            .map_or(RELISTEN_FIRST, |w| (w * 2).min(RELISTEN_MAX)),
                    );
                    return Err(e);
                }
            }
        }
    };
    let outcome = listener.try_recv().await;
    match outcome {
        Ok(Some(notification)) => {
            s.backoff = None;
            s.listener = Some(listener);
            ShopChange::parse(notification.payload())
        }
        // The connection was lost, and sqlx has already connected again and re-run LISTEN
        // (it reconnects eagerly; had that failed, this would be an `Err`): keep listening
        // on it, and have the caller re-read what it may have missed meanwhile.
        Ok(None) => {
            s.backoff = None;
            s.listener = Some(listener);
            Err(StoreError::ChangesLost)
        }
        Err(e) => {
            s.backoff = Some(
                s.backoff
                    .map_or(RELISTEN_FIRST, |w| (w * 2).min(RELISTEN_MAX)),
            );
            Err(StoreError::Database(e))
        }
    }
}
