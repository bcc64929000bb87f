//! The real kubectl (/usr/bin/kubectl) against the fake: get, api-resources, auth can-i,
//! create -f, delete.

use std::process::Output;

use apiserver_fake::rbac::{self, Attributes, UserInfo};
use apiserver_fake::testing::{KUBECTL, kubectl};
use apiserver_fake::{FakeServer, Options};

fn have_kubectl() -> bool {
    if std::path::Path::new(KUBECTL).exists() {
        return true;
    }
    eprintln!("skipped: {KUBECTL} is not installed");
    false
}

fn run(server: &FakeServer, args: &[&str]) -> Output {
    kubectl(server).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ok(server: &FakeServer, args: &[&str]) -> String {
    let out = run(server, args);
    assert!(out.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    stdout(&out)
}

#[test]
fn kubectl_get_prints_server_side_tables() {
    if !have_kubectl() {
        return;
    }
    let server = FakeServer::start_with(Options::demo()).unwrap();
    let rs = ok(&server, &["get", "rs", "-n", "shop"]);
    let lines: Vec<&str> = rs.lines().collect();
    assert!(lines[0].starts_with("NAME") && lines[0].contains("DESIRED") && lines[0].ends_with("AGE"), "{rs}");
    assert!(lines.iter().any(|l| l.starts_with("web-7d9f8b6c5d ") && l.contains(" 3 ")), "{rs}");
    let all = ok(&server, &["get", "replicasets", "-A", "--no-headers"]);
    let namespaces: Vec<&str> = all.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
    let mut sorted = namespaces.clone();
    sorted.sort();
    assert_eq!(namespaces, sorted, "lists come sorted by namespace");
    let candies = ok(&server, &["get", "cn", "-n", "demo"]);
    assert!(candies.starts_with("NAME") && candies.contains("FLAVOR") && candies.contains("cherry"), "{candies}");
    let yaml = ok(&server, &["get", "deploy", "web", "-n", "shop", "-o", "yaml"]);
    assert!(yaml.contains("uid: 5b1a2c3d-0001-4a00-8000-00000000a001"), "{yaml}");
    let missing = run(&server, &["get", "rs", "nope", "-n", "shop"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("replicasets.apps \"nope\" not found"));
}

#[test]
fn kubectl_api_resources_lists_builtins_and_crds() {
    if !have_kubectl() {
        return;
    }
    let server = FakeServer::start_with(Options::demo()).unwrap();
    let out = ok(&server, &["api-resources"]);
    let line = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from:\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(line("replicasets"), ["replicasets", "rs", "apps/v1", "true", "ReplicaSet"]);
    assert_eq!(line("candies"), ["candies", "cn", "awesome.corp.com/v1", "true", "Candy"]);
    assert_eq!(line("csidrivers"), ["csidrivers", "storage.k8s.io/v1", "false", "CSIDriver"]);
    let namespaced = ok(&server, &["api-resources", "--namespaced=false", "-o", "name"]);
    assert!(namespaced.lines().any(|l| l == "namespaces"));
    assert!(!namespaced.lines().any(|l| l == "pods"));
}

/// The grid of checks: (verb, resource, subresource, namespace).
const GRID: &[(&str, &str, &str, &str)] = &[
    ("get", "pods", "", "team-a"),
    ("list", "pods", "", "team-a"),
    ("delete", "pods", "", "team-a"),
    ("get", "pods", "log", "team-a"),
    ("create", "deployments", "", "team-a"),
    ("create", "deployments", "", "shop"),
    ("list", "deployments", "", "shop"),
    ("delete", "replicasets", "", "blog"),
    ("delete", "replicasets", "", "shop"),
    ("list", "nodes", "", ""),
    ("list", "namespaces", "", ""),
    ("create", "selfsubjectaccessreviews", "", ""),
    ("impersonate", "users", "", ""),
];

fn group_of(resource: &str) -> &'static str {
    match resource {
        "deployments" | "replicasets" => "apps",
        "selfsubjectaccessreviews" => "authorization.k8s.io",
        _ => "",
    }
}

#[test]
fn kubectl_auth_can_i_matches_the_rbac_decisions() {
    if !have_kubectl() {
        return;
    }
    let server = FakeServer::start_with(Options::demo()).unwrap();
    let rbac_objects = rbac::RbacObjects::from_values(
        ["roles", "clusterroles", "rolebindings", "clusterrolebindings"]
            .iter()
            .flat_map(|plural| server.list("rbac.authorization.k8s.io/v1", plural, None))
            .collect::<Vec<_>>()
            .iter(),
    );
    let users = [
        ("admin", UserInfo::authenticated("admin", &["system:masters"])),
        ("alice", UserInfo::authenticated("alice", &["devs"])),
        ("bob", UserInfo::authenticated("bob", &[])),
    ];
    let mut yes = 0;
    for (context, user) in &users {
        for (verb, resource, sub, ns) in GRID {
            // `pods/log` would mean the pod named log: subresources go in --subresource.
            let mut args = vec!["--context", context, "auth", "can-i", verb, resource];
            if !sub.is_empty() {
                args.extend(["--subresource", sub]);
            }
            if !ns.is_empty() {
                args.extend(["-n", ns]);
            }
            let out = run(&server, &args);
            let answer = stdout(&out).trim().to_string();
            let expected = rbac::authorize(
                &rbac_objects,
                user,
                &Attributes::Resource {
                    verb: verb.to_string(),
                    group: group_of(resource).to_string(),
                    resource: resource.to_string(),
                    subresource: sub.to_string(),
                    name: String::new(),
                    namespace: ns.to_string(),
                },
            );
            assert_eq!(answer == "yes", expected.allowed, "{context} {args:?}: kubectl said {answer:?}");
            assert_eq!(out.status.success(), expected.allowed, "exit code of {args:?}");
            yes += usize::from(expected.allowed);
        }
    }
    // The grid is not trivial: some yes, some no, for each kind of user.
    assert!(yes > GRID.len() && yes < GRID.len() * 3, "{yes} allowed");
    assert_eq!(
        ok(&server, &["--context", "alice", "auth", "can-i", "create", "deployments", "-n", "team-a"]).trim(),
        "yes"
    );
    assert_eq!(
        stdout(&run(&server, &["--context", "bob", "auth", "can-i", "list", "pods", "-n", "team-a"])).trim(),
        "no"
    );
}

#[test]
fn kubectl_create_and_delete_round_trip() {
    if !have_kubectl() {
        return;
    }
    let server = FakeServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("app.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1
kind: Namespace
metadata:
  name: made
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: made
data:
  a: b
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: made
spec:
  replicas: 2
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: nginx
",
    )
    .unwrap();
    let out = ok(&server, &["create", "-f", manifest.to_str().unwrap()]);
    assert!(out.contains("namespace/made created"), "{out}");
    assert!(out.contains("deployment.apps/app created"), "{out}");
    let cm = server.get("v1", "configmaps", Some("made"), "settings").unwrap();
    assert_eq!(cm["data"]["a"], "b");
    let again = run(&server, &["create", "-f", manifest.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let out = ok(&server, &["delete", "deployment", "app", "-n", "made"]);
    assert!(out.contains("deployment.apps \"app\" deleted"), "{out}");
    assert!(server.get("apps/v1", "deployments", Some("made"), "app").is_none());
    let out = ok(&server, &["delete", "configmap", "-n", "made", "--all"]);
    assert!(out.contains("configmap \"settings\" deleted"), "{out}");
    let denied = run(&server, &["--context", "bob", "delete", "namespace", "made"]);
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("User \"bob\" cannot delete resource \"namespaces\""));
}

#[test]
fn kubectl_waits_for_finalizers_through_a_watch() {
    if !have_kubectl() {
        return;
    }
    let server = FakeServer::start().unwrap();
    server
        .apply(
            "apiVersion: v1
kind: ConfigMap
metadata:
  name: held
  namespace: default
  finalizers: [example.com/hold]
",
        )
        .unwrap();
    let child = kubectl(&server)
        .args(["delete", "configmap", "held", "--timeout=20s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // kubectl now watches for the deletion; releasing the finalizer completes it.
    let start = std::time::Instant::now();
    while server.get("v1", "configmaps", Some("default"), "held").unwrap()["metadata"]
        .get("deletionTimestamp")
        .is_none()
    {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "kubectl never deleted");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    ok(&server, &["patch", "configmap", "held", "--type=merge", "-p", r#"{"metadata":{"finalizers":null}}"#]);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kubectl delete did not see the deletion");
    assert!(stdout(&out).contains("configmap \"held\" deleted"));
    assert!(server.requests().iter().any(|r| r.query.contains("watch=true")));
}

#[test]
fn kubectl_field_selectors_on_pods_use_the_pod_fields_with_their_defaults() {
    if !have_kubectl() {
        return;
    }
    let pods = "
apiVersion: v1
kind: Pod
metadata: {name: batch, namespace: default}
spec: {schedulerName: volcano, containers: [{name: c, image: x}]}
status: {phase: Pending}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec: {containers: [{name: c, image: x}]}
status: {phase: Running}
";
    let server = FakeServer::start_with(Options { seed_yaml: vec![pods.into()], ..Default::default() }).unwrap();
    let names = |selector: &str| {
        ok(&server, &["get", "pods", "-A", "--field-selector", selector, "-o", "name"])
            .lines()
            .map(String::from)
            .collect::<Vec<_>>()
    };
    assert_eq!(names("spec.schedulerName!=default-scheduler"), ["pod/batch"]);
    assert_eq!(names("spec.schedulerName=default-scheduler"), ["pod/web"], "unset means default-scheduler");
    assert_eq!(names("status.phase=Running"), ["pod/web"]);
    let refused = run(&server, &["get", "deployments", "--field-selector", "spec.schedulerName=x"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains(
        "\"spec.schedulerName\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\""
    ));
}
