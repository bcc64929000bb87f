//! The client's outermost layer, the one place every request passes: the retry policy
//! ([`crate::retry`]), `--request-timeout` on each attempt, and kubectl's `-v` request log.
//!
//! Responses (except watches) are read whole here, inside the time limit: a connection cut in
//! the middle of a list page is then retried like any dropped connection, and no request
//! outlives `--request-timeout`, body included, as with kubectl's `http.Client.Timeout`.

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full, combinators::UnsyncBoxBody};
use kube::client::{Body, DynBody};
use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Instant;
use tower::buffer::Buffer;
use tower::util::BoxService;
use tower::{BoxError, Layer, Service, ServiceExt as _};

use crate::retry::{self, Budget, MAX_RETRIES};

/// The response body type of the layered client.
pub type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// Settings of the transport layer, from the connection flags.
#[derive(Debug, Clone)]
pub struct TransportLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// The API server URL: requests reach this layer with their path only.
    server: String,
    timeout: Option<Duration>,
    verbosity: u8,
    budget: Budget,
}

impl TransportLayer {
    /// A layer bounding each attempt by `timeout` and logging at kubectl's `-v` level `verbosity`.
    pub fn new(server: &str, timeout: Option<Duration>, verbosity: u8) -> Self {
        let server = server.trim_end_matches('/').to_string();
        Self { shared: Arc::new(Shared { server, timeout, verbosity, budget: Budget::new(retry::RETRY_WINDOW) }) }
    }
}

/// kube's client stack, as `ClientBuilder::try_from(config)` makes it.
pub type KubeService = BoxService<Request<Body>, Response<Box<DynBody>>, BoxError>;

impl Layer<KubeService> for TransportLayer {
    type Service = Transport;

    fn layer(&self, inner: KubeService) -> Transport {
        // Each attempt needs its own handle on the inner stack; a Buffer makes it cloneable.
        Transport { inner: Buffer::new(inner, 1024), shared: self.shared.clone() }
    }
}

/// A cloneable handle on kube's stack.
type Inner = Buffer<Request<Body>, BoxFuture<'static, Result<Response<Box<DynBody>>, BoxError>>>;

/// The service built by [`TransportLayer`].
#[derive(Clone)]
pub struct Transport {
    inner: Inner,
    shared: Arc<Shared>,
}

impl Service<Request<Body>> for Transport {
    type Response = Response<ResponseBody>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<ResponseBody>, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness is awaited per attempt, on a clone of the inner handle.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        Box::pin(send(self.inner.clone(), self.shared.clone(), request))
    }
}

/// One request, with its retries.
async fn send(inner: Inner, shared: Arc<Shared>, request: Request<Body>) -> Result<Response<ResponseBody>, BoxError> {
    let (parts, body) = request.into_parts();
    // Request bodies are small (a DeleteOptions, an access review) and must be sent again on retry.
    let body = body.collect_bytes().await?;
    // A streamed list is read whole at -v=8 and up, as kubectl logs every response body there:
    // debugging trades the bounded memory for the body in the log. Watches are never read whole.
    let streamed = parts.extensions.get::<Streamed>().is_some() && shared.verbosity < 8;
    let watch = is_watch(&parts.uri) || streamed;
    let mut retries = 0;
    loop {
        let mut request = Request::new(Body::from(body.clone()));
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        *request.version_mut() = parts.version;
        *request.headers_mut() = parts.headers.clone();
        *request.extensions_mut() = parts.extensions.clone();
        shared.log_request(&request, &body);
        let started = Instant::now();
        let outcome = attempt(inner.clone(), request, &shared, watch).await;
        shared.log_response(&parts.method, &parts.uri, &outcome, started.elapsed());
        let wait = match &outcome {
            Ok(response) if retry::is_retryable_status(response.status().as_u16()) => {
                let retry_after = response
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(retry::parse_retry_after);
                Some(retry::delay(retries + 1, retry_after))
            }
            Err(e) if retry::is_dropped_connection(e.as_ref()) => Some(retry::delay(retries + 1, None)),
            _ => None,
        };
        match wait {
            None => {
                if outcome.is_ok() {
                    shared.budget.progress();
                }
                return outcome;
            }
            Some(wait) if retries < MAX_RETRIES && shared.budget.allows(wait) => {
                tokio::time::sleep(wait).await;
                retries += 1;
            }
            Some(_) => {
                crate::error::record_gave_up(retries + 1);
                return outcome;
            }
        }
    }
}

