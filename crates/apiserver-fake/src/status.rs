//! `kind: Status` error bodies shaped like the real server's.

use serde_json::{Map, Value, json};

use crate::registry::ResourceType;

/// An API error: HTTP status code and its Status body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// The `kind: Status` body.
    pub body: Value,
}

/// Result of an API operation.
pub type ApiResult<T> = Result<T, ApiError>;

fn failure(code: u16, reason: &str, message: &str, details: Option<Value>) -> ApiError {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    body["code"] = json!(code);
    ApiError { code, body }
}

/// Details `{name, group, kind}` leaving out empty members like the server's omitempty.
pub fn details(name: &str, group: &str, kind: &str) -> Value {
    let mut d = Map::new();
    if !name.is_empty() {
        d.insert("name".into(), json!(name));
    }
    if !group.is_empty() {
        d.insert("group".into(), json!(group));
    }
    if !kind.is_empty() {
        d.insert("kind".into(), json!(kind));
    }
    Value::Object(d)
}

/// A Success Status for a deletion.
pub fn success_deleted(rt: &ResourceType, name: &str, uid: &str) -> Value {
    let mut d = details(name, &rt.group, &rt.plural);
    d["uid"] = json!(uid);
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": d})
}

/// 404 for a missing object.
pub fn not_found(rt: &ResourceType, name: &str) -> ApiError {
    failure(
        404,
        "NotFound",
        &format!("{} \"{name}\" not found", rt.qualified()),
        Some(details(name, &rt.group, &rt.plural)),
    )
}

/// 404 for an unknown path or resource type.
pub fn unknown_resource() -> ApiError {
    failure(404, "NotFound", "the server could not find the requested resource", Some(json!({})))
}

/// 409 AlreadyExists on create.
pub fn already_exists(rt: &ResourceType, name: &str) -> ApiError {
    failure(
        409,
        "AlreadyExists",
        &format!("{} \"{name}\" already exists", rt.qualified()),
        Some(details(name, &rt.group, &rt.plural)),
    )
}

/// 409 Conflict for a stale resourceVersion on update.
pub fn update_conflict(rt: &ResourceType, name: &str) -> ApiError {
    failure(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            rt.qualified()
        ),
        Some(details(name, &rt.group, &rt.plural)),
    )
}

/// 409 Conflict for a failed delete precondition; `what` is the precondition's sentence.
pub fn precondition_conflict(rt: &ResourceType, name: &str, what: &str) -> ApiError {
    failure(
        409,
        "Conflict",
        &format!("Operation cannot be fulfilled on {} \"{name}\": {what}", rt.qualified_kind()),
        Some(details(name, &rt.group, &rt.kind)),
    )
}

/// 400 BadRequest with no details.
pub fn bad_request(message: &str) -> ApiError {
    failure(400, "BadRequest", message, None)
}

/// 410 Expired for a continue token older than the last compaction.
pub fn expired_continue(fresh_token: &str) -> ApiError {
    let mut e = failure(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        None,
    );
    e.body["metadata"] = json!({"continue": fresh_token});
    e
}

/// One cause of a 422 Invalid.
pub struct Cause {
    /// e.g. `FieldValueInvalid`.
    pub reason: &'static str,
    /// Message without the field prefix.
    pub message: String,
    /// Field path, e.g. `spec.flavor`.
    pub field: String,
}

/// 422 Invalid naming `Kind.group "name"` and its causes.
pub fn invalid(kind_qualified: &str, group: &str, kind: &str, name: &str, causes: &[Cause]) -> ApiError {
    let text: Vec<String> = causes.iter().map(|c| format!("{}: {}", c.field, c.message)).collect();
    let text = if text.len() == 1 { text[0].clone() } else { format!("[{}]", text.join(", ")) };
    let mut d = details(name, group, kind);
    d["causes"] = Value::Array(
        causes.iter().map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field})).collect(),
    );
    failure(422, "Invalid", &format!("{kind_qualified} \"{name}\" is invalid: {text}"), Some(d))
}

/// 401 for a token no user has.
pub fn unauthorized() -> ApiError {
    failure(401, "Unauthorized", "Unauthorized", None)
}

/// 405 for a verb the resource does not support.
pub fn method_not_allowed() -> ApiError {
    failure(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", Some(json!({})))
}

/// 415 for a patch type the server does not accept.
pub fn unsupported_media_type(content_type: &str) -> ApiError {
    failure(
        415,
        "UnsupportedMediaType",
        &format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {content_type})"
        ),
        None,
    )
}

/// 429 sent while throttling is injected.
pub fn too_many_requests(retry_after: u64) -> ApiError {
    let mut e = failure(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        Some(json!({"retryAfterSeconds": retry_after})),
    );
    e.body["details"] = json!({"retryAfterSeconds": retry_after});
    e
}

/// 500 sent while failures are injected.
pub fn internal_error(message: &str) -> ApiError {
    failure(
        500,
        "InternalError",
        &format!("Internal error occurred: {message}"),
        Some(json!({"causes": [{"message": message}]})),
    )
}

/// 503 as an overloaded kube-apiserver answers it (with Retry-After set by the caller).
pub fn service_unavailable() -> ApiError {
    failure(503, "ServiceUnavailable", "the server is currently unable to handle the request", None)
}
