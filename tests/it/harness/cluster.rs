//! The three-node cluster of `deploy/rabbitmq-cluster/local.sh`, shared by the cluster fault
//! tests of one test process: started (or completed: a killed node restarted) by the first
//! test that asks, then held by one test at a time, since each kills, cuts or alarms a node.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::broker::connect_to;

/// The nodes' AMQP ports, as the script assigns them (node n on 5700 + n).
pub const PORTS: [u16; 3] = [5701, 5702, 5703];

/// Node `n`'s (1 to 3) AMQP URL.
pub fn url(n: usize) -> String {
    format!("amqp://guest:guest@127.0.0.1:{}/%2f", PORTS[n - 1])
}

pub fn urls() -> Vec<String> {
    (1..=3).map(url).collect()
}

static HELD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The cluster, every node running, for this test alone until the guard drops.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    let guard = HELD.lock().await;
    script(&["start"]).await;
    guard
}

/// Runs the script with `args`; its stdout. Panics with its output when it fails.
pub async fn script(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || script_blocking(&args))
        .await
        .expect("the script's thread")
}

fn script_blocking(args: &[String]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/rabbitmq-cluster/local.sh");
    let out = Command::new(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "local.sh {args:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// `rabbitmqctl ARGS` on the first node that answers (a killed one does not).
pub async fn ctl(args: &[&str]) -> String {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || ctl_blocking(&args))
        .await
        .expect("the script's thread")
}

fn ctl_blocking(args: &[String]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/rabbitmq-cluster/local.sh");
    let mut errors = String::new();
    for n in ["1", "2", "3"] {
        let out = Command::new(&path)
            .args(["ctl", n])
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if out.status.success() {
            return String::from_utf8_lossy(&out.stdout).into_owned();
        }
        errors.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    panic!("rabbitmqctl {args:?} failed on every node:\n{errors}")
}

/// Sets node `n`'s memory watermark to `fraction` (0 raises the memory alarm at once).
pub fn set_watermark(n: usize, fraction: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/rabbitmq-cluster/local.sh");
    let out = Command::new(&path)
        .args([
            "ctl",
            &n.to_string(),
            "set_vm_memory_high_watermark",
            fraction,
        ])
        .output()
        .expect("local.sh ctl");
    assert!(
        out.status.success(),
        "set_vm_memory_high_watermark {fraction} on node {n}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each of the prefix's queues and the node (1 to 3) that leads it.
pub async fn leaders(prefix: &str) -> BTreeMap<String, usize> {
    let out = ctl(&["list_queues", "--silent", "name", "leader"]).await;
    out.lines()
        .filter_map(|line| {
            let (name, leader) = line.split_once('\t')?;
            let name = name.trim();
            if !name.starts_with(prefix) {
                return None;
            }
            let n = leader.trim().strip_prefix("ofc")?.split('@').next()?;
            Some((name.to_owned(), n.parse().ok()?))
        })
        .collect()
}

/// The ready messages of `queue`, asked of node `n`.
pub async fn ready(n: usize, queue: &str) -> usize {
    let conn = connect_to(&url(n)).await;
    let ch = conn.create_channel().await.expect("channel");
    let ready = super::broker::ready_on(&ch, queue).await;
    let _ = conn.close(200, "counted".into()).await;
    ready
}

/// Deletes the prefix's queues and exchanges from the cluster, through node `n`.
pub async fn delete_prefix(n: usize, prefix: &str, partitions: u16) {
    let admin = tokio::time::timeout(
        Duration::from_secs(10),
        orderflow::queue::Admin::connect(&secrecy::SecretString::from(url(n))),
    )
    .await
    .expect("the cluster node answers in time")
    .expect("the cluster node answers");
    admin
        .delete(&orderflow::queue::Names::new(prefix), partitions)
        .await
        .expect("cleanup");
    let _ = admin.close("cleanup").await;
}

/// Restores a node's memory watermark when dropped, even when the test failed, so the next
/// test on the cluster can publish.
pub struct WatermarkGuard(pub usize);

impl Drop for WatermarkGuard {
    fn drop(&mut self) {
        set_watermark(self.0, "0.4");
    }
}
