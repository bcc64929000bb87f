//! API extensions: CustomResourceDefinitions by group, and aggregated APIServices (those served
//! by a Service, not by the API server itself) with their Available condition.

use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::resources;

/// A webhook's or conversion's `clientConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfig {
    /// The in-cluster Service called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRef>,
    /// Or an URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A reference to a Service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRef {
    /// Namespace of the Service.
    #[serde(default)]
    pub namespace: String,
    /// Name of the Service.
    #[serde(default)]
    pub name: String,
    /// URL path, for webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Port (443 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

impl ServiceRef {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

impl ClientConfig {
    /// `svc shop/hooks:443/validate` or the URL: where the API server sends the call.
    pub fn describe(&self) -> String {
        match (&self.service, &self.url) {
            (Some(s), _) => {
                format!("svc {}:{}{}", s.key(), s.port.unwrap_or(443), s.path.as_deref().unwrap_or(""))
            }
            (None, Some(url)) => url.clone(),
            (None, None) => "<none>".into(),
        }
    }
}

/// Lean CustomResourceDefinition: only what the map shows.
#[derive(Debug, Clone, Deserialize)]
pub struct Crd {
    /// Metadata.
    pub metadata: Meta,
    /// Spec.
    pub spec: CrdSpec,
}

/// `metadata.name` (and what else lean structs need).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A CRD's spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdSpec {
    /// API group.
    pub group: String,
    /// Names.
    pub names: CrdNames,
    /// `Namespaced` or `Cluster`.
    #[serde(default)]
    pub scope: String,
    /// Versions.
    #[serde(default)]
    pub versions: Vec<CrdVersion>,
    /// Conversion.
    #[serde(default)]
    pub conversion: Option<Conversion>,
}

/// A CRD's names.
#[derive(Debug, Clone, Deserialize)]
pub struct CrdNames {
    /// Kind.
    pub kind: String,
    /// Plural.
    pub plural: String,
}

/// One version of a CRD.
#[derive(Debug, Clone, Deserialize)]
pub struct CrdVersion {
    /// Name, e.g. `v1`.
    pub name: String,
    /// Whether it is served.
    #[serde(default)]
    pub served: bool,
    /// Whether it is the storage version.
    #[serde(default)]
    pub storage: bool,
}

/// A CRD's conversion settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Conversion {
    /// `None` or `Webhook`.
    #[serde(default)]
    pub strategy: String,
    /// The webhook, for `Webhook`.
    #[serde(default)]
    pub webhook: Option<ConversionWebhook>,
}

/// A conversion webhook.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversionWebhook {
    /// Where it is called.
    #[serde(default)]
    pub client_config: Option<ClientConfig>,
}

impl Crd {
    /// The version to read objects at: the storage version when served, else the first served.
    pub fn read_version(&self) -> Option<&str> {
        let served = || self.spec.versions.iter().filter(|v| v.served);
        served().find(|v| v.storage).or_else(|| served().next()).map(|v| v.name.as_str())
    }

    /// Where the conversion webhook is called, if the CRD has one.
    pub fn conversion_webhook(&self) -> Option<String> {
        let conversion = self.spec.conversion.as_ref().filter(|c| c.strategy == "Webhook")?;
        Some(
            conversion
                .webhook
                .as_ref()
                .and_then(|w| w.client_config.as_ref())
                .map(ClientConfig::describe)
                .unwrap_or_else(|| "<none>".into()),
        )
    }
}

/// The CRDs of one API group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdGroup {
    /// API group.
    pub group: String,
    /// How many CRDs define resources in it.
    pub count: usize,
    /// Their kinds, sorted.
    pub kinds: Vec<String>,
    /// Served versions across them (e.g. `v1`, `v1beta1`), in first-seen order.
    pub versions: Vec<String>,
    /// Conversion webhooks: `crd-name -> where it is called`.
    pub conversion_webhooks: Vec<String>,
}

/// Lists the CRDs (kept whole for the stuck-finalizer scan).
pub async fn list_crds(client: &kube::Client) -> anyhow::Result<Vec<Crd>> {
    resources::list(client, &resources::crds(), None, &ListParams::default()).await
}

