//! Admission rules (`rules` of webhooks, `resourceRules` of policies) and whether a request
//! matches them, following the API server's `rules.Matcher`.

use serde::{Deserialize, Serialize};

use crate::plan::Operation;
use kubeplug::discovery::group_resource;

/// A `RuleWithOperations` (webhooks) or `NamedRuleWithOperations` (policies).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT` or `*`.
    #[serde(default)]
    pub operations: Vec<String>,
    /// API groups (`""` is core), or `*`.
    #[serde(default)]
    pub api_groups: Vec<String>,
    /// API versions, or `*`.
    #[serde(default)]
    pub api_versions: Vec<String>,
    /// `pods`, `pods/status`, `*`, `*/*`, `pods/*`, `*/scale`.
    #[serde(default)]
    pub resources: Vec<String>,
    /// `Cluster`, `Namespaced` or `*` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Policies only: object names the rule is limited to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
}

/// The request being matched, resolved through discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The admission operation.
    pub operation: Operation,
    /// API group, `""` for core.
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource name.
    pub resource: String,
    /// Subresource, `""` for none.
    pub subresource: String,
    /// Whether the resource lives in namespaces.
    pub namespaced: bool,
}

impl Target {
    /// `deployments.apps`, `pods/exec`: how the request's resource is shown.
    pub fn describe_resource(&self) -> String {
        let base = group_resource(&self.resource, &self.group);
        if self.subresource.is_empty() { base } else { format!("{base}/{}", self.subresource) }
    }
}

/// How a rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleMatch {
    /// The request's own group/version matches.
    Exact,
    /// Only another version of the same resource is named; matchPolicy Equivalent makes the
    /// API server convert the request and call the webhook anyway.
    EquivalentVersion,
}

fn listed(values: &[String], wanted: &str) -> bool {
    values.iter().any(|v| v == "*" || v == wanted)
}

impl Rule {
    /// Whether the operation, group, resource (with subresource) and scope match, whatever the
    /// version.
    fn matches_except_version(&self, t: &Target) -> bool {
        listed(&self.operations, t.operation.as_str())
            && listed(&self.api_groups, &t.group)
            && self.resources.iter().any(|r| {
                // The API server's splitResource: `pods` is ("pods", ""), `*` is ("*", ""), so
                // `*` leaves subresources out while `*/*` and `pods/*` take them in.
                let (res, sub) = r.split_once('/').unwrap_or((r, ""));
                (res == "*" || res == t.resource) && (sub == "*" || sub == t.subresource)
            })
            && match self.scope.as_deref() {
                None | Some("*") => true,
                Some("Cluster") => !t.namespaced,
                Some("Namespaced") => t.namespaced,
                Some(_) => false,
            }
    }

    /// Whether the rule matches the request; `equivalent` (matchPolicy Equivalent, the default)
    /// also accepts a rule naming another version of the same resource.
    pub fn matches(&self, t: &Target, equivalent: bool) -> Option<RuleMatch> {
        if !self.matches_except_version(t) {
            return None;
        }
        if listed(&self.api_versions, &t.version) {
            Some(RuleMatch::Exact)
        } else if equivalent {
            Some(RuleMatch::EquivalentVersion)
        } else {
            None
        }
    }

    /// `CREATE,UPDATE apps/v1 deployments`: the rule on one line.
    pub fn describe(&self) -> String {
        let groups: Vec<&str> = self.api_groups.iter().map(|g| if g.is_empty() { "core" } else { g }).collect();
        let mut out = format!(
            "{} {}/{} {}",
            self.operations.join(","),
            groups.join(","),
            self.api_versions.join(","),
            self.resources.join(",")
        );
        if let Some(scope) = self.scope.as_deref().filter(|s| *s != "*") {
            out.push_str(&format!(" ({scope})"));
        }
        if !self.resource_names.is_empty() {
            out.push_str(&format!(" names={}", self.resource_names.join(",")));
        }
        out
    }
}

/// The operations of all rules, de-duplicated in order (`CREATE,UPDATE`, `*`).
pub fn operations(rules: &[Rule]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for op in rules.iter().flat_map(|r| &r.operations) {
        if !out.contains(op) {
            out.push(op.clone());
        }
    }
    out
}

