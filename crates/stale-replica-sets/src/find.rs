//! Finding stale ReplicaSets: one paged list of ReplicaSets and one of Deployments, decoded into
//! lean structs with only the fields this tool reads, and filtered as pages arrive so that only
//! zero-replica ReplicaSets are held in memory.
//!
//! Order matters: owners are settled first (by uid), then `--keep` sets aside the newest stale
//! ReplicaSets of each Deployment, and only then do `-l`, `--older-than`, `--deployment` and
//! `--orphaned` narrow the list, so that a rollback target survives whatever those flags say.

use anyhow::Context as _;
use jiff::Timestamp;
use kube::api::ListParams;
use kube::core::ApiResource;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::owner::{Controller, LeanDeployment, OwnerReference, PodTemplate, RevisionAnnotation, TemplateKey, Usage};
use crate::plan::{Fields, Filters, Scope};
use crate::wire;
use kubeplug::discovery::group_resource;
use kubeplug::error::Hint;
use kubeplug::list::{Batch, ReadMode, batch_size, list_all, list_all_protobuf, list_pages, list_protobuf};
use kubeplug::progress::Progress;
use kubeplug::proto::ProtobufItem;

/// Whether a ReplicaSet's controller exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerStatus {
    /// No controller owner at all.
    None,
    /// Its controller is a Deployment that exists (same uid).
    Exists,
    /// Its controller reference names a Deployment that is gone (no Deployment has that uid,
    /// whatever the names say).
    Missing,
    /// Its controller is not a Deployment: left alone, never deleted.
    Foreign,
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
    /// Its controller reference.
    pub controller: Controller,
    /// Whether that controller exists.
    pub owner: OwnerStatus,
    /// Container images of its pod template (only for `-o wide`).
    pub images: Vec<String>,
    /// It is the ReplicaSet its Deployment currently uses (only reported with --include-current;
    /// never deleted, never printed by `-o name`).
    pub current: bool,
    /// Its pod template, kept while its Deployment exists: the re-check before deleting compares
    /// it with the Deployment's template of that moment.
    pub template: Option<TemplateKey>,
    /// The full object as the server sent it, kept only for `-o json|yaml`.
    pub raw: Option<Box<RawValue>>,
}

impl StaleReplicaSet {
    /// The name of the Deployment its controller reference names (existing or not).
    pub fn deployment(&self) -> Option<&str> {
        match &self.controller {
            Controller::Deployment { name, .. } => Some(name),
            _ => None,
        }
    }

    /// No live controller owner: none at all, or a Deployment that is gone.
    pub fn is_orphan(&self) -> bool {
        matches!(self.owner, OwnerStatus::None | OwnerStatus::Missing)
    }

    /// Whether it may be deleted at all: stale and not someone else's.
    pub fn deletable(&self) -> bool {
        !self.current && self.owner != OwnerStatus::Foreign
    }
}

/// What `find` found.
#[derive(Debug, Default)]
pub struct Report {
    /// The selected ReplicaSets, in list order (namespace, then name).
    pub stale: Vec<StaleReplicaSet>,
    /// Zero-replica ReplicaSets left alone because another controller owns them, by `Kind.group`
    /// (only those the other filters would have shown).
    pub foreign: BTreeMap<String, usize>,
}

impl Report {
    /// Whether anything stale (deletable) was found: what `--exit-code` answers.
    pub fn found_stale(&self) -> bool {
        self.stale.iter().any(StaleReplicaSet::deletable)
    }

    /// The stderr line about ReplicaSets left alone for their controller, if there are any.
    pub fn foreign_note(&self) -> Option<String> {
        let total: usize = self.foreign.values().sum();
        if total == 0 {
            return None;
        }
        let kinds: Vec<String> = self.foreign.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
        Some(format!(
            "Left alone {total} ReplicaSet(s) with 0 replicas whose controller is not a Deployment ({}); -o wide --include-foreign shows them.",
            kinds.join(", ")
        ))
    }
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
    annotations: RevisionAnnotation,
    #[serde(default)]
    owner_references: Vec<OwnerReference>,
}

#[derive(Deserialize, Default)]
struct LeanRsSpec {
    replicas: Option<i32>,
    /// Kept undecoded: compared with the Deployment's template only when that is needed.
    template: Option<PodTemplate>,
}

