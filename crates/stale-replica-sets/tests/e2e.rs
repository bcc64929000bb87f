//! End-to-end: the built binary (and the real kubectl dispatching to it) against apiserver-fake,
//! for what needs the fake: fault injection and hooks (a rollback between listing and deleting),
//! creation times in the past, request records. The behaviours both servers show alike are in
//! `backends.rs`, which runs each test on the fake and on a real kube-apiserver.

use apiserver_fake::{Cluster, FakeServer, Options, testing};
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-show-stale_replica_sets");

/// Who controls a seeded ReplicaSet.
#[derive(Clone, Copy)]
enum Owner<'a> {
    /// A Deployment: (name, uid).
    Deployment(&'a str, &'a str),
    /// An Argo Rollout (a custom resource, `argoproj.io`): (name, uid).
    Rollout(&'a str, &'a str),
    /// No controller.
    None,
}

use Owner::{Deployment as Dep, Rollout};

/// A ReplicaSet as the Deployment controller makes it: the revision annotation and the
/// `pod-template-hash` label on it and on its pod template. `created` is how long ago, in days;
/// `extra` adds labels (`"tier: old"`).
#[allow(clippy::too_many_arguments)]
fn rs_labelled(
    ns: &str,
    name: &str,
    owner: Owner,
    revision: u32,
    replicas: u32,
    days: u32,
    app: &str,
    extra: &str,
) -> String {
    let created = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days as i64);
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
    let extra = if extra.is_empty() { String::new() } else { format!(", {extra}") };
    let hash = format!("{app}{revision}hash");
    format!(
        "apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: {name}
  namespace: {ns}
  creationTimestamp: \"{created}\"
  labels: {{app: {app}, pod-template-hash: {hash}{extra}}}
  annotations: {{deployment.kubernetes.io/revision: \"{revision}\"}}
{owner}spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {app}, pod-template-hash: {hash}}}}}
  template:
    metadata: {{labels: {{app: {app}, pod-template-hash: {hash}}}}}
    spec:
      containers: [{{name: c, image: \"registry.example/{app}:v{revision}\"}}]
---
"
    )
}

fn rs(ns: &str, name: &str, owner: Owner, revision: u32, replicas: u32, days: u32, app: &str) -> String {
    rs_labelled(ns, name, owner, revision, replicas, days, app, "")
}

/// A Deployment its controller has caught up with (`status.observedGeneration` = generation),
/// whose pod template is that of its ReplicaSet at `revision` (less the hash label).
fn deployment(ns: &str, name: &str, uid: &str, revision: u32, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
  uid: {uid}
  generation: 1
  annotations: {{deployment.kubernetes.io/revision: \"{revision}\"}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers: [{{name: c, image: \"registry.example/{name}:v{revision}\"}}]
status: {{observedGeneration: 1}}
---
"
    )
}

fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n---\n")
}

/// shop: Deployment web at revision 4 (three old ReplicaSets at 0), Deployment api scaled to 0
/// (its current ReplicaSet api-2 is at 0 too), an orphan whose Deployment is gone, a bare
/// ReplicaSet at 0 with no owner, a busy one, two of an Argo Rollout scaled down on purpose, and
/// Deployment cart, deleted and recreated under the same name (new uid): cart-old-1 belonged to
/// its predecessor. blog: one old ReplicaSet, 10 days old. hist: Deployment hist at revision 5,
/// revisions 1-2 ten days old (`tier: old`), 3-4 a day old (`tier: new`).
fn seed() -> String {
    let mut y = String::new();
    for ns in ["shop", "blog", "hist", "empty"] {
        y += &namespace(ns);
    }
    y += &deployment("shop", "web", "uid-web", 4, 2);
    y += &deployment("shop", "api", "uid-api", 2, 0);
    y += &deployment("shop", "cart", "uid-cart-2", 1, 1);
    y += &deployment("blog", "blog", "uid-blog", 2, 1);
    y += &deployment("hist", "hist", "uid-hist", 5, 1);
    y += &rs("shop", "web-1", Dep("web", "uid-web"), 1, 0, 5, "web");
    y += &rs("shop", "web-2", Dep("web", "uid-web"), 2, 0, 5, "web");
    y += &rs("shop", "web-3", Dep("web", "uid-web"), 3, 0, 5, "web");
    y += &rs("shop", "web-4", Dep("web", "uid-web"), 4, 2, 5, "web");
    y += &rs("shop", "api-1", Dep("api", "uid-api"), 1, 0, 5, "api");
    y += &rs("shop", "api-2", Dep("api", "uid-api"), 2, 0, 5, "api");
    y += &rs("shop", "old-1", Dep("gone", "uid-gone"), 3, 0, 5, "gone");
    y += &rs("shop", "bare", Owner::None, 1, 0, 5, "bare");
    y += &rs("shop", "busy", Owner::None, 1, 3, 5, "busy");
    y += &rs("shop", "canary-1", Rollout("canary", "uid-canary"), 1, 0, 5, "canary");
    y += &rs("shop", "canary-2", Rollout("canary", "uid-canary"), 2, 0, 5, "canary");
    y += &rs("shop", "canary-3", Rollout("canary", "uid-canary"), 3, 1, 5, "canary");
    y += &rs("shop", "cart-old-1", Dep("cart", "uid-cart-1"), 1, 0, 5, "cart");
    y += &rs("shop", "cart-1", Dep("cart", "uid-cart-2"), 1, 1, 2, "cart");
    y += &rs("blog", "blog-1", Dep("blog", "uid-blog"), 1, 0, 10, "blog");
    y += &rs("blog", "blog-2", Dep("blog", "uid-blog"), 2, 1, 10, "blog");
    for (rev, days, tier) in [(1, 10, "old"), (2, 10, "old"), (3, 1, "new"), (4, 1, "new")] {
        let tier = format!("tier: {tier}");
        y += &rs_labelled("hist", &format!("hist-{rev}"), Dep("hist", "uid-hist"), rev, 0, days, "hist", &tier);
    }
    y += &rs("hist", "hist-5", Dep("hist", "uid-hist"), 5, 1, 1, "hist");
    y
}

/// What the Rollout-owned ReplicaSets make the plugin say on stderr in shop.
const SHOP_FOREIGN_NOTE: &str = "Left alone 2 ReplicaSet(s) with 0 replicas whose controller is not a Deployment (2 Rollout.argoproj.io); -o wide --include-foreign shows them.\n";

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
    let o = run(&s, &["-n", "shop"]);
    // Sorted by name, as the server lists them; api-2 (in use by api, scaled to 0), web-4 and
    // busy (replicas > 0) are not stale; canary-1 and canary-2 belong to an Argo Rollout.
    assert_eq!(
        stdout(&o),
        "NAME         DEPLOYMENT   REVISION   AGE\n\
         api-1        api          1          5d\n\
         bare         <none>       1          5d\n\
         cart-old-1   cart         1          5d\n\
         old-1        gone         3          5d\n\
         web-1        web          1          5d\n\
         web-2        web          2          5d\n\
         web-3        web          3          5d\n"
    );
    assert_eq!(stderr(&o), SHOP_FOREIGN_NOTE);
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
    assert_eq!(
        column(&format!("x\n{out}"), 0),
        ["blog", "hist", "hist", "hist", "hist", "shop", "shop", "shop", "shop", "shop", "shop", "shop"]
    );
    assert_eq!(
        column(&format!("x\n{out}"), 1),
        [
            "blog-1",
            "hist-1",
            "hist-2",
            "hist-3",
            "hist-4",
            "api-1",
            "bare",
            "cart-old-1",
            "old-1",
            "web-1",
            "web-2",
            "web-3"
        ]
    );
    let rs_lists: Vec<String> = s
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/replicasets"))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(rs_lists, ["/apis/apps/v1/replicasets"], "one cluster-wide list, not one per namespace");
}

