//! The command line of `kubectl can-i-batch`, as typed (validated into a [`crate::Plan`]).

use clap::Parser;

/// Everything after `kubectl can-i-batch`.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl can-i-batch",
    bin_name = "kubectl can-i-batch",
    version,
    about = "Many access checks in one run (SelfSubjectAccessReview / SubjectAccessReview), for people and for CI",
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
)]
// Checks have no object names: no -o name.
#[command(mut_arg("output", |a| kubeplug::output::formats(a, kubeplug::output::RESULT_FORMATS)))]
#[command(mut_arg("all_namespaces", |a| a.help("Check in all namespaces (namespace \"\") when a check names none; -n is then ignored.")))]
#[command(mut_arg("concurrency", |a| a.help("How many reviews to send at once.")))]
pub struct Args {
    /// A check: "VERB RESOURCE[/SUBRESOURCE] [NAME] [-n NS | -A] [--expect allowed|denied]
    /// [--contexts PATTERNS]" or "VERB /URL". Repeatable.
    #[arg(long = "check", value_name = "CHECK")]
    pub checks: Vec<String>,

    /// Read checks from FILE ('-' for stdin): a YAML or JSON list of objects (keys verb,
    /// resource, group, subresource, name, namespace, nonResourceURL, expect, contexts), or one check per
    /// line in the --check syntax ('#' starts a comment). Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub files: Vec<String>,

    /// Matrix: verbs (comma-separated, repeatable) to check on every --resources entry.
    #[arg(long, value_name = "VERBS")]
    pub verbs: Vec<String>,

    /// Matrix: resources (comma-separated, repeatable; `pods/log`, `deployments.apps`, `/healthz`).
    #[arg(long, value_name = "RESOURCES")]
    pub resources: Vec<String>,

    /// Namespaces (comma-separated, repeatable) to ask each check without its own namespace in;
    /// -n stays one namespace, as in kubectl.
    #[arg(long, value_name = "NAMESPACES")]
    pub namespaces: Vec<String>,

    #[command(flatten)]
    pub all_namespaces: kubeplug::AllNamespacesFlag,

    /// Check for someone else (SubjectAccessReview): user:NAME, group:NAME or
    /// serviceaccount:NAMESPACE:NAME. Repeatable; one column block each. Default: yourself.
    #[arg(long = "subject", value_name = "SUBJECT")]
    pub subjects: Vec<String>,

    /// List what you may do in the namespace (SelfSubjectRulesReview), like `kubectl auth can-i --list`.
    #[arg(long)]
    pub list: bool,

    /// Print nothing on stdout; only the exit code tells.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    #[command(flatten)]
    pub concurrency: kubeplug::ConcurrencyFlag,

    #[command(flatten)]
    pub output: kubeplug::OutputFlags,

    #[command(flatten)]
    pub connection: kubeplug::ConnectionFlags,

    #[command(flatten)]
    pub fleet: kubeplug::fleet::FleetFlags,
}

const LONG_ABOUT: &str = "\
Many access checks in one run, for people and for CI.

Each check asks whether a subject may do VERB on a resource (optionally a subresource, one named
object, a namespace) or on a non-resource URL, exactly as `kubectl auth can-i` asks: resources
resolve through discovery (plural, singular, kind, short name, resource.group), an unknown
resource type or verb gets kubectl's warning and is still checked, -A means namespace \"\", and a
cluster-scoped resource is always checked cluster-wide (so -n on nodes cannot give a false yes).

Checks come from --check (repeatable), -f FILE and the --verbs x --resources matrix; a
--namespaces a,b checks every check without its own namespace in each (-n is one namespace, as in kubectl). Identical checks are
asked once. Reviews are sent concurrently (--concurrency) over one connection pool.

Subjects: yourself by default (SelfSubjectAccessReview; --as/--as-group impersonate), or
--subject user:NAME | group:NAME | serviceaccount:NS:NAME (SubjectAccessReview, which needs
permission to create subjectaccessreviews.authorization.k8s.io). A named subject is presented as
the API server's authenticator would present it: with the group system:authenticated, and a
service account also with system:serviceaccounts and system:serviceaccounts:NS; so
--subject user:alice answers like --as alice.";

