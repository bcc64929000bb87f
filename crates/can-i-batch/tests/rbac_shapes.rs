//! Real-world RBAC shapes, created by the tests themselves, on the fake and on a real server:
//! grants through groups, aggregated ClusterRoles (with and without the aggregation controller),
//! `resourceNames`, subresources (`pods/log`, `pods/exec`) and ServiceAccount subjects. The
//! expected answers are written by hand; where cheap, kubectl is asked too.

mod common;

use common::{BIN, World, run, world};
use kubeplug_testenv::Env;

/// The `allowed` of each check, asked by `plugin` (a context and/or `--as`, `--subject`...).
fn answers(w: &World<'_>, identity: &[&str], checks: &[&str]) -> Vec<bool> {
    let mut cmd = w.bare();
    cmd.args(identity).args(["-o", "json"]);
    for check in checks {
        cmd.args(["--check", &w.fill(check)]);
    }
    let ran = run(&mut cmd, None);
    assert!(ran.code == 0 || ran.code == 3, "exit {}: {}", ran.code, ran.stderr);
    ran.answers()
}

/// The reason the server gives for one check.
fn reason(w: &World<'_>, identity: &[&str], check: &str) -> String {
    let ran = run(w.bare().args(identity).args(["-o", "json", "--check", &w.fill(check)]), None);
    assert!(ran.code == 0 || ran.code == 3, "exit {}: {}", ran.code, ran.stderr);
    ran.json()["items"][0]["status"]["reason"].as_str().unwrap_or_default().to_string()
}

/// kubectl's answers to the same checks (`--check` syntax), with the same identity arguments.
fn kubectl_answers(w: &World<'_>, identity: &[&str], checks: &[&str]) -> Vec<bool> {
    checks.iter().map(|check| w.kubectl_answer(identity, &w.fill(check))).collect()
}

