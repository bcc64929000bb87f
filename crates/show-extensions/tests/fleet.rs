//! Fleet mode end to end: one kubeconfig holding the test's own server (fake or real, by
//! backend), two more fakes, an unreachable cluster and bob (no grants: every section
//! forbidden). A fail-closed webhook whose Service does not exist is made on the test's server
//! and on edge-1 (same configuration, same webhook); the summary names both contexts for it.
//! The webhook intercepts only a resource nobody creates, so it cannot disturb anything else.

use kubeplug_testenv::fleet::{FleetKubeconfig, Member};
use kubeplug_testenv::{Backend, Env, backend_tests, rows};
use kubeplug_testenv::{stderr, stdout};
use std::process::Output;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-show-extensions");

struct Fleet {
    kubeconfig: FleetKubeconfig,
    _edge_1: Env,
    _edge_2: Env,
    /// The webhook configuration's name and its Service's namespace.
    configuration: String,
    hooks_ns: String,
}

/// The same broken webhook in `env` (and the namespace its missing Service would be in).
fn broken_webhook(env: &Env, configuration: &str, hooks_ns: &str) {
    env.create(&format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: {hooks_ns}}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: {configuration}}}
webhooks:
  - name: deny.missing.example.com
    clientConfig: {{service: {{namespace: {hooks_ns}, name: gone}}}}
    rules:
      - {{operations: [CREATE], apiGroups: [fleet.example.invalid], apiVersions: [v1], resources: [widgets]}}
    failurePolicy: Fail
    sideEffects: None
    admissionReviewVersions: [v1]
"
    ));
}

fn fleet(env: &Env) -> Fleet {
    let edge_1 = Env::new(Backend::Fake);
    let edge_2 = Env::new(Backend::Fake);
    // Names unique on the shared real server; the fakes get the same ones.
    let configuration = env.name("fleet-guard");
    let hooks_ns = env.name("fleet-hooks");
    broken_webhook(env, &configuration, &hooks_ns);
    broken_webhook(&edge_1, &configuration, &hooks_ns);
    let kubeconfig = FleetKubeconfig::write(&[
        ("home", Member::On(env, "admin", "default")),
        ("home-bob", Member::On(env, "bob", "default")),
        ("edge-1", Member::On(&edge_1, "admin", "default")),
        ("edge-2", Member::On(&edge_2, "admin", "default")),
        ("down", Member::Unreachable),
    ]);
    Fleet { kubeconfig, _edge_1: edge_1, _edge_2: edge_2, configuration, hooks_ns }
}

fn run(env: &Env, f: &Fleet, args: &[&str]) -> Output {
    f.kubeconfig.run(env, BIN, args)
}

backend_tests! {
    /// One table: each risk once, with the contexts that have it; failed clusters named, exit 1.
    fn the_summary_names_the_contexts_of_each_risk(env) {
        let f = fleet(env);
        let o = run(env, &f, &["--all-contexts"]);
        assert_eq!(o.status.code(), Some(1), "stdout: {} stderr: {}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        assert_eq!(out.lines().next().map(|h| h.split_whitespace().collect::<Vec<_>>()), Some(vec!["RISK", "NAME", "WHY", "CONTEXTS"]), "{out}");
        let name = format!("validating {}/deny.missing.example.com", f.configuration);
        let ours: Vec<Vec<String>> = rows(&out).into_iter().filter(|r| r.join(" ").contains(&name)).collect();
        let expected: Vec<String> = ["fail-closed", "webhook", "down", "validating", &format!("{}/deny.missing.example.com", f.configuration), "service", &format!("{}/gone", f.hooks_ns), "does", "not", "exist", "edge-1,home"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(ours, [expected], "{out}");
        // What kubectl reads: the webhook and its policy, and no such Service.
        let policy = env.kubectl().args(["get", "validatingwebhookconfiguration", &f.configuration, "-o", "jsonpath={.webhooks[0].failurePolicy}"]).output().unwrap();
        assert_eq!(stdout(&policy), "Fail");
        assert!(env.get("services", Some(&f.hooks_ns), "gone").is_none());

        let errors: Vec<String> = stderr(&o).lines().filter(|l| l.starts_with("error: ")).map(str::to_string).collect();
        assert_eq!(errors.len(), 2, "{}", stderr(&o));
        assert!(errors[0].starts_with(r#"error: context "down": "#), "{errors:?}");
        assert!(errors[1].starts_with(r#"error: context "home-bob": no section of the extension map could be read"#), "{errors:?}");
        assert!(errors[1].contains(r#"User "bob" cannot list"#), "{errors:?}");
    }

    /// Only healthy clusters: "no risks" on stderr, exit 0; -o json is a List of ExtensionMaps
    /// with their context.
    fn healthy_clusters_and_json_maps(env) {
        let f = fleet(env);
        let o = run(env, &f, &["--contexts", "edge-2"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert_eq!(stderr(&o), "No risks found in 1 context(s).\n");
        let o = run(env, &f, &["--contexts", "edge-*", "-o", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let list: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(list["kind"], "List");
        let items = list["items"].as_array().unwrap();
        let contexts: Vec<(&str, &str)> = items.iter().map(|i| (i["context"].as_str().unwrap(), i["kind"].as_str().unwrap())).collect();
        assert_eq!(contexts, [("edge-1", "ExtensionMap"), ("edge-2", "ExtensionMap")]);
        let risky = |i: &serde_json::Value| i["admission"]["webhooks"].as_array().unwrap().iter().filter(|w| w["risk"] == true).count();
        assert_eq!((risky(&items[0]), risky(&items[1])), (1, 0));
    }

    /// --for works on one context: asked across several, one error line, exit 1.
    fn for_needs_one_context(env) {
        let f = fleet(env);
        let o = run(env, &f, &["--contexts", "edge-*", "--for", "create pods"]);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(stderr(&o).lines().next(), Some("error: --for works on one context at a time: use --context NAME"));
        assert!(stdout(&o).is_empty());
    }
}
