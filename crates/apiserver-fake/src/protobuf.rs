//! Protobuf answers for ReplicaSet and Deployment lists, encoded with k8s-pb from the stored JSON.
//!
//! The encoding is exact or not made: every JSON key of an object must map to a field converted
//! here, else the whole page is answered in JSON. A real server may answer JSON to a client that
//! prefers protobuf (it does for every kind without protobuf), so clients handle that anyway;
//! a silently lossy protobuf page would instead make tests pass against the fake that fail on a
//! real server.

use std::collections::BTreeMap;

use bytes::Bytes;
use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::core::v1 as core;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message as _;
use serde_json::{Map, Value};

use crate::list::Page;
use crate::proto::CONTENT_TYPE;
use crate::registry::ResourceType;

/// Whether a client's Accept header prefers protobuf (it comes first, as client-go sends it).
pub fn preferred(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| first.split(';').next().unwrap_or("").trim() == CONTENT_TYPE)
}

/// Whether lists of `rt` can be answered in protobuf here.
pub fn encodes(rt: &ResourceType) -> bool {
    !rt.custom && rt.group == "apps" && rt.version == "v1" && matches!(rt.kind.as_str(), "ReplicaSet" | "Deployment")
}

/// The protobuf body of a list page of `rt`, or `None` when this kind, or one of these objects,
/// cannot be encoded exactly.
pub fn list_body(rt: &ResourceType, page: &Page) -> Option<Bytes> {
    if !encodes(rt) {
        return None;
    }
    let metadata = Some(meta::ListMeta {
        resource_version: Some(page.resource_version.to_string()),
        r#continue: page.continue_token.clone(),
        remaining_item_count: page.remaining.map(|r| r as i64),
        self_link: None,
    });
    let raw = match rt.kind.as_str() {
        "ReplicaSet" => {
            let items = page.items.iter().map(|i| replica_set(&i.value)).collect::<Option<Vec<_>>>()?;
            apps::ReplicaSetList { metadata, items }.encode_to_vec()
        }
        "Deployment" => {
            let items = page.items.iter().map(|i| deployment(&i.value)).collect::<Option<Vec<_>>>()?;
            apps::DeploymentList { metadata, items }.encode_to_vec()
        }
        _ => return None,
    };
    Some(wrap("apps/v1", &format!("{}List", rt.kind), raw))
}

/// One object of `rt` as protobuf (what a GET answers a client that prefers it), or `None` when
/// this kind, or this object, cannot be encoded exactly.
pub fn object_body(rt: &ResourceType, object: &Value) -> Option<Bytes> {
    if !encodes(rt) {
        return None;
    }
    let raw = match rt.kind.as_str() {
        "ReplicaSet" => replica_set(object)?.encode_to_vec(),
        "Deployment" => deployment(object)?.encode_to_vec(),
        _ => return None,
    };
    Some(wrap("apps/v1", &rt.kind, raw))
}

/// The Content-Type of a protobuf watch.
pub const WATCH_CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf;stream=watch";

/// One frame of a protobuf watch of `rt`, as the real server frames it: a 4-byte big-endian
/// length, then a `WatchEvent` whose object is the item in its own `k8s\0` envelope; `None` when
/// the object cannot be encoded exactly.
pub fn watch_frame(rt: &ResourceType, event: &str, object: &Value) -> Option<Vec<u8>> {
    let envelope = object_body(rt, object)?;
    let event = meta::WatchEvent {
        r#type: Some(event.into()),
        object: Some(k8s_pb::apimachinery::pkg::runtime::RawExtension { raw: Some(envelope.to_vec()) }),
    };
    let message = event.encode_to_vec();
    let mut frame = u32::try_from(message.len()).ok()?.to_be_bytes().to_vec();
    frame.extend(message);
    Some(frame)
}

