//! The HTTPS listener: its own thread and tokio runtime, TLS, HTTP/1.1 and HTTP/2 via ALPN.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::Context as _;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;

use crate::cluster::Cluster;
use crate::handler;

/// A running listener; dropping it stops the server and joins its thread.
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Binds 127.0.0.1:`port` (0 = any free port) and serves `cluster` on a new thread.
pub fn spawn(cluster: Cluster, tls: Arc<rustls::ServerConfig>, port: u16) -> anyhow::Result<Running> {
    let (addr_tx, addr_rx) = std::sync::mpsc::channel::<std::io::Result<SocketAddr>>();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("apiserver-fake".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("apiserver-fake-worker")
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = addr_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match TcpListener::bind(("127.0.0.1", port)).await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = addr_tx.send(Err(e));
                        return;
                    }
                };
                let _ = addr_tx.send(listener.local_addr());
                let app = Router::new().fallback(handler::handle).with_state(cluster.clone());
                tokio::select! {
                    _ = accept_loop(listener, TlsAcceptor::from(tls), app, cluster) => {}
                    _ = stop_rx => {}
                }
            });
            runtime.shutdown_background();
        })
        .context("starting the server thread")?;
    let addr = addr_rx
        .recv()
        .context("the server thread stopped before binding")?
        .with_context(|| format!("binding 127.0.0.1:{port}"))?;
    Ok(Running { addr, stop: Some(stop_tx), thread: Some(thread) })
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, app: Router, cluster: Cluster) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let latency = cluster.faults().latency();
        tokio::spawn(async move {
            // A server far away (`Faults::set_latency`): the TCP handshake's round trip and
            // TLS 1.3's pass before the client can send its request.
            if !latency.is_zero() {
                tokio::time::sleep(2 * latency).await;
            }
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = TowerToHyperService::new(app);
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(tls), service).await;
        });
    }
}