#[test]
fn wide_output_adds_images_owner_status_and_controller() {
    let s = server();
    let out = ok(run(&s, &["-n", "shop", "-o", "wide"]));
    let header = out.lines().next().unwrap();
    assert_eq!(
        header.split_whitespace().collect::<Vec<_>>(),
        ["NAME", "DEPLOYMENT", "REVISION", "AGE", "IMAGES", "OWNER", "STATUS", "CONTROLLER"]
    );
    let row = |name: &str| -> Vec<String> {
        let line = out.lines().find(|l| l.split_whitespace().next() == Some(name)).unwrap();
        line.split_whitespace().map(String::from).collect()
    };
    assert_eq!(row("old-1"), ["old-1", "gone", "3", "5d", "registry.example/gone:v3", "missing", "Deployment/gone"]);
    assert_eq!(row("web-1"), ["web-1", "web", "1", "5d", "registry.example/web:v1", "exists", "Deployment/web"]);
    assert_eq!(row("bare"), ["bare", "<none>", "1", "5d", "registry.example/bare:v1", "<none>", "<none>"]);
    assert!(!out.contains("canary"), "another controller's ReplicaSets are not listed: {out}");
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
    assert_eq!(column(&ok(run(&s, &["-A", "--older-than", "7d"])), 1), ["blog-1", "hist-1", "hist-2"]);
    assert_eq!(column(&ok(run(&s, &["-n", "shop", "-l", "app in (api,bare)"])), 0), ["api-1", "bare"]);
    assert_eq!(column(&ok(run(&s, &["-n", "shop", "--orphaned"])), 0), ["bare", "cart-old-1", "old-1"]);
}

