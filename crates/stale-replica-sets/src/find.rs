//! Finding stale ReplicaSets: one list of Deployments, then one of ReplicaSets, decoded into lean
//! structs with only the fields this tool reads. Each ReplicaSet is judged as it arrives, against
//! the Deployments read before it, so that only the selected ones are kept, or handed to a
//! [`Sink`] that prints them without holding them.
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
use std::sync::{Mutex, PoisonError};

use crate::owner::{Controller, LeanDeployment, OwnerReference, PodTemplate, RevisionAnnotation, TemplateKey, Usage};
use crate::plan::{Fields, Filters, Scope};
use crate::wire;
use kubeplug::discovery::group_resource;
use kubeplug::error::Hint;
use kubeplug::list::{
    Batch, ReadMode, batch_size, list_all, list_pages, list_pages_after, list_protobuf, list_protobuf_after,
};
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

/// Where [`find_into`] hands the selected ReplicaSets, one at a time, in list order.
pub trait Sink {
    /// One more selected ReplicaSet.
    fn push(&mut self, rs: StaleReplicaSet) -> anyhow::Result<()>;
    /// The list started over (a dropped connection, an expired continue token): forget what
    /// was pushed, the same ReplicaSets come again.
    fn clear(&mut self) -> anyhow::Result<()>;
}

impl Sink for Vec<StaleReplicaSet> {
    fn push(&mut self, rs: StaleReplicaSet) -> anyhow::Result<()> {
        Vec::push(self, rs);
        Ok(())
    }

    fn clear(&mut self) -> anyhow::Result<()> {
        Vec::clear(self);
        Ok(())
    }
}

/// What [`find_into`] counted while it handed the ReplicaSets over.
#[derive(Debug, Default)]
pub struct Tally {
    /// Zero-replica ReplicaSets left alone because another controller owns them, by `Kind.group`
    /// (only those the other filters would have shown).
    pub foreign: BTreeMap<String, usize>,
    /// The selected ReplicaSets that may be deleted.
    pub deletable: usize,
    /// The selected ReplicaSets in use by their Deployment (only with `--include-current`).
    pub in_use: usize,
}

impl Tally {
    fn count(&mut self, rs: &StaleReplicaSet) {
        self.deletable += usize::from(rs.deletable());
        self.in_use += usize::from(rs.current);
    }

