//! The `main` every plugin binary runs through: parse, run, turn the outcome into an exit code.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};
use std::future::Future;
use std::process::ExitCode;

use crate::error::{describe, is_broken_pipe};
use crate::exit::{ERROR, Outcome, SUCCESS};
use crate::messages;

/// Parses `A` from the command line, runs `run` on a tokio runtime, and maps the result to an
/// exit code: the outcome's code on success, 1 on any error (usage errors included, as kubectl
/// exits 1 for an unknown flag where clap would exit 2), 0 when stdout was closed early.
pub fn main<A, F, Fut>(run: F) -> ExitCode
where
    A: Parser,
    F: FnOnce(A) -> Fut,
    Fut: Future<Output = anyhow::Result<Outcome>>,
{
    // rustls panics at first use when it cannot pick a crypto provider on its own; choose one.
    let _ = rustls::crypto::ring::default_provider().install_default();

    // `completion SHELL` and kubectl's `__complete` protocol are answered before clap parses.
    if let Some(code) = crate::completion::intercept::<A>() {
        return code;
    }
    let args = match A::try_parse() {
        Ok(args) => args,
        Err(e) => return usage_error::<A>(e),
    };
    // `run` is driven on this thread (decoding pages as they come); one worker thread runs the
    // spawned requests, so the next page downloads while this one decodes. More workers would
    // not add overlap here, only one more malloc arena (a few MB of peak memory).
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            messages::error(format!("cannot start the async runtime: {e}"), None);
            return ExitCode::from(ERROR);
        }
    };
    let result = runtime.block_on(run(args));
    // Don't wait for requests still in flight (e.g. a page fetched ahead): we are done.
    runtime.shutdown_background();
    match result {
        Ok(outcome) => outcome.exit_code(),
        Err(e) if is_broken_pipe(&e) => ExitCode::from(SUCCESS),
        Err(e) => {
            let d = describe(&e);
            messages::error(d.message, d.hint.as_deref());
            ExitCode::from(ERROR)
        }
    }
}

fn usage_error<A: CommandFactory>(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Help to a closed pipe (`--help | head -1`) is not an error either.
            let _ = e.print();
            ExitCode::from(SUCCESS)
        }
        _ => {
            let args: Vec<String> = std::env::args().skip(1).collect();
            let (message, hint) = usage_message(&e, &A::command(), &args);
            messages::error(message, Some(&hint));
            ExitCode::from(ERROR)
        }
    }
}

/// clap's usage errors span several lines; ours are one line in cobra's (kubectl's) words, plus
/// a hint naming the command as the user typed it: `See 'kubectl inspect crd validate --help'
/// for usage.`
pub fn usage_message(e: &clap::Error, command: &clap::Command, args: &[String]) -> (String, String) {
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ").to_string();
    let invalid_arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => Some(arg.clone()),
        _ => None,
    };
    let message = match e.kind() {
        ErrorKind::UnknownArgument if invalid_arg.as_deref().is_some_and(|a| a.starts_with('-')) => {
            let arg = invalid_arg.unwrap_or_default();
            let mut message = match arg.strip_prefix('-').filter(|a| !a.starts_with('-')) {
                // cobra names the unknown letter of a short flag group.
                Some(shorts) => {
                    let letter = shorts.chars().next().unwrap_or('-');
                    format!("unknown shorthand flag: '{letter}' in {arg}")
                }
                None => format!("unknown flag: {}", arg.split('=').next().unwrap_or(&arg)),
            };
            if let Some(ContextValue::String(suggested)) = e.get(ContextKind::SuggestedArg) {
                message.push_str(&format!(" (did you mean {suggested}?)"));
            }
            message
        }
        ErrorKind::InvalidValue if first.contains("but none was supplied") => {
            let flag = invalid_arg.as_deref().map(flag_name).unwrap_or_default();
            needs_an_argument(command, &flag, args)
        }
        ErrorKind::MissingRequiredArgument => {
            let missing: Vec<String> = match e.get(ContextKind::InvalidArg) {
                Some(ContextValue::Strings(v)) => {
                    v.iter().map(|a| format!("{:?}", flag_name(a).trim_start_matches('-'))).collect()
                }
                _ => Vec::new(),
            };
            if missing.is_empty() { first } else { format!("required flag(s) {} not set", missing.join(", ")) }
        }
        _ => {
            let mut message = first;
            if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue)
                && !valid.is_empty()
            {
                message.push_str(&format!(" (valid values: {})", valid.join(", ")));
            }
            if let Some(ContextValue::String(suggested)) = e.get(ContextKind::SuggestedArg) {
                message.push_str(&format!(" (did you mean {suggested}?)"));
            }
            message
        }
    };
    let hint = format!("See '{} --help' for usage.", command_line(command, args));
    (message, hint)
}

