//! Retrying requests that failed for a transient reason.
//!
//! kube's client already retries 429, 503 and 504, honouring Retry-After. What it leaves to us:
//! other 5xx answers and connections that broke mid-request (reset, closed before the response
//! was complete). A refused connection or a timeout is not retried: it would only delay the error
//! the user needs to see, past the `--request-timeout` they chose.

use std::future::Future;
use std::time::Duration;

/// How many times a request is tried in all.
pub const MAX_ATTEMPTS: u32 = 5;
const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(2);

/// Runs `op`, and runs it again with exponential backoff while it fails transiently.
pub async fn with_retry<T, F, Fut>(mut op: F) -> kube::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = kube::Result<T>>,
{
    let mut delay = FIRST_DELAY;
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if attempt < MAX_ATTEMPTS && is_transient(&e) => {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_DELAY);
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Whether trying the same request again may succeed.
pub fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(status) => matches!(status.code, 429 | 500 | 502 | 503 | 504),
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            let text = error_chain_text(e).to_lowercase();
            let refused_or_timeout = text.contains("connection refused")
                || text.contains("timed out")
                || text.contains("deadline has elapsed")
                || text.contains("certificate");
            !refused_or_timeout
                && (text.contains("connection reset")
                    || text.contains("connection closed")
                    || text.contains("incomplete")
                    || text.contains("unexpected eof")
                    || text.contains("broken pipe")
                    || text.contains("connection aborted")
                    || text.contains("end of file"))
        }
        _ => false,
    }
}

fn error_chain_text(e: &(dyn std::error::Error + 'static)) -> String {
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
    use kube::core::Status;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn api(code: u16) -> kube::Error {
        let mut s = Status::failure("x", "InternalError");
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    #[tokio::test(start_paused = true)]
    async fn retries_server_errors_until_success() {
        let calls = AtomicU32::new(0);
        let out =
            with_retry(|| async { if calls.fetch_add(1, Ordering::SeqCst) < 2 { Err(api(500)) } else { Ok(7) } }).await;
        assert_eq!(out.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts_and_never_retries_client_errors() {
        let calls = AtomicU32::new(0);
        let out: kube::Result<()> = with_retry(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(api(502))
        })
        .await;
        assert!(out.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), MAX_ATTEMPTS);

        let calls = AtomicU32::new(0);
        let _: kube::Result<()> = with_retry(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(api(403))
        })
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
