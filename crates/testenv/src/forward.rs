//! A TCP forwarder in front of a test's server that counts the connections opened through it:
//! the tests of how many connections (so TLS handshakes) a plugin costs a cluster. TLS passes
//! through untouched, so the server's certificate (issued for 127.0.0.1) still verifies. Or,
//! as [`Forwarder::proxy`], an HTTP proxy (`CONNECT`) for a kubeconfig's `proxy-url`.

use std::io::{self, BufRead as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::Env;

/// Forwards 127.0.0.1:PORT to the server of an [`Env`] until dropped.
pub struct Forwarder {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Forwarder {
    /// Starts forwarding to the server of `env` (the fake or the envtest control plane).
    pub fn to(env: &Env) -> Forwarder {
        let (url, _) = env.endpoint.clone().expect("forwarding needs the fake or the envtest control plane");
        let target = url.trim_start_matches("https://").trim_end_matches('/').to_string();
        Self::start(Some(target))
    }

    /// An HTTP proxy: each connection asks `CONNECT HOST:PORT` and is then forwarded there.
    pub fn proxy() -> Forwarder {
        Self::start(None)
    }

    /// Forwards to `target`, or where each connection's `CONNECT` asks.
    fn start(target: Option<String>) -> Forwarder {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the forwarder");
        let port = listener.local_addr().expect("the forwarder's address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (Arc::clone(&connections), Arc::clone(&stop));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let target = target.clone();
                std::thread::spawn(move || {
                    let server = match &target {
                        Some(target) => TcpStream::connect(target),
                        None => tunnel(&client),
                    };
                    if let Ok(server) = server {
                        let _ = pipe(client, server);
                    }
                });
            }
        });
        Forwarder { port, connections, stop }
    }

    /// The URL to put in a kubeconfig instead of the server's.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The URL to put in a kubeconfig's `proxy-url`, for [`Forwarder::proxy`].
    pub fn proxy_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many connections clients have opened through it so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees the flag (not counted: it stops first).
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads a proxy request (`CONNECT HOST:PORT HTTP/1.1` and its headers) from `client`, connects
/// there and says so.
fn tunnel(client: &TcpStream) -> io::Result<TcpStream> {
    let mut reader = io::BufReader::new(client.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let target = match request.split_whitespace().collect::<Vec<_>>()[..] {
        ["CONNECT", target, _] => target.to_string(),
        _ => return Err(io::Error::other(format!("not a CONNECT request: {request:?}"))),
    };
    let server = TcpStream::connect(target)?;
    (&*client).write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    Ok(server)
}

/// Copies both ways on two threads; each direction passes the end of its stream on.
fn pipe(client: TcpStream, server: TcpStream) -> io::Result<()> {
    for (mut from, mut to) in [(client.try_clone()?, server.try_clone()?), (server, client)] {
        std::thread::spawn(move || {
            let _ = io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Write);
        });
    }
    Ok(())
}