/// A `Status` error body as protobuf (what the real server sends a client that prefers it).
pub fn status_body(status: &Value) -> Option<Bytes> {
    let s = object(status, &["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"])?;
    let details = match s.get("details") {
        None => None,
        Some(d) => {
            let d = object(d, &["name", "group", "kind", "uid", "causes", "retryAfterSeconds"])?;
            let causes = array(d.get("causes"), |c| {
                let c = object(c, &["reason", "message", "field"])?;
                Some(meta::StatusCause {
                    reason: string(c, "reason")?,
                    message: string(c, "message")?,
                    field: string(c, "field")?,
                })
            })?;
            Some(meta::StatusDetails {
                name: string(d, "name")?,
                group: string(d, "group")?,
                kind: string(d, "kind")?,
                uid: string(d, "uid")?,
                causes,
                retry_after_seconds: int(d, "retryAfterSeconds")?,
            })
        }
    };
    let status = meta::Status {
        metadata: Some(meta::ListMeta::default()),
        status: string(s, "status")?,
        message: string(s, "message")?,
        reason: string(s, "reason")?,
        details,
        code: int(s, "code")?,
    };
    Some(wrap("v1", "Status", status.encode_to_vec()))
}

fn wrap(api_version: &str, kind: &str, raw: Vec<u8>) -> Bytes {
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: Some(api_version.into()), kind: Some(kind.into()) }),
        raw: Some(raw),
        content_encoding: Some(String::new()),
        content_type: Some(String::new()),
    };
    let mut out = b"k8s\0".to_vec();
    out.extend(unknown.encode_to_vec());
    Bytes::from(out)
}

/// The object's map when all its keys are among `known`.
fn object<'a>(v: &'a Value, known: &[&str]) -> Option<&'a Map<String, Value>> {
    let map = v.as_object()?;
    map.keys().all(|k| known.contains(&k.as_str())).then_some(map)
}

/// `Some(None)` when absent, `None` (not representable) when not a string.
fn string(m: &Map<String, Value>, key: &str) -> Option<Option<String>> {
    match m.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => None,
    }
}

fn int<T: TryFrom<i64>>(m: &Map<String, Value>, key: &str) -> Option<Option<T>> {
    match m.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(v) => Some(Some(T::try_from(v.as_i64()?).ok()?)),
    }
}

fn boolean(m: &Map<String, Value>, key: &str) -> Option<Option<bool>> {
    match m.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(v) => Some(Some(v.as_bool()?)),
    }
}

fn array<T>(v: Option<&Value>, each: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    match v {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(v) => v.as_array()?.iter().map(each).collect(),
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    array(v, |s| s.as_str().map(str::to_string))
}

fn string_map(v: Option<&Value>) -> Option<BTreeMap<String, String>> {
    match v {
        None | Some(Value::Null) => Some(BTreeMap::new()),
        Some(v) => v.as_object()?.iter().map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect(),
    }
}

/// RFC 3339 seconds, as the server writes metav1.Time (whole seconds: its protobuf form keeps nanos
/// at 0 too).
fn time(m: &Map<String, Value>, key: &str) -> Option<Option<meta::Time>> {
    match m.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(v) => {
            let t: jiff::Timestamp = v.as_str()?.parse().ok()?;
            (t.subsec_nanosecond() == 0).then_some(Some(meta::Time { seconds: Some(t.as_second()), nanos: Some(0) }))
        }
    }
}

fn object_meta(v: Option<&Value>) -> Option<meta::ObjectMeta> {
    let Some(v) = v else { return Some(meta::ObjectMeta::default()) };
    let m = object(
        v,
        &[
            "name",
            "generateName",
            "namespace",
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "labels",
            "annotations",
            "ownerReferences",
            "finalizers",
        ],
    )?;
    let owner_references = array(m.get("ownerReferences"), |o| {
        let o = object(o, &["apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion"])?;
        Some(meta::OwnerReference {
            api_version: string(o, "apiVersion")?,
            kind: string(o, "kind")?,
            name: string(o, "name")?,
            uid: string(o, "uid")?,
            controller: boolean(o, "controller")?,
            block_owner_deletion: boolean(o, "blockOwnerDeletion")?,
        })
    })?;
    Some(meta::ObjectMeta {
        name: string(m, "name")?,
        generate_name: string(m, "generateName")?,
        namespace: string(m, "namespace")?,
        self_link: None,
        uid: string(m, "uid")?,
        resource_version: string(m, "resourceVersion")?,
        generation: int(m, "generation")?,
        creation_timestamp: time(m, "creationTimestamp")?,
        deletion_timestamp: time(m, "deletionTimestamp")?,
        deletion_grace_period_seconds: int(m, "deletionGracePeriodSeconds")?,
        labels: string_map(m.get("labels"))?,
        annotations: string_map(m.get("annotations"))?,
        owner_references,
        finalizers: strings(m.get("finalizers"))?,
        managed_fields: Vec::new(),
    })
}

