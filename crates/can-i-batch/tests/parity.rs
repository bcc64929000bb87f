//! The key promise: for a grid of checks over several users, every answer equals what the real
//! `kubectl auth can-i` answers on the same server.

mod common;

use std::collections::BTreeMap;

use common::{bare, kubectl_answer, plugin, run, server, write};

/// The grid, one check per line in the `--check` syntax. Every line is also a valid
/// `kubectl auth can-i` question (see `common::kubectl_args`). Left out on purpose: `-n` on a
/// cluster-scoped resource and dotted unknown resources, where can-i-batch deliberately differs
/// (tested in `cli.rs`).
const GRID: &str = "\
get pods -n team-a
list pods -n team-a
watch pods -n team-a
delete pods -n team-a
create pods -n team-a
get pods -n team-b
get pods web-0 -n team-b
get pods web-1 -n team-b
get pods/log -n team-b
get pods/log web-0 -n team-b
get pods/log -n team-a
create pods/exec -n team-a
get pods/exec -n team-a
list pods -A
get po -n team-a
list Pod -n team-a
get pod web-0 -n team-a
create deployments -n team-a
create deploy -n team-b
delete deployments.apps -n team-a
list deployments -A
get deployments/scale -n team-a
update deployments.apps/scale web -n team-a
patch deployments/scale -n team-b
list replicasets -n team-a
list rs -n team-b
list secrets -n team-a
get secrets db-creds -n team-b
get secrets other -n team-b
list configmaps -n team-b
create cm -n team-a
list events -n team-a
list services -n team-a
list nodes
get nodes node-1
list nodes -A
get namespaces
list ns team-a
list clusterrolebindings
list roles.rbac.authorization.k8s.io -n team-a
create rolebindings -n team-a
bind clusterroles
escalate roles -n team-a
impersonate users
impersonate users bob
impersonate groups
impersonate serviceaccounts deployer -n ci
create selfsubjectaccessreviews
create subjectaccessreviews
get widgets -n team-a
list cronjobs -n team-a
frob pods -n team-a
* * -n team-a
get * -n team-b
list * -A
get /healthz
get /metrics
post /metrics
get /api
get /version
get /logs
put /healthz
";

/// Who asks: the plugin's and kubectl's arguments are the same.
const IDENTITIES: &[(&str, &[&str])] = &[
    ("admin", &["--context", "admin"]),
    ("alice", &["--context", "alice"]),
    ("bob", &["--context", "bob"]),
    ("as alice", &["--context", "admin", "--as", "alice"]),
    ("as alice in devs", &["--context", "admin", "--as", "alice", "--as-group", "devs"]),
    ("as the deployer service account", &["--context", "admin", "--as", "system:serviceaccount:ci:deployer"]),
    ("as an auditor", &["--context", "admin", "--as", "carol", "--as-group", "auditors"]),
];

fn lines() -> Vec<&'static str> {
    GRID.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// kubectl's answers for every identity and check, several kubectl processes at a time.
fn kubectl_answers(server: &apiserver_fake::FakeServer) -> BTreeMap<(usize, usize), bool> {
    let jobs: Vec<(usize, usize)> =
        (0..IDENTITIES.len()).flat_map(|i| (0..lines().len()).map(move |c| (i, c))).collect();
    let lines = lines();
    let mut answers = BTreeMap::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(4))
            .map(|chunk| {
                let lines = &lines;
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|&(i, c)| ((i, c), kubectl_answer(server, IDENTITIES[i].1, lines[c])))
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

#[test]
fn every_answer_equals_kubectl_auth_can_i_for_every_user() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let grid = write(dir.path(), "grid.txt", GRID);
    let lines = lines();
    let expected = kubectl_answers(&server);

    let mut mismatches = Vec::new();
    let (mut yes, mut no) = (0, 0);
    for (i, (who, args)) in IDENTITIES.iter().enumerate() {
        let ran = run(bare(&server).args(*args).args(["-f", &grid, "-o", "json"]), None);
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
        plugin(&server, "admin").args([
            "-f",
            &grid,
            "-o",
            "json",
            "--subject",
            "user:alice",
            "--subject",
            "serviceaccount:ci:deployer",
            "--subject",
            "group:auditors",
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
