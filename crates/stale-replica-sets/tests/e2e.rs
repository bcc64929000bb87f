//! End-to-end: the built binary (and the real kubectl dispatching to it), each test body run on
//! apiserver-fake and on a real kube-apiserver (kubeplug-testenv), with objects made through the
//! API in namespaces of the test's own. Ages are real: the server sets creationTimestamp, so old
//! ReplicaSets are made old by waiting. `backends.rs` holds the tests of ownership and in-use
//! marks on the same fixtures.
//!
//! At the end, in `fake_only`, what only the fake can do: hooks that change objects between the
//! listing and the deletion, throttling and server errors, request records.

mod common;

use apiserver_fake::testing;
use common::*;
use kubeplug_testenv::{Backend, Env, backend_tests, rows};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// [`shop`] and two more: old-1, whose Deployment gone is gone, and busy, bare with 3 replicas.
fn shop_plus(env: &Env) -> String {
    let ns = shop(env);
    env.create(&format!(
        "{}{}",
        replicaset_yaml(
            &ns,
            "old-1",
            Owner::Deployment("gone", "7a4e0c2b-91d3-4f6a-b8e5-0d2c4f6a8b13"),
            3,
            0,
            "gone",
            ""
        ),
        replicaset_yaml(&ns, "busy", Owner::None, 1, 3, "busy", "")
    ));
    ns
}

/// Namespace blog: Deployment blog at revision 2, blog-1 stale, blog-2 in use.
fn blog(env: &Env) -> String {
    let ns = env.namespace("blog");
    let uid = deployment(env, &ns, "blog", 2, 1);
    env.create(&format!(
        "{}{}",
        replicaset_yaml(&ns, "blog-1", Owner::Deployment("blog", &uid), 1, 0, "blog", ""),
        replicaset_yaml(&ns, "blog-2", Owner::Deployment("blog", &uid), 2, 1, "blog", "")
    ));
    ns
}

/// How long [`hist_aged`] waits between its old and its new ReplicaSets, and the `--older-than`
/// that tells them apart: creationTimestamp has whole seconds (an age may read up to 1s more), and
/// the new ones must still be younger than it when the plugin lists.
const AGED_WAIT: std::time::Duration = std::time::Duration::from_secs(4);
const OLDER_THAN: &str = "3s";

/// Namespace hist: Deployment hist at revision 5; stale hist-1 and hist-2 (`tier: old`) made
/// [`AGED_WAIT`] before stale hist-3 and hist-4 (`tier: new`) and hist-5 (in use). Run the plugin
/// right after.
fn hist_aged(env: &Env) -> String {
    let ns = env.namespace("hist");
    let uid = deployment(env, &ns, "hist", 5, 1);
    let rs = |rev: u32, replicas: u32, tier: &str| {
        replicaset_yaml(
            &ns,
            &format!("hist-{rev}"),
            Owner::Deployment("hist", &uid),
            rev,
            replicas,
            "hist",
            &format!("tier: {tier}"),
        )
    };
    env.create(&(rs(1, 0, "old") + &rs(2, 0, "old")));
    std::thread::sleep(AGED_WAIT);
    env.create(&(rs(3, 0, "new") + &rs(4, 0, "new") + &rs(5, 1, "new")));
    ns
}

/// A copy of the test's kubeconfig in `dir`, changed by `kubectl config <args>`.
fn kubeconfig_copy(env: &Env, dir: &Path, args: &[&str]) -> PathBuf {
    let path = dir.join("config");
    std::fs::copy(env.kubeconfig(), &path).unwrap();
    let out = env.kubectl().env("KUBECONFIG", &path).arg("config").args(args).output().unwrap();
    assert!(out.status.success(), "kubectl config {args:?}: {}", stderr(&out));
    path
}

/// `kubectl get rs -n ns --no-headers`: each row's AGE by name.
fn kubectl_ages(env: &Env, ns: &str) -> std::collections::HashMap<String, String> {
    let out = env.kubectl().args(["get", "rs", "-n", ns]).output().unwrap();
    rows(&ok(out)).into_iter().map(|r| (r[0].clone(), r.last().unwrap().clone())).collect()
}

fn kubectl_ok(env: &Env, args: &[&str]) -> String {
    ok(env.kubectl().args(args).output().unwrap())
}

