//! The fake answers protobuf like the real server: the same ReplicaSet and Deployment lists,
//! asked with kubeplug's `Accept` (protobuf first, JSON second), decoded through kubeplug's
//! envelope reader and compared by value (item names, replicas, owner references, continue
//! presence, error Status); custom resources come back as JSON from both.

use k8s_pb::api::apps::v1::{DeploymentList, ReplicaSetList};
use k8s_pb::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kubeplug::proto;
use kubeplug_testenv::{Backend, Env};
use prost::Message as _;

/// An owner reference: apiVersion, kind, name, controller, and whether its uid is the owner's.
type Owner = (String, String, String, Option<bool>, bool);

/// What of a list must agree; uids and resourceVersions are each server's own.
#[derive(Debug, PartialEq)]
struct Listed {
    status: u16,
    content_type: String,
    kind: String,
    /// (name, spec.replicas, owner references).
    items: Vec<(String, Option<i32>, Vec<Owner>)>,
    has_continue: bool,
    /// code, reason, message of an error Status.
    error: Option<(u16, String, String)>,
}

fn owners(refs: &[OwnerReference], owner_uid: &str) -> Vec<Owner> {
    refs.iter()
        .map(|o| {
            let s = |v: &Option<String>| v.clone().unwrap_or_default();
            (s(&o.api_version), s(&o.kind), s(&o.name), o.controller, o.uid.as_deref() == Some(owner_uid))
        })
        .collect()
}

fn list(env: &Env, path: &str, owner_uid: &str) -> (Listed, Option<String>) {
    let resp = env.request(Some("admin"), "GET", path, &[("Accept", proto::ACCEPT)], None);
    let content_type =
        resp.headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.clone()).unwrap_or_default();
    let mut listed = Listed {
        status: resp.status,
        content_type: content_type.clone(),
        kind: String::new(),
        items: Vec::new(),
        has_continue: false,
        error: None,
    };
    if !proto::is_protobuf(&content_type) {
        listed.kind = resp.json()["kind"].as_str().unwrap_or_default().to_string();
        return (listed, None);
    }
    if resp.status >= 400 {
        let status = proto::status(&resp.body).expect("a protobuf error is a Status");
        listed.kind = "Status".into();
        listed.error = Some((status.code, status.reason, status.message));
        return (listed, None);
    }
    let unknown = proto::unwrap(&resp.body).expect("a protobuf body in its envelope");
    listed.kind = proto::kind(&unknown).to_string();
    let raw = unknown.raw.as_deref().unwrap_or_default();
    let token = proto::ListPage::new(raw).unwrap().continue_token().unwrap();
    listed.has_continue = token.is_some();
    listed.items = match listed.kind.as_str() {
        "ReplicaSetList" => ReplicaSetList::decode(raw)
            .unwrap()
            .items
            .into_iter()
            .map(|rs| {
                let meta = rs.metadata.unwrap_or_default();
                (
                    meta.name.unwrap_or_default(),
                    rs.spec.and_then(|s| s.replicas),
                    owners(&meta.owner_references, owner_uid),
                )
            })
            .collect(),
        "DeploymentList" => DeploymentList::decode(raw)
            .unwrap()
            .items
            .into_iter()
            .map(|d| {
                let meta = d.metadata.unwrap_or_default();
                (
                    meta.name.unwrap_or_default(),
                    d.spec.and_then(|s| s.replicas),
                    owners(&meta.owner_references, owner_uid),
                )
            })
            .collect(),
        other => panic!("unexpected list kind {other}"),
    };
    (listed, token)
}

