//! Counting a CRD's instances in the cluster: per namespace, and those stuck in deletion.

use std::collections::BTreeMap;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::ListParams;
use kube::core::{ApiResource, GroupVersionKind};
use serde::Deserialize;

use crate::crd;

/// Just the metadata an instance count needs: decoding full objects would cost CPU for nothing.
#[derive(Debug, Clone, Deserialize)]
pub struct Instance {
    /// The object's metadata.
    pub metadata: InstanceMeta,
}

/// The few metadata fields read.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct InstanceMeta {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Namespace (none for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Set when deletion was requested.
    pub deletion_timestamp: Option<Time>,
    /// Finalizers still holding the object.
    #[serde(default)]
    pub finalizers: Vec<String>,
}

/// An instance whose deletion waits on finalizers.
#[derive(Debug, Clone)]
pub struct Terminating {
    /// Namespace, if namespaced.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// When deletion was requested.
    pub since: Option<Time>,
    /// The finalizers still there.
    pub finalizers: Vec<String>,
}

/// The instances of one CRD.
#[derive(Debug, Clone)]
pub struct Census {
    /// The version listed.
    pub version: String,
    /// Total count.
    pub total: usize,
    /// Count per namespace, by namespace name (`""` for cluster-scoped objects).
    pub per_namespace: Vec<(String, usize)>,
    /// Instances stuck in deletion.
    pub terminating: Vec<Terminating>,
}

impl Census {
    /// Tallies listed instances.
    pub fn from_instances(version: &str, items: Vec<Instance>) -> Census {
        let mut per_namespace: BTreeMap<String, usize> = BTreeMap::new();
        let mut terminating = Vec::new();
        let total = items.len();
        for Instance { metadata } in items {
            *per_namespace.entry(metadata.namespace.clone().unwrap_or_default()).or_default() += 1;
            if metadata.deletion_timestamp.is_some() && !metadata.finalizers.is_empty() {
                terminating.push(Terminating {
                    namespace: metadata.namespace,
                    name: metadata.name,
                    since: metadata.deletion_timestamp,
                    finalizers: metadata.finalizers,
                });
            }
        }
        terminating.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Census { version: version.to_owned(), total, per_namespace: per_namespace.into_iter().collect(), terminating }
    }
}

/// The resource to list a CRD's instances through: its storage version when served, else the
/// first served version (every served version lists the same objects).
pub fn api_resource(crd: &CustomResourceDefinition) -> Option<ApiResource> {
    let version =
        crd::storage_version(crd).filter(|v| v.served).or_else(|| crd.spec.versions.iter().find(|v| v.served))?;
    let gvk = GroupVersionKind::gvk(&crd.spec.group, &version.name, &crd.spec.names.kind);
    Some(ApiResource::from_gvk_with_plural(&gvk, &crd.spec.names.plural))
}

/// Lists every instance of the CRD (all namespaces, paginated) and tallies them: the count is
/// exact, not an estimate from `remainingItemCount`.
pub async fn census(client: &kube::Client, crd: &CustomResourceDefinition) -> anyhow::Result<Census> {
    let Some(resource) = api_resource(crd) else {
        anyhow::bail!("{} serves no version", crd::name(crd));
    };
    let items: Vec<Instance> =
        kubeplug::list::list_all_metadata(client, &resource, None, &ListParams::default()).await?;
    Ok(Census::from_instances(&resource.version, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(ns: Option<&str>, name: &str, deleting: bool, finalizers: &[&str]) -> Instance {
        Instance {
            metadata: InstanceMeta {
                name: name.to_owned(),
                namespace: ns.map(str::to_owned),
                deletion_timestamp: deleting.then_some(Time(jiff::Timestamp::UNIX_EPOCH)),
                finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
            },
        }
    }

    #[test]
    fn counts_per_namespace_and_lists_stuck_deletions() {
        let census = Census::from_instances(
            "v1",
            vec![
                instance(Some("b"), "x", false, &[]),
                instance(Some("a"), "y", true, &["example.com/cleanup"]),
                instance(Some("b"), "z", false, &["kept"]),
                instance(Some("a"), "w", true, &[]),
            ],
        );
        assert_eq!(census.total, 4);
        assert_eq!(census.per_namespace, vec![("a".to_owned(), 2), ("b".to_owned(), 2)]);
        assert_eq!(census.terminating.len(), 1);
        assert_eq!(census.terminating[0].name, "y");
        assert_eq!(census.terminating[0].finalizers, vec!["example.com/cleanup"]);
    }
}
