//! Command-line arguments, as the user typed them.

use clap::Parser;
use kubeplug::fleet::FleetFlags;
use kubeplug::output::Format;
use kubeplug::{ConcurrencyFlag, ConnectionFlags, OutputFlags};

const AFTER_HELP: &str = "\
Examples:
  # Everything that extends the current cluster, one table per extension point
  kubectl show extensions

  # With detail columns (rules, services, selectors in full)
  kubectl show extensions -o wide

  # Which admission webhooks and policies would intercept this request, and why
  kubectl show extensions --for 'create deployments -n shop'
  kubectl show extensions --for 'update po'
  kubectl show extensions --for 'connect pods/exec -n kube-system'

  # Across clusters: which contexts have a fail-closed webhook down, an unavailable APIService...
  kubectl show extensions --contexts 'prod-*'
  kubectl show extensions --all-contexts -o json | jq '.items[] | {context, risky: [.admission.webhooks[]? | select(.risk) | .name]}'

  # The whole map as one document, for scripts
  kubectl show extensions -o json | jq '.admission.webhooks[] | select(.risk)'

  # One field of it with kubectl's JSONPath
  kubectl show extensions -o jsonpath='{.admission.webhooks[?(@.risk==true)].name}'

Sections, in order: API EXTENSIONS (CustomResourceDefinitions by group, aggregated
APIServices with their Available condition), ADMISSION (each webhook of the Validating and
Mutating webhook configurations with its backend's health; ValidatingAdmissionPolicies where
served), SCHEDULING (schedulers other than default-scheduler named by pods, with Pending
counts), INFRASTRUCTURE (CSIDrivers, RuntimeClasses, extended resources of nodes, the CNI when
kube-system tells it), LOCAL (kubectl plugins on PATH, with kubectl plugin list's warnings),
STUCK FINALIZERS (custom resources being deleted with finalizers remaining).

A webhook with failurePolicy Fail whose Service is missing or has no ready endpoint is flagged
RISK: every request it intercepts is rejected until the backend is back.

A section you may not read prints `(forbidden: <server message>)` under its heading and the
others still print. -o json|yaml prints one document of kind ExtensionMap with a field per area
(apiExtensions, admission, scheduling, infrastructure, local, stuckFinalizers); each table in it
is either its rows or {forbidden: <message>} (or {error: <message>}).

--for 'VERB RESOURCE [-n NAMESPACE]': VERB is create, update (or patch), delete or connect;
RESOURCE is any name kubectl accepts (deploy, deployments.apps, pods/exec). Without -n a
namespaced resource is taken in the current namespace.

Across clusters (--contexts PATTERNS: names, globs, /regex/, ^exclude; or --all-contexts): every
context's map is read (at most --cluster-concurrency at once, each context with its own
credentials), and one table sums up the risks: RISK (fail-closed webhook down, APIService
unavailable, scheduler not scheduling, stuck finalizers), NAME, WHY, and the CONTEXTS that have
it. -o json|yaml prints a List of the ExtensionMaps, each with a top-level \"context\". A cluster
that fails prints one `error: context \"NAME\": ...` line and the others still answer. --for works
on one context.

Exit codes:
  0  success (also when some sections were forbidden)
  1  error (bad flags or --for, unreachable server, every section failed); across clusters, any
     cluster that failed";

/// The `-o` formats: the map is one document, so no `-o name`, and no custom columns (they are
/// rows of objects); a JSONPath template reads the document `-o json` prints.
pub const FORMATS: &[Format] = &[Format::Json, Format::Yaml, Format::JsonPath, Format::JsonPathFile, Format::Wide];

/// `kubectl show extensions [flags]`
#[derive(Parser, Debug)]
#[command(
    name = "kubectl show extensions",
    bin_name = "kubectl show extensions",
    version,
    about = "One map of everything that extends this cluster: CRDs, aggregated APIs, admission \
             webhooks and policies, schedulers, CSI drivers, runtime classes, device plugins, \
             kubectl plugins",
    after_help = AFTER_HELP
)]
#[command(mut_arg("output", |a| kubeplug::output::formats(a, FORMATS)))]
#[command(mut_arg("concurrency", |a| a.help("Maximum number of requests in flight (backend checks, custom resource lists).")))]
pub struct Args {
    #[command(flatten)]
    pub connection: ConnectionFlags,
    #[command(flatten)]
    pub fleet: FleetFlags,
    #[command(flatten)]
    pub output: OutputFlags,
    /// Show which admission webhooks and policies would intercept this request
    /// ('VERB RESOURCE [-n NAMESPACE]').
    #[arg(long = "for", value_name = "REQUEST")]
    pub for_request: Option<String>,
    #[command(flatten)]
    pub concurrency: ConcurrencyFlag,
}
