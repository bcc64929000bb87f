//! Fleet mode end to end: the checks asked in every context of one kubeconfig holding the test's
//! own server (fake or real, by backend), another fake, an unreachable cluster and one whose token
//! the server rejects. alice may get pods in her namespace on the test's server and nothing on
//! the other fake; each answer is compared with `kubectl auth can-i` in the same context.

mod common;

use common::{BIN, write};
use kubeplug_testenv::fleet::{FleetKubeconfig, Member};
use kubeplug_testenv::forward::Forwarder;
use kubeplug_testenv::{Backend, Env, backend_tests};
use kubeplug_testenv::{stderr, stdout};
use std::process::Output;

/// Contexts: `down` (refused), `edge` (a fake where alice has no grant), `expired` (401), `home`
/// (the test's server, alice may get and list pods in the context's namespace).
struct Fleet {
    kubeconfig: FleetKubeconfig,
    _edge: Env,
    home_ns: String,
    edge_ns: String,
}

fn fleet(env: &Env) -> Fleet {
    let home_ns = env.namespace("fleet");
    env.create(&format!(
        "apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: pod-reader, namespace: {home_ns}}}
rules:
- {{apiGroups: [\"\"], resources: [pods], verbs: [get, list]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: alice-pod-reader, namespace: {home_ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}}
subjects:
- {{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}}
"
    ));
    let edge = Env::new(Backend::Fake);
    let edge_ns = edge.namespace("fleet");
    let kubeconfig = FleetKubeconfig::write(&[
        ("home", Member::On(env, "alice", &home_ns)),
        ("edge", Member::On(&edge, "alice", &edge_ns)),
        ("down", Member::Unreachable),
        ("expired", Member::BadToken(env)),
    ]);
    Fleet { kubeconfig, _edge: edge, home_ns, edge_ns }
}

fn run(env: &Env, f: &Fleet, args: &[&str]) -> Output {
    f.kubeconfig.run(env, BIN, args)
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// `kubectl auth can-i VERB RESOURCE` in `context`: "yes" or "no".
fn kubectl_can_i(env: &Env, f: &Fleet, context: &str, verb: &str, resource: &str) -> String {
    let o = env
        .kubectl()
        .env("KUBECONFIG", f.kubeconfig.path())
        .args(["--context", context, "auth", "can-i", verb, resource])
        .output()
        .unwrap();
    stdout(&o).trim().to_string()
}

backend_tests! {
    /// A cluster's warning names its context, as its errors do; each cluster warns on its own.
    fn warnings_name_their_context(env) {
        let f = fleet(env);
        let o = run(env, &f, &["--contexts", "edge,home", "--verbs", "get", "--resources", "pods,nosuchthings"]);
        let mut warnings: Vec<String> = stderr(&o).lines().filter(|l| l.starts_with("Warning: ")).map(str::to_string).collect();
        // In the order the clusters answered; kubectl auth can-i's words, after the context.
        warnings.sort();
        assert_eq!(
            warnings,
            [
                r#"Warning: context "edge": the server doesn't have a resource type 'nosuchthings'"#,
                r#"Warning: context "home": the server doesn't have a resource type 'nosuchthings'"#,
            ],
            "{}",
            stderr(&o)
        );
    }

    /// Every check of a cluster goes over one connection (HTTP/2, as with kubectl), however
    /// many are asked at once: one TLS handshake per cluster, not one per review in flight.
    fn each_cluster_costs_one_connection(env) {
        let f = fleet(env);
        let home = Forwarder::to(env);
        let kubeconfig = FleetKubeconfig::write(&[("home", Member::Through(env, &home, "alice", &f.home_ns))]);
        let o = kubeconfig.run(env, BIN, &["--verbs", "get,list,watch,create,update,patch,delete", "--resources", "pods,services,configmaps,secrets"]);
        assert_eq!(o.status.code(), Some(3), "some are denied: {}", stderr(&o));
        assert_eq!(stdout(&o).lines().count(), 1 + 4, "{}", stdout(&o));
        assert_eq!(home.connections(), 1);
    }

    /// The matrix gains a CONTEXT column, one block of rows per cluster, each answer what
    /// kubectl auth can-i says in that context; failed clusters are named, exit 1.
    fn the_matrix_has_a_row_block_per_cluster(env) {
        let f = fleet(env);
        let o = run(env, &f, &["--contexts", "edge,home", "--verbs", "get,list,delete", "--resources", "pods"]);
        assert_eq!(o.status.code(), Some(3), "delete is denied everywhere: {}", stderr(&o));
        let lines: Vec<Vec<String>> =
            stdout(&o).lines().map(|l| words(l).into_iter().map(str::to_string).collect()).collect();
        let mut expected = vec![vec!["CONTEXT", "RESOURCE", "NAMESPACE", "GET", "LIST", "DELETE"].into_iter().map(str::to_string).collect::<Vec<_>>()];
        for (context, ns) in [("edge", &f.edge_ns), ("home", &f.home_ns)] {
            let mut row = vec![context.to_string(), "pods".to_string(), ns.clone()];
            row.extend(["get", "list", "delete"].map(|verb| kubectl_can_i(env, &f, context, verb, "pods")));
            expected.push(row);
        }
        assert_eq!(lines, expected);
        // Written by hand, what the RBAC above grants.
        assert_eq!(expected[1][3..], ["no", "no", "no"]);
        assert_eq!(expected[2][3..], ["yes", "yes", "no"]);

        let o = run(env, &f, &["--all-contexts", "--verbs", "get", "--resources", "pods"]);
        assert_eq!(o.status.code(), Some(1), "two clusters failed: {}", stderr(&o));
        let err = stderr(&o);
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 2, "{}", stderr(&o));
        // The context, what was being done there (discovery), and the cause in kubectl's words.
        assert!(errors[0].starts_with(r#"error: context "down": discovering "#), "{errors:?}");
        assert!(errors[0].contains("the connection to the server https://127.0.0.1:") && errors[0].ends_with("was refused - did you specify the right host or port?"), "{errors:?}");
        assert!(errors[1].starts_with(r#"error: context "expired": discovering "#), "{errors:?}");
        assert!(errors[1].ends_with("You must be logged in to the server (Unauthorized)"), "{errors:?}");
        assert_eq!(stdout(&o).lines().count(), 3, "the two clusters that answered: {}", stdout(&o));
    }

    /// A checks file names the contexts its expectations hold in: each check is asked only
    /// there; all met is exit 0, an unmet one is listed with its context and makes exit 3.
    fn expectations_may_name_contexts(env) {
        let f = fleet(env);
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "fleet.yaml",
            "- {verb: get, resource: pods, expect: allowed, contexts: [home]}\n\
             - {verb: get, resource: pods, expect: denied, contexts: [\"/^ed/\"]}\n\
             - {verb: delete, resource: pods, expect: denied, contexts: [\"^down\"]}\n",
        );
        let o = run(env, &f, &["--contexts", "home,edge", "-f", &file]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{}", stderr(&o));
        let rows: Vec<Vec<String>> =
            stdout(&o).lines().skip(1).map(|l| words(l)[..8].iter().map(|w| w.to_string()).collect()).collect();
        let row = |c: &str, verb: &str, ns: &str, allowed: &str, expect: &str| {
            [c, verb, "pods", "*", ns, "self", allowed, expect].map(str::to_string).to_vec()
        };
        assert_eq!(
            rows,
            [
                row("edge", "get", &f.edge_ns, "no", "denied"),
                row("edge", "delete", &f.edge_ns, "no", "denied"),
                row("home", "get", &f.home_ns, "yes", "allowed"),
                row("home", "delete", &f.home_ns, "no", "denied"),
            ]
        );
        assert_eq!(words(stdout(&o).lines().next().unwrap())[..8], ["CONTEXT", "VERB", "RESOURCE", "NAME", "NAMESPACE", "SUBJECT", "ALLOWED", "EXPECT"]);

        let unmet = write(dir.path(), "unmet.yaml", "- {verb: get, resource: pods, expect: allowed}\n");
        let o = run(env, &f, &["--contexts", "home,edge", "-f", &unmet]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        assert_eq!(
            stderr(&o).lines().collect::<Vec<_>>(),
            [
                format!(r#"context "edge": expectation not met: {unmet}:1: self get pods -n {}: expected allowed, got denied"#, f.edge_ns),
                "1 of 2 expectations not met".to_string(),
            ]
        );
    }

    /// -o json: one List, each result with its context.
    fn json_results_carry_their_context(env) {
        let f = fleet(env);
        let o = run(env, &f, &["--contexts", "edge,home", "--check", "list pods", "-o", "json"]);
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let list: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(list["kind"], "List");
        let answers: Vec<(&str, bool, &str)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["context"].as_str().unwrap(), i["status"]["allowed"].as_bool().unwrap(), i["check"]["namespace"].as_str().unwrap()))
            .collect();
        assert_eq!(answers, [("edge", false, f.edge_ns.as_str()), ("home", true, f.home_ns.as_str())]);
    }

    /// Bad input: contexts in a check without fleet mode, a bad pattern in a check, --list
    /// across contexts: one error line each, exit 1, nothing asked.
    fn bad_fleet_input_is_one_line_errors(env) {
        let f = fleet(env);
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "c.yaml", "- {verb: get, resource: pods, contexts: [home]}\n");
        for (args, expected) in [
            (vec!["--context", "home", "-f", file.as_str()], format!("{file}:1: the check names contexts (home); they are for --contexts or --all-contexts")),
            (vec!["--contexts", "home", "--check", "get pods --contexts /(/"], r#"--check "get pods --contexts /(/": invalid --contexts pattern "/(/""#.to_string()),
            (vec!["--contexts", "home", "--list"], "--list works on one context at a time".to_string()),
            (vec!["--contexts", "home,nope", "--check", "get pods"], r#"context "nope" does not exist in "#.to_string()),
        ] {
            let o = run(env, &f, &args);
            assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(err.lines().next().unwrap_or("").starts_with(&format!("error: {expected}")), "{args:?}: {err}");
            assert!(err.lines().count() <= 2, "{err}");
            assert!(stdout(&o).is_empty());
        }
    }
}