/// One attempt: the answer, read whole (but for watches), within `timeout`.
async fn attempt(
    mut inner: Inner,
    request: Request<Body>,
    shared: &Shared,
    watch: bool,
) -> Result<Response<ResponseBody>, BoxError> {
    let timeout = shared.timeout;
    let exchange = async move {
        let response = inner.ready().await?.call(request).await?;
        if watch {
            // A watch streams for as long as it is wanted; the time limit covers its start only.
            return Ok(response.map(UnsyncBoxBody::new));
        }
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes();
        if shared.verbosity >= 8 {
            log(format!("\"Response Body\" body={:?}", shared.body_text(&bytes)));
        }
        Ok::<_, BoxError>(Response::from_parts(
            parts,
            Full::new(bytes).map_err(|never: std::convert::Infallible| -> BoxError { match never {} }).boxed_unsync(),
        ))
    };
    match timeout {
        Some(limit) => match tokio::time::timeout(limit, exchange).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Box::new(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("timed out after {} (--request-timeout)", crate::age::format_go_duration(limit)),
            ))),
        },
        None => exchange.await,
    }
}

/// A request extension asking for the response body as it arrives rather than read whole (a
/// big list decoded as it streams in). As with watches, `--request-timeout` then bounds the
/// start of the answer only, and a connection cut mid-body is the caller's to handle.
#[derive(Debug, Clone, Copy)]
pub struct Streamed;

fn is_watch(uri: &http::Uri) -> bool {
    uri.query().is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"))
}

/// kubectl's `-v` levels: 6 one line per request, 7 adds request headers, 8 response headers
/// and bodies (truncated), 9 bodies in full. Credentials never appear: this layer sits outside
/// kube's auth layer, so it never sees the token, and an `Authorization` header is masked anyway.
impl Shared {
    fn log_request(&self, request: &Request<Body>, body: &Bytes) {
        if self.verbosity < 7 {
            return;
        }
        if self.verbosity >= 8 {
            log(format!("\"Request Body\" body={:?}", self.body_text(body)));
        }
        log(format!("{} {}{}", request.method(), self.server, request.uri()));
        log("Request Headers:".to_string());
        for (name, value) in request.headers() {
            log(format!("    {}: {}", name, masked(name, value)));
        }
    }

    fn log_response(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        outcome: &Result<Response<ResponseBody>, BoxError>,
        elapsed: Duration,
    ) {
        if self.verbosity < 6 {
            return;
        }
        let ms = elapsed.as_millis();
        let status = match outcome {
            Ok(r) => format!("{} {}", r.status().as_u16(), r.status().canonical_reason().unwrap_or_default()),
            Err(e) => format!("failed: {}", crate::error::one_line(&e.to_string())),
        };
        if self.verbosity >= 7 {
            log(format!("Response Status: {status} in {ms} milliseconds"));
        } else {
            log(format!("{method} {}{uri} {status} in {ms} milliseconds", self.server));
        }
        if self.verbosity >= 8
            && let Ok(response) = outcome
        {
            log("Response Headers:".to_string());
            for (name, value) in response.headers() {
                log(format!("    {}: {}", name, masked(name, value)));
            }
        }
    }

    fn body_text(&self, body: &Bytes) -> String {
        const TRUNCATE_AT: usize = 10240;
        let text = String::from_utf8_lossy(body);
        if self.verbosity < 9 && text.len() > TRUNCATE_AT {
            let mut end = TRUNCATE_AT;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{} [truncated {} chars]", &text[..end], text.len() - end)
        } else {
            text.into_owned()
        }
    }
}

fn masked(name: &http::HeaderName, value: &http::HeaderValue) -> String {
    if name == http::header::AUTHORIZATION {
        let scheme = value.to_str().ok().and_then(|v| v.split_whitespace().next()).unwrap_or("");
        return format!("{scheme} <masked>").trim_start().to_string();
    }
    String::from_utf8_lossy(value.as_bytes()).into_owned()
}

