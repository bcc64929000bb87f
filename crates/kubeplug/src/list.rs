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
use crate::proto::{self, ProtobufItem};

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
    /// gives none with a label or field selector, nor on the last page, nor to a streamed list).
    pub remaining: Option<u64>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Page<T> {
    #[serde(default, deserialize_with = "null_as_empty")]
    items: Vec<T>,
}

/// `"items": null` as no items: the API server writes an empty `PartialObjectMetadataList` so.
fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(de: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(de)?.unwrap_or_default())
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
    on_batch: F,
) -> anyhow::Result<()>
where
    T: DeserializeOwned,
    F: FnMut(Batch<T>) -> anyhow::Result<()>,
{
    list_pages_after(client, resource, namespace, params, std::future::ready(()), on_batch).await
}

/// [`list_pages`], whose first page is asked for at once but handed over only once `ready` is
/// done: a list that needs another one read first does not wait a round trip more for it.
pub async fn list_pages_after<T, F, R>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    ready: R,
    on_batch: F,
) -> anyhow::Result<()>
where
    T: DeserializeOwned,
    F: FnMut(Batch<T>) -> anyhow::Result<()>,
    R: Future<Output = ()>,
{
    list_loop(client, resource, namespace, params, Wire::Json, &mut Gate(Some(ready)), on_batch).await
}

/// What a list waits for before it hands over its first batch (see [`list_protobuf_after`]):
/// the request is sent at once, and the answer waits in the connection meanwhile (the server
/// stops writing when the socket's buffers are full, so nothing piles up in memory here).
struct Gate<R>(Option<R>);

impl<R: Future<Output = ()>> Gate<R> {
    async fn open(&mut self) {
        if let Some(ready) = self.0.take() {
            ready.await;
        }
    }
}

/// A gate that is open from the start.
fn open_gate() -> Gate<std::future::Ready<()>> {
    Gate(None)
}

/// How many items a list with `params` hands over at a time: its `limit`, else
/// [`DEFAULT_PAGE_SIZE`], whatever the read.
pub fn batch_size(params: &ListParams) -> usize {
    params.limit.unwrap_or(DEFAULT_PAGE_SIZE) as usize
}

/// How a list of a built-in kind is read. All but [`ReadMode::Cached`] are consistent reads:
/// they show nothing older than the moment the list started, as kubectl's lists do. The figures
/// behind the default are in BENCHMARKS.md ("Reading a big list").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReadMode {
    /// Pages of `limit` items following continue tokens, kubectl's way: each page is read from
    /// etcd and encoded apart, and only two pages are ever held.
    Paged,
    /// A watch-list (`sendInitialEvents=true`, `resourceVersionMatch=NotOlderThan`, no
    /// resourceVersion): the watch cache streams every object as an event once it has caught up
    /// with etcd, and a bookmark ends the list. Items are decoded as the events arrive. Servers
    /// without it (before 1.27, or with the WatchList feature off) refuse it, and the list is
    /// read [`ReadMode::Paged`] instead; so is it for a user who may list but not watch.
    WatchList,
    /// One response without `limit`, decoded as it streams in: the fastest consistent read
    /// measured. The server builds the whole response at once, from its watch cache where
    /// ConsistentListFromCache is on (1.31+), else from etcd.
    #[default]
    Stream,
    /// `resourceVersion=0`: whatever the watch cache holds, which may lag etcd. Never a default;
    /// only taken when the user asks for it.
    Cached,
}

/// [`list_pages`] for built-in kinds, read as protobuf: the server encodes protobuf at a fraction
/// of JSON's cost, and items are decoded straight into `T` by [`ProtobufItem::decode_protobuf`].
/// Pages the server answers in JSON (custom resources, servers or proxies without protobuf) are
/// decoded as JSON; a server that refuses protobuf (406, 415) is asked again in JSON, and the
/// rest of the list stays JSON. Paging, retries and restarts are those of [`list_pages`].
pub async fn list_pages_protobuf<T, F>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    on_batch: F,
) -> anyhow::Result<()>
where
    T: ProtobufItem,
    F: FnMut(Batch<T>) -> anyhow::Result<()>,
{
    list_protobuf(client, resource, namespace, params, ReadMode::Paged, on_batch).await
}

/// Lists a built-in kind as protobuf, read the way `mode` says (see [`ReadMode`]), handing
/// over batches of at most `params.limit` (else [`DEFAULT_PAGE_SIZE`]) items as they are decoded.
pub async fn list_protobuf<T, F>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    mode: ReadMode,
    on_batch: F,
) -> anyhow::Result<()>
where
    T: ProtobufItem,
    F: FnMut(Batch<T>) -> anyhow::Result<()>,
{
    list_protobuf_after(client, resource, namespace, params, mode, std::future::ready(()), on_batch).await
}