kubeplug_testenv::backend_tests! {
    /// Grants to groups, namespaced and cluster-wide, reach whoever is in the group: yourself
    /// (the kubeconfig's groups), an impersonated user with `--as-group`, a `--subject group:`.
    fn rbac_through_groups(env) {
        let w = world(env);
        let (oncall, readers) = (env.name("oncall"), env.name("readers"));
        env.create(&w.fill(&format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: restarter, namespace: TEAM_A}}\n\
             rules: [{{apiGroups: [apps], resources: [deployments], verbs: [patch]}}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: oncall-restarter, namespace: TEAM_A}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: restarter}}\n\
             subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {oncall}}}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {readers}}}\n\
             rules: [{{apiGroups: [\"\"], resources: [namespaces], verbs: [get, list]}}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {readers}}}\n\
             roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {readers}}}\n\
             subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {readers}}}]\n"
        )));
        let dana = env.name("dana");
        let checks = [
            "patch deployments -n TEAM_A",
            "patch deployments -n TEAM_B",
            "list namespaces",
            "get namespaces TEAM_B",
            "delete namespaces TEAM_B",
        ];
        let in_oncall = ["--context", "admin", "--as", &dana, "--as-group", &oncall];
        assert_eq!(answers(&w, &in_oncall, &checks), [true, false, false, false, false]);
        let in_readers = ["--context", "admin", "--as", &dana, "--as-group", &readers];
        assert_eq!(answers(&w, &in_readers, &checks), [false, false, true, true, false]);
        let in_both = ["--context", "admin", "--as", &dana, "--as-group", &oncall, "--as-group", &readers];
        assert_eq!(answers(&w, &in_both, &checks), [true, false, true, true, false]);
        assert_eq!(kubectl_answers(&w, &in_both, &checks), [true, false, true, true, false]);
        let alone = ["--context", "admin", "--as", &dana];
        assert_eq!(answers(&w, &alone, &checks), [false; 5]);
        let group = format!("group:{oncall}");
        assert_eq!(answers(&w, &["--context", "admin", "--subject", &group], &checks), [true, false, false, false, false]);
        assert_eq!(
            reason(&w, &in_oncall, "patch deployments -n TEAM_A"),
            format!(r#"RBAC: allowed by RoleBinding "oncall-restarter/{}" of Role "restarter" to Group "{oncall}""#, w.team_a)
        );
        // Yourself: the test's alice is in devs through the kubeconfig; devs may scale in team-a
        // and read logs in team-b, alice-the-user alone may not.
        let devs_checks = ["update deployments/scale -n TEAM_A", "get pods/log -n TEAM_B"];
        assert_eq!(answers(&w, &["--context", "alice"], &devs_checks), [true, true]);
        let alice = format!("user:{}", w.alice);
        assert_eq!(answers(&w, &["--context", "admin", "--subject", &alice], &devs_checks), [false, false]);
    }

    /// Without kube-controller-manager (the plain real server) nothing aggregates: a ClusterRole
    /// with an aggregationRule grants the rules stored in it, not those of the roles its
    /// selector matches, and the bootstrap view and edit (stored without rules) grant nothing.
    fn aggregated_cluster_roles_without_the_aggregation_controller(env) {
        let w = world(env);
        let group = env.name("aggregated");
        env.create(&w.fill(&aggregation_manifests(env, &group, &w.team_a)));
        let stored = env.get("clusterroles", None, &env.name("aggregate")).expect("the aggregated ClusterRole");
        let own_rule = serde_json::json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["get"]}]);
        assert_eq!(stored["rules"], own_rule);
        let view = env.get("clusterroles", None, "view").expect("the bootstrap view");
        // Stored as the bootstrap policy has it, `rules: null`, and never filled in.
        assert!(view["aggregationRule"].is_object() && view["rules"].is_null(), "{view}");
        let identity = ["--context", "admin", "--as", "someone", "--as-group", &group];
        let checks = AGGREGATION_CHECKS.map(|(check, _, _)| check);
        let expected = AGGREGATION_CHECKS.map(|(_, without, _)| without);
        assert_eq!(answers(&w, &identity, &checks), expected);
        assert_eq!(kubectl_answers(&w, &identity, &checks), expected);
    }

    /// A rule with resourceNames allows only requests that name one of them: never list, watch
    /// of everything, create, or a request without a name.
    fn resource_names_limit_a_grant_to_named_objects(env) {
        let w = world(env);
        env.create(&w.fill(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: one-log, namespace: TEAM_B}\n\
             rules: [{apiGroups: [\"\"], resources: [pods/log], resourceNames: [web-1], verbs: [get]}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: bob-one-log, namespace: TEAM_B}\n\
             roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: one-log}\n\
             subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: BOB}]\n",
        ));
        // alice (devs): log-reader allows get on the pod web-0 only.
        let pods = ["get pods web-0 -n TEAM_B", "get pods web-1 -n TEAM_B", "get pods -n TEAM_B", "list pods -n TEAM_B", "delete pods web-0 -n TEAM_B"];
        assert_eq!(answers(&w, &["--context", "alice"], &pods), [true, false, false, false, false]);
        assert_eq!(kubectl_answers(&w, &["--context", "alice"], &pods), [true, false, false, false, false]);
        // The deployer service account: the secret db-creds, and no other.
        let deployer = format!("serviceaccount:{}:deployer", w.ci);
        let secrets = ["get secrets db-creds -n TEAM_B", "get secrets other -n TEAM_B", "list secrets -n TEAM_B", "watch secrets -n TEAM_B", "update secrets db-creds -n TEAM_B"];
        assert_eq!(answers(&w, &["--context", "admin", "--subject", &deployer], &secrets), [true, false, false, false, false]);
        // bob: the log of web-1 only, and not the pod itself.
        let logs = ["get pods/log web-1 -n TEAM_B", "get pods/log web-0 -n TEAM_B", "get pods/log -n TEAM_B", "get pods web-1 -n TEAM_B"];
        assert_eq!(answers(&w, &["--context", "bob"], &logs), [true, false, false, false]);
        assert_eq!(kubectl_answers(&w, &["--context", "bob"], &logs), [true, false, false, false]);
    }

    /// A subresource is a resource of its own to RBAC: `pods` grants neither `pods/log` nor
    /// `pods/exec`, and `pods/exec` grants nothing on `pods`.
    fn subresources_are_granted_apart_from_their_resource(env) {
        let w = world(env);
        let bob = [
            "create pods/exec -n TEAM_A",
            "get pods/exec -n TEAM_A",
            "create pods/exec web-0 -n TEAM_A",
            "create pods -n TEAM_A",
            "get pods/log -n TEAM_A",
            "create pods/exec -n TEAM_B",
        ];
        assert_eq!(answers(&w, &["--context", "bob"], &bob), [true, false, true, false, false, false]);
        assert_eq!(kubectl_answers(&w, &["--context", "bob"], &bob), [true, false, true, false, false, false]);
        let alice = [
            "get pods -n TEAM_A",
            "get pods/log -n TEAM_A",
            "get pods/log -n TEAM_B",
            "get pods/log web-9 -n TEAM_B",
            "get pods/status -n TEAM_B",
            "update deployments/scale -n TEAM_A",
            "update deployments -n TEAM_A",
            "get deployments/status -n TEAM_A",
        ];
        assert_eq!(answers(&w, &["--context", "alice"], &alice), [true, false, true, true, false, true, false, false]);
        assert_eq!(kubectl_answers(&w, &["--context", "alice"], &alice), [true, false, true, true, false, true, false, false]);
        assert_eq!(
            reason(&w, &["--context", "bob"], "create pods/exec -n TEAM_A"),
            format!(r#"RBAC: allowed by RoleBinding "bob-exec/{}" of Role "exec" to User "{}""#, w.team_a, w.bob)
        );
    }

    /// `--subject serviceaccount:NS:NAME` is the service account as its token authenticates:
    /// its own bindings, and those of the groups system:serviceaccounts and
    /// system:serviceaccounts:NS; the same answers as kubectl impersonating it.
    fn service_account_subjects(env) {
        let w = world(env);
        env.create(&w.fill(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: anyone, namespace: CI}\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: config-reader, namespace: TEAM_B}\n\
             rules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [list]}]\n---\n\
             apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ci-sas-config, namespace: TEAM_B}\n\
             roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: config-reader}\n\
             subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:serviceaccounts:CI\"}]\n",
        ));
        let checks = [
            "delete pods -n TEAM_A",
            "update deployments/scale -n TEAM_A",
            "get secrets db-creds -n TEAM_B",
            "list configmaps -n TEAM_B",
            "list pods -n TEAM_B",
            "delete pods -n TEAM_B",
        ];
        let deployer = format!("serviceaccount:{}:deployer", w.ci);
        let anyone = format!("serviceaccount:{}:anyone", w.ci);
        let elsewhere = format!("serviceaccount:{}:deployer", w.ops);
        assert_eq!(answers(&w, &["--context", "admin", "--subject", &deployer], &checks), [true, true, true, true, false, false]);
        assert_eq!(answers(&w, &["--context", "admin", "--subject", &anyone], &checks), [false, false, false, true, false, false]);
        assert_eq!(answers(&w, &["--context", "admin", "--subject", &elsewhere], &checks), [false; 6]);
        for (subject, sa) in [(&deployer, "deployer"), (&anyone, "anyone")] {
            let as_sa = format!("system:serviceaccount:{}:{sa}", w.ci);
            let by_kubectl = kubectl_answers(&w, &["--context", "admin", "--as", &as_sa], &checks);
            assert_eq!(answers(&w, &["--context", "admin", "--subject", subject], &checks), by_kubectl, "{subject}");
        }
        assert_eq!(
            reason(&w, &["--context", "admin", "--subject", &anyone], "list configmaps -n TEAM_B"),
            format!(
                r#"RBAC: allowed by RoleBinding "ci-sas-config/{}" of Role "config-reader" to Group "system:serviceaccounts:{}""#,
                w.team_b, w.ci
            )
        );
        assert_eq!(
            reason(&w, &["--context", "admin", "--subject", &deployer], "get secrets db-creds -n TEAM_B"),
            format!(
                r#"RBAC: allowed by RoleBinding "builder-secret-reader/{}" of Role "secret-reader" to ServiceAccount "deployer/{}""#,
                w.team_b, w.ci
            )
        );
    }
}

