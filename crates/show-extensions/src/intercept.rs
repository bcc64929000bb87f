//! `--for`: which admission webhooks and policies would intercept one request, and why.
//!
//! A webhook intercepts a request when one of its rules matches (operation, group, version,
//! resource and subresource, scope; matchPolicy Equivalent also takes other versions), and its
//! namespaceSelector matches the labels of the request's namespace. An objectSelector or
//! matchConditions make the answer depend on the object, which this cannot know.

use anyhow::Context as _;
use kubeplug::discovery::{Discovery, group_resource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::admission::{self, Health, MatchResources, PolicyInfo, Webhook, WebhookType};
use crate::plan::RequestSpec;
use crate::resources;
use crate::rules::{Rule, RuleMatch, Target};
use crate::section::Section;
use crate::selector::LabelSelector;

/// The labels of the request's namespace, as far as they could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceLabels {
    /// The resource is cluster-scoped: namespaceSelectors do not apply.
    ClusterScoped,
    /// The namespace's labels.
    Known(String, BTreeMap<String, String>),
    /// The namespace could not be read: why.
    Unknown(String, String),
}

/// Whether the request is intercepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// Yes, whatever the object.
    Yes,
    /// Depends on the object (objectSelector, matchConditions, resourceNames, unknown labels).
    Depends,
}

/// A webhook or policy that would intercept the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Interception {
    /// `MutatingWebhook`, `ValidatingWebhook` or `ValidatingAdmissionPolicy`.
    pub kind: &'static str,
    /// The webhook configuration, or the policy.
    pub configuration: String,
    /// The webhook, or the policy's bindings that apply.
    pub name: String,
    /// Yes, or depends on the object.
    pub intercepts: Verdict,
    /// `Fail` or `Ignore`.
    pub failure_policy: String,
    /// Webhooks: their backend's health.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<Health>,
    /// failurePolicy Fail and a backend that is down: the request is rejected.
    pub risk: bool,
    /// Why it matches, and what it depends on.
    pub reasons: Vec<String>,
}

/// The `--for` answer (the `-o json|yaml` document, `kind: AdmissionInterception`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `kubeplug.io/v1alpha1`.
    pub api_version: &'static str,
    /// `AdmissionInterception`.
    pub kind: &'static str,
    /// The request, resolved.
    pub request: RequestInfo,
    /// What intercepts it, mutating webhooks first (the order admission runs them).
    pub intercepted_by: Vec<Interception>,
    /// Sources that could not be read (printed as warnings).
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// The request as resolved through discovery.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestInfo {
    /// `CREATE`, ...
    pub operation: String,
    /// API group.
    pub group: String,
    /// Version.
    pub version: String,
    /// Resource.
    pub resource: String,
    /// Subresource.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
    /// Namespace, for namespaced resources.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl RequestInfo {
    /// `CREATE deployments.apps (apps/v1) in namespace shop`.
    pub fn describe(&self) -> String {
        let (resource, version) = if self.group.is_empty() {
            (self.resource.clone(), self.version.clone())
        } else {
            (group_resource(&self.resource, &self.group), format!("{}/{}", self.group, self.version))
        };
        let sub = if self.subresource.is_empty() { String::new() } else { format!("/{}", self.subresource) };
        let ns = self.namespace.as_deref().map(|n| format!(" in namespace {n}")).unwrap_or_default();
        format!("{} {resource}{sub} ({version}){ns}", self.operation)
    }
}

/// Resolves the request's resource through discovery (`deploy`, `pods/exec`); the namespace
/// defaults to `default_namespace` for namespaced resources.
pub fn resolve(
    spec: &RequestSpec,
    discovery: &Discovery,
    default_namespace: &str,
) -> anyhow::Result<(Target, RequestInfo)> {
    let (info, sub) = discovery.resolve_with_subresource(&spec.resource).context("--for")?;
    let target = Target {
        operation: spec.operation,
        group: info.group.clone(),
        version: info.version.clone(),
        resource: info.plural.clone(),
        subresource: sub.unwrap_or_default(),
        namespaced: info.namespaced,
    };
    let namespace = info.namespaced.then(|| spec.namespace.clone().unwrap_or_else(|| default_namespace.to_string()));
    let request = RequestInfo {
        operation: spec.operation.as_str().to_string(),
        group: target.group.clone(),
        version: target.version.clone(),
        resource: target.resource.clone(),
        subresource: target.subresource.clone(),
        namespace,
    };
    Ok((target, request))
}

#[derive(Deserialize)]
struct NamespaceObject {
    #[serde(default)]
    metadata: crate::api::Meta,
}

