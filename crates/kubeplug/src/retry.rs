//! The one retry policy of the suite: which failures are worth another try, how long to wait,
//! and when to stop.
//!
//! It runs in the client's transport ([`crate::transport`]), below every request a plugin sends,
//! and kube's own retry layer is turned off: two retry loops nested would multiply (kube's 3
//! retries inside our 5 made 28 requests over two minutes against a server answering 503).
//!
//! Like client-go: 429 and the transient 5xx are retried, waiting the `Retry-After` the server
//! asks for (else an exponential backoff), at most [`MAX_RETRIES`] times per request. A dropped
//! connection (reset, closed mid-response) is retried too. A refused connection, a TLS failure
//! or a `--request-timeout` is not: trying again would only delay the error the user must see.
//! And however many requests a command sends, it stops retrying once the server has answered
//! nothing but transient failures for [`RETRY_WINDOW`]; kubectl gives up on such a server
//! after about as long.

use std::error::Error as StdError;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// How many times one request is retried (client-go's default `maxRetries`).
pub const MAX_RETRIES: u32 = 10;
/// How long a command keeps retrying a server that answers only with transient failures.
pub const RETRY_WINDOW: Duration = Duration::from_secs(30);
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(4);
/// A `Retry-After` longer than this is not waited for (the window would be gone anyway).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// Whether an HTTP answer with this code may succeed when asked again.
pub fn is_retryable_status(code: u16) -> bool {
    matches!(code, 429 | 500 | 502 | 503 | 504)
}

/// Whether a transport error is a connection that broke mid-request (worth another try), as
/// opposed to one that could not be made, a TLS failure or a timeout.
pub fn is_dropped_connection(err: &(dyn StdError + 'static)) -> bool {
    let text = chain_text(err).to_lowercase();
    let final_failure = ["connection refused", "timed out", "deadline has elapsed", "certificate", "dns error"];
    if final_failure.iter().any(|k| text.contains(k)) {
        return false;
    }
    let dropped = [
        "connection reset",
        "connection closed",
        "incomplete",
        "unexpected eof",
        "broken pipe",
        "connection aborted",
        "end of file",
        "error reading a body",
        // hyper-util's Canceled: the connection the request waited for went (an HTTP/2
        // connection whose handshake failed after TLS) before the request was sent.
        "client error (canceled)",
    ];
    dropped.iter().any(|k| text.contains(k))
}

/// The wait before retry number `retry` (1 for the first): the server's `Retry-After` when it
/// sent one, else 250ms doubling up to 4s.
pub fn delay(retry: u32, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(wait) => wait.min(MAX_RETRY_AFTER),
        None => FIRST_BACKOFF.saturating_mul(1 << retry.saturating_sub(1).min(8)).min(MAX_BACKOFF),
    }
}

/// Parses a `Retry-After` header in seconds (the form the API server sends).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The command-wide limit on retrying: shared by every request of one client.
#[derive(Debug)]
pub struct Budget {
    last_progress: Mutex<Instant>,
    window: Duration,
}

impl Budget {
    /// A budget whose window starts now.
    pub fn new(window: Duration) -> Self {
        Self { last_progress: Mutex::new(Instant::now()), window }
    }

    /// The server gave a real answer (anything but a transient failure): the window restarts,
    /// so that a long command against a healthy server can still ride out a short outage.
    pub fn progress(&self) {
        *self.last_progress.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    }

    /// Whether a retry after `wait` still ends within the window.
    pub fn allows(&self, wait: Duration) -> bool {
        let since = *self.last_progress.lock().unwrap_or_else(|e| e.into_inner());
        Instant::now() + wait <= since + self.window
    }
}

fn chain_text(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn throttling_and_transient_server_errors_are_retried_and_client_errors_are_not() {
        for code in [429, 500, 502, 503, 504] {
            assert!(is_retryable_status(code), "{code}");
        }
        for code in [200, 400, 401, 403, 404, 409, 410, 422, 501] {
            assert!(!is_retryable_status(code), "{code}");
        }
    }

    #[test]
    fn the_server_retry_after_is_honoured_and_backoff_doubles_to_a_cap() {
        assert_eq!(delay(3, Some(Duration::from_secs(1))), Duration::from_secs(1));
        assert_eq!(delay(1, Some(Duration::from_secs(3600))), Duration::from_secs(10));
        let waits: Vec<u128> = (1..=6).map(|r| delay(r, None).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 4000]);
        assert_eq!(parse_retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn dropped_connections_are_retried_refusals_and_timeouts_are_not() {
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer");
        assert!(is_dropped_connection(&reset));
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected EOF during chunk size line");
        assert!(is_dropped_connection(&eof));
        let refused = io::Error::new(io::ErrorKind::ConnectionRefused, "Connection refused (os error 111)");
        assert!(!is_dropped_connection(&refused));
        let timeout = io::Error::new(io::ErrorKind::TimedOut, "timed out after 5s");
        assert!(!is_dropped_connection(&timeout));
        // hyper-util's words for a request whose connection went before it was sent.
        assert!(is_dropped_connection(&io::Error::other("client error (Canceled)")));
        assert!(!is_dropped_connection(&io::Error::other("client error (Connect)")));
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_closes_after_thirty_seconds_without_progress_and_reopens_on_progress() {
        let budget = Budget::new(RETRY_WINDOW);
        assert!(budget.allows(Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(29)).await;
        assert!(budget.allows(Duration::from_secs(1)));
        assert!(!budget.allows(Duration::from_secs(2)));
        budget.progress();
        assert!(budget.allows(Duration::from_secs(10)));
    }
}
