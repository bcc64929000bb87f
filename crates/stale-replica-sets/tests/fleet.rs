//! Fleet mode end to end: one kubeconfig holding the test's own server (apiserver-fake or the real
//! kube-apiserver, by backend) as admin, as an exec credential plugin user and as bob (no RBAC
//! grants), two more fakes, an unreachable cluster and one whose token the server rejects. Every
//! reachable cluster answers, each failed one gives one error line naming its context, and the
//! exit code says whether the answer is whole.

mod common;

use common::*;
use kubeplug_testenv::fleet::{FleetKubeconfig, Member};
use kubeplug_testenv::forward::Forwarder;
use kubeplug_testenv::terminal::Session;
use kubeplug_testenv::{Backend, Env, backend_tests, rows};
use std::process::Output;
use std::time::Duration;

/// The clusters of a fleet test, with the namespace each context works in.
struct Fleet {
    kubeconfig: FleetKubeconfig,
    edge_1: Env,
    /// Kept alive for the run: the fake stops when dropped.
    _edge_2: Env,
    /// The namespace of `home`, `home-exec` and `home-bob` on the test's server ([`shop`]).
    home_ns: String,
    /// [`blog`] on edge-1.
    edge_1_ns: String,
}

/// Contexts, in the name order the plugin answers in: `down` (refused), `edge-1` (blog-1
/// stale), `edge-2` (nothing stale), `expired` (token rejected: 401), `home` and `home-exec` (the
/// [`shop`] fixture), `home-bob` (forbidden).
fn fleet(env: &Env) -> Fleet {
    let home_ns = shop(env);
    let edge_1 = Env::new(Backend::Fake);
    let edge_2 = Env::new(Backend::Fake);
    let edge_1_ns = blog(&edge_1);
    let edge_2_ns = edge_2.namespace("quiet");
    let kubeconfig = FleetKubeconfig::write(&[
        ("home", Member::On(env, "admin", &home_ns)),
        ("home-exec", Member::Exec(env, "admin", &home_ns)),
        ("home-bob", Member::On(env, "bob", &home_ns)),
        ("edge-1", Member::On(&edge_1, "admin", &edge_1_ns)),
        ("edge-2", Member::On(&edge_2, "admin", &edge_2_ns)),
        ("down", Member::Unreachable),
        ("expired", Member::BadToken(env)),
    ]);
    Fleet { kubeconfig, edge_1, _edge_2: edge_2, home_ns, edge_1_ns }
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

fn run_fleet(env: &Env, fleet: &Fleet, args: &[&str]) -> Output {
    env.command(BIN).env("KUBECONFIG", fleet.kubeconfig.path()).args(args).output().expect("binary runs")
}

/// The stale ReplicaSets of [`shop`], as its single-cluster test lists them.
const SHOP_STALE: [&str; 5] = ["api-1", "bare", "cart-old-1", "web-1", "web-2"];

/// Rows without their AGE (the last column), which a second may change.
fn rows_without_age(table: &str) -> Vec<Vec<String>> {
    rows(table)
        .into_iter()
        .map(|mut r| {
            r.pop();
            r
        })
        .collect()
}

/// The `error: ` lines of stderr.
fn errors(o: &Output) -> Vec<String> {
    stderr(o).lines().filter(|l| l.starts_with("error: ")).map(str::to_string).collect()
}

fn home_rows(context: &str) -> Vec<(String, &'static str, &'static str, &'static str)> {
    [
        ("api-1", "api", "1"),
        ("bare", "<none>", "1"),
        ("cart-old-1", "cart", "1"),
        ("web-1", "web", "1"),
        ("web-2", "web", "2"),
    ]
    .into_iter()
    .map(|(n, d, r)| (context.to_string(), n, d, r))
    .collect()
}

backend_tests! {
    /// Each cluster costs one connection (one TLS handshake), as with kubectl: the Deployments
    /// and the ReplicaSets, asked for at once, and then the deletes share it over HTTP/2, in
    /// fleet mode and with one context.
    fn each_cluster_costs_one_connection(env) {
        let home_ns = shop(env);
        let edge = Env::new(Backend::Fake);
        let edge_ns = blog(&edge);
        let (home, to_edge) = (Forwarder::to(env), Forwarder::to(&edge));
        let kubeconfig = FleetKubeconfig::write(&[
            ("home", Member::Through(env, &home, "admin", &home_ns)),
            ("edge", Member::Through(&edge, &to_edge, "admin", &edge_ns)),
        ]);
        let o = kubeconfig.run(env, BIN, &["--all-contexts"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(rows(&stdout(&o)).len(), 1 + SHOP_STALE.len(), "edge's blog-1 and home's: {}", stdout(&o));
        assert_eq!((home.connections(), to_edge.connections()), (1, 1));

        let o = kubeconfig.run(env, BIN, &["--context", "home", "--delete", "--yes"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(home.connections(), 2, "one more run, one more connection: {}", stdout(&o));
        let o = kubeconfig.run(env, BIN, &["--context", "home"]);
        assert!(names(&stdout(&o)).is_empty(), "all deleted: {}", stdout(&o));
    }

    /// A cluster behind an HTTP proxy (`proxy-url`, as kubectl reads it) is reached through it,
    /// with one context and in fleet mode, as kubectl reaches it through the same proxy.
    fn a_proxy_url_is_gone_through(env) {
        let home_ns = shop(env);
        let proxy = Forwarder::proxy();
        let kubeconfig = FleetKubeconfig::write(&[("home", Member::Proxied(env, &proxy, "admin", &home_ns))]);
        // kube leaves proxy-url out for a host NO_PROXY names (kubectl does not), and the
        // test's server is on 127.0.0.1, which a CI machine's NO_PROXY often names.
        let run = |command: &mut std::process::Command, args: &[&str]| {
            command.env("KUBECONFIG", kubeconfig.path()).env_remove("NO_PROXY").env_remove("no_proxy").args(args).output().unwrap()
        };
        let o = run(&mut env.command(BIN), &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(names(&stdout(&o)), SHOP_STALE);
        let through = proxy.connections();
        assert!(through >= 1, "the proxy saw no connection");
        let o = run(&mut env.command(BIN), &["--all-contexts"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(proxy.connections() > through);
        let kubectl = run(&mut env.kubectl(), &["get", "rs", "-o", "name"]);
        assert!(kubectl.status.success(), "{}", stderr(&kubectl));
        assert!(stdout(&kubectl).lines().any(|l| l == "replicaset.apps/web-1"), "{}", stdout(&kubectl));
    }

    /// --all-contexts: one table with a CONTEXT column, every reachable cluster in it (each in its
    /// context's namespace, the exec plugin's credentials working), one error line per failed
    /// cluster naming it, exit 1 since the answer is not whole.
    fn every_reachable_cluster_answers_and_each_failed_one_is_named(env) {
        let f = fleet(env);
        let o = run_fleet(env, &f, &["--all-contexts"]);
        assert_eq!(o.status.code(), Some(1), "stdout: {} stderr: {}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        assert_eq!(out.lines().next(), Some("CONTEXT     NAME         DEPLOYMENT   REVISION   AGE"), "{out}");
        let mut expected = vec![vec!["edge-1".to_string(), "blog-1".into(), "blog".into(), "1".into()]];
        for context in ["home", "home-exec"] {
            expected.extend(home_rows(context).into_iter().map(|(c, n, d, r)| vec![c, n.into(), d.into(), r.into()]));
        }
        assert_eq!(rows_without_age(&out), expected, "{out}");

        let errors = errors(&o);
        assert_eq!(errors.len(), 3, "{}", stderr(&o));
        // Each line: the context, what the plugin was doing there (reading the Deployments, its
        // first list), and the cause in kubectl's words.
        assert!(errors[0].starts_with(r#"error: context "down": listing deployments.apps in namespace "default": the connection to the server https://127.0.0.1:"#), "{errors:?}");
        assert!(errors[0].ends_with("was refused - did you specify the right host or port?"), "{errors:?}");
        assert_eq!(errors[1], r#"error: context "expired": listing deployments.apps in namespace "default": You must be logged in to the server (Unauthorized)"#);
        assert!(errors[2].starts_with(r#"error: context "home-bob": "#), "{errors:?}");
        assert!(errors[2].contains(&format!(r#"User "bob" cannot list resource "deployments" in API group "apps" in the namespace "{}""#, f.home_ns)), "{errors:?}");
        // What kubectl says to bob about the same list.
        let theirs = env.kubectl().env("KUBECONFIG", f.kubeconfig.path()).args(["--context", "home-bob", "get", "deployments"]).output().unwrap();
        assert!(stderr(&theirs).contains(r#"User "bob" cannot list resource "deployments""#), "kubectl: {}", stderr(&theirs));
        // The Argo Rollout's ReplicaSets are left alone, said once per cluster that has them.
        for context in ["home", "home-exec"] {
            let note = format!("context {context:?}: {}", FOREIGN_NOTE.trim_end());
            assert!(stderr(&o).lines().any(|l| l == note), "{}", stderr(&o));
        }
    }

    /// Patterns: globs, /regex/ and ^exclusions select the same clusters kubectl-foreach's would.
    fn context_patterns_select_and_exclude(env) {
        let f = fleet(env);
        let contexts = |args: &[&str]| -> Vec<String> {
            let o = run_fleet(env, &f, args);
            assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
            let mut seen: Vec<String> = rows(&stdout(&o)).into_iter().map(|r| r[0].clone()).collect();
            seen.dedup();
            seen
        };
        assert_eq!(contexts(&["--contexts", "edge-*,home"]), ["edge-1", "home"]);
        assert_eq!(contexts(&["--contexts", "/^home/,^home-bob"]), ["home", "home-exec"]);
        assert_eq!(contexts(&["--all-contexts", "--contexts", "^down,^expired,^home-bob,^home-exec"]), ["edge-1", "home"]);
        assert_eq!(contexts(&["--contexts", "edge-?", "--cluster-concurrency", "1"]), ["edge-1"]);
    }

    /// --exit-code across clusters: 3 when any cluster has stale ReplicaSets and none failed; 1
    /// when a cluster failed, even though another found some; 0 when none has any.
    fn exit_codes_across_clusters(env) {
        let f = fleet(env);
        assert_eq!(run_fleet(env, &f, &["--contexts", "edge-*,home", "--exit-code"]).status.code(), Some(3));
        let o = run_fleet(env, &f, &["--contexts", "edge-*,home,down", "--exit-code"]);
        assert_eq!(o.status.code(), Some(1), "a failed cluster beats found");
        assert!(stdout(&o).contains("blog-1"), "the others still answer: {}", stdout(&o));
        let o = run_fleet(env, &f, &["--contexts", "edge-2", "--exit-code"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stderr(&o), "No resources found in 1 context(s).\n");
    }

    /// -o json: one List (jq works), each item the server's object, as kubectl reads it in that
    /// context, plus a top-level "context".
    fn json_items_carry_their_context(env) {
        let f = fleet(env);
        let o = run_fleet(env, &f, &["--contexts", "edge-1,home", "-o", "json"]);
        let list: serde_json::Value = serde_json::from_str(&ok(o)).unwrap();
        assert_eq!((&list["apiVersion"], &list["kind"]), (&"v1".into(), &"List".into()));
        let items = list["items"].as_array().unwrap();
        let tagged: Vec<(&str, &str)> =
            items.iter().map(|i| (i["context"].as_str().unwrap_or_else(|| panic!("{i}")), i["metadata"]["name"].as_str().unwrap())).collect();
        let mut expected = vec![("edge-1", "blog-1")];
        expected.extend(SHOP_STALE.iter().map(|n| ("home", *n)));
        assert_eq!(tagged, expected);
        for (context, ns, names) in [("edge-1", &f.edge_1_ns, vec!["blog-1"]), ("home", &f.home_ns, SHOP_STALE.to_vec())] {
            let mut args = vec!["--context", context, "get", "rs", "-n", ns, "-o", "json"];
            args.extend(names.iter().copied());
            let theirs = env.kubectl().env("KUBECONFIG", f.kubeconfig.path()).args(&args).output().unwrap();
            let theirs: serde_json::Value = serde_json::from_str(&ok(theirs)).unwrap();
            let ours: Vec<serde_json::Value> = items
                .iter()
                .filter(|i| i["context"] == context)
                .map(|i| {
                    let mut i = i.clone();
                    i.as_object_mut().unwrap().remove("context");
                    i
                })
                .collect();
            // kubectl prints one object alone, several as a List.
            let theirs = match theirs["items"].as_array() {
                Some(items) => items.clone(),
                None => vec![theirs],
            };
            assert_eq!(ours, theirs, "{context}");
        }
    }

    /// -o name across several contexts is refused with a hint; with one context it pipes as usual.
    fn name_output_needs_one_context(env) {
        let f = fleet(env);
        let o = run_fleet(env, &f, &["--contexts", "edge-*,home", "-o", "name"]);
        assert_one_line_error(&o, "-o name cannot be used across 3 contexts");
        assert!(stderr(&o).lines().nth(1).unwrap_or("").contains("-o json"), "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
        assert_eq!(ok(run_fleet(env, &f, &["--contexts", "edge-1", "-o", "name"])), "replicaset.apps/blog-1\n");
    }

    /// --delete across clusters without --yes: a preview with its count per context; nothing changes anywhere.
    fn delete_preview_counts_per_context(env) {
        let f = fleet(env);
        let before = (kubectl_versions(env, &f.home_ns), kubectl_versions(&f.edge_1, &f.edge_1_ns));
        let o = run_fleet(env, &f, &["--contexts", "edge-*,home", "--delete"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.contains(&format!(r#"replicaset.apps "blog-1" in namespace "{}" in context "edge-1" deleted (dry run)"#, f.edge_1_ns)), "{out}");
        for name in SHOP_STALE {
            let line = format!(r#"replicaset.apps "{name}" in namespace "{}" in context "home" deleted (dry run)"#, f.home_ns);
            assert!(out.contains(&line), "{out}");
        }
        let err = stderr(&o);
        for line in [
            r#"context "edge-1": 1 ReplicaSet(s) would be deleted"#,
            r#"context "edge-2": 0 ReplicaSet(s) would be deleted"#,
            r#"context "home": 5 ReplicaSet(s) would be deleted"#,
            "Preview: 6 ReplicaSet(s) in 2 context(s) would be deleted; nothing was changed. Pass --yes to delete, or --dry-run=server to have the server check the deletions.",
        ] {
            assert!(err.lines().any(|l| l == line), "{line:?} in {err}");
        }
        assert_eq!((kubectl_versions(env, &f.home_ns), kubectl_versions(&f.edge_1, &f.edge_1_ns)), before, "every ReplicaSet as it was");
    }

    /// --delete --yes across clusters: cluster by cluster, each with the one-cluster safety (the
    /// ReplicaSets in use and the Rollout's stay); an unreachable cluster is named and makes exit 1.
    fn delete_yes_deletes_cluster_by_cluster(env) {
        let f = fleet(env);
        let o = run_fleet(env, &f, &["--contexts", "edge-1,home,down", "--delete", "--yes"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(errors(&o).len(), 1, "{err}");
        assert!(errors(&o)[0].starts_with(r#"error: context "down": "#), "{err}");
        assert!(err.lines().any(|l| l == r#"context "edge-1": 1 deleted, 0 skipped, 0 failed"#), "{err}");
        assert!(err.lines().any(|l| l == r#"context "home": 5 deleted, 0 skipped, 0 failed"#), "{err}");
        assert_stale_deleted_and_the_rest_kept(env, &f);
    }

    /// --delete on a terminal across clusters: the prompt lists every ReplicaSet with its context
    /// and names each context that would change; "n" changes nothing, "y" deletes cluster by
    /// cluster with the one-cluster safety.
    fn delete_on_a_terminal_asks_once_naming_every_context(env) {
        let f = fleet(env);
        let line = format!("{BIN} --contexts 'edge-*,home' --delete");
        let prompt = r#"Delete these 6 ReplicaSet(s) in 2 context(s): "edge-1", "home"? [y/N]:"#;
        let before = (kubectl_versions(env, &f.home_ns), kubectl_versions(&f.edge_1, &f.edge_1_ns));
        for answer in ["n", "y"] {
            let mut script = env.command("script");
            script.env("KUBECONFIG", f.kubeconfig.path());
            let mut session = Session::start(&mut script, &line);
            let asked = String::from_utf8_lossy(&session.wait_for(prompt, Duration::from_secs(120))).into_owned();
            let listed = format!(r#"  replicaset.apps "blog-1" in namespace "{}" in context "edge-1""#, f.edge_1_ns);
            assert!(asked.contains(&listed), "{asked}");
            for name in SHOP_STALE {
                let listed = format!(r#"  replicaset.apps "{name}" in namespace "{}" in context "home""#, f.home_ns);
                assert!(asked.contains(&listed), "{asked}");
            }
            assert!(!asked.contains(r#"in context "edge-2""#), "nothing of edge-2 to ask about: {asked}");
            session.type_line(answer);
            let (status, all) = session.finish();
            let text = String::from_utf8_lossy(&all).into_owned();
            assert!(status.success(), "{text}");
            if answer == "n" {
                assert!(text.contains("Aborted: nothing was deleted."), "{text}");
                assert_eq!((kubectl_versions(env, &f.home_ns), kubectl_versions(&f.edge_1, &f.edge_1_ns)), before, "nothing changed");
            } else {
                assert!(text.contains(r#"context "edge-1": 1 deleted, 0 skipped, 0 failed"#), "{text}");
                assert!(text.contains(r#"context "home": 5 deleted, 0 skipped, 0 failed"#), "{text}");
                assert_stale_deleted_and_the_rest_kept(env, &f);
            }
        }
    }

    /// --dry-run=server across clusters: each cluster's server checks the deletions, none persists.
    fn server_dry_run_across_clusters_deletes_nothing(env) {
        let f = fleet(env);
        let o = run_fleet(env, &f, &["--contexts", "edge-1,home", "--delete", "--dry-run=server"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).contains(r#"in context "home" deleted (server dry run)"#), "{}", stdout(&o));
        assert!(stderr(&o).lines().any(|l| l == r#"context "home": 5 deleted, 0 skipped, 0 failed (server dry run)"#), "{}", stderr(&o));
        assert!(exists(&f.edge_1, &f.edge_1_ns, "blog-1"));
        for name in SHOP_STALE {
            assert!(exists(env, &f.home_ns, name), "{name} must still exist");
        }
    }

    /// Bad fleet flags: one error line naming the input, exit 1, before any request (a
    /// --delete --yes with them deletes nothing).
    fn bad_fleet_flags_are_one_line_errors_and_delete_nothing(env) {
        let f = fleet(env);
        for (args, expected) in [
            (vec!["--context", "home", "--contexts", "edge-1"], "--context and --contexts/--all-contexts cannot be used together"),
            (vec!["--contexts", "edge-1,hme"], r#"context "hme" does not exist in "#),
            (vec!["--contexts", "prod-*"], r#"--contexts pattern "prod-*" matches no context"#),
            (vec!["--contexts", "/(/"], r#"invalid --contexts pattern "/(/""#),
            (vec!["--contexts", "edge-*,^edge-*"], "leaves no context"),
            (vec!["--all-contexts", "--contexts", "home"], "--all-contexts selects every context"),
            (vec!["--all-contexts", "--cluster-concurrency", "0"], "invalid --cluster-concurrency 0"),
            (vec!["--all-contexts", "--server", "https://127.0.0.1:1"], "--server cannot be used with --contexts"),
        ] {
            let mut all = args.clone();
            all.extend(["--delete", "--yes"]);
            let o = run_fleet(env, &f, &all);
            assert_one_line_error(&o, expected);
            assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
        }
        assert!(exists(env, &f.home_ns, "web-1") && exists(&f.edge_1, &f.edge_1_ns, "blog-1"));
        // The names in the context list are the kubeconfig's.
        let o = run_fleet(env, &f, &["--contexts", "nope"]);
        assert!(stderr(&o).contains("(contexts: home, home-exec, home-bob, edge-1, edge-2, down, expired)"), "{}", stderr(&o));
    }
}

/// After deleting on edge-1 and home: their stale ReplicaSets are gone; those in use, and the
/// Rollout's, are still there.
fn assert_stale_deleted_and_the_rest_kept(env: &Env, f: &Fleet) {
    assert!(!exists(&f.edge_1, &f.edge_1_ns, "blog-1"));
    assert!(exists(&f.edge_1, &f.edge_1_ns, "blog-2"), "in use: kept");
    for gone in SHOP_STALE {
        assert!(!exists(env, &f.home_ns, gone), "{gone} should be deleted");
    }
    for kept in ["web-3", "api-2", "cart-1", "canary-1", "canary-2"] {
        assert!(exists(env, &f.home_ns, kept), "{kept} must not be deleted");
    }
}

/// `name=resourceVersion ...` of a namespace's ReplicaSets, as kubectl reads them.
fn kubectl_versions(env: &Env, ns: &str) -> String {
    let out = env
        .kubectl()
        .args([
            "get",
            "rs",
            "-n",
            ns,
            "-o",
            "jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}",
        ])
        .output()
        .unwrap();
    ok(out)
}

#[test]
fn help_documents_fleet_mode_and_its_exit_codes() {
    let o = std::process::Command::new(BIN).arg("--help").output().unwrap();
    let help = stdout(&o);
    for needle in [
        "--contexts <PATTERNS>",
        "--all-contexts",
        "--cluster-concurrency <N>",
        "CONTEXT column",
        "any cluster that failed",
    ] {
        assert!(help.contains(needle), "{needle:?} in {help}");
    }
}
