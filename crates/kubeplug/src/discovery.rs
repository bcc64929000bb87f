//! What the server serves, and resolving what a user typed (`deploy`, `Deployment`,
//! `deployments.apps`, `cn`) to one resource, the way kubectl's RESTMapper does.

use anyhow::Context as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIResourceList, APIVersions};
use kube::core::ApiResource;
use kube::core::discovery::v2::{APIGroupDiscovery, APIGroupDiscoveryList};
use serde::Deserialize;
use std::fmt;

use crate::concurrency::{DEFAULT_CONCURRENCY, bounded};

/// One resource type served by the API server, in one group version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// API group, `""` for the core group.
    pub group: String,
    /// Version, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `ReplicaSet`.
    pub kind: String,
    /// Plural resource name, e.g. `replicasets`.
    pub plural: String,
    /// Singular name, e.g. `replicaset`.
    pub singular: String,
    /// Short names, e.g. `rs`.
    pub short_names: Vec<String>,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// Verbs the resource supports.
    pub verbs: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
    /// Subresources, e.g. `scale`, `status`.
    pub subresources: Vec<String>,
    /// Whether this version is the group's preferred version.
    pub preferred: bool,
}

impl ResourceInfo {
    /// The kube `ApiResource` for typed-erased requests.
    pub fn api_resource(&self) -> ApiResource {
        let api_version =
            if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) };
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version,
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }

    /// `replicasets.apps`, or `pods` for the core group (see [`group_resource`]).
    pub fn group_resource(&self) -> String {
        group_resource(&self.plural, &self.group)
    }

    /// The `-o name` prefix: `replicaset.apps`, `pod`.
    pub fn name_prefix(&self) -> String {
        let singular = if self.singular.is_empty() { self.kind.to_lowercase() } else { self.singular.clone() };
        if self.group.is_empty() { singular } else { format!("{singular}.{}", self.group) }
    }
}

/// `replicasets.apps`, or `pods` for the core group: how kubectl names a resource in messages
/// (apimachinery's `GroupResource.String()`), and a form [`Discovery::resolve`] takes back.
pub fn group_resource(plural: &str, group: &str) -> String {
    if group.is_empty() { plural.to_string() } else { format!("{plural}.{group}") }
}

