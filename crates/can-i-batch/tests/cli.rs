//! End-to-end behaviour of `kubectl can-i-batch` against the fake API server: input forms,
//! subjects, impersonation, expectations and exit codes, bad input, `--list`, plugin dispatch.

mod common;

use apiserver_fake::testing;
use common::{bare, plugin, run, server, write};

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn check_flags_print_a_table_and_exit_0_when_all_are_allowed() {
    let server = server();
    let ran = run(
        plugin(&server, "alice").args([
            "--check",
            "get pods -n team-a",
            "--check",
            "get pods/log -n team-b",
            "--check",
            "get /metrics",
        ]),
        None,
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(words(lines[0]), ["VERB", "RESOURCE", "NAME", "NAMESPACE", "SUBJECT", "ALLOWED", "REASON"]);
    assert_eq!(words(lines[1])[..6], ["get", "pods", "*", "team-a", "self", "yes"]);
    assert!(lines[1].contains(r#"RoleBinding "alice-dev/team-a""#), "{}", lines[1]);
    assert_eq!(words(lines[2])[..6], ["get", "pods/log", "*", "team-b", "self", "yes"]);
    assert_eq!(words(lines[3])[..6], ["get", "/metrics", "-", "-", "self", "yes"]);
    assert_eq!(lines.len(), 4);
}

#[test]
fn any_denied_check_exits_3() {
    let server = server();
    let ran =
        run(plugin(&server, "alice").args(["--check", "get pods -n team-a", "--check", "delete pods -n team-a"]), None);
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert_eq!(words(ran.stdout.lines().nth(2).unwrap())[..6], ["delete", "pods", "*", "team-a", "self", "no"]);
}

#[test]
fn yaml_file_with_every_expectation_met_exits_0() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "checks.yaml",
        "# what alice may and may not do\n\
         - {verb: create, resource: deployments, group: apps, namespace: team-a, expect: allowed}\n\
         - verb: delete\n  resource: pods\n  namespace: team-a\n  expect: denied\n\
         - {verb: get, nonResourceURL: /metrics, expect: allowed}\n\
         - {verb: get, resource: secrets, namespace: team-b, expect: denied}\n",
    );
    let ran = run(plugin(&server, "alice").args(["-f", &file]), None);
    assert_eq!(ran.code, 0, "denied checks that expect denial pass: {}", ran.stderr);
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
    assert!(ran.stdout.lines().next().unwrap().contains("EXPECT"));
}

#[test]
fn unmet_expectations_exit_3_and_are_listed_on_stderr() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "checks.yaml",
        "- {verb: get, resource: pods, namespace: team-a, expect: allowed}\n\
         - {verb: delete, resource: pods, namespace: team-a, expect: allowed}\n\
         - {verb: list, resource: nodes, expect: denied}\n",
    );
    let ran = run(plugin(&server, "alice").args(["-f", &file]), None);
    assert_eq!(ran.code, 3);
    let stderr: Vec<&str> = ran.stderr.lines().collect();
    assert_eq!(
        stderr,
        [
            format!("expectation not met: {file}:2: self delete pods -n team-a: expected allowed, got denied"),
            format!("expectation not met: {file}:3: self list nodes -A: expected denied, got allowed"),
            "2 of 3 expectations not met".to_string(),
        ]
    );
    assert!(ran.stdout.contains("allowed (unmet)"), "{}", ran.stdout);
}

#[test]
fn json_file_and_stdin_lines_are_read() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "checks.json",
        r#"[{"verb": "get", "resource": "pods", "subresource": "log", "name": "web-0", "namespace": "team-b"},
            {"verb": "get", "resource": "pods", "name": "web-1", "namespace": "team-b"}]"#,
    );
    let ran = run(plugin(&server, "alice").args(["-f", &file, "-o", "json"]), None);
    assert_eq!(ran.answers(), [true, false], "{}", ran.stderr);

    let stdin = "# from a pipe\nget pods -n team-a --expect allowed\n\nlist secrets -A --expect denied # comment\n";
    let ran = run(plugin(&server, "alice").args(["-f", "-", "-o", "json"]), Some(stdin));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let json = ran.json();
    assert_eq!(json["items"][0]["source"], "<stdin>:2");
    assert_eq!(json["items"][1]["source"], "<stdin>:4");
    assert_eq!(json["items"][1]["check"]["namespace"], "");
    assert_eq!(json["items"][1]["expectationMet"], true);
}

