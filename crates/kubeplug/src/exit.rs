//! Exit codes shared by every plugin, derived from a run's outcome in one place.

use std::process::ExitCode;

/// Success: the command did what was asked (and, for yes/no questions, the answer is "yes").
pub const SUCCESS: u8 = 0;
/// An error: bad flags or input, unreachable server, refused request...
pub const ERROR: u8 = 1;
/// The documented "no" answer for scripts: a check denied (`can-i-batch`), stale
/// ReplicaSets found (`--exit-code`), a manifest invalid (`inspect crd validate`).
/// Distinct from [`ERROR`] so that a script can tell "no" from "could not answer".
pub const NEGATIVE: u8 = 3;

/// What a successful run concluded; turned into the process exit code by [`crate::run::main`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit [`SUCCESS`].
    Success,
    /// Exit [`NEGATIVE`]: the command ran fine and its answer is "no" / "found" / "invalid".
    Negative,
}

impl Outcome {
    /// `Negative` when `condition` holds, else `Success`.
    pub fn negative_if(condition: bool) -> Self {
        if condition { Self::Negative } else { Self::Success }
    }

    /// The process exit code for this outcome.
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            Self::Success => SUCCESS,
            Self::Negative => NEGATIVE,
        })
    }
}