/// Why a resource name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// Nothing matches.
    Unknown(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(name) => write!(f, "the server doesn't have a resource type {name:?}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// The resources a server serves.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    resources: Vec<ResourceInfo>,
}

impl Discovery {
    /// Fetches discovery. Aggregated discovery (Kubernetes 1.27+) answers in two requests, `/api`
    /// and `/apis`; an older server gets the legacy walk: every version of every group,
    /// concurrently.
    pub async fn fetch(client: &kube::Client) -> anyhow::Result<Self> {
        let (core, groups) = tokio::try_join!(
            async {
                client.request_text(http_get("/api", AGGREGATED)?).await.context("discovering the core API (/api)")
            },
            async {
                client.request_text(http_get("/apis", AGGREGATED)?).await.context("discovering API groups (/apis)")
            },
        )?;
        match (aggregated(&core), aggregated(&groups)) {
            (Some(core), Some(groups)) => {
                let mut discovery = Discovery::default();
                for group in core.items.iter().chain(&groups.items) {
                    discovery.add_aggregated(group);
                }
                Ok(discovery)
            }
            _ => Self::fetch_legacy(client, &core, &groups).await,
        }
    }

    async fn fetch_legacy(client: &kube::Client, core: &str, groups: &str) -> anyhow::Result<Self> {
        let core: APIVersions = serde_json::from_str(core).context("decoding /api")?;
        let groups: APIGroupList = serde_json::from_str(groups).context("decoding /apis")?;
        let mut paths: Vec<(String, bool)> = core.versions.iter().map(|v| (format!("/api/{v}"), true)).collect();
        for group in &groups.groups {
            let preferred = group.preferred_version.as_ref().map(|p| p.group_version.clone());
            for v in &group.versions {
                let is_preferred = preferred.as_deref().is_none_or(|p| p == v.group_version);
                paths.push((format!("/apis/{}", v.group_version), is_preferred));
            }
        }
        let lists = bounded(paths, DEFAULT_CONCURRENCY, |(path, preferred)| async move {
            let list: kube::Result<APIResourceList> = match http_get(&path, "application/json") {
                Ok(req) => client.request(req).await,
                Err(e) => Err(e),
            };
            (path, preferred, list)
        })
        .await;

        let mut discovery = Discovery::default();
        for (path, preferred, list) in lists {
            match list {
                Ok(list) => discovery.add(&list, preferred),
                // kubectl carries on when one aggregated API is unavailable; so do we.
                Err(e) => crate::messages::warn(format!(
                    "skipping {path} in discovery: {}",
                    crate::error::describe(&e.into()).message
                )),
            }
        }
        Ok(discovery)
    }

    /// Adds one group of an aggregated discovery document; its first version is the preferred one.
    fn add_aggregated(&mut self, group: &APIGroupDiscovery) {
        let name = group.metadata.as_ref().and_then(|m| m.name.clone()).unwrap_or_default();
        for (index, version) in group.versions.iter().enumerate() {
            for r in &version.resources {
                let kind = r.response_kind.as_ref().and_then(|k| k.kind.clone()).unwrap_or_default();
                let singular = match r.singular_resource.as_deref() {
                    Some(singular) if !singular.is_empty() => singular.to_string(),
                    _ => kind.to_lowercase(),
                };
                self.resources.push(ResourceInfo {
                    group: name.clone(),
                    version: version.version.clone().unwrap_or_default(),
                    kind,
                    plural: r.resource.clone().unwrap_or_default(),
                    singular,
                    short_names: r.short_names.clone(),
                    namespaced: r.scope.as_deref() == Some("Namespaced"),
                    verbs: r.verbs.clone(),
                    categories: r.categories.clone(),
                    subresources: r.subresources.iter().filter_map(|s| s.subresource.clone()).collect(),
                    preferred: index == 0,
                });
            }
        }
    }

    /// Builds discovery from resource lists (recorded documents in tests); `preferred` marks the
    /// group version used when a name is given without a version.
    pub fn from_lists<'a>(lists: impl IntoIterator<Item = (&'a APIResourceList, bool)>) -> Self {
        let mut discovery = Discovery::default();
        for (list, preferred) in lists {
            discovery.add(list, preferred);
        }
        discovery
    }

    fn add(&mut self, list: &APIResourceList, preferred: bool) {
        let (group, version) = match list.group_version.split_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), list.group_version.clone()),
        };
        let start = self.resources.len();
        for r in list.resources.iter().filter(|r| !r.name.contains('/')) {
            self.resources.push(ResourceInfo {
                group: group.clone(),
                version: version.clone(),
                kind: r.kind.clone(),
                plural: r.name.clone(),
                singular: if r.singular_name.is_empty() { r.kind.to_lowercase() } else { r.singular_name.clone() },
                short_names: r.short_names.clone().unwrap_or_default(),
                namespaced: r.namespaced,
                verbs: r.verbs.clone(),
                categories: r.categories.clone().unwrap_or_default(),
                subresources: Vec::new(),
                preferred,
            });
        }
        for r in list.resources.iter() {
            if let Some((parent, sub)) = r.name.split_once('/')
                && let Some(info) = self.resources[start..].iter_mut().find(|i| i.plural == parent)
            {
                info.subresources.push(sub.to_string());
            }
        }
    }

    /// Discovery made of `resources`, in priority order (the first group listed wins a name that
    /// several share): inspect-crd resolves CRD names from files this way.
    pub fn from_resources(resources: Vec<ResourceInfo>) -> Self {
        Discovery { resources }
    }

    /// Every resource, in discovery order.
    pub fn resources(&self) -> &[ResourceInfo] {
        &self.resources
    }

    /// Resolves a resource argument exactly as kubectl's RESTMapper does (`kubectl get ARG`):
    ///
    /// 1. `resource.version.group`, when the argument has two dots or more (exact group);
    /// 2. `resource` or `resource.group`: a plural or singular name (lower-cased) wins over a short
    ///    name, a short name over a kind; a group narrows exactly, else by prefix
    ///    (`candies.awesome` finds `candies.awesome.corp.com`);
    /// 3. `Kind`, `Kind.group` or `Kind.version.group`, the group exact (a bare kind is looked up
    ///    in the core group only, as kubectl does).
    ///
    /// Several matches are never an error: the first in discovery's priority order wins (the core
    /// group first, then `/apis` in the server's order, each group's preferred version first),
    /// and a short name that other resources also have is answered with kubectl's warning.
    pub fn resolve(&self, input: &str) -> Result<&ResourceInfo, ResolveError> {
        let (found, shadowed) = self.resolve_quietly(input)?;
        for other in shadowed {
            crate::messages::warn(other);
        }
        Ok(found)
    }

    /// [`Self::resolve`], with kubectl's warnings about shadowed short names returned, not printed.
    pub fn resolve_quietly(&self, input: &str) -> Result<(&ResourceInfo, Vec<String>), ResolveError> {
        let unknown = || ResolveError::Unknown(input.to_string());
        let parts: Vec<&str> = input.splitn(3, '.').collect();
        let mut warnings = Vec::new();
        if let [resource, version, group] = parts[..]
            && let Some(found) = self.resource_for(resource, Some(version), Some(group), &mut warnings)
        {
            return Ok((found, warnings));
        }
        let (resource, group) = match input.split_once('.') {
            Some((resource, group)) => (resource, Some(group)),
            None => (input, None),
        };
        if let Some(found) = self.resource_for(resource, None, group, &mut warnings) {
            return Ok((found, warnings));
        }
        if let [kind, version, group] = parts[..]
            && let Some(found) = self.kind_for(kind, Some(version), group)
        {
            return Ok((found, Vec::new()));
        }
        self.kind_for(resource, None, group.unwrap_or_default()).map(|found| (found, Vec::new())).ok_or_else(unknown)
    }

    /// kubectl's shortcut expander, then its RESTMapper's `ResourceFor`.
    fn resource_for(
        &self,
        name: &str,
        version: Option<&str>,
        group: Option<&str>,
        warnings: &mut Vec<String>,
    ) -> Option<&ResourceInfo> {
        let in_group = |r: &ResourceInfo| group.is_none_or(|g| r.group == g);
        let by_name = |r: &ResourceInfo, name: &str| r.plural == name || r.singular == name;
        let mut name = name.to_string();
        let mut group = group.map(str::to_string);
        // A short name (compared as typed, like kubectl) stands for its resource unless some
        // resource has that plural or singular name.
        if !self.resources.iter().any(|r| in_group(r) && by_name(r, &name)) {
            let short = |r: &&ResourceInfo| r.short_names.contains(&name);
            let expanded = self.by_priority(|r| in_group(r) && short(&r)).or_else(|| {
                let g = group.as_deref()?;
                self.by_priority(|r| r.group.starts_with(g) && short(&r))
            });
            if let Some(target) = expanded {
                let mut others: Vec<String> = self
                    .resources
                    .iter()
                    .filter(|r| in_group(r) && short(r) && (r.group != target.group || r.plural != target.plural))
                    .map(ResourceInfo::group_resource)
                    .collect();
                others.dedup();
                warnings.extend(
                    others
                        .into_iter()
                        .map(|o| format!("short name {name:?} could also match lower priority resource {o}")),
                );
                name = target.plural.clone();
                group = Some(target.group.clone());
            }
        }
        // The RESTMapper lower-cases the resource, matches plural and singular alike, and takes a
        // group exactly or, failing that, as a prefix.
        let name = name.to_lowercase();
        let version_ok = |r: &ResourceInfo| version.is_none_or(|v| r.version == v);
        let exact = |r: &ResourceInfo| group.as_deref().is_none_or(|g| r.group == g);
        self.by_priority(|r| version_ok(r) && exact(r) && by_name(r, &name)).or_else(|| {
            let g = group.as_deref()?;
            if version.is_some() {
                return None;
            }
            self.by_priority(|r| r.group.starts_with(g) && by_name(r, &name))
        })
    }

    /// kubectl's `RESTMapping` for a kind (as written or lower-cased) in exactly `group`.
    fn kind_for(&self, kind: &str, version: Option<&str>, group: &str) -> Option<&ResourceInfo> {
        self.by_priority(|r| {
            r.group == group
                && version.is_none_or(|v| r.version == v)
                && (r.kind == kind || r.kind.to_lowercase() == kind)
        })
    }

    /// The first resource that `wanted` accepts in discovery's priority order: groups in the order
    /// served, each group's preferred version before its others.
    fn by_priority(&self, wanted: impl Fn(&ResourceInfo) -> bool) -> Option<&ResourceInfo> {
        let mut groups: Vec<&str> = Vec::new();
        let mut best: Option<((usize, bool), &ResourceInfo)> = None;
        for r in &self.resources {
            let rank = match groups.iter().position(|g| *g == r.group) {
                Some(i) => i,
                None => {
                    groups.push(&r.group);
                    groups.len() - 1
                }
            };
            let key = (rank, !r.preferred);
            if wanted(r) && best.is_none_or(|(k, _)| key < k) {
                best = Some((key, r));
            }
        }
        best.map(|(_, r)| r)
    }

    /// Resolves `resource/subresource` (`pods/log`): the resource as [`Self::resolve`] does, and the
    /// subresource if the resource has it.
    pub fn resolve_with_subresource(&self, input: &str) -> Result<(&ResourceInfo, Option<String>), ResolveError> {
        match input.split_once('/') {
            None => Ok((self.resolve(input)?, None)),
            Some((resource, sub)) => {
                let info = self.resolve(resource)?;
                if info.subresources.iter().any(|s| s == sub) {
                    Ok((info, Some(sub.to_string())))
                } else {
                    Err(ResolveError::Unknown(input.to_string()))
                }
            }
        }
    }
}

