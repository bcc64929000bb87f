//! Shell completion, once for every plugin: `<binary> completion bash|zsh|fish` prints a script
//! for the binary, and `<binary> __complete <args...> <word>` answers kubectl's plugin-completion
//! protocol.
//!
//! kubectl (1.26+) completes `kubectl <plugin> <args> <word><TAB>` by running the executable
//! `kubectl_complete-<plugin>` found on PATH with `<args> <word>` (the word being completed last,
//! empty for a new word) and reading Cobra's format from its stdout: one candidate per line
//! (`value` or `value<TAB>description`), then `:<directive>`. Its stderr reaches the user's
//! terminal, so a lookup that fails (no cluster, no permission) answers nothing and says nothing.

use clap::builder::ValueHint;
use clap::{Arg, ArgAction, Command, CommandFactory, Parser};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ListParams};
use kube::config::Kubeconfig;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::ConnectionFlags;
use crate::discovery::Discovery;
use crate::exit::{ERROR, SUCCESS};

/// The hidden argument kubectl's completion helpers pass first.
pub const COMPLETE_ARG: &str = "__complete";
/// The argument that prints a shell completion script.
pub const SCRIPT_ARG: &str = "completion";

/// Cobra's directive: the shell may fall back to file names.
pub const DIRECTIVE_DEFAULT: u32 = 0;
/// Cobra's directive: no space after the completion (e.g. after `--flag=`).
pub const DIRECTIVE_NO_SPACE: u32 = 2;
/// Cobra's directive: do not fall back to file names.
pub const DIRECTIVE_NO_FILE_COMP: u32 = 4;
/// Cobra's directive: complete directory names only.
pub const DIRECTIVE_FILTER_DIRS: u32 = 16;

/// Shells `completion` prints scripts for.
const SHELLS: [(&str, clap_complete::Shell); 3] =
    [("bash", clap_complete::Shell::Bash), ("zsh", clap_complete::Shell::Zsh), ("fish", clap_complete::Shell::Fish)];

/// How long a completion waits for the server when `--request-timeout` is not given: a shell
/// waiting on TAB must not hang on an unreachable cluster.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

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

/// The completion script for `shell` (the one argument in `args`), for the binary `bin`.
pub fn script(cmd: &mut Command, bin: &str, args: &[String]) -> Result<String, String> {
    let names = SHELLS.map(|(n, _)| n).join(", ");
    let [name] = args else {
        return Err(format!("completion takes one shell name (one of: {names})"));
    };
    let Some((_, shell)) = SHELLS.iter().find(|(n, _)| n == name) else {
        return Err(format!("unsupported shell {name:?} for completion (one of: {names})"));
    };
    let mut out = Vec::new();
    clap_complete::generate(*shell, cmd, bin, &mut out);
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// The name the binary was run as (`kubectl-show-stale_replica_sets`), which is what shells
/// complete; the command's name with spaces as dashes when that is unknown.
fn binary_name(arg0: &OsString, cmd: &Command) -> String {
    PathBuf::from(arg0)
        .file_name()
        .map(|f| f.to_string_lossy().trim_end_matches(".exe").to_string())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| cmd.get_name().replace(' ', "-"))
}

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// What the shell inserts.
    pub value: String,
    /// Shown next to the value by shells that show descriptions.
    pub description: Option<String>,
}

/// The answer to `__complete`: candidates and Cobra's directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    /// Candidates, already filtered by the word being completed.
    pub candidates: Vec<Candidate>,
    /// Cobra's `ShellCompDirective` bits.
    pub directive: u32,
}

impl Completions {
    fn none(directive: u32) -> Self {
        Self { candidates: Vec::new(), directive }
    }

    /// The candidate values, for tests and callers that need no descriptions.
    pub fn values(&self) -> Vec<&str> {
        self.candidates.iter().map(|c| c.value.as_str()).collect()
    }

    /// Cobra's wire format: `value[\tdescription]` per line, then `:<directive>`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for c in &self.candidates {
            // A newline or tab inside a value or description would break the line format.
            out.push_str(&c.value.replace(['\n', '\t'], " "));
            if let Some(d) = c.description.as_deref().filter(|d| !d.is_empty()) {
                out.push('\t');
                out.push_str(&d.replace(['\n', '\t'], " "));
            }
            out.push('\n');
        }
        out.push_str(&format!(":{}\n", self.directive));
        out
    }
}