impl ProtobufItem for LeanReplicaSet {
    fn decode_protobuf(message: &[u8]) -> anyhow::Result<Self> {
        use prost::Message as _;
        let rs = wire::ReplicaSet::decode(message)?;
        let meta = rs.metadata.unwrap_or_default();
        let spec = rs.spec.unwrap_or_default();
        Ok(LeanReplicaSet {
            metadata: LeanMeta {
                annotations: RevisionAnnotation::new(meta.revision()),
                name: meta.name,
                namespace: meta.namespace,
                uid: meta.uid,
                resource_version: meta.resource_version,
                creation_timestamp: meta.creation_timestamp.and_then(wire::Time::timestamp),
                owner_references: meta
                    .owner_references
                    .into_iter()
                    .map(|o| OwnerReference {
                        api_version: o.api_version,
                        kind: o.kind,
                        name: o.name,
                        uid: o.uid,
                        controller: o.controller,
                    })
                    .collect(),
            },
            spec: LeanRsSpec { replicas: spec.replicas, template: spec.template.map(PodTemplate::Protobuf) },
        })
    }
}

/// Just the uid: what a label-selected list contributes when `--keep` needs the whole list.
#[derive(Deserialize)]
struct UidOnly {
    metadata: UidMeta,
}

#[derive(Deserialize)]
struct UidMeta {
    #[serde(default)]
    uid: String,
}

/// The ReplicaSet resource (apps/v1).
pub fn replicasets() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&())
}

/// The Deployment resource (apps/v1).
pub fn deployments() -> ApiResource {
    ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&())
}

/// Lists ReplicaSets and Deployments in `scope` (concurrently) and returns the stale ReplicaSets
/// selected by `filters`, with the extra `fields` the output needs. Both are read as protobuf,
/// the way `mode` says, unless the output wants the server's JSON objects (`-o json|yaml`):
/// then both are JSON pages, so that pod templates are compared in one format. The reading of
/// the ReplicaSets shows on `progress`.
pub async fn find(
    client: &kube::Client,
    scope: &Scope,
    filters: &Filters,
    fields: Fields,
    mode: ReadMode,
    progress: Progress,
) -> anyhow::Result<Report> {
    // `--keep` counts every stale ReplicaSet of a Deployment, labelled as `-l` wants or not: the
    // list is then made without the selector, and a second, uid-only list tells which items the
    // selector matches. Without `--keep`, the server filters the one list.
    let selector_after_keep = filters.keep > 0 && filters.selector.is_some();
    let mut params = ListParams::default();
    if let Some(selector) = filters.selector.as_deref().filter(|_| !selector_after_keep) {
        params = params.labels(selector);
    }
    let mut seen = Seen { fields, ..Seen::default() };
    let (rs_resource, deploy_resource, all) = (replicasets(), deployments(), ListParams::default());
    let ns = scope.namespace();
    // The ReplicaSets are the big list (Deployments are far fewer): its batches are the progress.
    let what = group_resource(&rs_resource.plural, &rs_resource.group);
    let mut listing = progress.list(what, batch_size(&params));
    let list_rs = async {
        if fields.raw {
            list_pages(client, &rs_resource, ns, &params, |batch: Batch<Box<RawValue>>| {
                listing.page(batch.items.len(), batch.remaining, batch.restarted);
                seen.restart_if(batch.restarted);
                for raw in batch.items {
                    let rs = serde_json::from_str(raw.get()).context("decoding a ReplicaSet")?;
                    seen.add(rs, Some(raw));
                }
                Ok(())
            })
            .await
        } else {
            list_protobuf(client, &rs_resource, ns, &params, mode, |batch: Batch<LeanReplicaSet>| {
                listing.page(batch.items.len(), batch.remaining, batch.restarted);
                seen.restart_if(batch.restarted);
                batch.items.into_iter().for_each(|rs| seen.add(rs, None));
                Ok(())
            })
            .await
        }
    };
    let list_deploy = async {
        if fields.raw {
            list_all::<LeanDeployment>(client, &deploy_resource, ns, &all).await
        } else {
            list_all_protobuf::<LeanDeployment>(client, &deploy_resource, ns, &all, mode).await
        }
    };
    let list_selected = async {
        match filters.selector.as_deref().filter(|_| selector_after_keep) {
            Some(selector) => {
                let params = ListParams::default().labels(selector);
                let matched = list_all::<UidOnly>(client, &rs_resource, scope.namespace(), &params).await?;
                Ok(Some(matched.into_iter().map(|rs| rs.metadata.uid).collect::<HashSet<String>>()))
            }
            None => Ok(None),
        }
    };
    let (listed, deployments, selected_uids) = tokio::join!(list_rs, list_deploy, list_selected);
    listing.finish();
    let Seen { mut candidates, newest, .. } = seen;
    listed.map_err(|e| forbidden_hint(e, scope))?;
    let deployments = deployments.map_err(|e| forbidden_hint(e, scope))?;
    let selected_uids: Option<HashSet<String>> = selected_uids.map_err(|e: anyhow::Error| forbidden_hint(e, scope))?;

    let usage: HashMap<&str, Usage> =
        deployments.iter().map(|d| (d.metadata.uid.as_str(), d.usage(newest.get(&d.metadata.uid).copied()))).collect();
    for rs in &mut candidates {
        settle_owner(rs, &usage);
    }
    let kept = kept_back(&candidates, filters.keep);
    let mut foreign = BTreeMap::new();
    // In place: a second vector of the selected rows would double the peak of a big list.
    candidates.retain(|rs| {
        if kept.contains(&rs.uid) || !matches_selector_and_age(rs, selected_uids.as_ref(), filters) {
            return false;
        }
        // Another controller's: counted as left alone (they are no orphans, whatever --orphaned
        // used to think), shown only on request, never part of a question about one Deployment.
        if let Controller::Other { kind, .. } = &rs.controller
            && filters.deployment.is_none()
        {
            if filters.orphaned || !filters.include_foreign {
                *foreign.entry(kind.clone()).or_default() += 1;
                return false;
            }
            true
        } else {
            selected_by_owner(rs, filters)
        }
    });
    Ok(Report { stale: candidates, foreign })
}

