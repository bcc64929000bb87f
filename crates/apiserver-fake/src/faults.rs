//! Fault injection: latency, throttling, server errors, expired continue tokens, dropped
//! connections, and hooks that change objects right before a request is served.

use std::sync::Mutex;
use std::time::Duration;

use crate::cluster::Cluster;

type HookFn = Box<dyn FnOnce(&Cluster) + Send>;

struct Hook {
    method: String,
    path_prefix: String,
    run: HookFn,
}

#[derive(Default)]
struct State {
    latency: Duration,
    throttle: usize,
    retry_after: u64,
    fail: usize,
    unavailable: usize,
    expire_tokens: bool,
    drop_lists: usize,
    hooks: Vec<Hook>,
}

/// Fault injection controls of one server (see `FakeServer::faults`).
///
/// Throttling, failures and dropped connections apply to API resource requests only, never to
/// discovery, `/version` or `/openapi`, so clients get as far as the call under test.
#[derive(Default)]
pub struct Faults {
    state: Mutex<State>,
}

/// What to do with the request now being served.
pub(crate) enum Injected {
    /// Serve it normally.
    None,
    /// Answer 429 with Retry-After of this many seconds.
    Throttle(u64),
    /// Answer 500.
    Fail,
    /// Answer 503 with Retry-After of this many seconds.
    Unavailable(u64),
}

impl Faults {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Puts the server `latency` away, a network round trip: every response waits `latency`,
    /// and every new connection twice that before its TLS handshake is answered (TCP's round
    /// trip and TLS 1.3's). Zero turns it off.
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// Answers the next `n` resource requests with 429 and `Retry-After: retry_after_secs`.
    pub fn throttle_next(&self, n: usize, retry_after_secs: u64) {
        let mut s = self.state();
        s.throttle = n;
        s.retry_after = retry_after_secs;
    }

    /// Answers the next `n` resource requests with 500 InternalError.
    pub fn fail_next(&self, n: usize) {
        self.state().fail = n;
    }

    /// Answers the next `n` resource requests (`usize::MAX`: all of them) with 503
    /// ServiceUnavailable and `Retry-After: retry_after_secs`, as an overloaded or
    /// restarting API server does.
    pub fn unavailable_next(&self, n: usize, retry_after_secs: u64) {
        let mut s = self.state();
        s.unavailable = n;
        s.retry_after = retry_after_secs;
    }

    /// Expires every continue token issued so far: using one gives 410 Expired.
    pub fn expire_continue_tokens(&self) {
        self.state().expire_tokens = true;
    }

    /// Cuts the connection in the middle of the body of the next list response.
    pub fn drop_next_list(&self) {
        self.state().drop_lists += 1;
    }

    /// Runs `f` once, right before serving the first request with this method (e.g. "DELETE",
    /// "" for any) whose path starts with `path_prefix`.
    pub fn on_request(&self, method: &str, path_prefix: &str, f: impl FnOnce(&Cluster) + Send + 'static) {
        self.state().hooks.push(Hook {
            method: method.to_uppercase(),
            path_prefix: path_prefix.to_string(),
            run: Box::new(f),
        });
    }

    /// Turns every fault off and forgets pending hooks.
    pub fn clear(&self) {
        *self.state() = State::default();
    }

    pub(crate) fn latency(&self) -> Duration {
        self.state().latency
    }

    /// Takes the hooks matching this request (they run once).
    pub(crate) fn take_hooks(&self, method: &str, path: &str) -> Vec<HookFn> {
        let mut s = self.state();
        let (matching, rest): (Vec<Hook>, Vec<Hook>) = std::mem::take(&mut s.hooks)
            .into_iter()
            .partition(|h| (h.method.is_empty() || h.method == method) && path.starts_with(&h.path_prefix));
        s.hooks = rest;
        matching.into_iter().map(|h| h.run).collect()
    }

    /// Decides the injected answer for a resource request, consuming one count.
    pub(crate) fn next_injection(&self) -> Injected {
        let mut s = self.state();
        if s.throttle > 0 {
            s.throttle -= 1;
            return Injected::Throttle(s.retry_after);
        }
        if s.unavailable > 0 {
            s.unavailable -= 1;
            return Injected::Unavailable(s.retry_after);
        }
        if s.fail > 0 {
            s.fail -= 1;
            return Injected::Fail;
        }
        Injected::None
    }

    /// Whether tokens were expired since the last check (consumes the request).
    pub(crate) fn take_expire_tokens(&self) -> bool {
        std::mem::take(&mut self.state().expire_tokens)
    }

    /// Whether this list response must be cut (consumes one).
    pub(crate) fn take_drop_list(&self) -> bool {
        let mut s = self.state();
        if s.drop_lists > 0 {
            s.drop_lists -= 1;
            true
        } else {
            false
        }
    }
}
