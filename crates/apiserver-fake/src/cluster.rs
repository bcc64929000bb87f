//! The server's shared state and the direct (no HTTP, no auth) handle tests use to seed and inspect it.

use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context as _;
use serde_json::Value;

use crate::faults::Faults;
use crate::store::Store;

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// URL path.
    pub path: String,
    /// Raw query string ("" when none).
    pub query: String,
    /// Effective user name (after impersonation); None when authentication failed.
    pub user: Option<String>,
    /// Request headers, names lower-case, Authorization left out.
    pub headers: Vec<(String, String)>,
}

pub(crate) struct Shared {
    pub store: RwLock<Store>,
    pub faults: Faults,
    pub requests: Mutex<Vec<RecordedRequest>>,
}

/// A handle on the server's objects, usable from tests and fault hooks (clone freely).
#[derive(Clone)]
pub struct Cluster {
    pub(crate) shared: Arc<Shared>,
}

impl Cluster {
    pub(crate) fn new() -> Cluster {
        Cluster {
            shared: Arc::new(Shared {
                store: RwLock::new(Store::default()),
                faults: Faults::default(),
                requests: Mutex::new(Vec::new()),
            }),
        }
    }

    pub(crate) fn store(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.shared.store.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn store_mut(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.shared.store.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates or replaces the objects of a multi-document YAML or JSON text, bypassing
    /// authorization; keeps uid and creationTimestamp when given, fills them otherwise.
    pub fn apply(&self, manifests: &str) -> anyhow::Result<()> {
        let docs = parse_documents(manifests)?;
        self.seed(docs)
    }

    /// Stores already-parsed objects (the fast path for bulk seeding); `kind: List` is unpacked.
    pub fn seed(&self, objects: impl IntoIterator<Item = Value>) -> anyhow::Result<()> {
        let mut store = self.store_mut();
        for obj in objects {
            if obj.is_null() {
                continue;
            }
            if obj["kind"].as_str().is_some_and(|k| k.ends_with("List"))
                && let Some(items) = obj["items"].as_array()
            {
                for item in items {
                    store.apply_value(item.clone())?;
                }
                continue;
            }
            store.apply_value(obj)?;
        }
        Ok(())
    }

    /// One object, or None.
    pub fn get(&self, api_version: &str, plural: &str, namespace: Option<&str>, name: &str) -> Option<Value> {
        let store = self.store();
        let (group, version) = split_api_version(api_version);
        let rt = store.find_type(group, version, plural)?;
        store.get(&rt, namespace.unwrap_or_default(), name).map(|s| s.value.clone())
    }

    /// Objects of a type, in the server's list order; `namespace: None` lists all namespaces.
    pub fn list(&self, api_version: &str, plural: &str, namespace: Option<&str>) -> Vec<Value> {
        let store = self.store();
        let (group, version) = split_api_version(api_version);
        let Some(rt) = store.find_type(group, version, plural) else {
            return Vec::new();
        };
        store
            .objects(&rt)
            .into_iter()
            .flat_map(|m| m.iter())
            .filter(|((ns, _), _)| namespace.is_none_or(|want| ns == want))
            .map(|(_, s)| s.value.clone())
            .collect()
    }

    /// Removes an object at once (no finalizers, no preconditions); true if it existed.
    pub fn delete(&self, api_version: &str, plural: &str, namespace: Option<&str>, name: &str) -> bool {
        let mut store = self.store_mut();
        let (group, version) = split_api_version(api_version);
        let Some(rt) = store.find_type(group, version, plural) else {
            return false;
        };
        store.remove(&rt, namespace.unwrap_or_default(), name, true).is_some()
    }

    /// The fault injection controls.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.requests.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// Parses multi-document YAML (JSON is YAML too); empty documents are skipped.
pub fn parse_documents(text: &str) -> anyhow::Result<Vec<Value>> {
    let trimmed = text.trim_start();
    if (trimmed.starts_with('{') || trimmed.starts_with('['))
        && let Ok(v) = serde_json::from_str::<Value>(trimmed)
    {
        return Ok(match v {
            Value::Array(items) => items,
            other => vec![other],
        });
    }
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).context("parsing manifests as YAML")?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}