/// A Deployment, three ReplicaSets (two owned by it, one bare) and a CRD with one instance.
fn seed(env: &Env, ns: &str, group: &str) -> String {
    env.create(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n\
         apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: candies.{group}}}\n\
         spec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: candies, singular: candy, kind: Candy}}\n\
         \x20 versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object}}\n"
    ));
    let template = "template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: nginx}]}";
    let deployment = env.create(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}}}\n\
         spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  {template}\n"
    ));
    let uid = deployment[0]["metadata"]["uid"].as_str().unwrap().to_string();
    let mut rs = String::new();
    for (name, replicas, owned) in [("web-1", 0, true), ("web-2", 3, true), ("zz-bare", 0, false)] {
        let owner = if owned {
            format!(
                ", ownerReferences: [{{apiVersion: apps/v1, kind: Deployment, name: web, uid: {uid}, controller: true, blockOwnerDeletion: true}}]"
            )
        } else {
            String::new()
        };
        rs += &format!(
            "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {{name: {name}, namespace: {ns}{owner}}}\n\
             spec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  {template}\n---\n"
        );
    }
    env.create(&rs);
    // The CRD's resource is served a moment after it is created; kubectl create retries nothing.
    for attempt in 0.. {
        let out = env.kubectl_with_input(
            &["create", "-f", "-"],
            &format!("apiVersion: {group}/v1\nkind: Candy\nmetadata: {{name: red, namespace: {ns}}}\n"),
        );
        if out.status.success() {
            break;
        }
        assert!(attempt < 50, "creating a Candy: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    uid
}

#[test]
#[cfg_attr(
    not(kubeplug_real_server),
    ignore = "no real server: set KUBEBUILDER_ASSETS (envtest) or KUBEPLUG_TEST_KUBECONFIG"
)]
fn the_fake_answers_protobuf_like_the_real_server_real() {
    let real = Env::new(Backend::Real);
    let fake = Env::new(Backend::Fake);
    let ns = real.name("proto");
    let group = format!("{}.example.com", real.name("proto"));
    let uids = [seed(&real, &ns, &group), seed(&fake, &ns, &group)];
    let rs = format!("/apis/apps/v1/namespaces/{ns}/replicasets");
    let mut compared = 0;
    let mut first_pages = Vec::new();
    for (name, path) in [
        ("replicasets", rs.clone()),
        ("replicasets, first page", format!("{rs}?limit=2")),
        ("deployments", format!("/apis/apps/v1/namespaces/{ns}/deployments")),
        ("custom resources (no protobuf)", format!("/apis/{group}/v1/namespaces/{ns}/candies")),
        ("a bad continue token", format!("{rs}?limit=2&continue=garbage")),
    ] {
        let (r, r_token) = list(&real, &path, &uids[0]);
        let (f, f_token) = list(&fake, &path, &uids[1]);
        assert_eq!(f, r, "{name}: the fake (left) differs from the real server (right)");
        if name == "a bad continue token" {
            // Errors come in the negotiated format too.
            assert!(proto::is_protobuf(&r.content_type), "{r:?}");
            assert_eq!(r.error.as_ref().map(|e| (e.0, e.1.as_str())), Some((400, "BadRequest")), "{r:?}");
        }
        if name == "custom resources (no protobuf)" {
            assert_eq!((r.content_type.as_str(), r.kind.as_str()), ("application/json", "CandyList"));
        }
        if path.ends_with("limit=2") {
            first_pages.push((r_token.unwrap(), f_token.unwrap()));
        }
        compared += 1;
    }
    // The second page, through each server's own continue token.
    let (r_token, f_token) = &first_pages[0];
    let (r, _) = list(&real, &format!("{rs}?limit=2&continue={r_token}"), &uids[0]);
    let (f, _) = list(&fake, &format!("{rs}?limit=2&continue={f_token}"), &uids[1]);
    assert_eq!(f, r, "second page");
    assert_eq!(r.items.iter().map(|i| i.0.as_str()).collect::<Vec<_>>(), ["zz-bare"]);
    assert!(!r.has_continue);
    // Hand-written expectations on the real answer, so that agreeing on nothing cannot pass.
    let (all, _) = list(&real, &rs, &uids[0]);
    assert!(proto::is_protobuf(&all.content_type), "{all:?}");
    assert_eq!(all.kind, "ReplicaSetList");
    let owned = vec![("apps/v1".to_string(), "Deployment".to_string(), "web".to_string(), Some(true), true)];
    assert_eq!(
        all.items,
        [
            ("web-1".into(), Some(0), owned.clone()),
            ("web-2".into(), Some(3), owned),
            ("zz-bare".into(), Some(0), vec![])
        ]
    );
    assert_eq!(compared, 5);
}

