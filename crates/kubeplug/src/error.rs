//! Turning any failure into kubectl-style words: one `error: ...` line naming what the user
//! gave (the server URL, the file, the permission), plus a hint line where one helps.

use kube::core::Status;
use std::error::Error as StdError;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};

static SERVER: OnceLock<String> = OnceLock::new();

static EXEC_COMMAND: OnceLock<Option<String>> = OnceLock::new();

static GAVE_UP: Mutex<Option<u32>> = Mutex::new(None);

tokio::task_local! {
    /// The cluster a fleet run's task talks to ([`crate::fleet`]): each context's errors name its
    /// own server and exec plugin, where the process-wide values would name the first context's.
    static TARGET: Arc<Target>;
}

/// What error messages say about the cluster of one task.
#[derive(Default)]
struct Target {
    /// The kubeconfig context, in fleet mode: warnings name it.
    context: OnceLock<String>,
    server: OnceLock<String>,
    exec_command: OnceLock<Option<String>>,
    gave_up: Mutex<Option<u32>>,
}

/// Runs `future` with its own server and exec plugin for error messages, so that several
/// clusters can be talked to at once in one process.
pub async fn with_own_target<F: std::future::Future>(future: F) -> F::Output {
    TARGET.scope(Arc::default(), future).await
}

/// `tokio::spawn`, the new task keeping this one's target: a request it makes (a list's next
/// page) is still this cluster's, for the messages about it.
pub fn spawn_in_target<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match TARGET.try_with(Arc::clone) {
        Ok(target) => tokio::spawn(TARGET.scope(target, future)),
        Err(_) => tokio::spawn(future),
    }
}

/// Remembers the context a fleet run's task works on, so that its warnings name it
/// ([`crate::messages::warn`]); outside such a task, nothing.
pub fn set_context(name: &str) {
    let _ = TARGET.try_with(|t| t.context.set(name.to_string()));
}

/// The context of this fleet task, if it is one.
pub fn context() -> Option<String> {
    TARGET.try_with(|t| t.context.get().cloned()).ok().flatten()
}

/// Remembers the API server URL, so connection errors can name it wherever they happen.
pub fn set_server(url: &str) {
    if TARGET.try_with(|t| t.server.set(url.to_string())).is_err() {
        let _ = SERVER.set(url.to_string());
    }
}

/// Remembers the exec credential plugin of the kubeconfig user, so that its failure can name it
/// (kube's error does not).
pub fn set_exec_command(command: Option<String>) {
    if TARGET.try_with(|t| t.exec_command.set(command.clone())).is_err() {
        let _ = EXEC_COMMAND.set(command);
    }
}

/// Records that a request failed transiently `attempts` times and was given up, so that the
/// error message can say so (for the task's own cluster in fleet mode).
pub fn record_gave_up(attempts: u32) {
    let set = |slot: &Mutex<Option<u32>>| *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(attempts);
    if TARGET.try_with(|t| set(&t.gave_up)).is_err() {
        set(&GAVE_UP);
    }
}

/// How many attempts the last request given up on had made, if one was given up.
pub fn gave_up_after() -> Option<u32> {
    let get = |slot: &Mutex<Option<u32>>| *slot.lock().unwrap_or_else(|e| e.into_inner());
    TARGET.try_with(|t| get(&t.gave_up)).unwrap_or_else(|_| get(&GAVE_UP))
}

fn exec_command() -> Option<String> {
    match TARGET.try_with(|t| t.exec_command.get().cloned()) {
        Ok(own) => own.flatten(),
        Err(_) => EXEC_COMMAND.get().cloned().flatten(),
    }
}

fn server() -> String {
    let own = TARGET.try_with(|t| t.server.get().cloned()).ok().flatten();
    own.or_else(|| SERVER.get().cloned()).unwrap_or_else(|| "the server".to_string())
}

