//! The answers of a run: one row per (check, subject), and the verdict scripts read.

use k8s_openapi::api::authorization::v1::SubjectAccessReviewStatus;

use crate::check::{Check, Expect};
use crate::resolve::Attributes;
use crate::subject::Subject;

/// Everything a run found out, ready to render.
#[derive(Debug)]
pub struct Report {
    /// The checks as written.
    pub checks: Vec<Check>,
    /// The subjects asked about.
    pub subjects: Vec<Subject>,
    /// The answers, checks outer and subjects inner, in input order.
    pub rows: Vec<Row>,
    /// Whether every check came from `--verbs`/`--resources` (rendered as a matrix).
    pub matrix: bool,
    /// How many reviews were sent (identical questions are asked once).
    pub reviews_sent: usize,
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Row {
    /// Index of the check in [`Report::checks`].
    pub check: usize,
    /// Index of the subject in [`Report::subjects`].
    pub subject: usize,
    /// The review attributes asked.
    pub attributes: Attributes,
    /// The server's answer, as it gave it.
    pub status: SubjectAccessReviewStatus,
}

impl Report {
    /// The expectation of a row's check, if it states one.
    pub fn expect(&self, row: &Row) -> Option<Expect> {
        self.checks[row.check].expect
    }

    /// Whether a row passes: its expectation is met, or (without one) it is allowed.
    pub fn passes(&self, row: &Row) -> bool {
        match self.expect(row) {
            Some(expect) => expect.met_by(row.status.allowed),
            None => row.status.allowed,
        }
    }

    /// Rows whose stated expectation the server's answer does not meet.
    pub fn unmet(&self) -> Vec<&Row> {
        self.rows.iter().filter(|row| self.expect(row).is_some_and(|e| !e.met_by(row.status.allowed))).collect()
    }

    /// Rows with a stated expectation.
    pub fn expectations(&self) -> usize {
        self.rows.iter().filter(|row| self.expect(row).is_some()).count()
    }

    /// The verdict: every row passes (exit 0) or not (exit [`kubeplug::exit::NEGATIVE`]).
    pub fn all_pass(&self) -> bool {
        self.rows.iter().all(|row| self.passes(row))
    }
}