/// [`list_protobuf`], whose request is sent at once but whose answer is read (and handed over)
/// only once `ready` is done: a list that needs another one read first (stale-replica-sets
/// reads the Deployments before it judges a ReplicaSet) does not wait a round trip more for it.
pub async fn list_protobuf_after<T, F, R>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    mode: ReadMode,
    ready: R,
    mut on_batch: F,
) -> anyhow::Result<()>
where
    T: ProtobufItem,
    F: FnMut(Batch<T>) -> anyhow::Result<()>,
    R: Future<Output = ()>,
{
    let gate = &mut Gate(Some(ready));
    let what = || describe_target(resource, namespace);
    let batch = batch_size(params);
    let mut restarted = false;
    if mode == ReadMode::WatchList {
        match watch_list(client, resource, namespace, params, batch, gate, &mut on_batch).await {
            Ok(WatchListEnd::Done) => return Ok(()),
            Ok(WatchListEnd::Unsupported { handed_over }) => restarted = handed_over,
            Err(e) => return Err(e.context(format!("listing {}", what()))),
        }
    }
    match mode {
        ReadMode::Stream | ReadMode::Cached => {
            let path = DynamicObject::url_path(resource, namespace);
            stream_list(client, &path, params, mode == ReadMode::Cached, batch, gate, &mut on_batch)
                .await
                .with_context(|| format!("listing {}", what()))
        }
        ReadMode::Paged | ReadMode::WatchList => {
            let mut first = true;
            list_loop(
                client,
                resource,
                namespace,
                params,
                Wire::Protobuf(T::decode_protobuf),
                gate,
                |mut b: Batch<T>| {
                    // A watch-list that handed over items before it turned out unsupported.
                    b.restarted |= std::mem::take(&mut first) && restarted;
                    on_batch(b)
                },
            )
            .await
        }
    }
}

/// How a watch-list ended.
enum WatchListEnd {
    /// At the bookmark that ends the initial events: the list is complete.
    Done,
    /// The server does not do watch-lists (or not for this user); items were handed over already
    /// if `handed_over`.
    Unsupported { handed_over: bool },
}

/// Hands `items` over in batches of `size`, the last one on `flush`.
struct Batcher<'a, T, F> {
    items: Vec<T>,
    size: usize,
    restarted: bool,
    handed_over: bool,
    /// How often a dropped connection started the read over.
    restarts: u32,
    on_batch: &'a mut F,
}

/// One step of reading a streamed body.
enum Chunk {
    Data(Bytes),
    End,
    /// The connection dropped mid-body: read again from the start.
    Restart,
}

impl<'a, T, F: FnMut(Batch<T>) -> anyhow::Result<()>> Batcher<'a, T, F> {
    fn new(size: usize, on_batch: &'a mut F) -> Self {
        Self {
            items: Vec::with_capacity(size.min(4096)),
            size: size.max(1),
            restarted: false,
            handed_over: false,
            restarts: 0,
            on_batch,
        }
    }

    fn push(&mut self, item: T) -> anyhow::Result<()> {
        self.items.push(item);
        if self.items.len() >= self.size { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        if self.items.is_empty() && !self.restarted {
            return Ok(());
        }
        let items = std::mem::replace(&mut self.items, Vec::with_capacity(self.size.min(4096)));
        self.handed_over = true;
        (self.on_batch)(Batch { items, restarted: std::mem::take(&mut self.restarted), remaining: None })
    }

    /// The next chunk of a streamed body. A connection cut mid-stream (up to [`MAX_RESTARTS`]
    /// times) starts the read over, and what was handed over is then to be dropped.
    async fn next_chunk(&mut self, body: &mut kube::client::Body) -> anyhow::Result<Chunk> {
        use http_body_util::BodyExt as _;
        match body.frame().await {
            None => Ok(Chunk::End),
            Some(Ok(frame)) => Ok(Chunk::Data(frame.into_data().unwrap_or_default())),
            Some(Err(e)) if self.restarts < MAX_RESTARTS && crate::retry::is_dropped_connection(&e) => {
                self.restarts += 1;
                self.items.clear();
                self.restarted = self.handed_over;
                Ok(Chunk::Restart)
            }
            Some(Err(e)) => Err(e.into()),
        }
    }
}

/// A request for `path` with `query` asking for protobuf, its body streamed.
fn streamed_request(mut request: http::Request<Vec<u8>>) -> http::Request<kube::client::Body> {
    request.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static(proto::ACCEPT));
    request.extensions_mut().insert(crate::transport::Streamed);
    request.map(kube::client::Body::from)
}

/// The error an error answer stands for (its body is small: read whole).
async fn error_status(response: http::Response<kube::client::Body>) -> kube::Error {
    let code = response.status();
    let protobuf = content_is_protobuf(response.headers());
    match response.into_body().collect_bytes().await {
        Ok(body) => api_error(code, protobuf, &body),
        Err(e) => e,
    }
}

fn content_is_protobuf(headers: &http::HeaderMap) -> bool {
    headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(proto::is_protobuf)
}

fn api_error(code: http::StatusCode, protobuf: bool, body: &[u8]) -> kube::Error {
    let decoded = if protobuf { proto::status(body) } else { serde_json::from_slice::<Status>(body).ok() };
    let status = decoded.unwrap_or_else(|| {
        Status::failure(String::from_utf8_lossy(body).trim(), "Failed to parse error data").with_code(code.as_u16())
    });
    kube::Error::Api(Box::new(status))
}

