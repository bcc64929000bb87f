//! The API resources the map reads, and the two request shapes it uses: a paged list and a get.

use kube::core::ApiResource;

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    let api_version = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    ApiResource { group: group.into(), version: version.into(), api_version, kind: kind.into(), plural: plural.into() }
}

/// `customresourcedefinitions.apiextensions.k8s.io`.
pub fn crds() -> ApiResource {
    resource("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions")
}

/// `apiservices.apiregistration.k8s.io`.
pub fn api_services() -> ApiResource {
    resource("apiregistration.k8s.io", "v1", "APIService", "apiservices")
}

/// `validatingwebhookconfigurations.admissionregistration.k8s.io`.
pub fn validating_webhooks() -> ApiResource {
    resource("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations")
}

/// `mutatingwebhookconfigurations.admissionregistration.k8s.io`.
pub fn mutating_webhooks() -> ApiResource {
    resource("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations")
}

/// `validatingadmissionpolicies.admissionregistration.k8s.io`.
pub fn admission_policies() -> ApiResource {
    resource("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies")
}

/// `validatingadmissionpolicybindings.admissionregistration.k8s.io`.
pub fn admission_policy_bindings() -> ApiResource {
    resource(
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
    )
}

/// `services`.
pub fn services() -> ApiResource {
    resource("", "v1", "Service", "services")
}

/// `endpoints`.
pub fn endpoints() -> ApiResource {
    resource("", "v1", "Endpoints", "endpoints")
}

/// `endpointslices.discovery.k8s.io`.
pub fn endpoint_slices() -> ApiResource {
    resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices")
}

/// `pods`.
pub fn pods() -> ApiResource {
    resource("", "v1", "Pod", "pods")
}

/// `nodes`.
pub fn nodes() -> ApiResource {
    resource("", "v1", "Node", "nodes")
}

/// `namespaces`.
pub fn namespaces() -> ApiResource {
    resource("", "v1", "Namespace", "namespaces")
}

/// `csidrivers.storage.k8s.io`.
pub fn csi_drivers() -> ApiResource {
    resource("storage.k8s.io", "v1", "CSIDriver", "csidrivers")
}

/// `runtimeclasses.node.k8s.io`.
pub fn runtime_classes() -> ApiResource {
    resource("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses")
}

/// `daemonsets.apps`.
pub fn daemon_sets() -> ApiResource {
    resource("apps", "v1", "DaemonSet", "daemonsets")
}

/// A custom resource at one version.
pub fn custom(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    resource(group, version, kind, plural)
}

/// Every object of `resource` (in `namespace`, or everywhere), decoded as lean `T`.
pub use kubeplug::list::list_all as list;

/// One object.
pub use kubeplug::list::get;