#[test]
fn matrix_prints_resources_by_verbs_for_each_namespace() {
    let server = server();
    let ran = run(
        plugin(&server, "alice").args([
            "--verbs",
            "get,list,delete",
            "--resources",
            "pods,deploy,nodes",
            "--namespaces",
            "team-a,team-b",
        ]),
        None,
    );
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    let lines: Vec<Vec<&str>> = ran.stdout.lines().map(words).collect();
    assert_eq!(
        lines,
        [
            vec!["RESOURCE", "NAMESPACE", "GET", "LIST", "DELETE"],
            vec!["pods", "team-a", "yes", "yes", "no"],
            vec!["pods", "team-b", "no", "no", "no"],
            vec!["deployments.apps", "team-a", "yes", "yes", "no"],
            vec!["deployments.apps", "team-b", "no", "no", "no"],
            vec!["nodes", "*", "yes", "yes", "no"],
        ]
    );
}

#[test]
fn matrix_has_one_column_block_per_subject() {
    let server = server();
    let ran = run(
        plugin(&server, "admin").args([
            "--verbs",
            "get,delete",
            "--resources",
            "pods",
            "-n",
            "team-a",
            "--subject",
            "user:alice",
            "--subject",
            "serviceaccount:ci:deployer",
        ]),
        None,
    );
    let lines: Vec<Vec<&str>> = ran.stdout.lines().map(words).collect();
    assert_eq!(
        lines,
        [
            vec!["user:alice", "serviceaccount:ci:deployer"],
            vec!["RESOURCE", "NAMESPACE", "GET", "DELETE", "GET", "DELETE"],
            vec!["pods", "team-a", "yes", "no", "yes", "yes"],
        ]
    );
}

#[test]
fn each_subject_form_is_checked_with_subject_access_reviews() {
    let server = server();
    let ran = run(
        plugin(&server, "admin").args([
            "--check",
            "get pods/log -n team-b",
            "--check",
            "delete pods -n team-a",
            "--subject",
            "user:alice",
            "--subject",
            "group:devs",
            "--subject",
            "serviceaccount:ci:deployer",
            "-o",
            "json",
        ]),
        None,
    );
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    let json = ran.json();
    let subjects: Vec<&serde_json::Value> = json["items"].as_array().unwrap().iter().map(|i| &i["subject"]).collect();
    assert_eq!(subjects[0], &serde_json::json!({"kind": "User", "name": "alice"}));
    assert_eq!(subjects[1], &serde_json::json!({"kind": "Group", "name": "devs"}));
    assert_eq!(subjects[2], &serde_json::json!({"kind": "ServiceAccount", "namespace": "ci", "name": "deployer"}));
    // pods/log in team-b is granted to group devs only; delete pods in team-a to the deployer only.
    assert_eq!(ran.answers(), [false, true, false, false, false, true]);
    let posts = server.requests().into_iter().filter(|r| r.method == "POST").collect::<Vec<_>>();
    assert!(!posts.is_empty() && posts.iter().all(|r| r.path.ends_with("/subjectaccessreviews")), "{posts:?}");
}

#[test]
fn bob_may_not_create_subject_access_reviews() {
    let server = server();
    let ran = run(plugin(&server, "bob").args(["--check", "get pods", "--subject", "user:alice"]), None);
    assert_eq!(ran.code, 1);
    assert!(ran.stdout.is_empty());
    assert!(
        ran.stderr
            .starts_with("error: you may not create subjectaccessreviews.authorization.k8s.io (--subject needs it): "),
        "{}",
        ran.stderr
    );
    assert!(ran.stderr.contains(r#"User "bob" cannot create resource "subjectaccessreviews""#), "{}", ran.stderr);
}

#[test]
fn impersonation_checks_the_impersonated_user() {
    let server = server();
    let ran = run(
        plugin(&server, "admin").args([
            "--as",
            "alice",
            "--as-group",
            "devs",
            "--check",
            "get pods/log -n team-b",
            "--check",
            "delete pods -n team-a",
        ]),
        None,
    );
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    let lines: Vec<Vec<&str>> = ran.stdout.lines().map(words).collect();
    assert_eq!(lines[1][4..6], ["as:alice+group:devs", "yes"]);
    assert_eq!(lines[2][4..6], ["as:alice+group:devs", "no"]);
    let reviews: Vec<_> =
        server.requests().into_iter().filter(|r| r.path.ends_with("/selfsubjectaccessreviews")).collect();
    assert_eq!(reviews.len(), 2);
    assert!(reviews.iter().all(|r| r.user.as_deref() == Some("alice")), "{reviews:?}");
}

#[test]
fn malformed_checks_name_the_file_and_line() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let lines = write(dir.path(), "checks.txt", "get pods -n team-a\n# fine so far\nget pods -n\n");
    let ran = run(plugin(&server, "alice").args(["-f", &lines]), None);
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stderr, format!("error: {lines}:3: -n needs a namespace\n"));
    assert!(ran.stdout.is_empty());

    let yaml = write(dir.path(), "checks.yaml", "- verb: get\n  resource: pods\n- verb: list\n  resourec: pods\n");
    let ran = run(plugin(&server, "alice").args(["-f", &yaml]), None);
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.starts_with(&format!("error: {yaml}:4: unknown field `resourec`")), "{}", ran.stderr);
    assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);

    let ran = run(plugin(&server, "alice").args(["--check", "get pods web extra"]), None);
    assert_eq!(ran.code, 1);
    assert!(
        ran.stderr.starts_with(r#"error: --check "get pods web extra": unexpected argument 'extra'"#),
        "{}",
        ran.stderr
    );

    let ran = run(plugin(&server, "alice").args(["-f", "/nonexistent/checks.yaml"]), None);
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.starts_with("error: reading /nonexistent/checks.yaml: No such file"), "{}", ran.stderr);
}