/// [`ReadMode::WatchList`]: items are handed over as their events arrive, until the bookmark
/// that ends the initial events.
async fn watch_list<T, F>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    batch: usize,
    gate: &mut Gate<impl Future<Output = ()>>,
    on_batch: &mut F,
) -> anyhow::Result<WatchListEnd>
where
    T: ProtobufItem,
    F: FnMut(Batch<T>) -> anyhow::Result<()>,
{
    let path = DynamicObject::url_path(resource, namespace);
    let mut wp = kube::api::WatchParams::streaming_lists();
    wp.label_selector = params.label_selector.clone();
    wp.field_selector = params.field_selector.clone();
    let mut batcher = Batcher::new(batch, on_batch);
    'attempt: loop {
        let request = Request::new(&path).watch(&wp, "").map_err(kube::Error::BuildRequest)?;
        let response = client.send(streamed_request(request)).await?;
        gate.open().await;
        let status = response.status();
        if matches!(status.as_u16(), 400 | 403 | 406 | 415 | 422) {
            // Refused as invalid (sendInitialEvents or resourceVersionMatch unknown to this
            // server, the WatchList feature off) or not in protobuf: no watch-list here. RBAC
            // grants `watch` apart from `list`: who may list but not watch gets the paged list,
            // and who may do neither gets the list's refusal, naming the verb kubectl names.
            return Ok(WatchListEnd::Unsupported { handed_over: batcher.handed_over });
        }
        if !status.is_success() {
            return Err(error_status(response).await.into());
        }
        if !content_is_protobuf(response.headers()) {
            return Ok(WatchListEnd::Unsupported { handed_over: batcher.handed_over });
        }
        let mut body = response.into_body();
        let mut frames = proto::FrameStream::default();
        loop {
            let chunk = match batcher.next_chunk(&mut body).await? {
                Chunk::Data(chunk) => chunk,
                Chunk::End => break,
                Chunk::Restart => continue 'attempt,
            };
            frames.push(&chunk);
            while let Some(frame) = frames.next_frame() {
                let event = proto::WatchEvent::decode(&frame)?;
                match event.kind.as_str() {
                    "ADDED" => batcher.push(T::decode_protobuf(event.object.raw.as_deref().unwrap_or_default())?)?,
                    "BOOKMARK" if event.initial_events_end().is_some() => {
                        batcher.flush()?;
                        return Ok(WatchListEnd::Done);
                    }
                    "BOOKMARK" => {}
                    "ERROR" => {
                        let raw = event.object.raw.as_deref().unwrap_or_default();
                        let status = proto::status(&proto::wrap("v1", "Status", raw.to_vec()));
                        let status = status.unwrap_or_else(|| Status::failure("an ERROR event", "Unknown"));
                        return Err(kube::Error::Api(Box::new(status)).into());
                    }
                    other => anyhow::bail!("unexpected {other} event among a watch-list's initial events"),
                }
            }
        }
        // The server closed the watch before the bookmark: a server that took the request for
        // a plain watch. The initial events are then not known to be complete.
        return Ok(WatchListEnd::Unsupported { handed_over: batcher.handed_over });
    }
}

/// [`ReadMode::Stream`] and [`ReadMode::Cached`]: one response for the list at `path`, decoded
/// as it streams in.
async fn stream_list<T, F>(
    client: &kube::Client,
    path: &str,
    params: &ListParams,
    cached: bool,
    batch: usize,
    gate: &mut Gate<impl Future<Output = ()>>,
    on_batch: &mut F,
) -> anyhow::Result<()>
where
    T: ProtobufItem,
    F: FnMut(Batch<T>) -> anyhow::Result<()>,
{
    let mut params = params.clone();
    params.limit = None;
    params.continue_token = None;
    if cached {
        params = params.match_any();
    }
    let mut batcher = Batcher::new(batch, on_batch);
    'attempt: loop {
        let request = Request::new(path).list(&params).map_err(kube::Error::BuildRequest)?;
        let response = client.send(streamed_request(request)).await?;
        gate.open().await;
        if !response.status().is_success() {
            return Err(error_status(response).await.into());
        }
        if !content_is_protobuf(response.headers()) {
            // JSON after all (a proxy without protobuf): one page, read whole.
            let body = response.into_body().collect_bytes().await?;
            let page: Page<T> = serde_json::from_slice(&body).context("decoding the list")?;
            for item in page.items {
                batcher.push(item)?;
            }
            return batcher.flush();
        }
        let mut body = response.into_body();
        let mut list = proto::ListStream::default();
        loop {
            let chunk = match batcher.next_chunk(&mut body).await? {
                Chunk::Data(chunk) => chunk,
                Chunk::End => break,
                Chunk::Restart => continue 'attempt,
            };
            list.push(&chunk);
            while let Some(part) = list.next_part()? {
                if let proto::ListPart::Item(item) = part {
                    batcher.push(T::decode_protobuf(&item)?)?;
                }
            }
        }
        list.finish()?;
        return batcher.flush();
    }
}

/// Decodes one item's protobuf message.
type ProtobufDecoder<T> = fn(&[u8]) -> anyhow::Result<T>;

/// What the pages of a list are asked for in.
enum Wire<T> {
    /// The objects, in JSON.
    Json,
    /// Only the objects' metadata (`PartialObjectMetadataList`), in JSON.
    Metadata,
    /// The objects in protobuf, decoded by the function (JSON answers are decoded as JSON).
    Protobuf(ProtobufDecoder<T>),
}