#[test]
fn keep_leaves_the_newest_rollback_targets_of_each_deployment() {
    let s = server();
    // web keeps web-3 (newest stale), api keeps api-1; orphans (bare, old-1 whose Deployment is
    // gone, cart-old-1 whose Deployment was recreated) are no rollback target and are not kept back.
    assert_eq!(
        column(&ok(run(&s, &["-n", "shop", "--keep", "1"])), 0),
        ["bare", "cart-old-1", "old-1", "web-1", "web-2"]
    );
    assert_eq!(column(&ok(run(&s, &["-n", "shop", "--keep", "2"])), 0), ["bare", "cart-old-1", "old-1", "web-1"]);
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
    // Only the ReplicaSet in use is shown (api-1 is kept back): nothing stale was found.
    let in_use_only =
        run(&s, &["-n", "shop", "--deployment", "api", "--keep", "1", "--include-current", "--exit-code"]);
    assert_eq!(column(&stdout(&in_use_only), 0), ["api-2"]);
    assert_eq!(in_use_only.status.code(), Some(0));
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
    for gone in ["web-1", "web-2", "web-3", "api-1", "old-1", "bare", "cart-old-1"] {
        assert!(!exists(&s, "shop", gone), "{gone} should be deleted");
    }
    for kept in ["web-4", "busy", "api-2", "cart-1", "canary-1", "canary-2", "canary-3"] {
        assert!(exists(&s, "shop", kept), "{kept} must not be deleted");
    }
    assert!(stderr(&o).contains("api-2") && stderr(&o).contains("currently uses"), "{}", stderr(&o));
    assert!(stderr(&o).contains("7 deleted, 1 skipped, 0 failed"), "{}", stderr(&o));
    let deletes: Vec<_> = s.requests().into_iter().filter(|r| r.method == "DELETE").collect();
    assert_eq!(deletes.len(), 7);
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

/// What `kubectl rollout undo` does to a Deployment: its pod template becomes the target
/// ReplicaSet's (less the `pod-template-hash` label), and the server bumps its generation. The
/// Deployment controller has not acted yet; `observed` pretends it has at least observed the new
/// generation (without having renumbered or scaled the ReplicaSet yet).
fn roll_back(cluster: &Cluster, ns: &str, deployment: &str, to: &str, observed: bool) {
    let mut d = cluster.get("apps/v1", "deployments", Some(ns), deployment).unwrap();
    let rs = cluster.get("apps/v1", "replicasets", Some(ns), to).unwrap();
    let mut template = rs["spec"]["template"].clone();
    template["metadata"]["labels"].as_object_mut().unwrap().remove("pod-template-hash");
    d["spec"]["template"] = template;
    let generation = d["metadata"]["generation"].as_i64().unwrap() + 1;
    d["metadata"]["generation"] = generation.into();
    if observed {
        d["status"]["observedGeneration"] = generation.into();
    }
    cluster.seed([d]).unwrap();
}

#[test]
fn a_rollout_undo_between_listing_and_deleting_is_skipped() {
    let s = server();
    // The re-read of Deployment web right before deleting is the first GET of its path (the
    // listing GETs the collection): the undo lands after the listing, before the re-check.
    s.faults().on_request("GET", "/apis/apps/v1/namespaces/shop/deployments/web", |cluster| {
        roll_back(cluster, "shop", "web", "web-2", false)
    });
    let o = run(&s, &["-n", "shop", "--deployment", "web", "--delete", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // Until its controller acts on the undo, which of web's ReplicaSets it will use is open:
    // none of them is deleted.
    for name in ["web-1", "web-2", "web-3"] {
        assert!(exists(&s, "shop", name), "{name} must survive");
    }
    assert!(
        stderr(&o).contains(r#"skipped replicaset.apps "web-2" in namespace "shop": Deployment "web" has a change its controller has not acted on yet (generation 2, observed 1)"#),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("0 deleted, 3 skipped, 0 failed"), "{}", stderr(&o));
    assert!(s.requests().iter().all(|r| r.method != "DELETE"));
}

#[test]
fn a_replicaset_the_deployment_uses_again_is_skipped_even_once_observed() {
    let s = server();
    s.faults().on_request("GET", "/apis/apps/v1/namespaces/shop/deployments/web", |cluster| {
        roll_back(cluster, "shop", "web", "web-2", true)
    });
    let o = run(&s, &["-n", "shop", "--deployment", "web", "--delete", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // web-2's template is web's again (hash label aside): it is the one web uses.
    assert!(exists(&s, "shop", "web-2"), "the rollback target must survive");
    assert!(!exists(&s, "shop", "web-1") && !exists(&s, "shop", "web-3"));
    assert!(
        stderr(&o).contains(r#"skipped replicaset.apps "web-2" in namespace "shop": Deployment "web" uses it again"#),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("2 deleted, 1 skipped, 0 failed"), "{}", stderr(&o));
}

#[test]
fn a_rollback_after_the_recheck_is_the_window_the_readme_names() {
    let s = server();
    // The undo lands after web was re-read, right before the first DELETE (web-1's, with one
    // deletion in flight at a time) and the controller has not touched web-2 yet: its
    // resourceVersion is unchanged, so nothing refuses that DELETE. The README says so.
    s.faults().on_request("DELETE", "/apis/apps/v1/namespaces/shop/replicasets/", |cluster| {
        roll_back(cluster, "shop", "web", "web-2", false)
    });
    let o = run(&s, &["-n", "shop", "--deployment", "web", "--delete", "--yes", "--concurrency", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!exists(&s, "shop", "web-2"), "the documented window: not caught");
    assert!(stderr(&o).contains("3 deleted, 0 skipped, 0 failed"), "{}", stderr(&o));
}

#[test]
fn a_rollout_owned_replicaset_survives_delete_yes_and_orphaned_delete_yes() {
    let s = server();
    let o = run(&s, &["-n", "shop", "--orphaned", "--delete", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for gone in ["bare", "old-1", "cart-old-1"] {
        assert!(!exists(&s, "shop", gone), "{gone} has no live controller and should be deleted");
    }
    assert!(exists(&s, "shop", "canary-1") && exists(&s, "shop", "canary-2"));
    assert!(stderr(&o).starts_with(SHOP_FOREIGN_NOTE), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 deleted, 0 skipped, 0 failed"), "{}", stderr(&o));

    let o = run(&s, &["-n", "shop", "--delete", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(exists(&s, "shop", "canary-1") && exists(&s, "shop", "canary-2"));
    assert!(stderr(&o).starts_with(SHOP_FOREIGN_NOTE), "{}", stderr(&o));
    assert!(
        s.requests().iter().all(|r| !(r.method == "DELETE" && r.path.contains("canary"))),
        "no DELETE is ever sent for them"
    );
}

#[test]
fn include_current_json_marks_the_replicaset_in_use_with_an_annotation() {
    let s = server();
    let in_use =
        |item: &serde_json::Value| item["metadata"]["annotations"]["kubeplug.io/in-use"].as_str() == Some("true");
    let list: serde_json::Value =
        serde_json::from_str(&ok(run(&s, &["-n", "shop", "--deployment", "api", "--include-current", "-o", "json"])))
            .unwrap();
    let marks: Vec<(&str, bool)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["metadata"]["name"].as_str().unwrap(), in_use(i)))
        .collect();
    assert_eq!(marks, [("api-1", false), ("api-2", true)]);
    // The server's object is not touched; the other annotations are kept.
    let api2 = s.get("apps/v1", "replicasets", Some("shop"), "api-2").unwrap();
    assert!(api2["metadata"]["annotations"].get("kubeplug.io/in-use").is_none());
    assert_eq!(list["items"][1]["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2");

    let yaml = ok(run(&s, &["-n", "shop", "--deployment", "api", "--include-current", "-o", "yaml"]));
    assert_eq!(
        yaml.matches("kubeplug.io/in-use: 'true'").count() + yaml.matches("kubeplug.io/in-use: \"true\"").count(),
        1,
        "{yaml}"
    );

    // Without --include-current, no ReplicaSet in use and no mark.
    let plain = ok(run(&s, &["-n", "shop", "-o", "json"]));
    assert!(!plain.contains("kubeplug.io/in-use") && !plain.contains("\"api-2\""), "{plain}");
}

#[test]
fn keep_sets_aside_rollback_targets_before_older_than_and_selectors_narrow() {
    let s = server();
    // hist: stale revisions 1-2 are 10 days old (tier old), 3-4 a day old (tier new); 5 in use.
    // --keep 2 sets aside 3 and 4 first; --older-than then leaves 1 and 2.
    assert_eq!(column(&ok(run(&s, &["-n", "hist", "--keep", "2", "--older-than", "7d"])), 0), ["hist-1", "hist-2"]);
    assert_eq!(column(&ok(run(&s, &["-n", "hist", "--keep", "3", "--older-than", "7d"])), 0), ["hist-1"]);
    // The same with a selector: --keep counts all of hist's stale ReplicaSets, not only those -l picks.
    assert_eq!(column(&ok(run(&s, &["-n", "hist", "--keep", "1", "-l", "tier=old"])), 0), ["hist-1", "hist-2"]);
    let none = run(&s, &["-n", "hist", "--keep", "2", "-l", "tier=new", "--delete", "--yes"]);
    assert_eq!(none.status.code(), Some(0), "{}", stderr(&none));
    assert_eq!(stderr(&none), "No resources found in hist namespace.\n");
    assert!(exists(&s, "hist", "hist-3") && exists(&s, "hist", "hist-4"));
    assert!(s.requests().iter().all(|r| r.method != "DELETE"));
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
            let text = rs("shop", &format!("app-{i:04}"), Dep("web", "uid-web"), 100 + i, i % 2, 1, "app");
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
        (&["-n", "shop", "--keep", "two", "--delete", "--yes"], "invalid value 'two' for '--keep <N>'"),
        (&["-n", "shop", "--include-foreign"], "--include-foreign needs -o wide"),
        (&["-n", "shop", "--include-foreign", "-o", "name"], "--include-foreign needs -o wide"),
        (&["-n", "shop", "--include-foreign", "--delete", "--yes"], "--include-foreign cannot be used with --delete"),
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