#[test]
fn unknown_verbs_and_resources_warn_like_kubectl_and_are_still_checked() {
    let server = server();
    let ran = run(
        plugin(&server, "admin").args(["--check", "frob pods -n team-a", "--check", "get widgets -n team-a"]),
        None,
    );
    assert_eq!(ran.code, 0, "admin may do anything, even unknown things: {}", ran.stderr);
    assert_eq!(
        ran.stderr.lines().collect::<Vec<_>>(),
        ["Warning: verb 'frob' is not a known verb", "Warning: the server doesn't have a resource type 'widgets'"]
    );
    // The same warnings, word for word, as kubectl's.
    for (args, warning) in [
        (["frob", "pods"], "Warning: verb 'frob' is not a known verb"),
        (["get", "widgets"], "Warning: the server doesn't have a resource type 'widgets'"),
    ] {
        let mut kubectl = testing::kubectl(&server);
        let ran = run(kubectl.args(["auth", "can-i"]).args(args), None);
        assert!(ran.stderr.lines().any(|l| l == warning), "kubectl said: {}", ran.stderr);
    }
    assert_eq!(ran.stdout.lines().count(), 3);
}

#[test]
fn malformed_subjects_are_named() {
    let server = server();
    for value in ["robot:x", "serviceaccount:ci", "alice"] {
        let ran = run(plugin(&server, "admin").args(["--check", "get pods", "--subject", value]), None);
        assert_eq!(ran.code, 1);
        assert!(ran.stderr.starts_with(&format!("error: --subject \"{value}\": expected")), "{}", ran.stderr);
    }
    assert!(server.requests().is_empty(), "bad input is refused before any request");
}

#[test]
fn empty_input_is_an_error() {
    let server = server();
    let ran = run(&mut plugin(&server, "alice"), None);
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.starts_with("error: no checks given"), "{}", ran.stderr);

    let dir = tempfile::tempdir().unwrap();
    let empty = write(dir.path(), "empty.yaml", "# nothing yet\n\n");
    let ran = run(plugin(&server, "alice").args(["-f", &empty]), None);
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stderr, format!("error: {empty}: no checks in the file\n"));

    let ran = run(plugin(&server, "alice").args(["-f", "-"]), Some(""));
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stderr, "error: <stdin>: no checks in the file\n");

    let ran = run(plugin(&server, "alice").args(["--verbs", "get"]), None);
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.starts_with("error: --verbs needs --resources"), "{}", ran.stderr);
}

