//! Infrastructure: CSIDrivers, RuntimeClasses, extended resources advertised by nodes (device
//! plugins), and the CNI where kube-system's DaemonSets or pods tell it.

use jiff::Timestamp;
use kube::api::ListParams;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::resources;

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ObjectMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    creation_timestamp: Option<Timestamp>,
}

#[derive(Deserialize)]
struct CsiDriverObject {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    spec: CsiDriverSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CsiDriverSpec {
    #[serde(default)]
    attach_required: Option<bool>,
    #[serde(default)]
    pod_info_on_mount: Option<bool>,
    #[serde(default)]
    storage_capacity: Option<bool>,
    #[serde(default)]
    volume_lifecycle_modes: Vec<String>,
}

/// A CSI driver registered with the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CsiDriver {
    /// Driver name (`ebs.csi.aws.com`).
    pub name: String,
    /// Whether volumes need an attach step (true when unset).
    pub attach_required: bool,
    /// Whether the driver gets pod information on mount.
    pub pod_info_on_mount: bool,
    /// Whether the scheduler considers its storage capacity.
    pub storage_capacity: bool,
    /// `Persistent`, `Ephemeral`.
    pub modes: Vec<String>,
    /// Creation time.
    pub created: Option<Timestamp>,
}

/// Lists the CSIDrivers.
pub async fn csi_drivers(client: &kube::Client) -> anyhow::Result<Vec<CsiDriver>> {
    let all: Vec<CsiDriverObject> =
        resources::list(client, &resources::csi_drivers(), None, &ListParams::default()).await?;
    Ok(all
        .into_iter()
        .map(|d| CsiDriver {
            name: d.metadata.name,
            attach_required: d.spec.attach_required.unwrap_or(true),
            pod_info_on_mount: d.spec.pod_info_on_mount.unwrap_or(false),
            storage_capacity: d.spec.storage_capacity.unwrap_or(false),
            modes: if d.spec.volume_lifecycle_modes.is_empty() {
                vec!["Persistent".into()]
            } else {
                d.spec.volume_lifecycle_modes
            },
            created: d.metadata.creation_timestamp,
        })
        .collect())
}

#[derive(Deserialize)]
struct RuntimeClassObject {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    handler: String,
    #[serde(default)]
    overhead: Option<Overhead>,
    #[serde(default)]
    scheduling: Option<RuntimeScheduling>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Overhead {
    #[serde(default)]
    pod_fixed: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RuntimeScheduling {
    #[serde(default)]
    node_selector: BTreeMap<String, String>,
}

/// A RuntimeClass: a container runtime configuration pods can ask for (gVisor, Kata, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeClass {
    /// Name.
    pub name: String,
    /// The CRI handler.
    pub handler: String,
    /// Fixed pod overhead.
    pub overhead: BTreeMap<String, String>,
    /// Nodes it runs on.
    pub node_selector: BTreeMap<String, String>,
    /// Creation time.
    pub created: Option<Timestamp>,
}

/// Lists the RuntimeClasses.
pub async fn runtime_classes(client: &kube::Client) -> anyhow::Result<Vec<RuntimeClass>> {
    let all: Vec<RuntimeClassObject> =
        resources::list(client, &resources::runtime_classes(), None, &ListParams::default()).await?;
    Ok(all
        .into_iter()
        .map(|r| RuntimeClass {
            name: r.metadata.name,
            handler: r.handler,
            overhead: r.overhead.unwrap_or_default().pod_fixed,
            node_selector: r.scheduling.unwrap_or_default().node_selector,
            created: r.metadata.creation_timestamp,
        })
        .collect())
}

#[derive(Deserialize)]
struct NodeObject {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    status: NodeStatus,
}

#[derive(Deserialize, Default)]
struct NodeStatus {
    #[serde(default)]
    capacity: BTreeMap<String, String>,
}

/// An extended resource advertised in node capacity (by a device plugin, usually).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedResource {
    /// Resource name (`nvidia.com/gpu`).
    pub resource: String,
    /// The total capacity over the nodes (the sum when every quantity is a whole number).
    pub total: String,
    /// Capacity per node.
    pub nodes: BTreeMap<String, String>,
}

/// Whether a capacity key is one of the kubelet's own resources rather than an extended one.
pub fn is_standard_resource(name: &str) -> bool {
    matches!(name, "cpu" | "memory" | "pods" | "ephemeral-storage") || name.starts_with("hugepages-")
}

fn extended_resources(nodes: Vec<NodeObject>) -> Vec<ExtendedResource> {
    let mut by: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for node in nodes {
        for (resource, quantity) in node.status.capacity {
            if !is_standard_resource(&resource) {
                by.entry(resource).or_default().insert(node.metadata.name.clone(), quantity);
            }
        }
    }
    by.into_iter()
        .map(|(resource, nodes)| {
            let sum: Option<i64> = nodes.values().map(|q| q.parse::<i64>().ok()).sum();
            let total =
                sum.map(|s| s.to_string()).unwrap_or_else(|| nodes.values().cloned().collect::<Vec<_>>().join("+"));
            ExtendedResource { resource, total, nodes }
        })
        .collect()
}