/// What the word being completed is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A flag name (the word starts with `-`).
    FlagName { prefix: String },
    /// The value of the flag with this id; `inline` is `--flag=` when typed in the same word.
    FlagValue { arg_id: String, prefix: String, inline: Option<String> },
    /// A positional value or subcommand name of the command at `path`.
    Positional { index: usize, prefix: String },
}

/// Where the words typed so far leave the parser.
struct Position {
    /// Subcommand names from the root to the command the word belongs to.
    path: Vec<String>,
    /// What to complete.
    target: Target,
    /// Ids of the flags already given (not offered again unless they can repeat).
    seen: Vec<String>,
    /// The connection flags typed so far, as words, to reach the cluster they select.
    connection_words: Vec<String>,
}

/// Completes the last of `words` (kubectl passes the word being completed last, empty for a
/// new word) against the command `cmd`, looking up contexts, namespaces, CRDs and resource types
/// where the flag or argument asks for one.
pub fn complete(cmd: &mut Command, words: &[String]) -> Completions {
    cmd.build();
    let position = locate(cmd, words);
    let mut current = &*cmd;
    for name in &position.path {
        match current.find_subcommand(name) {
            Some(sub) => current = sub,
            None => break,
        }
    }
    let lookups = Lookups::new(&position.connection_words);
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

/// Walks the words before the last one the way clap would parse them.
fn locate(root: &Command, words: &[String]) -> Position {
    let (to_complete, typed) = match words.split_last() {
        Some((last, typed)) => (last.clone(), typed),
        None => (String::new(), &[][..]),
    };
    let connection_ids = connection_flag_ids();
    let mut current = root;
    let mut path = Vec::new();
    let mut seen = Vec::new();
    let mut connection_words = Vec::new();
    let mut positional = 0;
    let mut after_double_dash = false;
    // The flag whose value the next word is.
    let mut pending: Option<&Arg> = None;

    for word in typed {
        if let Some(arg) = pending.take() {
            if connection_ids.iter().any(|id| id == arg.get_id().as_str()) {
                connection_words.push(word.clone());
            }
            continue;
        }
        if after_double_dash {
            positional += 1;
        } else if word == "--" {
            after_double_dash = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            if let Some(arg) = find_long(current, name) {
                seen.push(arg.get_id().to_string());
                if connection_ids.iter().any(|id| id == arg.get_id().as_str()) {
                    connection_words.push(word.clone());
                }
                if takes_value(arg) && !inline {
                    pending = Some(arg);
                }
            }
        } else if word.len() > 1 && word.starts_with('-') {
            for (i, c) in word.char_indices().skip(1) {
                let Some(arg) = current.get_arguments().find(|a| a.get_short() == Some(c)) else { break };
                seen.push(arg.get_id().to_string());
                let value_follows = takes_value(arg) && i + c.len_utf8() == word.len();
                if connection_ids.iter().any(|id| id == arg.get_id().as_str()) {
                    connection_words.push(format!("-{}", &word[i..]));
                }
                if value_follows {
                    pending = Some(arg);
                }
                if takes_value(arg) {
                    break;
                }
            }
        } else if positional == 0
            && let Some(sub) = current.find_subcommand(word)
        {
            path.push(sub.get_name().to_string());
            current = sub;
        } else {
            positional += 1;
        }
    }

    let target = if let Some(arg) = pending {
        // The flag whose value is being completed has no value yet: leave it out of the lookups.
        if connection_ids.iter().any(|id| id == arg.get_id().as_str()) {
            connection_words.pop();
        }
        Target::FlagValue { arg_id: arg.get_id().to_string(), prefix: to_complete, inline: None }
    } else if !after_double_dash && to_complete.starts_with("--") && to_complete.contains('=') {
        let (name, value) = to_complete[2..].split_once('=').unwrap_or_default();
        match find_long(current, name) {
            Some(arg) => Target::FlagValue {
                arg_id: arg.get_id().to_string(),
                prefix: value.to_string(),
                inline: Some(format!("--{name}=")),
            },
            None => Target::FlagName { prefix: to_complete },
        }
    } else if !after_double_dash && to_complete.starts_with('-') {
        Target::FlagName { prefix: to_complete }
    } else {
        Target::Positional { index: positional, prefix: to_complete }
    };
    Position { path, target, seen, connection_words }
}

fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|aliases| aliases.contains(&name)))
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// The ids of kubectl's connection flags, whose values select the cluster lookups go to.
fn connection_flag_ids() -> Vec<String> {
    ConnectionOnly::command().get_arguments().map(|a| a.get_id().to_string()).collect()
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

/// Where a value's candidates come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Contexts,
    Clusters,
    Users,
    Namespaces,
    Crds,
    ResourceTypes,
}

