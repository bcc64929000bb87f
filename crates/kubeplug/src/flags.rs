//! Flags that several plugins take besides the connection and output flags, defined once:
//! `-A/--all-namespaces` (with kubectl's one rule against `-n`) and `--concurrency` (with one
//! validation). A command that words them differently keeps the flag and changes only its help,
//! with `#[command(mut_arg("concurrency", |a| a.help("...")))]`.

use crate::concurrency::DEFAULT_CONCURRENCY;

/// `-A/--all-namespaces`, flattened into the commands that can work across namespaces.
#[derive(clap::Args, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllNamespacesFlag {
    /// If present, work across all namespaces. The namespace of the context is ignored even if
    /// specified with --namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

impl AllNamespacesFlag {
    /// The scope, given the effective namespace (`-n`, else the context's): as in kubectl, `-A`
    /// wins over `-n`, which is then ignored rather than refused.
    pub fn scope(&self, namespace: &str) -> Scope {
        if self.all_namespaces { Scope::All } else { Scope::Namespace(namespace.to_string()) }
    }
}

/// Where a command looks: one namespace, or all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One namespace.
    Namespace(String),
    /// All namespaces (namespace "" in API paths and access reviews).
    All,
}

impl Scope {
    /// The namespace to pass to list calls (`None` = all).
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Scope::Namespace(ns) => Some(ns),
            Scope::All => None,
        }
    }

    /// The namespace an access review names: `""` for all namespaces, as `kubectl auth can-i -A`.
    pub fn review_namespace(&self) -> &str {
        self.namespace().unwrap_or("")
    }

    /// kubectl's message for an empty result, in its words for each scope.
    pub fn nothing_found(&self) -> String {
        match self {
            Scope::Namespace(ns) => format!("No resources found in {ns} namespace."),
            Scope::All => "No resources found".to_string(),
        }
    }
}

/// `--concurrency N`: how many requests a command keeps in flight (default 16, at least 1).
#[derive(clap::Args, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConcurrencyFlag {
    /// Maximum number of requests in flight.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    pub concurrency: usize,
}

impl Default for ConcurrencyFlag {
    fn default() -> Self {
        ConcurrencyFlag { concurrency: DEFAULT_CONCURRENCY }
    }
}

impl ConcurrencyFlag {
    /// The bound, at least 1.
    pub fn get(&self) -> usize {
        self.concurrency
    }
}

/// The one validation of `--concurrency`: a whole number, 1 or more.
fn parse_concurrency(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err("must be a whole number, 1 or more".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Args {
        #[command(flatten)]
        all: AllNamespacesFlag,
        #[command(flatten)]
        concurrency: ConcurrencyFlag,
    }

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
    }

    #[test]
    fn all_namespaces_wins_over_the_namespace() {
        assert_eq!(parse(&["-A"]).unwrap().all.scope("shop"), Scope::All);
        assert_eq!(parse(&[]).unwrap().all.scope("shop"), Scope::Namespace("shop".into()));
        assert_eq!(Scope::All.review_namespace(), "");
        assert_eq!(Scope::Namespace("a".into()).nothing_found(), "No resources found in a namespace.");
    }

    #[test]
    fn concurrency_defaults_to_16_and_must_be_at_least_1() {
        assert_eq!(parse(&[]).unwrap().concurrency.get(), 16);
        assert_eq!(parse(&["--concurrency", "3"]).unwrap().concurrency.get(), 3);
        for bad in ["0", "-1", "x"] {
            let e = parse(&[&format!("--concurrency={bad}")]).unwrap_err().render().to_string();
            assert!(e.contains(&format!("invalid value '{bad}' for '--concurrency <N>'")), "{e}");
        }
    }
}
