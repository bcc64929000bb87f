//! The key promise: for a grid of checks over several users, every answer equals what the real
//! `kubectl auth can-i` answers on the same server, the fake and a real one.

mod common;

use std::collections::BTreeMap;

use common::{World, run, world, write};

/// The grid, one check per line in the `--check` syntax. Every line is also a valid
/// `kubectl auth can-i` question (see `common::kubectl_args`). Left out on purpose: `-n` on a
/// cluster-scoped resource and dotted unknown resources, where can-i-batch deliberately differs
/// (tested in `cli.rs`). `TEAM_A`, `TEAM_B`, `CI` and `OPS` are the test's namespaces.
const GRID: &str = "\
get pods -n TEAM_A
list pods -n TEAM_A
watch pods -n TEAM_A
delete pods -n TEAM_A
create pods -n TEAM_A
get pods -n TEAM_B
get pods web-0 -n TEAM_B
get pods web-1 -n TEAM_B
get pods/log -n TEAM_B
get pods/log web-0 -n TEAM_B
get pods/log -n TEAM_A
create pods/exec -n TEAM_A
get pods/exec -n TEAM_A
list pods -A
get po -n TEAM_A
list Pod -n TEAM_A
get pod web-0 -n TEAM_A
create deployments -n TEAM_A
create deploy -n TEAM_B
delete deployments.apps -n TEAM_A
list deployments -A
get deployments/scale -n TEAM_A
update deployments.apps/scale web -n TEAM_A
patch deployments/scale -n TEAM_B
list replicasets -n TEAM_A
list rs -n TEAM_B
list secrets -n TEAM_A
get secrets db-creds -n TEAM_B
get secrets other -n TEAM_B
list configmaps -n TEAM_B
create cm -n TEAM_A
list events -n TEAM_A
list services -n TEAM_A
list nodes
get nodes node-1
list nodes -A
get namespaces
list ns TEAM_A
list clusterrolebindings
list roles.rbac.authorization.k8s.io -n TEAM_A
create rolebindings -n TEAM_A
bind clusterroles
escalate roles -n TEAM_A
impersonate users
impersonate users bob
impersonate groups
impersonate serviceaccounts deployer -n CI
create selfsubjectaccessreviews
create subjectaccessreviews
get widgets -n TEAM_A
list cronjobs -n TEAM_A
frob pods -n TEAM_A
* * -n TEAM_A
get * -n TEAM_B
list * -A
get /healthz
get /metrics
post /metrics
get /api
get /version
get /logs
put /healthz
";

/// Who asks: the plugin's and kubectl's arguments are the same (`ALICE`, `DEVS`, `CI` and
/// `AUDITORS` are the test's own names, see `common::World::fill`).
const IDENTITIES: &[(&str, &[&str])] = &[
    ("admin", &["--context", "admin"]),
    ("alice", &["--context", "alice"]),
    ("bob", &["--context", "bob"]),
    ("as alice", &["--context", "admin", "--as", "ALICE"]),
    ("as alice in devs", &["--context", "admin", "--as", "ALICE", "--as-group", "DEVS"]),
    ("as the deployer service account", &["--context", "admin", "--as", "system:serviceaccount:CI:deployer"]),
    ("as an auditor", &["--context", "admin", "--as", "carol", "--as-group", "AUDITORS"]),
];

/// The identities' arguments with the test's names.
fn identities(w: &World<'_>) -> Vec<(&'static str, Vec<String>)> {
    IDENTITIES.iter().map(|(who, args)| (*who, args.iter().map(|a| w.fill(a)).collect())).collect()
}

/// The grid's checks with the test's names.
fn lines(w: &World<'_>) -> Vec<String> {
    GRID.lines().filter(|l| !l.trim().is_empty()).map(|l| w.fill(l)).collect()
}

/// kubectl's answers for every identity and check, several kubectl processes at a time.
fn kubectl_answers(w: &World<'_>) -> BTreeMap<(usize, usize), bool> {
    let identities = identities(w);
    let lines = lines(w);
    let jobs: Vec<(usize, usize)> = (0..identities.len()).flat_map(|i| (0..lines.len()).map(move |c| (i, c))).collect();
    let mut answers = BTreeMap::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(4))
            .map(|chunk| {
                let (lines, identities) = (&lines, &identities);
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&(i, c)| {
                            let args: Vec<&str> = identities[i].1.iter().map(String::as_str).collect();
                            ((i, c), w.kubectl_answer(&args, &lines[c]))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            answers.extend(handle.join().expect("a kubectl worker"));
        }
    });
    answers
}

kubeplug_testenv::backend_tests! {
    fn every_answer_equals_kubectl_auth_can_i_for_every_user(env) {
        let w = world(env);
        let dir = tempfile::tempdir().unwrap();
        let grid = write(dir.path(), "grid.txt", &w.fill(GRID));
        let lines = lines(&w);
        let identities = identities(&w);
        let expected = kubectl_answers(&w);

        let mut mismatches = Vec::new();
        let (mut yes, mut no) = (0, 0);
        for (i, (who, args)) in identities.iter().enumerate() {
            let ran = run(w.bare().args(args).args(["-f", &grid, "-o", "json"]), None);
            assert!(ran.code == 0 || ran.code == 3, "{who}: exit {}: {}", ran.code, ran.stderr);
            let answers = ran.answers();
            assert_eq!(answers.len(), lines.len(), "{who}: one answer per check");
            for (c, line) in lines.iter().enumerate() {
                let kubectl = expected[&(i, c)];
                if answers[c] {
                    yes += 1;
                } else {
                    no += 1;
                }
                if answers[c] != kubectl {
                    mismatches.push(format!("{who}: {line}: can-i-batch {} kubectl {}", answers[c], kubectl));
                }
            }
        }
        assert!(mismatches.is_empty(), "answers differ from kubectl:\n{}", mismatches.join("\n"));
        assert!(yes + no >= 100, "the grid has at least 100 checks ({})", yes + no);
        // A grid of all-yes or all-no would prove little.
        assert!(yes >= 60 && no >= 60, "yes {yes}, no {no}");

        // Named subjects (SubjectAccessReview) answer like impersonating them with kubectl.
        let ran = run(
            w.plugin("admin").args([
                "-f",
                &grid,
                "-o",
                "json",
                "--subject",
                &w.fill("user:ALICE"),
                "--subject",
                &w.fill("serviceaccount:CI:deployer"),
                "--subject",
                &w.fill("group:AUDITORS"),
            ]),
            None,
        );
        assert!(ran.code == 0 || ran.code == 3, "exit {}: {}", ran.code, ran.stderr);
        let answers = ran.answers();
        assert_eq!(answers.len(), lines.len() * 3);
        // Identities 3, 5 and 6 are --as alice, --as the deployer, --as a member of auditors.
        for (c, line) in lines.iter().enumerate() {
            for (s, identity) in [3, 5, 6].into_iter().enumerate() {
                let kubectl = expected[&(identity, c)];
                let ours = answers[c * 3 + s];
                if ours != kubectl {
                    mismatches.push(format!("{}: {line}: --subject {ours}, kubectl {kubectl}", IDENTITIES[identity].0));
                }
            }
        }
        assert!(mismatches.is_empty(), "--subject answers differ from kubectl --as:\n{}", mismatches.join("\n"));
    }
}