/// The resources of all rules as `resource.group` (`deployments.apps`, `pods`, `*.*`).
pub fn resources(rules: &[Rule]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rule in rules {
        for group in &rule.api_groups {
            for resource in &rule.resources {
                let name = group_resource(resource, group);
                if !out.contains(&name) {
                    out.push(name);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(ops: &[&str], groups: &[&str], versions: &[&str], resources: &[&str], scope: Option<&str>) -> Rule {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        Rule {
            operations: v(ops),
            api_groups: v(groups),
            api_versions: v(versions),
            resources: v(resources),
            scope: scope.map(String::from),
            resource_names: Vec::new(),
        }
    }

    fn target(op: Operation, group: &str, resource: &str, sub: &str, namespaced: bool) -> Target {
        Target {
            operation: op,
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            subresource: sub.into(),
            namespaced,
        }
    }

    #[test]
    fn operations_groups_versions_and_resources_accept_wildcards() {
        let deploy = target(Operation::Create, "apps", "deployments", "", true);
        assert_eq!(
            rule(&["CREATE"], &["apps"], &["v1"], &["deployments"], None).matches(&deploy, false),
            Some(RuleMatch::Exact)
        );
        assert!(rule(&["*"], &["*"], &["*"], &["*"], None).matches(&deploy, false).is_some());
        assert!(rule(&["UPDATE"], &["apps"], &["v1"], &["deployments"], None).matches(&deploy, true).is_none());
        assert!(rule(&["CREATE"], &[""], &["v1"], &["deployments"], None).matches(&deploy, true).is_none());
        assert!(rule(&["CREATE"], &["apps"], &["v1"], &["replicasets"], None).matches(&deploy, true).is_none());
    }

    #[test]
    fn subresources_follow_the_api_servers_split() {
        let exec = target(Operation::Connect, "", "pods", "exec", true);
        let pods = target(Operation::Connect, "", "pods", "", true);
        let r = |res: &str| rule(&["*"], &[""], &["v1"], &[res], None);
        assert!(r("*").matches(&exec, false).is_none(), "* leaves subresources out");
        assert!(r("*").matches(&pods, false).is_some());
        assert!(r("*/*").matches(&exec, false).is_some());
        assert!(r("pods/*").matches(&exec, false).is_some());
        assert!(r("pods/*").matches(&pods, false).is_some());
        assert!(r("*/exec").matches(&exec, false).is_some());
        assert!(r("pods/exec").matches(&exec, false).is_some());
        assert!(r("pods/log").matches(&exec, false).is_none());
        assert!(r("pods").matches(&exec, false).is_none());
    }

    #[test]
    fn scope_separates_cluster_and_namespaced_resources() {
        let node = target(Operation::Update, "", "nodes", "", false);
        let pod = target(Operation::Update, "", "pods", "", true);
        let r = |scope| rule(&["*"], &[""], &["*"], &["*"], Some(scope));
        assert!(r("Cluster").matches(&node, false).is_some());
        assert!(r("Cluster").matches(&pod, false).is_none());
        assert!(r("Namespaced").matches(&pod, false).is_some());
        assert!(r("Namespaced").matches(&node, false).is_none());
        assert!(r("*").matches(&node, false).is_some());
    }

    #[test]
    fn equivalent_match_policy_accepts_other_versions() {
        let deploy = target(Operation::Create, "apps", "deployments", "", true);
        let old = rule(&["CREATE"], &["apps"], &["v1beta1"], &["deployments"], None);
        assert_eq!(old.matches(&deploy, true), Some(RuleMatch::EquivalentVersion));
        assert_eq!(old.matches(&deploy, false), None);
    }

    #[test]
    fn rules_read_compactly() {
        let rules = [
            rule(&["CREATE", "UPDATE"], &["apps"], &["v1"], &["deployments", "replicasets"], Some("Namespaced")),
            rule(&["CREATE"], &[""], &["v1"], &["pods"], None),
        ];
        assert_eq!(operations(&rules), ["CREATE", "UPDATE"]);
        assert_eq!(resources(&rules), ["deployments.apps", "replicasets.apps", "pods"]);
        assert_eq!(rules[0].describe(), "CREATE,UPDATE apps/v1 deployments,replicasets (Namespaced)");
        assert_eq!(rules[1].describe(), "CREATE core/v1 pods");
    }
}
