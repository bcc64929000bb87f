//! Turns checks as written into the exact attributes of access reviews, the way
//! `kubectl auth can-i` does: discovery names, kubectl's warnings, namespace defaults.

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::check::{Check, Scope};
use kubeplug::discovery::group_resource;

/// Verbs `kubectl auth can-i` knows for resources; others get a warning and are still checked.
const RESOURCE_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "use",
    "bind",
    "impersonate",
    "*",
    "approve",
    "sign",
    "escalate",
    "attest",
];

/// Verbs `kubectl auth can-i` knows for non-resource URLs.
const NON_RESOURCE_VERBS: &[&str] = &["get", "put", "post", "head", "options", "delete", "patch", "*"];

/// Resources the server authorizes but discovery does not list (the `impersonate` targets).
const UNDISCOVERABLE: &[&str] = &["users", "groups"];

/// What discovery knows about one resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    /// The API group ("" for core).
    pub group: String,
    /// The plural resource name, as RBAC rules name it.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// The subresources discovery lists (empty when it lists none).
    pub subresources: Vec<String>,
}

/// What a resource name means to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// One resource type.
    Found(Known),
    /// No resource type by that name.
    Unknown,
    /// Several resource types in different groups (listed as `plural.group`).
    Ambiguous(Vec<String>),
}

/// Looks resource names up the way kubectl's REST mapper does (plural, singular, kind, short
/// name, `resource.group`).
pub trait Catalog {
    /// What a lower-cased resource name means.
    fn lookup(&self, name: &str) -> Lookup;
}

impl Catalog for kubeplug::discovery::Discovery {
    fn lookup(&self, name: &str) -> Lookup {
        use kubeplug::discovery::ResolveError;
        match self.resolve(name) {
            Ok(info) => Lookup::Found(Known {
                group: info.group.clone(),
                plural: info.plural.clone(),
                namespaced: info.namespaced,
                subresources: info.subresources.clone(),
            }),
            // kubectl's RESTMapper never finds a name ambiguous: it takes the first by priority.
            Err(ResolveError::Unknown(_)) => Lookup::Unknown,
        }
    }
}

/// The attributes one access review carries: what is sent, and the key for asking once.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Attributes {
    /// `resourceAttributes`.
    Resource(ResourceAttributes),
    /// `nonResourceAttributes`.
    NonResource(NonResourceAttributes),
}

/// The resource attributes of a review ("" fields are omitted on the wire, as kubectl does).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ResourceAttributes {
    /// The namespace; "" for all namespaces or a cluster-scoped resource.
    pub namespace: String,
    /// The verb.
    pub verb: String,
    /// The API group.
    pub group: String,
    /// The plural resource.
    pub resource: String,
    /// The subresource.
    pub subresource: String,
    /// The object name.
    pub name: String,
}

/// The non-resource attributes of a review.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct NonResourceAttributes {
    /// The verb.
    pub verb: String,
    /// The URL path.
    pub path: String,
}

impl Attributes {
    /// The verb asked about.
    pub fn verb(&self) -> &str {
        match self {
            Attributes::Resource(r) => &r.verb,
            Attributes::NonResource(n) => &n.verb,
        }
    }

    /// The resource as shown in tables: `deployments.apps`, `pods/log`, or the URL.
    pub fn resource_label(&self) -> String {
        match self {
            Attributes::NonResource(n) => n.path.clone(),
            Attributes::Resource(r) => {
                let mut label = group_resource(&r.resource, &r.group);
                if !r.subresource.is_empty() {
                    label.push('/');
                    label.push_str(&r.subresource);
                }
                label
            }
        }
    }

    /// The object name ("" for any).
    pub fn name(&self) -> &str {
        match self {
            Attributes::Resource(r) => &r.name,
            Attributes::NonResource(_) => "",
        }
    }

    /// The namespace, `None` for a non-resource URL.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Attributes::Resource(r) => Some(&r.namespace),
            Attributes::NonResource(_) => None,
        }
    }
}

/// One check made concrete: which check it came from and what review answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Index of the check in the input.
    pub check: usize,
    /// The review attributes.
    pub attributes: Attributes,
}

/// The outcome of resolving all checks: reviews to send and warnings to print once each.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Concrete checks, in input order (a check may expand to one per default namespace).
    pub resolved: Vec<Resolved>,
    /// kubectl's warnings, without repeats, in the order first met.
    pub warnings: Vec<String>,
}

impl Resolution {
    fn warn(&mut self, message: String) {
        if !self.warnings.contains(&message) {
            self.warnings.push(message);
        }
    }
}