/// The kubeconfig and cluster the typed connection flags select.
struct Lookups {
    flags: ConnectionFlags,
}

/// Parses only the connection flags, reusing their real definitions.
#[derive(Parser)]
struct ConnectionOnly {
    #[command(flatten)]
    connection: ConnectionFlags,
}

impl Lookups {
    fn new(connection_words: &[String]) -> Self {
        let words = std::iter::once("kubectl-complete".to_string()).chain(connection_words.iter().cloned());
        // A half-typed or invalid flag must not stop completion: fall back to the defaults.
        let flags = ConnectionOnly::try_parse_from(words).map(|c| c.connection).unwrap_or_default();
        Self { flags }
    }

    /// Names from the source; empty on any failure (completion stays silent).
    fn names(&self, source: Source) -> Vec<String> {
        match source {
            Source::Contexts => self.kubeconfig().map(|k| k.contexts.into_iter().map(|c| c.name).collect()),
            Source::Clusters => self.kubeconfig().map(|k| k.clusters.into_iter().map(|c| c.name).collect()),
            Source::Users => self.kubeconfig().map(|k| k.auth_infos.into_iter().map(|u| u.name).collect()),
            Source::Namespaces | Source::Crds | Source::ResourceTypes => self.ask_server(source),
        }
        .unwrap_or_default()
    }

    /// The kubeconfig kubectl would read: `--kubeconfig`, else every existing file of
    /// `KUBECONFIG` merged (first value wins), else `~/.kube/config`.
    fn kubeconfig(&self) -> Option<Kubeconfig> {
        if let Some(path) = &self.flags.kubeconfig {
            return Kubeconfig::read_from(path).ok();
        }
        let paths: Vec<PathBuf> = match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(list) => std::env::split_paths(&list).filter(|p| !p.as_os_str().is_empty()).collect(),
            None => dirs::home_dir().map(|h| h.join(".kube").join("config")).into_iter().collect(),
        };
        let mut merged: Option<Kubeconfig> = None;
        for path in paths.iter().filter(|p| p.exists()) {
            let next = Kubeconfig::read_from(path).ok()?;
            merged = Some(match merged {
                None => next,
                Some(acc) => acc.merge(next).ok()?,
            });
        }
        merged
    }

    fn ask_server(&self, source: Source) -> Option<Vec<String>> {
        let mut flags = self.flags.clone();
        if flags.request_timeout.0.is_none() {
            flags.request_timeout.0 = Some(LOOKUP_TIMEOUT);
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
        let names = runtime.block_on(async move {
            let connection = flags.connect().await?;
            let client = connection.client;
            let names: Vec<String> = match source {
                Source::Namespaces => Api::<Namespace>::all(client)
                    .list(&ListParams::default())
                    .await?
                    .items
                    .into_iter()
                    .filter_map(|n| n.metadata.name)
                    .collect(),
                Source::Crds => Api::<CustomResourceDefinition>::all(client)
                    .list(&ListParams::default())
                    .await?
                    .items
                    .into_iter()
                    .filter_map(|c| c.metadata.name)
                    .collect(),
                // `kubectl api-resources -o name`: what kubectl itself completes resource types with.
                _ => Discovery::fetch(&client)
                    .await?
                    .resources()
                    .iter()
                    .filter(|r| r.preferred)
                    .map(|r| r.group_resource())
                    .collect(),
            };
            anyhow::Ok(names)
        });
        runtime.shutdown_background();
        names.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn render_is_cobras_line_format() {
        let answer = Completions {
            candidates: vec![
                Candidate { value: "json".into(), description: Some("as JSON".into()) },
                Candidate { value: "name".into(), description: None },
            ],
            directive: DIRECTIVE_NO_FILE_COMP,
        };
        assert_eq!(answer.render(), "json\tas JSON\nname\n:4\n");
    }

    #[test]
    fn scripts_for_each_shell_name_the_binary() {
        for shell in ["bash", "zsh", "fish"] {
            let text = script(&mut Args::command(), "kubectl-test_bin", &[shell.to_string()]).unwrap();
            assert!(text.contains("kubectl-test_bin"), "{shell}: {text}");
        }
        let err = script(&mut Args::command(), "kubectl-test_bin", &["tcsh".to_string()]).unwrap_err();
        assert!(err.contains("\"tcsh\"") && err.contains("bash, zsh, fish"), "{err}");
        assert!(script(&mut Args::command(), "kubectl-test_bin", &[]).is_err());
    }
}
