//! Replays every request recorded from a real kube-apiserver v1.32 (reference/cases and the
//! discovery documents in reference/) against the fake, as the recorded user, and compares the
//! shape of the answer: status code, kind, reason, and the field names present.

use std::collections::BTreeSet;
use std::path::Path;

use apiserver_fake::FakeServer;
use apiserver_fake::testing::{As, request};
use serde_json::{Value, json};

/// Cases the fake does not reproduce, and why.
const UNMATCHED: &[(&str, &str)] = &[];

/// Cases that change state, replayed last in this order (the recording ran them so).
const LAST: &[&str] = &[
    "list-rs-expired-continue",
    "delete-rs-precondition-ok",
    "delete-rs-query-dryrun-with-body",
    "get-rs-after-query-dryrun",
];

fn reference_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reference")
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The world the recordings were made in, rebuilt from the recorded objects themselves.
fn reference_world() -> FakeServer {
    let server = FakeServer::start().unwrap();
    let cases = reference_dir().join("cases");
    let strip = |mut v: Value| {
        if let Some(m) = v["metadata"].as_object_mut() {
            m.remove("managedFields");
            m.remove("resourceVersion");
        }
        v
    };
    server
        .apply(
            r#"
apiVersion: v1
kind: Namespace
metadata: {name: ref}
---
apiVersion: v1
kind: Namespace
metadata: {name: demo}
"#,
        )
        .unwrap();
    server.apply(apiserver_fake::RECORDED_RBAC).unwrap();
    let mut objects = Vec::new();
    for file in ["list-rs-page1", "list-rs-page2", "list-rs-page3-last", "list-rs-all-namespaces-limit"] {
        let case = load(&cases.join(format!("{file}.json")));
        for item in case["response"]["body"]["items"].as_array().unwrap() {
            let mut item = strip(item.clone());
            item["apiVersion"] = json!("apps/v1");
            item["kind"] = json!("ReplicaSet");
            objects.push(item);
        }
    }
    objects.push(strip(load(&cases.join("crd-get-candies.json"))["response"]["body"].clone()));
    for item in load(&cases.join("cr-list-candies-all.json"))["response"]["body"]["items"].as_array().unwrap() {
        objects.push(strip(item.clone()));
    }
    server.seed(objects).unwrap();
    server
}

/// Field names that make a response's shape: top level, and the members of metadata,
/// details, status (objects) and of the first list item.
fn shape(body: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let Some(top) = body.as_object() else {
        return names;
    };
    for (k, v) in top {
        names.insert(k.clone());
        if matches!(k.as_str(), "metadata" | "details" | "status" | "spec")
            && let Some(inner) = v.as_object()
        {
            for key in inner.keys().filter(|key| *key != "managedFields") {
                names.insert(format!("{k}.{key}"));
            }
        }
    }
    if let Some(first) = body["items"].as_array().and_then(|a| a.first())
        && let Some(item) = first.as_object()
    {
        for k in item.keys() {
            names.insert(format!("items[].{k}"));
        }
    }
    names
}

fn who(user: &Value) -> As<'_> {
    match user.as_str() {
        None => As::Anonymous,
        Some("<invalid token>") => As::BadToken,
        Some(name) => As::User(name),
    }
}

fn replay(server: &FakeServer, case: &Value) -> Result<(), String> {
    let name = case["case"].as_str().unwrap();
    let req = &case["request"];
    let mut body = req["body"].clone();
    // Preconditions name the recorded object's resourceVersion; use the fake's.
    if body["preconditions"]["resourceVersion"].is_string() {
        let path = req["path"].as_str().unwrap();
        let obj_name = path.rsplit('/').next().unwrap();
        if let Some(obj) = server.get("apps/v1", "replicasets", Some("ref"), obj_name)
            && body["preconditions"]["resourceVersion"] != "1"
        {
            body["preconditions"]["resourceVersion"] = obj["metadata"]["resourceVersion"].clone();
        }
    }
    if name == "list-rs-expired-continue" {
        server.faults().expire_continue_tokens();
    }
    let headers: Vec<(String, String)> = req["headers"]
        .as_object()
        .map(|h| h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default();
    let header_refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let bytes = (!body.is_null()).then(|| serde_json::to_vec(&body).unwrap());
    let method = req["method"].as_str().unwrap();
    let path = req["path"].as_str().unwrap();
    let got = request(server, who(&req["user"]), method, path, &header_refs, bytes.as_deref())
        .map_err(|e| format!("request failed: {e}"))?;
    let want = &case["response"];
    let got_body = got.json();
    let want_body = &want["body"];
    let mut problems = Vec::new();
    if i64::from(got.status) != want["status"].as_i64().unwrap() {
        problems.push(format!("status {} != {}", got.status, want["status"]));
    }
    for field in ["kind", "reason", "apiVersion"] {
        if got_body[field] != want_body[field] {
            problems.push(format!("{field} {} != {}", got_body[field], want_body[field]));
        }
    }
    let (g, w) = (shape(&got_body), shape(want_body));
    if g != w {
        let missing: Vec<_> = w.difference(&g).collect();
        let extra: Vec<_> = g.difference(&w).collect();
        problems.push(format!("fields missing {missing:?}, extra {extra:?}"));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

#[test]
fn every_recorded_response_has_the_same_shape() {
    let dir = reference_dir();
    let mut cases: Vec<Value> = std::fs::read_dir(dir.join("cases"))
        .unwrap()
        .chain(std::fs::read_dir(&dir).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| load(&p))
        .collect();
    cases.sort_by_key(|c| {
        let name = c["case"].as_str().unwrap().to_string();
        let late = LAST.iter().position(|l| *l == name).map_or(0, |p| p + 1);
        (late, name)
    });
    assert!(cases.len() > 50, "reference cases are missing");
    let server = reference_world();
    let mut failures = Vec::new();
    let mut matched = 0;
    for case in &cases {
        let name = case["case"].as_str().unwrap();
        let result = replay(&server, case);
        match (result, UNMATCHED.iter().find(|(n, _)| *n == name)) {
            (Ok(()), None) => matched += 1,
            (Ok(()), Some(_)) => failures.push(format!("{name}: matches now, remove it from UNMATCHED")),
            (Err(e), None) => failures.push(format!("{name}: {e}")),
            (Err(_), Some((_, why))) => println!("not matched (known): {name}: {why}"),
        }
    }
    println!("{matched} of {} recorded cases matched", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
