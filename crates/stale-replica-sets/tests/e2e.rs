//! End-to-end: the built binary (and the real kubectl dispatching to it) against apiserver-fake.

use apiserver_fake::{FakeServer, Options, testing};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-show-stale_replica_sets");

/// `created` is how long ago, in days.
fn rs(ns: &str, name: &str, owner: Option<(&str, &str)>, revision: u32, replicas: u32, days: u32, app: &str) -> String {
    let created = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days as i64);
    let owner = owner
        .map(|(deploy, uid)| {
            format!(
                "  ownerReferences:\n  - {{apiVersion: apps/v1, kind: Deployment, name: {deploy}, uid: {uid}, controller: true, blockOwnerDeletion: true}}\n"
            )
        })
        .unwrap_or_default();
    format!(
        "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
  namespace: {ns}
  creationTimestamp: \"{created}\"
  labels: {{app: {app}}}
  annotations: {{deployment.kubernetes.io/revision: \"{revision}\"}}
{owner}spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {app}}}}}
  template:
    metadata: {{labels: {{app: {app}}}}}
    spec:
      containers: [{{name: c, image: \"registry.example/{app}:v{revision}\"}}]
---
"
    )
}

fn deployment(ns: &str, name: &str, uid: &str, revision: u32, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  uid: {uid}
  annotations: {{deployment.kubernetes.io/revision: \"{revision}\"}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: \"registry.example/{name}:v{revision}\"}}]
---
"
    )
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n---\n")
}

/// shop: Deployment web at revision 4 (three old ReplicaSets at 0), Deployment api scaled to 0
/// (its current ReplicaSet api-2 is at 0 too), an orphan whose Deployment is gone, a bare
/// ReplicaSet at 0 with no owner, and a busy one. blog: one old ReplicaSet, 10 days old.
fn seed() -> String {
    let mut y = String::new();
    for ns in ["shop", "blog", "empty"] {
        y += &namespace(ns);
    }
    y += &deployment("shop", "web", "uid-web", 4, 2);
    y += &deployment("shop", "api", "uid-api", 2, 0);
    y += &deployment("blog", "blog", "uid-blog", 2, 1);
    y += &rs("shop", "web-1", Some(("web", "uid-web")), 1, 0, 5, "web");
    y += &rs("shop", "web-2", Some(("web", "uid-web")), 2, 0, 5, "web");
    y += &rs("shop", "web-3", Some(("web", "uid-web")), 3, 0, 5, "web");
    y += &rs("shop", "web-4", Some(("web", "uid-web")), 4, 2, 5, "web");
    y += &rs("shop", "api-1", Some(("api", "uid-api")), 1, 0, 5, "api");
    y += &rs("shop", "api-2", Some(("api", "uid-api")), 2, 0, 5, "api");
    y += &rs("shop", "old-1", Some(("gone", "uid-gone")), 3, 0, 5, "gone");
    y += &rs("shop", "bare", None, 1, 0, 5, "bare");
    y += &rs("shop", "busy", None, 1, 3, 5, "busy");
    y += &rs("blog", "blog-1", Some(("blog", "uid-blog")), 1, 0, 10, "blog");
    y += &rs("blog", "blog-2", Some(("blog", "uid-blog")), 2, 1, 10, "blog");
    y
}

fn server() -> FakeServer {
    FakeServer::start_with(Options { seed_yaml: vec![seed()], ..Default::default() }).expect("fake server starts")
}

fn run(server: &FakeServer, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    testing::configure(&mut cmd, server);
    cmd.args(args).output().expect("binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(&o));
    stdout(&o)
}

/// The first column (or the column at `col`) of each data row.
fn column(table: &str, col: usize) -> Vec<String> {
    table.lines().skip(1).map(|l| l.split_whitespace().nth(col).unwrap_or("").to_string()).collect()
}

fn exists(server: &FakeServer, ns: &str, name: &str) -> bool {
    server.get("apps/v1", "replicasets", Some(ns), name).is_some()
}

#[test]
fn lists_stale_replicasets_of_the_namespace_like_kubectl_get() {
    let s = server();
    let out = ok(run(&s, &["-n", "shop"]));
    // Sorted by name, as the server lists them; api-2 (in use by api, scaled to 0), web-4 and
    // busy (replicas > 0) are not stale.
    assert_eq!(
        out,
        "NAME    DEPLOYMENT   REVISION   AGE\n\
         api-1   api          1          5d\n\
         bare    <none>       1          5d\n\
         old-1   gone         3          5d\n\
         web-1   web          1          5d\n\
         web-2   web          2          5d\n\
         web-3   web          3          5d\n"
    );
}

#[test]
fn the_contexts_namespace_is_the_default() {
    let s = server();
    // The fake's kubeconfig sets no namespace: `default`, which is empty.
    let o = run(&s, &[]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "");
    assert_eq!(stderr(&o), "No resources found in default namespace.\n");
}

#[test]
fn all_namespaces_adds_the_namespace_column_with_one_cluster_wide_list() {
    let s = server();
    s.clear_requests();
    let out = ok(run(&s, &["-A", "--no-headers"]));
    assert_eq!(column(&format!("x\n{out}"), 0), ["blog", "shop", "shop", "shop", "shop", "shop", "shop"]);
    assert_eq!(column(&format!("x\n{out}"), 1), ["blog-1", "api-1", "bare", "old-1", "web-1", "web-2", "web-3"]);
    let rs_lists: Vec<String> = s
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/replicasets"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(rs_lists, ["/apis/apps/v1/replicasets"], "one cluster-wide list, not one per namespace");
}

#[test]
fn wide_output_adds_images_and_owner_status() {
    let s = server();
    let out = ok(run(&s, &["-n", "shop", "-o", "wide"]));
    let header = out.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["NAME", "DEPLOYMENT", "REVISION", "AGE", "IMAGES", "OWNER", "STATUS"]
    );
    let old = out.lines().find(|l| l.starts_with("old-1")).unwrap();
    assert!(old.contains("registry.example/gone:v3") && old.ends_with("missing"), "{old}");
    let web = out.lines().find(|l| l.starts_with("web-1")).unwrap();
    assert!(web.ends_with("exists"), "{web}");
    let bare = out.lines().find(|l| l.starts_with("bare")).unwrap();
    assert!(bare.ends_with("<none>"), "{bare}");
}

#[test]
fn name_output_pipes_into_kubectl() {
    let s = server();
    let out = ok(run(&s, &["-n", "blog", "-o", "name"]));
    assert_eq!(out, "replicaset.apps/blog-1\n");
}

#[test]
fn json_output_is_a_list_of_the_real_replicasets() {
    let s = server();
    let out = ok(run(&s, &["-n", "shop", "-o", "json", "--deployment", "web"]));
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for item in items {
        assert_eq!(item["kind"], "ReplicaSet");
        assert_eq!(item["apiVersion"], "apps/v1");
        assert_eq!(item["spec"]["replicas"], 0);
        assert!(item["metadata"]["uid"].is_string(), "the server's object, not a summary");
    }
}

#[test]
fn yaml_output_is_a_list_too() {
    let s = server();
    let out = ok(run(&s, &["-n", "blog", "-o", "yaml"]));
    assert!(out.starts_with("apiVersion: v1\nitems:\n- apiVersion: apps/v1\n"), "{out}");
    assert!(out.contains("  kind: ReplicaSet\n") && out.contains("    name: blog-1\n"), "{out}");
    assert!(out.contains("\nkind: List\n"), "{out}");
}

#[test]
fn filters_select_by_deployment_age_selector_and_owner() {
    let s = server();
    assert_eq!(column(&ok(run(&s, &["-n", "shop", "--deployment", "web"])), 0), ["web-1", "web-2", "web-3"]);
    assert_eq!(column(&ok(run(&s, &["-A", "--older-than", "7d"])), 1), ["blog-1"]);
    assert_eq!(column(&ok(run(&s, &["-n", "shop", "-l", "app in (api,bare)"])), 0), ["api-1", "bare"]);
    assert_eq!(column(&ok(run(&s, &["-n", "shop", "--orphaned"])), 0), ["bare", "old-1"]);
}

#[test]
fn keep_leaves_the_newest_rollback_targets_of_each_deployment() {
    let s = server();
    // web keeps web-3 (newest stale), api keeps api-1, the orphan's vanished Deployment keeps old-1;
    // bare belongs to no Deployment and is not kept back.
    assert_eq!(column(&ok(run(&s, &["-n", "shop", "--keep", "1"])), 0), ["bare", "web-1", "web-2"]);
    assert_eq!(column(&ok(run(&s, &["-n", "shop", "--keep", "2"])), 0), ["bare", "web-1"]);
}

#[test]
fn include_current_shows_the_replicaset_in_use_marked() {
    let s = server();
    let out = ok(run(&s, &["-n", "shop", "--deployment", "api", "--include-current"]));
    assert_eq!(
        out,
        "NAME    DEPLOYMENT   REVISION      AGE\n\
         api-1   api          1             5d\n\
         api-2   api          2 (current)   5d\n"
    );
}

#[test]
fn exit_code_flag_makes_found_a_distinct_code() {
    let s = server();
    assert_eq!(run(&s, &["-n", "shop", "--exit-code"]).status.code(), Some(3));
    let none = run(&s, &["-n", "empty", "--exit-code"]);
    assert_eq!(none.status.code(), Some(0));
    assert_eq!(stderr(&none), "No resources found in empty namespace.\n");
    assert_eq!(run(&s, &["-n", "shop"]).status.code(), Some(0), "without --exit-code, found is success");
}

#[test]
fn delete_without_yes_is_a_preview_that_changes_nothing() {
    let s = server();
    let o = run(&s, &["-n", "shop", "--deployment", "web", "--delete"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains(r#"replicaset.apps "web-1" in namespace "shop" deleted (dry run)"#), "{}", stdout(&o));
    assert!(stderr(&o).contains("nothing was changed"), "{}", stderr(&o));
    assert!(s.requests().iter().all(|r| r.method != "DELETE"));
    assert!(exists(&s, "shop", "web-1"));
}

#[test]
fn delete_with_yes_deletes_with_preconditions_and_never_the_current_replicaset() {
    let s = server();
    let o = run(&s, &["-n", "shop", "--delete", "--yes", "--include-current"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for gone in ["web-1", "web-2", "web-3", "api-1", "old-1", "bare"] {
        assert!(!exists(&s, "shop", gone), "{gone} should be deleted");
    }
    for kept in ["web-4", "busy", "api-2"] {
        assert!(exists(&s, "shop", kept), "{kept} must not be deleted");
    }
    assert!(stderr(&o).contains("api-2") && stderr(&o).contains("currently uses"), "{}", stderr(&o));
    assert!(stderr(&o).contains("6 deleted, 1 skipped, 0 failed"), "{}", stderr(&o));
    let deletes: Vec<_> = s.requests().into_iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 6);
}

#[test]
fn server_dry_run_sends_dry_run_in_the_body_and_deletes_nothing() {
    let s = server();
    let o = run(&s, &["-n", "shop", "--deployment", "web", "--delete", "--dry-run=server"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("deleted (server dry run)"), "{}", stdout(&o));
    assert!(stderr(&o).contains("3 deleted, 0 skipped, 0 failed (server dry run)"), "{}", stderr(&o));
    for name in ["web-1", "web-2", "web-3"] {
        assert!(exists(&s, "shop", name), "{name} must survive a server dry run");
    }
}

#[test]
fn a_replicaset_scaled_up_between_listing_and_delete_is_skipped_not_deleted() {
    let s = server();
    // Right before the first DELETE arrives, a rollback scales web-1 back up.
    s.faults().on_request("DELETE", "/apis/apps/v1/namespaces/shop/replicasets/", |cluster| {
        let mut web1 = cluster.get("apps/v1", "replicasets", Some("shop"), "web-1").unwrap();
        web1["spec"]["replicas"] = 2.into();
        cluster.seed([web1]).unwrap();
    });
    let o = run(&s, &["-n", "shop", "--deployment", "web", "--delete", "--yes", "--concurrency", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(exists(&s, "shop", "web-1"), "the scaled-up ReplicaSet must survive");
    assert!(!exists(&s, "shop", "web-2") && !exists(&s, "shop", "web-3"));
    assert!(
        stderr(&o).contains(r#"skipped replicaset.apps "web-1" in namespace "shop": it changed since it was listed"#),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("2 deleted, 1 skipped, 0 failed"), "{}", stderr(&o));
}

#[test]
fn survives_throttling_and_server_errors() {
    let s = server();
    s.faults().throttle_next(2, 1);
    assert_eq!(column(&ok(run(&s, &["-n", "blog"])), 0), ["blog-1"]);
    s.faults().fail_next(2);
    assert_eq!(column(&ok(run(&s, &["-n", "blog"])), 0), ["blog-1"]);
}

#[test]
fn pages_through_big_namespaces() {
    let s = server();
    // Seeded as objects: 1,300 YAML documents would be slow to parse for nothing.
    let objects: Vec<serde_json::Value> = (0..1300u32)
        .map(|i| {
            let text = rs("shop", &format!("app-{i:04}"), Some(("web", "uid-web")), 100 + i, i % 2, 1, "app");
            serde_saphyr::from_str(text.trim_end_matches("---\n")).unwrap()
        })
        .collect();
    s.seed(objects).unwrap();
    s.clear_requests();
    let out = ok(run(&s, &["-n", "shop", "-l", "app=app", "-o", "name"]));
    assert_eq!(out.lines().count(), 650);
    let pages = s.requests().iter().filter(|r| r.path.ends_with("/replicasets")).count();
    assert_eq!(pages, 3, "1300 ReplicaSets in pages of 500");
}

fn assert_one_line_error(o: &Output, expected: &str) {
    assert_eq!(o.status.code(), Some(1), "stdout: {} stderr: {}", stdout(o), stderr(o));
    let err = stderr(o);
    let first = err.lines().next().unwrap_or("");
    assert!(first.starts_with("error: "), "{err}");
    assert!(first.contains(expected), "expected {expected:?} in {err}");
    assert!(err.lines().count() <= 2, "one line and at most a hint: {err}");
    assert!(!err.contains("panicked") && !err.contains("Error {"), "{err}");
}

#[test]
fn bad_inputs_are_one_line_errors_and_delete_nothing() {
    let s = server();
    let cases: &[(&[&str], &str)] = &[
        (&["-n", "shop", "-l", "app in (", "--delete", "--yes"], "unable to parse requirement"),
        (&["-n", "shop", "--older-than", "7 days", "--delete", "--yes"], r#"--older-than: invalid duration "7 days""#),
        (&["-n", "shop", "--keep", "-1", "--delete", "--yes"], "invalid --keep -1: must be 0 or more"),
        (&["-n", "shop", "-o", "table"], "invalid value 'table' for '--output <FORMAT>'"),
        (&["-n", "shop", "--bogus"], "unknown flag: --bogus"),
    ];
    for (args, expected) in cases {
        assert_one_line_error(&run(&s, args), expected);
    }
    assert!(s.requests().iter().all(|r| r.method != "DELETE"));
    assert!(exists(&s, "shop", "web-1"));
}

#[test]
fn invalid_output_lists_the_valid_values() {
    let s = server();
    let o = run(&s, &["-o", "table"]);
    assert!(stderr(&o).contains("valid values: wide, json, yaml, name"), "{}", stderr(&o));
}

#[test]
fn forbidden_cluster_wide_list_names_the_permission_and_suggests_n() {
    let s = server();
    let o = run(&s, &["--context", "alice", "-A"]);
    assert_one_line_error(
        &o,
        r#"User "alice" cannot list resource "replicasets" in API group "apps" at the cluster scope"#,
    );
    assert!(stderr(&o).lines().nth(1).unwrap_or("").contains("-n NAMESPACE"), "{}", stderr(&o));
}

#[test]
fn unreachable_server_fails_within_the_request_timeout() {
    let s = server();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = run(&s, &["--server", &format!("https://127.0.0.1:{port}"), "--request-timeout", "5s"]);
    assert_one_line_error(&o, &format!("the connection to the server https://127.0.0.1:{port} was refused"));
}

#[test]
fn a_server_that_never_answers_fails_at_the_request_timeout() {
    let s = server();
    // Accepts TCP connections (the kernel completes the handshake) but never speaks TLS.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut child = Command::new(BIN);
    testing::configure(&mut child, &s);
    let mut child = child
        .args(["--server", &format!("https://127.0.0.1:{port}"), "--request-timeout", "1s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A safety net so a regression cannot hang the suite; not a timing assertion.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "still waiting on a silent server after 60s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert_one_line_error(&o, &format!("the server https://127.0.0.1:{port} did not answer in time"));
    drop(silent);
}

#[test]
fn untrusted_certificate_is_named() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    // A kubeconfig that trusts another CA than the server's.
    let other = FakeServer::start().unwrap();
    let kubeconfig = std::fs::read_to_string(s.kubeconfig()).unwrap();
    let other_ca = std::fs::read_to_string(other.kubeconfig()).unwrap();
    let ca = |k: &str| k.lines().find(|l| l.contains("certificate-authority-data")).unwrap().to_string();
    let path = dir.path().join("config");
    std::fs::write(&path, kubeconfig.replace(&ca(&kubeconfig), &ca(&other_ca))).unwrap();
    let o = run(&s, &["--kubeconfig", path.to_str().unwrap(), "-n", "shop"]);
    assert_one_line_error(&o, "certificate signed by unknown authority");
}

#[test]
fn missing_kubeconfig_and_unknown_context_are_named() {
    let s = server();
    assert_one_line_error(
        &run(&s, &["--kubeconfig", "/nonexistent/config"]),
        "kubeconfig /nonexistent/config: no such file or directory",
    );
    assert_one_line_error(&run(&s, &["--context", "nope"]), r#"context "nope" does not exist"#);
}

#[test]
fn runs_through_the_real_kubectl_plugin_dispatch() {
    let s = server();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut cmd = testing::kubectl(&s);
    testing::prepend_path(&mut cmd, bin_dir);
    let via_kubectl = cmd.args(["show", "stale-replica-sets", "-n", "shop", "--no-headers"]).output().unwrap();
    assert_eq!(via_kubectl.status.code(), Some(0), "{}", stderr(&via_kubectl));
    assert_eq!(stdout(&via_kubectl), ok(run(&s, &["-n", "shop", "--no-headers"])));

    // kubectl execs the plugin: our exit code is what a script sees.
    let mut cmd = testing::kubectl(&s);
    testing::prepend_path(&mut cmd, bin_dir);
    let found = cmd.args(["show", "stale-replica-sets", "-n", "shop", "--exit-code"]).output().unwrap();
    assert_eq!(found.status.code(), Some(3));
}

#[test]
fn help_has_examples_and_exit_codes() {
    let o = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    assert!(help.contains("Examples:") && help.contains("Exit codes:") && help.contains("--older-than"), "{help}");
}
