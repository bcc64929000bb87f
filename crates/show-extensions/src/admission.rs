//! Admission: every webhook of the Mutating and Validating webhook configurations with the
//! health of its backend, and ValidatingAdmissionPolicies with their bindings.

use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::api::{ClientConfig, Meta, ServiceRef};
use crate::resources;
use crate::rules::Rule;
use crate::selector::LabelSelector;

/// A webhook as its configuration declares it (the fields the map shows).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// Webhook name (`validate.example.com`).
    pub name: String,
    /// Where it is called.
    #[serde(default)]
    pub client_config: ClientConfig,
    /// What it intercepts.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// `Fail` (the default) or `Ignore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_policy: Option<String>,
    /// `Equivalent` (the default) or `Exact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_policy: Option<String>,
    /// Which namespaces' requests it sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Which objects it sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_selector: Option<LabelSelector>,
    /// `None`, `NoneOnDryRun`, `Some`, `Unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side_effects: Option<String>,
    /// Call timeout (10 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i32>,
    /// Mutating webhooks: `Never` or `IfNeeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reinvocation_policy: Option<String>,
    /// CEL conditions that further limit the calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_conditions: Vec<MatchCondition>,
}

/// A CEL match condition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct MatchCondition {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// CEL expression.
    #[serde(default)]
    pub expression: String,
}

impl Webhook {
    /// The failure policy in effect (`Fail` when unset, the v1 default).
    pub fn failure_policy(&self) -> &str {
        self.failure_policy.as_deref().unwrap_or("Fail")
    }

    /// The timeout in effect (10s when unset, the v1 default).
    pub fn timeout(&self) -> i32 {
        self.timeout_seconds.unwrap_or(10)
    }

    /// Whether matchPolicy is Equivalent (the v1 default).
    pub fn equivalent(&self) -> bool {
        self.match_policy.as_deref() != Some("Exact")
    }
}

#[derive(Deserialize)]
struct WebhookConfiguration {
    metadata: Meta,
    #[serde(default)]
    webhooks: Vec<Webhook>,
}

/// Which kind of configuration a webhook belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum WebhookType {
    /// A MutatingWebhookConfiguration (called first).
    Mutating,
    /// A ValidatingWebhookConfiguration.
    Validating,
}

impl WebhookType {
    /// `mutating` / `validating`, as tables show it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mutating => "mutating",
            Self::Validating => "validating",
        }
    }

    /// `MutatingWebhookConfiguration` / `ValidatingWebhookConfiguration`.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Mutating => "MutatingWebhookConfiguration",
            Self::Validating => "ValidatingWebhookConfiguration",
        }
    }
}

/// The health of a webhook's backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum Health {
    /// The Service has ready endpoints.
    #[serde(rename_all = "camelCase")]
    Ready {
        /// How many.
        ready_endpoints: usize,
    },
    /// The Service exists but no endpoint is ready: calls fail.
    NoReadyEndpoints,
    /// The Service does not exist: calls fail.
    ServiceMissing,
    /// An ExternalName Service: its target is outside the cluster, not checked.
    ExternalName,
    /// Called by URL: outside the cluster, not checked.
    Url,
    /// Could not be checked.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl Health {
    /// Whether calls to this backend are bound to fail.
    pub fn is_down(&self) -> bool {
        matches!(self, Health::NoReadyEndpoints | Health::ServiceMissing)
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Health::Ready { ready_endpoints } => write!(f, "{ready_endpoints} ready"),
            Health::NoReadyEndpoints => f.write_str("no ready endpoints"),
            Health::ServiceMissing => f.write_str("service missing"),
            Health::ExternalName => f.write_str("external name, not checked"),
            Health::Url => f.write_str("url, not checked"),
            Health::Unknown { .. } => f.write_str("unknown"),
        }
    }
}

/// One webhook of the map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookInfo {
    /// Mutating or Validating.
    #[serde(rename = "type")]
    pub webhook_type: WebhookType,
    /// The configuration's name.
    pub configuration: String,
    /// The webhook as declared.
    #[serde(flatten)]
    pub webhook: Webhook,
    /// Its backend's health.
    pub backend: Health,
    /// failurePolicy Fail and a backend that is down: the requests it intercepts are rejected.
    pub risk: bool,
}

/// The webhook configurations, as listed (before the backends are checked).
#[derive(Debug, Clone, Default)]
pub struct Configurations {
    webhooks: Vec<(WebhookType, String, Webhook)>,
}

impl Configurations {
    /// Every webhook: mutating ones first (the order admission calls them), by configuration name.
    pub fn webhooks(&self) -> impl Iterator<Item = (WebhookType, &str, &Webhook)> {
        self.webhooks.iter().map(|(t, c, w)| (*t, c.as_str(), w))
    }

    /// Adds a webhook (e.g. to check the backends of a subset).
    pub fn push(&mut self, webhook_type: WebhookType, configuration: &str, webhook: Webhook) {
        self.webhooks.push((webhook_type, configuration.to_string(), webhook));
    }
}

