//! The `main` every plugin binary runs through: parse, run, turn the outcome into an exit code.

use clap::Parser;
use clap::error::{ContextKind, ContextValue, ErrorKind};
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
        Err(e) => return usage_error(e),
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

fn usage_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            // Help to a closed pipe (`--help | head -1`) is not an error either.
            let _ = e.print();
            ExitCode::from(SUCCESS)
        }
        _ => {
            let (message, hint) = usage_message(&e);
            messages::error(message, Some(&hint));
            ExitCode::from(ERROR)
        }
    }
}

/// clap's usage errors span several lines; ours are one line naming the input, plus a hint.
pub fn usage_message(e: &clap::Error) -> (String, String) {
    let rendered = e.render().to_string();
    let first = rendered.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ").to_string();
    let mut message = first;
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        message.push_str(&format!(" (valid values: {})", valid.join(", ")));
    }
    if let Some(ContextValue::String(suggested)) = e.get(ContextKind::SuggestedArg) {
        message.push_str(&format!(" (did you mean {suggested}?)"));
    }
    let bin = std::env::args()
        .next()
        .map(|a| std::path::Path::new(&a).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or(a));
    let hint = format!("See '{} --help' for usage.", bin.unwrap_or_else(|| "the command".into()));
    (message, hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Parser, Debug)]
    struct Args {
        #[command(flatten)]
        output: crate::OutputFlags,
    }

    #[test]
    fn invalid_output_lists_the_valid_values_on_one_line() {
        let err = Args::try_parse_from(["kubectl-x", "-o", "jsn"]).unwrap_err();
        let (message, _) = usage_message(&err);
        assert!(message.starts_with("invalid value 'jsn' for '--output <FORMAT>'"), "{message}");
        assert!(message.contains("valid values: wide, json, yaml, name"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn unknown_flags_are_named() {
        let err = Args::try_parse_from(["kubectl-x", "--bogus"]).unwrap_err();
        let (message, hint) = usage_message(&err);
        assert!(message.contains("unexpected argument '--bogus'"), "{message}");
        assert!(hint.contains("--help"));
    }
}