const AFTER_HELP: &str = "\
Output:
  default   a table: VERB RESOURCE NAME NAMESPACE SUBJECT ALLOWED [EXPECT] REASON
            (NAME '*' = any, NAMESPACE '*' = all namespaces or cluster-wide, '-' = not applicable);
            matrix input (--verbs/--resources only) prints resources x verbs, one column block
            per subject, with \u{2714}/\u{2716} on a terminal and yes/no otherwise.
  -o wide   the table plus DENIED (an explicit deny) and SOURCE (FILE:LINE of the check).
  -o json|yaml
            a `kind: List` of result objects (apiVersion kubeplug.io/v1alpha1, kind
            AccessCheckResult), one per check and subject:
              check:   {verb, resource, group, subresource, name, namespace, nonResourceURL, expect}
                       with the resource resolved (plural, group) and the namespace used
              subject: {kind: Self | User | Group | ServiceAccount, name, namespace}
              status:  the server's SubjectAccessReviewStatus as returned
                       {allowed, denied, reason, evaluationError}
              expectationMet: true/false (only when the check states expect)
              source:  FILE:LINE, --check \"...\" or --verbs/--resources
  -o jsonpath=TEMPLATE | custom-columns=HEADER:PATH,...
            kubectl's JSONPath on that same List (custom columns: one row per result), e.g.
            -o jsonpath='{range .items[*]}{.check.verb} {.check.resource}: {.status.allowed}{\"\\n\"}{end}'
  -q        nothing on stdout and no summary of unmet expectations: only the exit code
            tells (warnings and errors still go to stderr).
  Unmet expectations are listed on stderr, one line each, then \"N of M expectations not met\".

Across clusters (--contexts PATTERNS, --all-contexts):
  Every check is asked in every selected context, each with its own credentials and namespace, at
  most --cluster-concurrency clusters at once; a check that states `contexts: [PATTERN, ...]` (or
  `--contexts PATTERNS` in the line syntax: names, globs, /regex/, ^exclude) is asked only in the
  contexts those select. Tables and the matrix gain a leading CONTEXT column; each -o json|yaml
  item carries a top-level \"context\". A cluster that fails prints one
  `error: context \"NAME\": ...` line and the others still answer. --list works on one context.

Exit codes:
  0  every check is allowed, or every check with an expectation meets it
     (a check passes when its expectation is met, or without one when it is allowed)
  3  any check is denied, or any expectation is not met
  1  an error: bad flags or input (file:line named), refused or failed requests; across
     clusters, any cluster that failed (it wins over 3: the answer is not whole)

Examples:
  # Can I do these things in my current namespace?
  kubectl can-i-batch --check 'get pods' --check 'create deployments.apps' --check 'get pods/log'

  # A matrix for two namespaces, as seen by a service account
  kubectl can-i-batch --verbs get,list,create,delete --resources pods,deployments,secrets \\
      --namespaces team-a,team-b --subject serviceaccount:ci:deployer

  # Assert in CI what a role may and may not do (exit 3 when an expectation fails)
  cat > checks.yaml <<EOF
  - {verb: create, resource: deployments, group: apps, namespace: team-a, expect: allowed}
  - {verb: get, resource: secrets, namespace: team-a, expect: denied}
  - {verb: get, nonResourceURL: /healthz, expect: allowed}
  EOF
  kubectl can-i-batch -f checks.yaml --as alice -q

  # Can the CI deployer deploy in every production cluster, and never read secrets in prod-eu?
  cat > fleet-checks.yaml <<EOF
  - {verb: create, resource: deployments, group: apps, namespace: shop, expect: allowed}
  - {verb: get, resource: secrets, namespace: shop, expect: denied, contexts: [prod-eu]}
  EOF
  kubectl can-i-batch -f fleet-checks.yaml --contexts 'prod-*' --subject serviceaccount:ci:deployer

  # One check per line, from stdin
  printf 'get pods -n a\\nlist nodes\\nget /healthz\\n' | kubectl can-i-batch -f -

  # What may I do in namespace foo?
  kubectl can-i-batch --list -n foo";
