//! The object store: every object is JSON, kept sorted by (group, plural) then (namespace, name).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::rbac::RbacObjects;
use crate::registry::{BUILTINS, ResourceType, types_from_crd};

/// One stored object and its serialized form as a list item, so lists are a concatenation.
#[derive(Debug)]
pub struct Stored {
    /// The object.
    pub value: Value,
    /// `value` serialized as a list item: built-in types leave out `apiVersion` and `kind`
    /// there (the List carries them), custom resources keep them, like the real server.
    pub item_json: Bytes,
    /// Whether `item_json` lacks `apiVersion` and `kind`.
    pub item_untyped: bool,
}

impl Stored {
    /// Wraps and serializes an object; `untyped_items` for built-in types.
    pub fn new(value: Value, untyped_items: bool) -> Arc<Stored> {
        let item_json = if untyped_items {
            let mut item = value.clone();
            if let Some(m) = item.as_object_mut() {
                m.remove("apiVersion");
                m.remove("kind");
            }
            serde_json::to_vec(&item)
        } else {
            serde_json::to_vec(&value)
        };
        Arc::new(Stored {
            item_json: Bytes::from(item_json.expect("JSON values serialize")),
            item_untyped: untyped_items,
            value,
        })
    }

    /// The object serialized with `apiVersion` and `kind` first, as a GET answers it.
    pub fn object_json(&self) -> Bytes {
        if !self.item_untyped {
            return self.item_json.clone();
        }
        let head = serde_json::json!({"kind": self.value["kind"], "apiVersion": self.value["apiVersion"]});
        let head = serde_json::to_vec(&head).expect("JSON values serialize");
        let mut out = Vec::with_capacity(head.len() + self.item_json.len() + 1);
        out.extend_from_slice(&head[..head.len() - 1]);
        if self.item_json.len() > 2 {
            out.push(b',');
            out.extend_from_slice(&self.item_json[1..]);
        } else {
            out.push(b'}');
        }
        Bytes::from(out)
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> &str {
        self.value["metadata"]["uid"].as_str().unwrap_or_default()
    }

    /// `metadata.resourceVersion`.
    pub fn resource_version(&self) -> &str {
        self.value["metadata"]["resourceVersion"].as_str().unwrap_or_default()
    }
}

/// (group, plural) of a resource type.
pub type TypeKey = (String, String);
/// (namespace or "", name) of an object; BTreeMap order is the order of lists, like etcd keys.
pub type ObjKey = (String, String);

/// All objects, the resourceVersion counter and caches derived from stored objects.
pub struct Store {
    objects: BTreeMap<TypeKey, BTreeMap<ObjKey, Arc<Stored>>>,
    rv: u64,
    /// Continue tokens issued below this resourceVersion are expired (410).
    pub compacted_rv: u64,
    crd_types: Vec<Arc<ResourceType>>,
    rbac: Option<Arc<RbacObjects>>,
    /// Whether aggregated ClusterRoles aggregate ([`RbacObjects::aggregation`]).
    aggregation: bool,
    events: tokio::sync::broadcast::Sender<WatchEvent>,
}

/// A change, as watches report it.
#[derive(Debug, Clone)]
pub struct WatchEvent {
    /// (group, plural) of the object.
    pub type_key: TypeKey,
    /// ADDED, MODIFIED or DELETED.
    pub kind: &'static str,
    /// The object after the change (before it, for DELETED).
    pub object: Arc<Stored>,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            objects: BTreeMap::new(),
            // Real clusters never start at 0; a few hundred makes tokens and logs look familiar.
            rv: 100,
            compacted_rv: 0,
            crd_types: Vec::new(),
            rbac: None,
            aggregation: false,
            events: tokio::sync::broadcast::channel(4096).0,
        }
    }
}

