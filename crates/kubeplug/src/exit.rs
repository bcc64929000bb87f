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
    /// Exit [`ERROR`], the errors already printed: some clusters of a fleet run failed (each
    /// said so on its own `error: context "NAME": ...` line) while the others answered.
    Failed,
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
            Self::Failed => ERROR,
        })
    }

    /// The outcome of a run across several clusters, from each cluster's own (`None`: that
    /// cluster failed). Any failed cluster makes the run [`Outcome::Failed`] (exit 1), even when
    /// another cluster answered "found"/"no" (3): a script reading 3 would take the answer for
    /// complete when part of the fleet was never asked. Otherwise [`Outcome::Negative`] when any
    /// cluster's answer is "no", else [`Outcome::Success`].
    pub fn across_clusters(outcomes: impl IntoIterator<Item = Option<Outcome>>) -> Self {
        let mut combined = Self::Success;
        for outcome in outcomes {
            match outcome {
                None | Some(Self::Failed) => return Self::Failed,
                Some(Self::Negative) => combined = Self::Negative,
                Some(Self::Success) => {}
            }
        }
        combined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_cluster_beats_found_and_found_beats_success() {
        use Outcome::*;
        assert_eq!(Outcome::across_clusters([Some(Success), Some(Success)]), Success);
        assert_eq!(Outcome::across_clusters([Some(Success), Some(Negative)]), Negative);
        assert_eq!(Outcome::across_clusters([Some(Negative), None, Some(Success)]), Failed);
        assert_eq!(Outcome::across_clusters([Some(Success), None]), Failed);
        assert_eq!(Outcome::across_clusters([]), Success);
    }
}
