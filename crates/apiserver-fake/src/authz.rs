//! Authorization of every request (RBAC over the stored objects) and impersonation.

use http::HeaderMap;

use crate::cluster::Cluster;
use crate::rbac::{self, Attributes, UserInfo};
use crate::status::{self, ApiError, ApiResult};

/// Checks `attrs` for `user`; a denial is the real server's 403 Status.
pub fn check(cluster: &Cluster, user: &UserInfo, attrs: &Attributes) -> ApiResult<()> {
    let decision = decide(cluster, user, attrs);
    if decision.allowed {
        return Ok(());
    }
    Err(ApiError { code: 403, body: rbac::forbidden_status(user, attrs, &decision.reason) })
}

/// The authorizer's decision for `user` doing `attrs`.
pub fn decide(cluster: &Cluster, user: &UserInfo, attrs: &Attributes) -> rbac::Decision {
    let objects = cluster.store_mut().rbac();
    rbac::authorize(&objects, user, attrs)
}

fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect()
}

/// Applies `Impersonate-User` / `-Group` / `-Uid`: checks that `requester` may impersonate
/// each, then returns the impersonated user (or the requester when no header is set).
pub fn impersonate(cluster: &Cluster, requester: UserInfo, headers: &HeaderMap) -> ApiResult<UserInfo> {
    let user = header_values(headers, "impersonate-user");
    let groups = header_values(headers, "impersonate-group");
    let uid = header_values(headers, "impersonate-uid");
    if user.is_empty() {
        if groups.is_empty() && uid.is_empty() {
            return Ok(requester);
        }
        return Err(status::internal_error("requested impersonation of groups or uid without impersonating a user"));
    }
    let name = user[0].to_string();
    let allow = |attrs: Attributes, subject: &str| -> ApiResult<()> {
        check(cluster, &requester, &attrs).map_err(|mut e| {
            // The 403 names the impersonated subject, which the filter passes as the name.
            e.body["details"]["name"] = serde_json::json!(subject);
            e
        })
    };
    let user_attrs = match name.strip_prefix("system:serviceaccount:").and_then(|r| r.split_once(':')) {
        Some((ns, sa)) => Attributes::Resource {
            verb: "impersonate".into(),
            group: String::new(),
            resource: "serviceaccounts".into(),
            subresource: String::new(),
            name: sa.into(),
            namespace: ns.into(),
        },
        None => Attributes::Resource {
            verb: "impersonate".into(),
            group: String::new(),
            resource: "users".into(),
            subresource: String::new(),
            name: name.clone(),
            namespace: String::new(),
        },
    };
    allow(user_attrs, &name)?;
    for g in &groups {
        allow(
            Attributes::Resource {
                verb: "impersonate".into(),
                group: String::new(),
                resource: "groups".into(),
                subresource: String::new(),
                name: g.to_string(),
                namespace: String::new(),
            },
            g,
        )?;
    }
    if let Some(u) = uid.first() {
        allow(
            Attributes::Resource {
                verb: "impersonate".into(),
                group: "authentication.k8s.io".into(),
                resource: "uids".into(),
                subresource: String::new(),
                name: u.to_string(),
                namespace: String::new(),
            },
            u,
        )?;
    }
    let mut impersonated = if name == rbac::ANONYMOUS_USER {
        UserInfo::anonymous()
    } else {
        let gs: Vec<&str> = groups.clone();
        let mut u = UserInfo::authenticated(&name, &gs);
        if let Some(sa) = name.strip_prefix("system:serviceaccount:")
            && let Some((ns, _)) = sa.split_once(':')
        {
            for g in ["system:serviceaccounts".to_string(), format!("system:serviceaccounts:{ns}")] {
                if !u.groups.contains(&g) {
                    u.groups.insert(u.groups.len() - 1, g);
                }
            }
        }
        u
    };
    impersonated.uid = uid.first().map(|u| u.to_string());
    Ok(impersonated)
}
