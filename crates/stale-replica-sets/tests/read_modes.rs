//! `--read MODE` end to end on both backends: every way of reading the lists finds the same
//! stale ReplicaSets as the default read, and those are ReplicaSets `kubectl get rs -A -o json`
//! shows at 0 replicas. A test binary of its own, so that `-A` on the real server sees this
//! test's objects only.

mod common;

use common::*;
use kubeplug_testenv::backend_tests;

/// The read modes, as the flag spells them.
const MODES: [&str; 4] = ["paged", "watch-list", "stream", "cached"];

/// More bare ReplicaSets than one page of 500, every other one at 0 replicas.
const BIG: u32 = 600;

/// The names `-o name` prints, sorted.
fn sorted_lines(out: &str) -> Vec<String> {
    let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

backend_tests! {
    /// paged, watch-list, stream and cached all list what the default read lists, across
    /// namespaces and pages; each of those ReplicaSets has spec.replicas 0 on the server.
    fn every_read_mode_finds_the_same_stale_replicasets(env) {
        let shop = shop(env);
        let big = env.namespace("big");
        let yaml: String = (0..BIG)
            .map(|i| replicaset_yaml(&big, &format!("app-{i:04}"), Owner::None, 1, i % 2, "app", ""))
            .collect();
        env.create(&yaml);

        // Written by hand from the fixtures: shop's stale ones (not web-3, api-2 in use; not the
        // Rollout's canaries; not cart-1 in use), and big's even-numbered ones.
        let mut expected: Vec<String> = ["api-1", "bare", "cart-old-1", "web-1", "web-2"]
            .iter()
            .map(|n| format!("replicaset.apps/{n}"))
            .chain((0..BIG).step_by(2).map(|i| format!("replicaset.apps/app-{i:04}")))
            .collect();
        expected.sort();

        let default = sorted_lines(&ok(run(env, &["-A", "-o", "name"])));
        assert_eq!(default, expected, "the default read");
        for mode in MODES {
            if let Some(fake) = env.fake() {
                fake.clear_requests(); // fake-only: request records
            }
            let listed = sorted_lines(&ok(run(env, &["-A", "--read", mode, "-o", "name"])));
            assert_eq!(listed, default, "--read {mode}");
            if let Some(fake) = env.fake() {
                // Fake-only: each mode asked the way it says, in protobuf.
                let lists: Vec<_> = fake
                    .requests()
                    .into_iter()
                    .filter(|r| r.method == "GET" && r.path == "/apis/apps/v1/replicasets")
                    .collect();
                let queries: Vec<&str> = lists.iter().map(|r| r.query.as_str()).collect();
                let all = |what: &str| queries.iter().all(|q| q.contains(what));
                let none = |what: &str| queries.iter().all(|q| !q.contains(what));
                match mode {
                    "paged" => assert!(queries.len() == 2 && all("limit=500") && none("watch"), "{queries:?}"),
                    "watch-list" => assert!(
                        queries.len() == 1 && all("watch=true") && all("sendInitialEvents=true") && all("resourceVersionMatch=NotOlderThan"),
                        "{queries:?}"
                    ),
                    "stream" => assert!(queries.len() == 1 && none("limit") && none("watch") && none("resourceVersion="), "{queries:?}"),
                    _ => assert!(queries.len() == 1 && all("resourceVersion=0") && none("limit") && none("watch"), "{queries:?}"),
                }
                for r in &lists {
                    let accept = r.headers.iter().find(|(k, _)| k == "accept").map(|(_, v)| v.as_str());
                    assert_eq!(accept, Some("application/vnd.kubernetes.protobuf, application/json"), "--read {mode}");
                }
            }
        }

        // What kubectl shows on the same server: each of them at spec.replicas 0.
        let out = env.kubectl().args(["get", "rs", "-A", "-o", "json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "kubectl: {}", stderr(&out));
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let replicas: std::collections::HashMap<String, (String, i64)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|rs| {
                let name = format!("replicaset.apps/{}", rs["metadata"]["name"].as_str().unwrap());
                let ns = rs["metadata"]["namespace"].as_str().unwrap().to_string();
                (name, (ns, rs["spec"]["replicas"].as_i64().unwrap()))
            })
            .collect();
        for name in &default {
            let (ns, n) = replicas.get(name).unwrap_or_else(|| panic!("kubectl does not show {name}"));
            assert!(ns == &shop || ns == &big, "{name} in {ns}");
            assert_eq!(*n, 0, "{name} in {ns}: spec.replicas per kubectl");
        }
    }

    /// An unknown --read value: one line naming it, exit 1, nothing read.
    fn an_unknown_read_mode_is_a_one_line_error_naming_it(env) {
        let o = run(env, &["-A", "--read", "nope"]);
        assert_one_line_error(&o, "invalid value 'nope' for '--read <MODE>'");
        assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    }
}