/// Checks in `TEAM_A` for the group bound to the aggregated role, view and edit: the answer
/// without and with the clusterrole-aggregation controller.
const AGGREGATION_CHECKS: [(&str, bool, bool); 5] = [
    // The rule stored in the aggregated role: overwritten by the controller.
    ("get roles.rbac.authorization.k8s.io -n TEAM_A", true, false),
    // The rule of the role its selector matches.
    ("list rolebindings.rbac.authorization.k8s.io -n TEAM_A", false, true),
    // Not matched by the selector (another label value). view and edit grant none of these three.
    ("delete rolebindings.rbac.authorization.k8s.io -n TEAM_A", false, false),
    // view's rules, and edit's.
    ("get pods -n TEAM_A", false, true),
    ("create deployments -n TEAM_A", false, true),
];

/// An aggregated ClusterRole with a rule of its own, a role its selector matches, one it does
/// not, and RoleBindings in `namespace` of it, view and edit to `group`.
fn aggregation_manifests(env: &Env, group: &str, namespace: &str) -> String {
    let (aggregate, part, other) = (env.name("aggregate"), env.name("aggregate-part"), env.name("aggregate-other"));
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {aggregate}}}\n\
         aggregationRule: {{clusterRoleSelectors: [{{matchLabels: {{kubeplug.test/aggregate-to: {aggregate}}}}}]}}\n\
         rules: [{{apiGroups: [rbac.authorization.k8s.io], resources: [roles], verbs: [get]}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n\
         metadata: {{name: {part}, labels: {{kubeplug.test/aggregate-to: {aggregate}}}}}\n\
         rules: [{{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [list]}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n\
         metadata: {{name: {other}, labels: {{kubeplug.test/aggregate-to: {other}}}}}\n\
         rules: [{{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [delete]}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: aggregated, namespace: {namespace}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {aggregate}}}\n\
         subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: view, namespace: {namespace}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}}\n\
         subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: edit, namespace: {namespace}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}}\n\
         subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]\n"
    )
}

