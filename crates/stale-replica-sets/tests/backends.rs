//! End-to-end on both backends (apiserver-fake and a real kube-apiserver, see kubeplug-testenv):
//! ownership, in-use marks, `--keep` and empty results, with objects made through the API the way
//! a user makes them. Neither backend runs a garbage collector or a Deployment controller here,
//! so owner references to objects that do not exist stay as written, and each Deployment's
//! status is set through its status subresource, as its controller would.
//!
//! Listing, filters, output formats, deleting and errors on both backends are in `e2e.rs`; so are
//! the fake-only tests that act between the listing and the deletion with the fake's hooks.

mod common;

use common::*;
use kubeplug_testenv::{Env, backend_tests, rows};

backend_tests! {
    /// Another controller's zero-replica ReplicaSets are not stale, not orphans; stderr counts them.
    fn other_controllers_replicasets_are_left_alone_and_counted(env) {
        let ns = shop(env);
        let o = run(env, &["-n", &ns]);
        assert_eq!(names(&stdout(&o)), ["api-1", "bare", "cart-old-1", "web-1", "web-2"]);
        assert_eq!(stderr(&o), FOREIGN_NOTE);
        let o = run(env, &["-n", &ns, "--orphaned"]);
        assert_eq!(names(&stdout(&o)), ["bare", "cart-old-1"]);
        assert_eq!(stderr(&o), FOREIGN_NOTE);

        let o = run(env, &["-n", &ns, "-o", "wide", "--include-foreign"]);
        assert_eq!(stderr(&o), "", "shown, so not counted as left alone");
        let canaries: Vec<Vec<String>> = rows(&stdout(&o))
            .into_iter()
            .filter(|r| r[0].starts_with("canary"))
            .map(|mut r| { r.remove(3); r }) // AGE
            .collect();
        assert_eq!(
            canaries,
            [
                ["canary-1", "<none>", "1", "registry.example/canary:v1", "foreign", "Rollout.argoproj.io/canary"],
                ["canary-2", "<none>", "2", "registry.example/canary:v2", "foreign", "Rollout.argoproj.io/canary"],
            ]
        );
    }

    /// `--delete --yes` and `--orphaned --delete --yes` never touch a Rollout's ReplicaSets.
    fn a_rollout_owned_replicaset_survives_delete_yes_and_orphaned_delete_yes(env) {
        let ns = shop(env);
        let o = run(env, &["-n", &ns, "--orphaned", "--delete", "--yes"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(!exists(env, &ns, "bare") && !exists(env, &ns, "cart-old-1"));
        assert!(exists(env, &ns, "canary-1") && exists(env, &ns, "canary-2"));
        assert!(stderr(&o).starts_with(FOREIGN_NOTE), "{}", stderr(&o));
        assert!(stderr(&o).contains("2 deleted, 0 skipped, 0 failed"), "{}", stderr(&o));

        let o = run(env, &["-n", &ns, "--delete", "--yes"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).contains("3 deleted, 0 skipped, 0 failed"), "{}", stderr(&o));
        for gone in ["web-1", "web-2", "api-1"] {
            assert!(!exists(env, &ns, gone), "{gone} should be deleted");
        }
        for kept in ["canary-1", "canary-2", "web-3", "api-2", "cart-1"] {
            assert!(exists(env, &ns, kept), "{kept} must not be deleted");
        }
    }

    /// Owners are matched by uid: the recreated Deployment cart does not own cart-old-1.
    fn a_recreated_deployments_predecessor_replicaset_is_an_orphan(env) {
        let ns = shop(env);
        let out = ok(run(env, &["-n", &ns, "--deployment", "cart", "-o", "wide"]));
        let mut row = rows(&out).remove(0);
        row.remove(3); // AGE
        assert_eq!(row, ["cart-old-1", "cart", "1", "registry.example/cart:v1", "missing", "Deployment/cart"]);
        // Revision 1 is the live cart's revision too, but of another Deployment: not in use.
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--deployment", "cart", "--include-current"]))), ["cart-old-1"]);
    }

    /// `-o name` never carries a ReplicaSet in use; `-o json` marks it with an annotation.
    fn include_current_never_reaches_name_output_and_is_marked_in_json(env) {
        let ns = shop(env);
        let o = run(env, &["-n", &ns, "--include-current", "-o", "name"]);
        assert_eq!(
            ok(o),
            "replicaset.apps/api-1\nreplicaset.apps/bare\nreplicaset.apps/cart-old-1\nreplicaset.apps/web-1\nreplicaset.apps/web-2\n"
        );
        let json = ok(run(env, &["-n", &ns, "--deployment", "api", "--include-current", "-o", "json"]));
        let list: serde_json::Value = serde_json::from_str(&json).unwrap();
        let marks: Vec<(&str, Option<&str>)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["metadata"]["name"].as_str().unwrap(), i["metadata"]["annotations"]["kubeplug.io/in-use"].as_str()))
            .collect();
        assert_eq!(marks, [("api-1", None), ("api-2", Some("true"))]);
        let on_server = env.get("replicasets", Some(&ns), "api-2").unwrap();
        assert!(on_server["metadata"]["annotations"].get("kubeplug.io/in-use").is_none(), "only in the output");
        assert_eq!(list["items"][1]["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "2", "others kept");

        let yaml = ok(run(env, &["-n", &ns, "--deployment", "api", "--include-current", "-o", "yaml"]));
        let marked = yaml.matches("kubeplug.io/in-use: 'true'").count() + yaml.matches("kubeplug.io/in-use: \"true\"").count();
        assert_eq!(marked, 1, "{yaml}");
        // Without --include-current, no ReplicaSet in use and no mark.
        let plain = ok(run(env, &["-n", &ns, "-o", "json"]));
        assert!(!plain.contains("kubeplug.io/in-use") && !plain.contains("\"api-2\""), "{plain}");
    }

    /// `--keep` counts every stale ReplicaSet of a Deployment before `-l` narrows the list.
    fn keep_sets_aside_rollback_targets_before_a_selector_narrows(env) {
        let ns = env.namespace("hist");
        let hist = deployment(env, &ns, "hist", 5, 1);
        for (rev, tier) in [(1, "old"), (2, "old"), (3, "new"), (4, "new")] {
            replicaset(env, &ns, &format!("hist-{rev}"), Owner::Deployment("hist", &hist), rev, 0, "hist", &format!("tier: {tier}"));
        }
        replicaset(env, &ns, "hist-5", Owner::Deployment("hist", &hist), 5, 1, "hist", "tier: new");
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--keep", "1", "-l", "tier=old"]))), ["hist-1", "hist-2"]);
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--keep", "3", "-l", "tier=old"]))), ["hist-1"]);
        let none = run(env, &["-n", &ns, "--keep", "2", "-l", "tier=new", "--delete", "--yes"]);
        assert_eq!(none.status.code(), Some(0), "{}", stderr(&none));
        assert_eq!(stderr(&none), format!("No resources found in {ns} namespace.\n"));
        assert!(exists(env, &ns, "hist-3") && exists(env, &ns, "hist-4"));
    }

    /// Nothing found: exactly what `kubectl get rs` prints for an empty namespace, on the same streams.
    fn empty_results_look_like_kubectl_get_on_an_empty_namespace(env) {
        let ns = env.namespace("empty");
        for format in [None, Some("wide"), Some("name"), Some("json"), Some("yaml")] {
            let mut args = vec!["-n", ns.as_str()];
            let mut kubectl = env.kubectl();
            kubectl.args(["get", "rs", "-n", &ns]);
            if let Some(f) = format {
                args.extend(["-o", f]);
                kubectl.args(["-o", f]);
            }
            let ours = run(env, &args);
            let theirs = kubectl.output().unwrap();
            assert_eq!(theirs.status.code(), Some(0), "kubectl: {}", stderr(&theirs));
            assert_eq!(ours.status.code(), Some(0), "{format:?}: {}", stderr(&ours));
            assert_eq!(stdout(&ours), stdout(&theirs), "stdout for -o {format:?}");
            assert_eq!(stderr(&ours), stderr(&theirs), "stderr for -o {format:?}");
        }
        let parsed: serde_json::Value = serde_json::from_str(&ok(run(env, &["-n", &ns, "-o", "json"]))).unwrap();
        assert_eq!(parsed, serde_json::json!({"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}));
    }
}

/// The ReplicaSets of `ns` as (name, first image, revision, replicas), polled until `done` holds
/// (the controller works asynchronously; the deadline is a safety net, not a timing assertion).
fn replicasets_when(
    env: &Env,
    ns: &str,
    done: impl Fn(&[(String, String, String, i64)]) -> bool,
) -> Vec<(String, String, String, i64)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let out = env.kubectl().args(["get", "rs", "-n", ns, "-o", "json"]).output().unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let now: Vec<(String, String, String, i64)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rs| {
                (
                    rs["metadata"]["name"].as_str().unwrap().to_string(),
                    rs["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap().to_string(),
                    rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    rs["spec"]["replicas"].as_i64().unwrap_or(1),
                )
            })
            .collect();
        if done(&now) {
            return now;
        }
        assert!(std::time::Instant::now() < deadline, "the controller did not get there: {now:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

kubeplug_testenv::real_server_tests! {
    /// With the real Deployment controller: right after `kubectl rollout undo`, whether the
    /// controller has acted on it yet or not, the rollback target is not deleted.
    fn a_rollback_target_survives_a_delete_right_after_rollout_undo(env) {
        // Not env.namespace: the controller manager makes the default ServiceAccount itself, and
        // creating it too would race it.
        let ns = env.name("undo");
        env.create(&format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"));
        env.create(&format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  replicas: 0
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: c, image: \"registry.example/web:v1\"}}]}}
"
        ));
        for (v, count) in [(2, 2), (3, 3)] {
            replicasets_when(env, &ns, |rs| rs.len() == count - 1);
            let image = format!("c=registry.example/web:v{v}");
            let out = env.kubectl().args(["set", "image", "deployment/web", &image, "-n", &ns]).output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let before = replicasets_when(env, &ns, |rs| rs.len() == 3 && rs.iter().any(|r| r.2 == "3"));
        let target = before.iter().find(|r| r.1 == "registry.example/web:v1").unwrap().0.clone();

        let out = env.kubectl().args(["rollout", "undo", "deployment/web", "--to-revision=1", "-n", &ns]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let o = run(env, &["-n", &ns, "--delete", "--yes"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(exists(env, &ns, &target), "the rollback target {target} was deleted: {}", stderr(&o));

        // Once the controller has renumbered it, it is the one in use, and v2 is stale.
        replicasets_when(env, &ns, |rs| rs.iter().any(|r| r.0 == target && r.2 == "4"));
        let listed = names(&ok(run(env, &["-n", &ns, "--include-current"])));
        assert!(listed.contains(&target), "{listed:?}");
        let o = run(env, &["-n", &ns, "--include-current", "-o", "name"]);
        assert!(!stdout(&o).contains(&target), "{}", stdout(&o));
    }
}