/// The Accept header of a metadata-only list, as client-go's metadata client words it (less its
/// protobuf form): the server then leaves every field but `metadata` out of each item.
pub const METADATA_ACCEPT: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// The paging loop of every wire format.
async fn list_loop<T, F>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    wire: Wire<T>,
    gate: &mut Gate<impl Future<Output = ()>>,
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

    let mut accept = match wire {
        Wire::Json => None,
        Wire::Metadata => Some(METADATA_ACCEPT),
        Wire::Protobuf(_) => Some(proto::ACCEPT),
    };
    let mut restarts = 0;
    let mut restarted = false;
    let mut next = Some(spawn_fetch(client, &path, &params, accept));
    while let Some(fetch) = next.take() {
        let page = match fetch.await.context("list task failed")? {
            Ok(page) => page,
            Err(kube::Error::Api(status)) if status.code == 410 && restarts < MAX_RESTARTS => {
                // The continue token outlived etcd's compaction window: start again.
                restarts += 1;
                restarted = true;
                params.continue_token = None;
                next = Some(spawn_fetch(client, &path, &params, accept));
                continue;
            }
            Err(kube::Error::Api(status)) if matches!(status.code, 406 | 415) && accept.is_some() => {
                // Not Acceptable / Unsupported Media Type: this server (or a proxy before it)
                // will not answer in that form here; the same page again, as plain JSON.
                accept = None;
                next = Some(spawn_fetch(client, &path, &params, accept));
                continue;
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("listing {}", what()))),
        };
        let decode_error = || format!("decoding a page of {}", what());
        let (items, remaining) = match (page.protobuf, &wire) {
            (true, Wire::Protobuf(decode)) => {
                let unknown = proto::unwrap(&page.body).with_context(decode_error)?;
                let raw = unknown.raw.as_deref().unwrap_or_default();
                let list = proto::ListPage::new(raw).with_context(decode_error)?;
                let meta = list.meta().with_context(decode_error)?;
                if let Some(token) = meta.r#continue.filter(|t| !t.is_empty()) {
                    params.continue_token = Some(token);
                    next = Some(spawn_fetch(client, &path, &params, accept));
                }
                drop(page);
                let items = list.items().map(*decode).collect::<anyhow::Result<Vec<T>>>().with_context(decode_error)?;
                (items, meta.remaining_item_count.and_then(|n| u64::try_from(n).ok()))
            }
            (true, _) => anyhow::bail!("{}: the server answered protobuf, which was not asked for", decode_error()),
            (false, _) => {
                let text = std::str::from_utf8(&page.body).with_context(decode_error)?;
                let meta = list_meta(text).with_context(decode_error)?;
                if let Some(token) = meta.continue_token.filter(|t| !t.is_empty()) {
                    params.continue_token = Some(token);
                    next = Some(spawn_fetch(client, &path, &params, accept));
                }
                let items: Page<T> = serde_json::from_str(text).with_context(decode_error)?;
                (items.items, meta.remaining_item_count)
            }
        };
        gate.open().await;
        on_batch(Batch { items, restarted: std::mem::take(&mut restarted), remaining })?;
    }
    Ok(())
}

/// The page's list metadata (continue token, remaining count), read before the items are decoded
/// so that the next request can start at once. The API server writes a list's own metadata
/// before its items; reading just that saves a scan of the whole page. Any other layout falls
/// back to the full scan.
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
    collect_all(client, resource, namespace, params, Wire::Json).await
}

/// Every item of `resource` into one vector, but only its metadata (a `PartialObjectMetadataList`
/// page by page): for counts, names and finalizers, without the bytes of specs and statuses.
/// `T` reads an item's `metadata`. A server or proxy that refuses the form (406, 415) is asked
/// for the whole objects.
pub async fn list_all_metadata<T: DeserializeOwned>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
) -> anyhow::Result<Vec<T>> {
    collect_all(client, resource, namespace, params, Wire::Metadata).await
}

async fn collect_all<T: DeserializeOwned>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    wire: Wire<T>,
) -> anyhow::Result<Vec<T>> {
    let mut all = Vec::new();
    list_loop(client, resource, namespace, params, wire, &mut open_gate(), collector(&mut all)).await?;
    Ok(all)
}

/// Gathers batches into `all`, starting over when the list restarted.
fn collector<T>(all: &mut Vec<T>) -> impl FnMut(Batch<T>) -> anyhow::Result<()> + '_ {
    move |batch| {
        if batch.restarted {
            all.clear();
        }
        all.extend(batch.items);
        Ok(())
    }
}

/// Lists every item of a built-in kind into one vector, as protobuf (see [`list_protobuf`]).
pub async fn list_all_protobuf<T: ProtobufItem>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    params: &ListParams,
    mode: ReadMode,
) -> anyhow::Result<Vec<T>> {
    let mut all = Vec::new();
    list_protobuf(client, resource, namespace, params, mode, collector(&mut all)).await?;
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
    get_as(client, resource, namespace, name, None).await
}

/// [`get`] for a built-in kind, read as protobuf (JSON if that is what the server answers).
pub async fn get_protobuf<T: ProtobufItem>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    name: &str,
) -> anyhow::Result<Option<T>> {
    get_as(client, resource, namespace, name, Some(T::decode_protobuf)).await
}

