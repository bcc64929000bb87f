//! Fleet mode end to end: `kubectl inspect crd` (the list) across one kubeconfig holding the
//! test's own server (fake or real, by backend) with the widgets CRD, a fake with the candies CRD,
//! an empty fake, an unreachable cluster and bob, who may not list CRDs. One test body: CRDs are
//! cluster-wide and the real server is shared by the tests of a binary.

use std::path::Path;

use kubeplug_testenv::fleet::{FleetKubeconfig, Member};
use kubeplug_testenv::{Backend, Env, backend_tests, rows};
use kubeplug_testenv::{stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-inspect-crd");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)).unwrap()
}

fn established(env: &Env, crd: &str) {
    let out =
        env.kubectl().args(["wait", "--for=condition=Established", "--timeout=30s", "crd", crd]).output().unwrap();
    assert!(out.status.success(), "{crd}: {}", String::from_utf8_lossy(&out.stderr));
}

backend_tests! {
    /// The list gains a CONTEXT column, each cluster's CRDs as kubectl lists them there; the
    /// unreachable and the forbidden cluster are named; -o json items carry their context;
    /// describe and -o name across contexts are refused.
    fn crds_of_every_context_in_one_list(env) {
        env.create(&fixture("crds/widgets.example.com.yaml"));
        established(env, "widgets.example.com");
        let edge_1 = Env::new(Backend::Fake);
        edge_1.create(&fixture("crds/candies.awesome.corp.com.yaml"));
        established(&edge_1, "candies.awesome.corp.com");
        let edge_2 = Env::new(Backend::Fake);
        let kubeconfig = FleetKubeconfig::write(&[
            ("home", Member::On(env, "admin", "default")),
            ("home-bob", Member::On(env, "bob", "default")),
            ("edge-1", Member::On(&edge_1, "admin", "default")),
            ("edge-2", Member::On(&edge_2, "admin", "default")),
            ("down", Member::Unreachable),
        ]);
        let run = |args: &[&str]| env.command(BIN).env("KUBECONFIG", kubeconfig.path()).args(args).output().unwrap();

        let o = run(&["--all-contexts"]);
        assert_eq!(o.status.code(), Some(1), "stdout: {} stderr: {}", stdout(&o), stderr(&o));
        let out = stdout(&o);
        let header: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
        assert_eq!(header, ["CONTEXT", "NAME", "GROUP", "KIND", "SCOPE", "VERSIONS", "SHORTNAMES", "ESTABLISHED", "AGE"]);
        let listed: Vec<Vec<String>> = rows(&out).into_iter().map(|r| r[..5].to_vec()).collect();
        let row = |c: &str, n: &str, g: &str, k: &str| [c, n, g, k, "Namespaced"].map(str::to_string).to_vec();
        assert_eq!(
            listed,
            [
                row("edge-1", "candies.awesome.corp.com", "awesome.corp.com", "Candy"),
                row("home", "widgets.example.com", "example.com", "Widget"),
            ]
        );
        // kubectl, context by context, lists the same CRDs.
        for (context, expected) in [("edge-1", "candies.awesome.corp.com"), ("home", "widgets.example.com"), ("edge-2", "")] {
            let theirs = env.kubectl().env("KUBECONFIG", kubeconfig.path()).args(["--context", context, "get", "crd", "-o", "name"]).output().unwrap();
            let names: Vec<String> = stdout(&theirs).lines().map(|l| l.trim_start_matches("customresourcedefinition.apiextensions.k8s.io/").to_string()).collect();
            let expected: Vec<String> = expected.split_terminator(',').map(str::to_string).collect();
            assert_eq!(names, expected, "{context}");
        }
        let err = stderr(&o);
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 2, "{}", stderr(&o));
        assert!(errors[0].starts_with(r#"error: context "down": listing customresourcedefinitions.apiextensions.k8s.io: the connection to the server https://127.0.0.1:"#), "{errors:?}");
        assert!(errors[1].starts_with(r#"error: context "home-bob": "#) && errors[1].contains(r#"User "bob" cannot list resource "customresourcedefinitions""#), "{errors:?}");

        let o = run(&["--contexts", "edge-*,home", "-o", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let list: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let tagged: Vec<(&str, &str)> = list["items"].as_array().unwrap().iter().map(|i| (i["context"].as_str().unwrap(), i["metadata"]["name"].as_str().unwrap())).collect();
        assert_eq!(tagged, [("edge-1", "candies.awesome.corp.com"), ("home", "widgets.example.com")]);

        let o = run(&["--contexts", "edge-2"]);
        assert_eq!((o.status.code(), stderr(&o)), (Some(0), "No resources found in 1 context(s).\n".to_string()));

        for (args, expected) in [
            (vec!["--contexts", "edge-*", "widgets"], "error: only the CRD list works across contexts"),
            (vec!["--contexts", "edge-*", "-o", "name"], "error: -o name cannot be used across 2 contexts"),
            (vec!["--contexts", "edge-*", "--crd-file", "x.yaml"], "error: --crd-file reads CRDs from files"),
        ] {
            let o = run(&args);
            assert_eq!(o.status.code(), Some(1), "{args:?}");
            assert!(stderr(&o).starts_with(expected), "{args:?}: {}", stderr(&o));
            assert!(stdout(&o).is_empty());
        }
    }
}