/// The current time as the API server formats timestamps.
pub fn now_timestamp() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A random RFC 4122 version-4 UID.
pub fn new_uid() -> String {
    let mut b = [0u8; 16];
    fastrand::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn type_key(rt: &ResourceType) -> TypeKey {
    (rt.group.clone(), rt.plural.clone())
}

impl Store {
    /// The latest resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    /// Every served resource type: built-ins, then those of stored CRDs.
    pub fn resource_types(&self) -> impl Iterator<Item = &Arc<ResourceType>> {
        BUILTINS.types.iter().chain(self.crd_types.iter())
    }

    /// Resource types defined by stored CRDs.
    pub fn crd_types(&self) -> &[Arc<ResourceType>] {
        &self.crd_types
    }

    /// The type served at group/version/plural.
    pub fn find_type(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.resource_types().find(|t| t.group == group && t.version == version && t.plural == plural).cloned()
    }

    /// The type of objects with this apiVersion and kind.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<Arc<ResourceType>> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        self.resource_types().find(|t| t.group == group && t.version == version && t.kind == kind).cloned()
    }

    /// One object.
    pub fn get(&self, rt: &ResourceType, namespace: &str, name: &str) -> Option<Arc<Stored>> {
        self.objects.get(&type_key(rt))?.get(&(namespace.to_string(), name.to_string())).cloned()
    }

    /// All objects of a type, in list order.
    pub fn objects(&self, rt: &ResourceType) -> Option<&BTreeMap<ObjKey, Arc<Stored>>> {
        self.objects.get(&type_key(rt))
    }

    /// Advances the resourceVersion counter and returns the new value.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores `value` (metadata already complete but for resourceVersion, which is set here).
    pub fn put(&mut self, rt: &ResourceType, mut value: Value) -> Arc<Stored> {
        let rv = self.next_rv();
        value["metadata"]["resourceVersion"] = json!(rv.to_string());
        let namespace = if rt.namespaced {
            value["metadata"]["namespace"].as_str().unwrap_or_default().to_string()
        } else {
            String::new()
        };
        let name = value["metadata"]["name"].as_str().unwrap_or_default().to_string();
        let stored = Stored::new(value, !rt.custom);
        self.objects.entry(type_key(rt)).or_default().insert((namespace, name), stored.clone());
        self.after_change(rt);
        stored
    }

    /// Removes an object and, like the garbage collector eventually would, its dependents.
    /// `cascade: false` is the Orphan propagation policy.
    pub fn remove(&mut self, rt: &ResourceType, namespace: &str, name: &str, cascade: bool) -> Option<Arc<Stored>> {
        let removed = self.objects.get_mut(&type_key(rt))?.remove(&(namespace.to_string(), name.to_string()))?;
        self.next_rv();
        self.after_change(rt);
        self.notify(rt, "DELETED", &removed);
        let uid = removed.uid().to_string();
        if cascade && !uid.is_empty() {
            self.remove_dependents(&uid, namespace);
        }
        if rt.group.is_empty() && rt.plural == "namespaces" {
            self.remove_namespace_contents(name);
        }
        Some(removed)
    }

    /// Deletes every object whose ownerReferences name `owner_uid`.
    fn remove_dependents(&mut self, owner_uid: &str, namespace: &str) {
        let mut doomed = Vec::new();
        for ((group, plural), objects) in &self.objects {
            for ((ns, name), obj) in objects {
                if !namespace.is_empty() && ns != namespace {
                    continue;
                }
                let owned = obj.value["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == owner_uid));
                if owned {
                    doomed.push((group.clone(), plural.clone(), ns.clone(), name.clone()));
                }
            }
        }
        for (group, plural, ns, name) in doomed {
            let rt = self.resource_types().find(|t| t.group == group && t.plural == plural).cloned();
            if let Some(rt) = rt {
                self.remove(&rt, &ns, &name, true);
            }
        }
    }

    /// Deletes every namespaced object of a deleted namespace.
    fn remove_namespace_contents(&mut self, namespace: &str) {
        for objects in self.objects.values_mut() {
            objects.retain(|(ns, _), _| ns != namespace);
        }
        self.refresh_crds();
        self.rbac = None;
    }

    /// Subscribes to changes made from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<WatchEvent> {
        self.events.subscribe()
    }

    fn notify(&self, rt: &ResourceType, kind: &'static str, object: &Arc<Stored>) {
        // No receiver is the usual case: nobody watches.
        let _ = self.events.send(WatchEvent { type_key: type_key(rt), kind, object: object.clone() });
    }

    fn after_change(&mut self, rt: &ResourceType) {
        if rt.group == "apiextensions.k8s.io" && rt.plural == "customresourcedefinitions" {
            self.refresh_crds();
        }
        if rt.group == "rbac.authorization.k8s.io" {
            self.rbac = None;
        }
        let availability_input = (rt.group == "apiregistration.k8s.io" && rt.plural == "apiservices")
            || (rt.group.is_empty() && matches!(rt.plural.as_str(), "services" | "endpoints"));
        if availability_input {
            self.refresh_api_service_availability();
        }
    }

    /// What kube-apiserver's APIService availability controller writes: the `Available`
    /// condition of each aggregated APIService (one with `spec.service`), from its Service and
    /// Endpoints. The fake cannot reach a backend, so one that passes every local check fails
    /// the discovery check.
    fn refresh_api_service_availability(&mut self) {
        let key = ("apiregistration.k8s.io".to_string(), "apiservices".to_string());
        let Some(api_services) = self.objects.get(&key) else { return };
        let mut changed = Vec::new();
        for (k, stored) in api_services {
            let Some(service) = stored.value["spec"].get("service").filter(|s| s.is_object()) else { continue };
            let (reason, message) = self.availability(&stored.value["spec"], service);
            let current = stored.value["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Available"));
            let same =
                current.is_some_and(|c| c["status"] == "False" && c["reason"] == reason && c["message"] == message);
            if !same {
                let mut value = stored.value.clone();
                value["status"] = json!({"conditions": [{
                    "type": "Available", "status": "False", "lastTransitionTime": now_timestamp(),
                    "reason": reason, "message": message,
                }]});
                changed.push((k.clone(), value));
            }
        }
        let Some(rt) =
            self.resource_types().find(|t| t.group == "apiregistration.k8s.io" && t.plural == "apiservices").cloned()
        else {
            return;
        };
        for (k, mut value) in changed {
            let rv = self.next_rv();
            value["metadata"]["resourceVersion"] = json!(rv.to_string());
            let stored = Stored::new(value, !rt.custom);
            self.objects.entry(key.clone()).or_default().insert(k, stored.clone());
            self.notify(&rt, "MODIFIED", &stored);
        }
    }

    /// The reason and message of an aggregated APIService's `Available=False`, worded as
    /// kube-aggregator's availability controller words them.
    fn availability(&self, spec: &Value, service: &Value) -> (&'static str, String) {
        let ns = service["namespace"].as_str().unwrap_or_default();
        let name = service["name"].as_str().unwrap_or_default();
        let port = service["port"].as_i64().unwrap_or(443);
        let core = |plural: &str| {
            self.objects
                .get(&(String::new(), plural.to_string()))
                .and_then(|m| m.get(&(ns.to_string(), name.to_string())))
        };
        let Some(svc) = core("services") else {
            return ("ServiceNotFound", format!("service/{name} in {ns:?} is not present"));
        };
        let service_type = svc.value["spec"]["type"].as_str().unwrap_or("ClusterIP");
        if service_type == "ClusterIP" {
            let ports = svc.value["spec"]["ports"].as_array().cloned().unwrap_or_default();
            let Some(found) = ports.iter().find(|p| p["port"].as_i64() == Some(port)) else {
                return ("ServicePortError", format!("service/{name} in {ns:?} is not listening on port {port}"));
            };
            let port_name = found["name"].as_str().unwrap_or_default();
            let Some(endpoints) = core("endpoints") else {
                return ("EndpointsNotFound", format!("cannot find endpoints for service/{name} in {ns:?}"));
            };
            let active = endpoints.value["subsets"].as_array().into_iter().flatten().any(|subset| {
                subset["addresses"].as_array().is_some_and(|a| !a.is_empty())
                    && subset["ports"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| p["name"].as_str().unwrap_or_default() == port_name)
            });
            if !active {
                return (
                    "MissingEndpoints",
                    format!("endpoints for service/{name} in {ns:?} have no addresses with port name {port_name:?}"),
                );
            }
        }
        let group = spec["group"].as_str().unwrap_or_default();
        let version = spec["version"].as_str().unwrap_or_default();
        let ip = svc.value["spec"]["clusterIP"].as_str().unwrap_or(name);
        (
            "FailedDiscoveryCheck",
            format!("failing or missing response from https://{ip}:{port}/apis/{group}/{version}: connection refused"),
        )
    }

    /// The group/versions of aggregated APIServices that are not available: the real server
    /// lists them in discovery (Stale in aggregated discovery) and answers 503 under them.
    pub fn unavailable_aggregated(&self) -> Vec<(String, String)> {
        self.apiservices()
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|a| is_down(&a.value))
            .map(|a| {
                let spec = &a.value["spec"];
                (
                    spec["group"].as_str().unwrap_or_default().to_string(),
                    spec["version"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Whether `group/version` is one of [`Self::unavailable_aggregated`], asked on every
    /// request: one lookup, as an APIService's name is `VERSION.GROUP` (the real server
    /// refuses any other).
    pub fn is_unavailable_aggregated(&self, group: &str, version: &str) -> bool {
        let key = (String::new(), format!("{version}.{group}"));
        self.apiservices().and_then(|m| m.get(&key)).is_some_and(|a| is_down(&a.value))
    }

    fn apiservices(&self) -> Option<&BTreeMap<ObjKey, Arc<Stored>>> {
        self.objects.get(&("apiregistration.k8s.io".to_string(), "apiservices".to_string()))
    }

    fn refresh_crds(&mut self) {
        let key = ("apiextensions.k8s.io".to_string(), "customresourcedefinitions".to_string());
        self.crd_types = self
            .objects
            .get(&key)
            .into_iter()
            .flat_map(|m| m.values())
            .filter(|crd| crd.value["metadata"].get("deletionTimestamp").is_none())
            .flat_map(|crd| types_from_crd(&crd.value))
            .map(Arc::new)
            .collect();
    }

    /// Runs the clusterrole-aggregation controller, or not ([`RbacObjects::aggregation`]).
    pub fn set_aggregation(&mut self, on: bool) {
        self.aggregation = on;
        self.rbac = None;
    }

    /// The stored RBAC objects in the authorizer's form, cached until an RBAC object changes.
    pub fn rbac(&mut self) -> Arc<RbacObjects> {
        if let Some(r) = &self.rbac {
            return r.clone();
        }
        let values: Vec<&Value> = self
            .objects
            .iter()
            .filter(|((g, _), _)| g == "rbac.authorization.k8s.io")
            .flat_map(|(_, m)| m.values().map(|s| &s.value))
            .collect();
        let r = Arc::new(RbacObjects { aggregation: self.aggregation, ..RbacObjects::from_values(values) });
        self.rbac = Some(r.clone());
        r
    }

    /// Stores an object as given (seed data and `FakeServer::apply`): keeps uid and
    /// creationTimestamp when present, fills them otherwise, replaces an existing object.
    pub fn apply_value(&mut self, mut value: Value) -> anyhow::Result<Arc<Stored>> {
        let api_version = value["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = value["kind"].as_str().unwrap_or_default().to_string();
        let rt = self
            .find_kind(&api_version, &kind)
            .ok_or_else(|| anyhow::anyhow!("no resource type serves apiVersion {api_version:?} kind {kind:?}"))?;
        let name = value["metadata"]["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| anyhow::anyhow!("{kind} without metadata.name"))?
            .to_string();
        if rt.namespaced && value["metadata"]["namespace"].as_str().is_none_or(str::is_empty) {
            value["metadata"]["namespace"] = json!("default");
        }
        if !rt.namespaced
            && let Some(m) = value["metadata"].as_object_mut()
        {
            m.remove("namespace");
        }
        let namespace = value["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
        let existing = self.get(&rt, &namespace, &name);
        let meta = &mut value["metadata"];
        if meta["uid"].as_str().is_none() {
            let uid = existing.as_ref().map(|e| e.uid().to_string()).unwrap_or_else(new_uid);
            meta["uid"] = json!(uid);
        }
        if meta["creationTimestamp"].as_str().is_none() {
            meta["creationTimestamp"] = json!(now_timestamp());
        }
        if meta.get("generation").is_none() && value.get("spec").is_some() {
            value["metadata"]["generation"] = json!(1);
        }
        apply_defaults(&rt, &mut value);
        Ok(self.put(&rt, value))
    }
}

/// Whether a CRD's conversion webhook has a caBundle that holds no PEM certificate.
fn has_invalid_ca_bundle(crd: &Value) -> bool {
    use base64::Engine as _;
    let Some(bundle) = crd["spec"]["conversion"]["webhook"]["clientConfig"]["caBundle"].as_str() else {
        return false;
    };
    let pem = base64::engine::general_purpose::STANDARD.decode(bundle).unwrap_or_default();
    !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----")
}

/// Fields the real server or its controllers fill in that clients rely on.
pub fn apply_defaults(rt: &ResourceType, value: &mut Value) {
    if rt.group == "apiextensions.k8s.io"
        && rt.plural == "customresourcedefinitions"
        && value.get("status").is_none_or(|s| s.get("conditions").is_none())
    {
        let storage: Vec<Value> = value["spec"]["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v["storage"] == true)
            .map(|v| v["name"].clone())
            .collect();
        // Established when it was created (seeded CRDs carry an old creationTimestamp).
        let now = value["metadata"]["creationTimestamp"].as_str().map(String::from).unwrap_or_else(now_timestamp);
        // The real server will not establish a CRD whose conversion webhook it could not call.
        let established = if has_invalid_ca_bundle(value) {
            json!({"type": "Established", "status": "False", "lastTransitionTime": now,
                   "reason": "InvalidCABundle", "message": "The conversion webhook CABundle is invalid"})
        } else {
            json!({"type": "Established", "status": "True", "lastTransitionTime": now,
                   "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"})
        };
        value["status"] = json!({
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "lastTransitionTime": now,
                 "reason": "NoConflicts", "message": "no conflicts found"},
                established
            ],
            "acceptedNames": value["spec"]["names"].clone(),
            "storedVersions": storage,
        });
    }
    if rt.group.is_empty() && rt.plural == "namespaces" && value.get("status").is_none() {
        value["status"] = json!({"phase": "Active"});
        if value.get("spec").is_none() {
            value["spec"] = json!({"finalizers": ["kubernetes"]});
        }
    }
}

/// Whether an APIService is served by a Service (aggregated, not local) and not `Available=True`.
fn is_down(apiservice: &Value) -> bool {
    apiservice["spec"].get("service").is_some_and(Value::is_object)
        && !apiservice["status"]["conditions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["type"] == "Available" && c["status"] == "True"))
}