/// Lists both kinds of webhook configuration, concurrently.
pub async fn list_configurations(client: &kube::Client) -> anyhow::Result<Configurations> {
    let params = ListParams::default();
    let (mutating_resource, validating_resource) = (resources::mutating_webhooks(), resources::validating_webhooks());
    let (mutating, validating) = tokio::try_join!(
        resources::list::<WebhookConfiguration>(client, &mutating_resource, None, &params),
        resources::list::<WebhookConfiguration>(client, &validating_resource, None, &params),
    )?;
    let mut webhooks = Vec::new();
    for (webhook_type, configs) in [(WebhookType::Mutating, mutating), (WebhookType::Validating, validating)] {
        for config in configs {
            for webhook in config.webhooks {
                webhooks.push((webhook_type, config.metadata.name.clone(), webhook));
            }
        }
    }
    Ok(Configurations { webhooks })
}

/// Checks each distinct backend Service once (concurrently, bounded) and returns the webhooks
/// with their health and risk.
pub async fn with_health(
    client: &kube::Client,
    configurations: &Configurations,
    slices: bool,
    concurrency: usize,
) -> Vec<WebhookInfo> {
    let services: BTreeSet<(String, String)> = configurations
        .webhooks()
        .filter_map(|(_, _, w)| w.client_config.service.as_ref())
        .map(|s| (s.namespace.clone(), s.name.clone()))
        .collect();
    let checked = kubeplug::concurrency::bounded(services, concurrency, |(ns, name)| async move {
        let health = service_health(client, &ns, &name, slices).await;
        ((ns, name), health)
    })
    .await;
    let health: BTreeMap<(String, String), Health> = checked.into_iter().collect();
    configurations
        .webhooks()
        .map(|(webhook_type, configuration, webhook)| {
            let backend = match &webhook.client_config.service {
                Some(ServiceRef { namespace, name, .. }) => health
                    .get(&(namespace.clone(), name.clone()))
                    .cloned()
                    .unwrap_or(Health::Unknown { reason: "not checked".into() }),
                None => Health::Url,
            };
            let risk = webhook.failure_policy() == "Fail" && backend.is_down();
            WebhookInfo {
                webhook_type,
                configuration: configuration.to_string(),
                webhook: webhook.clone(),
                backend,
                risk,
            }
        })
        .collect()
}

#[derive(Deserialize)]
struct LeanService {
    #[serde(default)]
    spec: LeanServiceSpec,
}

#[derive(Deserialize, Default)]
struct LeanServiceSpec {
    #[serde(rename = "type", default)]
    service_type: Option<String>,
}

#[derive(Deserialize)]
struct LeanSlice {
    #[serde(default)]
    endpoints: Vec<SliceEndpoint>,
}

#[derive(Deserialize)]
struct SliceEndpoint {
    #[serde(default)]
    conditions: SliceConditions,
}

#[derive(Deserialize, Default)]
struct SliceConditions {
    #[serde(default)]
    ready: Option<bool>,
}

#[derive(Deserialize)]
struct LeanEndpoints {
    #[serde(default)]
    subsets: Vec<Subset>,
}

#[derive(Deserialize)]
struct Subset {
    #[serde(default)]
    addresses: Vec<serde_json::Value>,
}

/// Whether the Service exists and how many of its endpoints are ready.
pub async fn service_health(client: &kube::Client, namespace: &str, name: &str, slices: bool) -> Health {
    let unknown = |e: anyhow::Error| Health::Unknown { reason: kubeplug::error::describe(&e).message };
    let service = match resources::get::<LeanService>(client, &resources::services(), Some(namespace), name).await {
        Ok(Some(service)) => service,
        Ok(None) => return Health::ServiceMissing,
        Err(e) => return unknown(e),
    };
    if service.spec.service_type.as_deref() == Some("ExternalName") {
        return Health::ExternalName;
    }
    match ready_endpoints(client, namespace, name, slices).await {
        Ok(0) => Health::NoReadyEndpoints,
        Ok(n) => Health::Ready { ready_endpoints: n },
        Err(e) => unknown(e),
    }
}

/// Ready endpoints from the Service's EndpointSlices (an endpoint with no ready condition counts
/// as ready, as the API documents); from its Endpoints when slices are not served or readable,
/// or when the Service has none (Endpoints written by hand, before any mirroring).
async fn ready_endpoints(client: &kube::Client, namespace: &str, name: &str, slices: bool) -> anyhow::Result<usize> {
    if slices {
        let params = ListParams::default().labels(&format!("kubernetes.io/service-name={name}"));
        match resources::list::<LeanSlice>(client, &resources::endpoint_slices(), Some(namespace), &params).await {
            Ok(found) if found.is_empty() => {}
            Ok(found) => {
                return Ok(found
                    .iter()
                    .flat_map(|s| &s.endpoints)
                    .filter(|e| e.conditions.ready != Some(false))
                    .count());
            }
            Err(e) if kubeplug::error::api_code(&e) == Some(403) => {}
            Err(e) => return Err(e),
        }
    }
    let endpoints = resources::get::<LeanEndpoints>(client, &resources::endpoints(), Some(namespace), name).await?;
    Ok(endpoints.map(|e| e.subsets.iter().map(|s| s.addresses.len()).sum()).unwrap_or(0))
}