/// Reads the labels of the request's namespace. The API server labels every namespace with
/// `kubernetes.io/metadata.name`, which selectors often use; it is added when missing.
pub async fn namespace_labels(client: &kube::Client, namespace: Option<&str>) -> NamespaceLabels {
    let Some(ns) = namespace else {
        return NamespaceLabels::ClusterScoped;
    };
    match resources::get::<NamespaceObject>(client, &resources::namespaces(), None, ns).await {
        Ok(Some(object)) => {
            let mut labels = object.metadata.labels;
            labels.entry("kubernetes.io/metadata.name".into()).or_insert_with(|| ns.to_string());
            NamespaceLabels::Known(ns.to_string(), labels)
        }
        Ok(None) => NamespaceLabels::Unknown(ns.to_string(), format!("namespace {ns:?} not found")),
        Err(e) => NamespaceLabels::Unknown(ns.to_string(), kubeplug::error::describe(&e).message),
    }
}

/// What a webhook's or policy's matching fields are.
struct Matcher<'a> {
    rules: &'a [Rule],
    excludes: &'a [Rule],
    equivalent: bool,
    namespace_selector: Option<&'a LabelSelector>,
    object_selector: Option<&'a LabelSelector>,
    match_conditions: usize,
}

impl Matcher<'_> {
    /// `None` when it does not intercept; else the verdict and the reasons.
    fn evaluate(&self, target: &Target, ns: &NamespaceLabels) -> Option<(Verdict, Vec<String>)> {
        let mut reasons = Vec::new();
        let mut verdict = Verdict::Yes;
        let (rule, how) = self
            .rules
            .iter()
            .find_map(|r| r.matches(target, false).map(|m| (r, m)))
            .or_else(|| self.rules.iter().find_map(|r| r.matches(target, self.equivalent).map(|m| (r, m))))?;
        match how {
            RuleMatch::Exact => reasons.push(format!("rule {}", rule.describe())),
            RuleMatch::EquivalentVersion => {
                reasons.push(format!("rule {} (another version; matchPolicy Equivalent)", rule.describe()))
            }
        }
        if !rule.resource_names.is_empty() {
            verdict = Verdict::Depends;
            reasons.push(format!("only objects named {}", rule.resource_names.join(",")));
        }
        if self.excludes.iter().any(|r| r.matches(target, false).is_some() && r.resource_names.is_empty()) {
            return None;
        }
        if let Some(selector) = self.namespace_selector.filter(|s| !s.is_empty()) {
            let sel = selector.compact();
            if target.group.is_empty() && target.resource == "namespaces" {
                verdict = Verdict::Depends;
                reasons.push(format!("namespaceSelector {sel}: evaluated on the Namespace object's labels"));
            } else {
                match ns {
                    NamespaceLabels::ClusterScoped => {}
                    NamespaceLabels::Known(name, labels) if selector.matches(labels) => {
                        reasons.push(format!("namespaceSelector {sel} matches namespace {name}"))
                    }
                    NamespaceLabels::Known(..) => return None,
                    NamespaceLabels::Unknown(name, why) => {
                        verdict = Verdict::Depends;
                        reasons.push(format!("namespaceSelector {sel}: labels of namespace {name} unknown ({why})"));
                    }
                }
            }
        }
        if let Some(selector) = self.object_selector.filter(|s| !s.is_empty()) {
            verdict = Verdict::Depends;
            reasons.push(format!("objectSelector {}: depends on the object", selector.compact()));
        }
        if self.match_conditions > 0 {
            verdict = Verdict::Depends;
            reasons.push(format!("{} matchConditions (CEL): depends on the request", self.match_conditions));
        }
        Some((verdict, reasons))
    }
}

fn webhook_matcher(w: &Webhook) -> Matcher<'_> {
    Matcher {
        rules: &w.rules,
        excludes: &[],
        equivalent: w.equivalent(),
        namespace_selector: w.namespace_selector.as_ref(),
        object_selector: w.object_selector.as_ref(),
        match_conditions: w.match_conditions.len(),
    }
}

fn resources_matcher(m: &MatchResources, match_conditions: usize) -> Matcher<'_> {
    Matcher {
        rules: &m.resource_rules,
        excludes: &m.exclude_resource_rules,
        equivalent: m.equivalent(),
        namespace_selector: m.namespace_selector.as_ref(),
        object_selector: m.object_selector.as_ref(),
        match_conditions,
    }
}

/// The webhooks that intercept the request (their backends not checked yet).
pub fn matching_webhooks<'a>(
    configurations: &'a admission::Configurations,
    target: &Target,
    ns: &NamespaceLabels,
) -> Vec<(WebhookType, &'a str, &'a Webhook, Verdict, Vec<String>)> {
    configurations
        .webhooks()
        .filter_map(|(t, config, w)| {
            let (verdict, reasons) = webhook_matcher(w).evaluate(target, ns)?;
            Some((t, config, w, verdict, reasons))
        })
        .collect()
}

