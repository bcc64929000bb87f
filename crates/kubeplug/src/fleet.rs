//! Fleet mode: one plugin run across many kubeconfig contexts at once (`--contexts`,
//! `--all-contexts`), in one process: one connection per context, each resolved exactly as
//! `--context NAME` would resolve it (exec credentials, namespace, impersonation), talked to
//! concurrently with a bound (`--cluster-concurrency`).
//!
//! A cluster that fails (unreachable, forbidden, expired credentials) costs one
//! `error: context "NAME": ...` line; the others still answer. The exit code across clusters is
//! [`Outcome::across_clusters`]. Output: tables gain a leading CONTEXT column ([`table`]), items of
//! `-o json|yaml` carry their context in a top-level [`CONTEXT_FIELD`] ([`tag`]), and `-o name`
//! is refused across several contexts ([`Fleet::check_output`]).

use anyhow::{anyhow, bail};
use std::future::Future;
use std::sync::Arc;

use crate::config::{ConnectionFlags, Environment, LoadedKubeconfig};
use crate::error::{Described, Hint, describe};
use crate::output::{OutputFormat, Printer, Table};
use crate::{Connection, Outcome};

/// Default bound on clusters talked to at once (`--cluster-concurrency`).
pub const DEFAULT_CLUSTER_CONCURRENCY: usize = 8;

/// The top-level field that names the context of each item of `-o json|yaml` in fleet mode:
/// `jq '.items[] | select(.context == "prod-eu")'`.
pub const CONTEXT_FIELD: &str = "context";

/// The fleet flags, flattened into the arguments of every plugin that runs across clusters.
#[derive(clap::Args, Debug, Clone)]
pub struct FleetFlags {
    /// Run against several kubeconfig contexts at once, each with its own credentials and
    /// namespace: comma-separated names, globs (`prod-*`) or `/regex/`; a leading `^` excludes
    /// (`^prod-canary`, `^/-dr$/`). Output gains a CONTEXT column.
    #[arg(long, value_name = "PATTERNS", value_delimiter = ',', global = true)]
    pub contexts: Vec<String>,
    /// Run against every context of the kubeconfig (`--contexts '^PATTERN'` still excludes).
    #[arg(long, global = true)]
    pub all_contexts: bool,
    /// With --contexts/--all-contexts: how many clusters are talked to at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CLUSTER_CONCURRENCY, global = true)]
    pub cluster_concurrency: usize,
}

impl Default for FleetFlags {
    fn default() -> Self {
        Self { contexts: Vec::new(), all_contexts: false, cluster_concurrency: DEFAULT_CLUSTER_CONCURRENCY }
    }
}

impl FleetFlags {
    /// Whether fleet mode was asked for.
    pub fn is_set(&self) -> bool {
        self.all_contexts || !self.contexts.is_empty()
    }
}

/// One `--contexts` pattern: an exact name, a glob, or a `/regex/`, excluding with a leading `^`.
/// Also what a plugin's own input uses to name contexts (can-i-batch's checks files).
#[derive(Debug, Clone)]
pub struct ContextPattern {
    text: String,
    exclude: bool,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    Glob(globset::GlobMatcher),
    Regex(regex::Regex),
}

impl ContextPattern {
    /// `name`, `glob*`, `/regex/`, each optionally preceded by `^` (exclude).
    pub fn parse(text: &str) -> anyhow::Result<ContextPattern> {
        let (exclude, body) = match text.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        if body.is_empty() {
            bail!("invalid --contexts pattern {text:?}: empty");
        }
        let matcher = if body.len() >= 2 && body.starts_with('/') && body.ends_with('/') {
            // Unanchored, like kubectl-foreach's /regex/ (Go's MatchString): `/prod/` matches
            // `eu-prod-1`; anchor with `/^prod$/`.
            let re = regex::Regex::new(&body[1..body.len() - 1]).map_err(|e| {
                anyhow!("invalid --contexts pattern {text:?}: {}", crate::error::one_line(&e.to_string()))
            })?;
            Matcher::Regex(re)
        } else if body.contains(['*', '?', '[', '{']) {
            let glob = globset::GlobBuilder::new(body)
                .literal_separator(false)
                .build()
                .map_err(|e| anyhow!("invalid --contexts pattern {text:?}: {}", e.kind()))?;
            Matcher::Glob(glob.compile_matcher())
        } else {
            Matcher::Exact(body.to_string())
        };
        Ok(ContextPattern { text: text.to_string(), exclude, matcher })
    }