/// Resolves every check; `default_namespaces` is what a check without `-n`/`-A` means (the
/// connection's namespace, or each of `--namespaces a,b`).
/// An ambiguous resource name is an error naming the check and the candidates.
pub fn resolve(checks: &[Check], catalog: &dyn Catalog, default_namespaces: &[String]) -> Result<Resolution> {
    let mut resolution = Resolution::default();
    for (index, check) in checks.iter().enumerate() {
        if check.is_non_resource() {
            if !NON_RESOURCE_VERBS.contains(&check.verb.as_str()) {
                resolution.warn(format!("verb '{}' is not a known verb", check.verb));
            }
            resolution.resolved.push(Resolved {
                check: index,
                attributes: Attributes::NonResource(NonResourceAttributes {
                    verb: check.verb.clone(),
                    path: check.non_resource_url.clone(),
                }),
            });
            continue;
        }
        if !RESOURCE_VERBS.contains(&check.verb.as_str()) {
            resolution.warn(format!("verb '{}' is not a known verb", check.verb));
        }
        let (group, resource, namespaced) =
            resource_for(check, catalog, &mut resolution).with_context(|| check.origin.to_string())?;
        if !namespaced && let Scope::Named(_) = check.namespace {
            resolution.warn(format!(
                "resource '{}' is not namespace scoped: checked cluster-wide",
                group_resource(&resource, &group)
            ));
        }
        let namespaces: Vec<String> = if !namespaced {
            // A cluster-scoped resource is asked about cluster-wide: a namespace in the review
            // would let a RoleBinding there answer "yes" for something no namespace holds.
            vec![String::new()]
        } else {
            match &check.namespace {
                Scope::All => vec![String::new()],
                Scope::Named(ns) => vec![ns.clone()],
                Scope::Default => default_namespaces.to_vec(),
            }
        };
        for namespace in namespaces {
            resolution.resolved.push(Resolved {
                check: index,
                attributes: Attributes::Resource(ResourceAttributes {
                    namespace,
                    verb: check.verb.clone(),
                    group: group.clone(),
                    resource: resource.clone(),
                    subresource: check.subresource.clone(),
                    name: check.name.clone(),
                }),
            });
        }
    }
    Ok(resolution)
}

