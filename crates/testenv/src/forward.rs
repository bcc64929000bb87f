//! A TCP forwarder in front of a test's server that counts the connections opened through it:
//! the tests of how many connections (so TLS handshakes) a plugin costs a cluster. TLS passes
//! through untouched, so the server's certificate (issued for 127.0.0.1) still verifies.

use std::io;
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
                if let Ok(server) = TcpStream::connect(&target) {
                    let _ = pipe(client, server);
                }
            }
        });
        Forwarder { port, connections, stop }
    }

    /// The URL to put in a kubeconfig instead of the server's.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
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
