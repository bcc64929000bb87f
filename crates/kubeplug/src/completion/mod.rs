//! Shell completion, once for every plugin: `<binary> completion bash|zsh|fish` prints a script
//! for the binary, and `<binary> __complete <args...> <word>` answers kubectl's plugin-completion
//! protocol.
//!
//! kubectl (1.26+) completes `kubectl <plugin> <args> <word><TAB>` by running the executable
//! `kubectl_complete-<plugin>` found on PATH with `<args> <word>` (the word being completed last,
//! empty for a new word) and reading Cobra's format from its stdout: one candidate per line
//! (`value` or `value<TAB>description`), then `:<directive>`. Its stderr reaches the user's
//! terminal, so a lookup that fails (no cluster, no permission) answers nothing and says nothing.
//!
//! The pieces: `script` (the shell scripts), `cobra` (the protocol's answer and its wire format),
//! `walk` (where the typed words leave the parser), `lookup` (names from the kubeconfig and the
//! cluster); this module ties them to a clap command.

use clap::builder::ValueHint;
use clap::{Arg, ArgAction, Command, CommandFactory};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::Environment;
use crate::exit::{ERROR, SUCCESS};

mod cobra;
mod lookup;
mod script;
mod walk;

pub use cobra::{
    Candidate, Completions, DIRECTIVE_DEFAULT, DIRECTIVE_FILTER_DIRS, DIRECTIVE_NO_FILE_COMP, DIRECTIVE_NO_SPACE,
};
pub use script::script;

use script::binary_name;

use lookup::{Lookups, Source};
use walk::{Target, locate};

/// The hidden argument kubectl's completion helpers pass first.
pub const COMPLETE_ARG: &str = "__complete";
/// The argument that prints a shell completion script.
pub const SCRIPT_ARG: &str = "completion";

/// Handles `completion SHELL` and `__complete ...` before clap parses the command line; `None`
/// when the command line is a normal run.
pub fn intercept<A: CommandFactory>() -> Option<ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let first = args.get(1)?.to_str()?;
    if first != COMPLETE_ARG && first != SCRIPT_ARG {
        return None;
    }
    let mut cmd = A::command();
    // A plugin with a real subcommand of that name keeps it.
    if cmd.get_subcommands().any(|s| s.get_name() == first) {
        return None;
    }
    let rest: Vec<String> = args[2..].iter().map(|a| a.to_string_lossy().into_owned()).collect();
    match first {
        COMPLETE_ARG => {
            let answer = complete(&mut cmd, &rest);
            let _ = crate::output::write_stdout(answer.render().as_bytes());
            Some(ExitCode::from(SUCCESS))
        }
        SCRIPT_ARG => {
            let bin = binary_name(&args[0], &cmd);
            match script(&mut cmd, &bin, &rest) {
                Ok(text) => {
                    let _ = crate::output::write_stdout(text.as_bytes());
                    Some(ExitCode::from(SUCCESS))
                }
                Err(message) => {
                    crate::messages::error(message, Some(&format!("Usage: {bin} completion bash|zsh|fish")));
                    Some(ExitCode::from(ERROR))
                }
            }
        }
        _ => None,
    }
}

/// Completes the last of `words` (kubectl passes the word being completed last, empty for a
/// new word) against the command `cmd`, looking up contexts, namespaces, CRDs and resource types
/// where the flag or argument asks for one.
pub fn complete(cmd: &mut Command, words: &[String]) -> Completions {
    complete_in(cmd, words, Environment::current())
}

