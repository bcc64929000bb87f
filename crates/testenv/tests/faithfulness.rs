//! The fake answers like the real server: the same requests, as the same users, against the same
//! objects, sent to apiserver-fake and to a real kube-apiserver, compared by value — status code,
//! `reason`, the Status `message`, `allowed` of access reviews, item names and counts, paging and
//! `continue` (410 Expired included), `Warning` headers and discovery contents. A difference fails
//! with both answers shown. (This replaces the replay of recordings in `../shared/k8s-reference`:
//! the live server supersedes them.)

use std::collections::BTreeSet;
use std::io::{Read as _, Write as _};

use kubeplug_testenv::{Backend, Env};
use serde_json::{Value, json};

/// What of an answer must agree; what a server chooses freely (uids, resourceVersions,
/// timestamps, token encodings) is left out.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    kind: Value,
    reason: Value,
    message: Value,
    /// `status.allowed`, `status.denied`, `status.reason` of an access review.
    review: Value,
    /// Names of the items of a list.
    names: Vec<String>,
    has_continue: bool,
    remaining: Value,
    warnings: Vec<String>,
    /// Of a metadata-only list: whether `items` is null and `continue` written at all, and the
    /// keys and kinds of its items.
    partial: Value,
}

fn answer(resp: &apiserver_fake::testing::RawResponse) -> Answer {
    let body = resp.json();
    let names = body["items"]
        .as_array()
        .map(|items| items.iter().map(|i| i["metadata"]["name"].as_str().unwrap_or_default().to_string()).collect())
        .unwrap_or_default();
    let review = match body["kind"].as_str() {
        Some(k) if k.ends_with("AccessReview") => {
            json!([body["status"]["allowed"], body["status"]["denied"], body["status"]["reason"]])
        }
        _ => Value::Null,
    };
    let partial = match body["kind"].as_str() {
        Some("PartialObjectMetadataList") => {
            let items = body["items"].as_array().cloned().unwrap_or_default();
            let keys: BTreeSet<&str> =
                items.iter().filter_map(Value::as_object).flat_map(|o| o.keys()).map(String::as_str).collect();
            let kinds: BTreeSet<&str> = items.iter().filter_map(|i| i["kind"].as_str()).collect();
            json!([body["items"].is_null(), body["metadata"].get("continue").is_some(), keys, kinds])
        }
        _ => Value::Null,
    };
    Answer {
        partial,
        status: resp.status,
        kind: body["kind"].clone(),
        reason: body["reason"].clone(),
        message: body["message"].as_str().map_or(Value::Null, |m| masked(m).into()),
        review,
        names,
        has_continue: body["metadata"]["continue"].as_str().is_some_and(|c| !c.is_empty()),
        remaining: body["metadata"]["remainingItemCount"].clone(),
        warnings: resp
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("warning"))
            .map(|(_, v)| v.clone())
            .collect(),
    }
}

/// The message with what each server chose itself (the uid or resourceVersion "in record")
/// replaced by `…`.
fn masked(message: &str) -> String {
    match message.split_once("in record (") {
        Some((before, after)) => format!("{before}in record (…{}", &after[after.find(')').unwrap_or(after.len())..]),
        None => message.to_string(),
    }
}

/// One request of the comparison.
struct Case {
    name: &'static str,
    user: Option<&'static str>,
    method: &'static str,
    path: String,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
}

fn case(name: &'static str, user: Option<&'static str>, method: &'static str, path: String) -> Case {
    Case { name, user, method, path, body: None, headers: Vec::new() }
}