/// One klog-style line on stderr, as kubectl writes its `-v` logs.
fn log(message: String) {
    let now = jiff::Zoned::now();
    crate::messages::info(format!(
        "I{} {:>7} transport.rs] {message}",
        now.strftime("%m%d %H:%M:%S%.6f"),
        std::process::id()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use std::sync::Mutex;

    type Reply = (u16, Option<&'static str>, &'static str);

    /// A client whose server answers each request with `respond(n)` (n counts from 0), below
    /// the transport layer, as kube's stack would; records what was asked.
    fn client(
        timeout: Option<Duration>,
        respond: impl Fn(usize) -> Reply + Send + Sync + 'static,
    ) -> (kube::Client, Arc<Mutex<Vec<String>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let respond = Arc::new(respond);
        let service = tower::service_fn(move |req: Request<Body>| {
            let n = {
                let mut log = log.lock().unwrap();
                log.push(format!("{} {}", req.method(), req.uri().path()));
                log.len() - 1
            };
            let (code, retry_after, body) = respond(n);
            async move {
                if code == 0 {
                    // A server that never answers.
                    std::future::pending::<()>().await;
                }
                let mut response = Response::builder().status(code);
                if let Some(secs) = retry_after {
                    response = response.header("retry-after", secs);
                }
                let body: Box<DynBody> = Box::new(Full::new(Bytes::from(body)).map_err(|never| match never {}));
                Ok::<_, BoxError>(response.body(body).unwrap())
            }
        });
        let inner: KubeService = BoxService::new(service);
        let client = kube::client::ClientBuilder::new(inner, "default")
            .with_layer(&TransportLayer::new("https://test", timeout, 0))
            .build();
        (client, seen)
    }

    const OK: &str = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#;
    const UNAVAILABLE: &str = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","code":503,"reason":"ServiceUnavailable","message":"down"}"#;
    const FORBIDDEN: &str =
        r#"{"kind":"Status","apiVersion":"v1","status":"Failure","code":403,"reason":"Forbidden","message":"no"}"#;

    async fn get(client: &kube::Client) -> kube::Result<ConfigMap> {
        kube::Api::<ConfigMap>::namespaced(client.clone(), "default").get("x").await
    }

    #[tokio::test(start_paused = true)]
    async fn transient_server_errors_are_retried_until_an_answer() {
        let (client, seen) = client(None, |n| if n < 2 { (500, None, UNAVAILABLE) } else { (200, None, OK) });
        assert_eq!(get(&client).await.unwrap().metadata.name.as_deref(), Some("x"));
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_unavailable_forever_is_asked_a_bounded_number_of_times_waiting_its_retry_after() {
        let (client, seen) = client(None, |_| (503, Some("1"), UNAVAILABLE));
        let started = Instant::now();
        let err = get(&client).await.unwrap_err();
        assert!(matches!(&err, kube::Error::Api(s) if s.code == 503), "{err}");
        assert_eq!(seen.lock().unwrap().len(), 1 + MAX_RETRIES as usize);
        // Paused time: exactly the Retry-After waits, one second per retry.
        assert_eq!(started.elapsed(), Duration::from_secs(MAX_RETRIES.into()));
        assert_eq!(crate::error::gave_up_after(), Some(MAX_RETRIES + 1));
    }

    #[tokio::test(start_paused = true)]
    async fn the_command_wide_window_stops_retries_across_requests() {
        let (client, seen) = client(None, |_| (503, Some("1"), UNAVAILABLE));
        let started = Instant::now();
        for _ in 0..5 {
            let _ = get(&client).await;
        }
        // Three requests fill the 30 s window with their 11 attempts (1 s apart); after 30 s of
        // nothing but 503, the last two are each tried once.
        assert_eq!(started.elapsed(), retry::RETRY_WINDOW);
        assert_eq!(seen.lock().unwrap().len(), 3 * 11 + 2);
    }

    #[tokio::test(start_paused = true)]
    async fn client_errors_are_answers_not_retried() {
        let (client, seen) = client(None, |_| (403, None, FORBIDDEN));
        let err = get(&client).await.unwrap_err();
        assert!(matches!(&err, kube::Error::Api(s) if s.code == 403));
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn no_request_outlives_the_request_timeout() {
        let (client, seen) = client(Some(Duration::from_millis(1500)), |_| (0, None, ""));
        let started = Instant::now();
        let err = get(&client).await.unwrap_err();
        assert_eq!(started.elapsed(), Duration::from_millis(1500));
        let text = crate::error::describe(&anyhow::Error::new(err)).message;
        assert!(text.contains("did not answer in time"), "{text}");
        assert_eq!(seen.lock().unwrap().len(), 1, "a timeout is not retried");
    }

    #[tokio::test(start_paused = true)]
    async fn request_bodies_are_sent_again_on_retry() {
        let (client, seen) = client(None, |n| if n == 0 { (503, None, UNAVAILABLE) } else { (201, None, OK) });
        let api = kube::Api::<ConfigMap>::namespaced(client, "default");
        let cm: ConfigMap = serde_json::from_str(OK).unwrap();
        api.create(&Default::default(), &cm).await.unwrap();
        assert_eq!(*seen.lock().unwrap(), ["POST /api/v1/namespaces/default/configmaps"; 2]);
    }

    #[test]
    fn authorization_is_masked_in_logs() {
        let name = http::header::AUTHORIZATION;
        assert_eq!(masked(&name, &http::HeaderValue::from_static("Bearer s3cr3t")), "Bearer <masked>");
    }
}
