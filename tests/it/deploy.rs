//! The deployment files (`deploy/kubernetes`, `deploy/compose.production.yaml`) stay valid:
//! `scripts/validate-deploy` renders the Kubernetes overlay with `kubectl kustomize` and checks
//! it against Kubernetes' and KEDA's schemas offline, and the compose file against the Compose
//! Specification's; the production config they share passes `orderflow check` with the Secret's
//! variables set. A broken copy proves the validator is not a rubber stamp.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validate(root: &Path) -> Output {
    Command::new(root.join("scripts/validate-deploy"))
        .arg(root)
        .output()
        .expect(
            "scripts/validate-deploy runs (it needs python3, kubectl and kubernetes-validate; \
             scripts/test installs what is missing)",
        )
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_kubernetes_overlay_and_the_production_compose_file_validate() {
    let out = validate(&root());
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("deployment files valid"),
        "{}",
        text(&out)
    );
}

/// A copy of what the validator reads, under a temporary root.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_broken_overlay_or_compose_file_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["deploy", "fixtures/schemas", "scripts"] {
        copy_tree(&root().join(sub), &dir.path().join(sub));
    }
    let base = dir.path().join("deploy/kubernetes/base");
    // More workers than partitions, a field Kubernetes does not know, a grace period shorter
    // than the drain, and a compose service key the specification does not have.
    edit(
        &base.join("worker-scaledobject.yaml"),
        "maxReplicaCount: 8",
        "maxReplicaCount: 9",
    );
    edit(
        &base.join("receiver.yaml"),
        "periodSeconds: 5",
        "periodSecond: 5",
    );
    edit(
        &base.join("worker.yaml"),
        "terminationGracePeriodSeconds: 30",
        "terminationGracePeriodSeconds: 5",
    );
    edit(
        &dir.path().join("deploy/compose.production.yaml"),
        "    hostname: rabbitmq-3",
        "    hostname: rabbitmq-3\n    replicas_please: 3",
    );
    let out = validate(dir.path());
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    for reason in [
        "maxReplicaCount 9 is above amqp.partitions 8",
        "periodSecond",
        "orderflow-worker: terminationGracePeriodSeconds must exceed",
        "replicas_please",
    ] {
        assert!(said.contains(reason), "missing {reason:?} in:\n{said}");
    }
}

const SECRET: &str = "client-secret-never-printed";

/// The Secret's variables of the example overlay, with values `check` accepts.
fn overlay_secret_env() -> Vec<(String, String)> {
    let kustomization = std::fs::read_to_string(
        root().join("deploy/kubernetes/overlays/example/kustomization.yaml"),
    )
    .unwrap();
    kustomization
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .map(|(k, v)| {
            let v = match k {
                // CHANGE-ME is not a key; any 32 bytes in base64 are.
                "STORE_ENCRYPTION_KEY" => "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
                "SHOPIFY_CLIENT_SECRET" => SECRET.to_owned(),
                _ => v.to_owned(),
            };
            (k.to_owned(), v)
        })
        .collect()
}

#[test]
fn the_production_config_passes_check_with_the_secrets_variables() {
    let env = overlay_secret_env();
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    for required in [
        "AMQP_URL",
        "SHOPIFY_CLIENT_SECRET",
        "SHOPIFY_CLIENT_ID",
        "STORE_URL",
        "STORE_ENCRYPTION_KEY",
    ] {
        assert!(names.contains(&required), "the Secret lacks {required}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .args(["check", "--config"])
        .arg(root().join("deploy/kubernetes/base/config.toml"))
        .env_clear()
        .envs(env)
        .output()
        .unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("auth = \"oauth\""), "{said}");
    assert!(
        !said.contains(SECRET),
        "the client secret is redacted: {said}"
    );
}
