//! kube's client stack, speaking HTTP/2 to the API server as kubectl does.
//!
//! kube 5 builds its hyper client for HTTP/1.1 only: every request in flight at once holds a
//! connection of its own, so two concurrent lists cost two TCP connections and two TLS
//! handshakes (on both ends), and can-i-batch's concurrent reviews one each. kubectl (Go's
//! net/http) offers `h2` by ALPN and multiplexes every request over one connection. This stack
//! is kube's own (`ClientBuilder::try_from`), in the same order and from the same `Config`
//! pieces, but:
//!
//! - the TLS connector offers `h2` and `http/1.1`: the server picks, a server without HTTP/2
//!   still gets HTTP/1.1, and plain `http://` stays HTTP/1.1, as with kubectl;
//! - [`OneDial`]: until the server's protocol is known, one connection is dialled at a time,
//!   as Go's HTTP/2 transport shares one dial among the requests waiting for it. Without it,
//!   requests sent together each dial, and hyper drops the extra connections only once their
//!   handshakes have negotiated `h2`, the handshakes' work already done;
//! - Go's dialer and HTTP/2 settings: TCP_NODELAY, and pings on a quiet connection;
//! - no tracing layer (nothing here subscribes to it) and no retry layer (ours is
//!   [`crate::transport`]'s).
//!
//! Through a proxy (`proxy-url`), kube's stack is used as it is (HTTP/1.1): tunnelling and proxy
//! credentials stay kube's.

use anyhow::Context as _;
use futures::future::BoxFuture;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use kube::client::{Body, ClientBuilder, ConfigExt as _, DynBody};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::util::BoxService;
use tower::{BoxError, Service, ServiceBuilder, ServiceExt as _};

use crate::transport::KubeService;

/// kube's client builder for `config`, before our transport layer is added.
pub fn builder(config: kube::Config) -> anyhow::Result<ClientBuilder<KubeService>> {
    if config.proxy_url.is_some() {
        return Ok(ClientBuilder::try_from(config)?);
    }
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    // As Go's dialer does: with HTTP/2's small frames (a request's HEADERS, a WINDOW_UPDATE),
    // Nagle's algorithm would hold a write back until the server's delayed ACK, 40 ms later.
    http.set_nodelay(true);
    let mut tls =
        hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(config.rustls_client_config()?).https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = name.clone().try_into().with_context(|| format!("invalid tls-server-name {name:?}"))?;
        tls = tls.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name));
    }
    let mut connector = hyper_timeout::TimeoutConnector::new(tls.enable_all_versions().wrap_connector(http));
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let one_dial = OneDial::new(connector);
    let closed_with_the_client = Arc::new(one_dial.closer());
    let client: hyper_util::client::legacy::Client<_, Body> =
        hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            // As client-go: a ping after 30 s without a frame, and the connection dropped if none
            // comes back in 15 s, so that requests do not wait on a connection that silently died.
            .timer(TokioTimer::new())
            .http2_keep_alive_interval(Duration::from_secs(30))
            .http2_keep_alive_timeout(Duration::from_secs(15))
            // A command's connection lasts as long as the command: never dropped for being idle
            // while another request is still on it (hyper counts idleness from the last checkout).
            .pool_idle_timeout(None)
            .build(one_dial);

    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .layer(
            tower_http::decompression::DecompressionLayer::new()
                .no_br()
                .no_deflate()
                .no_zstd()
                .gzip(!config.disable_compression),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(BoxError::from)
        .service(client)
        .map_response(move |response| {
            let _ = &closed_with_the_client;
            response.map(|body| Box::new(http_body_util::BodyExt::map_err(body, BoxError::from)) as Box<DynBody>)
        });
    Ok(ClientBuilder::new(BoxService::new(service), config.default_namespace.clone()))
}

/// A connector (one per client, so one per server) that dials one connection at a time until
/// the server has answered one with HTTP/1.1. A connection that negotiated `h2` keeps the dial
/// slot while it lives: every request goes over it, and a dial waiting meanwhile (hyper's, for
/// a request that then found the `h2` connection in its pool) goes on only if it closes. Dials
/// go in parallel once the server is known to speak HTTP/1.1, where each request in flight
/// needs a connection of its own, or once a dial failed: queued behind each other, dials to a
/// server that does not answer would add up their timeouts.
#[derive(Clone)]
pub struct OneDial<C> {
    inner: C,
    slot: Arc<Semaphore>,
    parallel: Arc<AtomicBool>,
}

impl<C> OneDial<C> {
    /// Wraps the connector `inner`.
    pub fn new(inner: C) -> Self {
        Self { inner, slot: Arc::new(Semaphore::new(1)), parallel: Arc::new(AtomicBool::new(false)) }
    }

    /// What the client holds so that, once it is dropped, dials still waiting fail: hyper keeps
    /// such a dial (and with it its pool and the `h2` connection it waits on) alive otherwise.
    fn closer(&self) -> Closer {
        Closer(Arc::clone(&self.slot))
    }
}

/// Closes the dial slot when dropped (see [`OneDial::closer`]).
struct Closer(Arc<Semaphore>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.close();
    }
}

