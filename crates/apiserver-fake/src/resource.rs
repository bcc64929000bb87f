//! The REST verbs on API resources: get, list, create, update, patch, delete, deletecollection,
//! and the scale and status subresources.

use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::list::{self, ListQuery};
use crate::patch;
use crate::protobuf;
use crate::registry::ResourceType;
use crate::reply::Reply;
use crate::request::RequestInfo;
use crate::status::{self, ApiError, ApiResult};
use crate::store::{Store, Stored, apply_defaults, new_uid, now_timestamp};
use crate::table;
use crate::validation;

/// A resource request, parsed.
pub struct Call<'a> {
    /// Target of the request.
    pub info: &'a RequestInfo,
    /// Decoded query pairs.
    pub query: &'a [(String, String)],
    /// Accept header ("" when absent).
    pub accept: &'a str,
    /// Content-Type header ("" when absent).
    pub content_type: &'a str,
    /// Request body.
    pub body: &'a Bytes,
}

impl Call<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn dry_run(&self) -> bool {
        self.param("dryRun") == Some("All")
    }
}

/// Serves a resource request (already authorized).
pub fn serve(cluster: &Cluster, call: &Call) -> Reply {
    match serve_inner(cluster, call) {
        Ok(r) => r,
        Err(e) => e.into(),
    }
}

fn serve_inner(cluster: &Cluster, call: &Call) -> ApiResult<Reply> {
    let info = call.info;
    let rt =
        cluster.store().find_type(&info.group, &info.version, &info.resource).ok_or_else(status::unknown_resource)?;
    let collection_verb = matches!(info.verb.as_str(), "list" | "watch" | "deletecollection" | "create");
    let bad_scope = if rt.namespaced {
        info.namespace.is_empty() && !matches!(info.verb.as_str(), "list" | "watch")
    } else {
        !info.namespace.is_empty() && info.resource != "namespaces"
    };
    if bad_scope || (!collection_verb && info.name.is_empty()) {
        return Err(status::unknown_resource());
    }
    if !info.subresource.is_empty() && !rt.has_subresource(&info.subresource) {
        return Err(status::unknown_resource());
    }
    if !rt.has_verb(&info.verb) && info.subresource.is_empty() {
        return Err(status::method_not_allowed());
    }
    let namespace = if rt.namespaced { info.namespace.as_str() } else { "" };
    match info.verb.as_str() {
        "get" => get(cluster, call, &rt, namespace),
        "list" => list(cluster, call, &rt),
        "watch" => watch(cluster, call, &rt),
        "create" if info.name.is_empty() => create(cluster, call, &rt, namespace),
        "update" => {
            let body = parse_body(call.body)?;
            write(cluster, call, &rt, namespace, Change::Replace(body))
        }
        "patch" => {
            let body = parse_patch(call)?;
            write(cluster, call, &rt, namespace, body)
        }
        "delete" => delete(cluster, call, &rt, namespace),
        "deletecollection" => delete_collection(cluster, call, &rt, namespace),
        _ => Err(status::method_not_allowed()),
    }
}

fn parse_body(body: &Bytes) -> ApiResult<Value> {
    serde_json::from_slice(body)
        .or_else(|_| serde_saphyr::from_slice::<Value>(body).map_err(|e| e.to_string()))
        .map_err(|e| status::bad_request(&format!("the body of the request could not be decoded: {e}")))
}

/// Rewrites apiVersion for custom resources read at another served version.
fn object_reply(code: u16, rt: &ResourceType, obj: &Arc<Stored>) -> Reply {
    if rt.custom && obj.value["apiVersion"] != rt.api_version().as_str() {
        let mut v = obj.value.clone();
        v["apiVersion"] = json!(rt.api_version());
        return Reply::json(code, &v);
    }
    Reply::raw(code, obj.object_json())
}

