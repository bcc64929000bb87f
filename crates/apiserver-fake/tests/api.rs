//! Raw API behaviour over HTTPS: lists and continue tokens, selectors, writes, deletes,
//! authentication, impersonation and fault injection.

use apiserver_fake::testing::{As, RawResponse, request};
use apiserver_fake::{FakeServer, Options};
use serde_json::{Value, json};

const RS_PATH: &str = "/apis/apps/v1/namespaces/ref/replicasets";

fn replica_set(ns: &str, name: &str, app: &str, tier: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": app, "tier": tier}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}},
                 "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    })
}

fn server_with_ref() -> FakeServer {
    let server = FakeServer::start_with(Options {
        seed_yaml: vec!["{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ref\"}}".into()],
        ..Default::default()
    })
    .unwrap();
    let tiers = ["back", "back", "front", "front", "cache"];
    server.seed((0..5).map(|i| replica_set("ref", &format!("web-{i}"), "web", tiers[i]))).unwrap();
    server
}

fn get(server: &FakeServer, path: &str) -> RawResponse {
    request(server, As::User("admin"), "GET", path, &[], None).unwrap()
}

fn names(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn pages_follow_continue_tokens_to_the_end() {
    let server = server_with_ref();
    let page1 = get(&server, &format!("{RS_PATH}?limit=2")).json();
    assert_eq!(page1["kind"], "ReplicaSetList");
    assert_eq!(page1["apiVersion"], "apps/v1");
    assert_eq!(names(&page1), ["web-0", "web-1"]);
    assert_eq!(page1["metadata"]["remainingItemCount"], 3);
    let token = page1["metadata"]["continue"].as_str().unwrap();
    let page2 = get(&server, &format!("{RS_PATH}?limit=2&continue={token}")).json();
    assert_eq!(names(&page2), ["web-2", "web-3"]);
    let token = page2["metadata"]["continue"].as_str().unwrap();
    let page3 = get(&server, &format!("{RS_PATH}?limit=2&continue={token}")).json();
    assert_eq!(names(&page3), ["web-4"]);
    assert!(page3["metadata"].get("continue").is_none());
    assert!(page3["metadata"].get("remainingItemCount").is_none());
    assert!(page3["metadata"]["resourceVersion"].is_string());
}

#[test]
fn garbage_continue_is_400_and_expired_continue_is_410() {
    let server = server_with_ref();
    let bad = get(&server, &format!("{RS_PATH}?limit=2&continue=garbage"));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["reason"], "BadRequest");
    let page1 = get(&server, &format!("{RS_PATH}?limit=2")).json();
    let token = page1["metadata"]["continue"].as_str().unwrap().to_string();
    server.faults().expire_continue_tokens();
    let expired = get(&server, &format!("{RS_PATH}?limit=2&continue={token}"));
    assert_eq!(expired.status, 410);
    let body = expired.json();
    assert_eq!(body["reason"], "Expired");
    // The 410 carries an inconsistent-continue token that resumes after the same position.
    let resume = body["metadata"]["continue"].as_str().unwrap();
    let rest = get(&server, &format!("{RS_PATH}?limit=10&continue={resume}")).json();
    assert_eq!(names(&rest), ["web-2", "web-3", "web-4"]);
    // Tokens issued after the expiry work.
    let fresh = get(&server, &format!("{RS_PATH}?limit=4")).json();
    let token = fresh["metadata"]["continue"].as_str().unwrap();
    assert_eq!(get(&server, &format!("{RS_PATH}?limit=4&continue={token}")).status, 200);
}