/// What kubectl asks for: aggregated discovery, or plain JSON from a server without it.
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

fn http_get(path: &str, accept: &str) -> kube::Result<http::Request<Vec<u8>>> {
    http::Request::get(path).header(http::header::ACCEPT, accept).body(Vec::new()).map_err(kube::Error::HttpError)
}

/// An answer to [`AGGREGATED`]: kube-core's `apidiscovery.k8s.io/v2` list, with the `kind` that
/// tells it from a legacy `APIVersions` or `APIGroupList` (kube-core's type has no `kind` field).
#[derive(Deserialize)]
struct AggregatedAnswer {
    #[serde(default)]
    kind: String,
    #[serde(flatten)]
    list: APIGroupDiscoveryList,
}

/// The document if the server answered with aggregated discovery, `None` for the legacy format.
fn aggregated(text: &str) -> Option<APIGroupDiscoveryList> {
    serde_json::from_str::<AggregatedAnswer>(text)
        .ok()
        .filter(|answer| answer.kind == "APIGroupDiscoveryList")
        .map(|answer| answer.list)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Discovery documents recorded from a real kube-apiserver v1.32.
    fn recorded() -> Discovery {
        let docs = [
            include_str!("../tests/data/discovery-api-v1.json"),
            include_str!("../tests/data/discovery-apps-v1.json"),
            include_str!("../tests/data/discovery-apiextensions_k8s_io-v1.json"),
            include_str!("../tests/data/discovery-rbac_authorization_k8s_io-v1.json"),
            include_str!("../tests/data/discovery-awesome_corp_com-v1.json"),
        ];
        let lists: Vec<APIResourceList> = docs.iter().map(|d| serde_json::from_str(d).unwrap()).collect();
        let mut discovery = Discovery::from_lists(lists.iter().map(|l| (l, true)));
        // A second group serving a `candies` resource makes the bare name ambiguous.
        let other: APIResourceList = serde_json::from_value(serde_json::json!({
            "kind": "APIResourceList", "groupVersion": "sweets.example.com/v1",
            "resources": [{"name": "candies", "singularName": "candy", "namespaced": true, "kind": "Candy", "verbs": ["get", "list"]}]
        }))
        .unwrap();
        discovery.add(&other, true);
        discovery
    }

    #[test]
    fn aggregated_discovery_resolves_like_the_legacy_documents() {
        let recorded: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/discovery-apis-aggregated.json")).unwrap();
        let list = aggregated(&recorded.to_string()).expect("recorded /apis is aggregated");
        let mut d = Discovery::default();
        for group in &list.items {
            d.add_aggregated(group);
        }
        let deploy = d.resolve("deploy").unwrap();
        assert_eq!(
            (deploy.group.as_str(), deploy.version.as_str(), deploy.kind.as_str()),
            ("apps", "v1", "Deployment")
        );
        assert!(deploy.namespaced && deploy.subresources.contains(&"scale".to_string()));
        assert_eq!(d.resolve("crd").unwrap().plural, "customresourcedefinitions");
        assert!(!d.resolve("clusterroles").unwrap().namespaced);
        assert!(aggregated(include_str!("../tests/data/discovery-apps-v1.json")).is_none(), "legacy is not aggregated");
    }

    #[test]
    fn resolves_every_form_kubectl_accepts() {
        let d = recorded();
        for input in [
            "deployments",
            "deployment",
            "deploy",
            "Deployment",
            "deployments.apps",
            "deployments.v1.apps",
            "deploy.apps",
        ] {
            let r = d.resolve(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((r.group.as_str(), r.plural.as_str()), ("apps", "deployments"), "{input}");
        }
        assert_eq!(d.resolve("rs").unwrap().kind, "ReplicaSet");
        assert_eq!(d.resolve("po").unwrap().group_resource(), "pods");
        assert_eq!(d.resolve("crd").unwrap().plural, "customresourcedefinitions");
        assert_eq!(d.resolve("cn").unwrap().group_resource(), "candies.awesome.corp.com");
        assert_eq!(d.resolve("candies.awesome.corp.com").unwrap().group, "awesome.corp.com");
        assert_eq!(d.resolve("candy.v1.awesome.corp.com").unwrap().kind, "Candy");
        assert!(!d.resolve("ns").unwrap().namespaced);
    }

    /// Discovery of CRD groups shaped like the probe behind `kubectl_precedence` below, in the
    /// server's priority order (CRD groups sort by name).
    fn crd_groups() -> Discovery {
        let group = |gv: &str, resources: serde_json::Value| -> APIResourceList {
            serde_json::from_value(
                serde_json::json!({"kind": "APIResourceList", "groupVersion": gv, "resources": resources}),
            )
            .unwrap()
        };
        let r = |name: &str, singular: &str, kind: &str, short: &[&str]| {
            serde_json::json!({"name": name, "singularName": singular, "namespaced": true, "kind": kind,
                "verbs": ["get", "list"], "shortNames": short})
        };
        let lists = [
            group("alpha.example.com/v1", serde_json::json!([r("widgets", "widget", "Gadget", &["gizmo"])])),
            group("awesome.corp.com/v1", serde_json::json!([r("candies", "candy", "Candy", &["cn"])])),
            group("beta.example.com/v1", serde_json::json!([r("gizmos", "gizmo", "Gizmo", &["gadget"])])),
            group("gamma.example.com/v1", serde_json::json!([r("things", "thing", "Doohickey", &[])])),
            group("notes.example.com/v1", serde_json::json!([r("cronnotes", "cronnote", "CronNote", &["cn", "note"])])),
            group("other.example.com/v1", serde_json::json!([r("candies", "candy", "Candy", &[])])),
        ];
        let core: APIResourceList = serde_json::from_str(include_str!("../tests/data/discovery-api-v1.json")).unwrap();
        let apps: APIResourceList = serde_json::from_str(include_str!("../tests/data/discovery-apps-v1.json")).unwrap();
        Discovery::from_lists([(&core, true), (&apps, true)].into_iter().chain(lists.iter().map(|l| (l, true))))
    }

    #[test]
    fn kubectl_precedence() {
        // What kubectl 1.32 resolved each name to (`kubectl get NAME -A -v=6`, the URL it listed)
        // on a real kube-apiserver v1.32 serving the CRDs of `crd_groups`; `None` where it answered
        // `the server doesn't have a resource type`.
        let d = crd_groups();
        let cases: [(&str, Option<&str>); 24] = [
            ("candies", Some("candies.awesome.corp.com")),
            ("candy", Some("candies.awesome.corp.com")),
            ("Candy", Some("candies.awesome.corp.com")),
            ("CANDIES", Some("candies.awesome.corp.com")),
            ("cn", Some("candies.awesome.corp.com")),
            ("note", Some("cronnotes.notes.example.com")),
            ("CronNote", Some("cronnotes.notes.example.com")),
            ("gizmo", Some("gizmos.beta.example.com")),
            ("GIZMO", Some("gizmos.beta.example.com")),
            ("gadget", Some("gizmos.beta.example.com")),
            ("Gadget", None),
            ("Doohickey", None),
            ("doohickey", None),
            ("Doohickey.gamma.example.com", Some("things.gamma.example.com")),
            ("candies.other", Some("candies.other.example.com")),
            ("candies.awesome", Some("candies.awesome.corp.com")),
            ("candies.example.com", None),
            ("cn.notes", Some("cronnotes.notes.example.com")),
            ("candy.v1.other.example.com", Some("candies.other.example.com")),
            ("candies.v1.awesome", None),
            ("CN", None),
            ("cn.AWESOME", None),
            ("Deployment.apps", Some("deployments.apps")),
            ("events", Some("events")),
        ];
        for (input, want) in cases {
            let got = d.resolve_quietly(input).ok().map(|(r, _)| r.group_resource());
            assert_eq!(got.as_deref(), want, "{input}");
        }
        let (_, warnings) = d.resolve_quietly("cn").unwrap();
        assert_eq!(
            warnings,
            [r#"short name "cn" could also match lower priority resource cronnotes.notes.example.com"#]
        );
        assert!(d.resolve_quietly("note").unwrap().1.is_empty());
    }

    #[test]
    fn unknown_names_say_so_like_kubectl() {
        let err = recorded().resolve("foos").unwrap_err();
        assert_eq!(err.to_string(), r#"the server doesn't have a resource type "foos""#);
        assert!(recorded().resolve("deployments.v2.apps").is_err());
    }

    #[test]
    fn subresources_resolve_through_their_parent() {
        let d = recorded();
        let (info, sub) = d.resolve_with_subresource("pods/log").unwrap();
        assert_eq!((info.plural.as_str(), sub.as_deref()), ("pods", Some("log")));
        let (info, sub) = d.resolve_with_subresource("deploy/scale").unwrap();
        assert_eq!((info.group.as_str(), sub.as_deref()), ("apps", Some("scale")));
        assert!(d.resolve_with_subresource("pods/nope").is_err());
    }

    #[test]
    fn name_prefixes_match_kubectl_get_o_name() {
        let d = recorded();
        assert_eq!(d.resolve("rs").unwrap().name_prefix(), "replicaset.apps");
        assert_eq!(d.resolve("pods").unwrap().name_prefix(), "pod");
    }
}
