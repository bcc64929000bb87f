//! Discovery documents: recorded ones for built-in groups, generated ones for CRD groups.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::registry::{BUILTINS, ResourceType, recorded};
use crate::store::Store;

/// Content type of aggregated discovery responses.
pub const AGGREGATED_CONTENT_TYPE: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether the Accept header asks for aggregated discovery (v2).
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').next().is_some_and(|first| first.contains("as=APIGroupDiscoveryList") && first.contains("v=v2"))
}

/// `/version`.
pub fn version() -> Value {
    recorded::body(recorded::VERSION)
}

/// `/api`.
pub fn api_versions() -> Value {
    recorded::body(recorded::API)
}

/// CRD types grouped by group, versions in CRD order.
fn crd_groups(store: &Store) -> BTreeMap<String, Vec<Arc<ResourceType>>> {
    let mut groups: BTreeMap<String, Vec<Arc<ResourceType>>> = BTreeMap::new();
    for t in store.crd_types() {
        groups.entry(t.group.clone()).or_default().push(t.clone());
    }
    groups
}

fn versions_of(types: &[Arc<ResourceType>]) -> Vec<String> {
    let mut versions: Vec<String> = Vec::new();
    for t in types {
        if !versions.contains(&t.version) {
            versions.push(t.version.clone());
        }
    }
    // The real server orders CRD versions by kube-aware version priority; v1 > v1beta1 > v1alpha1.
    versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
    versions
}

fn version_priority(v: &str) -> (u8, u32, u32) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let major: u32 = digits.parse().unwrap_or(0);
    let tail = &rest[digits.len()..];
    let minor = |t: &str| t.parse::<u32>().unwrap_or(0);
    if tail.is_empty() {
        (3, major, 0)
    } else if let Some(b) = tail.strip_prefix("beta") {
        (2, major, minor(b))
    } else if let Some(a) = tail.strip_prefix("alpha") {
        (1, major, minor(a))
    } else {
        (0, 0, 0)
    }
}

fn group_entry(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v})).collect();
    json!({"name": name, "versions": vs, "preferredVersion": vs[0]})
}

/// Groups of unavailable aggregated APIServices that neither a built-in type nor a CRD serves,
/// with their versions in priority order.
fn aggregated_groups(store: &Store) -> BTreeMap<String, Vec<String>> {
    let crds = crd_groups(store);
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (group, version) in store.unavailable_aggregated() {
        if crds.contains_key(&group) || BUILTINS.groups.iter().any(|g| g["name"] == group.as_str()) {
            continue;
        }
        let versions = groups.entry(group).or_default();
        if !versions.contains(&version) {
            versions.push(version);
        }
    }
    for versions in groups.values_mut() {
        versions.sort_by_key(|v| std::cmp::Reverse(version_priority(v)));
    }
    groups
}

/// `/apis` as an APIGroupList.
pub fn api_group_list(store: &Store) -> Value {
    let mut groups = BUILTINS.groups.clone();
    for (name, types) in crd_groups(store) {
        if groups.iter().any(|g| g["name"] == name.as_str()) {
            continue;
        }
        groups.push(group_entry(&name, &versions_of(&types)));
    }
    // An aggregated API that is down is still listed: its APIService says it exists.
    for (name, versions) in aggregated_groups(store) {
        groups.push(group_entry(&name, &versions));
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis` as an aggregated APIGroupDiscoveryList.
pub fn aggregated(store: &Store) -> Value {
    let mut items = BUILTINS.aggregated_items.clone();
    for (name, types) in crd_groups(store) {
        let versions: Vec<Value> = versions_of(&types)
            .iter()
            .map(|v| {
                let resources: Vec<Value> =
                    types.iter().filter(|t| &t.version == v).map(|t| aggregated_resource(t)).collect();
                json!({"version": v, "resources": resources, "freshness": "Current"})
            })
            .collect();
        items.push(json!({"metadata": {"name": name, "creationTimestamp": null}, "versions": versions}));
    }
    // The real server keeps an unavailable aggregated API's versions, Stale and without resources.
    for (name, versions) in aggregated_groups(store) {
        let versions: Vec<Value> = versions.iter().map(|v| json!({"version": v, "freshness": "Stale"})).collect();
        items.push(json!({"metadata": {"name": name, "creationTimestamp": null}, "versions": versions}));
    }
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// `/api` as an aggregated APIGroupDiscoveryList: the core group (name "") and its v1 resources,
/// as a real server answers kubectl's aggregated Accept header.
pub fn aggregated_core() -> Value {
    let resources: Vec<Value> = BUILTINS
        .types
        .iter()
        .filter(|t| t.group.is_empty() && t.version == "v1")
        .map(|t| aggregated_resource(t))
        .collect();
    let versions = json!([{"version": "v1", "resources": resources, "freshness": "Current"}]);
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
           "items": [{"metadata": {"creationTimestamp": null}, "versions": versions}]})
}

fn aggregated_resource(t: &ResourceType) -> Value {
    let mut r = json!({
        "resource": t.plural,
        "responseKind": {"group": "", "version": "", "kind": t.kind},
        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular,
        "verbs": t.verbs,
    });
    if !t.short_names.is_empty() {
        r["shortNames"] = json!(t.short_names);
    }
    if !t.categories.is_empty() {
        r["categories"] = json!(t.categories);
    }
    let subs: Vec<Value> = t
        .subresources
        .iter()
        .map(|s| {
            json!({
                "subresource": s["name"],
                "responseKind": {"group": s.get("group").cloned().unwrap_or(json!("")), "version": s.get("version").cloned().unwrap_or(json!("")), "kind": s["kind"]},
                "verbs": s["verbs"],
            })
        })
        .collect();
    if !subs.is_empty() {
        r["subresources"] = json!(subs);
    }
    r
}

/// `/apis/<group>` (APIGroup), if the group is served.
pub fn api_group(store: &Store, group: &str) -> Option<Value> {
    let list = api_group_list(store);
    let entry = list["groups"].as_array()?.iter().find(|g| g["name"] == group)?.clone();
    let mut doc = json!({"kind": "APIGroup", "apiVersion": "v1"});
    for (k, v) in entry.as_object()? {
        doc[k] = v.clone();
    }
    Some(doc)
}

/// `/api/v1` or `/apis/<group>/<version>` (APIResourceList), if served.
pub fn resource_list(store: &Store, group_version: &str) -> Option<Value> {
    if let Some(doc) = BUILTINS.documents.get(group_version) {
        return Some(doc.clone());
    }
    let (group, version) = group_version.split_once('/')?;
    let entries: Vec<Value> = store
        .crd_types()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .flat_map(|t| t.discovery_entries())
        .collect();
    if entries.is_empty() {
        return None;
    }
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut v = vec!["v1alpha1", "v2", "v1beta1", "v1"];
        v.sort_by_key(|x| std::cmp::Reverse(version_priority(x)));
        assert_eq!(v, ["v2", "v1", "v1beta1", "v1alpha1"]);
    }

    #[test]
    fn unrecorded_groups_are_generated_from_aggregated_discovery() {
        let store = Store::default();
        let storage = resource_list(&store, "storage.k8s.io/v1").unwrap();
        assert!(storage["resources"].as_array().unwrap().iter().any(|r| r["name"] == "csidrivers"));
        assert!(resource_list(&store, "node.k8s.io/v1").is_some());
        assert!(resource_list(&store, "nope.io/v1").is_none());
    }
}