/// [`complete`] with the kubeconfig environment given (tests cannot safely set variables).
fn complete_in(cmd: &mut Command, words: &[String], environment: Environment) -> Completions {
    cmd.build();
    let position = locate(cmd, words);
    let mut current = &*cmd;
    for name in &position.path {
        match current.find_subcommand(name) {
            Some(sub) => current = sub,
            None => break,
        }
    }
    let lookups = Lookups::new(&position.connection_words, environment);
    match &position.target {
        Target::FlagName { prefix } => flag_names(current, prefix, &position.seen),
        Target::FlagValue { arg_id, prefix, inline } => {
            let Some(arg) = current.get_arguments().find(|a| a.get_id().as_str() == arg_id) else {
                return Completions::none(DIRECTIVE_NO_FILE_COMP);
            };
            let mut answer = values(arg, prefix, &lookups);
            if let Some(inline) = inline {
                for c in &mut answer.candidates {
                    c.value = format!("{inline}{}", c.value);
                }
            }
            answer
        }
        Target::Positional { index, prefix } => {
            let mut positionals: Vec<&Arg> = current.get_positionals().filter(|a| !a.is_hide_set()).collect();
            positionals.sort_by_key(|a| a.get_index().unwrap_or(usize::MAX));
            let arg = positionals
                .get(*index)
                .copied()
                .or_else(|| positionals.last().copied().filter(|a| matches!(a.get_action(), ArgAction::Append)));
            let mut answer = match arg {
                Some(arg) => values(arg, prefix, &lookups),
                None => Completions::none(DIRECTIVE_NO_FILE_COMP),
            };
            // Before any positional, a subcommand name is as good an answer as a value.
            if *index == 0 {
                let subcommands = current
                    .get_subcommands()
                    .filter(|s| !s.is_hide_set() && s.get_name().starts_with(prefix.as_str()))
                    .map(|s| Candidate { value: s.get_name().to_string(), description: about(s) });
                let names: Vec<Candidate> = subcommands.collect();
                if !names.is_empty() {
                    answer.candidates.splice(0..0, names);
                    answer.directive = DIRECTIVE_NO_FILE_COMP;
                }
            }
            answer
        }
    }
}

fn about(cmd: &Command) -> Option<String> {
    cmd.get_about().map(|a| a.to_string().lines().next().unwrap_or_default().to_string())
}

fn help_line(arg: &Arg) -> Option<String> {
    arg.get_help().map(|h| h.to_string().lines().next().unwrap_or_default().to_string())
}

/// `--long` and `-s` names of the command's visible flags starting with `prefix`, like Cobra.
fn flag_names(cmd: &Command, prefix: &str, seen: &[String]) -> Completions {
    let mut candidates = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_positional() && !a.is_hide_set()) {
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if !repeatable && seen.iter().any(|s| s == arg.get_id().as_str()) {
            continue;
        }
        let description = help_line(arg);
        if let Some(long) = arg.get_long() {
            candidates.push(Candidate { value: format!("--{long}"), description: description.clone() });
        }
        if let Some(short) = arg.get_short() {
            candidates.push(Candidate { value: format!("-{short}"), description });
        }
    }
    candidates.retain(|c| c.value.starts_with(prefix));
    Completions { candidates, directive: DIRECTIVE_NO_FILE_COMP }
}