/// What the ReplicaSet pages leave behind: zero-replica ReplicaSets as compact rows, made as each
/// page arrives (a page is freed before the next is decoded), and the highest revision seen per
/// Deployment uid over all its ReplicaSets, scaled or not. Who owns them is settled once the
/// Deployments are known.
#[derive(Default)]
struct Seen {
    fields: Fields,
    candidates: Vec<StaleReplicaSet>,
    newest: HashMap<String, u64>,
}

impl Seen {
    fn restart_if(&mut self, restarted: bool) {
        if restarted {
            self.candidates.clear();
            self.newest.clear();
        }
    }

    fn add(&mut self, rs: LeanReplicaSet, raw: Option<Box<RawValue>>) {
        // A missing spec.replicas means 1, as the API server defaults it.
        let zero = rs.spec.replicas == Some(0);
        let row = row(rs, raw, self.fields);
        if let (Controller::Deployment { uid, .. }, Some(rev)) = (&row.controller, row.revision) {
            let max = self.newest.entry(uid.clone()).or_insert(rev);
            *max = (*max).max(rev);
        }
        if zero {
            self.candidates.push(row);
        }
    }
}

/// The report row of a zero-replica ReplicaSet, its fields moved (there may be many); owner
/// status and currency are settled later by [`settle_owner`].
fn row(rs: LeanReplicaSet, raw: Option<Box<RawValue>>, fields: Fields) -> StaleReplicaSet {
    let LeanReplicaSet { metadata: meta, spec } = rs;
    let images = match (&spec.template, fields.images) {
        (Some(t), true) => t.images(),
        _ => Vec::new(),
    };
    StaleReplicaSet {
        namespace: meta.namespace,
        name: meta.name,
        uid: meta.uid,
        resource_version: meta.resource_version,
        created: meta.creation_timestamp,
        revision: meta.annotations.get(),
        controller: Controller::of(meta.owner_references),
        owner: OwnerStatus::None,
        images,
        current: false,
        template: spec.template.as_ref().and_then(PodTemplate::key),
        raw,
    }
}

/// Whether the controller exists, and whether this is the ReplicaSet its Deployment uses. The
/// owner is the Deployment with the reference's uid: a Deployment deleted and recreated under the
/// same name has a new uid and does not own its predecessor's ReplicaSets.
fn settle_owner(rs: &mut StaleReplicaSet, usage: &HashMap<&str, Usage>) {
    rs.owner = match &rs.controller {
        Controller::None => OwnerStatus::None,
        Controller::Other { .. } => OwnerStatus::Foreign,
        Controller::Deployment { uid, .. } => match usage.get(uid.as_str()) {
            None => OwnerStatus::Missing,
            Some(usage) => {
                rs.current = usage.uses(rs.revision, rs.template);
                OwnerStatus::Exists
            }
        },
    };
    if rs.owner != OwnerStatus::Exists {
        // Only a live Deployment's ReplicaSets are re-checked before deletion.
        rs.template = None;
    }
}

