//! The worker process of the reload tests: `orderflow work` with its JSON logs collected, the
//! addresses it says it listens on, its metrics and its admin listener.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::WAIT;
use crate::harness::eventually;

/// `orderflow work` with JSON logs collected, and the addresses it says it listens on.
pub struct Worker {
    child: Child,
    pub logs: Arc<Mutex<Vec<Value>>>,
    metrics: String,
    admin: String,
    http: reqwest::Client,
}

impl Worker {
    pub async fn start(config: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_orderflow"))
            .arg("work")
            .arg("--config")
            .arg(config)
            .env_remove("ORDERFLOW_CONFIG")
            .env("ORDERFLOW_LOG", "info,lapin=warn,amq_protocol=warn")
            .env("ORDERFLOW_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the orderflow binary starts");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        let mut worker = Self {
            child,
            logs,
            metrics: String::new(),
            admin: String::new(),
            http: reqwest::Client::new(),
        };
        let listening = worker
            .log(|l| message(l).starts_with("orderflow listening"))
            .await;
        worker.metrics = format!("http://{}/metrics", listening["addr"].as_str().unwrap());
        let ops = worker
            .log(|l| message(l).starts_with("the ops page is served on http://"))
            .await;
        worker.admin = message(&ops)
            .trim_start_matches("the ops page is served on ")
            .split('/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/");
        worker
    }

    /// The first log line matching `f`, waiting for it.
    pub async fn log(&self, f: impl Fn(&Value) -> bool) -> Value {
        eventually(WAIT, "a log line", || async {
            self.logs.lock().unwrap().iter().find(|l| f(l)).cloned()
        })
        .await
    }

    /// How many log lines match `f` now.
    pub fn count(&self, f: impl Fn(&Value) -> bool) -> usize {
        self.logs.lock().unwrap().iter().filter(|l| f(l)).count()
    }

    pub fn hangup(&self) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// The `sha256` labels of `orderflow_config_info` series with value 1.
    pub async fn config_info(&self) -> Vec<String> {
        let text = self
            .http
            .get(&self.metrics)
            .send()
            .await
            .expect("metrics answer")
            .text()
            .await
            .expect("text");
        text.lines()
            .filter_map(|l| l.strip_prefix("orderflow_config_info{sha256=\""))
            .filter_map(|l| l.strip_suffix("\"} 1"))
            .map(str::to_owned)
            .collect()
    }

    pub async fn post_reload(&self, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.post(format!("{}/reload", self.admin));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("the admin listener answers")
    }

    pub async fn stop(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let status = tokio::time::timeout(Duration::from_secs(15), self.child.wait())
            .await
            .expect("the worker stops within its grace period")
            .expect("waited");
        assert!(status.success(), "a clean stop: {status}");
    }
}

pub fn message(line: &Value) -> &str {
    line["message"].as_str().unwrap_or("")
}
