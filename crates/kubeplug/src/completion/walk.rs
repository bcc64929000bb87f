//! The argument walker: where the words typed so far leave clap's parser (which command, which
//! flag or positional is being completed, which flags were given), without running clap.

use clap::{Arg, Command};

use super::lookup::connection_flag_ids;

/// What the word being completed is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A flag name (the word starts with `-`).
    FlagName { prefix: String },
    /// The value of the flag with this id; `inline` is `--flag=` when typed in the same word.
    FlagValue { arg_id: String, prefix: String, inline: Option<String> },
    /// A positional value or subcommand name of the command at `path`.
    Positional { index: usize, prefix: String },
}

/// Where the words typed so far leave the parser.
pub(super) struct Position {
    /// Subcommand names from the root to the command the word belongs to.
    pub(super) path: Vec<String>,
    /// What to complete.
    pub(super) target: Target,
    /// Ids of the flags already given (not offered again unless they can repeat).
    pub(super) seen: Vec<String>,
    /// The connection flags typed so far, as words, to reach the cluster they select.
    pub(super) connection_words: Vec<String>,
}

/// Walks the words before the last one the way clap would parse them.
pub(super) fn locate(root: &Command, words: &[String]) -> Position {
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