impl Case {
    fn body(mut self, body: Value) -> Case {
        self.body = Some(body);
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> Case {
        self.headers.push((name, value.to_string()));
        self
    }
}

fn send(env: &Env, c: &Case) -> apiserver_fake::testing::RawResponse {
    let headers: Vec<(&str, &str)> = c.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let body = c.body.as_ref().map(|b| serde_json::to_vec(b).unwrap());
    env.request(c.user, c.method, &c.path, &headers, body.as_deref())
}

/// The world both servers hold: a namespace with three ReplicaSets, alice's Role there, a CRD and
/// one custom resource. Created through the API on both, so both assign their own uids.
fn world(ns: &str, group: &str) -> String {
    let mut y = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n\
         apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: default, namespace: {ns}}}\n---\n"
    );
    for (name, tier) in [("web-1", "old"), ("web-2", "old"), ("web-3", "new")] {
        y += &format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: {name}, namespace: {ns}, labels: {{app: web, tier: {tier}}}}}\n\
             spec:\n  replicas: 0\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n\
             \x20   spec: {{containers: [{{name: c, image: nginx}}]}}\n---\n"
        );
    }
    y += &format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: alice-dev, namespace: {ns}}}\nrules:\n\
         - {{apiGroups: [\"\"], resources: [pods], verbs: [get, list, watch]}}\n\
         - {{apiGroups: [apps], resources: [deployments], verbs: [get, list, watch, create]}}\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: alice-dev, namespace: {ns}}}\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: alice-dev}}\n\
         subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}}]\n---\n\
         apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: candies.{group}}}\n\
         spec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: candies, singular: candy, kind: Candy, shortNames: [cn]}}\n\
         \x20 versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n\
         \x20       type: object\n        properties:\n          spec:\n            type: object\n            properties:\n\
         \x20             flavor: {{type: string}}\n              count: {{type: integer}}\n"
    );
    y
}

#[test]
#[cfg_attr(
    not(kubeplug_real_server),
    ignore = "no real server: set KUBEBUILDER_ASSETS (envtest) or KUBEPLUG_TEST_KUBECONFIG"
)]
fn the_fake_answers_like_the_real_server_real() {
    let real = Env::new(Backend::Real);
    let fake = Env::new(Backend::Fake);
    let ns = real.name("faith");
    let group = format!("{}.example.com", real.name("faith"));
    for env in [&real, &fake] {
        env.create(&world(&ns, &group));
        wait_for_crd(env, &group);
        env.create(&format!(
            "apiVersion: {group}/v1\nkind: Candy\nmetadata: {{name: gummy, namespace: {ns}}}\nspec: {{flavor: cherry, count: 3}}\n"
        ));
    }
    let rs = format!("/apis/apps/v1/namespaces/{ns}/replicasets");
    let candies = format!("/apis/{group}/v1/namespaces/{ns}/candies");
    let ssar = |verb: &str, resource: &str, group: &str, sub: &str| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
               "spec": {"resourceAttributes": {"namespace": ns, "verb": verb, "resource": resource, "group": group, "subresource": sub}}})
    };
    let candy = |name: &str, spec: Value| json!({"apiVersion": format!("{group}/v1"), "kind": "Candy", "metadata": {"name": name, "namespace": ns}, "spec": spec});
    let cases = vec![
        case("get a ReplicaSet", Some("admin"), "GET", format!("{rs}/web-1")),
        case("get a missing ReplicaSet", Some("admin"), "GET", format!("{rs}/nope")),
        case("an unknown resource", Some("admin"), "GET", format!("/apis/apps/v1/namespaces/{ns}/nosuch")),
        case("list a namespace", Some("admin"), "GET", rs.clone()),
        case("list an empty namespace", Some("admin"), "GET", "/apis/apps/v1/namespaces/kube-public/replicasets".into()),
        case("first page", Some("admin"), "GET", format!("{rs}?limit=2")),
        case("a bad continue token", Some("admin"), "GET", format!("{rs}?limit=2&continue=garbage")),
        case("label selector", Some("admin"), "GET", format!("{rs}?labelSelector=tier%3Dold")),
        case("set-based label selector", Some("admin"), "GET", format!("{rs}?labelSelector=tier%20notin%20(old)")),
        case("bad label selector", Some("admin"), "GET", format!("{rs}?labelSelector=tier%3D%3D%3Dx")),
        case("field selector", Some("admin"), "GET", format!("{rs}?fieldSelector=metadata.name%3Dweb-2")),
        case("unsupported field selector", Some("admin"), "GET", format!("{rs}?fieldSelector=spec.replicas%3D0")),
        case("pods: unsupported field selector", Some("admin"), "GET", format!("/api/v1/namespaces/{ns}/pods?fieldSelector=spec.bogus%3D1")),
        case("forbidden list", Some("alice"), "GET", rs.clone()),
        case("forbidden cluster-wide list", Some("alice"), "GET", "/apis/apps/v1/replicasets".into()),
        case("forbidden list, no grants", Some("bob"), "GET", format!("/api/v1/namespaces/{ns}/pods")),
        case("allowed list", Some("alice"), "GET", format!("/api/v1/namespaces/{ns}/pods")),
        case("anonymous", None, "GET", rs.clone()),
        case("a bad token", Some("nobody"), "GET", rs.clone()),
        case("impersonating", Some("admin"), "GET", rs.clone()).header("Impersonate-User", "alice"),
        case("impersonating, forbidden", Some("alice"), "GET", rs.clone()).header("Impersonate-User", "admin"),
        case("SSAR allowed", Some("alice"), "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".into())
            .body(ssar("create", "deployments", "apps", "")),
        case("SSAR denied", Some("alice"), "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".into())
            .body(ssar("delete", "pods", "", "")),
        case("SSAR subresource", Some("alice"), "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".into())
            .body(ssar("get", "pods", "", "log")),
        case("SSAR empty spec", Some("alice"), "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".into())
            .body(json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {}})),
        case("SAR for alice", Some("admin"), "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews".into()).body(
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                   "spec": {"user": "alice", "groups": ["devs"], "resourceAttributes": {"namespace": ns, "verb": "list", "resource": "pods"}}}),
        ),
        case("SAR, forbidden", Some("alice"), "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews".into()).body(
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                   "spec": {"user": "bob", "resourceAttributes": {"verb": "list", "resource": "pods"}}}),
        ),
        case("delete, uid precondition fails", Some("admin"), "DELETE", format!("{rs}/web-1"))
            .body(json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}})),
        case("delete, resourceVersion precondition fails", Some("admin"), "DELETE", format!("{rs}/web-1"))
            .body(json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "1"}})),
        case("delete, dry run", Some("admin"), "DELETE", format!("{rs}/web-1"))
            .body(json!({"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]})),
        case("still there after the dry run", Some("admin"), "GET", format!("{rs}/web-1")),
        case("delete a missing one", Some("admin"), "DELETE", format!("{rs}/nope")),
        case("list custom resources", Some("admin"), "GET", candies.clone()),
        case("custom resource, unknown field, strict", Some("admin"), "POST", format!("{candies}?fieldValidation=Strict"))
            .body(candy("strict", json!({"flavor": "lime", "bogus": 1}))),
        case("custom resource, unknown field, warn", Some("admin"), "POST", format!("{candies}?fieldValidation=Warn"))
            .body(candy("warned", json!({"flavor": "lime", "bogus": 1}))),
        case("custom resource, wrong type", Some("admin"), "POST", candies.clone())
            .body(candy("wrong", json!({"flavor": "lime", "count": "three"}))),
        case("custom resource, dry run", Some("admin"), "POST", format!("{candies}?dryRun=All"))
            .body(candy("dry", json!({"flavor": "mint"}))),
        case("custom resources after all that", Some("admin"), "GET", candies.clone()),
        case("metadata-only list of custom resources", Some("admin"), "GET", candies.clone())
            .header("Accept", kubeplug::list::METADATA_ACCEPT),
        case("metadata-only list of ReplicaSets", Some("admin"), "GET", format!("{rs}?limit=2"))
            .header("Accept", kubeplug::list::METADATA_ACCEPT),
        case("metadata-only empty list", Some("admin"), "GET", format!("/apis/{group}/v1/namespaces/kube-public/candies"))
            .header("Accept", kubeplug::list::METADATA_ACCEPT),
        case("version", Some("admin"), "GET", "/version".into()),
    ];
    let mut differences = Vec::new();
    for c in &cases {
        let (r, f) = (answer(&send(&real, c)), answer(&send(&fake, c)));
        if r != f {
            differences.push(format!("{} ({} {}):\n  real: {r:?}\n  fake: {f:?}", c.name, c.method, c.path));
        }
    }

    // Paging: each server's own token leads to the same next page.
    for env in [&real, &fake] {
        let first = env.request(Some("admin"), "GET", &format!("{rs}?limit=2"), &[], None).json();
        let token = first["metadata"]["continue"].as_str().unwrap_or_default().to_string();
        let second = env.request(Some("admin"), "GET", &format!("{rs}?limit=2&continue={token}"), &[], None);
        let names = answer(&second).names;
        if names != ["web-3"] || answer(&second).has_continue {
            differences.push(format!(
                "{:?}: the second page holds {names:?}, want [\"web-3\"] and no continue",
                env.backend()
            ));
        }
    }

    // 410 Expired: a continue token older than the last compaction.
    let tokens: Vec<String> = [&real, &fake]
        .iter()
        .map(|env| {
            let first = env.request(Some("admin"), "GET", &format!("{rs}?limit=1"), &[], None).json();
            first["metadata"]["continue"].as_str().unwrap().to_string()
        })
        .collect();
    real.create(&format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: bump, namespace: {ns}}}\n"));
    compact_etcd(real.control_plane().expect("the envtest control plane").etcd_url());
    fake.fake().unwrap().faults().expire_continue_tokens();
    let expired: Vec<Answer> = [&real, &fake]
        .iter()
        .zip(&tokens)
        .map(|(env, token)| {
            answer(&env.request(Some("admin"), "GET", &format!("{rs}?limit=1&continue={token}"), &[], None))
        })
        .collect();
    if expired[0] != expired[1] || expired[0].status != 410 {
        differences.push(format!("expired continue token:\n  real: {:?}\n  fake: {:?}", expired[0], expired[1]));
    }

    differences.extend(discovery_differences(&real, &fake));
    assert!(differences.is_empty(), "{} differences:\n{}", differences.len(), differences.join("\n"));
}

