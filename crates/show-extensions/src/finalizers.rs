//! Stuck finalizers: custom resources in deletion (deletionTimestamp set) whose finalizers
//! remain, usually because the controller that owns the finalizer is gone. Each CRD's objects
//! are listed concurrently, with a bound.

use jiff::Timestamp;
use kube::api::ListParams;
use serde::{Deserialize, Serialize};

use crate::api::Crd;
use crate::resources;

#[derive(Deserialize)]
struct Object {
    metadata: ObjectMeta,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    deletion_timestamp: Option<Timestamp>,
    #[serde(default)]
    finalizers: Vec<String>,
}

/// An object whose deletion waits on finalizers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StuckObject {
    /// `plural.group`.
    pub resource: String,
    /// Namespace, for namespaced resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// When deletion was asked.
    pub deletion_timestamp: Timestamp,
    /// The finalizers left.
    pub finalizers: Vec<String>,
}

/// The scan's result: what is stuck, and the resources that could not be listed.
#[derive(Debug, Default)]
pub struct Scan {
    /// Stuck objects, by resource then namespace and name.
    pub stuck: Vec<StuckObject>,
    /// `(resource, why)` of the lists that failed.
    pub unreadable: Vec<(String, anyhow::Error)>,
    /// How many resources were listed.
    pub listed: usize,
}

/// Lists the objects of every CRD (at its storage version) and keeps those stuck in deletion.
pub async fn scan(client: &kube::Client, crds: &[Crd], concurrency: usize) -> Scan {
    let targets: Vec<_> = crds
        .iter()
        .filter_map(|crd| {
            let version = crd.read_version()?;
            let names = &crd.spec.names;
            Some((resources::custom(&crd.spec.group, version, &names.kind, &names.plural), crd.metadata.name.clone()))
        })
        .collect();
    let listed = targets.len();
    let results = kubeplug::concurrency::bounded(targets, concurrency, |(resource, crd_name)| async move {
        let found = kubeplug::list::list_all_metadata::<Object>(client, &resource, None, &ListParams::default()).await;
        (crd_name, found)
    })
    .await;
    let mut scan = Scan { listed, ..Scan::default() };
    for (resource, found) in results {
        match found {
            Ok(objects) => scan.stuck.extend(objects.into_iter().filter_map(|o| {
                let since = o.metadata.deletion_timestamp?;
                (!o.metadata.finalizers.is_empty()).then(|| StuckObject {
                    resource: resource.clone(),
                    namespace: o.metadata.namespace,
                    name: o.metadata.name,
                    deletion_timestamp: since,
                    finalizers: o.metadata.finalizers,
                })
            })),
            Err(e) => scan.unreadable.push((resource, e)),
        }
    }
    scan
}