fn get(cluster: &Cluster, call: &Call, rt: &Arc<ResourceType>, ns: &str) -> ApiResult<Reply> {
    let name = &call.info.name;
    let obj = cluster.store().get(rt, ns, name).ok_or_else(|| status::not_found(rt, name))?;
    match call.info.subresource.as_str() {
        "scale" => return Ok(Reply::json(200, &scale_of(&obj.value))),
        "" | "status" => {}
        _ => return Err(status::unknown_resource()),
    }
    if table::wants_table(call.accept) {
        return Ok(Reply::json(200, &table::table(rt, &[obj], None)));
    }
    // As the real server does: protobuf to a client that prefers it, for the kinds encoded here.
    if protobuf::preferred(call.accept)
        && let Some(body) = protobuf::object_body(rt, &obj.value)
    {
        return Ok(Reply { content_type: crate::proto::CONTENT_TYPE.into(), ..Reply::raw(200, body) });
    }
    Ok(object_reply(200, rt, &obj))
}

fn list(cluster: &Cluster, call: &Call, rt: &Arc<ResourceType>) -> ApiResult<Reply> {
    let protobuf =
        protobuf::preferred(call.accept) && !table::wants_table(call.accept) && !list::wants_metadata_only(call.accept);
    match list_page(cluster, call, rt, protobuf) {
        // The real server encodes errors in the negotiated format too (an expired continue
        // token reaches a protobuf client as a protobuf Status).
        Err(e) if protobuf && protobuf::encodes(rt) => match protobuf::status_body(&e.body) {
            Some(body) => Ok(Reply { content_type: crate::proto::CONTENT_TYPE.into(), ..Reply::raw(e.code, body) }),
            None => Err(e),
        },
        other => other,
    }
}

fn list_page(cluster: &Cluster, call: &Call, rt: &Arc<ResourceType>, protobuf: bool) -> ApiResult<Reply> {
    let namespace = (!call.info.namespace.is_empty()).then(|| call.info.namespace.clone());
    let q = ListQuery::from_query(rt, namespace, call.query)?;
    if cluster.faults().take_expire_tokens() {
        // A compaction at a fresh resourceVersion: every token issued so far is older.
        let mut store = cluster.store_mut();
        store.compacted_rv = store.next_rv();
    }
    let store = cluster.store();
    let page = list::select(&store, rt, &q)?;
    let encoded = if protobuf { protobuf::list_body(rt, &page) } else { None };
    let mut reply = if table::wants_table(call.accept) {
        Reply::json(200, &table::table(rt, &page.items, Some(&page)))
    } else if list::wants_metadata_only(call.accept) {
        Reply::raw(200, list::metadata_list_body(&page))
    } else if let Some(body) = encoded {
        Reply { content_type: crate::proto::CONTENT_TYPE.into(), ..Reply::raw(200, body) }
    } else {
        Reply::raw(200, list::list_body(rt, &page))
    };
    reply.cut_midway = cluster.faults().take_drop_list();
    Ok(reply)
}