async fn get_as<T: DeserializeOwned>(
    client: &kube::Client,
    resource: &ApiResource,
    namespace: Option<&str>,
    name: &str,
    protobuf: Option<ProtobufDecoder<T>>,
) -> anyhow::Result<Option<T>> {
    let path = DynamicObject::url_path(resource, namespace);
    let what = || {
        let kind = group_resource(&resource.plural, &resource.group);
        match namespace {
            Some(ns) => format!("getting {kind} {ns}/{name}"),
            None => format!("getting {kind} {name}"),
        }
    };
    // Retried, where worth it, by the client's transport (crate::retry).
    let fetched = match Request::new(&path).get(name, &GetParams::default()) {
        Ok(mut request) => {
            if protobuf.is_some() {
                request.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static(proto::ACCEPT));
            }
            get_bytes(client, request).await
        }
        Err(e) => Err(kube::Error::BuildRequest(e)),
    };
    let page = match fetched {
        Ok(page) => page,
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(None),
        Err(e) => return Err(anyhow::Error::new(e)).with_context(what),
    };
    let object = match (page.protobuf, protobuf) {
        (true, Some(decode)) => {
            let unknown = proto::unwrap(&page.body).with_context(what)?;
            decode(unknown.raw.as_deref().unwrap_or_default())
        }
        _ => serde_json::from_slice(&page.body).map_err(anyhow::Error::from),
    };
    object.map(Some).with_context(what)
}

/// A page as it arrived, and whether it is protobuf (else JSON).
struct Fetched {
    body: Bytes,
    protobuf: bool,
}

fn spawn_fetch(
    client: &kube::Client,
    path: &str,
    params: &ListParams,
    accept: Option<&'static str>,
) -> tokio::task::JoinHandle<kube::Result<Fetched>> {
    let (client, path, params) = (client.clone(), path.to_string(), params.clone());
    crate::error::spawn_in_target(async move {
        // Retries (a dropped page, a 503) happen below, in the client's transport.
        let mut request = Request::new(&path).list(&params).map_err(kube::Error::BuildRequest)?;
        if let Some(accept) = accept {
            request.headers_mut().insert(http::header::ACCEPT, http::HeaderValue::from_static(accept));
        }
        get_bytes(&client, request).await
    })
}

