//! A TCP proxy in front of RabbitMQ that a test can cut (dropping every connection and refusing
//! new ones), stall (holding bytes without closing, like a broker that blocks publishers under a
//! memory alarm), and restore: broker trouble without touching the shared broker.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    Stalled,
    Cut,
}

pub struct Proxy {
    pub addr: SocketAddr,
    mode: watch::Sender<Mode>,
    /// Chunks read while stalled and not yet passed on.
    held: Arc<AtomicUsize>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Arc<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let (mode, _) = watch::channel(Mode::Up);
        let proxy = Arc::new(Self {
            addr,
            mode,
            held: Arc::new(AtomicUsize::new(0)),
        });
        let p = proxy.clone();
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    break;
                };
                if *p.mode.borrow() == Mode::Cut {
                    drop(inbound);
                    continue;
                }
                let Ok(outbound) = TcpStream::connect(target).await else {
                    continue;
                };
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                tokio::spawn(pump(ri, wo, p.mode.subscribe(), p.held.clone()));
                tokio::spawn(pump(ro, wi, p.mode.subscribe(), p.held.clone()));
            }
        });
        proxy
    }

    /// The AMQP URL through this proxy.
    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@{}/%2f", self.addr)
    }

    pub fn cut(&self) {
        self.mode.send_replace(Mode::Cut);
    }

    pub fn stall(&self) {
        self.mode.send_replace(Mode::Stalled);
    }

    /// How many chunks are held back right now (something is waiting on the broker).
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    pub fn restore(&self) {
        self.mode.send_replace(Mode::Up);
    }
}

/// Copies one direction; holds bytes while stalled; closes when cut.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut mode: watch::Receiver<Mode>,
    held: Arc<AtomicUsize>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            _ = mode.wait_for(|m| *m == Mode::Cut) => return,
        };
        held.fetch_add(1, Ordering::SeqCst);
        let waited = mode.wait_for(|m| *m != Mode::Stalled).await.map(|m| *m);
        held.fetch_sub(1, Ordering::SeqCst);
        let Ok(m) = waited else {
            return;
        };
        if m == Mode::Cut || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
