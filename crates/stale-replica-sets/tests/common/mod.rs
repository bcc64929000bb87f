//! Shared set-up of the end-to-end tests on either backend (`kubeplug_testenv`): running the
//! plugin, and Deployments and ReplicaSets made through the API the way a user (or their
//! controller) makes them, in namespaces of the test's own.

#![allow(dead_code)]

use kubeplug_testenv::{Env, rows};
use std::process::Output;

pub const BIN: &str = env!("CARGO_BIN_EXE_kubectl-show-stale_replica_sets");

pub fn run(env: &Env, args: &[&str]) -> Output {
    env.command(BIN).args(args).output().expect("binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn ok(o: Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    stdout(&o)
}

/// The NAME column (the first), without the header.
pub fn names(table: &str) -> Vec<String> {
    rows(table).into_iter().map(|r| r[0].clone()).collect()
}

pub fn exists(env: &Env, ns: &str, name: &str) -> bool {
    env.get("replicasets", Some(ns), name).is_some()
}

/// A Deployment at `revision` whose controller has observed it (status set through the status
/// subresource); returns its uid.
pub fn deployment(env: &Env, ns: &str, name: &str, revision: u32, replicas: u32) -> String {
    let created = env.create(&format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}, annotations: {{deployment.kubernetes.io/revision: \"{revision}\"}}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: \"registry.example/{name}:v{revision}\"}}]}}
"
    ));
    let out = env
        .kubectl()
        .args(["patch", "deployment", name, "-n", ns, "--subresource=status", "--type=merge"])
        .args(["-p", r#"{"status":{"observedGeneration":1}}"#])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    created[0]["metadata"]["uid"].as_str().unwrap().to_string()
}

/// Who controls a ReplicaSet made by [`replicaset`].
pub enum Owner<'a> {
    /// A Deployment: (name, uid).
    Deployment(&'a str, &'a str),
    /// An Argo Rollout (`argoproj.io`): (name, uid).
    Rollout(&'a str, &'a str),
    /// None.
    None,
}

/// A ReplicaSet as the Deployment controller makes one: revision annotation, `pod-template-hash`
/// label; `labels` adds labels (`"tier: old"`).
#[allow(clippy::too_many_arguments)] // a row of the fixture reads better than a builder here
pub fn replicaset(
    env: &Env,
    ns: &str,
    name: &str,
    owner: Owner,
    revision: u32,
    replicas: u32,
    app: &str,
    labels: &str,
) {
    env.create(&replicaset_yaml(ns, name, owner, revision, replicas, app, labels));
}

/// The manifest [`replicaset`] creates, for creating many in one `kubectl create`.
#[allow(clippy::too_many_arguments)]
pub fn replicaset_yaml(
    ns: &str,
    name: &str,
    owner: Owner,
    revision: u32,
    replicas: u32,
    app: &str,
    labels: &str,
) -> String {
    let reference = |api_version: &str, kind: &str, owner: &str, uid: &str| {
        format!(
            "  ownerReferences:\n  - {{apiVersion: {api_version}, kind: {kind}, name: {owner}, uid: {uid}, controller: true, blockOwnerDeletion: true}}\n"
        )
    };
    let owner = match owner {
        Owner::Deployment(d, uid) => reference("apps/v1", "Deployment", d, uid),
        Owner::Rollout(r, uid) => reference("argoproj.io/v1alpha1", "Rollout", r, uid),
        Owner::None => String::new(),
    };
    let labels = if labels.is_empty() { String::new() } else { format!(", {labels}") };
    let hash = format!("{app}{revision}hash");
    format!(
        "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
  namespace: {ns}
  labels: {{app: {app}, pod-template-hash: {hash}{labels}}}
  annotations: {{deployment.kubernetes.io/revision: \"{revision}\"}}
{owner}spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {app}, pod-template-hash: {hash}}}}}
  template:
    metadata: {{labels: {{app: {app}, pod-template-hash: {hash}}}}}
    spec: {{containers: [{{name: c, image: \"registry.example/{app}:v{revision}\"}}]}}
---
"
    )
}

/// A namespace with: Deployment web at revision 3 (web-1, web-2 stale, web-3 in use), Deployment
/// api scaled to 0 (api-1 stale, api-2 in use at 0), two ReplicaSets of an Argo Rollout at 0,
/// a bare one, and cart-old-1, made by a Deployment cart since deleted and recreated under the
/// same name (cart-1 is the new one's).
pub fn shop(env: &Env) -> String {
    let ns = env.namespace("shop");
    let web = deployment(env, &ns, "web", 3, 2);
    let api = deployment(env, &ns, "api", 2, 0);
    replicaset(env, &ns, "web-1", Owner::Deployment("web", &web), 1, 0, "web", "");
    replicaset(env, &ns, "web-2", Owner::Deployment("web", &web), 2, 0, "web", "");
    replicaset(env, &ns, "web-3", Owner::Deployment("web", &web), 3, 2, "web", "");
    replicaset(env, &ns, "api-1", Owner::Deployment("api", &api), 1, 0, "api", "");
    replicaset(env, &ns, "api-2", Owner::Deployment("api", &api), 2, 0, "api", "");
    // No Rollout object is needed for the reference, and no garbage collector removes it.
    replicaset(
        env,
        &ns,
        "canary-1",
        Owner::Rollout("canary", "0b6c2a1e-5d0f-4c8e-9a51-3f2d7c1e9b40"),
        1,
        0,
        "canary",
        "",
    );
    replicaset(
        env,
        &ns,
        "canary-2",
        Owner::Rollout("canary", "0b6c2a1e-5d0f-4c8e-9a51-3f2d7c1e9b40"),
        2,
        0,
        "canary",
        "",
    );
    replicaset(env, &ns, "bare", Owner::None, 1, 0, "bare", "");
    // The first Deployment cart is gone (the garbage collector has not removed its ReplicaSet
    // yet); the live cart, recreated under the same name, has another uid.
    replicaset(
        env,
        &ns,
        "cart-old-1",
        Owner::Deployment("cart", "5f1d8e2a-7c3b-4a9e-8d60-2b4c9e7f1a03"),
        1,
        0,
        "cart",
        "",
    );
    let second_cart = deployment(env, &ns, "cart", 1, 1);
    replicaset(env, &ns, "cart-1", Owner::Deployment("cart", &second_cart), 1, 1, "cart", "");
    ns
}

pub const FOREIGN_NOTE: &str = "Left alone 2 ReplicaSet(s) with 0 replicas whose controller is not a Deployment (2 Rollout.argoproj.io); -o wide --include-foreign shows them.\n";

/// A failure as the plugin reports one: exit code 1, `error: ...` naming `expected` on the first
/// line, at most a hint after it, no panic or debug dump.
pub fn assert_one_line_error(o: &Output, expected: &str) {
    assert_eq!(o.status.code(), Some(1), "stdout: {} stderr: {}", stdout(o), stderr(o));
    let err = stderr(o);
    let first = err.lines().next().unwrap_or("");
    assert!(first.starts_with("error: "), "{err}");
    assert!(first.contains(expected), "expected {expected:?} in {err}");
    assert!(err.lines().count() <= 2, "one line and at most a hint: {err}");
    assert!(!err.contains("panicked") && !err.contains("Error {"), "{err}");
}
