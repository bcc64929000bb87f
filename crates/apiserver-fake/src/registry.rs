//! Resource types the server knows: built-ins from the recorded discovery documents, plus CRDs.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use serde_json::{Value, json};

/// A served resource type at one group/version.
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// API group, "" for core.
    pub group: String,
    /// Version, e.g. "v1".
    pub version: String,
    /// Plural resource name used in URLs.
    pub plural: String,
    /// Singular name.
    pub singular: String,
    /// Kind of the objects.
    pub kind: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Verbs as discovery lists them.
    pub verbs: Vec<String>,
    /// Short names (e.g. `rs`).
    pub short_names: Vec<String>,
    /// Categories (e.g. `all`).
    pub categories: Vec<String>,
    /// Subresources with their discovery entries (name, kind, group, version, verbs).
    pub subresources: Vec<Value>,
    /// Additional printer columns of a CRD version.
    pub printer_columns: Vec<Value>,
    /// OpenAPI v3 schema of a CRD version, used for field validation.
    pub schema: Option<Value>,
    /// Whether this type comes from a CRD.
    pub custom: bool,
}

impl ResourceType {
    /// `group/version`, or `version` for core.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }

    /// `plural.group` (or `plural` for core), as used in Status messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.clone() } else { format!("{}.{}", self.plural, self.group) }
    }

    /// `Kind.group` (or `Kind`), as used in Conflict and Invalid messages.
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() { self.kind.clone() } else { format!("{}.{}", self.kind, self.group) }
    }

    /// Whether discovery lists this verb.
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Whether this type has the named subresource.
    pub fn has_subresource(&self, name: &str) -> bool {
        self.subresources.iter().any(|s| s.get("name").and_then(Value::as_str) == Some(name))
    }

    /// The APIResourceList entries (resource then subresources) for discovery.
    pub fn discovery_entries(&self) -> Vec<Value> {
        let mut main = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
        });
        if !self.short_names.is_empty() {
            main["shortNames"] = json!(self.short_names);
        }
        if !self.categories.is_empty() {
            main["categories"] = json!(self.categories);
        }
        let mut out = vec![main];
        for sub in &self.subresources {
            let mut entry = json!({
                "name": format!("{}/{}", self.plural, sub["name"].as_str().unwrap_or_default()),
                "singularName": "",
                "namespaced": self.namespaced,
                "kind": sub["kind"],
                "verbs": sub["verbs"],
            });
            if let Some(g) = sub.get("group") {
                entry["group"] = g.clone();
                entry["version"] = sub["version"].clone();
            }
            out.push(entry);
        }
        out
    }
}

/// Recorded discovery documents, embedded so the crate does not need the reference tree at run time.
pub mod recorded {
    /// `/version`.
    pub const VERSION: &str = include_str!("../reference/version.json");
    /// `/api`.
    pub const API: &str = include_str!("../reference/discovery-api.json");
    /// `/api/v1`.
    pub const API_V1: &str = include_str!("../reference/discovery-api-v1.json");
    /// `/apis` (APIGroupList).
    pub const APIS: &str = include_str!("../reference/discovery-apis.json");
    /// `/apis` (aggregated, APIGroupDiscoveryList).
    pub const APIS_AGGREGATED: &str = include_str!("../reference/discovery-apis-aggregated.json");
    /// Recorded `/apis/<group>/<version>` documents.
    pub const GROUP_VERSIONS: &[&str] = &[
        include_str!("../reference/discovery-admissionregistration_k8s_io-v1.json"),
        include_str!("../reference/discovery-apiextensions_k8s_io-v1.json"),
        include_str!("../reference/discovery-apiregistration_k8s_io-v1.json"),
        include_str!("../reference/discovery-apps-v1.json"),
        include_str!("../reference/discovery-authorization_k8s_io-v1.json"),
        include_str!("../reference/discovery-rbac_authorization_k8s_io-v1.json"),
    ];