fn selector(v: Option<&Value>) -> Option<Option<meta::LabelSelector>> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Some(None) };
    let m = object(v, &["matchLabels", "matchExpressions"])?;
    let match_expressions = array(m.get("matchExpressions"), |e| {
        let e = object(e, &["key", "operator", "values"])?;
        Some(meta::LabelSelectorRequirement {
            key: string(e, "key")?,
            operator: string(e, "operator")?,
            values: strings(e.get("values"))?,
        })
    })?;
    Some(Some(meta::LabelSelector { match_labels: string_map(m.get("matchLabels"))?, match_expressions }))
}

/// A pod template with the container fields plain manifests use; anything else is not encoded.
fn pod_template(v: Option<&Value>) -> Option<Option<core::PodTemplateSpec>> {
    let Some(v) = v.filter(|v| !v.is_null()) else { return Some(None) };
    let m = object(v, &["metadata", "spec"])?;
    let spec = match m.get("spec") {
        None => None,
        Some(s) => {
            let s = object(
                s,
                &["containers", "restartPolicy", "terminationGracePeriodSeconds", "dnsPolicy", "schedulerName"],
            )?;
            let containers = array(s.get("containers"), |c| {
                let c = object(c, &["name", "image", "command", "args", "imagePullPolicy", "env"])?;
                let env = array(c.get("env"), |e| {
                    let e = object(e, &["name", "value"])?;
                    Some(core::EnvVar { name: string(e, "name")?, value: string(e, "value")?, value_from: None })
                })?;
                Some(core::Container {
                    name: string(c, "name")?,
                    image: string(c, "image")?,
                    command: strings(c.get("command"))?,
                    args: strings(c.get("args"))?,
                    image_pull_policy: string(c, "imagePullPolicy")?,
                    env,
                    ..Default::default()
                })
            })?;
            Some(core::PodSpec {
                containers,
                restart_policy: string(s, "restartPolicy")?,
                termination_grace_period_seconds: int(s, "terminationGracePeriodSeconds")?,
                dns_policy: string(s, "dnsPolicy")?,
                scheduler_name: string(s, "schedulerName")?,
                ..Default::default()
            })
        }
    };
    Some(Some(core::PodTemplateSpec { metadata: Some(object_meta(m.get("metadata"))?), spec }))
}

