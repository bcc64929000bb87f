//! The request pipeline: authentication, impersonation, recording, faults, authorization,
//! then discovery or the resource handlers.

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, Request};

use crate::authn::{self, Authn};
use crate::authz;
use crate::cluster::{Cluster, RecordedRequest};
use crate::discovery;
use crate::faults::Injected;
use crate::openapi;
use crate::reply::Reply;
use crate::request::{self, RequestInfo};
use crate::resource::{self, Call};
use crate::reviews;
use crate::status;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// The single axum handler: every path goes through here.
pub async fn handle(State(cluster): State<Cluster>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY).await.unwrap_or_default();
    let reply = serve(&cluster, &parts.method, &parts.uri, &parts.headers, body).await;
    into_response(reply)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

fn record(cluster: &Cluster, method: &str, uri: &http::Uri, user: Option<&str>, headers: &HeaderMap) {
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.as_str() != "authorization")
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    cluster.shared.requests.lock().unwrap_or_else(|e| e.into_inner()).push(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        user: user.map(String::from),
        headers,
    });
}

async fn serve(cluster: &Cluster, method: &http::Method, uri: &http::Uri, headers: &HeaderMap, body: Bytes) -> Reply {
    let query: Vec<(String, String)> =
        form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let latency = cluster.faults().latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let requester = match authn::authenticate(authorization) {
        Authn::User(u) => u,
        Authn::Unauthorized => {
            record(cluster, method.as_str(), uri, None, headers);
            return status::unauthorized().into();
        }
    };
    let user = match authz::impersonate(cluster, requester.clone(), headers) {
        Ok(u) => u,
        Err(e) => {
            record(cluster, method.as_str(), uri, Some(&requester.name), headers);
            return e.into();
        }
    };
    record(cluster, method.as_str(), uri, Some(&user.name), headers);
    let watch = query.iter().any(|(k, v)| k == "watch" && (v == "true" || v == "1"));
    let info = request::parse(method.as_str(), uri.path(), watch);
    for hook in cluster.faults().take_hooks(method.as_str(), uri.path()) {
        hook(cluster);
    }
    if info.is_resource {
        match cluster.faults().next_injection() {
            Injected::Throttle(secs) => {
                return Reply::from(status::too_many_requests(secs)).with_header("retry-after", secs.to_string());
            }
            Injected::Fail => return status::internal_error("injected failure").into(),
            Injected::Unavailable(secs) => {
                return Reply::from(status::service_unavailable()).with_header("retry-after", secs.to_string());
            }
            Injected::None => {}
        }
    }
    if let Err(e) = authz::check(cluster, &user, &info.attributes()) {
        return e.into();
    }
    if !info.is_resource {
        return non_resource(cluster, &info, header(headers, "accept"));
    }
    if is_unavailable_aggregated(cluster, &info.group, &info.version) {
        return Reply::text(503, "service unavailable\n");
    }
    if reviews::is_review(&info) {
        return reviews::serve(cluster, &info, &user, header(headers, "content-type"), &body);
    }
    let call = Call {
        info: &info,
        query: &query,
        accept: header(headers, "accept"),
        content_type: header(headers, "content-type"),
        body: &body,
    };
    resource::serve(cluster, &call)
}

/// Whether `group/version` is served by an aggregated APIService that is not available: the
/// real server's proxy answers 503 `service unavailable` (text) to every request under it.
fn is_unavailable_aggregated(cluster: &Cluster, group: &str, version: &str) -> bool {
    !group.is_empty() && cluster.store().is_unavailable_aggregated(group, version)
}

fn non_resource(cluster: &Cluster, info: &RequestInfo, accept: &str) -> Reply {
    if info.verb != "get" && info.verb != "head" {
        return status::method_not_allowed().into();
    }
    let path = info.path.trim_end_matches('/');
    let store = cluster.store();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let doc = match parts.as_slice() {
        ["version"] => Some(discovery::version()),
        ["healthz"] | ["livez"] | ["readyz"] => return Reply::text(200, "ok"),
        ["api"] if discovery::wants_aggregated(accept) => {
            let mut r = Reply::json(200, &discovery::aggregated_core());
            r.content_type = discovery::AGGREGATED_CONTENT_TYPE.into();
            return r;
        }
        ["api"] => Some(discovery::api_versions()),
        ["api", v] => discovery::resource_list(&store, v),
        ["apis"] if discovery::wants_aggregated(accept) => {
            let mut r = Reply::json(200, &discovery::aggregated(&store));
            r.content_type = discovery::AGGREGATED_CONTENT_TYPE.into();
            return r;
        }
        ["apis"] => Some(discovery::api_group_list(&store)),
        ["apis", g] => discovery::api_group(&store, g),
        ["apis", g, v] if store.is_unavailable_aggregated(g, v) => return Reply::text(503, "service unavailable\n"),
        ["apis", g, v] => discovery::resource_list(&store, &format!("{g}/{v}")),
        ["openapi", "v3"] => Some(openapi::root(&store)),
        ["openapi", "v3", rest @ ..] => openapi::group_version(&store, &rest.join("/")),
        _ => None,
    };
    match doc {
        Some(d) => Reply::json(200, &d),
        None => Reply::from(status::unknown_resource()),
    }
}

fn into_response(reply: Reply) -> Response {
    let mut builder = Response::builder()
        .status(reply.code)
        .header("content-type", reply.content_type.as_str())
        .header("cache-control", "no-cache, private");
    for (k, v) in &reply.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let body = if let Some(stream) = reply.stream {
        let first = futures::stream::iter([Ok::<Bytes, std::io::Error>(reply.body)]);
        Body::from_stream(futures::StreamExt::chain(first, stream))
    } else if reply.cut_midway && reply.body.len() > 1 {
        // Half the body, then an error: hyper aborts the connection (HTTP/1.1) or resets the
        // stream (HTTP/2), so the client sees a truncated response.
        let half = reply.body.slice(..reply.body.len() / 2);
        let chunks: Vec<Result<Bytes, std::io::Error>> =
            vec![Ok(half), Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected disconnect"))];
        Body::from_stream(futures::stream::iter(chunks))
    } else {
        Body::from(reply.body)
    };
    builder.body(body).unwrap_or_else(|_| Response::new(Body::from("invalid response")))
}