#[test]
fn identical_checks_are_asked_once() {
    let server = server();
    let ran = run(
        plugin(&server, "alice").args([
            "--check",
            "get pods -n team-a",
            "--check",
            "get po -n team-a",
            "--check",
            "get Pod -n team-a",
            "--check",
            "list pods -n team-a",
            "-o",
            "json",
        ]),
        None,
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(ran.answers(), [true, true, true, true]);
    let reviews = server.requests().into_iter().filter(|r| r.path.ends_with("/selfsubjectaccessreviews")).count();
    assert_eq!(reviews, 2, "get pods and list pods, each once");
}

#[test]
fn throttled_reviews_are_retried() {
    let server = server();
    server.faults().throttle_next(3, 1);
    let ran = run(
        plugin(&server, "alice").args([
            "--check",
            "get pods -n team-a",
            "--check",
            "delete pods -n team-a",
            "-o",
            "json",
        ]),
        None,
    );
    assert_eq!(ran.code, 3, "{}", ran.stderr);
    assert_eq!(ran.answers(), [true, false]);
}

#[test]
fn quiet_prints_nothing_and_still_tells_by_exit_code() {
    let server = server();
    let ran = run(plugin(&server, "alice").args(["-q", "--check", "get pods -n team-a --expect denied"]), None);
    assert_eq!((ran.code, ran.stdout.as_str(), ran.stderr.as_str()), (3, "", ""));
    let ran = run(plugin(&server, "alice").args(["-q", "--check", "get pods -n team-a"]), None);
    assert_eq!((ran.code, ran.stdout.as_str(), ran.stderr.as_str()), (0, "", ""));
}

#[test]
fn yaml_output_is_a_list_of_results() {
    let server = server();
    let ran = run(plugin(&server, "alice").args(["--check", "get pods web-0 -n team-b", "-o", "yaml"]), None);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let doc: serde_json::Value = serde_saphyr::from_str(&ran.stdout).expect("YAML output");
    assert_eq!(doc["kind"], "List");
    let item = &doc["items"][0];
    assert_eq!(item["kind"], "AccessCheckResult");
    assert_eq!(
        item["check"],
        serde_json::json!({"verb": "get", "resource": "pods", "group": "", "name": "web-0", "namespace": "team-b"})
    );
    assert_eq!(item["status"]["allowed"], true);
    assert!(item["status"]["reason"].as_str().unwrap().contains("log-reader"));
}

/// kubectl sends a namespace with a cluster-scoped resource, so a RoleBinding in that namespace
/// answers "yes" for something no namespace holds; can-i-batch checks it cluster-wide.
#[test]
fn namespace_on_a_cluster_scoped_resource_gives_no_false_yes() {
    let server = server();
    let mut kubectl = testing::kubectl(&server);
    let ran = run(kubectl.args(["--context", "bob", "auth", "can-i", "list", "nodes", "-n", "ops"]), None);
    assert_eq!((ran.code, ran.stdout.trim()), (0, "yes"), "kubectl's false yes");

    let ran = run(plugin(&server, "bob").args(["--check", "list nodes -n ops", "-o", "json"]), None);
    assert_eq!(ran.code, 3);
    assert_eq!(ran.answers(), [false]);
    assert_eq!(ran.json()["items"][0]["check"]["namespace"], "");
    assert_eq!(ran.stderr, "Warning: resource 'nodes' is not namespace scoped: checked cluster-wide\n");
}

#[test]
fn list_prints_what_kubectl_auth_can_i_list_prints() {
    let server = server();
    for (context, namespace) in [("alice", "team-a"), ("alice", "team-b"), ("bob", "default"), ("admin", "ops")] {
        let ours = run(plugin(&server, context).args(["--list", "-n", namespace]), None);
        let mut kubectl = testing::kubectl(&server);
        let theirs = run(kubectl.args(["--context", context, "auth", "can-i", "--list", "-n", namespace]), None);
        assert_eq!(ours.code, 0, "{}", ours.stderr);
        assert_eq!(ours.stdout, theirs.stdout, "{context} in {namespace}");
    }
    let ran = run(plugin(&server, "alice").args(["--list", "--no-headers", "-n", "team-a"]), None);
    assert!(!ran.stdout.contains("Resources"));

    let ran = run(plugin(&server, "admin").args(["--list", "--subject", "user:alice"]), None);
    assert_eq!(ran.code, 1);
    assert!(ran.stderr.starts_with("error: --list works only for yourself"), "{}", ran.stderr);
}

#[test]
fn runs_as_a_kubectl_plugin() {
    let server = server();
    let dir = std::path::Path::new(common::BIN).parent().unwrap();
    let args = ["--context", "alice", "--check", "get pods -n team-a", "--check", "delete pods -n team-a"];
    let mut kubectl = testing::kubectl(&server);
    testing::prepend_path(&mut kubectl, dir);
    let through_kubectl = run(kubectl.arg("can-i-batch").args(args), None);
    let direct = run(bare(&server).args(args), None);
    assert_eq!(through_kubectl.code, 3, "{}", through_kubectl.stderr);
    assert_eq!(through_kubectl.stdout, direct.stdout);
    assert!(through_kubectl.stdout.contains("alice-dev"));
}

#[test]
fn help_documents_exit_codes_and_the_result_type() {
    let ran = run(std::process::Command::new(common::BIN).arg("--help"), None);
    assert_eq!(ran.code, 0);
    for needle in ["Exit codes:", "  3  any check is denied", "AccessCheckResult", "--subject", "Examples:"] {
        assert!(ran.stdout.contains(needle), "--help lacks {needle:?}");
    }
}