fn int_or_string(v: Option<&Value>) -> Option<Option<IntOrString>> {
    match v {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(IntOrString { r#type: Some(1), int_val: None, str_val: Some(s.clone()) })),
        Some(v) => {
            Some(Some(IntOrString { r#type: Some(0), int_val: Some(i32::try_from(v.as_i64()?).ok()?), str_val: None }))
        }
    }
}

fn replica_set(v: &Value) -> Option<apps::ReplicaSet> {
    let m = object(v, &["apiVersion", "kind", "metadata", "spec", "status"])?;
    let spec = match m.get("spec") {
        None => None,
        Some(s) => {
            let s = object(s, &["replicas", "minReadySeconds", "selector", "template"])?;
            Some(apps::ReplicaSetSpec {
                replicas: int(s, "replicas")?,
                min_ready_seconds: int(s, "minReadySeconds")?,
                selector: selector(s.get("selector"))?,
                template: pod_template(s.get("template"))?,
            })
        }
    };
    let status = match m.get("status") {
        None => None,
        Some(s) => {
            let s = object(
                s,
                &["replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration"],
            )?;
            Some(apps::ReplicaSetStatus {
                replicas: int(s, "replicas")?,
                fully_labeled_replicas: int(s, "fullyLabeledReplicas")?,
                ready_replicas: int(s, "readyReplicas")?,
                available_replicas: int(s, "availableReplicas")?,
                observed_generation: int(s, "observedGeneration")?,
                ..Default::default()
            })
        }
    };
    Some(apps::ReplicaSet { metadata: Some(object_meta(m.get("metadata"))?), spec, status })
}

fn deployment(v: &Value) -> Option<apps::Deployment> {
    let m = object(v, &["apiVersion", "kind", "metadata", "spec", "status"])?;
    let spec = match m.get("spec") {
        None => None,
        Some(s) => {
            let s = object(
                s,
                &[
                    "replicas",
                    "selector",
                    "template",
                    "strategy",
                    "minReadySeconds",
                    "revisionHistoryLimit",
                    "paused",
                    "progressDeadlineSeconds",
                ],
            )?;
            let strategy = match s.get("strategy") {
                None => None,
                Some(st) => {
                    let st = object(st, &["type", "rollingUpdate"])?;
                    let rolling_update = match st.get("rollingUpdate") {
                        None => None,
                        Some(r) => {
                            let r = object(r, &["maxUnavailable", "maxSurge"])?;
                            Some(apps::RollingUpdateDeployment {
                                max_unavailable: int_or_string(r.get("maxUnavailable"))?,
                                max_surge: int_or_string(r.get("maxSurge"))?,
                            })
                        }
                    };
                    Some(apps::DeploymentStrategy { r#type: string(st, "type")?, rolling_update })
                }
            };
            Some(apps::DeploymentSpec {
                replicas: int(s, "replicas")?,
                selector: selector(s.get("selector"))?,
                template: pod_template(s.get("template"))?,
                strategy,
                min_ready_seconds: int(s, "minReadySeconds")?,
                revision_history_limit: int(s, "revisionHistoryLimit")?,
                paused: boolean(s, "paused")?,
                progress_deadline_seconds: int(s, "progressDeadlineSeconds")?,
            })
        }
    };
    let status = match m.get("status") {
        None => None,
        Some(s) => {
            let s = object(
                s,
                &[
                    "observedGeneration",
                    "replicas",
                    "updatedReplicas",
                    "readyReplicas",
                    "availableReplicas",
                    "unavailableReplicas",
                ],
            )?;
            Some(apps::DeploymentStatus {
                observed_generation: int(s, "observedGeneration")?,
                replicas: int(s, "replicas")?,
                updated_replicas: int(s, "updatedReplicas")?,
                ready_replicas: int(s, "readyReplicas")?,
                available_replicas: int(s, "availableReplicas")?,
                unavailable_replicas: int(s, "unavailableReplicas")?,
                ..Default::default()
            })
        }
    };
    Some(apps::Deployment { metadata: Some(object_meta(m.get("metadata"))?), spec, status })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_replicaset_is_encoded_field_for_field() {
        let v = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "u1", "resourceVersion": "7",
                "creationTimestamp": "2024-05-01T10:00:00Z", "annotations": {"deployment.kubernetes.io/revision": "3"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "d1", "controller": true}]},
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}});
        let rs = replica_set(&v).unwrap();
        let meta = rs.metadata.unwrap();
        assert_eq!((meta.name.as_deref(), meta.resource_version.as_deref()), (Some("web-1"), Some("7")));
        assert_eq!(meta.creation_timestamp.unwrap().seconds, Some(1_714_557_600));
        assert_eq!(meta.owner_references[0].controller, Some(true));
        assert_eq!(meta.annotations["deployment.kubernetes.io/revision"], "3");
        let spec = rs.spec.unwrap();
        assert_eq!(spec.replicas, Some(0));
        assert_eq!(spec.template.unwrap().spec.unwrap().containers[0].image.as_deref(), Some("nginx:1"));
    }

    #[test]
    fn an_object_with_a_field_not_encoded_here_is_not_encoded_at_all() {
        let v = json!({"metadata": {"name": "x"},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i", "livenessProbe": {}}]}}}});
        assert!(replica_set(&v).is_none());
        assert!(replica_set(&json!({"metadata": {"name": "x", "managedFields": []}})).is_none());
    }

    #[test]
    fn protobuf_is_served_only_to_clients_that_prefer_it() {
        assert!(preferred("application/vnd.kubernetes.protobuf, application/json"));
        assert!(!preferred("application/json, application/vnd.kubernetes.protobuf"));
        assert!(!preferred("application/json"));
    }
}