/// `--namespace` from clap's `--namespace <NAMESPACE>`.
fn flag_name(arg: &str) -> String {
    arg.split([' ', '=']).next().unwrap_or(arg).to_string()
}

/// cobra's `flag needs an argument: --namespace`, or `'n' in -n` when the short form was typed.
fn needs_an_argument(command: &clap::Command, long: &str, args: &[String]) -> String {
    let short = all_args(command)
        .find(|a| a.get_long().map(|l| format!("--{l}")).as_deref() == Some(long))
        .and_then(|a| a.get_short());
    match (short, args.last()) {
        (Some(c), Some(last)) if last.strip_prefix('-').is_some_and(|l| l.ends_with(c) && !l.starts_with('-')) => {
            format!("flag needs an argument: '{c}' in -{c}")
        }
        _ => format!("flag needs an argument: {long}"),
    }
}

fn all_args(command: &clap::Command) -> impl Iterator<Item = &clap::Arg> {
    command.get_arguments().chain(command.get_subcommands().flat_map(|s| s.get_arguments()))
}

/// The command as the user typed it: the binary's kubectl form (`kubectl show
/// stale-replica-sets`), and the subcommand when one was given.
fn command_line(command: &clap::Command, args: &[String]) -> String {
    let bin = command.get_bin_name().map(str::to_string).unwrap_or_else(|| kubectl_form(command.get_name()));
    let sub = args.iter().find_map(|a| command.get_subcommands().find(|s| s.get_name() == a));
    match sub {
        Some(sub) => format!("{bin} {}", sub.get_name()),
        None => bin,
    }
}

/// `kubectl-show-stale_replica_sets` → `kubectl show stale-replica-sets`: kubectl's plugin name
/// mapping read backwards.
pub fn kubectl_form(binary: &str) -> String {
    match binary.strip_prefix("kubectl-") {
        Some(rest) => format!("kubectl {}", rest.split('-').map(|w| w.replace('_', "-")).collect::<Vec<_>>().join(" ")),
        None => binary.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    #[command(bin_name = "kubectl do thing")]
    struct Args {
        #[command(flatten)]
        output: crate::OutputFlags,
        #[command(flatten)]
        connection: crate::ConnectionFlags,
        #[arg(long)]
        delete: bool,
        #[arg(long, requires = "delete")]
        yes: bool,
    }

    fn usage(args: &[&str]) -> (String, String) {
        let err = Args::try_parse_from(std::iter::once("kubectl-do-thing").chain(args.iter().copied())).unwrap_err();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        usage_message(&err, &Args::command(), &args)
    }

    #[test]
    fn unknown_flags_and_missing_values_read_like_kubectl() {
        // The expected strings are what `kubectl get pods --bogus` / `-x` / `-n` / `--namespace` print.
        assert_eq!(
            usage(&["--bogus"]),
            ("unknown flag: --bogus".into(), "See 'kubectl do thing --help' for usage.".into())
        );
        assert_eq!(usage(&["-x"]).0, "unknown shorthand flag: 'x' in -x");
        assert_eq!(usage(&["-n"]).0, "flag needs an argument: 'n' in -n");
        assert_eq!(usage(&["--namespace"]).0, "flag needs an argument: --namespace");
    }

    #[test]
    fn a_missing_required_flag_is_named() {
        assert_eq!(usage(&["--yes"]).0, r#"required flag(s) "delete" not set"#);
    }

    #[test]
    fn binary_names_map_back_to_the_kubectl_command() {
        assert_eq!(kubectl_form("kubectl-show-stale_replica_sets"), "kubectl show stale-replica-sets");
        assert_eq!(kubectl_form("kubectl-can_i_batch"), "kubectl can-i-batch");
        assert_eq!(kubectl_form("kubectl-inspect-crd"), "kubectl inspect crd");
    }
}