/// A hint attached to an error with `err.context(Hint(..))`: printed on its own line after the
/// message, not as part of it.
#[derive(Debug, Clone)]
pub struct Hint(pub String);

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A failure worded for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// The one-line message (without the `error: ` prefix).
    pub message: String,
    /// An optional hint printed on the next line.
    pub hint: Option<String>,
}

/// Whether the error (anywhere in its chain) is a write to a closed pipe, which is how
/// `plugin | head -1` ends: a quiet, successful exit, not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().filter_map(|e| e.downcast_ref::<io::Error>()).any(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

/// The API server's Status for this error, if the server answered with one.
pub fn api_status(err: &anyhow::Error) -> Option<&Status> {
    err.chain().find_map(|e| match e.downcast_ref::<kube::Error>() {
        Some(kube::Error::Api(status)) => Some(status.as_ref()),
        _ => None,
    })
}

/// The HTTP code of the server's answer, if this error is one.
pub fn api_code(err: &anyhow::Error) -> Option<u16> {
    api_status(err).map(|s| s.code)
}

/// Words an error for the user: context added by the plugin (`listing replicasets.apps: ...`),
/// then the root cause in kubectl's terms.
pub fn describe(err: &anyhow::Error) -> Described {
    // Context layers are the plugin's own words; the innermost error is the cause.
    let mut layers: Vec<String> = Vec::new();
    // anyhow finds a context value of a given type at any depth of the chain.
    let own_hint = err.downcast_ref::<Hint>().map(|h| h.0.clone());
    for e in err.chain() {
        if e.downcast_ref::<kube::Error>().is_some() || is_transport(e) {
            break;
        }
        let text = e.to_string();
        if Some(&text) != own_hint.as_ref() {
            layers.push(text);
        }
    }
    let cause = root_cause(err);
    let (cause_text, hint) = match cause {
        Some(d) => (Some(d.message), own_hint.or(d.hint)),
        None => (None, own_hint),
    };
    let mut parts: Vec<String> = Vec::new();
    for layer in layers {
        // anyhow repeats the source in some Display impls; keep each layer once.
        if !parts.iter().any(|p| p.contains(&layer)) {
            parts.push(layer);
        }
    }
    if let Some(c) = cause_text
        && !parts.iter().any(|p| p.contains(&c))
    {
        parts.push(c);
    }
    Described { message: without_os_error(&one_line(&parts.join(": "))), hint }
}

/// Rust's io errors end in ` (os error 2)`; the words before it are what the user needs.
fn without_os_error(message: &str) -> String {
    let mut out = message.to_string();
    while let Some(start) = out.find(" (os error ") {
        match out[start..].find(')') {
            Some(end) => out.replace_range(start..start + end + 1, ""),
            None => break,
        }
    }
    out
}

/// An io error in the words of the Unix tools (`no such file or directory`, `is a directory`),
/// without Rust's `(os error N)`.
pub fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => "is a directory".to_string(),
        io::ErrorKind::NotADirectory => "not a directory".to_string(),
        _ => without_os_error(&e.to_string()),
    }
}

