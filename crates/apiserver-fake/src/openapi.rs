//! OpenAPI v3 documents just rich enough for kubectl: each PATCH operation declares the
//! `fieldValidation` parameter, so kubectl leaves validation to the server (as with a real one)
//! instead of downloading schemas for client-side validation.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::registry::ResourceType;
use crate::store::Store;

/// Key of a group/version in the v3 root: `api/v1` or `apis/<group>/<version>`.
fn key(t: &ResourceType) -> String {
    if t.group.is_empty() { format!("api/{}", t.version) } else { format!("apis/{}/{}", t.group, t.version) }
}

fn by_group_version(store: &Store) -> BTreeMap<String, Vec<Arc<ResourceType>>> {
    let mut out: BTreeMap<String, Vec<Arc<ResourceType>>> = BTreeMap::new();
    for t in store.resource_types() {
        out.entry(key(t)).or_default().push(t.clone());
    }
    out
}

/// The schema name the real server uses, e.g. `com.corp.awesome.v1.Candy`.
fn schema_name(t: &ResourceType) -> String {
    let group: Vec<&str> =
        if t.group.is_empty() { vec!["io", "k8s", "api", "core"] } else { t.group.split('.').rev().collect() };
    format!("{}.{}.{}", group.join("."), t.version, t.kind)
}

fn document(types: &[Arc<ResourceType>]) -> Value {
    let mut paths = serde_json::Map::new();
    let mut schemas = serde_json::Map::new();
    for t in types.iter().filter(|t| t.has_verb("patch")) {
        let gvk = json!({"group": t.group, "version": t.version, "kind": t.kind});
        let prefix =
            if t.group.is_empty() { format!("/api/{}", t.version) } else { format!("/apis/{}/{}", t.group, t.version) };
        let path = if t.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", t.plural)
        } else {
            format!("{prefix}/{}/{{name}}", t.plural)
        };
        let param = |name: &str, kind: &str| json!({"name": name, "in": "query", "schema": {"type": kind, "uniqueItems": true}});
        paths.insert(
            path,
            json!({"patch": {
                "description": format!("partially update the specified {}", t.kind),
                "parameters": [param("dryRun", "string"), param("fieldManager", "string"), param("fieldValidation", "string"), param("force", "boolean")],
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": gvk,
            }}),
        );
        let mut schema =
            t.schema.clone().unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
        schema["x-kubernetes-group-version-kind"] = json!([gvk]);
        schemas.insert(schema_name(t), schema);
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.13"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

fn hash(doc: &Value) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    doc.to_string().hash(&mut h);
    format!("{:016X}", h.finish())
}

/// `/openapi/v3`: one entry per served group/version.
pub fn root(store: &Store) -> Value {
    let paths: serde_json::Map<String, Value> = by_group_version(store)
        .into_iter()
        .map(|(k, types)| {
            let url = format!("/openapi/v3/{k}?hash={}", hash(&document(&types)));
            (k, json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// `/openapi/v3/<api/v1 | apis/group/version>`, if served.
pub fn group_version(store: &Store, key: &str) -> Option<Value> {
    by_group_version(store).get(key).map(|types| document(types))
}