/// A watch: without a resourceVersion (or with "0") the current objects first, as ADDED
/// events; then every change of matching objects until `timeoutSeconds` (default 30 minutes).
/// The fake keeps no history, so a resourceVersion in the past starts from now. A watch-list
/// (`sendInitialEvents=true`, which needs `resourceVersionMatch=NotOlderThan`, as on the real
/// server) sends the current objects whatever the resourceVersion, then the bookmark annotated
/// `k8s.io/initial-events-end`. ReplicaSets and Deployments are sent as protobuf frames to
/// clients that prefer it, when every initial object encodes exactly; a later change that does
/// not encode ends the watch (the client watches again).
fn watch(cluster: &Cluster, call: &Call, rt: &Arc<ResourceType>) -> ApiResult<Reply> {
    let namespace = (!call.info.namespace.is_empty()).then(|| call.info.namespace.clone());
    let mut q = ListQuery::from_query(rt, namespace, call.query)?;
    q.limit = 0;
    q.continue_token = None;
    let watch_list = call.param("sendInitialEvents") == Some("true");
    if watch_list && call.param("resourceVersionMatch") != Some("NotOlderThan") {
        return Err(status::invalid(
            "ListOptions.meta.k8s.io",
            "meta.k8s.io",
            "ListOptions",
            "",
            &[status::Cause {
                reason: "FieldValueForbidden",
                message: "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan".into(),
                field: "resourceVersionMatch".into(),
            }],
        ));
    }
    let from_now = !watch_list && call.param("resourceVersion").is_some_and(|rv| !rv.is_empty() && rv != "0");
    let timeout = call.param("timeoutSeconds").and_then(|t| t.parse().ok()).unwrap_or(1800u64);
    let store = cluster.store();
    let receiver = store.subscribe();
    let current = if from_now { Vec::new() } else { list::select(&store, rt, &q)?.items };
    let bookmark = watch_list.then(|| {
        json!({
            "kind": rt.kind, "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": store.current_rv().to_string(), "annotations": {"k8s.io/initial-events-end": "true"}}
        })
    });
    drop(store);
    let frames: Option<Vec<Vec<u8>>> = (protobuf::preferred(call.accept) && protobuf::encodes(rt))
        .then(|| {
            let added = current.iter().map(|item| protobuf::watch_frame(rt, "ADDED", &item.value));
            added.chain(bookmark.iter().map(|b| protobuf::watch_frame(rt, "BOOKMARK", b))).collect()
        })
        .flatten();
    let protobuf = frames.is_some();
    let initial: Vec<u8> = match frames {
        Some(frames) => frames.concat(),
        None => {
            let added = current.iter().flat_map(|item| watch_line("ADDED", &item.object_json()));
            let end =
                bookmark.iter().flat_map(|b| watch_line("BOOKMARK", &serde_json::to_vec(b).expect("JSON serializes")));
            added.chain(end).collect()
        }
    };
    let (type_key, rt) = ((rt.group.clone(), rt.plural.clone()), rt.clone());
    let changes = futures::stream::unfold(receiver, move |mut rx| {
        let (type_key, q, rt) = (type_key.clone(), q.clone(), rt.clone());
        async move {
            loop {
                match rx.recv().await {
                    Ok(e) if e.type_key == type_key && list::matches(&q, &e.object) => {
                        let line = if protobuf {
                            protobuf::watch_frame(&rt, e.kind, &e.object.value)?
                        } else {
                            watch_line(e.kind, &e.object.object_json())
                        };
                        return Some((Ok(Bytes::from(line)), rx));
                    }
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    let deadline = tokio::time::sleep(std::time::Duration::from_secs(timeout));
    let changes = futures::StreamExt::take_until(changes, deadline);
    let mut reply = Reply::raw(200, Bytes::from(initial));
    if protobuf {
        reply.content_type = protobuf::WATCH_CONTENT_TYPE.into();
    }
    reply.stream = Some(Box::pin(changes));
    Ok(reply)
}

fn watch_line(kind: &str, object_json: &[u8]) -> Vec<u8> {
    let mut out = format!("{{\"type\":\"{kind}\",\"object\":").into_bytes();
    out.extend_from_slice(object_json);
    out.extend_from_slice(b"}\n");
    out
}

fn ensure_namespace(store: &Store, ns: &str) -> ApiResult<()> {
    if ns.is_empty() {
        return Ok(());
    }
    let namespaces = store.find_type("", "v1", "namespaces").expect("namespaces are built in");
    if store.get(&namespaces, "", ns).is_none() {
        return Err(status::not_found(&namespaces, ns));
    }
    Ok(())
}

/// Validates a custom resource against its schema; returns the Warning header values.
fn validate_custom(call: &Call, rt: &ResourceType, obj: &mut Value) -> ApiResult<Vec<String>> {
    let Some(schema) = &rt.schema else {
        return Ok(Vec::new());
    };
    let name = obj["metadata"]["name"].as_str().unwrap_or_default().to_string();
    let findings = validation::check(schema, obj);
    if !findings.wrong_types.is_empty() {
        let causes: Vec<status::Cause> = findings
            .wrong_types
            .iter()
            .map(|(path, want, got)| status::Cause {
                reason: "FieldValueTypeInvalid",
                message: format!("Invalid value: \"{got}\": {path} in body must be of type {want}: \"{got}\""),
                field: path.clone(),
            })
            .collect();
        return Err(status::invalid(&rt.qualified_kind(), &rt.group, &rt.kind, &name, &causes));
    }
    let unknown: Vec<String> = findings.unknown.iter().map(|f| format!("unknown field \"{f}\"")).collect();
    match call.param("fieldValidation").unwrap_or("Warn") {
        "Strict" if !unknown.is_empty() => Err(status::bad_request(&format!(
            "{} in version \"{}\" cannot be handled as a {}: strict decoding error: {}",
            rt.kind,
            rt.version,
            rt.kind,
            unknown.join(", ")
        ))),
        "Ignore" => Ok(Vec::new()),
        _ => Ok(unknown),
    }
}

fn warning_reply(mut reply: Reply, warnings: Vec<String>) -> Reply {
    for w in warnings {
        reply = reply.with_header("warning", format!("299 - \"{}\"", w.replace('"', "\\\"")));
    }
    reply
}

fn check_kind(rt: &ResourceType, obj: &Value) -> ApiResult<()> {
    let kind = obj["kind"].as_str().unwrap_or_default();
    if !kind.is_empty() && kind != rt.kind {
        return Err(status::bad_request(&format!(
            "the kind of the object ({kind}) does not match the kind of the URL ({})",
            rt.kind
        )));
    }
    Ok(())
}

fn create(cluster: &Cluster, call: &Call, rt: &Arc<ResourceType>, ns: &str) -> ApiResult<Reply> {
    let mut obj = parse_body(call.body)?;
    check_kind(rt, &obj)?;
    obj["apiVersion"] = json!(rt.api_version());
    obj["kind"] = json!(rt.kind);
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    let meta = &mut obj["metadata"];
    if meta["name"].as_str().is_none_or(str::is_empty) {
        match meta["generateName"].as_str() {
            Some(prefix) if !prefix.is_empty() => {
                let suffix: String = (0..5)
                    .map(|_| fastrand::choice(b"bcdfghjklmnpqrstvwxz2456789").map(|c| *c as char).unwrap_or('x'))
                    .collect();
                meta["name"] = json!(format!("{prefix}{suffix}"));
            }
            _ => {
                return Err(status::invalid(
                    &rt.qualified_kind(),
                    &rt.group,
                    &rt.kind,
                    "",
                    &[status::Cause {
                        reason: "FieldValueRequired",
                        message: "Required value: name or generateName is required".into(),
                        field: "metadata.name".into(),
                    }],
                ));
            }
        }
    }
    if rt.namespaced {
        match meta["namespace"].as_str() {
            Some(n) if !n.is_empty() && n != ns => {
                return Err(status::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => meta["namespace"] = json!(ns),
        }
    } else if let Some(m) = meta.as_object_mut() {
        m.remove("namespace");
    }
    let name = meta["name"].as_str().unwrap_or_default().to_string();
    if let Some(m) = meta.as_object_mut() {
        for k in ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"] {
            m.remove(k);
        }
    }
    meta["uid"] = json!(new_uid());
    meta["creationTimestamp"] = json!(now_timestamp());
    initial_status(rt, &mut obj);
    if obj.get("spec").is_some() {
        obj["metadata"]["generation"] = json!(1);
    }
    let warnings = validate_custom(call, rt, &mut obj)?;
    apply_defaults(rt, &mut obj);
    let mut store = cluster.store_mut();
    ensure_namespace(&store, ns)?;
    if store.get(rt, ns, &name).is_some() {
        return Err(status::already_exists(rt, &name));
    }
    if call.dry_run() {
        return Ok(warning_reply(Reply::json(201, &obj), warnings));
    }
    let stored = store.put(rt, obj);
    Ok(warning_reply(object_reply(201, rt, &stored), warnings))
}

/// The status a created object starts with. Where the type has a status subresource, the real
/// server ignores the status sent on create (it is written through `/status`, by controllers or
/// kubectl's `--subresource status`); Nodes keep theirs (a kubelet registers its node with it).
fn initial_status(rt: &ResourceType, obj: &mut Value) {
    if !rt.has_subresource("status") || (rt.group.is_empty() && rt.plural == "nodes") {
        return;
    }
    if let Some(m) = obj.as_object_mut() {
        m.remove("status");
    }
    match (rt.group.as_str(), rt.plural.as_str()) {
        ("", "pods") => {
            let limited = obj["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["resources"].as_object().is_some_and(|r| !r.is_empty()));
            obj["status"] = if limited {
                json!({"phase": "Pending"})
            } else {
                json!({"phase": "Pending", "qosClass": "BestEffort"})
            };
        }
        ("apps", "daemonsets") => {
            obj["status"] = json!({"currentNumberScheduled": 0, "desiredNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0});
        }
        _ => {}
    }
}

/// How a write changes the object.
enum Change {
    /// PUT: the new object.
    Replace(Value),
    /// Merge patch (also strategic merge and apply).
    Merge(Value, bool),
    /// JSON patch operations.
    JsonPatch(Value),
}

fn parse_patch(call: &Call) -> ApiResult<Change> {
    let ct = call.content_type.split(';').next().unwrap_or_default().trim();
    match ct {
        "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
            Ok(Change::Merge(parse_body(call.body)?, false))
        }
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
            Ok(Change::Merge(parse_body(call.body)?, true))
        }
        "application/json-patch+json" => Ok(Change::JsonPatch(parse_body(call.body)?)),
        other => Err(status::unsupported_media_type(other)),
    }
}

fn apply_change(current: &Value, change: &Change) -> ApiResult<Value> {
    Ok(match change {
        Change::Replace(v) => v.clone(),
        Change::Merge(p, _) => {
            let mut v = current.clone();
            patch::merge(&mut v, p);
            v
        }
        Change::JsonPatch(ops) => {
            let mut v = current.clone();
            patch::json_patch(&mut v, ops).map_err(|e| ApiError {
                code: 422,
                body: json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": e, "reason": "Invalid", "code": 422}),
            })?;
            v
        }
    })
}

fn write(cluster: &Cluster, call: &Call, rt: &Arc<ResourceType>, ns: &str, change: Change) -> ApiResult<Reply> {
    let name = call.info.name.clone();
    let sub = call.info.subresource.as_str();
    let existing = cluster.store().get(rt, ns, &name);
    let Some(existing) = existing else {
        if let Change::Merge(body, true) = &change
            && sub.is_empty()
        {
            // Server-side apply creates missing objects.
            let call2 = Call { body: &Bytes::from(serde_json::to_vec(body).expect("JSON serializes")), ..*call };
            return create(cluster, &call2, rt, ns);
        }
        return Err(status::not_found(rt, &name));
    };
    if sub == "scale" {
        return write_scale(cluster, call, rt, &existing, &change);
    }
    let mut obj = apply_change(&existing.value, &change)?;
    if !obj.is_object() {
        return Err(status::bad_request("the body of the request must be an object"));
    }
    check_kind(rt, &obj)?;
    if obj["metadata"]["name"].as_str().is_some_and(|n| n != name) {
        return Err(status::bad_request(&format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            obj["metadata"]["name"].as_str().unwrap_or_default()
        )));
    }
    if let Some(rv) = obj["metadata"]["resourceVersion"].as_str()
        && !rv.is_empty()
        && rv != existing.resource_version()
    {
        return Err(status::update_conflict(rt, &name));
    }
    if sub == "status" {
        let mut merged = existing.value.clone();
        merged["status"] = obj.get("status").cloned().unwrap_or(Value::Null);
        obj = merged;
    } else if rt.has_subresource("status") {
        match existing.value.get("status") {
            Some(s) => obj["status"] = s.clone(),
            None => {
                if let Some(m) = obj.as_object_mut() {
                    m.remove("status");
                }
            }
        }
    }
    obj["apiVersion"] = json!(rt.api_version());
    obj["kind"] = json!(rt.kind);
    let old_meta = &existing.value["metadata"];
    for k in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace", "name"] {
        match old_meta.get(k) {
            Some(v) => obj["metadata"][k] = v.clone(),
            None => {
                if let Some(m) = obj["metadata"].as_object_mut() {
                    m.remove(k);
                }
            }
        }
    }
    if let Some(g) = old_meta.get("generation").and_then(Value::as_i64) {
        let changed = existing.value.get("spec") != obj.get("spec");
        obj["metadata"]["generation"] = json!(if changed { g + 1 } else { g });
    }
    let warnings = validate_custom(call, rt, &mut obj)?;
    let finished = obj["metadata"].get("deletionTimestamp").is_some()
        && obj["metadata"]["finalizers"].as_array().is_none_or(|f| f.is_empty());
    if call.dry_run() {
        return Ok(warning_reply(Reply::json(200, &obj), warnings));
    }
    let mut store = cluster.store_mut();
    let stored = store.put(rt, obj);
    if finished {
        // The last finalizer is gone: the deletion completes now.
        store.remove(rt, ns, &name, true);
    }
    Ok(warning_reply(object_reply(200, rt, &stored), warnings))
}

/// The label selector of `spec.selector` in its string form, keys sorted like the server's.
fn selector_string(selector: &Value) -> String {
    let mut parts: Vec<String> = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for e in selector["matchExpressions"].as_array().into_iter().flatten() {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        parts.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    parts.sort();
    parts.join(",")
}

/// The autoscaling/v1 Scale of a scalable object.
pub fn scale_of(obj: &Value) -> Value {
    let m = &obj["metadata"];
    let replicas = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let spec = if replicas == 0 { json!({}) } else { json!({"replicas": replicas}) };
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
            "resourceVersion": m["resourceVersion"], "creationTimestamp": m["creationTimestamp"],
        },
        "spec": spec,
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector_string(&obj["spec"]["selector"])},
    })
}

fn write_scale(
    cluster: &Cluster,
    call: &Call,
    rt: &Arc<ResourceType>,
    existing: &Arc<Stored>,
    change: &Change,
) -> ApiResult<Reply> {
    let current = scale_of(&existing.value);
    let wanted = apply_change(&current, change)?;
    if let Some(rv) = wanted["metadata"]["resourceVersion"].as_str()
        && !rv.is_empty()
        && rv != existing.resource_version()
    {
        return Err(status::update_conflict(rt, &call.info.name));
    }
    let replicas = wanted["spec"]["replicas"].as_i64().unwrap_or(0);
    let mut obj = existing.value.clone();
    if obj["spec"]["replicas"].as_i64() != Some(replicas) {
        obj["spec"]["replicas"] = json!(replicas);
        if let Some(g) = obj["metadata"]["generation"].as_i64() {
            obj["metadata"]["generation"] = json!(g + 1);
        }
    }
    if call.dry_run() {
        return Ok(Reply::json(200, &scale_of(&obj)));
    }
    let stored = cluster.store_mut().put(rt, obj);
    Ok(Reply::json(200, &scale_of(&stored.value)))
}

/// DeleteOptions as the server reads them: from the body when there is one, else the query.
struct DeleteOptions {
    dry_run: bool,
    uid: Option<String>,
    resource_version: Option<String>,
    orphan: bool,
}

fn delete_options(call: &Call) -> ApiResult<DeleteOptions> {
    let has_body = call.body.iter().any(|b| !b.is_ascii_whitespace());
    if has_body {
        let body = parse_body(call.body)?;
        let dry_run = body["dryRun"].as_array().is_some_and(|a| a.iter().any(|v| v == "All"));
        let pre = &body["preconditions"];
        return Ok(DeleteOptions {
            dry_run,
            uid: pre["uid"].as_str().map(String::from),
            resource_version: pre["resourceVersion"].as_str().map(String::from),
            orphan: body["propagationPolicy"] == "Orphan" || body["orphanDependents"] == true,
        });
    }
    Ok(DeleteOptions {
        dry_run: call.dry_run(),
        uid: None,
        resource_version: None,
        orphan: call.param("propagationPolicy") == Some("Orphan") || call.param("orphanDependents") == Some("true"),
    })
}

fn delete(cluster: &Cluster, call: &Call, rt: &Arc<ResourceType>, ns: &str) -> ApiResult<Reply> {
    let opts = delete_options(call)?;
    let name = call.info.name.clone();
    let mut store = cluster.store_mut();
    let existing = store.get(rt, ns, &name).ok_or_else(|| status::not_found(rt, &name))?;
    if let Some(uid) = &opts.uid
        && uid != existing.uid()
    {
        return Err(status::precondition_conflict(
            rt,
            &name,
            &format!(
                "the UID in the precondition ({uid}) does not match the UID in record ({}). The object might have been deleted and then recreated",
                existing.uid()
            ),
        ));
    }
    if let Some(rv) = &opts.resource_version
        && rv != existing.resource_version()
    {
        return Err(status::precondition_conflict(
            rt,
            &name,
            &format!(
                "the ResourceVersion in the precondition ({rv}) does not match the ResourceVersion in record ({}). The object might have been modified",
                existing.resource_version()
            ),
        ));
    }
    let (code, body) = delete_one(&mut store, rt, ns, &existing, &opts);
    Ok(match body {
        Some(obj) => object_reply(code, rt, &obj),
        None => Reply::json(code, &status::success_deleted(rt, &name, existing.uid())),
    })
}

/// Deletes (or, with finalizers, marks for deletion) one object; returns the code and the
/// object to answer with (None: a Success Status).
fn delete_one(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    existing: &Arc<Stored>,
    opts: &DeleteOptions,
) -> (u16, Option<Arc<Stored>>) {
    let has_finalizers = existing.value["metadata"]["finalizers"].as_array().is_some_and(|f| !f.is_empty());
    if has_finalizers {
        if existing.value["metadata"].get("deletionTimestamp").is_some() || opts.dry_run {
            return (200, Some(existing.clone()));
        }
        let mut obj = existing.value.clone();
        obj["metadata"]["deletionTimestamp"] = json!(now_timestamp());
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        return (200, Some(store.put(rt, obj)));
    }
    if !opts.dry_run {
        store.remove(rt, ns, existing.name(), !opts.orphan);
    }
    (200, None)
}

fn delete_collection(cluster: &Cluster, call: &Call, rt: &Arc<ResourceType>, ns: &str) -> ApiResult<Reply> {
    let opts = delete_options(call)?;
    let namespace = (!ns.is_empty()).then(|| ns.to_string());
    let mut q = ListQuery::from_query(rt, namespace, call.query)?;
    q.limit = 0;
    q.continue_token = None;
    let mut store = cluster.store_mut();
    let page = list::select(&store, rt, &q)?;
    let mut items = Vec::new();
    for obj in &page.items {
        let (_, marked) = delete_one(&mut store, rt, ns, obj, &opts);
        items.push(marked.map(|m| m.value.clone()).unwrap_or_else(|| obj.value.clone()));
    }
    Ok(Reply::json(
        200,
        &json!({
            "kind": format!("{}List", rt.kind),
            "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": store.current_rv().to_string()},
            "items": items,
        }),
    ))
}