/// The uids `--keep` sets aside: the `keep` newest stale ReplicaSets (by revision, then age) of
/// each live Deployment, whatever the other filters say. Orphans are not kept back: `rollout
/// undo` only reaches the ReplicaSets its Deployment owns.
fn kept_back(candidates: &[StaleReplicaSet], keep: usize) -> HashSet<String> {
    let mut per_deployment: HashMap<&str, Vec<&StaleReplicaSet>> = HashMap::new();
    if keep == 0 {
        return HashSet::new();
    }
    for rs in candidates.iter().filter(|rs| !rs.current && rs.owner == OwnerStatus::Exists) {
        if let Controller::Deployment { uid, .. } = &rs.controller {
            per_deployment.entry(uid).or_default().push(rs);
        }
    }
    per_deployment
        .into_values()
        .flat_map(|mut rs| {
            rs.sort_by_key(|rs| std::cmp::Reverse((rs.revision, rs.created)));
            rs.into_iter().take(keep).map(|rs| rs.uid.clone())
        })
        .collect()
}

/// `-l` (when applied here rather than by the server) and `--older-than`.
fn matches_selector_and_age(rs: &StaleReplicaSet, selected: Option<&HashSet<String>>, filters: &Filters) -> bool {
    if let Some(selected) = selected
        && !selected.contains(&rs.uid)
    {
        return false;
    }
    match filters.older_than {
        Some(min_age) => rs.created.is_some_and(|created| kubeplug::age::elapsed(created, Timestamp::now()) > min_age),
        None => true,
    }
}

/// `--include-current`, `--deployment`, `--orphaned`, and never another controller's.
fn selected_by_owner(rs: &StaleReplicaSet, filters: &Filters) -> bool {
    if rs.owner == OwnerStatus::Foreign {
        return false;
    }
    if rs.current && !filters.include_current {
        return false;
    }
    if let Some(name) = &filters.deployment
        && rs.deployment() != Some(name.as_str())
    {
        return false;
    }
    !filters.orphaned || rs.is_orphan()
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
            controller: match deployment {
                Some(d) => Controller::Deployment { name: d.into(), uid: format!("uid-{d}") },
                None => Controller::None,
            },
            owner: if deployment.is_some() { OwnerStatus::Exists } else { OwnerStatus::None },
            images: vec![],
            current: false,
            template: None,
            raw: None,
        }
    }

    fn kept(v: &[StaleReplicaSet], keep: usize) -> Vec<&str> {
        let kept = kept_back(v, keep);
        let mut names: Vec<&str> = v.iter().filter(|rs| kept.contains(&rs.uid)).map(|rs| rs.name.as_str()).collect();
        names.sort();
        names
    }

    #[test]
    fn keep_sets_aside_the_newest_revisions_of_each_deployment() {
        let v = vec![
            rs("web-1", Some("web"), 1),
            rs("web-3", Some("web"), 3),
            rs("web-2", Some("web"), 2),
            rs("api-7", Some("api"), 7),
            rs("lonely", None, 0),
        ];
        assert_eq!(kept(&v, 2), ["api-7", "web-2", "web-3"]);
        assert_eq!(kept(&v, 0), Vec::<&str>::new());
    }

    #[test]
    fn keep_ignores_the_current_replicaset_and_orphans() {
        let mut current = rs("web-9", Some("web"), 9);
        current.current = true;
        let mut gone = rs("old-5", Some("gone"), 5);
        gone.owner = OwnerStatus::Missing;
        let v = vec![rs("web-1", Some("web"), 1), rs("web-2", Some("web"), 2), current, gone];
        assert_eq!(kept(&v, 1), ["web-2"]);
    }

    #[test]
    fn lean_decoding_reads_a_recorded_replicaset() {
        let json = include_str!("../tests/data/get-rs.json");
        let lean: LeanReplicaSet = serde_json::from_str(json).unwrap();
        assert_eq!(lean.metadata.name, "web-0");
        assert_eq!(lean.spec.replicas, Some(0));
        assert_eq!(lean.metadata.annotations.get(), Some(1));
        assert!(lean.metadata.creation_timestamp.is_some());
        assert!(lean.spec.template.is_some());
    }
}