fn is_transport(e: &(dyn StdError + 'static)) -> bool {
    e.downcast_ref::<io::Error>().is_some()
}

fn root_cause(err: &anyhow::Error) -> Option<Described> {
    if let Some(status) = api_status(err) {
        return Some(describe_status(status));
    }
    if let Some(d) = describe_exec_failure(err) {
        return Some(d);
    }
    let chain: Vec<&(dyn StdError + 'static)> = err.chain().collect();
    if chain.iter().all(|e| e.downcast_ref::<kube::Error>().is_none()) {
        return None;
    }
    let text = chain.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
    // The full chain, for bug reports; never printed unless asked for.
    if std::env::var_os("KUBEPLUG_DEBUG").is_some() {
        crate::messages::info(format!("debug: {text}"));
    }
    let io_kind = chain.iter().find_map(|e| e.downcast_ref::<io::Error>()).map(io::Error::kind);
    let lower = text.to_lowercase();
    let server = server();
    if lower.contains("certificate") || lower.contains("unknownissuer") || lower.contains("invalidcertificate") {
        return Some(Described {
            message: format!("TLS handshake with {server} failed: {}", tls_reason(&text)),
            hint: Some(
                "Check the certificate-authority of the cluster in your kubeconfig, or pass --certificate-authority."
                    .into(),
            ),
        });
    }
    if io_kind == Some(io::ErrorKind::ConnectionRefused) || lower.contains("connection refused") {
        return Some(Described {
            message: format!(
                "the connection to the server {server} was refused - did you specify the right host or port?"
            ),
            hint: None,
        });
    }
    if io_kind == Some(io::ErrorKind::TimedOut) || lower.contains("timed out") || lower.contains("deadline has elapsed")
    {
        return Some(Described {
            message: format!("the server {server} did not answer in time (--request-timeout)"),
            hint: None,
        });
    }
    if lower.contains("dns error") || lower.contains("failed to lookup address") {
        return Some(Described {
            message: format!("cannot resolve the server {server}: {}", last(&chain)),
            hint: None,
        });
    }
    if lower.contains("exec") && lower.contains("auth") {
        return Some(Described {
            message: format!("the credential plugin of your kubeconfig user failed: {}", last(&chain)),
            hint: None,
        });
    }
    Some(Described { message: format!("request to {server} failed: {}", last(&chain)), hint: None })
}

/// An exec credential plugin that could not run or failed, in kubectl's words: the command,
/// and what it printed on stderr.
fn describe_exec_failure(err: &anyhow::Error) -> Option<Described> {
    let auth = err.chain().find_map(|e| match e.downcast_ref::<kube::Error>() {
        Some(kube::Error::Auth(auth)) => Some(auth),
        _ => e.downcast_ref::<kube::client::AuthError>(),
    })?;
    let command = exec_command().unwrap_or_else(|| "(the exec command of your kubeconfig user)".to_string());
    use kube::client::AuthError;
    let message = match auth {
        AuthError::AuthExecStart(io) if io.kind() == io::ErrorKind::NotFound => {
            return Some(Described {
                message: format!("getting credentials: exec: executable {command} not found"),
                hint: Some(
                    "It looks like you are trying to use a client-go credential plugin that is not installed.".into(),
                ),
            });
        }
        AuthError::AuthExecStart(io) => format!("getting credentials: exec: {command}: {}", io_reason(io)),
        AuthError::AuthExecRun { cmd, out, .. } => {
            let code = out.status.code().map(|c| format!("exit code {c}")).unwrap_or_else(|| out.status.to_string());
            let stderr = one_line(&String::from_utf8_lossy(&out.stderr));
            let mut m = format!("getting credentials: exec: executable {cmd} failed with {code}");
            if !stderr.is_empty() {
                m.push_str(&format!(": {stderr}"));
            }
            m
        }
        AuthError::AuthExecParse(e) => {
            format!(
                "getting credentials: exec: {command} printed no valid ExecCredential: {}",
                one_line(&e.to_string())
            )
        }
        AuthError::ExecPluginFailed => format!("getting credentials: exec: {command} returned no credential status"),
        other => format!("getting credentials: {}", one_line(&other.to_string())),
    };
    Some(Described { message, hint: None })
}

fn describe_status(status: &Status) -> Described {
    match status.code {
        401 => Described {
            message: "You must be logged in to the server (Unauthorized)".into(),
            hint: Some("Check the credentials of your kubeconfig user, or pass --token.".into()),
        },
        code if crate::retry::is_retryable_status(code) => {
            // The server was retried; say who answered what, and for how long we tried.
            let reason = http::StatusCode::from_u16(code).ok().and_then(|c| c.canonical_reason()).unwrap_or("");
            let mut message = format!("the server {} answered {code} {reason}", server());
            if !status.message.is_empty() {
                message.push_str(&format!(": {}", status.message));
            }
            if let Some(attempts) = gave_up_after() {
                message.push_str(&format!(" (gave up after {attempts} attempts)"));
            }
            Described { message, hint: None }
        }
        _ if !status.message.is_empty() => Described { message: status.message.clone(), hint: None },
        code => Described { message: format!("the server answered {code} {}", status.reason), hint: None },
    }
}

fn tls_reason(text: &str) -> String {
    // rustls names the failure; Go's wording (what kubectl users know) where there is one.
    let unknown_authority = ["UnknownIssuer", "BadSignature", "unknown issuer"];
    if unknown_authority.iter().any(|k| text.contains(k)) {
        "certificate signed by unknown authority".into()
    } else if text.contains("NotValidForName") || text.contains("not valid for name") {
        "certificate is not valid for this server name".into()
    } else if text.contains("Expired") {
        "certificate has expired".into()
    } else if text.contains("NotValidYet") {
        "certificate is not valid yet".into()
    } else if text.contains("CaUsedAsEndEntity") {
        "the server presents a CA certificate as its own certificate".into()
    } else {
        match text.rfind("invalid peer certificate") {
            Some(i) => text[i..].to_string(),
            None => "invalid certificate".into(),
        }
    }
}

fn last(chain: &[&(dyn StdError + 'static)]) -> String {
    chain.last().map(|e| e.to_string()).unwrap_or_default()
}

/// Library errors sometimes span lines (YAML snippets); our errors are one line.
pub fn one_line(s: &str) -> String {
    s.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[tokio::test]
    async fn each_cluster_task_says_how_many_attempts_its_own_request_made() {
        let gave_up = with_own_target(async {
            record_gave_up(11);
            gave_up_after()
        });
        let answered = with_own_target(async { gave_up_after() });
        assert_eq!(tokio::join!(gave_up, answered), (Some(11), None));
        // A request of a task spawned for the cluster (a list's next page) is still its own.
        let from_a_page = with_own_target(async {
            spawn_in_target(async { record_gave_up(3) }).await.unwrap();
            gave_up_after()
        });
        assert_eq!(from_a_page.await, Some(3));
    }

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        let mut s = Status::failure(message, reason);
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn forbidden_shows_the_server_words_after_what_we_were_doing() {
        let err = anyhow::Error::new(status(
            403,
            "Forbidden",
            r#"replicasets.apps is forbidden: User "alice" cannot list resource "replicasets" in API group "apps" at the cluster scope"#,
        ))
        .context("listing replicasets.apps in all namespaces");
        let d = describe(&err);
        assert_eq!(
            d.message,
            r#"listing replicasets.apps in all namespaces: replicasets.apps is forbidden: User "alice" cannot list resource "replicasets" in API group "apps" at the cluster scope"#
        );
    }

    #[test]
    fn hints_print_on_their_own_line() {
        let err = anyhow::Error::new(status(403, "Forbidden", "nope"))
            .context("listing x")
            .context(Hint("Use -n NAMESPACE.".into()));
        let d = describe(&err);
        assert_eq!(d.message, "listing x: nope");
        assert_eq!(d.hint.as_deref(), Some("Use -n NAMESPACE."));
    }

    #[test]
    fn unauthorized_reads_like_kubectl() {
        let d = describe(&anyhow::Error::new(status(401, "Unauthorized", "Unauthorized")));
        assert_eq!(d.message, "You must be logged in to the server (Unauthorized)");
        assert!(d.hint.is_some());
    }

    #[test]
    fn plain_errors_keep_their_message() {
        let err: anyhow::Result<()> = Err(anyhow::anyhow!("invalid duration \"x\"")).context("--older-than");
        assert_eq!(describe(&err.unwrap_err()).message, "--older-than: invalid duration \"x\"");
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let err = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("printing");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
