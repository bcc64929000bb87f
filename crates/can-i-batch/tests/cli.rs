//! End-to-end behaviour of `kubectl can-i-batch`, on the fake and on a real API server: input
//! forms, subjects, impersonation, expectations and exit codes, bad input, `--list`, plugin
//! dispatch.

mod common;

use common::{BIN, run, world, write};

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

kubeplug_testenv::backend_tests! {
    fn check_flags_print_a_table_and_exit_0_when_all_are_allowed(env) {
        let w = world(env);
        let ran = run(
            w.plugin("alice").args([
                "--check",
                &format!("get pods -n {}", w.team_a),
                "--check",
                &format!("get pods/log -n {}", w.team_b),
                "--check",
                "get /metrics",
            ]),
            None,
        );
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        let lines: Vec<&str> = ran.stdout.lines().collect();
        assert_eq!(words(lines[0]), ["VERB", "RESOURCE", "NAME", "NAMESPACE", "SUBJECT", "ALLOWED", "REASON"]);
        assert_eq!(words(lines[1])[..6], ["get", "pods", "*", &w.team_a, "self", "yes"]);
        assert!(lines[1].contains(&format!(r#"RoleBinding "alice-dev/{}""#, w.team_a)), "{}", lines[1]);
        assert_eq!(words(lines[2])[..6], ["get", "pods/log", "*", &w.team_b, "self", "yes"]);
        assert_eq!(words(lines[3])[..6], ["get", "/metrics", "-", "-", "self", "yes"]);
        assert_eq!(lines.len(), 4);
    }

    fn any_denied_check_exits_3(env) {
        let w = world(env);
        let ran = run(
            w.plugin("alice").args([
                "--check",
                &format!("get pods -n {}", w.team_a),
                "--check",
                &format!("delete pods -n {}", w.team_a),
            ]),
            None,
        );
        assert_eq!(ran.code, 3, "{}", ran.stderr);
        assert_eq!(words(ran.stdout.lines().nth(2).unwrap())[..6], ["delete", "pods", "*", &w.team_a, "self", "no"]);
    }

    fn yaml_file_with_every_expectation_met_exits_0(env) {
        let w = world(env);
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "checks.yaml",
            &w.fill(
                "# what alice may and may not do\n\
                 - {verb: create, resource: deployments, group: apps, namespace: TEAM_A, expect: allowed}\n\
                 - verb: delete\n  resource: pods\n  namespace: TEAM_A\n  expect: denied\n\
                 - {verb: get, nonResourceURL: /metrics, expect: allowed}\n\
                 - {verb: get, resource: secrets, namespace: TEAM_B, expect: denied}\n",
            ),
        );
        let ran = run(w.plugin("alice").args(["-f", &file]), None);
        assert_eq!(ran.code, 0, "denied checks that expect denial pass: {}", ran.stderr);
        assert!(ran.stderr.is_empty(), "{}", ran.stderr);
        assert!(ran.stdout.lines().next().unwrap().contains("EXPECT"));
    }

    fn unmet_expectations_exit_3_and_are_listed_on_stderr(env) {
        let w = world(env);
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "checks.yaml",
            &w.fill(
                "- {verb: get, resource: pods, namespace: TEAM_A, expect: allowed}\n\
                 - {verb: delete, resource: pods, namespace: TEAM_A, expect: allowed}\n\
                 - {verb: list, resource: nodes, expect: denied}\n",
            ),
        );
        let ran = run(w.plugin("alice").args(["-f", &file]), None);
        assert_eq!(ran.code, 3);
        let stderr: Vec<&str> = ran.stderr.lines().collect();
        assert_eq!(
            stderr,
            [
                format!("expectation not met: {file}:2: self delete pods -n {}: expected allowed, got denied", w.team_a),
                format!("expectation not met: {file}:3: self list nodes -A: expected denied, got allowed"),
                "2 of 3 expectations not met".to_string(),
            ]
        );
        assert!(ran.stdout.contains("allowed (unmet)"), "{}", ran.stdout);
    }

    fn json_file_and_stdin_lines_are_read(env) {
        let w = world(env);
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            dir.path(),
            "checks.json",
            &w.fill(
                r#"[{"verb": "get", "resource": "pods", "subresource": "log", "name": "web-0", "namespace": "TEAM_B"},
                    {"verb": "get", "resource": "pods", "name": "web-1", "namespace": "TEAM_B"}]"#,
            ),
        );
        let ran = run(w.plugin("alice").args(["-f", &file, "-o", "json"]), None);
        assert_eq!(ran.answers(), [true, false], "{}", ran.stderr);

        let stdin =
            w.fill("# from a pipe\nget pods -n TEAM_A --expect allowed\n\nlist secrets -A --expect denied # comment\n");
        let ran = run(w.plugin("alice").args(["-f", "-", "-o", "json"]), Some(&stdin));
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        let json = ran.json();
        assert_eq!(json["items"][0]["source"], "<stdin>:2");
        assert_eq!(json["items"][1]["source"], "<stdin>:4");
        assert_eq!(json["items"][1]["check"]["namespace"], "");
        assert_eq!(json["items"][1]["expectationMet"], true);
    }

    fn matrix_prints_resources_by_verbs_for_each_namespace(env) {
        let w = world(env);
        let namespaces = format!("{},{}", w.team_a, w.team_b);
        let ran = run(
            w.plugin("alice").args(["--verbs", "get,list,delete", "--resources", "pods,deploy,nodes", "--namespaces", &namespaces]),
            None,
        );
        assert_eq!(ran.code, 3, "{}", ran.stderr);
        let lines: Vec<Vec<&str>> = ran.stdout.lines().map(words).collect();
        let (a, b) = (w.team_a.as_str(), w.team_b.as_str());
        assert_eq!(
            lines,
            [
                vec!["RESOURCE", "NAMESPACE", "GET", "LIST", "DELETE"],
                vec!["pods", a, "yes", "yes", "no"],
                vec!["pods", b, "no", "no", "no"],
                vec!["deployments.apps", a, "yes", "yes", "no"],
                vec!["deployments.apps", b, "no", "no", "no"],
                vec!["nodes", "*", "yes", "yes", "no"],
            ]
        );
    }

    fn matrix_has_one_column_block_per_subject(env) {
        let w = world(env);
        let (alice, deployer) = (format!("user:{}", w.alice), format!("serviceaccount:{}:deployer", w.ci));
        let ran = run(
            w.plugin("admin").args([
                "--verbs", "get,delete", "--resources", "pods", "-n", &w.team_a, "--subject", &alice, "--subject", &deployer,
            ]),
            None,
        );
        let lines: Vec<Vec<&str>> = ran.stdout.lines().map(words).collect();
        assert_eq!(
            lines,
            [
                vec![alice.as_str(), deployer.as_str()],
                vec!["RESOURCE", "NAMESPACE", "GET", "DELETE", "GET", "DELETE"],
                vec!["pods", &w.team_a, "yes", "no", "yes", "yes"],
            ]
        );
    }

    fn each_subject_form_is_checked_with_subject_access_reviews(env) {
        let w = world(env);
        let ran = run(
            w.plugin("admin").args([
                "--check",
                &format!("get pods/log -n {}", w.team_b),
                "--check",
                &format!("delete pods -n {}", w.team_a),
                "--subject",
                &format!("user:{}", w.alice),
                "--subject",
                &format!("group:{}", w.devs),
                "--subject",
                &format!("serviceaccount:{}:deployer", w.ci),
                "-o",
                "json",
            ]),
            None,
        );
        assert_eq!(ran.code, 3, "{}", ran.stderr);
        let json = ran.json();
        let subjects: Vec<&serde_json::Value> = json["items"].as_array().unwrap().iter().map(|i| &i["subject"]).collect();
        assert_eq!(subjects[0], &serde_json::json!({"kind": "User", "name": w.alice}));
        assert_eq!(subjects[1], &serde_json::json!({"kind": "Group", "name": w.devs}));
        assert_eq!(subjects[2], &serde_json::json!({"kind": "ServiceAccount", "namespace": w.ci, "name": "deployer"}));
        // pods/log in team-b is granted to group devs only; delete pods in team-a to the deployer only.
        assert_eq!(ran.answers(), [false, true, false, false, false, true]);
        if let Some(fake) = env.fake() {
            // Fake only: the server's request record shows which reviews were sent.
            let posts = fake.requests().into_iter().filter(|r| r.method == "POST").collect::<Vec<_>>();
            assert!(!posts.is_empty() && posts.iter().all(|r| r.path.ends_with("/subjectaccessreviews")), "{posts:?}");
        }
    }

    fn bob_may_not_create_subject_access_reviews(env) {
        let w = world(env);
        let ran = run(w.plugin("bob").args(["--check", "get pods", "--subject", &format!("user:{}", w.alice)]), None);
        assert_eq!(ran.code, 1);
        assert!(ran.stdout.is_empty());
        assert!(
            ran.stderr
                .starts_with("error: you may not create subjectaccessreviews.authorization.k8s.io (--subject needs it): "),
            "{}",
            ran.stderr
        );
        let refusal = format!(r#"User "{}" cannot create resource "subjectaccessreviews""#, w.bob);
        assert!(ran.stderr.contains(&refusal), "{}", ran.stderr);
    }

    fn impersonation_checks_the_impersonated_user(env) {
        let w = world(env);
        let ran = run(
            w.plugin("admin").args([
                "--as",
                &w.alice,
                "--as-group",
                &w.devs,
                "--check",
                &format!("get pods/log -n {}", w.team_b),
                "--check",
                &format!("delete pods -n {}", w.team_a),
            ]),
            None,
        );
        assert_eq!(ran.code, 3, "{}", ran.stderr);
        let lines: Vec<Vec<&str>> = ran.stdout.lines().map(words).collect();
        let shown = format!("as:{}+group:{}", w.alice, w.devs);
        assert_eq!(lines[1][4..6], [shown.as_str(), "yes"]);
        assert_eq!(lines[2][4..6], [shown.as_str(), "no"]);
        // Without the group, alice-the-user alone may not read the logs in team-b.
        let ran = run(w.plugin("admin").args(["--as", &w.alice, "--check", &format!("get pods/log -n {}", w.team_b)]), None);
        assert_eq!(ran.code, 3, "{}", ran.stderr);
        if let Some(fake) = env.fake() {
            // Fake only: the reviews reached the server as the impersonated user.
            let reviews: Vec<_> =
                fake.requests().into_iter().filter(|r| r.path.ends_with("/selfsubjectaccessreviews")).collect();
            assert_eq!(reviews.len(), 3);
            assert!(reviews.iter().all(|r| r.user.as_deref() == Some(w.alice.as_str())), "{reviews:?}");
        }
    }

    fn malformed_checks_name_the_file_and_line(env) {
        let w = world(env);
        let dir = tempfile::tempdir().unwrap();
        let lines = write(dir.path(), "checks.txt", &w.fill("get pods -n TEAM_A\n# fine so far\nget pods -n\n"));
        let ran = run(w.plugin("alice").args(["-f", &lines]), None);
        assert_eq!(ran.code, 1);
        assert_eq!(ran.stderr, format!("error: {lines}:3: -n needs a namespace\n"));
        assert!(ran.stdout.is_empty());

        let yaml = write(dir.path(), "checks.yaml", "- verb: get\n  resource: pods\n- verb: list\n  resourec: pods\n");
        let ran = run(w.plugin("alice").args(["-f", &yaml]), None);
        assert_eq!(ran.code, 1);
        assert!(ran.stderr.starts_with(&format!("error: {yaml}:4:3: unknown field `resourec`")), "{}", ran.stderr);
        assert_eq!(ran.stderr.lines().count(), 1, "{}", ran.stderr);

        let ran = run(w.plugin("alice").args(["--check", "get pods web extra"]), None);
        assert_eq!(ran.code, 1);
        assert!(
            ran.stderr.starts_with(r#"error: --check "get pods web extra": unexpected argument 'extra'"#),
            "{}",
            ran.stderr
        );

        let ran = run(w.plugin("alice").args(["-f", "/nonexistent/checks.yaml"]), None);
        assert_eq!(ran.code, 1);
        assert_eq!(ran.stderr, "error: /nonexistent/checks.yaml: no such file or directory\n");
    }

    fn unknown_verbs_and_resources_warn_like_kubectl_and_are_still_checked(env) {
        let w = world(env);
        let ran = run(
            w.plugin("admin").args([
                "--check",
                &format!("frob pods -n {}", w.team_a),
                "--check",
                &format!("get widgets -n {}", w.team_a),
            ]),
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
            let ran = run(w.kubectl().args(["auth", "can-i"]).args(args), None);
            assert!(ran.stderr.lines().any(|l| l == warning), "kubectl said: {}", ran.stderr);
        }
        assert_eq!(ran.stdout.lines().count(), 3);
    }

    fn malformed_subjects_are_named(env) {
        let w = world(env);
        for value in ["robot:x", "serviceaccount:ci", "alice"] {
            let ran = run(w.plugin("admin").args(["--check", "get pods", "--subject", value]), None);
            assert_eq!(ran.code, 1);
            assert!(ran.stderr.starts_with(&format!("error: --subject \"{value}\": expected")), "{}", ran.stderr);
        }
        if let Some(fake) = env.fake() {
            // Fake only: the request record shows that nothing was sent.
            assert!(fake.requests().is_empty(), "bad input is refused before any request");
        }
    }

    fn empty_input_is_an_error(env) {
        let w = world(env);
        let ran = run(&mut w.plugin("alice"), None);
        assert_eq!(ran.code, 1);
        assert!(ran.stderr.starts_with("error: no checks given"), "{}", ran.stderr);

        let dir = tempfile::tempdir().unwrap();
        let empty = write(dir.path(), "empty.yaml", "# nothing yet\n\n");
        let ran = run(w.plugin("alice").args(["-f", &empty]), None);
        assert_eq!(ran.code, 1);
        assert_eq!(ran.stderr, format!("error: {empty}: no checks in the file\n"));

        let ran = run(w.plugin("alice").args(["-f", "-"]), Some(""));
        assert_eq!(ran.code, 1);
        assert_eq!(ran.stderr, "error: <stdin>: no checks in the file\n");

        let ran = run(w.plugin("alice").args(["--verbs", "get"]), None);
        assert_eq!(ran.code, 1);
        assert!(ran.stderr.starts_with("error: --verbs needs --resources"), "{}", ran.stderr);
    }

    fn identical_checks_are_asked_once(env) {
        let w = world(env);
        let ran = run(
            w.plugin("alice").args([
                "--check",
                &format!("get pods -n {}", w.team_a),
                "--check",
                &format!("get po -n {}", w.team_a),
                "--check",
                &format!("get Pod -n {}", w.team_a),
                "--check",
                &format!("list pods -n {}", w.team_a),
                "-o",
                "json",
            ]),
            None,
        );
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        assert_eq!(ran.answers(), [true, true, true, true]);
        if let Some(fake) = env.fake() {
            // Fake only: counting the reviews needs the server's request record.
            let reviews = fake.requests().into_iter().filter(|r| r.path.ends_with("/selfsubjectaccessreviews")).count();
            assert_eq!(reviews, 2, "get pods and list pods, each once");
        }
    }

    /// On the fake the first reviews are throttled (429 with Retry-After) and must be retried;
    /// the real server answers them at once. The answers are the same either way.
    fn throttled_reviews_are_retried(env) {
        let w = world(env);
        if let Some(fake) = env.fake() {
            fake.faults().throttle_next(3, 1);
        }
        let ran = run(
            w.plugin("alice").args([
                "--check",
                &format!("get pods -n {}", w.team_a),
                "--check",
                &format!("delete pods -n {}", w.team_a),
                "-o",
                "json",
            ]),
            None,
        );
        assert_eq!(ran.code, 3, "{}", ran.stderr);
        assert_eq!(ran.answers(), [true, false]);
        if let Some(fake) = env.fake() {
            let reviews = fake.requests().into_iter().filter(|r| r.path.ends_with("/selfsubjectaccessreviews")).count();
            assert!(reviews >= 5, "3 throttled and 2 answered reviews: {reviews}");
        }
    }

    fn quiet_prints_nothing_and_still_tells_by_exit_code(env) {
        let w = world(env);
        let denied = format!("get pods -n {} --expect denied", w.team_a);
        let ran = run(w.plugin("alice").args(["-q", "--check", &denied]), None);
        assert_eq!((ran.code, ran.stdout.as_str(), ran.stderr.as_str()), (3, "", ""));
        let ran = run(w.plugin("alice").args(["-q", "--check", &format!("get pods -n {}", w.team_a)]), None);
        assert_eq!((ran.code, ran.stdout.as_str(), ran.stderr.as_str()), (0, "", ""));
    }

    fn yaml_output_is_a_list_of_results(env) {
        let w = world(env);
        let ran = run(w.plugin("alice").args(["--check", &format!("get pods web-0 -n {}", w.team_b), "-o", "yaml"]), None);
        assert_eq!(ran.code, 0, "{}", ran.stderr);
        let doc: serde_json::Value = serde_saphyr::from_str(&ran.stdout).expect("YAML output");
        assert_eq!(doc["kind"], "List");
        let item = &doc["items"][0];
        assert_eq!(item["kind"], "AccessCheckResult");
        assert_eq!(
            item["check"],
            serde_json::json!({"verb": "get", "resource": "pods", "group": "", "name": "web-0", "namespace": w.team_b})
        );
        assert_eq!(item["status"]["allowed"], true);
        assert_eq!(
            item["status"]["reason"],
            format!(
                r#"RBAC: allowed by RoleBinding "devs-log-reader/{}" of Role "log-reader" to Group "{}""#,
                w.team_b, w.devs
            )
        );
    }

    /// kubectl sends a namespace with a cluster-scoped resource, so a RoleBinding in that namespace
    /// answers "yes" for something no namespace holds; can-i-batch checks it cluster-wide.
    fn namespace_on_a_cluster_scoped_resource_gives_no_false_yes(env) {
        let w = world(env);
        let ran = run(w.kubectl().args(["--context", "bob", "auth", "can-i", "list", "nodes", "-n", &w.ops]), None);
        assert_eq!((ran.code, ran.stdout.trim()), (0, "yes"), "kubectl's false yes");

        let ran = run(w.plugin("bob").args(["--check", &format!("list nodes -n {}", w.ops), "-o", "json"]), None);
        assert_eq!(ran.code, 3);
        assert_eq!(ran.answers(), [false]);
        assert_eq!(ran.json()["items"][0]["check"]["namespace"], "");
        assert_eq!(ran.stderr, "Warning: resource 'nodes' is not namespace scoped: checked cluster-wide\n");
    }

    fn list_prints_what_kubectl_auth_can_i_list_prints(env) {
        let w = world(env);
        for (context, namespace) in
            [("alice", w.team_a.as_str()), ("alice", &w.team_b), ("bob", "default"), ("bob", &w.team_a), ("admin", &w.ops)]
        {
            let ours = run(w.plugin(context).args(["--list", "-n", namespace]), None);
            let theirs = run(w.kubectl().args(["--context", context, "auth", "can-i", "--list", "-n", namespace]), None);
            assert_eq!(ours.code, 0, "{}", ours.stderr);
            assert_eq!(ours.stdout, theirs.stdout, "{context} in {namespace}");
        }
        // What alice's Role in team-a grants, as a row of the list.
        let ran = run(w.plugin("alice").args(["--list", "--no-headers", "-n", &w.team_a]), None);
        assert!(!ran.stdout.contains("Resources"));
        let row = ran.stdout.lines().map(words).find(|row| row.first() == Some(&"deployments.apps"));
        assert_eq!(row, Some(vec!["deployments.apps", "[]", "[]", "[get", "list", "watch", "create]"]), "{}", ran.stdout);

        let ran = run(w.plugin("admin").args(["--list", "--subject", &format!("user:{}", w.alice)]), None);
        assert_eq!(ran.code, 1);
        assert!(ran.stderr.starts_with("error: --list works only for yourself"), "{}", ran.stderr);
    }

    fn runs_as_a_kubectl_plugin(env) {
        let w = world(env);
        let dir = std::path::Path::new(BIN).parent().unwrap();
        let (get, delete) = (format!("get pods -n {}", w.team_a), format!("delete pods -n {}", w.team_a));
        let args = ["--context", "alice", "--check", &get, "--check", &delete];
        let mut kubectl = w.kubectl();
        apiserver_fake::testing::prepend_path(&mut kubectl, dir);
        let through_kubectl = run(kubectl.arg("can-i-batch").args(args), None);
        let direct = run(w.bare().args(args), None);
        assert_eq!(through_kubectl.code, 3, "{}", through_kubectl.stderr);
        assert_eq!(through_kubectl.stdout, direct.stdout);
        assert!(through_kubectl.stdout.contains("alice-dev"));
    }
}

#[test]
fn help_documents_exit_codes_and_the_result_type() {
    let ran = run(std::process::Command::new(BIN).arg("--help"), None);
    assert_eq!(ran.code, 0);
    for needle in ["Exit codes:", "  3  any check is denied", "AccessCheckResult", "--subject", "Examples:"] {
        assert!(ran.stdout.contains(needle), "--help lacks {needle:?}");
    }
}
