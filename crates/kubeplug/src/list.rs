//! Paginated listing of any resource, handing over pages as they arrive.
//!
//! Pages are fetched with `limit` + `continue`. The next page is requested before the current
//! one is decoded, so decoding overlaps the network; only two pages are ever held. Callers decode
//! into lean structs with just the fields they use: decoding full k8s-openapi objects costs about
//! twice the CPU on big lists.

use anyhow::Context as _;
use bytes::Bytes;
use kube::api::{DynamicObject, GetParams, ListParams};
use kube::core::{ApiResource, Request, Resource, Status};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::discovery::group_resource;

/// Page size when the caller sets none (kubectl's `--chunk-size` default).
pub const DEFAULT_PAGE_SIZE: u32 = 500;
/// How many times a list restarts after its continue token expired (410 Gone) before giving up.
pub const MAX_RESTARTS: u32 = 3;

/// One page of items handed to the caller.
#[derive(Debug)]
pub struct Batch<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The list restarted from the beginning (its continue token expired): drop what earlier
    /// batches gave you, they will be handed over again.
    pub restarted: bool,
    /// How many items follow this page, as the server counts them (`remainingItemCount`; it
    /// gives none with a label or field selector, nor on the last page).
    pub remaining: Option<u64>,
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

#[derive(Deserialize)]
struct PageMeta {
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
    #[serde(default, rename = "remainingItemCount")]
    remaining_item_count: Option<u64>,
}

/// Lists `resource` (in `namespace`, or in all namespaces / cluster-wide when `None`), calling
/// `on_batch` with each page's items decoded as `T`. Transient failures are retried; an expired
/// continue token restarts the list (see [`Batch::restarted`]).
pub async fn list_pages<T, F>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    mut on_batch: F,
) -> anyhow::Result<()>
where
    T: DeserializeOwned,
    F: FnMut(Batch<T>) -> anyhow::Result<()>,
{
    let what = || describe_target(resource, namespace);
    let path = DynamicObject::url_path(resource, namespace);
    let mut params = params.clone();
    params.limit = Some(params.limit.unwrap_or(DEFAULT_PAGE_SIZE));
    params.continue_token = None;

    let mut restarts = 0;
    let mut restarted = false;
    let mut next = Some(spawn_fetch(client, &path, &params));
    while let Some(fetch) = next.take() {
        let body = match fetch.await.context("list task failed")? {
            Ok(body) => body,
            Err(kube::Error::Api(status)) if status.code == 410 && restarts < MAX_RESTARTS => {
                // The continue token outlived etcd's compaction window: start again.
                restarts += 1;
                restarted = true;
                params.continue_token = None;
                next = Some(spawn_fetch(client, &path, &params));
                continue;
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("listing {}", what()))),
        };
        let text = std::str::from_utf8(&body).with_context(|| format!("decoding a page of {}", what()))?;
        let meta = list_meta(text).with_context(|| format!("decoding a page of {}", what()))?;
        if let Some(token) = meta.continue_token.filter(|t| !t.is_empty()) {
            params.continue_token = Some(token);
            next = Some(spawn_fetch(client, &path, &params));
        }
        let page: Page<T> = serde_json::from_str(text).with_context(|| format!("decoding a page of {}", what()))?;
        drop(body);
        let (restarted, remaining) = (std::mem::take(&mut restarted), meta.remaining_item_count);
        on_batch(Batch { items: page.items, restarted, remaining })?;
    }
    Ok(())
}

/// The page's list metadata (continue token, remaining count), read before the items are decoded
/// so that the next request can start at once. The API server writes a list's own metadata before its items; reading just that
/// saves a scan of the whole page. Any other layout falls back to the full scan.
fn list_meta(text: &str) -> serde_json::Result<ListMeta> {
    const KEY: &str = "\"metadata\":";
    if let Some(pos) = text.find(KEY)
        && !text[..pos].contains("\"items\"")
    {
        let mut de = serde_json::Deserializer::from_str(&text[pos + KEY.len()..]);
        return ListMeta::deserialize(&mut de);
    }
    Ok(serde_json::from_str::<PageMeta>(text)?.metadata)
}

