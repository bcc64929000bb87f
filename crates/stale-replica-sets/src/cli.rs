//! Command-line arguments, as the user typed them.

use clap::{Parser, ValueEnum};
use kubeplug::fleet::FleetFlags;
use kubeplug::{AllNamespacesFlag, ConcurrencyFlag, ConnectionFlags, OutputFlags};

const AFTER_HELP: &str = "\
Examples:
  # Stale ReplicaSets in the current namespace
  kubectl show stale-replica-sets

  # In every namespace, older than a week, keeping the 2 newest of each Deployment for rollbacks
  kubectl show stale-replica-sets -A --older-than 7d --keep 2

  # Only those whose Deployment is gone
  kubectl show stale-replica-sets -A --orphaned -o wide

  # Preview a clean-up, check it with the server, then do it
  kubectl show stale-replica-sets -n shop --delete
  kubectl show stale-replica-sets -n shop --delete --dry-run=server
  kubectl show stale-replica-sets -n shop --delete --yes

  # Names and revisions with kubectl's JSONPath or custom columns (on the objects -o json prints)
  kubectl show stale-replica-sets -A -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.metadata.annotations.deployment\\.kubernetes\\.io/revision}{\"\\n\"}{end}'
  kubectl show stale-replica-sets -o custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name

  # Pipe into kubectl (-o name never prints a ReplicaSet in use)
  kubectl show stale-replica-sets -o name | xargs kubectl describe

  # Across clusters: every prod context but the canary, with a CONTEXT column
  kubectl show stale-replica-sets -A --contexts 'prod-*,^prod-canary'

  # Which clusters still carry stale ReplicaSets (jq on the context of each item)
  kubectl show stale-replica-sets -A --all-contexts -o json | jq -r '.items[].context' | sort | uniq -c

  # With --include-current, -o json marks the ReplicaSets in use; a jq filter can drop them
  kubectl show stale-replica-sets --include-current -o json |
    jq '.items[] | select(.metadata.annotations[\"kubeplug.io/in-use\"] != \"true\") | .metadata.name'

A ReplicaSet is stale when it wants 0 replicas and its controller is a Deployment that does not use
it, or it has no controller, or its Deployment is gone (matched by uid). A ReplicaSet controlled by
anything else (an Argo Rollout, an OpenKruise workload...) is left alone: never listed as stale,
never deleted; a line on stderr counts them by kind.

Deleting: each delete carries preconditions (uid and resourceVersion from the listing), so a
ReplicaSet changed since it was listed (e.g. scaled up by a rollback) is skipped. Right before
deleting, each owning Deployment is read again: if it has a spec change its controller has not
acted on yet, or now uses the ReplicaSet (a `rollout undo`), the ReplicaSet is skipped. A rollback
made after that re-check and before the DELETE lands is not seen.

Across clusters (--contexts, --all-contexts): each context is resolved as --context NAME would be
(its own credentials, exec plugin, namespace), at most --cluster-concurrency at once. A cluster that
fails prints one `error: context \"NAME\": ...` line and the others still answer. Tables gain a
CONTEXT column; each item of -o json|yaml carries a top-level \"context\" field; -o name is refused
across several contexts. --delete previews the count per context, asks naming every context, and
with --yes deletes cluster by cluster, each with the checks above.

Exit codes:
  0  success (with --exit-code: no stale ReplicaSet found)
  1  error (bad flags, unreachable server, refused request, a failed deletion); across clusters,
     any cluster that failed, even if another found stale ReplicaSets
  3  with --exit-code: stale ReplicaSets were found (in any cluster, when none failed)";

/// `kubectl show stale-replica-sets [flags]`
#[derive(Parser, Debug)]
#[command(
    name = "kubectl show stale-replica-sets",
    bin_name = "kubectl show stale-replica-sets",
    version,
    about = "List the ReplicaSets left behind by Deployment rollouts (zero replicas), and clean them up safely",
    after_help = AFTER_HELP
)]
#[command(mut_arg("output", |a| kubeplug::output::formats(a, kubeplug::output::OBJECT_FORMATS)))]
#[command(mut_arg("all_namespaces", |a| a.help("List across all namespaces (one paged cluster-wide list); -n is then ignored.")))]
#[command(mut_arg("concurrency", |a| a.help("Maximum number of deletions in flight.")))]
pub struct Args {
    #[command(flatten)]
    pub connection: ConnectionFlags,
    #[command(flatten)]
    pub fleet: FleetFlags,
    #[command(flatten)]
    pub output: OutputFlags,
    #[command(flatten)]
    pub all_namespaces: AllNamespacesFlag,
    /// Label selector for the ReplicaSets (`app=web`, `tier in (a,b)`, `!canary`).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Only ReplicaSets whose controller reference names this Deployment: the live one, or the
    /// leftovers of a deleted one of that name (OWNER STATUS `missing` in -o wide).
    #[arg(long, value_name = "NAME")]
    pub deployment: Option<String>,
    /// Only ReplicaSets older than this (`90m`, `12h`, `7d`).
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,
    /// Leave out the N newest stale ReplicaSets of each Deployment (by revision), so that
    /// `kubectl rollout undo` keeps its targets. They are set aside before -l, --older-than,
    /// --deployment and --orphaned narrow the list. Orphans are never kept back: no Deployment
    /// can roll back to them.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub keep: Option<i64>,
    /// Only ReplicaSets with no live controller owner: none at all, or a Deployment that no
    /// longer exists (matched by uid, so a Deployment recreated under the same name does not count).
    #[arg(long)]
    pub orphaned: bool,
    /// Also show the ReplicaSet a Deployment scaled to 0 currently uses: marked `(current)` in
    /// tables and with the annotation kubeplug.io/in-use: "true" in -o json|yaml; never printed
    /// by -o name, never deleted.
    #[arg(long)]
    pub include_current: bool,
    /// With -o wide: also show zero-replica ReplicaSets whose controller is not a Deployment
    /// (Argo Rollouts, OpenKruise...). They are never candidates and never deleted.
    #[arg(long)]
    pub include_foreign: bool,
    /// Exit with code 3 when stale ReplicaSets are found (for scripts).
    #[arg(long)]
    pub exit_code: bool,
    /// Delete the ReplicaSets selected (a preview unless --yes; asks on a terminal).
    #[arg(long)]
    pub delete: bool,
    /// Delete without asking.
    #[arg(short = 'y', long, requires = "delete")]
    pub yes: bool,
    /// With --delete: `server` sends the deletions as a server-side dry run; `client` only previews.
    #[arg(long, value_enum, value_name = "MODE", default_value = "none", num_args = 0..=1,
          default_missing_value = "client", require_equals = true, requires = "delete")]
    pub dry_run: DryRun,
    #[command(flatten)]
    pub concurrency: ConcurrencyFlag,
    /// How ReplicaSets and Deployments are read (as protobuf; JSON for -o json|yaml): `stream`
    /// reads one response, decoded as it arrives (the fastest consistent read measured, see
    /// BENCHMARKS.md); `watch-list` streams them from the API server's watch cache once it has
    /// caught up with etcd (servers without watch-lists are read `paged`); `paged` reads pages of
    /// 500, as kubectl does (on a terminal, a bar where pages carry the server's count of what
    /// follows, else a count of what was read); `cached` takes the watch cache as it is (resourceVersion=0): the
    /// cheapest read, but it may miss the last changes. All but `cached` show nothing older than
    /// the moment the command started. Deletions are protected by their preconditions whatever
    /// the read.
    #[arg(long, value_enum, value_name = "MODE", default_value = "stream")]
    pub read: kubeplug::list::ReadMode,
}

/// kubectl's `--dry-run` values.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DryRun {
    /// Really delete.
    None,
    /// Only print what would be deleted.
    Client,
    /// Ask the server to validate the deletions without persisting them.
    Server,
}