/// Runs the plugin with `args` and checks its table: `header`, then one row per `prefix` (every
/// column before AGE, as printed), each ending in the AGE kubectl prints for that ReplicaSet of
/// `ns` just before or just after (a second may tick in between). Returns stderr.
fn assert_table(env: &Env, ns: &str, args: &[&str], header: &str, prefixes: &[String]) -> String {
    let before = kubectl_ages(env, ns);
    let o = run(env, args);
    let after = kubectl_ages(env, ns);
    let out = ok_ref(&o);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(header), "{out}");
    let rest: Vec<&str> = lines.collect();
    assert_eq!(rest.len(), prefixes.len(), "{out}");
    for (line, prefix) in rest.iter().zip(prefixes) {
        let name = prefix.split_whitespace().next().unwrap();
        let age = line.strip_prefix(prefix.as_str()).unwrap_or_else(|| panic!("{line:?} should start with {prefix:?}"));
        let within = match (seconds(&before[name]), seconds(age), seconds(&after[name])) {
            (Some(b), Some(a), Some(c)) => b <= a && a <= c,
            _ => age == before[name] || age == after[name],
        };
        assert!(within, "{name}: AGE {age:?} where kubectl said {:?} then {:?}", before[name], after[name]);
    }
    stderr(&o)
}

/// kubectl's short ages under an hour (`7s`, `2m5s`, `12m`) in seconds.
fn seconds(age: &str) -> Option<u64> {
    let (m, s) = match age.split_once('m') {
        Some((m, rest)) => {
            (m.parse::<u64>().ok()?, if rest.is_empty() { 0 } else { rest.strip_suffix('s')?.parse().ok()? })
        }
        None => (0, age.strip_suffix('s')?.parse().ok()?),
    };
    Some(m * 60 + s)
}

fn ok_ref(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(0), "stderr: {}", stderr(o));
    stdout(o)
}