/// Lists every item of `resource` into one vector (see [`list_pages`]).
pub async fn list_all<T: DeserializeOwned>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
) -> anyhow::Result<Vec<T>> {
    let mut all = Vec::new();
    list_pages(client, resource, namespace, params, |batch: Batch<T>| {
        if batch.restarted {
            all.clear();
        }
        all.extend(batch.items);
        Ok(())
    })
    .await?;
    Ok(all)
}

/// `replicasets.apps in namespace "shop"` / `in all namespaces` / cluster-scoped: just the resource.
pub fn describe_target(resource: &ApiResource, namespace: Option<&str>) -> String {
    let gr = group_resource(&resource.plural, &resource.group);
    match namespace {
        Some(ns) => format!("{gr} in namespace {ns:?}"),
        None => gr,
    }
}

/// GET one object, `None` when it does not exist; other errors say what was being read.
pub async fn get<T: DeserializeOwned>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    name: &str,
) -> anyhow::Result<Option<T>> {
    let path = DynamicObject::url_path(resource, namespace);
    // Retried, where worth it, by the client's transport (crate::retry).
    let fetched = match Request::new(&path).get(name, &GetParams::default()) {
        Ok(request) => client.request::<T>(request).await,
        Err(e) => Err(kube::Error::BuildRequest(e)),
    };
    match fetched {
        Ok(object) => Ok(Some(object)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(e) => Err(anyhow::Error::new(e)).with_context(|| {
            let kind = group_resource(&resource.plural, &resource.group);
            match namespace {
                Some(ns) => format!("getting {kind} {ns}/{name}"),
                None => format!("getting {kind} {name}"),
            }
        }),
    }
}

fn spawn_fetch(client: &kube::Client, path: &str, params: &ListParams) -> tokio::task::JoinHandle<kube::Result<Bytes>> {
    let (client, path, params) = (client.clone(), path.to_string(), params.clone());
    tokio::spawn(async move {
        // Retries (a dropped page, a 503) happen below, in the client's transport.
        let request = Request::new(&path).list(&params).map_err(kube::Error::BuildRequest)?;
        get_bytes(&client, request).await
    })
}

/// Sends `request` and returns the body as it arrived; an error status becomes
/// `kube::Error::Api`, as kube's own helpers make it. Unlike `Client::request_text`, the page is
/// not copied into a `String`: pages are big, and two are in flight.
async fn get_bytes(client: &kube::Client, request: http::Request<Vec<u8>>) -> kube::Result<Bytes> {
    let response = client.send(request.map(kube::client::Body::from)).await?;
    let code = response.status();
    let body = response.into_body().collect_bytes().await?;
    if code.is_client_error() || code.is_server_error() {
        let status = serde_json::from_slice::<Status>(&body).unwrap_or_else(|_| {
            Status::failure(String::from_utf8_lossy(&body).trim(), "Failed to parse error data")
                .with_code(code.as_u16())
        });
        return Err(kube::Error::Api(Box::new(status)));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Request as HttpRequest, Response, StatusCode};
    use kube::client::Body;
    use std::sync::{Arc, Mutex};

    /// A client whose "server" answers from `respond(query) -> (status, body)`, logging each query.
    fn mock_client(
        respond: impl Fn(&str) -> (u16, String) + Send + Sync + 'static,
    ) -> (kube::Client, Arc<Mutex<Vec<String>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        let respond = Arc::new(respond);
        let service = tower::service_fn(move |req: HttpRequest<Body>| {
            let query = req.uri().query().unwrap_or("").to_string();
            seen.lock().unwrap().push(query.clone());
            let (status, body) = respond(&query);
            async move {
                Ok::<_, std::convert::Infallible>(
                    Response::builder()
                        .status(StatusCode::from_u16(status).unwrap())
                        .body(Body::from(body.into_bytes()))
                        .unwrap(),
                )
            }
        });
        (kube::Client::new(service, "default"), log)
    }

    fn page(names: &[&str], next: Option<&str>) -> String {
        let items: Vec<_> = names.iter().map(|n| serde_json::json!({"metadata": {"name": n}})).collect();
        serde_json::json!({"kind": "ReplicaSetList", "apiVersion": "apps/v1",
            "metadata": {"resourceVersion": "9", "continue": next.unwrap_or("")}, "items": items})
        .to_string()
    }

    fn gone() -> String {
        serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410,
            "message": "The provided continue parameter is too old to display a consistent list result."})
        .to_string()
    }

    #[derive(serde::Deserialize, Debug)]
    struct Lean {
        metadata: Meta,
    }
    #[derive(serde::Deserialize, Debug)]
    struct Meta {
        name: String,
    }

    fn rs() -> ApiResource {
        ApiResource {
            group: "apps".into(),
            version: "v1".into(),
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            plural: "replicasets".into(),
        }
    }

    fn names(items: &[Lean]) -> Vec<&str> {
        items.iter().map(|i| i.metadata.name.as_str()).collect()
    }

    #[test]
    fn continue_tokens_are_read_from_the_list_metadata_whatever_the_layout() {
        let server_order = r#"{"kind":"ReplicaSetList","apiVersion":"apps/v1","metadata":{"resourceVersion":"9","continue":"abc","remainingItemCount":600},"items":[{"metadata":{"continue":"no"}}]}"#;
        let meta = list_meta(server_order).unwrap();
        assert_eq!((meta.continue_token.as_deref(), meta.remaining_item_count), (Some("abc"), Some(600)));
        let items_first = r#"{"items":[{"metadata":{"name":"x"}}],"metadata":{"continue":"def"}}"#;
        let meta = list_meta(items_first).unwrap();
        assert_eq!((meta.continue_token.as_deref(), meta.remaining_item_count), (Some("def"), None));
        let last_page = r#"{"kind":"List","metadata":{"resourceVersion":"9"},"items":[]}"#;
        assert_eq!(list_meta(last_page).unwrap().continue_token, None);
        assert!(list_meta(r#"{"metadata":{"continue":"#).is_err());
    }

    #[tokio::test]
    async fn follows_continue_tokens_across_pages_with_the_default_limit() {
        let (client, log) = mock_client(|q| match q {
            q if q.contains("continue=t2") => (200, page(&["e"], None)),
            q if q.contains("continue=t1") => (200, page(&["c", "d"], Some("t2"))),
            _ => (200, page(&["a", "b"], Some("t1"))),
        });
        let mut batches = Vec::new();
        list_pages(&client, &rs(), Some("shop"), &ListParams::default(), |b: Batch<Lean>| {
            batches.push((names(&b.items).join(","), b.restarted));
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(batches, [("a,b".into(), false), ("c,d".into(), false), ("e".into(), false)]);
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 3);
        assert!(log.iter().all(|q| q.contains("limit=500")), "{log:?}");
    }

    #[tokio::test]
    async fn an_expired_continue_token_restarts_the_list() {
        let expired_once = Arc::new(Mutex::new(false));
        let flag = expired_once.clone();
        let (client, _) = mock_client(move |q| {
            if q.contains("continue=t1") {
                let mut expired = flag.lock().unwrap();
                if !*expired {
                    *expired = true;
                    return (410, gone());
                }
                return (200, page(&["c"], None));
            }
            (200, page(&["a", "b"], Some("t1")))
        });
        let all: Vec<Lean> = list_all(&client, &rs(), None, &ListParams::default()).await.unwrap();
        assert_eq!(names(&all), ["a", "b", "c"], "the restart must not duplicate items");
        assert!(*expired_once.lock().unwrap());
    }

    #[tokio::test]
    async fn a_list_that_keeps_expiring_fails_with_the_server_message() {
        let (client, _) =
            mock_client(|q| if q.contains("continue") { (410, gone()) } else { (200, page(&["a"], Some("t1"))) });
        let err = list_all::<Lean>(&client, &rs(), None, &ListParams::default()).await.unwrap_err();
        let message = crate::error::describe(&err).message;
        assert!(
            message.starts_with("listing replicasets.apps: The provided continue parameter is too old"),
            "{message}"
        );
    }
}