/// Discovery: the legacy documents and the aggregated one list the same groups, versions and
/// resources (with their verbs, kinds and short names).
fn discovery_differences(real: &Env, fake: &Env) -> Vec<String> {
    let aggregated = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let mut out = Vec::new();
    let get = |env: &Env, path: &str, accept: &str| {
        env.request(Some("admin"), "GET", path, &[("accept", accept)], None).json()
    };
    let resources = |doc: &Value| -> BTreeSet<String> {
        doc["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let mut verbs: Vec<&str> =
                    r["verbs"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                verbs.sort();
                format!(
                    "{} kind={} namespaced={} verbs={verbs:?} short={}",
                    r["name"], r["kind"], r["namespaced"], r["shortNames"]
                )
            })
            .collect()
    };
    for path in [
        "/api/v1",
        "/apis/apps/v1",
        "/apis/authorization.k8s.io/v1",
        "/apis/apiextensions.k8s.io/v1",
        "/apis/rbac.authorization.k8s.io/v1",
        "/apis/admissionregistration.k8s.io/v1",
    ] {
        let (r, f) = (resources(&get(real, path, "application/json")), resources(&get(fake, path, "application/json")));
        if r != f {
            out.push(format!(
                "discovery {path}:\n  only real: {:?}\n  only fake: {:?}",
                r.difference(&f).collect::<Vec<_>>(),
                f.difference(&r).collect::<Vec<_>>()
            ));
        }
    }
    let versions = |doc: &Value| -> BTreeSet<String> {
        doc["items"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| {
                let name = g["metadata"]["name"].as_str().unwrap_or_default().to_string();
                g["versions"].as_array().into_iter().flatten().map(move |v| {
                    let resources: Vec<&str> = v["resources"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r["resource"].as_str())
                        .collect();
                    format!("{name}/{} {resources:?}", v["version"].as_str().unwrap_or_default())
                })
            })
            .collect()
    };
    for path in ["/api", "/apis"] {
        let (r, f) = (versions(&get(real, path, aggregated)), versions(&get(fake, path, aggregated)));
        if r != f {
            out.push(format!(
                "aggregated discovery {path}:\n  only real: {:?}\n  only fake: {:?}",
                r.difference(&f).collect::<Vec<_>>(),
                f.difference(&r).collect::<Vec<_>>()
            ));
        }
    }
    out
}

/// Waits until the CRD's group is served (the real server takes a moment to establish it).
fn wait_for_crd(env: &Env, group: &str) {
    for _ in 0..100 {
        if env.request(Some("admin"), "GET", &format!("/apis/{group}/v1"), &[], None).status == 200 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{:?}: the CRD group {group} is never served", env.backend());
}

/// Compacts etcd at its current revision, through etcd's JSON gateway, as the API server's own
/// compactor does every five minutes.
fn compact_etcd(etcd_url: &str) {
    let revision = etcd_post(etcd_url, "/v3/kv/range", r#"{"key":"AA=="}"#)["header"]["revision"]
        .as_str()
        .expect("etcd answers its revision")
        .to_string();
    etcd_post(etcd_url, "/v3/kv/compaction", &format!(r#"{{"revision":"{revision}","physical":true}}"#));
}

/// A POST over plain HTTP/1.0 (etcd listens on loopback without TLS here).
fn etcd_post(url: &str, path: &str, body: &str) -> Value {
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("etcd is reachable");
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (_, json) = response.split_once("\r\n\r\n").expect("an HTTP response");
    serde_json::from_str(json).unwrap_or_else(|e| panic!("etcd {path}: {e}: {json}"))
}