#[test]
fn label_and_field_selectors_filter_like_the_server() {
    let server = server_with_ref();
    let q = |sel: &str| {
        let enc: String = form_urlencode(sel);
        names(&get(&server, &format!("{RS_PATH}?labelSelector={enc}")).json())
    };
    assert_eq!(q("tier=back"), ["web-0", "web-1"]);
    assert_eq!(q("tier in (front,cache)"), ["web-2", "web-3", "web-4"]);
    assert_eq!(q("tier notin (front),app"), ["web-0", "web-1", "web-4"]);
    assert_eq!(q("!tier"), Vec::<String>::new());
    assert_eq!(q("tier!=back"), ["web-2", "web-3", "web-4"]);
    let bad = get(&server, &format!("{RS_PATH}?labelSelector={}", form_urlencode("app in (")));
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["message"], "unable to parse requirement: found '', expected: ',', ')' or identifier");
    let by_name = get(&server, &format!("{RS_PATH}?fieldSelector=metadata.name%3Dweb-3")).json();
    assert_eq!(names(&by_name), ["web-3"]);
    // A selected page has a continue token but no remainingItemCount, like the server.
    let page = get(&server, &format!("{RS_PATH}?limit=1&labelSelector=tier%3Dfront")).json();
    assert_eq!(names(&page), ["web-2"]);
    assert!(page["metadata"]["continue"].is_string());
    assert!(page["metadata"].get("remainingItemCount").is_none());
}

fn form_urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn all_namespace_lists_are_sorted_by_namespace_then_name() {
    let server = server_with_ref();
    server.seed([replica_set("a-first", "zz", "x", "t"), replica_set("zz-last", "aa", "x", "t")]).unwrap();
    let all = get(&server, "/apis/apps/v1/replicasets?limit=3").json();
    assert_eq!(names(&all), ["zz", "web-0", "web-1"]);
    assert_eq!(all["metadata"]["remainingItemCount"], 4);
    let token = all["metadata"]["continue"].as_str().unwrap();
    let rest = get(&server, &format!("/apis/apps/v1/replicasets?continue={token}")).json();
    assert_eq!(names(&rest), ["web-2", "web-3", "web-4", "aa"]);
}

fn delete(server: &FakeServer, path: &str, body: Option<Value>) -> RawResponse {
    let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
    request(server, As::User("admin"), "DELETE", path, &[], bytes.as_deref()).unwrap()
}

#[test]
fn delete_preconditions_conflict_with_the_recorded_messages() {
    let server = server_with_ref();
    let rs = server.get("apps/v1", "replicasets", Some("ref"), "web-0").unwrap();
    let uid = rs["metadata"]["uid"].as_str().unwrap().to_string();
    let rv = rs["metadata"]["resourceVersion"].as_str().unwrap().to_string();
    let path = format!("{RS_PATH}/web-0");
    let r = delete(
        &server,
        &path,
        Some(
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}),
        ),
    );
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["reason"], "Conflict");
    assert_eq!(
        r.json()["message"],
        format!(
            "Operation cannot be fulfilled on ReplicaSet.apps \"web-0\": the UID in the precondition (00000000-0000-0000-0000-000000000000) does not match the UID in record ({uid}). The object might have been deleted and then recreated"
        )
    );
    let r = delete(&server, &path, Some(json!({"preconditions": {"resourceVersion": "1"}})));
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["details"], json!({"name": "web-0", "group": "apps", "kind": "ReplicaSet"}));
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "web-0").is_some());
    let r = delete(&server, &path, Some(json!({"preconditions": {"uid": uid, "resourceVersion": rv}})));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "Success");
    assert_eq!(r.json()["details"]["uid"], uid.as_str());
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "web-0").is_none());
}

#[test]
fn dry_run_counts_in_the_body_and_the_query_only_without_a_body() {
    let server = server_with_ref();
    let r = delete(&server, &format!("{RS_PATH}/web-0"), Some(json!({"dryRun": ["All"]})));
    assert_eq!(r.status, 200);
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "web-0").is_some());
    let r = delete(&server, &format!("{RS_PATH}/web-1?dryRun=All"), None);
    assert_eq!(r.status, 200);
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "web-1").is_some());
    // CAUTION, as on a real server: a body makes the query's dryRun ignored.
    let r = delete(
        &server,
        &format!("{RS_PATH}/web-1?dryRun=All"),
        Some(json!({"kind": "DeleteOptions", "apiVersion": "v1"})),
    );
    assert_eq!(r.status, 200);
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "web-1").is_none());
    let gone = get(&server, &format!("{RS_PATH}/web-1"));
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["message"], "replicasets.apps \"web-1\" not found");
}

