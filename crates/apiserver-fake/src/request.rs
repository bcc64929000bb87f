//! What a request is about, read from its method and path as kube-apiserver's RequestInfo does.

use crate::rbac::Attributes;

/// The parsed target of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Whether the path names an API resource (else discovery, /version, /healthz, ...).
    pub is_resource: bool,
    /// Authorization verb: get, list, watch, create, update, patch, delete, deletecollection;
    /// for non-resource requests the lower-case HTTP method.
    pub verb: String,
    /// URL path.
    pub path: String,
    /// API group ("" for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Resource plural.
    pub resource: String,
    /// Subresource ("" for none).
    pub subresource: String,
    /// Object name ("" for collections).
    pub name: String,
    /// Namespace ("" for cluster scope).
    pub namespace: String,
}

/// Namespace subresources: `/api/v1/namespaces/x/status` is the namespace's status.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

/// Parses method + path (+ whether `watch=true` was asked).
pub fn parse(method: &str, path: &str, watch: bool) -> RequestInfo {
    let mut info = RequestInfo { path: path.to_string(), verb: method.to_lowercase(), ..Default::default() };
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest: &[&str] = match parts.as_slice() {
        ["api", version, rest @ ..] if !rest.is_empty() => {
            info.version = version.to_string();
            rest
        }
        ["apis", group, version, rest @ ..] if !rest.is_empty() => {
            info.group = group.to_string();
            info.version = version.to_string();
            rest
        }
        _ => return info,
    };
    info.is_resource = true;
    let mut current = rest;
    if current[0] == "namespaces" && current.len() > 1 {
        info.namespace = current[1].to_string();
        if current.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&current[2]) {
            current = &current[2..];
        }
    }
    info.resource = current[0].to_string();
    if let Some(name) = current.get(1) {
        info.name = name.to_string();
    }
    if let Some(sub) = current.get(2) {
        info.subresource = sub.to_string();
    }
    info.verb = match method {
        "GET" | "HEAD" if info.name.is_empty() && watch => "watch",
        "GET" | "HEAD" if info.name.is_empty() => "list",
        "GET" | "HEAD" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" if info.name.is_empty() => "deletecollection",
        "DELETE" => "delete",
        other => return RequestInfo { verb: other.to_lowercase(), ..info },
    }
    .to_string();
    info
}

impl RequestInfo {
    /// The authorization attributes of this request.
    pub fn attributes(&self) -> Attributes {
        if self.is_resource {
            Attributes::Resource {
                verb: self.verb.clone(),
                group: self.group.clone(),
                resource: self.resource.clone(),
                subresource: self.subresource.clone(),
                name: self.name.clone(),
                namespace: self.namespace.clone(),
            }
        } else {
            Attributes::NonResource { verb: self.verb.clone(), path: self.path.clone() }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_resources_like_the_server() {
        let i = parse("GET", "/apis/apps/v1/namespaces/ref/replicasets/web-0/scale", false);
        assert_eq!(
            (
                i.group.as_str(),
                i.resource.as_str(),
                i.name.as_str(),
                i.subresource.as_str(),
                i.namespace.as_str(),
                i.verb.as_str()
            ),
            ("apps", "replicasets", "web-0", "scale", "ref", "get")
        );
        let i = parse("GET", "/api/v1/namespaces/team-a", false);
        assert_eq!((i.resource.as_str(), i.name.as_str(), i.namespace.as_str()), ("namespaces", "team-a", "team-a"));
        let i = parse("GET", "/apis/apps/v1/replicasets", true);
        assert_eq!((i.verb.as_str(), i.namespace.as_str()), ("watch", ""));
        let i = parse("DELETE", "/api/v1/namespaces/x/pods", false);
        assert_eq!(i.verb, "deletecollection");
        assert!(!parse("GET", "/apis/apps/v1", false).is_resource);
        assert!(!parse("GET", "/version", false).is_resource);
    }
}