/// Lists the nodes and collects the extended resources of their capacity.
pub async fn node_resources(client: &kube::Client) -> anyhow::Result<Vec<ExtendedResource>> {
    let nodes: Vec<NodeObject> = resources::list(client, &resources::nodes(), None, &ListParams::default()).await?;
    Ok(extended_resources(nodes))
}

/// Name fragments of the CNI plugins' DaemonSets and pods, and the CNI each tells. Canal
/// comes before Calico and Flannel, whose names it contains in its pods' containers.
const CNI_NAMES: &[(&str, &str)] = &[
    ("canal", "Canal (Calico + Flannel)"),
    ("calico", "Calico"),
    ("cilium", "Cilium"),
    ("flannel", "Flannel"),
    ("weave", "Weave Net"),
    ("kube-router", "kube-router"),
    ("aws-node", "Amazon VPC CNI"),
    ("azure-cni", "Azure CNI"),
    ("azure-cns", "Azure CNI"),
    ("antrea", "Antrea"),
    ("kindnet", "kindnet"),
    ("kube-ovn", "Kube-OVN"),
    ("ovnkube", "OVN-Kubernetes"),
    ("multus", "Multus (meta-plugin)"),
];

/// The CNI a DaemonSet or pod name tells, if any.
pub fn cni_of(name: &str) -> Option<&'static str> {
    CNI_NAMES.iter().find(|(needle, _)| name.contains(needle)).map(|(_, cni)| *cni)
}

/// A CNI seen in kube-system, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cni {
    /// The CNI.
    pub cni: String,
    /// `daemonset/calico-node` or `pod/weave-net-x7p2k`.
    pub source: String,
    /// `ready/desired` pods of the DaemonSet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
}

#[derive(Deserialize)]
struct DaemonSetObject {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    status: DaemonSetStatus,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DaemonSetStatus {
    #[serde(default)]
    desired_number_scheduled: i64,
    #[serde(default)]
    number_ready: i64,
}

#[derive(Deserialize)]
struct PodObject {
    #[serde(default)]
    metadata: ObjectMeta,
}

/// The namespace CNI plugins are looked for in.
pub const CNI_NAMESPACE: &str = "kube-system";

/// Looks for CNI DaemonSets in kube-system; when none tells, for CNI pods there.
pub async fn cni(client: &kube::Client) -> anyhow::Result<Vec<Cni>> {
    let params = ListParams::default();
    let daemon_sets: Vec<DaemonSetObject> =
        resources::list(client, &resources::daemon_sets(), Some(CNI_NAMESPACE), &params).await?;
    let mut found: Vec<Cni> = daemon_sets
        .into_iter()
        .filter_map(|ds| {
            let cni = cni_of(&ds.metadata.name)?;
            Some(Cni {
                cni: cni.to_string(),
                source: format!("daemonset/{}", ds.metadata.name),
                ready: Some(format!("{}/{}", ds.status.number_ready, ds.status.desired_number_scheduled)),
            })
        })
        .collect();
    if found.is_empty() {
        let pods: Vec<PodObject> = resources::list(client, &resources::pods(), Some(CNI_NAMESPACE), &params).await?;
        for pod in pods {
            if let Some(cni) = cni_of(&pod.metadata.name)
                && !found.iter().any(|c| c.cni == cni)
            {
                found.push(Cni { cni: cni.to_string(), source: format!("pod/{}", pod.metadata.name), ready: None });
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_resources_leave_out_the_kubelets_own_and_sum_per_resource() {
        let nodes: Vec<NodeObject> = serde_json::from_value(serde_json::json!([
            {"metadata": {"name": "gpu-1"}, "status": {"capacity": {"cpu": "8", "memory": "32Gi", "pods": "110",
                "ephemeral-storage": "100Gi", "hugepages-2Mi": "0", "nvidia.com/gpu": "4"}}},
            {"metadata": {"name": "gpu-2"}, "status": {"capacity": {"cpu": "8", "nvidia.com/gpu": "2",
                "example.com/dongle": "1k"}}},
            {"metadata": {"name": "plain"}, "status": {"capacity": {"cpu": "2"}}}
        ]))
        .unwrap();
        let found = extended_resources(nodes);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].resource.as_str(), found[0].total.as_str()), ("example.com/dongle", "1k"));
        assert_eq!((found[1].resource.as_str(), found[1].total.as_str()), ("nvidia.com/gpu", "6"));
        assert_eq!(found[1].nodes.keys().collect::<Vec<_>>(), ["gpu-1", "gpu-2"]);
    }

    #[test]
    fn cni_names_are_told_from_workload_names() {
        assert_eq!(cni_of("calico-node"), Some("Calico"));
        assert_eq!(cni_of("canal"), Some("Canal (Calico + Flannel)"));
        assert_eq!(cni_of("kube-flannel-ds"), Some("Flannel"));
        assert_eq!(cni_of("aws-node"), Some("Amazon VPC CNI"));
        assert_eq!(cni_of("cilium-operator-5d9f"), Some("Cilium"));
        assert_eq!(cni_of("kube-proxy"), None);
        assert_eq!(cni_of("coredns"), None);
    }
}