    /// Whether anything stale (deletable) was found: what `--exit-code` answers.
    pub fn found_stale(&self) -> bool {
        self.deletable > 0
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

/// What [`find`] found.
#[derive(Debug, Default)]
pub struct Report {
    /// The selected ReplicaSets, in list order (namespace, then name).
    pub stale: Vec<StaleReplicaSet>,
    /// What was counted on the way.
    pub tally: Tally,
}

impl Report {
    /// Whether anything stale (deletable) was found: what `--exit-code` answers.
    pub fn found_stale(&self) -> bool {
        self.tally.found_stale()
    }

    /// The stderr line about ReplicaSets left alone for their controller, if there are any.
    pub fn foreign_note(&self) -> Option<String> {
        self.tally.foreign_note()
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

/// Lists Deployments, then ReplicaSets in `scope`, and returns the stale ReplicaSets selected
/// by `filters`, with the extra `fields` the output needs (see [`find_into`]).
pub async fn find(
    client: &kube::Client,
    scope: &Scope,
    filters: &Filters,
    fields: Fields,
    mode: ReadMode,
    progress: Progress,
) -> anyhow::Result<Report> {
    let mut stale = Vec::new();
    let tally = find_into(client, scope, filters, fields, mode, progress, &mut stale).await?;
    Ok(Report { stale, tally })
}

/// Lists Deployments, then ReplicaSets in `scope`, and hands the stale ReplicaSets selected by
/// `filters` to `sink` in list order, with the extra `fields` the output needs. Both lists are
/// read as protobuf, the way `mode` says, unless the output wants the server's JSON objects
/// (`-o json|yaml`): then both are JSON pages, so that pod templates are compared in one format.
/// The reading shows on `progress`.
///
/// What is held meanwhile does not grow with the ReplicaSets (one decoded batch, and a few
/// numbers per Deployment), but for two cases that need the whole list before any ReplicaSet is
/// settled (see [`Judge`]): `--keep`, and a Deployment the controller has not given a revision.
pub async fn find_into(
    client: &kube::Client,
    scope: &Scope,
    filters: &Filters,
    fields: Fields,
    mode: ReadMode,
    progress: Progress,
    sink: &mut impl Sink,
) -> anyhow::Result<Tally> {
    // `--keep` counts every stale ReplicaSet of a Deployment, labelled as `-l` wants or not: the
    // list is then made without the selector, and a second, uid-only list tells which items the
    // selector matches. Without `--keep`, the server filters the one list.
    let selector_after_keep = filters.keep > 0 && filters.selector.is_some();
    let mut params = ListParams::default();
    if let Some(selector) = filters.selector.as_deref().filter(|_| !selector_after_keep) {
        params = params.labels(selector);
    }
    let ns = scope.namespace();
    // A ReplicaSet is judged once the Deployments are all known (they are far fewer), so those
    // are read first. The ReplicaSets' request goes out at the same time, though, and its answer
    // waits in the connection until they are read: no round trip is added, nothing piles up.
    // Shared by the two reads (a Mutex only for the tasks of fleet mode to be Send: never contended).
    let judge: Mutex<Option<Judge>> = Mutex::new(None);
    let (owners_read, ready) = tokio::sync::oneshot::channel::<()>();
    let read_owners = async {
        let owners = read_owners(client, ns, fields.raw, mode, progress).await?;
        *judge.lock().unwrap_or_else(PoisonError::into_inner) = Some(Judge::new(owners, filters, fields));
        let _ = owners_read.send(());
        anyhow::Ok(())
    };
    // Open once the Deployments are read, or could not be (the whole find then fails).
    let ready = async {
        let _ = ready.await;
    };
    let rs_resource = replicasets();
    let mut listing = progress.list(group_resource(&rs_resource.plural, &rs_resource.group), batch_size(&params));
    // Each batch of ReplicaSets, to the judge.
    let mut judge_batch = |items: &mut dyn Iterator<Item = anyhow::Result<(LeanReplicaSet, Option<Box<RawValue>>)>>,
                           restarted: bool|
     -> anyhow::Result<()> {
        let mut judge = judge.lock().unwrap_or_else(PoisonError::into_inner);
        let judge = judge.as_mut().context("the Deployments were not read")?;
        if restarted {
            judge.restart(sink)?;
        }
        for item in items {
            let (rs, raw) = item?;
            judge.add(rs, raw, sink)?;
        }
        Ok(())
    };
    let list_rs = async {
        if fields.raw {
            list_pages_after(client, &rs_resource, ns, &params, ready, |batch: Batch<Box<RawValue>>| {
                listing.page(batch.items.len(), batch.remaining, batch.restarted);
                let mut items = batch.items.into_iter().map(|raw| {
                    let rs = serde_json::from_str(raw.get()).context("decoding a ReplicaSet")?;
                    Ok((rs, Some(raw)))
                });
                judge_batch(&mut items, batch.restarted)
            })
            .await
        } else {
            list_protobuf_after(client, &rs_resource, ns, &params, mode, ready, |batch: Batch<LeanReplicaSet>| {
                listing.page(batch.items.len(), batch.remaining, batch.restarted);
                judge_batch(&mut batch.items.into_iter().map(|rs| Ok((rs, None))), batch.restarted)
            })
            .await
        }
    };
    let list_selected = async {
        match filters.selector.as_deref().filter(|_| selector_after_keep) {
            Some(selector) => {
                let params = ListParams::default().labels(selector);
                let matched = list_all::<UidOnly>(client, &rs_resource, ns, &params).await?;
                Ok(Some(matched.into_iter().map(|rs| rs.metadata.uid).collect::<HashSet<String>>()))
            }
            None => Ok(None),
        }
    };
    // Each read runs to its end (a failed read of the Deployments opens the gate, and the
    // ReplicaSets' read stops at its first batch), so that of two failures the one reported is
    // always the first list's, whichever answered first.
    let (owners, listed, selected_uids) = tokio::join!(read_owners, list_rs, list_selected);
    listing.finish();
    let hint = |e| forbidden_hint(e, scope);
    owners.map_err(hint)?;
    listed.map_err(hint)?;
    let selected_uids: Option<HashSet<String>> = selected_uids.map_err(hint)?;
    let judge = judge.into_inner().unwrap_or_else(PoisonError::into_inner).context("the Deployments were not read")?;
    judge.finish(selected_uids.as_ref(), sink)
}

/// What decides which ReplicaSet each Deployment uses, by Deployment uid: sorted once read, and
/// looked up by binary search. 48 bytes a Deployment, without a hash table's spare buckets or
/// the two tables alive while it grows: 20,000 Deployments take 1–1.5 MB, where a
/// `HashMap<String, _>` peaked near 4.
#[derive(Debug, Default)]
struct Owners(Vec<(UidKey, Usage)>);

impl Owners {
    fn get(&self, uid: &str) -> Option<&Usage> {
        let key = UidKey::of(uid);
        self.0.binary_search_by_key(&key, |(k, _)| *k).ok().map(|i| &self.0[i].1)
    }

    fn get_mut(&mut self, uid: &str) -> Option<&mut Usage> {
        let key = UidKey::of(uid);
        self.0.binary_search_by_key(&key, |(k, _)| *k).ok().map(|i| &mut self.0[i].1)
    }
}

impl FromIterator<(UidKey, Usage)> for Owners {
    fn from_iter<I: IntoIterator<Item = (UidKey, Usage)>>(items: I) -> Self {
        let mut owners: Vec<(UidKey, Usage)> = items.into_iter().collect();
        owners.sort_unstable_by_key(|(key, _)| *key);
        Owners(owners)
    }
}

/// A uid as a key of [`Owners`]: the 128 bits of the UUID the API server gives every object (36
/// characters, lower-case hex and dashes), or 128 bits of hash of any other text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct UidKey(u128);

impl UidKey {
    fn of(uid: &str) -> Self {
        UidKey(uuid_bits(uid).unwrap_or_else(|| {
            let half = |seed: u8| {
                use std::hash::Hasher as _;
                let mut hasher = std::hash::DefaultHasher::new();
                hasher.write_u8(seed);
                hasher.write(uid.as_bytes());
                u128::from(hasher.finish())
            };
            half(0) << 64 | half(1)
        }))
    }
}

/// The bits of a UUID in its canonical text (lower-case only, so that each text has its own bits).
fn uuid_bits(uid: &str) -> Option<u128> {
    if uid.len() != 36 {
        return None;
    }
    let mut bits = 0;
    for (i, c) in uid.bytes().enumerate() {
        let digit = match c {
            b'-' if matches!(i, 8 | 13 | 18 | 23) => continue,
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        if matches!(i, 8 | 13 | 18 | 23) {
            return None;
        }
        bits = bits << 4 | u128::from(digit);
    }
    Some(bits)
}

/// Reads every Deployment in `namespace` (all with `None`) into [`Owners`], as JSON pages if
/// `json`, else as protobuf read the way `mode` says.
async fn read_owners(
    client: &kube::Client,
    namespace: Option<&str>,
    json: bool,
    mode: ReadMode,
    progress: Progress,
) -> anyhow::Result<Owners> {
    let (resource, params) = (deployments(), ListParams::default());
    let mut listing = progress.list(group_resource(&resource.plural, &resource.group), batch_size(&params));
    let mut owners = Vec::new();
    let add = |batch: Batch<LeanDeployment>| {
        listing.page(batch.items.len(), batch.remaining, batch.restarted);
        if batch.restarted {
            owners.clear();
        }
        for deployment in batch.items {
            let usage = deployment.usage(None);
            owners.push((UidKey::of(&deployment.metadata.uid), usage));
        }
        Ok(())
    };
    if json {
        list_pages(client, &resource, namespace, &params, add).await?;
    } else {
        list_protobuf(client, &resource, namespace, &params, mode, add).await?;
    }
    listing.finish();
    Ok(owners.into_iter().collect())
}

/// Settles each ReplicaSet as it arrives and hands the selected ones on, in list order.
///
/// A ReplicaSet waits in `held` when it cannot be settled yet: with `--keep` every one does (the
/// newest of each Deployment are set aside, known only at the end), and without it every one
/// from the first ReplicaSet of a Deployment without a revision of its own (the Deployment uses
/// its newest ReplicaSet, known only at the end), so that the order stays the list's.
struct Judge<'a> {
    owners: Owners,
    filters: &'a Filters,
    fields: Fields,
    held: Vec<StaleReplicaSet>,
    /// The highest revision among the ReplicaSets, scaled or not, of each Deployment without a
    /// revision of its own.
    newest: HashMap<String, u64>,
    tally: Tally,
}

impl<'a> Judge<'a> {
    fn new(owners: Owners, filters: &'a Filters, fields: Fields) -> Self {
        Judge { owners, filters, fields, held: Vec::new(), newest: HashMap::new(), tally: Tally::default() }
    }

    fn add(&mut self, rs: LeanReplicaSet, raw: Option<Box<RawValue>>, sink: &mut impl Sink) -> anyhow::Result<()> {
        // A missing spec.replicas means 1, as the API server defaults it.
        let zero = rs.spec.replicas == Some(0);
        let mut row = row(rs, raw, self.fields);
        let revisionless = self.revisionless_owner(&row);
        if let (Some(uid), Some(rev)) = (revisionless, row.revision) {
            let max = self.newest.entry(uid.to_string()).or_insert(rev);
            *max = (*max).max(rev);
        }
        if !zero {
            return Ok(());
        }
        if self.filters.keep > 0 || revisionless.is_some() || !self.held.is_empty() {
            self.held.push(row);
            return Ok(());
        }
        settle_owner(&mut row, &self.owners);
        self.pass(row, None, sink)
    }

    /// The uid of its Deployment, if that exists and has no revision of its own.
    fn revisionless_owner<'r>(&self, rs: &'r StaleReplicaSet) -> Option<&'r str> {
        match &rs.controller {
            Controller::Deployment { uid, .. } if self.owners.get(uid).is_some_and(|u| !u.has_revision()) => Some(uid),
            _ => None,
        }
    }

    /// The ReplicaSet list started over: so does the judging.
    fn restart(&mut self, sink: &mut impl Sink) -> anyhow::Result<()> {
        self.held.clear();
        self.newest.clear();
        self.tally = Tally::default();
        sink.clear()
    }

    /// Settles what waited, now that every ReplicaSet has been seen, and hands it on.
    fn finish(mut self, selected: Option<&HashSet<String>>, sink: &mut impl Sink) -> anyhow::Result<Tally> {
        for (uid, newest) in &self.newest {
            if let Some(usage) = self.owners.get_mut(uid) {
                usage.or_newest(*newest);
            }
        }
        let mut held = std::mem::take(&mut self.held);
        held.iter_mut().for_each(|rs| settle_owner(rs, &self.owners));
        let kept = kept_back(&held, self.filters.keep);
        for rs in held.into_iter().filter(|rs| !kept.contains(&rs.uid)) {
            self.pass(rs, selected, sink)?;
        }
        Ok(self.tally)
    }

    /// Hands a settled ReplicaSet on if the filters select it.
    fn pass(
        &mut self,
        rs: StaleReplicaSet,
        selected: Option<&HashSet<String>>,
        sink: &mut impl Sink,
    ) -> anyhow::Result<()> {
        if !matches_selector_and_age(&rs, selected, self.filters) {
            return Ok(());
        }
        let filters = self.filters;
        // Another controller's: counted as left alone (they are no orphans, whatever --orphaned
        // used to think), shown only on request, never part of a question about one Deployment.
        if let Controller::Other { kind, .. } = &rs.controller
            && filters.deployment.is_none()
        {
            if filters.orphaned || !filters.include_foreign {
                *self.tally.foreign.entry(kind.clone()).or_default() += 1;
                return Ok(());
            }
        } else if !selected_by_owner(&rs, filters) {
            return Ok(());
        }
        self.tally.count(&rs);
        sink.push(rs)
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
fn settle_owner(rs: &mut StaleReplicaSet, owners: &Owners) {
    rs.owner = match &rs.controller {
        Controller::None => OwnerStatus::None,
        Controller::Other { .. } => OwnerStatus::Foreign,
        Controller::Deployment { uid, .. } => match owners.get(uid) {
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

    /// A zero-replica (unless `replicas` says otherwise) ReplicaSet of Deployment `deployment`
    /// at `revision`, as a list item.
    fn listed(name: &str, deployment: &str, revision: u64, replicas: i32) -> LeanReplicaSet {
        serde_json::from_value(serde_json::json!({
            "metadata": {
                "name": name, "namespace": "shop", "uid": format!("uid-{name}"), "resourceVersion": "1",
                "annotations": {"deployment.kubernetes.io/revision": revision.to_string()},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment,
                                     "uid": format!("uid-{deployment}"), "controller": true}],
            },
            "spec": {"replicas": replicas},
        }))
        .unwrap()
    }

    /// Deployments by name, with their own revision or none.
    fn owners(deployments: &[(&str, Option<u64>)]) -> Owners {
        deployments
            .iter()
            .map(|(name, revision)| {
                let annotations = revision.map(|r| serde_json::json!({"deployment.kubernetes.io/revision": r.to_string()}));
                let d: LeanDeployment = serde_json::from_value(serde_json::json!({
                    "metadata": {"name": name, "uid": format!("uid-{name}"), "annotations": annotations.unwrap_or_else(|| serde_json::json!({}))},
                }))
                .unwrap();
                (UidKey::of(&d.metadata.uid), d.usage(None))
            })
            .collect()
    }

    fn names(sink: &[StaleReplicaSet]) -> Vec<&str> {
        sink.iter().map(|rs| rs.name.as_str()).collect()
    }

    #[test]
    fn replicasets_are_handed_on_as_they_arrive_in_list_order() {
        let filters = Filters::default();
        let mut judge = Judge::new(owners(&[("web", Some(3)), ("api", None)]), &filters, Fields::default());
        let mut sink = Vec::new();
        judge.add(listed("web-1", "web", 1, 0), None, &mut sink).unwrap();
        assert_eq!(names(&sink), ["web-1"], "settled at once: its Deployment has a revision");
        // api has no revision of its own: its newest ReplicaSet is the one in use, known at the
        // end; from its first ReplicaSet on, the others wait too, to keep the list's order.
        judge.add(listed("api-1", "api", 1, 0), None, &mut sink).unwrap();
        judge.add(listed("web-2", "web", 2, 0), None, &mut sink).unwrap();
        judge.add(listed("web-3", "web", 3, 2), None, &mut sink).unwrap();
        judge.add(listed("api-2", "api", 2, 0), None, &mut sink).unwrap();
        assert_eq!(names(&sink), ["web-1"]);
        let tally = judge.finish(None, &mut sink).unwrap();
        assert_eq!(names(&sink), ["web-1", "api-1", "web-2"], "api-2 is api's newest: in use");
        assert_eq!(tally.deletable, 3);
    }

    #[test]
    fn uid_keys_are_a_uuids_bits_and_tell_other_texts_apart() {
        let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(uuid_bits(uuid), Some(0x0f8fad5b_d9cb_469f_a165_70867728950e));
        assert_eq!(UidKey::of(uuid), UidKey(0x0f8fad5b_d9cb_469f_a165_70867728950e));
        // Not canonical: another text, another key.
        for other in ["0F8FAD5B-D9CB-469F-A165-70867728950E", "0f8fad5bd-9cb-469f-a165-70867728950e", "uid-web"] {
            assert_eq!(uuid_bits(other), None, "{other}");
            assert_ne!(UidKey::of(other), UidKey::of(uuid), "{other}");
        }
        assert_ne!(UidKey::of("uid-web"), UidKey::of("uid-api"));
        assert_eq!(UidKey::of("uid-web"), UidKey::of("uid-web"));
    }

    #[test]
    fn a_list_that_starts_over_forgets_what_was_handed_on() {
        let filters = Filters::default();
        let mut judge = Judge::new(owners(&[("web", Some(3))]), &filters, Fields::default());
        let mut sink = Vec::new();
        judge.add(listed("web-1", "web", 1, 0), None, &mut sink).unwrap();
        judge.restart(&mut sink).unwrap();
        assert!(sink.is_empty());
        judge.add(listed("web-2", "web", 2, 0), None, &mut sink).unwrap();
        let tally = judge.finish(None, &mut sink).unwrap();
        assert_eq!((names(&sink), tally.deletable), (vec!["web-2"], 1));
    }

    #[test]
    fn keep_holds_every_replicaset_until_the_newest_are_known() {
        let filters = Filters { keep: 1, ..Filters::default() };
        let mut judge = Judge::new(owners(&[("web", Some(3))]), &filters, Fields::default());
        let mut sink = Vec::new();
        judge.add(listed("web-2", "web", 2, 0), None, &mut sink).unwrap();
        judge.add(listed("web-1", "web", 1, 0), None, &mut sink).unwrap();
        assert!(sink.is_empty());
        judge.finish(None, &mut sink).unwrap();
        assert_eq!(names(&sink), ["web-1"], "web-2, the newest stale one, is kept back");
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