/// Groups CRDs by API group, groups sorted by name.
pub fn by_group(crds: &[Crd]) -> Vec<CrdGroup> {
    let mut groups: BTreeMap<&str, CrdGroup> = BTreeMap::new();
    for crd in crds {
        let group = groups.entry(crd.spec.group.as_str()).or_insert_with(|| CrdGroup {
            group: crd.spec.group.clone(),
            count: 0,
            kinds: Vec::new(),
            versions: Vec::new(),
            conversion_webhooks: Vec::new(),
        });
        group.count += 1;
        group.kinds.push(crd.spec.names.kind.clone());
        for v in crd.spec.versions.iter().filter(|v| v.served) {
            if !group.versions.contains(&v.name) {
                group.versions.push(v.name.clone());
            }
        }
        if let Some(hook) = crd.conversion_webhook() {
            group.conversion_webhooks.push(format!("{} -> {hook}", crd.metadata.name));
        }
    }
    let mut out: Vec<CrdGroup> = groups.into_values().collect();
    for g in &mut out {
        g.kinds.sort();
    }
    out
}

#[derive(Deserialize)]
struct ApiServiceObject {
    metadata: Meta,
    #[serde(default)]
    spec: ApiServiceSpec,
    #[serde(default)]
    status: ApiServiceStatus,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ApiServiceSpec {
    #[serde(default)]
    service: Option<ServiceRef>,
}

#[derive(Deserialize, Default)]
struct ApiServiceStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
}

#[derive(Deserialize, Default)]
struct Condition {
    #[serde(rename = "type", default)]
    type_: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// An aggregated API: an APIService the API server proxies to a Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregatedApi {
    /// The APIService name, `v1beta1.metrics.k8s.io`.
    pub name: String,
    /// `namespace/name` of the Service.
    pub service: String,
    /// The Available condition's status: `True`, `False` or `Unknown` (no condition yet).
    pub available: String,
    /// Its reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The APIServices served by a Service (local ones, served by the API server, are left out).
pub async fn aggregated_apis(client: &kube::Client) -> anyhow::Result<Vec<AggregatedApi>> {
    let all: Vec<ApiServiceObject> =
        resources::list(client, &resources::api_services(), None, &ListParams::default()).await?;
    Ok(all
        .into_iter()
        .filter_map(|a| {
            let service = a.spec.service?;
            let available = a.status.conditions.into_iter().find(|c| c.type_ == "Available");
            Some(AggregatedApi {
                name: a.metadata.name,
                service: service.key(),
                available: available.as_ref().map(|c| c.status.clone()).unwrap_or_else(|| "Unknown".into()),
                reason: available.as_ref().and_then(|c| c.reason.clone()),
                message: available.and_then(|c| c.message),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crd(name: &str, group: &str, kind: &str, versions: &[(&str, bool, bool)], webhook: bool) -> Crd {
        let versions: Vec<_> = versions
            .iter()
            .map(|(n, served, storage)| serde_json::json!({"name": n, "served": served, "storage": storage}))
            .collect();
        let mut spec = serde_json::json!({"group": group, "names": {"kind": kind, "plural": name.split('.').next()},
            "scope": "Namespaced", "versions": versions});
        if webhook {
            spec["conversion"] = serde_json::json!({"strategy": "Webhook", "webhook": {"clientConfig":
                {"service": {"namespace": "cert-manager", "name": "cert-manager-webhook", "path": "/convert"}}}});
        }
        serde_json::from_value(serde_json::json!({"metadata": {"name": name}, "spec": spec})).unwrap()
    }

    #[test]
    fn crds_group_with_served_versions_and_conversion_webhooks() {
        let crds = [
            crd("certificates.cert-manager.io", "cert-manager.io", "Certificate", &[("v1", true, true)], true),
            crd(
                "issuers.cert-manager.io",
                "cert-manager.io",
                "Issuer",
                &[("v1", true, true), ("v1alpha2", false, false)],
                false,
            ),
            crd(
                "candies.awesome.corp.com",
                "awesome.corp.com",
                "Candy",
                &[("v1", true, false), ("v2", true, true)],
                false,
            ),
        ];
        let groups = by_group(&crds);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].group, "awesome.corp.com");
        assert_eq!(groups[0].versions, ["v1", "v2"]);
        assert_eq!(groups[1].count, 2);
        assert_eq!(groups[1].versions, ["v1"]);
        assert_eq!(
            groups[1].conversion_webhooks,
            ["certificates.cert-manager.io -> svc cert-manager/cert-manager-webhook:443/convert"]
        );
        assert_eq!(crds[2].read_version(), Some("v2"));
        assert_eq!(crds[1].read_version(), Some("v1"));
    }
}
