//! Finding stale ReplicaSets: one paged list of ReplicaSets and one of Deployments, decoded into
//! lean structs with only the fields this tool reads, and filtered as pages arrive so that only
//! the candidates are held in memory.

use anyhow::Context as _;
use jiff::Timestamp;
use kube::api::ListParams;
use kube::core::ApiResource;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use std::collections::HashMap;

use crate::plan::{Filters, Scope};
use kubeplug::error::Hint;
use kubeplug::list::{Batch, list_all, list_pages};

/// The annotation the Deployment controller sets on a Deployment and on each of its ReplicaSets.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";

/// Whether a ReplicaSet's owning Deployment exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerStatus {
    /// No controlling owner of kind Deployment.
    None,
    /// The owning Deployment exists (same uid).
    Exists,
    /// The owner reference points to a Deployment that is gone.
    Missing,
}

/// One ReplicaSet in the report.
#[derive(Debug, Clone)]
pub struct StaleReplicaSet {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// uid, sent back as a delete precondition.
    pub uid: String,
    /// resourceVersion, sent back as a delete precondition.
    pub resource_version: String,
    /// creationTimestamp.
    pub created: Option<Timestamp>,
    /// The Deployment revision it belongs to.
    pub revision: Option<u64>,
    /// The owning Deployment's name, if any.
    pub deployment: Option<String>,
    /// The owning Deployment's uid, if any.
    pub deployment_uid: Option<String>,
    /// Whether that Deployment exists.
    pub owner: OwnerStatus,
    /// Container images of its pod template.
    pub images: Vec<String>,
    /// It is the ReplicaSet its Deployment currently uses (only reported with --include-current;
    /// never deleted).
    pub current: bool,
    /// The full object as the server sent it, kept only for `-o json|yaml`.
    pub raw: Option<Box<RawValue>>,
}

/// What `find` found.
#[derive(Debug, Default)]
pub struct Report {
    /// The selected ReplicaSets, in list order (namespace, then name).
    pub stale: Vec<StaleReplicaSet>,
}

#[derive(Deserialize)]
struct LeanReplicaSet {
    metadata: LeanMeta,
    #[serde(default)]
    spec: LeanRsSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LeanMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    resource_version: String,
    creation_timestamp: Option<Timestamp>,
    #[serde(default)]
    annotations: Revision,
    #[serde(default)]
    owner_references: Vec<OwnerReference>,
}

/// Only the revision annotation is decoded; other annotations (some are huge, like
/// `kubectl.kubernetes.io/last-applied-configuration`) are skipped without allocating.
#[derive(Deserialize, Default)]
struct Revision {
    #[serde(rename = "deployment.kubernetes.io/revision")]
    revision: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OwnerReference {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    uid: String,
    #[serde(default)]
    controller: bool,
}

#[derive(Deserialize, Default)]
struct LeanRsSpec {
    replicas: Option<i32>,
    #[serde(default)]
    template: Template,
}

#[derive(Deserialize, Default)]
struct Template {
    #[serde(default)]
    spec: PodSpec,
}

#[derive(Deserialize, Default)]
struct PodSpec {
    #[serde(default)]
    containers: Vec<Container>,
}

#[derive(Deserialize)]
struct Container {
    #[serde(default)]
    image: String,
}

#[derive(Deserialize)]
struct LeanDeployment {
    metadata: LeanMeta,
}

fn replicasets() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&())
}

fn deployments() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&())
}

/// What to keep of each ReplicaSet beyond the table's columns.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fields {
    /// The server's full object, for `-o json|yaml`.
    pub raw: bool,
    /// Container images, for `-o wide`.
    pub images: bool,
}

/// How a page's items are decoded: straight into the lean struct when only the table's fields are
/// needed (one pass over the page), or as the server's JSON, kept for `-o json|yaml`, then lean.
trait PageItem: DeserializeOwned {
    fn decode(self) -> anyhow::Result<(LeanReplicaSet, Option<Box<RawValue>>)>;
}

impl PageItem for LeanReplicaSet {
    fn decode(self) -> anyhow::Result<(LeanReplicaSet, Option<Box<RawValue>>)> {
        Ok((self, None))
    }
}

impl PageItem for Box<RawValue> {
    fn decode(self) -> anyhow::Result<(LeanReplicaSet, Option<Box<RawValue>>)> {
        let rs = serde_json::from_str(self.get()).context("decoding a ReplicaSet")?;
        Ok((rs, Some(self)))
    }
}

