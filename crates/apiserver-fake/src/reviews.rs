//! authorization.k8s.io access reviews and authentication.k8s.io SelfSubjectReview.

use serde_json::{Value, json};

use crate::authz;
use crate::cluster::Cluster;
use crate::proto;
use crate::rbac::{self, Attributes, UserInfo};
use crate::reply::Reply;
use crate::request::RequestInfo;
use crate::status::{self, ApiResult};

/// Whether a request targets a review resource handled here.
pub fn is_review(info: &RequestInfo) -> bool {
    matches!(
        (info.group.as_str(), info.resource.as_str()),
        ("authorization.k8s.io", "selfsubjectaccessreviews")
            | ("authorization.k8s.io", "subjectaccessreviews")
            | ("authorization.k8s.io", "localsubjectaccessreviews")
            | ("authorization.k8s.io", "selfsubjectrulesreviews")
            | ("authentication.k8s.io", "selfsubjectreviews")
    )
}

/// Answers a review (already authorized to `create`).
pub fn serve(cluster: &Cluster, info: &RequestInfo, user: &UserInfo, content_type: &str, body: &[u8]) -> Reply {
    if info.verb != "create" || !info.name.is_empty() {
        return status::method_not_allowed().into();
    }
    let review = if content_type.starts_with(proto::CONTENT_TYPE) {
        proto::decode_review(body)
            .ok_or_else(|| status::bad_request("the body of the request could not be decoded as protobuf"))
    } else if body.iter().all(u8::is_ascii_whitespace) && info.resource == "selfsubjectreviews" {
        Ok(json!({}))
    } else {
        serde_json::from_slice(body)
            .map_err(|e| status::bad_request(&format!("the body of the request could not be decoded: {e}")))
    };
    match review.and_then(|r| answer(cluster, info, user, &r)) {
        Ok(v) => Reply::json(201, &v),
        Err(e) => e.into(),
    }
}

fn answer(cluster: &Cluster, info: &RequestInfo, user: &UserInfo, review: &Value) -> ApiResult<Value> {
    let spec = review.get("spec").cloned().unwrap_or(json!({}));
    let kind = match info.resource.as_str() {
        "selfsubjectaccessreviews" => "SelfSubjectAccessReview",
        "subjectaccessreviews" => "SubjectAccessReview",
        "localsubjectaccessreviews" => "LocalSubjectAccessReview",
        "selfsubjectrulesreviews" => "SelfSubjectRulesReview",
        _ => "SelfSubjectReview",
    };
    let api_version = format!("{}/v1", info.group);
    let mut out = json!({"kind": kind, "apiVersion": api_version, "metadata": {"creationTimestamp": null}});
    match kind {
        "SelfSubjectReview" => {
            let mut ui = json!({"username": user.name, "groups": user.groups});
            if let Some(uid) = &user.uid {
                ui["uid"] = json!(uid);
            }
            out["status"] = json!({"userInfo": ui});
        }
        "SelfSubjectRulesReview" => {
            let namespace = spec["namespace"].as_str().unwrap_or_default();
            let objects = cluster.store_mut().rbac();
            out["spec"] = json!({});
            out["status"] = rbac::rules_review(&objects, user, namespace);
        }
        _ => {
            let subject = if kind == "SelfSubjectAccessReview" { user.clone() } else { subject_of(&spec) };
            let mut spec = spec.clone();
            if kind == "LocalSubjectAccessReview" {
                spec["resourceAttributes"]["namespace"] = json!(info.namespace);
            }
            let attrs = attributes_of(&spec)?;
            let decision = authz::decide(cluster, &subject, &attrs);
            let mut status = json!({"allowed": decision.allowed});
            if !decision.reason.is_empty() {
                status["reason"] = json!(decision.reason);
            }
            out["spec"] = spec;
            out["status"] = status;
        }
    }
    Ok(out)
}

fn subject_of(spec: &Value) -> UserInfo {
    let groups: Vec<String> =
        spec["groups"].as_array().into_iter().flatten().filter_map(|g| g.as_str().map(String::from)).collect();
    UserInfo {
        name: spec["user"].as_str().unwrap_or_default().to_string(),
        uid: spec["uid"].as_str().map(String::from),
        groups,
    }
}

fn attributes_of(spec: &Value) -> ApiResult<Attributes> {
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    match (spec.get("resourceAttributes"), spec.get("nonResourceAttributes")) {
        (Some(r), None) if r.is_object() => Ok(Attributes::Resource {
            verb: s(r, "verb"),
            group: s(r, "group"),
            resource: s(r, "resource"),
            subresource: s(r, "subresource"),
            name: s(r, "name"),
            namespace: s(r, "namespace"),
        }),
        (None, Some(n)) if n.is_object() => Ok(Attributes::NonResource { verb: s(n, "verb"), path: s(n, "path") }),
        (r, _) => {
            let shown = if r.is_some() { "{...}" } else { "null" };
            Err(status::invalid(
                ".authorization.k8s.io",
                "authorization.k8s.io",
                "",
                "",
                &[status::Cause {
                    reason: "FieldValueInvalid",
                    message: format!(
                        "Invalid value: \"{shown}\": exactly one of nonResourceAttributes or resourceAttributes must be specified"
                    ),
                    field: "spec.resourceAttributes".into(),
                }],
            ))
        }
    }
}
