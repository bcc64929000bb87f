//! The extension map: every section, fetched concurrently, each one its rows or why not.

use kubeplug::discovery::Discovery;
use serde::Serialize;

use crate::admission::{self, PolicyInfo, WebhookInfo};
use crate::api::{self, AggregatedApi, CrdGroup};
use crate::finalizers::{self, StuckObject};
use crate::infrastructure::{self, Cni, CsiDriver, ExtendedResource, RuntimeClass};
use crate::plugins::{self, Plugin};
use crate::scheduling::{self, SchedulerUse};
use crate::section::Section;

/// The `apiVersion` of the documents this plugin prints.
pub const API_VERSION: &str = "kubeplug.io/v1alpha1";

/// Everything that extends the cluster (the `-o json|yaml` document, `kind: ExtensionMap`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionMap {
    /// `kubeplug.io/v1alpha1`.
    pub api_version: &'static str,
    /// `ExtensionMap`.
    pub kind: &'static str,
    /// CRDs and aggregated APIs.
    pub api_extensions: ApiExtensions,
    /// Webhooks and policies.
    pub admission: Admission,
    /// Custom schedulers.
    pub scheduling: Scheduling,
    /// Storage, runtimes, devices, network.
    pub infrastructure: Infrastructure,
    /// kubectl plugins on this machine.
    pub local: Local,
    /// Custom resources stuck in deletion.
    pub stuck_finalizers: Section<Vec<StuckObject>>,
    /// Problems met on the way that are not a section's outcome (printed as warnings).
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// API extensions.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiExtensions {
    /// CRDs by group.
    pub custom_resource_definitions: Section<Vec<CrdGroup>>,
    /// APIServices served by a Service.
    pub api_services: Section<Vec<AggregatedApi>>,
}

/// Admission.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admission {
    /// Each webhook of each configuration.
    pub webhooks: Section<Vec<WebhookInfo>>,
    /// ValidatingAdmissionPolicies; absent when the server does not serve them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validating_admission_policies: Option<Section<Vec<PolicyInfo>>>,
}

/// Scheduling.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Scheduling {
    /// Schedulers other than default-scheduler named by pods.
    pub schedulers: Section<Vec<SchedulerUse>>,
}

/// Infrastructure.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Infrastructure {
    /// CSI drivers.
    pub csi_drivers: Section<Vec<CsiDriver>>,
    /// Runtime classes.
    pub runtime_classes: Section<Vec<RuntimeClass>>,
    /// Extended resources in node capacity.
    pub extended_resources: Section<Vec<ExtendedResource>>,
    /// The CNI; absent when apps/v1 DaemonSets are not served.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cni: Option<Section<Vec<Cni>>>,
}

/// Local.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Local {
    /// kubectl plugins on PATH.
    pub kubectl_plugins: Section<Vec<Plugin>>,
}