/// Lists ReplicaSets and Deployments in `scope` (concurrently) and returns the stale ReplicaSets
/// selected by `filters`, with the extra `fields` the output needs.
pub async fn find(client: &kube::Client, scope: &Scope, filters: &Filters, fields: Fields) -> anyhow::Result<Report> {
    if fields.raw {
        find_as::<Box<RawValue>>(client, scope, filters, fields).await
    } else {
        find_as::<LeanReplicaSet>(client, scope, filters, fields).await
    }
}

async fn find_as<T: PageItem>(
    client: &kube::Client,
    scope: &Scope,
    filters: &Filters,
    fields: Fields,
) -> anyhow::Result<Report> {
    let mut params = ListParams::default();
    if let Some(selector) = &filters.selector {
        params = params.labels(selector);
    }
    // Zero-replica ReplicaSets as compact rows, made as each page arrives (a page is freed before
    // the next is decoded); who owns them is settled once the Deployments are known.
    let mut candidates: Vec<StaleReplicaSet> = Vec::new();
    // The highest revision seen per Deployment uid, over all its ReplicaSets (scaled or not).
    let mut newest: HashMap<String, u64> = HashMap::new();
    let (rs_resource, deploy_resource, all) = (replicasets(), deployments(), ListParams::default());
    let list_rs = list_pages(client, &rs_resource, scope.namespace(), &params, |batch: Batch<T>| {
        if batch.restarted {
            candidates.clear();
            newest.clear();
        }
        for item in batch.items {
            let (rs, raw) = item.decode()?;
            if let Some(owner) = controller_deployment(&rs.metadata)
                && let Some(rev) = revision(&rs.metadata)
            {
                match newest.get_mut(&owner.uid) {
                    Some(max) => *max = (*max).max(rev),
                    None => {
                        newest.insert(owner.uid.clone(), rev);
                    }
                }
            }
            // A missing spec.replicas means 1, as the API server defaults it.
            if rs.spec.replicas == Some(0) {
                candidates.push(row(rs, raw, fields));
            }
        }
        Ok(())
    });
    let list_deploy = list_all::<LeanDeployment>(client, &deploy_resource, scope.namespace(), &all);
    let (listed, deployments) = tokio::join!(list_rs, list_deploy);
    listed.map_err(|e| forbidden_hint(e, scope))?;
    let deployments = deployments.map_err(|e| forbidden_hint(e, scope))?;

    let by_uid: HashMap<&str, &LeanDeployment> = deployments.iter().map(|d| (d.metadata.uid.as_str(), d)).collect();
    for rs in &mut candidates {
        settle_owner(rs, &by_uid, &newest);
    }
    candidates.retain(|rs| selected(rs, filters));
    apply_keep(&mut candidates, filters.keep);
    Ok(Report { stale: candidates })
}

/// The report row of a zero-replica ReplicaSet, its fields moved (there may be many); owner
/// status and currency are settled later by [`settle_owner`].
fn row(rs: LeanReplicaSet, raw: Option<Box<RawValue>>, fields: Fields) -> StaleReplicaSet {
    let LeanReplicaSet { metadata: meta, spec } = rs;
    let revision = revision(&meta);
    let owner = meta.owner_references.into_iter().find(|o| o.controller && o.kind == "Deployment");
    let images =
        if fields.images { spec.template.spec.containers.into_iter().map(|c| c.image).collect() } else { Vec::new() };
    let (deployment, deployment_uid) = match owner {
        Some(o) => (Some(o.name), Some(o.uid)),
        None => (None, None),
    };
    StaleReplicaSet {
        namespace: meta.namespace,
        name: meta.name,
        uid: meta.uid,
        resource_version: meta.resource_version,
        created: meta.creation_timestamp,
        revision,
        deployment,
        deployment_uid,
        owner: OwnerStatus::None,
        images,
        current: false,
        raw,
    }
}

/// Whether the owning Deployment exists, and whether this is the ReplicaSet it currently uses.
fn settle_owner(rs: &mut StaleReplicaSet, by_uid: &HashMap<&str, &LeanDeployment>, newest: &HashMap<String, u64>) {
    let Some(uid) = &rs.deployment_uid else {
        rs.owner = OwnerStatus::None;
        return;
    };
    let Some(deployment) = by_uid.get(uid.as_str()) else {
        rs.owner = OwnerStatus::Missing;
        return;
    };
    rs.owner = OwnerStatus::Exists;
    // The ReplicaSet in use is the one at the Deployment's own revision; if the Deployment has no
    // revision yet, the newest of its ReplicaSets; one without a revision is taken as in use, to
    // stay on the safe side.
    let in_use = revision(&deployment.metadata).or_else(|| newest.get(uid).copied());
    rs.current = rs.revision.is_none() || in_use == rs.revision;
}

