//! `-o jsonpath=...` and `-o custom-columns=...` (issue 15), compared byte for byte with the
//! real kubectl's `kubectl get rs -o jsonpath=...` on the same ReplicaSets of the same server,
//! on both backends. Every ReplicaSet of the test's namespace is stale (scaled to zero, bare or
//! left by a deleted Deployment), so the plugin's `-o json` items are exactly kubectl's.

mod common;

use common::*;
use kubeplug_testenv::{Backend, Env, backend_tests};
use std::process::Output;

/// Namespace out: three stale ReplicaSets, two bare and one whose Deployment is gone.
fn all_stale(env: &Env) -> String {
    let ns = env.namespace("out");
    env.create(&format!(
        "{}{}{}",
        replicaset_yaml(&ns, "api-1", Owner::None, 1, 0, "api", "tier: back"),
        replicaset_yaml(
            &ns,
            "web-1",
            Owner::Deployment("web", "7a4e0c2b-91d3-4f6a-b8e5-0d2c4f6a8b13"),
            4,
            0,
            "web",
            ""
        ),
        replicaset_yaml(&ns, "web-2", Owner::None, 2, 0, "web", "tier: front"),
    ));
    ns
}

/// The real kubectl's `get rs -n NS` with `args`.
fn kubectl_get(env: &Env, ns: &str, args: &[&str]) -> Output {
    env.kubectl().args(["get", "rs", "-n", ns]).args(args).output().expect("kubectl runs")
}

/// Our output and kubectl's, for the same arguments: same stdout, same exit code.
fn same_as_kubectl(env: &Env, ns: &str, args: &[&str]) -> String {
    let theirs = kubectl_get(env, ns, args);
    assert!(theirs.status.success(), "kubectl {args:?}: {}", stderr(&theirs));
    let ours = run(env, &[&["-n", ns][..], args].concat());
    assert_eq!(ours.status.code(), Some(0), "{args:?}: {}", stderr(&ours));
    assert_eq!(stdout(&ours), stdout(&theirs), "{args:?}");
    stdout(&ours)
}

/// A one-line `error: ...` naming what was wrong, exit 1, nothing on stdout.
fn refused(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(1), "stdout: {}", stdout(o));
    assert!(stdout(o).is_empty(), "{}", stdout(o));
    let err = stderr(o);
    assert_eq!(err.lines().count(), 1, "{err}");
    err.trim_end().to_string()
}