    /// The response body of a recorded case file.
    pub fn body(case: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(case).expect("embedded reference documents are valid JSON");
        v["response"]["body"].clone()
    }
}

/// The group recorded only because of a CRD: served from the stored CRD instead.
const CRD_GROUPS_IN_RECORDING: &[&str] = &["awesome.corp.com"];

/// Built-in types and documents, parsed once.
pub struct Builtins {
    /// All built-in resource types, every version.
    pub types: Vec<Arc<ResourceType>>,
    /// APIResourceList per group/version ("v1" for core).
    pub documents: BTreeMap<String, Value>,
    /// APIGroup entries of `/apis` in the recorded order.
    pub groups: Vec<Value>,
    /// Aggregated discovery items in the recorded order.
    pub aggregated_items: Vec<Value>,
}

/// The built-in types.
pub static BUILTINS: LazyLock<Builtins> = LazyLock::new(load_builtins);

fn load_builtins() -> Builtins {
    let mut documents = BTreeMap::new();
    documents.insert("v1".to_string(), recorded::body(recorded::API_V1));
    for doc in recorded::GROUP_VERSIONS {
        let body = recorded::body(doc);
        let gv = body["groupVersion"].as_str().unwrap_or_default().to_string();
        documents.insert(gv, body);
    }
    let aggregated = recorded::body(recorded::APIS_AGGREGATED);
    let aggregated_items: Vec<Value> = aggregated["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|item| !CRD_GROUPS_IN_RECORDING.contains(&item["metadata"]["name"].as_str().unwrap_or_default()))
        .collect();
    for item in &aggregated_items {
        let group = item["metadata"]["name"].as_str().unwrap_or_default();
        for version in item["versions"].as_array().into_iter().flatten() {
            let v = version["version"].as_str().unwrap_or_default();
            let gv = format!("{group}/{v}");
            documents.entry(gv.clone()).or_insert_with(|| resource_list_from_aggregated(&gv, version));
        }
    }
    let groups: Vec<Value> = recorded::body(recorded::APIS)["groups"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|g| !CRD_GROUPS_IN_RECORDING.contains(&g["name"].as_str().unwrap_or_default()))
        .collect();
    let mut types = Vec::new();
    for (gv, doc) in &documents {
        let (group, version) = match gv.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), gv.clone()),
        };
        types.extend(types_from_resource_list(&group, &version, doc));
    }
    Builtins { types: types.into_iter().map(Arc::new).collect(), documents, groups, aggregated_items }
}

/// Converts one version of an aggregated discovery item into an APIResourceList.
fn resource_list_from_aggregated(gv: &str, version: &Value) -> Value {
    let mut resources = Vec::new();
    for r in version["resources"].as_array().into_iter().flatten() {
        let plural = r["resource"].as_str().unwrap_or_default();
        let namespaced = r["scope"] == "Namespaced";
        let mut entry = json!({
            "name": plural,
            "singularName": r["singularResource"],
            "namespaced": namespaced,
            "kind": r["responseKind"]["kind"],
            "verbs": r["verbs"],
        });
        for (from, to) in [("shortNames", "shortNames"), ("categories", "categories")] {
            if let Some(v) = r.get(from) {
                entry[to] = v.clone();
            }
        }
        resources.push(entry);
        for sub in r["subresources"].as_array().into_iter().flatten() {
            let mut entry = json!({
                "name": format!("{plural}/{}", sub["subresource"].as_str().unwrap_or_default()),
                "singularName": "",
                "namespaced": namespaced,
                "kind": sub["responseKind"]["kind"],
                "verbs": sub["verbs"],
            });
            let rk = &sub["responseKind"];
            if rk["group"].as_str().is_some_and(|g| !g.is_empty()) {
                entry["group"] = rk["group"].clone();
                entry["version"] = rk["version"].clone();
            }
            resources.push(entry);
        }
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources})
}