    /// The pattern as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `name` matches the pattern (ignoring whether it includes or excludes).
    fn matches(&self, name: &str) -> bool {
        match &self.matcher {
            Matcher::Exact(exact) => exact == name,
            Matcher::Glob(glob) => glob.is_match(name),
            Matcher::Regex(re) => re.is_match(name),
        }
    }
}

/// Whether `patterns` select the context `name`: it matches an include pattern (or there are
/// only exclusions) and no exclusion.
pub fn selects(patterns: &[ContextPattern], name: &str) -> bool {
    let mut includes = patterns.iter().filter(|p| !p.exclude).peekable();
    let included = includes.peek().is_none() || includes.any(|p| p.matches(name));
    included && !patterns.iter().any(|p| p.exclude && p.matches(name))
}

/// The contexts `flags` select among `names` (a kubeconfig's contexts, read from `files`), in
/// name order, as `kubectl config get-contexts` lists them. Every include pattern must match
/// something (a typo must not silently shrink the fleet), and the selection must not be empty.
pub fn select(flags: &FleetFlags, names: &[String], files: &str) -> anyhow::Result<Vec<String>> {
    let patterns: Vec<ContextPattern> =
        flags.contexts.iter().map(|p| ContextPattern::parse(p.trim())).collect::<Result<_, _>>()?;
    let includes: Vec<&ContextPattern> = patterns.iter().filter(|p| !p.exclude).collect();
    let known = || if names.is_empty() { "none".to_string() } else { names.join(", ") };
    if flags.all_contexts && !includes.is_empty() {
        bail!(
            "--all-contexts selects every context; with it, --contexts may only exclude (^PATTERN), not add {:?}",
            includes[0].text
        );
    }
    for include in &includes {
        if !names.iter().any(|n| include.matches(n)) {
            match include.matcher {
                Matcher::Exact(_) => {
                    bail!("context {:?} does not exist in {files} (contexts: {})", include.text, known())
                }
                _ => {
                    bail!("--contexts pattern {:?} matches no context in {files} (contexts: {})", include.text, known())
                }
            }
        }
    }
    let mut selected: Vec<String> = names.iter().filter(|n| selects(&patterns, n)).cloned().collect();
    selected.sort();
    selected.dedup();
    if selected.is_empty() {
        bail!("--contexts {:?} leaves no context of {files} (contexts: {})", flags.contexts.join(","), known());
    }
    Ok(selected)
}

/// The resolved fleet: which contexts, and how to connect to each. (Not `Debug`: the flags may
/// hold a `--token`.)
#[derive(Clone)]
pub struct Fleet {
    connection: ConnectionFlags,
    /// Read once: parsing a big kubeconfig per context would cost more than talking to it.
    kubeconfig: LoadedKubeconfig,
    contexts: Vec<String>,
    concurrency: usize,
}

/// One cluster of the fleet, connected.
#[derive(Debug, Clone)]
pub struct Member {
    /// The kubeconfig context.
    pub context: String,
    /// Its connection, resolved as `--context NAME` would be.
    pub connection: Connection,
}

/// What one cluster answered: its value, or its failure worded for the user (worded while the
/// task still knew that cluster's server, so the message names the right one).
#[derive(Debug)]
pub struct Answer<T> {
    /// The kubeconfig context.
    pub context: String,
    /// The cluster's result.
    pub result: Result<T, Described>,
}