kubeplug_testenv::real_server_tests! {
    /// With kube-controller-manager, the clusterrole-aggregation controller replaces an
    /// aggregated role's rules by those of the roles its selector matches, and fills view/edit.
    fn aggregated_cluster_roles_with_the_aggregation_controller(env) {
        let namespace = env.name("aggregation");
        env.create(&format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {namespace}}}\n"));
        let group = env.name("aggregated");
        env.create(&aggregation_manifests(env, &group, &namespace));
        let aggregate = env.name("aggregate");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let aggregated =
            serde_json::json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["list"]}]);
        loop {
            let role = env.get("clusterroles", None, &aggregate).expect("the aggregated ClusterRole");
            if role["rules"] == aggregated {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "not aggregated within 60 s: {role}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        let mut cmd = env.command(BIN);
        cmd.args(["--context", "admin", "--as", "someone", "--as-group", &group, "-o", "json"]);
        for (check, _, _) in AGGREGATION_CHECKS {
            cmd.args(["--check", &check.replace("TEAM_A", &namespace)]);
        }
        let ran = run(&mut cmd, None);
        assert_eq!(ran.code, 3, "{}\n{}", ran.stdout, ran.stderr);
        assert_eq!(ran.answers(), AGGREGATION_CHECKS.map(|(_, _, with)| with), "{}", ran.stdout);
    }
}