/// The policies that intercept the request through at least one binding.
pub fn matching_policies(policies: &[PolicyInfo], target: &Target, ns: &NamespaceLabels) -> Vec<Interception> {
    let mut out = Vec::new();
    for policy in policies {
        let Some((mut verdict, mut reasons)) =
            resources_matcher(&policy.match_constraints, policy.match_conditions.len()).evaluate(target, ns)
        else {
            continue;
        };
        let mut bound = Vec::new();
        let mut binding_verdict = None;
        for binding in &policy.bindings {
            let result = match &binding.match_resources {
                // A binding's matchResources narrows the policy's; without rules of its own it
                // narrows by its selectors only, and the policy's rule (already named) applies.
                Some(m)
                    if !m.resource_rules.is_empty()
                        || m.namespace_selector.is_some()
                        || m.object_selector.is_some() =>
                {
                    if m.resource_rules.is_empty() {
                        let narrowed = MatchResources {
                            resource_rules: policy.match_constraints.resource_rules.clone(),
                            ..m.clone()
                        };
                        resources_matcher(&narrowed, 0).evaluate(target, ns).map(|(v, mut why)| {
                            why.remove(0);
                            (v, why)
                        })
                    } else {
                        resources_matcher(m, 0).evaluate(target, ns)
                    }
                }
                _ => Some((Verdict::Yes, Vec::new())),
            };
            if let Some((v, why)) = result {
                bound.push(format!("{} ({})", binding.name, binding.validation_actions.join(",")));
                reasons.extend(why.into_iter().map(|w| format!("binding {}: {w}", binding.name)));
                binding_verdict = Some(match (binding_verdict, v) {
                    (Some(Verdict::Yes), _) | (_, Verdict::Yes) => Verdict::Yes,
                    _ => Verdict::Depends,
                });
            }
        }
        let Some(bv) = binding_verdict else {
            continue;
        };
        if bv == Verdict::Depends {
            verdict = Verdict::Depends;
        }
        out.push(Interception {
            kind: "ValidatingAdmissionPolicy",
            configuration: policy.name.clone(),
            name: bound.join(","),
            intercepts: verdict,
            failure_policy: policy.failure_policy.clone(),
            backend: None,
            risk: false,
            reasons,
        });
    }
    out
}

/// Answers `--for`: lists webhooks (and policies when served), checks the backends of the
/// webhooks that match, and orders the answer as admission runs: mutating, validating, policies.
pub async fn answer(
    client: &kube::Client,
    discovery: &Discovery,
    spec: &RequestSpec,
    default_namespace: &str,
    concurrency: usize,
) -> anyhow::Result<Report> {
    let (target, request) = resolve(spec, discovery, default_namespace)?;
    let policies_served =
        crate::map::serves(discovery, "admissionregistration.k8s.io", "v1", "validatingadmissionpolicies");
    let slices = crate::map::serves(discovery, "discovery.k8s.io", "v1", "endpointslices");
    let (ns, configurations, policies) = tokio::join!(
        namespace_labels(client, request.namespace.as_deref()),
        async { Section::from_result(admission::list_configurations(client).await) },
        async {
            match policies_served {
                true => Some(Section::from_result(admission::policies(client).await)),
                false => None,
            }
        },
    );
    let mut notes = Vec::new();
    if let NamespaceLabels::Unknown(_, why) = &ns {
        notes.push(format!("namespaceSelectors cannot be evaluated: {why}"));
    }
    let mut intercepted_by = Vec::new();
    let mut unreadable = Vec::new();
    match &configurations {
        Section::Ready(configs) => {
            let matched = matching_webhooks(configs, &target, &ns);
            let mut subset = admission::Configurations::default();
            for (t, config, w, _, _) in &matched {
                subset.push(*t, config, (*w).clone());
            }
            let checked = admission::with_health(client, &subset, slices, concurrency).await;
            for ((t, config, w, verdict, reasons), info) in matched.into_iter().zip(checked) {
                intercepted_by.push(Interception {
                    kind: match t {
                        WebhookType::Mutating => "MutatingWebhook",
                        WebhookType::Validating => "ValidatingWebhook",
                    },
                    configuration: config.to_string(),
                    name: w.name.clone(),
                    intercepts: verdict,
                    failure_policy: w.failure_policy().to_string(),
                    backend: Some(info.backend),
                    risk: info.risk,
                    reasons,
                });
            }
        }
        Section::Forbidden(m) | Section::Failed(m) => {
            unreadable.push(format!("cannot read webhook configurations: {m}"))
        }
    }
    match &policies {
        Some(Section::Ready(list)) => {
            intercepted_by.extend(matching_policies(list, &target, &ns));
        }
        Some(Section::Forbidden(m) | Section::Failed(m)) => {
            unreadable.push(format!("cannot read ValidatingAdmissionPolicies: {m}"))
        }
        None => {}
    }
    let sources = 1 + usize::from(policies.is_some());
    if unreadable.len() == sources {
        anyhow::bail!("{}", unreadable.join("; "));
    }
    notes.extend(unreadable);
    Ok(Report { api_version: crate::map::API_VERSION, kind: "AdmissionInterception", request, intercepted_by, notes })
}
