//! Command-line arguments, and the plan they resolve to.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kubeplug::{ConcurrencyFlag, ConnectionFlags, OutputFlags, Printer};

const AFTER_HELP: &str = "\
Examples:
  # List the CRDs of the cluster (-o wide adds categories, conversion and instance counts)
  kubectl inspect crd
  kubectl inspect crd -o wide

  # Describe one CRD by name, plural, singular or short name
  kubectl inspect crd gateways.gateway.networking.k8s.io
  kubectl inspect crd gtw

  # Its schema as a tree, for one version, from one field down
  kubectl inspect crd gtw --schema
  kubectl inspect crd gtw --schema --version v1beta1 --field spec.listeners

  # The CRDs of several clusters at once, with a CONTEXT column (globs, /regex/, ^exclude)
  kubectl inspect crd --contexts 'prod-*,^prod-canary'
  kubectl inspect crd --all-contexts -o json | jq -r '.items[] | [.context, .metadata.name] | @tsv'

  # Any field with kubectl's JSONPath or custom columns (on the CRDs -o json prints)
  kubectl inspect crd -o jsonpath='{range .items[*]}{.metadata.name}{\"\\t\"}{.spec.versions[?(@.storage==true)].name}{\"\\n\"}{end}'
  kubectl inspect crd -o custom-columns=NAME:.metadata.name,SCOPE:.spec.scope

  # Check custom resources before applying them, without a cluster
  kubectl inspect crd validate -f manifests/ --crd-file crds/

Across clusters (--contexts, --all-contexts): the list only; each context is resolved as
--context NAME would be, at most --cluster-concurrency at once; a cluster that fails prints one
`error: context \"NAME\": ...` line and the others still answer. Each -o json|yaml item carries a
top-level \"context\"; -o name is refused across several contexts.

Exit status:
  0  success (validate: every object is valid)
  1  error: bad flags, unreadable or malformed input (FILE:LINE), unknown CRD, server errors;
     across clusters, any cluster that failed
  3  validate: at least one object is invalid, or has no CRD (unless --ignore-missing-crds)";

const VALIDATE_AFTER_HELP: &str = "\
Each problem is printed as FILE:LINE: KIND/NAME: PATH: PROBLEM on stdout, in the API server's
words; a summary goes to stderr. Objects of built-in kinds (Service, Deployment, Namespace...)
are skipped. x-kubernetes-validations (CEL) rules are evaluated as the server evaluates them;
against a cluster, an object that exists is checked as an update (transition rules run against
it). Rules that cannot be evaluated here (transition rules offline, functions the CEL library
lacks) are counted in the summary, and --show-unevaluated (or -o wide) lists each one.

Examples:
  kubectl inspect crd validate -f gateway.yaml
  kubectl inspect crd validate -f manifests/ -R --crd-file crds/ --show-unevaluated
  helm template ./chart | kubectl inspect crd validate -f - --crd-file chart/crds/

Exit status:
  0  every object is valid
  1  error: unreadable or malformed input (FILE:LINE), no CRD to validate against
  3  at least one object is invalid, or its kind has no CRD (unless --ignore-missing-crds)";

/// `kubectl inspect crd`: list, describe, explain and validate against CustomResourceDefinitions.
#[derive(Parser, Debug)]
#[command(
    name = "kubectl-inspect-crd",
    bin_name = "kubectl inspect crd",
    about = "List, describe, explain and validate against CustomResourceDefinitions",
    after_help = AFTER_HELP,
    // Flags go anywhere, as in kubectl: `--kubeconfig K validate -f x` is the validate
    // subcommand (clap's args_conflicts_with_subcommands would take `validate` as a CRD name).
    subcommand_precedence_over_arg = true
)]
#[command(mut_arg("output", |a| kubeplug::output::formats(a, kubeplug::output::OBJECT_FORMATS)))]
#[command(mut_arg("concurrency", |a| a.help("How many requests to run at once (instance counts of -o wide, stored objects for validate).")))]
pub struct Args {
    /// The CRD to describe: its name, plural, singular, short name or `Kind.group`, resolved as
    /// `kubectl get` resolves them (`resource.group` narrows by group). Without it, all CRDs are
    /// listed.
    // value_name "CRD" is what shell completion keys on to offer the cluster's CRD names.
    #[arg(value_name = "CRD")]
    pub name: Option<String>,

    /// Print the CRD's schema as a tree of fields (like `kubectl explain --recursive`).
    #[arg(long)]
    pub schema: bool,

    /// With --schema: the version to show (default: the storage version). Implies --schema.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,

    /// With --schema: the field to start from, e.g. spec.listeners.tls. Implies --schema.
    #[arg(long, value_name = "PATH")]
    pub field: Option<String>,

    /// Read CRDs from manifest files or directories (walked recursively) instead of the
    /// cluster (repeatable; `-` for stdin). Non-CRD documents in them are ignored.
    #[arg(long = "crd-file", value_name = "PATH", global = true)]
    pub crd_file: Vec<PathBuf>,

    #[command(flatten)]
    pub concurrency: ConcurrencyFlag,

    #[command(flatten)]
    pub output: OutputFlags,