backend_tests! {
    fn jsonpath_prints_what_kubectl_get_prints_on_the_same_replicasets(env) {
        let ns = all_stale(env);
        let templates = [
            "{.items[*].metadata.name}",
            r#"{range .items[*]}{.metadata.name}{"\t"}{.spec.replicas}{"\t"}{.metadata.labels}{"\n"}{end}"#,
            "{.items[?(@.spec.replicas==0)].metadata.name}",
            r#"{.items[?(@.metadata.labels.tier=="front")].metadata.name}"#,
            "{.items[*].metadata.ownerReferences[0].name}",
            r"{.items[*].metadata.annotations.deployment\.kubernetes\.io/revision}",
            "{.items[0].metadata.annotations} {.items[-1:].spec.selector}",
            "{.items[*].spec.template.spec.containers[*].image}",
            "{.items[*]['metadata.name', 'spec.replicas']}",
            "{.kind} {.apiVersion} {.metadata} {.items[0].kind} {.items[0].apiVersion}",
            // Templates see the managedFields, which only -o json|yaml leave out.
            "{.items[*].metadata.managedFields[*].manager}",
            "{.items[*].status.nope} {.nope.deeper}end",
            // Quotes typed inside the value (cmd.exe keeps them) are text, as in kubectl.
            "'{.items[*].metadata.name}'",
        ];
        for template in templates {
            let out = same_as_kubectl(env, &ns, &["-o", &format!("jsonpath={template}")]);
            // apiserver-fake keeps no managedFields; both outputs are then empty.
            let fake_has_none = env.backend() == Backend::Fake && template.contains("managedFields");
            assert!(fake_has_none || !out.is_empty(), "{template}");
        }
        // The same template read from a file.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("names.jsonpath");
        std::fs::write(&file, "{range .items[*]}{.metadata.name}{\"\\n\"}{end}\n").unwrap();
        let out = same_as_kubectl(env, &ns, &["-o", &format!("jsonpath-file={}", file.display())]);
        assert_eq!(out, "api-1\nweb-1\nweb-2\n\n", "written by hand: the file's last newline is text too");
    }

    fn custom_columns_print_what_kubectl_get_prints_on_the_same_replicasets(env) {
        let ns = all_stale(env);
        let spec = "NAME:.metadata.name,R:.spec.replicas,LABELS:.metadata.labels,\
                    IMAGES:.spec.template.spec.containers[*].image,OWNER:{.metadata.ownerReferences[0].kind},\
                    Missing:status.nope";
        let out = same_as_kubectl(env, &ns, &["-o", &format!("custom-columns={spec}")]);
        assert!(out.lines().next().unwrap().ends_with("   Missing"), "headers as typed: {out}");
        same_as_kubectl(env, &ns, &["-o", &format!("custom-columns={spec}"), "--no-headers"]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("columns.txt");
        std::fs::write(&file, "NAME   REVISION\n.metadata.name   {.metadata.annotations.deployment\\.kubernetes\\.io/revision}\n")
            .unwrap();
        let out = same_as_kubectl(env, &ns, &["-o", &format!("custom-columns-file={}", file.display())]);
        assert_eq!(out, "NAME    REVISION\napi-1   1\nweb-1   4\nweb-2   2\n", "written by hand");
    }

    fn an_empty_namespace_gives_the_template_an_empty_list_like_kubectl(env) {
        let ns = env.namespace("empty");
        same_as_kubectl(env, &ns, &["-o", "jsonpath={.kind}:{.items[*].metadata.name}"]);
        same_as_kubectl(env, &ns, &["-o", "custom-columns=NAME:.metadata.name"]);
    }

    fn bad_templates_are_one_line_naming_the_template(env) {
        let ns = all_stale(env);
        let ours = |args: &[&str]| refused(&run(env, &[&["-n", &ns][..], args].concat()));
        // kubectl's own first line for the same template.
        let theirs = |args: &[&str]| stderr(&kubectl_get(env, &ns, args)).lines().next().unwrap_or_default().to_string();
        let bad = ["-o", "jsonpath={.items[*].metadata.name"];
        assert_eq!(ours(&bad), "error: error parsing jsonpath {.items[*].metadata.name, unclosed action");
        assert_eq!(ours(&bad), theirs(&bad));
        let bad = ["-o", "jsonpath={range .items[*]}{.metadata.name[0]}{end}"];
        assert_eq!(
            ours(&bad),
            r#"error: error executing jsonpath "{range .items[*]}{.metadata.name[0]}{end}": string is not array or slice"#
        );
        assert!(theirs(&bad).contains("string is not array or slice"), "{}", theirs(&bad));
        let bad = ["-o", "custom-columns=NAME"];
        assert_eq!(ours(&bad), "error: unexpected custom-columns spec: NAME, expected <header>:<json-path-expr>");
        assert_eq!(ours(&bad), theirs(&bad));
        assert_eq!(ours(&["-o", "jsonpath="]), "error: template format specified but no template given");
        let missing = ours(&["-o", "jsonpath-file=/nonexistent/t.jsonpath"]);
        assert!(missing.starts_with("error: /nonexistent/t.jsonpath: "), "{missing}");
        assert_eq!(
            ours(&["-o", "jsn"]),
            "error: unable to match a printer suitable for the output format \"jsn\", allowed formats are: \
             custom-columns,custom-columns-file,json,jsonpath,jsonpath-file,name,wide,yaml"
        );
        // Nothing was deleted or changed along the way.
        assert!(exists(env, &ns, "api-1") && exists(env, &ns, "web-2"));
    }
}

#[test]
fn help_lists_the_formats_this_command_offers() {
    let out = std::process::Command::new(BIN).arg("--help").output().unwrap();
    // Whatever the terminal width wrapped.
    let help = stdout(&out).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains(
            "Output format. One of: (json, yaml, name, jsonpath, jsonpath-file, custom-columns, custom-columns-file, wide)"
        ),
        "{help}"
    );
}