/// Whether discovery lists `plural` in `group` at `version`.
pub fn serves(discovery: &Discovery, group: &str, version: &str, plural: &str) -> bool {
    discovery.resources().iter().any(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Fetches every section concurrently. Never fails: a section that cannot be read says why.
pub async fn collect(client: &kube::Client, discovery: &Discovery, concurrency: usize) -> ExtensionMap {
    let policies_served = serves(discovery, "admissionregistration.k8s.io", "v1", "validatingadmissionpolicies");
    let daemon_sets_served = serves(discovery, "apps", "v1", "daemonsets");
    let slices_served = serves(discovery, "discovery.k8s.io", "v1", "endpointslices");

    // The stuck-finalizer scan needs the CRDs: it runs right after their list, alongside the rest.
    let crds_then_stuck = async {
        match Section::from_result(api::list_crds(client).await) {
            Section::Ready(crds) => {
                let scan = finalizers::scan(client, &crds, concurrency).await;
                (Section::Ready(api::by_group(&crds)), scan)
            }
            failed => (failed.map(|_| Vec::new()), finalizers::Scan::default()),
        }
    };
    let webhooks = async {
        match Section::from_result(admission::list_configurations(client).await) {
            Section::Ready(configs) => {
                Section::Ready(admission::with_health(client, &configs, slices_served, concurrency).await)
            }
            failed => failed.map(|_| Vec::new()),
        }
    };
    let policies = async {
        match policies_served {
            true => Some(Section::from_result(admission::policies(client).await)),
            false => None,
        }
    };
    let cni = async {
        match daemon_sets_served {
            true => Some(Section::from_result(infrastructure::cni(client).await)),
            false => None,
        }
    };
    let ((crds, scan), api_services, webhooks, policies, schedulers, csi, runtimes, extended, cni) = tokio::join!(
        crds_then_stuck,
        async { Section::from_result(api::aggregated_apis(client).await) },
        webhooks,
        policies,
        async { Section::from_result(scheduling::schedulers(client).await) },
        async { Section::from_result(infrastructure::csi_drivers(client).await) },
        async { Section::from_result(infrastructure::runtime_classes(client).await) },
        async { Section::from_result(infrastructure::node_resources(client).await) },
        cni,
    );

    let mut notes = Vec::new();
    let (found, unreadable_dirs) = plugins::find(None);
    notes.extend(unreadable_dirs);
    let stuck = stuck_section(&crds, scan, &mut notes);
    ExtensionMap {
        api_version: API_VERSION,
        kind: "ExtensionMap",
        api_extensions: ApiExtensions { custom_resource_definitions: crds, api_services },
        admission: Admission { webhooks, validating_admission_policies: policies },
        scheduling: Scheduling { schedulers },
        infrastructure: Infrastructure {
            csi_drivers: csi,
            runtime_classes: runtimes,
            extended_resources: extended,
            cni,
        },
        local: Local { kubectl_plugins: Section::Ready(found) },
        stuck_finalizers: stuck,
        notes,
    }
}

/// The CRDs' outcome carries over; when every list failed, the first failure is the section's.
fn stuck_section(
    crds: &Section<Vec<CrdGroup>>,
    scan: finalizers::Scan,
    notes: &mut Vec<String>,
) -> Section<Vec<StuckObject>> {
    if !crds.is_ready() {
        return crds.map(|_| Vec::new());
    }
    if scan.listed > 0 && scan.unreadable.len() == scan.listed {
        let (_, first) = scan.unreadable.into_iter().next().expect("listed > 0");
        return Section::from_result(Err(first));
    }
    for (resource, e) in &scan.unreadable {
        notes.push(format!("stuck finalizers: cannot list {resource}: {}", kubeplug::error::describe(e).message));
    }
    Section::Ready(scan.stuck)
}

impl ExtensionMap {
    /// `(sections read, sections in all)`.
    pub fn sections_ready(&self) -> (usize, usize) {
        let states = [
            self.api_extensions.custom_resource_definitions.is_ready(),
            self.api_extensions.api_services.is_ready(),
            self.admission.webhooks.is_ready(),
            self.scheduling.schedulers.is_ready(),
            self.infrastructure.csi_drivers.is_ready(),
            self.infrastructure.runtime_classes.is_ready(),
            self.infrastructure.extended_resources.is_ready(),
            self.stuck_finalizers.is_ready(),
        ];
        let optional = [
            self.admission.validating_admission_policies.as_ref().map(Section::is_ready),
            self.infrastructure.cni.as_ref().map(Section::is_ready),
        ];
        // The local section (kubectl plugins on PATH) reads no cluster, so it never counts:
        // a user who may read nothing of the cluster gets exit 1, not a map of their PATH.
        let all: Vec<bool> = states.into_iter().chain(optional.into_iter().flatten()).collect();
        (all.iter().filter(|r| **r).count(), all.len())
    }

    /// What the user should hear about on stderr: risky webhooks, unavailable aggregated APIs,
    /// schedulers whose pods all wait, plugin warnings, and the notes gathered on the way.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(apis) = self.api_extensions.api_services.ready() {
            for api in apis.iter().filter(|a| a.available != "True") {
                out.push(format!(
                    "APIService {} (service {}) is not available{}: requests to its group fail, and so does discovery of it",
                    api.name,
                    api.service,
                    api.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
                ));
            }
        }
        if let Some(webhooks) = self.admission.webhooks.ready() {
            for w in webhooks.iter().filter(|w| w.risk) {
                let service = w.webhook.client_config.service.as_ref().map(|s| s.key()).unwrap_or_default();
                let why = match w.backend {
                    admission::Health::ServiceMissing => format!("its service {service} does not exist"),
                    _ => format!("its service {service} has no ready endpoint"),
                };
                out.push(format!(
                    "RISK: {} webhook {:?} of {} has failurePolicy Fail and {why}: every request it intercepts ({} {}) is rejected",
                    w.webhook_type.as_str(),
                    w.webhook.name,
                    w.configuration,
                    crate::rules::operations(&w.webhook.rules).join(","),
                    crate::rules::resources(&w.webhook.rules).join(","),
                ));
            }
        }
        if let Some(schedulers) = self.scheduling.schedulers.ready() {
            for s in schedulers.iter().filter(|s| s.pods > 0 && s.pending == s.pods) {
                let pods = if s.pods == 1 { "the only pod".to_string() } else { format!("all {} pods", s.pods) };
                let are = if s.pods == 1 { "is" } else { "are" };
                out.push(format!("{pods} of scheduler {:?} {are} Pending: is that scheduler running?", s.scheduler));
            }
        }
        if let Some(plugins) = self.local.kubectl_plugins.ready() {
            out.extend(plugins.iter().flat_map(|p| p.warnings.iter().cloned()));
        }
        out.extend(self.notes.iter().cloned());
        out
    }
}