impl Fleet {
    /// The fleet the flags ask for, `None` without --contexts/--all-contexts. All usage errors
    /// (bad pattern, unknown context, `--context` with `--contexts`) come here, before any
    /// request is sent.
    pub fn from_flags(connection: &ConnectionFlags, fleet: &FleetFlags) -> anyhow::Result<Option<Fleet>> {
        let env = Environment { kubeconfig: std::env::var_os("KUBECONFIG"), home: dirs::home_dir() };
        Self::from_flags_in(connection, fleet, env)
    }

    /// [`Self::from_flags`] with the environment given explicitly.
    pub fn from_flags_in(
        connection: &ConnectionFlags,
        fleet: &FleetFlags,
        env: Environment,
    ) -> anyhow::Result<Option<Fleet>> {
        if !fleet.is_set() {
            return Ok(None);
        }
        if connection.context.is_some() {
            bail!("--context and --contexts/--all-contexts cannot be used together: pick one context or several");
        }
        for (flag, given) in [("--server", connection.server.is_some()), ("--cluster", connection.cluster.is_some())] {
            if given {
                bail!(
                    "{flag} cannot be used with --contexts/--all-contexts: it would point every context at the same cluster"
                );
            }
        }
        if fleet.cluster_concurrency == 0 {
            bail!("invalid --cluster-concurrency 0: must be 1 or more");
        }
        let kubeconfig = connection.load_in(&env)?.ok_or_else(|| {
            anyhow!("no kubeconfig found: --contexts and --all-contexts pick contexts of a kubeconfig (set KUBECONFIG or pass --kubeconfig)")
        })?;
        let contexts = select(fleet, &kubeconfig.context_names(), &kubeconfig.files())?;
        Ok(Some(Fleet { connection: connection.clone(), kubeconfig, contexts, concurrency: fleet.cluster_concurrency }))
    }

    /// The selected contexts, in the order answers come back.
    pub fn contexts(&self) -> &[String] {
        &self.contexts
    }

    /// Refuses `-o name` across several contexts: its lines would not say which cluster to send
    /// them to.
    pub fn check_output(&self, printer: &Printer) -> anyhow::Result<()> {
        if printer.format() == OutputFormat::Name && self.contexts.len() > 1 {
            return Err(anyhow!(
                "-o name cannot be used across {} contexts: its lines would not say which cluster each name is in",
                self.contexts.len()
            )
            .context(Hint(format!(
                "Use -o json (each item carries its \"{CONTEXT_FIELD}\"), or -o name with one --context at a time."
            ))));
        }
        Ok(())
    }

    /// Connects to every context and runs `work` on each, at most `--cluster-concurrency` at once;
    /// answers in the order of [`Self::contexts`]. A context whose connection or work fails
    /// gives its error in its [`Answer`]; the others are not affected.
    ///
    /// Each context is its own task (`tokio::spawn`), so the runtime's workers share the
    /// clusters' client work (TLS handshakes, decoding) instead of one thread polling it all;
    /// hence the `Send + 'static` bounds: `work` owns (or shares by `Arc`) what it reads.
    pub async fn run<T, F, Fut>(&self, work: F) -> Vec<Answer<T>>
    where
        F: Fn(Member) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let work = Arc::new(work);
        crate::concurrency::bounded(&self.contexts, self.concurrency, |context| {
            // Spawned only when `bounded` has room, so the bound still holds.
            let task = tokio::spawn(self.answer(context.clone(), Arc::clone(&work)));
            async move {
                match task.await {
                    Ok(answer) => answer,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => Answer { context: context.clone(), result: Err(describe(&anyhow!(e))) },
                }
            }
        })
        .await
    }

    /// One context's answer, as a task of its own: the error-message target (task-local) is set
    /// inside the task, so its errors name its own server.
    fn answer<T, F, Fut>(&self, context: String, work: Arc<F>) -> impl Future<Output = Answer<T>> + Send + 'static
    where
        F: Fn(Member) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
        T: Send + 'static,
    {
        let flags = ConnectionFlags { context: Some(context.clone()), ..self.connection.clone() };
        let kubeconfig = self.kubeconfig.for_context(&context, flags.user.as_deref());
        async move {
            let result = crate::error::with_own_target(async {
                crate::error::set_context(&context);
                let outcome = async {
                    let connection = flags.resolve_from(Some(kubeconfig)).await?.connect()?;
                    work(Member { context: context.clone(), connection }).await
                }
                .await;
                outcome.map_err(|e| describe(&e))
            })
            .await;
            Answer { context, result }
        }
    }
}