/// kubectl's `resourceFor`: the group, plural and scope a written resource means. An unknown
/// resource keeps its written name (split at the first '.' into resource and group) and is
/// treated as namespaced, so the review still carries the namespace given.
fn resource_for(check: &Check, catalog: &dyn Catalog, resolution: &mut Resolution) -> Result<(String, String, bool)> {
    let written = match &check.group {
        Some(group) if !group.is_empty() && !check.resource.ends_with(&format!(".{group}")) => {
            format!("{}.{group}", check.resource)
        }
        _ => check.resource.clone(),
    };
    if written == "*" {
        return Ok((check.group.clone().unwrap_or_default(), written, true));
    }
    let core_wanted = check.group.as_deref() == Some("");
    match catalog.lookup(&written.to_lowercase()) {
        Lookup::Found(known) if !core_wanted || known.group.is_empty() => {
            if !check.subresource.is_empty()
                && !known.subresources.is_empty()
                && !known.subresources.contains(&check.subresource)
            {
                resolution.warn(format!(
                    "the server doesn't have a subresource '{}' of resource '{}'",
                    check.subresource,
                    group_resource(&known.plural, &known.group)
                ));
            }
            return Ok((known.group, known.plural, known.namespaced));
        }
        Lookup::Ambiguous(candidates) => {
            bail!("resource type '{written}' is ambiguous: it matches {}; name one of them", candidates.join(", "))
        }
        Lookup::Found(_) | Lookup::Unknown => {}
    }
    let (resource, group) = match written.split_once('.') {
        Some((resource, group)) => (resource.to_string(), group.to_string()),
        None => (written.clone(), String::new()),
    };
    if !(group.is_empty() && UNDISCOVERABLE.contains(&resource.as_str())) {
        if group.is_empty() {
            resolution.warn(format!("the server doesn't have a resource type '{resource}'"));
        } else {
            resolution.warn(format!("the server doesn't have a resource type '{resource}' in group '{group}'"));
        }
    }
    Ok((group, resource, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Origin, parse_line};

    struct Fixed;

    impl Catalog for Fixed {
        fn lookup(&self, name: &str) -> Lookup {
            let known = |group: &str, plural: &str, namespaced: bool, subs: &[&str]| Known {
                group: group.into(),
                plural: plural.into(),
                namespaced,
                subresources: subs.iter().map(|s| s.to_string()).collect(),
            };
            match name {
                "pods" | "pod" | "po" => Lookup::Found(known("", "pods", true, &["log", "exec", "status"])),
                "deploy" | "deployments" | "deployment" | "deployments.apps" => {
                    Lookup::Found(known("apps", "deployments", true, &["scale", "status"]))
                }
                "nodes" | "no" => Lookup::Found(known("", "nodes", false, &["status"])),
                "widget" => Lookup::Ambiguous(vec!["widgets.a.io".into(), "widgets.b.io".into()]),
                _ => Lookup::Unknown,
            }
        }
    }

    fn run(lines: &[&str], defaults: &[&str]) -> Resolution {
        let checks: Vec<Check> = lines.iter().map(|l| parse_line(l, Origin::Matrix).unwrap()).collect();
        let defaults: Vec<String> = defaults.iter().map(|s| s.to_string()).collect();
        resolve(&checks, &Fixed, &defaults).unwrap()
    }

    fn resource(attributes: &Attributes) -> &ResourceAttributes {
        match attributes {
            Attributes::Resource(r) => r,
            Attributes::NonResource(_) => panic!("not a resource check"),
        }
    }

    #[test]
    fn short_names_resolve_to_group_and_plural() {
        let resolution = run(&["create Deploy -n a", "get po/log web -A"], &["default"]);
        assert!(resolution.warnings.is_empty(), "{:?}", resolution.warnings);
        let deploy = resource(&resolution.resolved[0].attributes);
        assert_eq!(
            (deploy.group.as_str(), deploy.resource.as_str(), deploy.namespace.as_str()),
            ("apps", "deployments", "a")
        );
        let logs = resource(&resolution.resolved[1].attributes);
        assert_eq!(
            (logs.resource.as_str(), logs.subresource.as_str(), logs.name.as_str(), logs.namespace.as_str()),
            ("pods", "log", "web", "")
        );
        assert_eq!(resolution.resolved[1].attributes.resource_label(), "pods/log");
        assert_eq!(resolution.resolved[0].attributes.resource_label(), "deployments.apps");
    }

    #[test]
    fn cluster_scoped_resources_ignore_the_namespace() {
        let resolution = run(&["list nodes -n a", "list no"], &["x", "y"]);
        assert_eq!(resolution.warnings, ["resource 'nodes' is not namespace scoped: checked cluster-wide"]);
        let namespaces: Vec<_> =
            resolution.resolved.iter().map(|r| resource(&r.attributes).namespace.clone()).collect();
        assert_eq!(namespaces, ["", ""]);
    }

    #[test]
    fn default_namespace_expands_to_each_given() {
        let resolution = run(&["get pods"], &["a", "b"]);
        let namespaces: Vec<_> =
            resolution.resolved.iter().map(|r| resource(&r.attributes).namespace.clone()).collect();
        assert_eq!(namespaces, ["a", "b"]);
        assert!(resolution.resolved.iter().all(|r| r.check == 0));
    }

    #[test]
    fn unknown_resources_and_verbs_warn_like_kubectl_and_are_still_checked() {
        let resolution = run(
            &[
                "get widgets -n a",
                "frob pods",
                "frob pods -n b",
                "list widgets.example.com",
                "impersonate users",
                "fetch /healthz",
            ],
            &["default"],
        );
        assert_eq!(
            resolution.warnings,
            [
                "the server doesn't have a resource type 'widgets'",
                "verb 'frob' is not a known verb",
                "the server doesn't have a resource type 'widgets' in group 'example.com'",
                "verb 'fetch' is not a known verb",
            ]
        );
        assert_eq!(resolution.resolved.len(), 6);
        let widgets = resource(&resolution.resolved[0].attributes);
        assert_eq!((widgets.resource.as_str(), widgets.namespace.as_str()), ("widgets", "a"));
        let grouped = resource(&resolution.resolved[3].attributes);
        assert_eq!((grouped.group.as_str(), grouped.resource.as_str()), ("example.com", "widgets"));
    }

    #[test]
    fn unknown_subresource_warns() {
        let resolution = run(&["get pods/logs"], &["a"]);
        assert_eq!(resolution.warnings, ["the server doesn't have a subresource 'logs' of resource 'pods'"]);
    }

    #[test]
    fn ambiguous_names_are_an_error_naming_the_check() {
        let check = parse_line("get widget", Origin::Flag("get widget".into())).unwrap();
        let message = format!("{:#}", resolve(&[check], &Fixed, &["a".to_string()]).unwrap_err());
        assert_eq!(
            message,
            "--check \"get widget\": resource type 'widget' is ambiguous: it matches widgets.a.io, widgets.b.io; name one of them"
        );
    }

    #[test]
    fn star_is_every_resource_and_namespaced() {
        let resolution = run(&["* *"], &["a"]);
        assert!(resolution.warnings.is_empty());
        let star = resource(&resolution.resolved[0].attributes);
        assert_eq!((star.resource.as_str(), star.group.as_str(), star.namespace.as_str()), ("*", "", "a"));
    }

    #[test]
    fn explicit_group_joins_the_resource() {
        let mut check = parse_line("list deployments", Origin::Matrix).unwrap();
        check.group = Some("apps".into());
        let resolution = resolve(&[check], &Fixed, &["a".to_string()]).unwrap();
        assert!(resolution.warnings.is_empty());
        assert_eq!(resource(&resolution.resolved[0].attributes).group, "apps");
    }
}