#[test]
fn finalizers_keep_a_deleted_object_until_they_are_removed() {
    let server = server_with_ref();
    let mut rs = replica_set("ref", "held", "held", "x");
    rs["metadata"]["finalizers"] = json!(["example.com/hold"]);
    server.seed([rs]).unwrap();
    let r = delete(&server, &format!("{RS_PATH}/held"), None);
    assert_eq!(r.status, 200);
    let held = server.get("apps/v1", "replicasets", Some("ref"), "held").unwrap();
    assert!(held["metadata"]["deletionTimestamp"].is_string());
    let patch = br#"{"metadata":{"finalizers":null}}"#;
    let r = request(
        &server,
        As::User("admin"),
        "PATCH",
        &format!("{RS_PATH}/held"),
        &[("content-type", "application/merge-patch+json")],
        Some(patch),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "held").is_none());
}

#[test]
fn deleting_an_owner_removes_its_dependents_unless_orphaned() {
    let server = server_with_ref();
    let owner = server.get("apps/v1", "replicasets", Some("ref"), "web-0").unwrap();
    let mut dep = replica_set("ref", "child", "c", "x");
    dep["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-0", "uid": owner["metadata"]["uid"], "controller": true}]);
    let mut dep2 = dep.clone();
    dep2["metadata"]["name"] = json!("child-2");
    dep2["metadata"]["ownerReferences"][0]["name"] = json!("web-1");
    dep2["metadata"]["ownerReferences"][0]["uid"] =
        server.get("apps/v1", "replicasets", Some("ref"), "web-1").unwrap()["metadata"]["uid"].clone();
    server.seed([dep, dep2]).unwrap();
    delete(&server, &format!("{RS_PATH}/web-0"), None);
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "child").is_none());
    delete(&server, &format!("{RS_PATH}/web-1?propagationPolicy=Orphan"), None);
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "child-2").is_some());
}

#[test]
fn create_update_and_scale_follow_server_semantics() {
    let server = server_with_ref();
    let body = serde_json::to_vec(&replica_set("ref", "new", "new", "x")).unwrap();
    let created = request(&server, As::User("admin"), "POST", RS_PATH, &[], Some(&body)).unwrap();
    assert_eq!(created.status, 201);
    let obj = created.json();
    assert!(obj["metadata"]["uid"].is_string());
    assert!(obj["metadata"]["creationTimestamp"].is_string());
    assert_eq!(obj["metadata"]["generation"], 1);
    let again = request(&server, As::User("admin"), "POST", RS_PATH, &[], Some(&body)).unwrap();
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["reason"], "AlreadyExists");
    let dry = serde_json::to_vec(&replica_set("ref", "dry", "d", "x")).unwrap();
    let r = request(&server, As::User("admin"), "POST", &format!("{RS_PATH}?dryRun=All"), &[], Some(&dry)).unwrap();
    assert_eq!(r.status, 201);
    assert!(server.get("apps/v1", "replicasets", Some("ref"), "dry").is_none());
    let mut elsewhere = replica_set("ref", "new", "new", "x");
    let path = "/apis/apps/v1/namespaces/nope/replicasets";
    let mismatch =
        request(&server, As::User("admin"), "POST", path, &[], Some(&serde_json::to_vec(&elsewhere).unwrap())).unwrap();
    assert_eq!(mismatch.status, 400, "the body's namespace differs from the URL's");
    elsewhere["metadata"].as_object_mut().unwrap().remove("namespace");
    let missing_ns =
        request(&server, As::User("admin"), "POST", path, &[], Some(&serde_json::to_vec(&elsewhere).unwrap())).unwrap();
    assert_eq!(missing_ns.status, 404);
    assert_eq!(missing_ns.json()["message"], "namespaces \"nope\" not found");

    let mut stale = obj.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    stale["spec"]["replicas"] = json!(7);
    let r = request(
        &server,
        As::User("admin"),
        "PUT",
        &format!("{RS_PATH}/new"),
        &[],
        Some(&serde_json::to_vec(&stale).unwrap()),
    )
    .unwrap();
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["reason"], "Conflict");
    stale["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"].clone();
    let r = request(
        &server,
        As::User("admin"),
        "PUT",
        &format!("{RS_PATH}/new"),
        &[],
        Some(&serde_json::to_vec(&stale).unwrap()),
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["metadata"]["generation"], 2);
    assert_eq!(r.json()["metadata"]["uid"], obj["metadata"]["uid"]);

    let scale = request(
        &server,
        As::User("admin"),
        "PATCH",
        &format!("{RS_PATH}/new/scale"),
        &[("content-type", "application/merge-patch+json")],
        Some(br#"{"spec":{"replicas":0}}"#),
    )
    .unwrap();
    assert_eq!(scale.status, 200);
    assert_eq!(scale.json()["kind"], "Scale");
    assert_eq!(scale.json()["spec"], json!({}));
    assert_eq!(server.get("apps/v1", "replicasets", Some("ref"), "new").unwrap()["spec"]["replicas"], 0);
}