/// Runs `future` (more work on a member after [`Fleet::run`], e.g. deleting cluster by cluster)
/// with error messages naming that member's server.
pub async fn on_member<F: Future>(member: &Member, future: F) -> F::Output {
    crate::error::with_own_target(async {
        crate::error::set_server(&member.connection.server);
        future.await
    })
    .await
}

/// Prints `error: context "NAME": ...` for each failed answer, on stderr, and returns the
/// successful ones with their context.
pub fn report_failures<T>(answers: Vec<Answer<T>>) -> (Vec<(String, T)>, usize) {
    let mut ok = Vec::new();
    let mut failed = 0;
    for answer in answers {
        match answer.result {
            Ok(value) => ok.push((answer.context, value)),
            Err(d) => {
                failed += 1;
                crate::messages::error(format!("context {:?}: {}", answer.context, d.message), None);
            }
        }
    }
    (ok, failed)
}

/// The exit outcome of a fleet run: each answered cluster's outcome, and how many failed
/// (see [`Outcome::across_clusters`]).
pub fn outcome(answered: impl IntoIterator<Item = Outcome>, failed: usize) -> Outcome {
    Outcome::across_clusters(answered.into_iter().map(Some).chain((0..failed).map(|_| None)))
}

/// One table from one per context, with a leading CONTEXT column; the headers are those of the
/// first table (every context renders the same columns).
pub fn table(parts: impl IntoIterator<Item = (String, Table)>) -> Table {
    let mut combined: Option<Table> = None;
    for (context, part) in parts {
        let table = combined.get_or_insert_with(|| {
            Table::new(std::iter::once("context".to_string()).chain(part.headers().iter().cloned()))
        });
        for row in part.rows() {
            table.row(std::iter::once(context.as_str()).chain(row));
        }
    }
    combined.unwrap_or_else(|| Table::new(["context"]))
}