/// Values for a flag or positional argument: its possible values, else what its name asks for.
fn values(arg: &Arg, prefix: &str, lookups: &Lookups) -> Completions {
    let possible: Vec<Candidate> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| Candidate { value: v.get_name().to_string(), description: v.get_help().map(|h| h.to_string()) })
        .collect();
    if !possible.is_empty() {
        let candidates = possible.into_iter().filter(|c| c.value.starts_with(prefix)).collect();
        return Completions { candidates, directive: DIRECTIVE_NO_FILE_COMP };
    }
    match arg.get_value_hint() {
        ValueHint::FilePath | ValueHint::AnyPath => return Completions::none(DIRECTIVE_DEFAULT),
        ValueHint::DirPath => return Completions::none(DIRECTIVE_FILTER_DIRS),
        _ => {}
    }
    // A PathBuf value is a file (`--kubeconfig`, `--crd-file`): the shell completes it.
    if arg.get_value_parser().type_id() == std::any::TypeId::of::<PathBuf>() {
        return Completions::none(DIRECTIVE_DEFAULT);
    }
    let value_name = arg.get_value_names().and_then(|v| v.first()).map(|v| v.as_str()).unwrap_or_default();
    let source = match (arg.get_long(), value_name) {
        (Some("context"), _) => Source::Contexts,
        (Some("cluster"), _) => Source::Clusters,
        (Some("user"), _) => Source::Users,
        (Some("namespace"), _) | (_, "NAMESPACE" | "NAMESPACES") => Source::Namespaces,
        (_, "CRD" | "CRDS") => Source::Crds,
        (_, "RESOURCE" | "RESOURCES") => Source::ResourceTypes,
        // Files typed as strings (`-f FILE`, where `-` means stdin) are completed by the shell too.
        (_, "FILE" | "FILENAME" | "FILES") => return Completions::none(DIRECTIVE_DEFAULT),
        _ => return Completions::none(DIRECTIVE_NO_FILE_COMP),
    };
    // Lists like `-n a,b` or `--resources pods,deploy`: complete the last item.
    let (head, item) = match prefix.rsplit_once(',') {
        Some((head, item)) => (format!("{head},"), item),
        None => (String::new(), prefix),
    };
    let mut names = lookups.names(source);
    names.sort();
    names.dedup();
    let candidates = names
        .into_iter()
        .filter(|n| n.starts_with(item))
        .map(|n| Candidate { value: format!("{head}{n}"), description: None })
        .collect();
    Completions { candidates, directive: DIRECTIVE_NO_FILE_COMP }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConnectionFlags;
    use clap::Parser;

    /// A plugin-shaped command: the shared flags (its `-o` formats declared), a CRD positional.
    #[derive(Parser)]
    #[command(name = "kubectl-test")]
    #[command(mut_arg("output", |a| crate::output::formats(a, crate::output::RESULT_FORMATS)))]
    struct Args {
        /// All namespaces.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Label selector.
        #[arg(short = 'l', long, value_name = "SELECTOR")]
        selector: Vec<String>,
        /// A file.
        #[arg(short = 'f', long, value_name = "FILE")]
        filename: Option<PathBuf>,
        /// The CRD.
        #[arg(value_name = "CRD")]
        crd: Option<String>,
        #[command(flatten)]
        output: crate::OutputFlags,
        #[command(flatten)]
        connection: ConnectionFlags,
    }

    /// A command with subcommands, like `kubectl inspect crd`.
    #[derive(Parser)]
    #[command(name = "kubectl-sub")]
    enum Sub {
        /// List them.
        List {
            #[command(flatten)]
            output: crate::OutputFlags,
        },
        /// Describe one.
        Describe {
            /// A field path, not a file.
            #[arg(long, value_name = "PATH")]
            field: Option<String>,
            #[arg(value_name = "CRD")]
            name: String,
            #[arg(long, value_name = "RESOURCE")]
            kind: Option<String>,
        },
    }

    fn run<A: CommandFactory>(words: &[&str]) -> Completions {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        complete(&mut A::command(), &words)
    }

    #[test]
    fn a_dash_offers_long_and_short_flags_with_descriptions() {
        let answer = run::<Args>(&["-"]);
        let values = answer.values();
        for flag in ["--all-namespaces", "-A", "--output", "-o", "--namespace", "-n", "--context", "--help"] {
            assert!(values.contains(&flag), "{flag} missing from {values:?}");
        }
        assert_eq!(answer.directive, DIRECTIVE_NO_FILE_COMP);
        let output = answer.candidates.iter().find(|c| c.value == "--output").unwrap();
        assert!(output.description.as_deref().unwrap().starts_with("Output format"), "{output:?}");
    }

    #[test]
    fn a_double_dash_prefix_offers_only_matching_long_flags() {
        assert_eq!(run::<Args>(&["--no"]).values(), ["--no-headers"]);
        assert_eq!(run::<Args>(&["--cont"]).values(), ["--context"]);
    }

    #[test]
    fn flags_already_given_are_not_offered_again_unless_repeatable() {
        let values = run::<Args>(&["-A", "-l", "app=x", "--"]).values().join(" ");
        assert!(!values.contains("--all-namespaces"), "{values}");
        assert!(values.contains("--selector"), "{values}");
    }

    #[test]
    fn output_values_are_the_formats_the_command_declares() {
        let answer = run::<Args>(&["-o", ""]);
        assert_eq!(
            answer.values(),
            ["json", "yaml", "jsonpath", "jsonpath-file", "custom-columns", "custom-columns-file", "wide"]
        );
        assert_eq!(answer.directive, DIRECTIVE_NO_FILE_COMP);
        assert_eq!(run::<Args>(&["--output", "y"]).values(), ["yaml"]);
        assert_eq!(
            run::<Args>(&["--output=j"]).values(),
            ["--output=json", "--output=jsonpath", "--output=jsonpath-file"]
        );
    }

    #[test]
    fn file_flags_fall_back_to_the_shells_file_completion() {
        let answer = run::<Args>(&["-f", ""]);
        assert!(answer.candidates.is_empty());
        assert_eq!(answer.directive, DIRECTIVE_DEFAULT);
    }

    #[test]
    fn contexts_clusters_and_users_come_from_the_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: dev\n\
             clusters: [{name: dev-cluster, cluster: {server: 'https://127.0.0.1:1'}}, {name: prod-cluster, cluster: {server: 'https://127.0.0.1:2'}}]\n\
             users: [{name: dev-user, user: {token: t}}]\n\
             contexts: [{name: dev, context: {cluster: dev-cluster, user: dev-user}}, {name: prod, context: {cluster: prod-cluster, user: dev-user}}, {name: staging, context: {cluster: dev-cluster}}]\n",
        )
        .unwrap();
        let kubeconfig = path.to_str().unwrap();
        assert_eq!(run::<Args>(&["--kubeconfig", kubeconfig, "--context", ""]).values(), ["dev", "prod", "staging"]);
        assert_eq!(run::<Args>(&["--kubeconfig", kubeconfig, "--context", "p"]).values(), ["prod"]);
        assert_eq!(
            run::<Args>(&[&format!("--kubeconfig={kubeconfig}"), "--context=s"]).values(),
            ["--context=staging"]
        );
        assert_eq!(
            run::<Args>(&["--kubeconfig", kubeconfig, "--cluster", ""]).values(),
            ["dev-cluster", "prod-cluster"]
        );
        assert_eq!(run::<Args>(&["--kubeconfig", kubeconfig, "--user", ""]).values(), ["dev-user"]);
    }

    #[test]
    fn kubeconfig_lists_merge_like_kubectl_and_one_bad_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let good = write(
            "good",
            "apiVersion: v1\nkind: Config\ncurrent-context: dev\n\
             clusters: [{name: dev-cluster, cluster: {server: 'https://127.0.0.1:1'}}]\n\
             users: [{name: dev-user, user: {token: t}}]\n\
             contexts: [{name: dev, context: {cluster: dev-cluster, user: dev-user}}]\n",
        );
        let more = write(
            "more",
            "apiVersion: v1\nkind: Config\ncontexts: [{name: prod, context: {cluster: dev-cluster, user: dev-user}}]\n",
        );
        let bad = write("bad", "apiVersion: v1\nkind: Config\ncontexts: [oops\n");
        let missing = dir.path().join("missing");
        let contexts = |paths: &[&std::path::Path]| {
            let environment =
                Environment { kubeconfig: Some(std::env::join_paths(paths).unwrap()), home: Some(dir.path().into()) };
            let words = ["--context".to_string(), String::new()];
            complete_in(&mut Args::command(), &words, environment).render()
        };
        // The answers of kubectl 1.32 (`kubectl __complete get --context ""`) on the same files:
        // a missing file is skipped, and a file that does not parse leaves no candidates (kubectl
        // reads one merged config, which that file makes an error).
        assert_eq!(contexts(&[&good, &missing, &more]), "dev\nprod\n:4\n");
        assert_eq!(contexts(&[&good, &bad, &more]), ":4\n");
    }

    #[test]
    fn an_unreachable_server_gives_no_namespaces_and_no_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        // Port 1 on localhost refuses connections at once.
        std::fs::write(
            &path,
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n\
             users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n",
        )
        .unwrap();
        let answer = run::<Args>(&["--kubeconfig", path.to_str().unwrap(), "-n", ""]);
        assert!(answer.candidates.is_empty());
        assert_eq!(answer.render(), ":4\n");
    }

    #[test]
    fn subcommands_are_offered_first_then_their_own_arguments() {
        assert_eq!(run::<Sub>(&[""]).values(), ["list", "describe", "help"]);
        assert_eq!(run::<Sub>(&["d"]).values(), ["describe"]);
        assert_eq!(run::<Sub>(&["list", "-o", "n"]).values(), ["name"]);
        let answer = run::<Sub>(&["describe", "--"]);
        let values = answer.values();
        assert!(values.contains(&"--kind") && !values.contains(&"--output"), "{values:?}");
    }

    #[test]
    fn subcommands_and_the_first_positional_are_offered_together() {
        // `kubectl inspect crd <TAB>`: the `validate` subcommand or a CRD name.
        #[derive(Parser)]
        #[command(name = "kubectl-both", args_conflicts_with_subcommands = true)]
        struct Both {
            #[arg(value_parser = ["candies.example.com", "vehicles.example.com"])]
            name: Option<String>,
            #[command(subcommand)]
            command: Option<Sub>,
        }
        assert_eq!(
            run::<Both>(&[""]).values(),
            ["list", "describe", "help", "candies.example.com", "vehicles.example.com"]
        );
        assert_eq!(run::<Both>(&["v"]).values(), ["vehicles.example.com"]);
    }

    #[test]
    fn only_path_typed_values_fall_back_to_files() {
        assert_eq!(run::<Args>(&["--kubeconfig", ""]).directive, DIRECTIVE_DEFAULT);
        assert_eq!(run::<Sub>(&["describe", "--field", ""]).directive, DIRECTIVE_NO_FILE_COMP);
    }
}