#[test]
fn tokens_decide_the_user() {
    let server = server_with_ref();
    let r = request(&server, As::BadToken, "GET", "/api/v1/namespaces", &[], None).unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["reason"], "Unauthorized");
    let r = request(&server, As::Anonymous, "GET", "/api/v1/namespaces", &[], None).unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        "namespaces is forbidden: User \"system:anonymous\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
    let r = request(&server, As::User("bob"), "GET", "/api/v1/namespaces/ref/pods", &[], None).unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["details"], json!({"kind": "pods"}));
    let who: Vec<Option<String>> = server.requests().into_iter().map(|r| r.user).collect();
    assert_eq!(who, [None, Some("system:anonymous".into()), Some("bob".into())]);
}

#[test]
fn impersonation_needs_the_impersonate_verb() {
    let server = FakeServer::start_with(Options::demo()).unwrap();
    let r = request(
        &server,
        As::User("admin"),
        "GET",
        "/api/v1/namespaces/team-a/pods",
        &[("impersonate-user", "alice"), ("impersonate-group", "devs")],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(server.requests().last().unwrap().user.as_deref(), Some("alice"));
    let r = request(
        &server,
        As::User("admin"),
        "GET",
        "/api/v1/namespaces/shop/pods",
        &[("impersonate-user", "carol")],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 403, "carol has no grants");
    let r = request(
        &server,
        As::User("alice"),
        "GET",
        "/api/v1/namespaces/team-a/pods",
        &[("impersonate-user", "bob")],
        None,
    )
    .unwrap();
    assert_eq!(r.status, 403);
    assert_eq!(
        r.json()["message"],
        "users \"bob\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
}

#[test]
fn injected_throttling_failures_and_disconnects_hit_resource_requests() {
    let server = server_with_ref();
    server.faults().throttle_next(2, 3);
    assert_eq!(get(&server, "/version").status, 200, "discovery is never throttled");
    let r = get(&server, RS_PATH);
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("3"));
    assert_eq!(get(&server, RS_PATH).status, 429);
    assert_eq!(get(&server, RS_PATH).status, 200);
    server.faults().fail_next(1);
    assert_eq!(get(&server, RS_PATH).status, 500);
    assert_eq!(get(&server, RS_PATH).status, 200);
    server.faults().drop_next_list();
    assert!(request(&server, As::User("admin"), "GET", RS_PATH, &[], None).is_err());
    assert_eq!(get(&server, RS_PATH).status, 200);
}

#[test]
fn injected_latency_is_a_round_trip_for_every_response_and_two_for_a_connection() {
    let server = server_with_ref();
    let latency = std::time::Duration::from_millis(100);
    server.faults().set_latency(latency);
    for path in ["/version", RS_PATH] {
        // `request` opens a connection of its own: TCP's and TLS's round trips, then the request's.
        let started = std::time::Instant::now();
        assert_eq!(get(&server, path).status, 200);
        // A lower bound only: a sleep cannot end early, however busy the machine is.
        assert!(started.elapsed() >= 3 * latency, "{path} answered in {:?}", started.elapsed());
    }
}

#[test]
fn a_hook_changes_an_object_right_before_the_matching_request() {
    let server = server_with_ref();
    server.faults().on_request("DELETE", &format!("{RS_PATH}/web-2"), |cluster| {
        let mut rs = cluster.get("apps/v1", "replicasets", Some("ref"), "web-2").unwrap();
        rs["spec"]["replicas"] = json!(5);
        cluster.seed([rs]).unwrap();
    });
    let before = server.get("apps/v1", "replicasets", Some("ref"), "web-2").unwrap();
    let rv = before["metadata"]["resourceVersion"].as_str().unwrap();
    let r = delete(&server, &format!("{RS_PATH}/web-2"), Some(json!({"preconditions": {"resourceVersion": rv}})));
    assert_eq!(r.status, 409, "the object changed between list and delete");
    assert_eq!(server.get("apps/v1", "replicasets", Some("ref"), "web-2").unwrap()["spec"]["replicas"], 5);
}

#[test]
fn custom_resources_appear_once_their_crd_is_created() {
    let server = FakeServer::start().unwrap();
    assert_eq!(get(&server, "/apis/awesome.corp.com/v1").status, 404);
    let crd = apiserver_fake::DEMO_MANIFESTS
        .iter()
        .find(|(n, _)| n.contains("candies"))
        .unwrap()
        .1
        .split("---")
        .next()
        .unwrap();
    let crd: Value = serde_json::to_value(serde_saphyr::from_str::<Value>(crd).unwrap()).unwrap();
    let r = request(
        &server,
        As::User("admin"),
        "POST",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        &[],
        Some(&serde_json::to_vec(&crd).unwrap()),
    )
    .unwrap();
    assert_eq!(r.status, 201);
    let doc = get(&server, "/apis/awesome.corp.com/v1").json();
    assert_eq!(doc["resources"][0]["shortNames"], json!(["cn"]));
    assert_eq!(doc["resources"][0]["kind"], "Candy");
    let groups = get(&server, "/apis").json();
    assert!(groups["groups"].as_array().unwrap().iter().any(|g| g["name"] == "awesome.corp.com"));
    let candy = br#"{"apiVersion":"awesome.corp.com/v1","kind":"Candy","metadata":{"name":"gummy"},"spec":{"flavor":"x","texture":"y"}}"#;
    let strict = request(
        &server,
        As::User("admin"),
        "POST",
        "/apis/awesome.corp.com/v1/namespaces/default/candies?fieldValidation=Strict",
        &[],
        Some(candy),
    )
    .unwrap();
    assert_eq!(strict.status, 400);
    assert_eq!(
        strict.json()["message"],
        "Candy in version \"v1\" cannot be handled as a Candy: strict decoding error: unknown field \"spec.texture\""
    );
    let warn = request(
        &server,
        As::User("admin"),
        "POST",
        "/apis/awesome.corp.com/v1/namespaces/default/candies?fieldValidation=Warn",
        &[],
        Some(candy),
    )
    .unwrap();
    assert_eq!(warn.status, 201);
    assert_eq!(warn.header("warning"), Some("299 - \"unknown field \\\"spec.texture\\\"\""));
    assert!(warn.json()["spec"].get("texture").is_none());
    let wrong =
        br#"{"apiVersion":"awesome.corp.com/v1","kind":"Candy","metadata":{"name":"bad"},"spec":{"flavor":42}}"#;
    let r = request(
        &server,
        As::User("admin"),
        "POST",
        "/apis/awesome.corp.com/v1/namespaces/default/candies",
        &[],
        Some(wrong),
    )
    .unwrap();
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["details"]["causes"][0]["field"], "spec.flavor");
}

#[test]
fn listing_twenty_thousand_replica_sets_in_pages_of_500() {
    let server = FakeServer::start().unwrap();
    let objects: Vec<Value> = (0..20_000)
        .map(|i| {
            let mut rs = replica_set(&format!("ns-{:02}", i % 40), &format!("rs-{i:05}"), "bulk", "x");
            rs["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": (i % 7).to_string()});
            rs
        })
        .collect();
    let seeded = std::time::Instant::now();
    server.seed(objects).unwrap();
    println!("seeded 20000 ReplicaSets in {:?}", seeded.elapsed());
    let started = std::time::Instant::now();
    let mut total = 0;
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/apis/apps/v1/replicasets?limit=500&continue={t}"),
            None => "/apis/apps/v1/replicasets?limit=500".to_string(),
        };
        let page = get(&server, &path).json();
        total += page["items"].as_array().unwrap().len();
        pages += 1;
        match page["metadata"]["continue"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(total, 20_000);
    assert_eq!(pages, 40);
    println!(
        "listed 20000 ReplicaSets in {pages} pages in {:?} (client and server, including TLS handshakes)",
        started.elapsed()
    );
}