fn selected(rs: &StaleReplicaSet, filters: &Filters) -> bool {
    if rs.current && !filters.include_current {
        return false;
    }
    if let Some(name) = &filters.deployment
        && rs.deployment.as_ref() != Some(name)
    {
        return false;
    }
    if filters.orphaned && rs.owner == OwnerStatus::Exists {
        return false;
    }
    if let Some(min_age) = filters.older_than {
        let old_enough = rs.created.is_some_and(|created| kubeplug::age::elapsed(created, Timestamp::now()) > min_age);
        if !old_enough {
            return false;
        }
    }
    true
}

/// Leaves out the `keep` newest stale ReplicaSets of each Deployment, by revision.
fn apply_keep(stale: &mut Vec<StaleReplicaSet>, keep: usize) {
    if keep == 0 {
        return;
    }
    let mut revisions: HashMap<(String, String), Vec<u64>> = HashMap::new();
    for rs in stale.iter().filter(|rs| !rs.current) {
        if let Some(d) = &rs.deployment {
            revisions.entry((rs.namespace.clone(), d.clone())).or_default().push(rs.revision.unwrap_or(0));
        }
    }
    let thresholds: HashMap<(String, String), u64> = revisions
        .into_iter()
        .filter_map(|(key, mut revs)| {
            revs.sort_unstable_by(|a, b| b.cmp(a));
            // Everything at or above the keep-th newest revision is kept back; with fewer than
            // `keep`, all of them are.
            revs.get(keep - 1).or(revs.last()).map(|&r| (key, r))
        })
        .collect();
    stale.retain(|rs| {
        if rs.current {
            return true;
        }
        let Some(d) = &rs.deployment else { return true };
        match thresholds.get(&(rs.namespace.clone(), d.clone())) {
            Some(&threshold) => rs.revision.unwrap_or(0) < threshold,
            None => true,
        }
    });
}

fn controller_deployment(meta: &LeanMeta) -> Option<&OwnerReference> {
    meta.owner_references.iter().find(|o| o.controller && o.kind == "Deployment")
}

fn revision(meta: &LeanMeta) -> Option<u64> {
    meta.annotations.revision.as_deref().and_then(|r| r.parse().ok())
}

/// A refused cluster-wide list is common (namespace-scoped RBAC): suggest `-n`.
fn forbidden_hint(e: anyhow::Error, scope: &Scope) -> anyhow::Error {
    if *scope == Scope::All && kubeplug::error::api_code(&e) == Some(403) {
        e.context(Hint("Use -n NAMESPACE to look in a namespace you can read, instead of -A.".into()))
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(name: &str, deployment: Option<&str>, revision: u64) -> StaleReplicaSet {
        StaleReplicaSet {
            namespace: "shop".into(),
            name: name.into(),
            uid: format!("uid-{name}"),
            resource_version: "1".into(),
            created: None,
            revision: Some(revision),
            deployment: deployment.map(Into::into),
            deployment_uid: deployment.map(|d| format!("uid-{d}")),
            owner: OwnerStatus::Exists,
            images: vec![],
            current: false,
            raw: None,
        }
    }

    fn names(v: &[StaleReplicaSet]) -> Vec<&str> {
        v.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn keep_leaves_out_the_newest_revisions_of_each_deployment() {
        let mut v = vec![
            rs("web-1", Some("web"), 1),
            rs("web-3", Some("web"), 3),
            rs("web-2", Some("web"), 2),
            rs("api-7", Some("api"), 7),
            rs("lonely", None, 0),
        ];
        apply_keep(&mut v, 2);
        assert_eq!(names(&v), ["web-1", "lonely"]);
    }

    #[test]
    fn keep_zero_keeps_everything() {
        let mut v = vec![rs("web-1", Some("web"), 1)];
        apply_keep(&mut v, 0);
        assert_eq!(names(&v), ["web-1"]);
    }

    #[test]
    fn lean_decoding_reads_a_recorded_replicaset() {
        let json = include_str!("../tests/data/get-rs.json");
        let lean: LeanReplicaSet = serde_json::from_str(json).unwrap();
        assert_eq!(lean.metadata.name, "web-0");
        assert_eq!(lean.spec.replicas, Some(0));
        assert_eq!(revision(&lean.metadata), Some(1));
        assert!(lean.metadata.creation_timestamp.is_some());
    }
}