impl<C> Service<http::Uri> for OneDial<C>
where
    C: Service<http::Uri> + Clone + Send + 'static,
    C::Response: Connection + Send,
    C::Future: Send,
    C::Error: Into<BoxError>,
{
    type Response = Dialed<C::Response>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Dialed<C::Response>, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        // The connector that was polled ready makes this call; the clone stays for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (slot, parallel) = (Arc::clone(&self.slot), Arc::clone(&self.parallel));
        Box::pin(async move {
            let permit = if parallel.load(Ordering::Acquire) { None } else { Some(slot.acquire_owned().await?) };
            // Learned while this dial waited: no need to hold the others up any more.
            let permit = permit.filter(|_| !parallel.load(Ordering::Acquire));
            let io = inner.call(uri).await.map_err(|e| {
                parallel.store(true, Ordering::Release);
                e.into()
            })?;
            let slot = match permit {
                Some(permit) if io.connected().is_negotiated_h2() => Some(permit),
                _ => {
                    parallel.store(true, Ordering::Release);
                    None
                }
            };
            Ok(Dialed { io, _slot: slot })
        })
    }
}

/// A connection from [`OneDial`]; an `h2` one holds the dial slot until it is dropped.
pub struct Dialed<T> {
    io: T,
    _slot: Option<OwnedSemaphorePermit>,
}

impl<T: Connection> Connection for Dialed<T> {
    fn connected(&self) -> Connected {
        self.io.connected()
    }
}

impl<T: Read + Unpin> Read for Dialed<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: ReadBufCursor<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: Write + Unpin> Write for Dialed<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// A connector whose connections say whether they negotiated `h2`, counting its dials.
    #[derive(Clone)]
    struct Fake {
        h2: bool,
        dials: Arc<AtomicUsize>,
        /// Dials that fail (connection refused) before the others succeed.
        failing: Arc<AtomicUsize>,
    }

    struct Conn(bool);

    impl Connection for Conn {
        fn connected(&self) -> Connected {
            if self.0 { Connected::new().negotiated_h2() } else { Connected::new() }
        }
    }

    impl Service<http::Uri> for Fake {
        type Response = Conn;
        type Error = io::Error;
        type Future = futures::future::Ready<io::Result<Conn>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: http::Uri) -> Self::Future {
            self.dials.fetch_add(1, Ordering::SeqCst);
            if self.failing.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
                return futures::future::ready(Err(io::ErrorKind::ConnectionRefused.into()));
            }
            futures::future::ready(Ok(Conn(self.h2)))
        }
    }

    fn one_dial(h2: bool, failing: usize) -> (OneDial<Fake>, Arc<AtomicUsize>) {
        let dials = Arc::new(AtomicUsize::new(0));
        let failing = Arc::new(AtomicUsize::new(failing));
        (OneDial::new(Fake { h2, dials: Arc::clone(&dials), failing }), dials)
    }

    async fn try_dial(connector: &mut OneDial<Fake>) -> Result<Dialed<Conn>, BoxError> {
        connector.ready().await?.call(http::Uri::from_static("https://127.0.0.1:6443")).await
    }

    async fn dial(connector: &mut OneDial<Fake>) -> Dialed<Conn> {
        try_dial(connector).await.unwrap()
    }

    const A_WHILE: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn an_h2_connection_holds_back_other_dials_while_it_lives() {
        let (mut connector, dials) = one_dial(true, 0);
        let first = dial(&mut connector).await;
        let mut other = connector.clone();
        let waiting = tokio::spawn(async move { dial(&mut other).await });
        tokio::time::sleep(A_WHILE).await;
        assert_eq!(dials.load(Ordering::SeqCst), 1, "a second dial while the h2 connection is open");
        assert!(!waiting.is_finished());
        drop(first);
        let _second = waiting.await.unwrap();
        assert_eq!(dials.load(Ordering::SeqCst), 2, "the connection closed: the next dial goes on");
    }

    #[tokio::test]
    async fn once_the_server_answers_http1_dials_go_in_parallel() {
        let (mut connector, dials) = one_dial(false, 0);
        let first = dial(&mut connector).await;
        let second = dial(&mut connector).await;
        let third = dial(&mut connector).await;
        assert_eq!(dials.load(Ordering::SeqCst), 3);
        drop((first, second, third));
    }

    #[tokio::test]
    async fn after_a_failed_dial_dials_go_in_parallel() {
        let (mut connector, dials) = one_dial(true, 1);
        assert!(try_dial(&mut connector).await.is_err());
        let first = dial(&mut connector).await;
        let second = dial(&mut connector).await;
        assert_eq!(dials.load(Ordering::SeqCst), 3);
        drop((first, second));
    }

    #[tokio::test]
    async fn a_dial_still_waiting_when_the_client_goes_fails() {
        let (mut connector, dials) = one_dial(true, 0);
        let _first = dial(&mut connector).await;
        let closer = connector.closer();
        let mut other = connector.clone();
        let waiting = tokio::spawn(async move { try_dial(&mut other).await });
        tokio::time::sleep(A_WHILE).await;
        drop(closer);
        assert!(waiting.await.unwrap().is_err());
        assert_eq!(dials.load(Ordering::SeqCst), 1);
    }
}