backend_tests! {
    /// The table of a namespace: kubectl's layout, sorted by name as the server lists, AGE as kubectl shows it.
    fn lists_stale_replicasets_of_the_namespace_like_kubectl_get(env) {
        let ns = shop_plus(env);
        // api-2 (in use by api, scaled to 0), web-3, cart-1 and busy (replicas > 0) are not
        // stale; canary-1 and canary-2 belong to an Argo Rollout.
        let rows: Vec<String> = [
            ("api-1", "api", "1"),
            ("bare", "<none>", "1"),
            ("cart-old-1", "cart", "1"),
            ("old-1", "gone", "3"),
            ("web-1", "web", "1"),
            ("web-2", "web", "2"),
        ]
        .iter()
        .map(|(name, deployment, revision)| format!("{name:<13}{deployment:<13}{revision:<11}"))
        .collect();
        let err = assert_table(env, &ns, &["-n", &ns], "NAME         DEPLOYMENT   REVISION   AGE", &rows);
        assert_eq!(err, FOREIGN_NOTE);
    }

    /// Without -n, the namespace of the kubeconfig's current context, as kubectl.
    fn the_contexts_namespace_is_the_default(env) {
        let ns = blog(env);
        let empty = env.namespace("empty");
        let dir = tempfile::tempdir().unwrap();
        let config = kubeconfig_copy(env, dir.path(), &["set-context", "--current", "--namespace", &ns]);
        assert_eq!(names(&ok(env.command(BIN).env("KUBECONFIG", &config).output().unwrap())), ["blog-1"]);

        let config = kubeconfig_copy(env, dir.path(), &["set-context", "--current", "--namespace", &empty]);
        let ours = env.command(BIN).env("KUBECONFIG", &config).output().unwrap();
        let theirs = env.kubectl().env("KUBECONFIG", &config).args(["get", "rs"]).output().unwrap();
        assert_eq!(ours.status.code(), Some(0), "{}", stderr(&ours));
        assert_eq!(stdout(&ours), "");
        assert_eq!(stderr(&ours), format!("No resources found in {empty} namespace.\n"));
        assert_eq!(stderr(&ours), stderr(&theirs), "as kubectl says it");
    }

    /// -A: a NAMESPACE column first, rows sorted by namespace then name.
    fn all_namespaces_adds_the_namespace_column(env) {
        let shop = shop_plus(env);
        let blog = blog(env);
        if let Some(fake) = env.fake() {
            fake.clear_requests(); // fake-only: request records
        }
        let out = ok(run(env, &["-A"]));
        let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header, ["NAMESPACE", "NAME", "DEPLOYMENT", "REVISION", "AGE"]);
        let own: Vec<(String, String)> = rows(&out)
            .into_iter()
            .filter(|r| r[0] == shop || r[0] == blog)
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
        let expected: Vec<(String, String)> = [(&blog, "blog-1")]
            .into_iter()
            .chain(["api-1", "bare", "cart-old-1", "old-1", "web-1", "web-2"].map(|n| (&shop, n)))
            .map(|(ns, n)| (ns.clone(), n.to_string()))
            .collect();
        assert_eq!(own, expected);
        if let Some(fake) = env.fake() {
            // Fake-only: the request records show one cluster-wide list, not one per namespace.
            let lists: Vec<String> = fake
                .requests()
                .iter()
                .filter(|r| r.method == "GET" && r.path.ends_with("/replicasets"))
                .map(|r| r.path.clone())
                .collect();
            assert_eq!(lists, ["/apis/apps/v1/replicasets"]);
        }
    }

    /// -o wide: images, owner status (exists/missing) and the controller.
    fn wide_output_adds_images_owner_status_and_controller(env) {
        let ns = shop_plus(env);
        let out = ok(run(env, &["-n", &ns, "-o", "wide"]));
        let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header, ["NAME", "DEPLOYMENT", "REVISION", "AGE", "IMAGES", "OWNER", "STATUS", "CONTROLLER"]);
        let table = rows(&out);
        let row = |name: &str| -> Vec<String> {
            let mut r = table.iter().find(|r| r[0] == name).unwrap_or_else(|| panic!("no {name}: {out}")).clone();
            r.remove(3); // AGE
            r
        };
        assert_eq!(row("old-1"), ["old-1", "gone", "3", "registry.example/gone:v3", "missing", "Deployment/gone"]);
        assert_eq!(row("web-1"), ["web-1", "web", "1", "registry.example/web:v1", "exists", "Deployment/web"]);
        assert_eq!(row("bare"), ["bare", "<none>", "1", "registry.example/bare:v1", "<none>", "<none>"]);
        assert_eq!(names(&out), ["api-1", "bare", "cart-old-1", "old-1", "web-1", "web-2"], "no other controller's");
    }

    /// -o name prints what kubectl takes back.
    fn name_output_pipes_into_kubectl(env) {
        let ns = blog(env);
        let out = ok(run(env, &["-n", &ns, "-o", "name"]));
        assert_eq!(out, "replicaset.apps/blog-1\n");
        assert_eq!(kubectl_ok(env, &["get", "-n", &ns, "-o", "name", out.trim_end()]), out);
    }

    /// -o json: a List of the server's objects, as kubectl reads them.
    fn json_output_is_a_list_of_the_server_objects(env) {
        let ns = shop_plus(env);
        let list: serde_json::Value =
            serde_json::from_str(&ok(run(env, &["-n", &ns, "-o", "json", "--deployment", "web"]))).unwrap();
        assert_eq!((&list["apiVersion"], &list["kind"]), (&"v1".into(), &"List".into()));
        let items = list["items"].as_array().unwrap();
        let listed: Vec<&str> = items.iter().map(|i| i["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(listed, ["web-1", "web-2"]);
        // The objects as kubectl prints them: managedFields hidden unless asked for, as kubectl does.
        let theirs = kubectl_ok(env, &["get", "rs", "web-1", "web-2", "-n", &ns, "-o", "json"]);
        let theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
        assert_eq!(items, theirs["items"].as_array().unwrap());
        let ours = ok(run(env, &["-n", &ns, "-o", "json", "--deployment", "web", "--show-managed-fields"]));
        let ours: serde_json::Value = serde_json::from_str(&ours).unwrap();
        let theirs = kubectl_ok(env, &["get", "rs", "web-1", "web-2", "-n", &ns, "-o", "json", "--show-managed-fields"]);
        let theirs: serde_json::Value = serde_json::from_str(&theirs).unwrap();
        assert_eq!(ours["items"], theirs["items"]);
    }

    /// -o yaml: the same List, as kubectl prints a list of ReplicaSets.
    fn yaml_output_is_a_list_too(env) {
        let ns = blog(env);
        let ours = ok(run(env, &["-n", &ns, "-o", "yaml"]));
        assert!(ours.starts_with("apiVersion: v1\nitems:\n- apiVersion: apps/v1\n  kind: ReplicaSet\n"), "{ours}");
        assert!(ours.ends_with("\nkind: List\nmetadata:\n  resourceVersion: \"\"\n"), "{ours}");
        // The same document as kubectl's, managedFields hidden as kubectl hides them.
        let theirs = kubectl_ok(env, &["get", "rs", "-n", &ns, "-l", "pod-template-hash=blog1hash", "-o", "yaml"]);
        let parse = |y: &str| -> serde_json::Value { serde_saphyr::from_str(y).unwrap() };
        assert_eq!(parse(&ours), parse(&theirs));
        assert_eq!(parse(&ours)["items"][0]["metadata"]["name"], "blog-1");
    }

    /// --deployment, -l and --orphaned narrow the list.
    fn filters_select_by_deployment_selector_and_owner(env) {
        let ns = shop_plus(env);
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--deployment", "web"]))), ["web-1", "web-2"]);
        assert_eq!(names(&ok(run(env, &["-n", &ns, "-l", "app in (api,bare)"]))), ["api-1", "bare"]);
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--orphaned"]))), ["bare", "cart-old-1", "old-1"]);
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--deployment", "gone", "--orphaned"]))), ["old-1"]);
    }

    /// --older-than reads the server's creationTimestamp; --keep sets rollback targets aside first.
    fn older_than_narrows_by_age_after_keep(env) {
        let blog = blog(env); // made before the wait: old too
        let ns = hist_aged(env);
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--older-than", OLDER_THAN]))), ["hist-1", "hist-2"]);
        // --keep 3 sets aside hist-4, hist-3 and hist-2 before the age filter.
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--keep", "3", "--older-than", OLDER_THAN]))), ["hist-1"]);
        let out = ok(run(env, &["-A", "--older-than", OLDER_THAN]));
        let own: Vec<(String, String)> = rows(&out)
            .into_iter()
            .filter(|r| r[0] == blog || r[0] == ns)
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
        let expected = [(blog.clone(), "blog-1"), (ns.clone(), "hist-1"), (ns.clone(), "hist-2")].map(|(n, r)| (n, r.to_string()));
        assert_eq!(own, expected);
        // The young ones are stale too: only their age kept them out.
        assert_eq!(names(&ok(run(env, &["-n", &ns]))), ["hist-1", "hist-2", "hist-3", "hist-4"]);
    }

    /// --keep N leaves each Deployment's N newest stale ReplicaSets; orphans are never kept.
    fn keep_leaves_the_newest_rollback_targets_of_each_deployment(env) {
        let ns = shop_plus(env);
        // web keeps web-2 (its newest stale), api keeps api-1.
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--keep", "1"]))), ["bare", "cart-old-1", "old-1", "web-1"]);
        assert_eq!(names(&ok(run(env, &["-n", &ns, "--keep", "2"]))), ["bare", "cart-old-1", "old-1"]);
    }

    /// --include-current shows the ReplicaSet in use of a Deployment scaled to 0, marked.
    fn include_current_shows_the_replicaset_in_use_marked(env) {
        let ns = shop_plus(env);
        let rows = ["api-1   api          1             ", "api-2   api          2 (current)   "].map(String::from);
        let args = ["-n", &ns, "--deployment", "api", "--include-current"];
        assert_table(env, &ns, &args, "NAME    DEPLOYMENT   REVISION      AGE", &rows);
    }

    /// --exit-code: 3 when stale ReplicaSets are found, 0 when none (the one in use does not count).
    fn exit_code_flag_makes_found_a_distinct_code(env) {
        let ns = shop_plus(env);
        let empty = env.namespace("empty");
        assert_eq!(run(env, &["-n", &ns, "--exit-code"]).status.code(), Some(3));
        // Only the ReplicaSet in use is shown (api-1 is kept back): nothing stale was found.
        let in_use_only = run(env, &["-n", &ns, "--deployment", "api", "--keep", "1", "--include-current", "--exit-code"]);
        assert_eq!(names(&stdout(&in_use_only)), ["api-2"]);
        assert_eq!(in_use_only.status.code(), Some(0));
        let none = run(env, &["-n", &empty, "--exit-code"]);
        assert_eq!(none.status.code(), Some(0));
        assert_eq!(stderr(&none), format!("No resources found in {empty} namespace.\n"));
        assert_eq!(run(env, &["-n", &ns]).status.code(), Some(0), "without --exit-code, found is success");
    }

    /// --delete without --yes (not on a terminal) previews and changes nothing.
    fn delete_without_yes_is_a_preview_that_changes_nothing(env) {
        let ns = shop_plus(env);
        let versions = ["get", "rs", "-n", &ns, "-o", "jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}"];
        let before = kubectl_ok(env, &versions);
        let o = run(env, &["-n", &ns, "--deployment", "web", "--delete"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        for name in ["web-1", "web-2"] {
            let line = format!("replicaset.apps \"{name}\" in namespace \"{ns}\" deleted (dry run)");
            assert!(stdout(&o).contains(&line), "{}", stdout(&o));
        }
        assert!(stderr(&o).contains("nothing was changed"), "{}", stderr(&o));
        assert_eq!(kubectl_ok(env, &versions), before, "every ReplicaSet as it was");
    }

    /// --delete --yes deletes the stale ones and never the one in use, even with --include-current.
    fn delete_with_yes_deletes_and_never_the_current_replicaset(env) {
        let ns = shop_plus(env);
        let o = run(env, &["-n", &ns, "--delete", "--yes", "--include-current"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        for gone in ["web-1", "web-2", "api-1", "old-1", "bare", "cart-old-1"] {
            assert!(!exists(env, &ns, gone), "{gone} should be deleted");
        }
        for kept in ["web-3", "busy", "api-2", "cart-1", "canary-1", "canary-2"] {
            assert!(exists(env, &ns, kept), "{kept} must not be deleted");
        }
        let skipping = format!("replicaset.apps \"api-2\" in namespace \"{ns}\": it is the ReplicaSet its Deployment currently uses");
        assert!(stderr(&o).contains(&skipping), "{}", stderr(&o));
        assert!(stderr(&o).contains("6 deleted, 1 skipped, 0 failed"), "{}", stderr(&o));
    }

    /// Preconditions: a ReplicaSet scaled up while the confirmation prompt waits (on a terminal,
    /// made by `script`) is skipped by the server, not deleted.
    fn a_replicaset_scaled_up_at_the_prompt_is_skipped(env) {
        let ns = shop(env);
        let line = format!("{BIN} -n {ns} --deployment web --delete");
        let mut session = kubeplug_testenv::terminal::Session::start(&mut env.command("script"), &line);
        session.wait_for("Delete these 2 ReplicaSet(s)? [y/N]: ", std::time::Duration::from_secs(60));
        kubectl_ok(env, &["scale", "rs", "web-1", "--replicas=2", "-n", &ns]);
        session.type_line("y");
        let (status, all) = session.finish();
        let all = String::from_utf8_lossy(&all).into_owned();
        assert!(status.success(), "{all}");
        assert!(exists(env, &ns, "web-1"), "the scaled-up ReplicaSet must survive: {all}");
        assert!(!exists(env, &ns, "web-2"), "{all}");
        let skipped = format!(r#"skipped replicaset.apps "web-1" in namespace "{ns}": it changed since it was listed"#);
        assert!(all.contains(&skipped), "{all}");
        assert!(all.contains("1 deleted, 1 skipped, 0 failed"), "{all}");
    }

    /// --dry-run=server: the server validates each deletion and keeps the objects.
    fn server_dry_run_deletes_nothing_on_the_server(env) {
        let ns = shop_plus(env);
        let o = run(env, &["-n", &ns, "--deployment", "web", "--delete", "--dry-run=server"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        for name in ["web-1", "web-2"] {
            let line = format!("replicaset.apps \"{name}\" in namespace \"{ns}\" deleted (server dry run)");
            assert!(stdout(&o).contains(&line), "{}", stdout(&o));
            let on_server = env.get("replicasets", Some(&ns), name).unwrap_or_else(|| panic!("{name} must survive a server dry run"));
            assert!(on_server["metadata"].get("deletionTimestamp").is_none(), "{on_server}");
        }
        assert!(stderr(&o).contains("2 deleted, 0 skipped, 0 failed (server dry run)"), "{}", stderr(&o));
    }

    /// More ReplicaSets than one page of 500: all of them are seen.
    fn pages_through_big_namespaces(env) {
        let ns = env.namespace("big");
        let yaml: String =
            (0..1100u32).map(|i| replicaset_yaml(&ns, &format!("app-{i:04}"), Owner::None, 1, i % 2, "app", "")).collect();
        env.create(&yaml);
        let expected: String = (0..1100u32).step_by(2).map(|i| format!("replicaset.apps/app-{i:04}\n")).collect();
        assert_eq!(ok(run(env, &["-n", &ns, "-o", "name"])), expected, "the 550 at 0 replicas, by the default read");
        if let Some(fake) = env.fake() {
            fake.clear_requests(); // fake-only: request records
        }
        let out = ok(run(env, &["-n", &ns, "-o", "name", "--read", "paged"]));
        assert_eq!(out, expected, "the 550 at 0 replicas, from every page");
        if let Some(fake) = env.fake() {
            // Fake-only: the request records show the pages.
            let pages = fake.requests().iter().filter(|r| r.method == "GET" && r.path.ends_with("/replicasets")).count();
            assert_eq!(pages, 3, "1100 ReplicaSets in pages of 500");
        }
    }

    /// Bad flags and values: one line on stderr, exit 1, nothing deleted.
    fn bad_inputs_are_one_line_errors_and_delete_nothing(env) {
        let ns = blog(env);
        let n = ns.as_str();
        let cases: &[(&[&str], &str)] = &[
            (&["-n", n, "-l", "app in (", "--delete", "--yes"], "unable to parse requirement"),
            (&["-n", n, "--older-than", "7 days", "--delete", "--yes"], r#"--older-than: invalid duration "7 days""#),
            (&["-n", n, "--keep", "-1", "--delete", "--yes"], "invalid --keep -1: must be 0 or more"),
            (&["-n", n, "-o", "table"], r#"unable to match a printer suitable for the output format "table""#),
            (&["-n", n, "--bogus"], "unknown flag: --bogus"),
            (&["-n", n, "--keep", "two", "--delete", "--yes"], "invalid value 'two' for '--keep <N>'"),
            (&["-n", n, "--include-foreign"], "--include-foreign needs -o wide"),
            (&["-n", n, "--include-foreign", "-o", "name"], "--include-foreign needs -o wide"),
            (&["-n", n, "--include-foreign", "--delete", "--yes"], "--include-foreign cannot be used with --delete"),
        ];
        for (args, expected) in cases {
            assert_one_line_error(&run(env, args), expected);
        }
        assert!(exists(env, &ns, "blog-1"), "the stale one is still there");
    }

    /// An invalid -o names the valid ones, in kubectl's words (`kubectl get rs -o table`).
    fn invalid_output_lists_the_valid_values(env) {
        let o = run(env, &["-o", "table"]);
        assert_one_line_error(
            &o,
            "unable to match a printer suitable for the output format \"table\", allowed formats are: \
             custom-columns,custom-columns-file,json,jsonpath,jsonpath-file,name,wide,yaml",
        );
    }

    /// alice may not list Deployments or ReplicaSets cluster-wide: the error names the
    /// permission of the first list (the Deployments are read first), a hint suggests -n.
    fn forbidden_cluster_wide_list_names_the_permission_and_suggests_n(env) {
        let o = run(env, &["--context", "alice", "-A"]);
        let forbidden = r#"User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope"#;
        assert_one_line_error(&o, forbidden);
        assert!(stderr(&o).lines().nth(1).unwrap_or("").contains("-n NAMESPACE"), "{}", stderr(&o));
        let theirs = env.kubectl().args(["--context", "alice", "get", "deployments", "-A"]).output().unwrap();
        assert!(stderr(&theirs).contains(forbidden), "kubectl: {}", stderr(&theirs));
    }

    /// A kubeconfig trusting another CA than the server's: the error says so.
    fn untrusted_certificate_is_named(env) {
        let dir = tempfile::tempdir().unwrap();
        let other = apiserver_fake::FakeServer::start().unwrap(); // only for a CA of its own
        let ca = dir.path().join("other-ca.crt");
        std::fs::write(&ca, other.ca_pem()).unwrap();
        let cluster = kubectl_ok(env, &["config", "view", "-o", "jsonpath={.clusters[0].name}"]);
        let ca_flag = format!("--certificate-authority={}", ca.display());
        let config = kubeconfig_copy(env, dir.path(), &["set-cluster", &cluster, &ca_flag, "--embed-certs=true"]);
        let o = env.command(BIN).env("KUBECONFIG", &config).args(["-n", "default"]).output().unwrap();
        assert_one_line_error(&o, "certificate signed by unknown authority");
        let theirs = env.kubectl().env("KUBECONFIG", &config).args(["get", "rs"]).output().unwrap();
        assert!(stderr(&theirs).contains("certificate signed by unknown authority"), "kubectl: {}", stderr(&theirs));
    }

    /// A missing kubeconfig and an unknown context are named.
    fn missing_kubeconfig_and_unknown_context_are_named(env) {
        assert_one_line_error(
            &run(env, &["--kubeconfig", "/nonexistent/config"]),
            "kubeconfig /nonexistent/config: no such file or directory",
        );
        assert_one_line_error(&run(env, &["--context", "nope"]), r#"context "nope" does not exist"#);
    }

    /// `kubectl show stale-replica-sets` runs the plugin: same output, and its exit code.
    fn runs_through_the_real_kubectl_plugin_dispatch(env) {
        let ns = shop_plus(env);
        let bin_dir = Path::new(BIN).parent().unwrap();
        let mut cmd = env.kubectl();
        testing::prepend_path(&mut cmd, bin_dir);
        let via_kubectl = cmd.args(["show", "stale-replica-sets", "-n", &ns, "--no-headers"]).output().unwrap();
        assert_eq!(via_kubectl.status.code(), Some(0), "{}", stderr(&via_kubectl));
        let direct = ok(run(env, &["-n", &ns, "--no-headers"]));
        assert_eq!(names(&format!("\n{}", stdout(&via_kubectl))), names(&format!("\n{direct}")));
        assert_eq!(names(&format!("\n{direct}")), ["api-1", "bare", "cart-old-1", "old-1", "web-1", "web-2"]);

        // kubectl execs the plugin: our exit code is what a script sees.
        let mut cmd = env.kubectl();
        testing::prepend_path(&mut cmd, bin_dir);
        let found = cmd.args(["show", "stale-replica-sets", "-n", &ns, "--exit-code"]).output().unwrap();
        assert_eq!(found.status.code(), Some(3));
    }
}

// No API server plays a part in these: --help, a closed port, a silent listener. The fake only
// provides the kubeconfig's credentials.

#[test]
fn help_has_examples_and_exit_codes() {
    let o = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    assert!(help.contains("Examples:") && help.contains("Exit codes:") && help.contains("--older-than"), "{help}");
}

#[test]
fn unreachable_server_fails_within_the_request_timeout() {
    let env = Env::new(Backend::Fake);
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = run(&env, &["--server", &format!("https://127.0.0.1:{port}"), "--request-timeout", "5s"]);
    assert_one_line_error(&o, &format!("the connection to the server https://127.0.0.1:{port} was refused"));
}

#[test]
fn a_server_that_never_answers_fails_at_the_request_timeout() {
    let env = Env::new(Backend::Fake);
    // Accepts TCP connections (the kernel completes the handshake) but never speaks TLS.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut child = env
        .command(BIN)
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

/// Fake-only: hooks that change objects at an exact request (between the listing and the
/// deletion), throttling and server errors, request records. Same fixture as above ([`shop`]).
mod fake_only {
    use super::*;
    use apiserver_fake::Cluster;

    /// The fake, with [`shop`] made in it through the API.
    fn shop_on_fake() -> (Env, String) {
        let env = Env::new(Backend::Fake);
        let ns = shop(&env);
        (env, ns)
    }

    fn deletes(env: &Env) -> usize {
        env.fake().unwrap().requests().iter().filter(|r| r.method == "DELETE").count()
    }

    /// What `kubectl rollout undo` does to a Deployment: its pod template becomes the target
    /// ReplicaSet's (less the `pod-template-hash` label), and the server bumps its generation.
    /// The Deployment controller has not acted yet; `observed` pretends it has at least observed
    /// the new generation (without having renumbered or scaled the ReplicaSet yet).
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

    // Hook: a scale-up lands right before the first DELETE. On the real server the same race is
    // made at the confirmation prompt (a_replicaset_scaled_up_at_the_prompt_is_skipped, above).
    #[test]
    fn a_replicaset_scaled_up_between_listing_and_delete_is_skipped_not_deleted() {
        let (env, ns) = shop_on_fake();
        let hook_ns = ns.clone();
        env.fake().unwrap().faults().on_request(
            "DELETE",
            &format!("/apis/apps/v1/namespaces/{ns}/replicasets/"),
            move |cluster| {
                let mut web1 = cluster.get("apps/v1", "replicasets", Some(&hook_ns), "web-1").unwrap();
                web1["spec"]["replicas"] = 2.into();
                cluster.seed([web1]).unwrap();
            },
        );
        let o = run(&env, &["-n", &ns, "--deployment", "web", "--delete", "--yes", "--concurrency", "1"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(exists(&env, &ns, "web-1"), "the scaled-up ReplicaSet must survive");
        assert!(!exists(&env, &ns, "web-2"));
        let skipped = format!(r#"skipped replicaset.apps "web-1" in namespace "{ns}": it changed since it was listed"#);
        assert!(stderr(&o).contains(&skipped), "{}", stderr(&o));
        assert!(stderr(&o).contains("1 deleted, 1 skipped, 0 failed"), "{}", stderr(&o));
    }

    // Hook: the undo lands after the listing, before the re-check. The real-controller
    // counterpart is backends.rs's a_rollback_target_survives_a_delete_right_after_rollout_undo.
    #[test]
    fn a_rollout_undo_between_listing_and_deleting_is_skipped() {
        let (env, ns) = shop_on_fake();
        // The re-read of Deployment web right before deleting is the first GET of its path (the
        // listing GETs the collection).
        let hook_ns = ns.clone();
        env.fake().unwrap().faults().on_request(
            "GET",
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/web"),
            move |cluster| roll_back(cluster, &hook_ns, "web", "web-1", false),
        );
        let o = run(&env, &["-n", &ns, "--deployment", "web", "--delete", "--yes"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        // Until its controller acts on the undo, which of web's ReplicaSets it will use is open:
        // none of them is deleted.
        for name in ["web-1", "web-2", "web-3"] {
            assert!(exists(&env, &ns, name), "{name} must survive");
        }
        let skipped = format!(
            r#"skipped replicaset.apps "web-1" in namespace "{ns}": Deployment "web" has a change its controller has not acted on yet (generation 2, observed 1)"#
        );
        assert!(stderr(&o).contains(&skipped), "{}", stderr(&o));
        assert!(stderr(&o).contains("0 deleted, 2 skipped, 0 failed"), "{}", stderr(&o));
        assert_eq!(deletes(&env), 0);
    }

    // Hook: as above, with the controller having observed the undo but not yet renumbered.
    #[test]
    fn a_replicaset_the_deployment_uses_again_is_skipped_even_once_observed() {
        let (env, ns) = shop_on_fake();
        let hook_ns = ns.clone();
        env.fake().unwrap().faults().on_request(
            "GET",
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/web"),
            move |cluster| roll_back(cluster, &hook_ns, "web", "web-1", true),
        );
        let o = run(&env, &["-n", &ns, "--deployment", "web", "--delete", "--yes"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        // web-1's template is web's again (hash label aside): it is the one web uses.
        assert!(exists(&env, &ns, "web-1"), "the rollback target must survive");
        assert!(!exists(&env, &ns, "web-2"));
        let skipped = format!(r#"skipped replicaset.apps "web-1" in namespace "{ns}": Deployment "web" uses it again"#);
        assert!(stderr(&o).contains(&skipped), "{}", stderr(&o));
        assert!(stderr(&o).contains("1 deleted, 1 skipped, 0 failed"), "{}", stderr(&o));
    }

    // Hook: the undo lands after the re-check, right before the first DELETE (web-1's, with one
    // deletion in flight at a time), and the controller has not touched web-1 yet: its
    // resourceVersion is unchanged, so nothing refuses that DELETE. The README says so.
    #[test]
    fn a_rollback_after_the_recheck_is_the_window_the_readme_names() {
        let (env, ns) = shop_on_fake();
        let hook_ns = ns.clone();
        env.fake().unwrap().faults().on_request(
            "DELETE",
            &format!("/apis/apps/v1/namespaces/{ns}/replicasets/"),
            move |cluster| roll_back(cluster, &hook_ns, "web", "web-1", false),
        );
        let o = run(&env, &["-n", &ns, "--deployment", "web", "--delete", "--yes", "--concurrency", "1"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(!exists(&env, &ns, "web-1"), "the documented window: not caught");
        assert!(stderr(&o).contains("2 deleted, 0 skipped, 0 failed"), "{}", stderr(&o));
    }

    // Fault injection: 429 with Retry-After, then 5xx; both retried.
    #[test]
    fn survives_throttling_and_server_errors() {
        let (env, ns) = shop_on_fake();
        let expected = ["api-1", "bare", "cart-old-1", "web-1", "web-2"];
        env.fake().unwrap().faults().throttle_next(2, 1);
        assert_eq!(names(&ok(run(&env, &["-n", &ns]))), expected);
        env.fake().unwrap().faults().fail_next(2);
        assert_eq!(names(&ok(run(&env, &["-n", &ns]))), expected);
    }
}