/// What a policy or binding matches (`matchConstraints`, `matchResources`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResources {
    /// Namespaces whose requests it sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    /// Objects it sees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_selector: Option<LabelSelector>,
    /// Requests it intercepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_rules: Vec<Rule>,
    /// Requests it leaves out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_resource_rules: Vec<Rule>,
    /// `Equivalent` (the default) or `Exact`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_policy: Option<String>,
}

impl MatchResources {
    /// Whether matchPolicy is Equivalent (the default).
    pub fn equivalent(&self) -> bool {
        self.match_policy.as_deref() != Some("Exact")
    }
}

#[derive(Deserialize)]
struct PolicyObject {
    metadata: Meta,
    #[serde(default)]
    spec: PolicySpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PolicySpec {
    #[serde(default)]
    failure_policy: Option<String>,
    #[serde(default)]
    match_constraints: Option<MatchResources>,
    #[serde(default)]
    validations: Vec<serde_json::Value>,
    #[serde(default)]
    param_kind: Option<ParamKind>,
    #[serde(default)]
    match_conditions: Vec<MatchCondition>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ParamKind {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
}

#[derive(Deserialize)]
struct BindingObject {
    metadata: Meta,
    #[serde(default)]
    spec: BindingSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct BindingSpec {
    #[serde(default)]
    policy_name: String,
    #[serde(default)]
    validation_actions: Vec<String>,
    #[serde(default)]
    match_resources: Option<MatchResources>,
}

/// A binding of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    /// Binding name.
    pub name: String,
    /// `Deny`, `Warn`, `Audit`.
    pub validation_actions: Vec<String>,
    /// Further limits on what the binding applies to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub match_resources: Option<MatchResources>,
}

/// A ValidatingAdmissionPolicy with its bindings (a policy without one has no effect).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInfo {
    /// Policy name.
    pub name: String,
    /// `Fail` (the default) or `Ignore`.
    pub failure_policy: String,
    /// How many CEL validations.
    pub validations: usize,
    /// What it matches.
    pub match_constraints: MatchResources,
    /// CEL conditions that further limit it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_conditions: Vec<MatchCondition>,
    /// `Kind` (`apiVersion`) of its parameters, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param_kind: Option<String>,
    /// Its bindings.
    pub bindings: Vec<Binding>,
}

/// Lists ValidatingAdmissionPolicies and their bindings, concurrently.
pub async fn policies(client: &kube::Client) -> anyhow::Result<Vec<PolicyInfo>> {
    let params = ListParams::default();
    let (policy_resource, binding_resource) = (resources::admission_policies(), resources::admission_policy_bindings());
    let (policies, bindings) = tokio::try_join!(
        resources::list::<PolicyObject>(client, &policy_resource, None, &params),
        resources::list::<BindingObject>(client, &binding_resource, None, &params),
    )?;
    Ok(policies
        .into_iter()
        .map(|p| PolicyInfo {
            bindings: bindings
                .iter()
                .filter(|b| b.spec.policy_name == p.metadata.name)
                .map(|b| Binding {
                    name: b.metadata.name.clone(),
                    validation_actions: b.spec.validation_actions.clone(),
                    match_resources: b.spec.match_resources.clone(),
                })
                .collect(),
            name: p.metadata.name,
            failure_policy: p.spec.failure_policy.unwrap_or_else(|| "Fail".into()),
            validations: p.spec.validations.len(),
            match_constraints: p.spec.match_constraints.unwrap_or_default(),
            match_conditions: p.spec.match_conditions,
            param_kind: p.spec.param_kind.map(|k| format!("{} ({})", k.kind, k.api_version)),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_default_like_admissionregistration_v1() {
        let w: Webhook = serde_json::from_value(serde_json::json!({"name": "a.example.com"})).unwrap();
        assert_eq!((w.failure_policy(), w.timeout(), w.equivalent()), ("Fail", 10, true));
    }

    #[test]
    fn health_reads_short() {
        assert_eq!(Health::Ready { ready_endpoints: 2 }.to_string(), "2 ready");
        assert!(Health::ServiceMissing.is_down() && Health::NoReadyEndpoints.is_down());
        assert!(!Health::Url.is_down() && !Health::Unknown { reason: "x".into() }.is_down());
        assert_eq!(
            serde_json::to_value(Health::Ready { ready_endpoints: 2 }).unwrap(),
            serde_json::json!({"state": "ready", "readyEndpoints": 2})
        );
    }
}