/// `item` with its context in the top-level [`CONTEXT_FIELD`] (a JSON object; anything else is
/// wrapped as `{"context": ..., "value": ...}` so that every item still names its cluster).
pub fn tag(context: &str, item: serde_json::Value) -> serde_json::Value {
    match item {
        serde_json::Value::Object(mut object) => {
            object.insert(CONTEXT_FIELD.into(), context.into());
            serde_json::Value::Object(object)
        }
        other => serde_json::json!({ CONTEXT_FIELD: context, "value": other }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        ["prod-eu", "prod-us", "prod-canary", "staging", "dev-alice", "kind-kind"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn pick(contexts: &[&str], all: bool) -> anyhow::Result<Vec<String>> {
        let flags = FleetFlags {
            contexts: contexts.iter().map(|s| s.to_string()).collect(),
            all_contexts: all,
            ..FleetFlags::default()
        };
        select(&flags, &names(), "/home/u/.kube/config")
    }

    fn message(e: anyhow::Error) -> String {
        describe(&e).message
    }

    #[test]
    fn names_globs_and_regexes_select_in_name_order() {
        assert_eq!(pick(&["staging", "prod-eu"], false).unwrap(), ["prod-eu", "staging"]);
        assert_eq!(pick(&["prod-*"], false).unwrap(), ["prod-canary", "prod-eu", "prod-us"]);
        assert_eq!(pick(&["/^(dev|kind)-/"], false).unwrap(), ["dev-alice", "kind-kind"]);
        // Unanchored, like Go's regexp.MatchString in kubectl-foreach.
        assert_eq!(pick(&["/us/"], false).unwrap(), ["prod-us"]);
        assert_eq!(pick(&["prod-?u"], false).unwrap(), ["prod-eu"]);
    }

    #[test]
    fn exclusions_narrow_a_selection_or_every_context() {
        assert_eq!(pick(&["prod-*", "^prod-canary"], false).unwrap(), ["prod-eu", "prod-us"]);
        assert_eq!(pick(&["^prod-*", "^/^dev/"], false).unwrap(), ["kind-kind", "staging"]);
        assert_eq!(pick(&["^prod-*"], true).unwrap(), ["dev-alice", "kind-kind", "staging"]);
        assert_eq!(pick(&[], true).unwrap().len(), 6);
    }

    #[test]
    fn patterns_of_a_plugins_input_select_the_same_way() {
        let patterns: Vec<ContextPattern> =
            ["prod-*", "^prod-canary"].iter().map(|p| ContextPattern::parse(p).unwrap()).collect();
        assert!(selects(&patterns, "prod-eu"));
        assert!(!selects(&patterns, "prod-canary"));
        assert!(!selects(&patterns, "staging"));
        assert!(selects(&[], "anything"));
        assert!(selects(&[ContextPattern::parse("^kind-*").unwrap()], "staging"));
    }

    #[test]
    fn bad_patterns_are_refused_naming_them() {
        assert_eq!(
            message(pick(&["prod-eu", "prd-us"], false).unwrap_err()),
            r#"context "prd-us" does not exist in /home/u/.kube/config (contexts: prod-eu, prod-us, prod-canary, staging, dev-alice, kind-kind)"#
        );
        assert!(
            message(pick(&["qa-*"], false).unwrap_err()).starts_with(r#"--contexts pattern "qa-*" matches no context"#)
        );
        assert!(message(pick(&["/(/"], false).unwrap_err()).starts_with(r#"invalid --contexts pattern "/(/": "#));
        assert!(
            message(pick(&["prod-[a"], false).unwrap_err()).starts_with(r#"invalid --contexts pattern "prod-[a": "#)
        );
        assert_eq!(message(pick(&["^"], false).unwrap_err()), r#"invalid --contexts pattern "^": empty"#);
        assert!(
            message(pick(&["prod-*", "^/prod/"], false).unwrap_err())
                .starts_with(r#"--contexts "prod-*,^/prod/" leaves no context"#)
        );
        assert!(message(pick(&["staging"], true).unwrap_err()).starts_with("--all-contexts selects every context"));
    }

    #[test]
    fn tables_gain_a_leading_context_column() {
        let part = |rows: &[[&str; 2]]| {
            let mut t = Table::new(["name", "age"]);
            for r in rows {
                t.row(*r);
            }
            t
        };
        let t = table([
            ("prod-eu".to_string(), part(&[["web-1", "5d"], ["web-2", "3h"]])),
            ("staging".to_string(), part(&[])),
            ("kind".to_string(), part(&[["api-1", "12m"]])),
        ]);
        insta::assert_snapshot!(t.render(true), @r"
        CONTEXT   NAME    AGE
        prod-eu   web-1   5d
        prod-eu   web-2   3h
        kind      api-1   12m
        ");
    }

    #[test]
    fn items_carry_their_context_at_the_top_level() {
        let item = serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "a"}});
        assert_eq!(
            tag("prod-eu", item),
            serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "a"}, "context": "prod-eu"})
        );
        assert_eq!(tag("kind", serde_json::json!(3)), serde_json::json!({"context": "kind", "value": 3}));
    }
}