/// What of a watch-list answer must agree: the events' types, each object's envelope type and
/// name, and the bookmark that ends the initial events (uids and resourceVersions are each
/// server's own).
#[derive(Debug, PartialEq)]
struct Watched {
    status: u16,
    content_type: String,
    /// (event type, envelope apiVersion, envelope kind, object name), initial ADDED events
    /// sorted by name (the watch cache does not promise an order).
    events: Vec<(String, String, String, String)>,
    /// Whether each bookmark carries `k8s.io/initial-events-end: "true"` and a resourceVersion.
    bookmarks: Vec<(bool, bool)>,
    /// Whether the stream ended on a whole frame.
    whole_frames: bool,
}

/// One watch-list of `path` in protobuf, read until the server closes it (`timeoutSeconds`).
fn watch_list(env: &Env, path: &str) -> Watched {
    let query =
        "watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=2";
    let resp = env.request(Some("admin"), "GET", &format!("{path}?{query}"), &[("Accept", proto::ACCEPT)], None);
    let content_type =
        resp.headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.clone()).unwrap_or_default();
    let mut frames = proto::FrameStream::default();
    frames.push(&resp.body);
    let mut watched =
        Watched { status: resp.status, content_type, events: Vec::new(), bookmarks: Vec::new(), whole_frames: false };
    while let Some(frame) = frames.next_frame() {
        let event = proto::WatchEvent::decode(&frame).expect("a protobuf watch event");
        let type_meta = event.object.type_meta.clone().unwrap_or_default();
        let raw = event.object.raw.as_deref().unwrap_or_default();
        let meta = k8s_pb::api::apps::v1::ReplicaSet::decode(raw).unwrap().metadata.unwrap_or_default();
        if event.kind == "BOOKMARK" {
            let rv = event.initial_events_end();
            watched.bookmarks.push((rv.is_some(), rv.is_some_and(|rv| !rv.is_empty())));
        }
        watched.events.push((
            event.kind.clone(),
            type_meta.api_version.unwrap_or_default(),
            type_meta.kind.unwrap_or_default(),
            meta.name.unwrap_or_default(),
        ));
    }
    watched.whole_frames = frames.is_empty();
    let initial = watched.events.iter().position(|e| e.0 == "BOOKMARK").unwrap_or(watched.events.len());
    watched.events[..initial].sort();
    watched
}

#[test]
#[cfg_attr(
    not(kubeplug_real_server),
    ignore = "no real server: set KUBEBUILDER_ASSETS (envtest) or KUBEPLUG_TEST_KUBECONFIG"
)]
fn the_fake_answers_a_protobuf_watch_list_like_the_real_server_real() {
    let real = Env::new(Backend::Real);
    let fake = Env::new(Backend::Fake);
    let ns = real.name("watchlist");
    let group = format!("{}.example.com", real.name("watchlist"));
    seed(&real, &ns, &group);
    seed(&fake, &ns, &group);
    let rs = format!("/apis/apps/v1/namespaces/{ns}/replicasets");
    let r = watch_list(&real, &rs);
    let f = watch_list(&fake, &rs);
    assert_eq!(f, r, "the fake (left) differs from the real server (right)");
    // Hand-written expectations on the real answer, so that agreeing on nothing cannot pass.
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/vnd.kubernetes.protobuf;stream=watch");
    let added = |name: &str| ("ADDED".to_string(), "apps/v1".to_string(), "ReplicaSet".to_string(), name.to_string());
    let bookmark = ("BOOKMARK".to_string(), "apps/v1".to_string(), "ReplicaSet".to_string(), String::new());
    assert_eq!(r.events, [added("web-1"), added("web-2"), added("zz-bare"), bookmark]);
    assert_eq!(r.bookmarks, [(true, true)], "one bookmark, ending the initial events, with a resourceVersion");
    assert!(r.whole_frames);
}