/// Sends `request` and returns the body as it arrived; an error status becomes
/// `kube::Error::Api`, as kube's own helpers make it (from a JSON or a protobuf `Status`). Unlike
/// `Client::request_text`, the page is not copied into a `String`: pages are big, and two are in
/// flight.
async fn get_bytes(client: &kube::Client, request: http::Request<Vec<u8>>) -> kube::Result<Fetched> {
    let response = client.send(request.map(kube::client::Body::from)).await?;
    let code = response.status();
    let protobuf = content_is_protobuf(response.headers());
    let body = response.into_body().collect_bytes().await?;
    if code.is_client_error() || code.is_server_error() {
        return Err(api_error(code, protobuf, &body));
    }
    Ok(Fetched { body, protobuf })
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
        let (client, log) = mock_client_raw(move |q, _| {
            let (status, body) = respond(q);
            (status, "application/json", body.into_bytes())
        });
        (client, log)
    }

    /// A client whose "server" answers from `respond(query, accept) -> (status, content type,
    /// body)`, logging each query with its Accept header (`accept=…` appended).
    fn mock_client_raw(
        respond: impl Fn(&str, &str) -> (u16, &'static str, Vec<u8>) + Send + Sync + 'static,
    ) -> (kube::Client, Arc<Mutex<Vec<String>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        let respond = Arc::new(respond);
        let service = tower::service_fn(move |req: HttpRequest<Body>| {
            let query = req.uri().query().unwrap_or("").to_string();
            let accept = req.headers().get("accept").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            seen.lock().unwrap().push(format!("{query} accept={accept}"));
            let (status, content_type, body) = respond(&query, &accept);
            async move {
                Ok::<_, std::convert::Infallible>(
                    Response::builder()
                        .status(StatusCode::from_u16(status).unwrap())
                        .header("content-type", content_type)
                        .body(Body::from(body))
                        .unwrap(),
                )
            }
        });
        (kube::Client::new(service, "default"), log)
    }

    /// A protobuf ReplicaSetList page, as the API server encodes it.
    fn proto_page(names: &[&str], next: Option<&str>) -> Vec<u8> {
        use k8s_pb::api::apps::v1::{ReplicaSet, ReplicaSetList};
        use k8s_pb::apimachinery::pkg::apis::meta::v1::{ListMeta as PbListMeta, ObjectMeta};
        use prost::Message as _;
        let items = names
            .iter()
            .map(|n| ReplicaSet {
                metadata: Some(ObjectMeta { name: Some(n.to_string()), ..Default::default() }),
                ..Default::default()
            })
            .collect();
        let metadata = PbListMeta {
            resource_version: Some("9".into()),
            r#continue: Some(next.unwrap_or("").into()),
            ..Default::default()
        };
        let list = ReplicaSetList { metadata: Some(metadata), items };
        proto::wrap("apps/v1", "ReplicaSetList", list.encode_to_vec())
    }

    fn proto_gone() -> Vec<u8> {
        use k8s_pb::apimachinery::pkg::apis::meta::v1::Status as PbStatus;
        use prost::Message as _;
        let status = PbStatus {
            status: Some("Failure".into()),
            message: Some("The provided continue parameter is too old to display a consistent list result.".into()),
            reason: Some("Expired".into()),
            code: Some(410),
            ..Default::default()
        };
        proto::wrap("v1", "Status", status.encode_to_vec())
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

    impl ProtobufItem for Lean {
        fn decode_protobuf(message: &[u8]) -> anyhow::Result<Self> {
            use prost::Message as _;
            let rs = k8s_pb::api::apps::v1::ReplicaSet::decode(message)?;
            let name = rs.metadata.and_then(|m| m.name).unwrap_or_default();
            Ok(Lean { metadata: Meta { name } })
        }
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

    const JSON: &str = "application/json";
    const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

    /// The batches a protobuf read of the ReplicaSets in "shop" hands over, `mode` and `params`
    /// as given: each its names joined by commas, and whether the read restarted.
    async fn read_batches(
        client: &kube::Client,
        mode: ReadMode,
        params: ListParams,
    ) -> anyhow::Result<Vec<(String, bool)>> {
        let mut batches = Vec::new();
        super::list_protobuf(client, &rs(), Some("shop"), &params, mode, |b: Batch<Lean>| {
            batches.push((names(&b.items).join(","), b.restarted));
            Ok(())
        })
        .await?;
        Ok(batches)
    }

    /// Pages of the default size, as [`list_pages_protobuf`] reads them.
    async fn list_protobuf(client: &kube::Client) -> anyhow::Result<Vec<(String, bool)>> {
        read_batches(client, ReadMode::Paged, ListParams::default()).await
    }

    #[tokio::test]
    async fn protobuf_pages_are_asked_for_and_followed() {
        let (client, log) = mock_client_raw(|q, _| match q {
            q if q.contains("continue=t1") => (200, PROTOBUF, proto_page(&["c"], None)),
            _ => (200, PROTOBUF, proto_page(&["a", "b"], Some("t1"))),
        });
        let batches = list_protobuf(&client).await.unwrap();
        assert_eq!(batches, [("a,b".into(), false), ("c".into(), false)]);
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2);
        assert!(
            log.iter().all(|q| q.ends_with("accept=application/vnd.kubernetes.protobuf, application/json")),
            "{log:?}"
        );
    }

    #[tokio::test]
    async fn a_json_answer_to_a_protobuf_request_is_decoded_as_json() {
        // What the server does for custom resources; pages of both kinds may even alternate.
        let (client, _) = mock_client_raw(|q, _| match q {
            q if q.contains("continue=t1") => (200, PROTOBUF, proto_page(&["c"], None)),
            _ => (200, JSON, page(&["a", "b"], Some("t1")).into_bytes()),
        });
        assert_eq!(list_protobuf(&client).await.unwrap(), [("a,b".into(), false), ("c".into(), false)]);
    }

    #[tokio::test]
    async fn a_server_refusing_protobuf_is_asked_again_in_json() {
        for refusal in [406, 415] {
            let (client, log) = mock_client_raw(move |q, accept| {
                if accept.contains("protobuf") {
                    let refused =
                        format!(r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","code":{refusal}}}"#);
                    return (refusal, JSON, refused.into_bytes());
                }
                match q {
                    q if q.contains("continue=t1") => (200, JSON, page(&["c"], None).into_bytes()),
                    _ => (200, JSON, page(&["a", "b"], Some("t1")).into_bytes()),
                }
            });
            assert_eq!(list_protobuf(&client).await.unwrap(), [("a,b".into(), false), ("c".into(), false)]);
            let log = log.lock().unwrap();
            // Refused once; the retry and the rest of the list are plain JSON requests.
            assert_eq!(log.len(), 3, "{log:?}");
            assert!(log[1..].iter().all(|q| q.ends_with("accept=")), "{log:?}");
        }
    }

    /// The Accept header of a metadata-only list, written out by hand.
    const PARTIAL: &str = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

    #[tokio::test]
    async fn a_metadata_only_list_asks_for_partial_metadata_and_takes_null_items_for_none() {
        let (client, log) = mock_client_raw(|q, _| {
            match q {
            q if q.contains("continue=t1") => (
                200,
                JSON,
                br#"{"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"9"},"items":null}"#.to_vec(),
            ),
            _ => (200, JSON, page(&["a"], Some("t1")).into_bytes()),
        }
        });
        let all: Vec<Lean> = list_all_metadata(&client, &rs(), None, &ListParams::default()).await.unwrap();
        assert_eq!(names(&all), ["a"]);
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 2, "{log:?}");
        assert!(log.iter().all(|q| q.ends_with(&format!("accept={PARTIAL}"))), "{log:?}");
    }

    #[tokio::test]
    async fn a_server_refusing_metadata_only_lists_is_asked_for_whole_objects() {
        for refusal in [406, 415] {
            let (client, log) = mock_client_raw(move |_, accept| {
                if accept.contains("PartialObjectMetadataList") {
                    let refused =
                        format!(r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","code":{refusal}}}"#);
                    return (refusal, JSON, refused.into_bytes());
                }
                (200, JSON, page(&["a", "b"], None).into_bytes())
            });
            let all: Vec<Lean> = list_all_metadata(&client, &rs(), None, &ListParams::default()).await.unwrap();
            assert_eq!(names(&all), ["a", "b"]);
            let log = log.lock().unwrap();
            assert_eq!(log.len(), 2, "{log:?}");
            assert!(log[0].ends_with(&format!("accept={PARTIAL}")) && log[1].ends_with("accept="), "{log:?}");
        }
    }

    #[tokio::test]
    async fn an_expired_continue_token_in_protobuf_restarts_the_list() {
        let expired_once = Arc::new(Mutex::new(false));
        let flag = expired_once.clone();
        let (client, _) = mock_client_raw(move |q, _| {
            if q.contains("continue=t1") {
                let mut expired = flag.lock().unwrap();
                if !*expired {
                    *expired = true;
                    return (410, PROTOBUF, proto_gone());
                }
                return (200, PROTOBUF, proto_page(&["c"], None));
            }
            (200, PROTOBUF, proto_page(&["a", "b"], Some("t1")))
        });
        let batches = list_protobuf(&client).await.unwrap();
        assert_eq!(batches, [("a,b".into(), false), ("a,b".into(), true), ("c".into(), false)]);
    }

    const PROTOBUF_WATCH: &str = "application/vnd.kubernetes.protobuf;stream=watch";

    /// One frame of a protobuf watch, as the API server writes it: a 4-byte big-endian length,
    /// then a `WatchEvent` whose object is a ReplicaSet in its own envelope.
    fn watch_frame(kind: &str, name: &str, annotations: &[(&str, &str)]) -> Vec<u8> {
        use k8s_pb::api::apps::v1::ReplicaSet;
        use k8s_pb::apimachinery::pkg::apis::meta::v1::{ObjectMeta, WatchEvent};
        use k8s_pb::apimachinery::pkg::runtime::RawExtension;
        use prost::Message as _;
        let rs = ReplicaSet {
            metadata: Some(ObjectMeta {
                name: (!name.is_empty()).then(|| name.to_string()),
                resource_version: Some("9".into()),
                annotations: annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let event = WatchEvent {
            r#type: Some(kind.into()),
            object: Some(RawExtension { raw: Some(proto::wrap("apps/v1", "ReplicaSet", rs.encode_to_vec())) }),
        };
        let message = event.encode_to_vec();
        [u32::try_from(message.len()).unwrap().to_be_bytes().as_slice(), &message].concat()
    }

    /// The bookmark that ends a watch-list's initial events.
    fn initial_events_end() -> Vec<u8> {
        watch_frame("BOOKMARK", "", &[("k8s.io/initial-events-end", "true")])
    }

    /// A server whose watch-list answer is `watch`; its paged list is a,b then c, in protobuf.
    fn watch_list_server(
        watch: impl Fn() -> (u16, &'static str, Vec<u8>) + Send + Sync + 'static,
    ) -> (kube::Client, Arc<Mutex<Vec<String>>>) {
        mock_client_raw(move |q, _| match q {
            q if q.contains("watch=true") => watch(),
            q if q.contains("continue=t1") => (200, PROTOBUF, proto_page(&["c"], None)),
            _ => (200, PROTOBUF, proto_page(&["a", "b"], Some("t1"))),
        })
    }

    /// The batches a watch-list read hands over, batches of `limit`.
    async fn read_watch_list(client: &kube::Client, limit: u32) -> anyhow::Result<Vec<(String, bool)>> {
        read_batches(client, ReadMode::WatchList, ListParams::default().limit(limit)).await
    }

    /// The kinds of request a read made, in order: `watch-list` or `page`.
    fn requests(log: &Mutex<Vec<String>>) -> Vec<&'static str> {
        log.lock()
            .unwrap()
            .iter()
            .map(|q| {
                if q.contains("watch=true") {
                    assert!(q.contains("sendInitialEvents=true"), "{q}");
                    assert!(q.contains("resourceVersionMatch=NotOlderThan"), "{q}");
                    "watch-list"
                } else {
                    assert!(q.contains("limit=500") && !q.contains("sendInitialEvents"), "{q}");
                    "page"
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn a_watch_list_ends_at_the_initial_events_bookmark_without_paging() {
        let (client, log) = watch_list_server(|| {
            let frames = [watch_frame("ADDED", "x", &[]), watch_frame("ADDED", "y", &[]), initial_events_end()];
            (200, PROTOBUF_WATCH, frames.concat())
        });
        assert_eq!(read_watch_list(&client, 500).await.unwrap(), [("x,y".into(), false)]);
        assert_eq!(requests(&log), ["watch-list"]);
    }

    #[tokio::test]
    async fn a_watch_list_refused_as_invalid_or_forbidden_is_read_paged() {
        for code in [400, 403, 422] {
            let (client, log) = watch_list_server(move || {
                let refused = format!(
                    r#"{{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Invalid","code":{code}}}"#
                );
                (code, JSON, refused.into_bytes())
            });
            let batches = read_watch_list(&client, 500).await.unwrap();
            assert_eq!(batches, [("a,b".into(), false), ("c".into(), false)], "after a {code}");
            assert_eq!(requests(&log), ["watch-list", "page", "page"], "after a {code}");
        }
    }

    #[tokio::test]
    async fn a_watch_list_answered_in_json_is_read_paged() {
        // A server (or a proxy) that does not speak protobuf watches: JSON events, never decoded.
        let (client, log) = watch_list_server(|| {
            let events = r#"{"type":"ADDED","object":{"kind":"ReplicaSet","apiVersion":"apps/v1","metadata":{"name":"x"}}}
"#;
            (200, JSON, events.as_bytes().to_vec())
        });
        assert_eq!(read_watch_list(&client, 500).await.unwrap(), [("a,b".into(), false), ("c".into(), false)]);
        assert_eq!(requests(&log), ["watch-list", "page", "page"]);
    }

    #[tokio::test]
    async fn a_watch_list_that_ends_before_its_bookmark_is_read_paged_from_the_start() {
        // A server that took it for a plain watch: the events are not known to be all of them.
        let (client, log) = watch_list_server(|| {
            (200, PROTOBUF_WATCH, [watch_frame("ADDED", "x", &[]), watch_frame("ADDED", "y", &[])].concat())
        });
        assert_eq!(read_watch_list(&client, 500).await.unwrap(), [("a,b".into(), false), ("c".into(), false)]);
        assert_eq!(requests(&log), ["watch-list", "page", "page"]);

        // With batches of one, x was handed over before the stream ended: the paged list says
        // to drop it (restarted), and nothing of the watch remains.
        let (client, _) = watch_list_server(|| {
            (200, PROTOBUF_WATCH, [watch_frame("ADDED", "x", &[]), watch_frame("ADDED", "y", &[])].concat())
        });
        assert_eq!(
            read_watch_list(&client, 1).await.unwrap(),
            [("x".into(), false), ("y".into(), false), ("a,b".into(), true), ("c".into(), false)]
        );
        let (client, _) = watch_list_server(|| {
            (200, PROTOBUF_WATCH, [watch_frame("ADDED", "x", &[]), watch_frame("ADDED", "y", &[])].concat())
        });
        let all: Vec<Lean> =
            list_all_protobuf(&client, &rs(), Some("shop"), &ListParams::default().limit(1), ReadMode::WatchList)
                .await
                .unwrap();
        assert_eq!(names(&all), ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn a_protobuf_error_keeps_the_servers_message() {
        let (client, _) = mock_client_raw(|q, _| {
            if q.contains("continue") {
                (410, PROTOBUF, proto_gone())
            } else {
                (200, PROTOBUF, proto_page(&["a"], Some("t1")))
            }
        });
        let err = list_protobuf(&client).await.unwrap_err();
        let message = crate::error::describe(&err).message;
        assert!(
            message.starts_with(
                "listing replicasets.apps in namespace \"shop\": The provided continue parameter is too old"
            ),
            "{message}"
        );
    }

    /// A server whose whole protobuf list of a, b, c is cut off, as by a dropped connection,
    /// in the middle of its last item in the first `cuts` answers, and whole after that.
    fn cut_list_server(cuts: usize) -> (kube::Client, Arc<Mutex<usize>>) {
        use futures::stream;
        use http_body::Frame;
        use http_body_util::StreamBody;
        let calls = Arc::new(Mutex::new(0));
        let seen = calls.clone();
        let service = tower::service_fn(move |_: HttpRequest<Body>| {
            let call = {
                let mut calls = seen.lock().unwrap();
                *calls += 1;
                *calls
            };
            let whole = proto_page(&["a", "b", "c"], None);
            let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = if call <= cuts {
                let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
                // Inside c's name field (tag 1, length 1, "c").
                let cut = whole.windows(3).rposition(|w| w == b"\n\x01c").unwrap() + 2;
                vec![Ok(Frame::data(Bytes::copy_from_slice(&whole[..cut]))), Err(reset)]
            } else {
                vec![Ok(Frame::data(Bytes::from(whole)))]
            };
            async move {
                Ok::<_, std::convert::Infallible>(
                    Response::builder()
                        .header("content-type", PROTOBUF)
                        .body(StreamBody::new(stream::iter(frames)))
                        .unwrap(),
                )
            }
        });
        (kube::Client::new(service, "default"), calls)
    }

    #[tokio::test]
    async fn a_gated_list_asks_at_once_and_hands_over_only_once_ready() {
        for mode in [ReadMode::Paged, ReadMode::Stream] {
            let (client, log) = mock_client_raw(|_, _| (200, PROTOBUF, proto_page(&["a", "b"], None)));
            let (open, ready) = tokio::sync::oneshot::channel::<()>();
            let batches = Mutex::new(Vec::new());
            let ready = async {
                let _ = ready.await;
            };
            let (resource, params) = (rs(), ListParams::default());
            let list = super::list_protobuf_after(&client, &resource, None, &params, mode, ready, |b: Batch<Lean>| {
                batches.lock().unwrap().push(names(&b.items).join(","));
                Ok(())
            });
            let check = async {
                // Time for the list to send its request and reach the gate (its page is fetched
                // by a task of its own when paged).
                for _ in 0..50 {
                    tokio::task::yield_now().await;
                }
                assert_eq!(log.lock().unwrap().len(), 1, "{mode:?}: the request is sent before the gate opens");
                assert!(batches.lock().unwrap().is_empty(), "{mode:?}: nothing is handed over before it opens");
                open.send(()).unwrap();
            };
            let (listed, ()) = tokio::join!(list, check);
            listed.unwrap();
            assert_eq!(*batches.lock().unwrap(), ["a,b"], "{mode:?}");
        }
    }

    async fn read_stream(client: &kube::Client) -> anyhow::Result<Vec<(String, bool)>> {
        read_batches(client, ReadMode::Stream, ListParams::default().limit(1)).await
    }

    #[tokio::test]
    async fn a_stream_cut_mid_list_is_read_again_from_the_start() {
        let (client, calls) = cut_list_server(1);
        let batches = read_stream(&client).await.unwrap();
        let expected = [("a", false), ("b", false), ("a", true), ("b", false), ("c", false)];
        assert_eq!(batches, expected.map(|(n, r)| (n.to_string(), r)));
        assert_eq!(*calls.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn a_stream_that_keeps_being_cut_fails_after_its_restarts() {
        let (client, calls) = cut_list_server(usize::MAX);
        let err = read_stream(&client).await.unwrap_err();
        let message = crate::error::describe(&err).message;
        assert!(message.starts_with("listing replicasets.apps in namespace \"shop\""), "{message}");
        assert!(message.contains("connection reset by peer"), "{message}");
        assert_eq!(*calls.lock().unwrap(), 1 + MAX_RESTARTS as usize);
    }
}