/// Parses the resource types of an APIResourceList (subresources attach to their parent).
fn types_from_resource_list(group: &str, version: &str, doc: &Value) -> Vec<ResourceType> {
    let mut types: Vec<ResourceType> = Vec::new();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(String::from)).collect()
    };
    for r in doc["resources"].as_array().into_iter().flatten() {
        let name = r["name"].as_str().unwrap_or_default();
        if let Some((parent, sub)) = name.split_once('/') {
            if let Some(t) = types.iter_mut().find(|t| t.plural == parent) {
                let mut entry = json!({"name": sub, "kind": r["kind"], "verbs": r["verbs"]});
                if let Some(g) = r.get("group") {
                    entry["group"] = g.clone();
                    entry["version"] = r["version"].clone();
                }
                t.subresources.push(entry);
            }
            continue;
        }
        types.push(ResourceType {
            group: group.to_string(),
            version: version.to_string(),
            plural: name.to_string(),
            singular: r["singularName"].as_str().unwrap_or_default().to_string(),
            kind: r["kind"].as_str().unwrap_or_default().to_string(),
            namespaced: r["namespaced"].as_bool().unwrap_or(false),
            verbs: strings(&r["verbs"]),
            short_names: strings(&r["shortNames"]),
            categories: strings(&r["categories"]),
            subresources: Vec::new(),
            printer_columns: Vec::new(),
            schema: None,
            custom: false,
        });
    }
    types
}

/// Resource types served by a stored CustomResourceDefinition, one per served version.
pub fn types_from_crd(crd: &Value) -> Vec<ResourceType> {
    let spec = &crd["spec"];
    let names = &spec["names"];
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(String::from)).collect()
    };
    let plural = names["plural"].as_str().unwrap_or_default().to_string();
    let kind = names["kind"].as_str().unwrap_or_default().to_string();
    let singular = names["singular"].as_str().map(String::from).unwrap_or_else(|| kind.to_lowercase());
    let mut out = Vec::new();
    for version in spec["versions"].as_array().into_iter().flatten() {
        if version["served"] == false {
            continue;
        }
        let mut subresources = Vec::new();
        if version["subresources"].get("status").is_some() {
            subresources.push(json!({"name": "status", "kind": kind, "verbs": ["get", "patch", "update"]}));
        }
        if version["subresources"].get("scale").is_some() {
            subresources.push(json!({"name": "scale", "kind": "Scale", "group": "autoscaling", "version": "v1", "verbs": ["get", "patch", "update"]}));
        }
        out.push(ResourceType {
            group: spec["group"].as_str().unwrap_or_default().to_string(),
            version: version["name"].as_str().unwrap_or_default().to_string(),
            plural: plural.clone(),
            singular: singular.clone(),
            kind: kind.clone(),
            namespaced: spec["scope"] != "Cluster",
            verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"]
                .map(String::from)
                .to_vec(),
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            subresources,
            printer_columns: version["additionalPrinterColumns"].as_array().cloned().unwrap_or_default(),
            schema: version.get("schema").and_then(|s| s.get("openAPIV3Schema")).cloned(),
            custom: true,
        });
    }
    out
}

/// The APIService objects a real server creates at start for its built-in group/versions.
pub fn local_api_services() -> Vec<Value> {
    let mut out = Vec::new();
    for (i, gv) in BUILTINS.documents.keys().enumerate() {
        let (group, version) = gv.split_once('/').unwrap_or(("", gv));
        let mut spec =
            json!({"version": version, "groupPriorityMinimum": 18000 - 100 * i as i64, "versionPriority": 15});
        if group.is_empty() {
            spec["versionPriority"] = json!(1);
        } else {
            spec["group"] = json!(group);
        }
        out.push(json!({
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": format!("{version}.{group}"), "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
            "spec": spec,
            "status": {"conditions": [{"type": "Available", "status": "True", "reason": "Local", "message": "Local APIServices are always available"}]},
        }));
    }
    out
}
