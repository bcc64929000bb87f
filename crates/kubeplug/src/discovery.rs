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
    /// Several resources in different groups match; the candidates are listed as `plural.group`.
    Ambiguous(String, Vec<String>),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown(name) => write!(f, "the server doesn't have a resource type {name:?}"),
            Self::Ambiguous(name, candidates) => {
                write!(f, "resource type {name:?} is ambiguous: it matches {}; name one of them", candidates.join(", "))
            }
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

    /// Every resource, in discovery order.
    pub fn resources(&self) -> &[ResourceInfo] {
        &self.resources
    }

    /// Resolves a resource argument like kubectl: `plural`, `singular`, `Kind`, short name,
    /// optionally qualified as `name.group` or `name.version.group`.
    ///
    /// When a name matches in the core group and elsewhere (`events`), the core group wins, as in
    /// kubectl; when it matches in several other groups, it is ambiguous and the candidates are listed.
    pub fn resolve(&self, input: &str) -> Result<&ResourceInfo, ResolveError> {
        let lowered = input.to_lowercase();
        // Unqualified first: `name` alone.
        let mut candidates = self.matching(&lowered, None, None);
        if candidates.is_empty()
            && let Some((name, rest)) = lowered.split_once('.')
        {
            // `name.group` (e.g. `deployments.apps`, `candies.awesome.corp.com`), then `name.version.group`.
            candidates = self.matching(name, None, Some(rest));
            if candidates.is_empty()
                && let Some((version, group)) = rest.split_once('.')
            {
                candidates = self.matching(name, Some(version), Some(group));
            }
        }
        pick(input, candidates)
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

    fn matching(&self, name: &str, version: Option<&str>, group: Option<&str>) -> Vec<&ResourceInfo> {
        let selected = |r: &&ResourceInfo| {
            group.is_none_or(|g| r.group == g)
                && match version {
                    Some(v) => r.version == v,
                    None => r.preferred,
                }
        };
        // kubectl's order of precedence: plural, singular, short name, kind.
        let by: [&dyn Fn(&ResourceInfo) -> bool; 4] =
            [&|r| r.plural == name, &|r| r.singular == name, &|r| r.short_names.iter().any(|s| s == name), &|r| {
                r.kind.to_lowercase() == name
            }];
        for matches in by {
            let found: Vec<&ResourceInfo> = self.resources.iter().filter(selected).filter(|r| matches(r)).collect();
            if !found.is_empty() {
                return found;
            }
        }
        Vec::new()
    }
}

fn pick<'a>(input: &str, candidates: Vec<&'a ResourceInfo>) -> Result<&'a ResourceInfo, ResolveError> {
    match candidates.as_slice() {
        [] => Err(ResolveError::Unknown(input.to_string())),
        [one] => Ok(one),
        many => {
            if let Some(core) = many.iter().find(|r| r.group.is_empty()) {
                return Ok(core);
            }
            let mut names: Vec<String> = many.iter().map(|r| r.group_resource()).collect();
            names.dedup();
            if names.len() == 1 {
                return Ok(many[0]);
            }
            Err(ResolveError::Ambiguous(input.to_string(), names))
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

    #[test]
    fn ambiguous_names_list_the_candidates() {
        let err = recorded().resolve("candies").unwrap_err();
        assert_eq!(
            err,
            ResolveError::Ambiguous(
                "candies".into(),
                vec!["candies.awesome.corp.com".into(), "candies.sweets.example.com".into()]
            )
        );
        assert!(err.to_string().contains("candies.awesome.corp.com, candies.sweets.example.com"));
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