    #[command(flatten)]
    pub connection: ConnectionFlags,

    #[command(flatten)]
    pub fleet: kubeplug::fleet::FleetFlags,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate custom resource manifests against the schemas of their CRDs.
    #[command(after_help = VALIDATE_AFTER_HELP)]
    Validate(ValidateArgs),
}

/// `validate` arguments.
#[derive(clap::Args, Debug)]
// Validation results have no object names: no -o name.
#[command(mut_arg("output", |a| kubeplug::output::formats(a, kubeplug::output::RESULT_FORMATS)))]
pub struct ValidateArgs {
    /// Manifest files or directories to check (repeatable; `-` for stdin). YAML (multi-document)
    /// or JSON; `kind: List` documents are expanded.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,

    /// Walk directories given with -f recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,

    /// List every x-kubernetes-validations (CEL) rule that applies but could not be evaluated.
    #[arg(long)]
    pub show_unevaluated: bool,

    /// Objects whose kind has no CRD are reported but do not make the run fail.
    #[arg(long)]
    pub ignore_missing_crds: bool,

    #[command(flatten)]
    pub output: OutputFlags,
}

/// What to do, resolved from the arguments.
#[derive(Debug, Clone)]
pub enum Plan {
    /// List CRDs.
    List,
    /// Describe one CRD.
    Describe {
        /// The name as typed.
        name: String,
    },
    /// Show one CRD's schema.
    Schema {
        /// The name as typed.
        name: String,
        /// `--version`.
        version: Option<String>,
        /// `--field`.
        field: Option<String>,
    },
    /// Validate manifests.
    Validate {
        /// `-f` paths.
        files: Vec<PathBuf>,
        /// `-R`.
        recursive: bool,
        /// `--show-unevaluated` (or `-o wide`).
        show_unevaluated: bool,
        /// `--ignore-missing-crds`.
        ignore_missing_crds: bool,
    },
}

impl Args {
    /// Checks flag combinations and resolves what to do, given the printer of
    /// [`Self::output_flags`].
    pub fn plan(&self, printer: &Printer) -> anyhow::Result<Plan> {
        if let Some(Command::Validate(v)) = &self.command {
            if self.name.is_some() || self.schema || self.version.is_some() || self.field.is_some() {
                anyhow::bail!("validate takes no CRD name, --schema, --version or --field");
            }
            let stdin_twice =
                v.files.iter().any(|p| p.as_os_str() == "-") && self.crd_file.iter().any(|p| p.as_os_str() == "-");
            if stdin_twice {
                anyhow::bail!("-f - and --crd-file - cannot both read stdin");
            }
            return Ok(Plan::Validate {
                files: v.files.clone(),
                recursive: v.recursive,
                show_unevaluated: v.show_unevaluated || printer.is_wide(),
                ignore_missing_crds: v.ignore_missing_crds,
            });
        }
        let schema = self.schema || self.version.is_some() || self.field.is_some();
        match (&self.name, schema) {
            (None, true) => anyhow::bail!("--schema, --version and --field need a CRD name"),
            (None, false) => Ok(Plan::List),
            (Some(name), false) => Ok(Plan::Describe { name: name.clone() }),
            (Some(name), true) => {
                Ok(Plan::Schema { name: name.clone(), version: self.version.clone(), field: self.field.clone() })
            }
        }
    }

    /// The output flags that apply (the subcommand's for validate).
    pub fn output_flags(&self) -> &OutputFlags {
        match &self.command {
            Some(Command::Validate(v)) => &v.output,
            None => &self.output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let mut all = vec!["kubectl-inspect-crd"];
        all.extend_from_slice(args);
        let args = Args::try_parse_from(all)?;
        args.plan(&Printer::new(args.output_flags())?)
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn a_positional_name_describes_and_validate_is_a_subcommand() {
        assert!(matches!(plan(&[]).unwrap(), Plan::List));
        assert!(matches!(plan(&["gtw"]).unwrap(), Plan::Describe { name } if name == "gtw"));
        assert!(matches!(plan(&["gtw", "--field", "spec"]).unwrap(), Plan::Schema { .. }));
        assert!(matches!(
            plan(&["validate", "-f", "x.yaml", "--crd-file", "crds", "-o", "wide"]).unwrap(),
            Plan::Validate { show_unevaluated: true, .. }
        ));
        assert!(
            matches!(plan(&["--kubeconfig", "k", "validate", "-f", "x.yaml"]).unwrap(), Plan::Validate { .. }),
            "flags before the subcommand"
        );
        assert!(matches!(plan(&["validate", "-n", "x", "-f", "x.yaml"]).unwrap(), Plan::Validate { .. }));
        assert!(plan(&["gtw", "validate", "-f", "x.yaml"]).is_err());
        assert!(plan(&["--schema"]).is_err());
        assert!(plan(&["validate"]).is_err());
        let name = plan(&["validate", "-f", "x.yaml", "-o", "name"]).unwrap_err().to_string();
        assert!(name.starts_with("unable to match a printer suitable for the output format \"name\""), "{name}");
        assert!(plan(&["-o", "name"]).is_ok(), "CRDs have names");
    }
}
