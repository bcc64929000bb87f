//! Progress of long work (pages of a big list, deletes, validations, access checks) on stderr.
//!
//! Only for a person at a terminal reading a table: never when stderr is not a terminal (a pipe,
//! a file, CI), never with `-o json|yaml|name` (their output is for programs), never for work
//! too short to read a bar. Every bar lives in one process-wide [`MultiProgress`], so
//! [`crate::messages`] and [`crate::output::write_stdout`] can take the bars off the screen
//! while they write ([`suspend`]): a warning, an error, a prompt or a line of output never lands
//! in the middle of a bar. A bar is cleared when its work ends (or when it is dropped, on an
//! error), before whatever the command prints next.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal as _;
use std::sync::OnceLock;

use crate::output::OutputFormat;

/// Work of fewer items than this is over before a bar could be read: it gets none.
pub const MIN_ITEMS: u64 = 100;

/// The one set of bars of the process, drawn on stderr; made with the first bar.
static BARS: OnceLock<MultiProgress> = OnceLock::new();

/// Runs `f` with every bar taken off the screen, and draws them again after it. Everything that
/// writes to the terminal while a bar may be shown goes through here.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match BARS.get() {
        Some(bars) => bars.suspend(f),
        None => f(),
    }
}

/// Whether this run shows progress: decided once from the output format and stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// Progress for a command printing `format`: shown only for tables, with stderr a terminal.
    pub fn for_output(format: OutputFormat) -> Self {
        let table = matches!(format, OutputFormat::Table | OutputFormat::Wide);
        Self { enabled: table && std::io::stderr().is_terminal() }
    }

    /// No progress at all (`--quiet`, or work whose output is for programs).
    pub fn off() -> Self {
        Self { enabled: false }
    }

    /// Whether bars are drawn.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// A bar for `total` items of work described by `what` (`deleting ReplicaSets`); nothing is
    /// drawn when progress is off or the work is short (below [`MIN_ITEMS`]).
    pub fn bar(&self, what: &str, total: u64) -> Bar {
        if !self.enabled || total < MIN_ITEMS {
            return Bar { bar: None };
        }
        Bar { bar: Some(new_bar(what, total)) }
    }

    /// A count of work of no known total, `done` items so far; nothing is drawn when progress is
    /// off or the work is short so far (below [`MIN_ITEMS`]).
    pub fn counter(&self, what: &str, done: u64) -> Bar {
        if !self.enabled || done < MIN_ITEMS {
            return Bar { bar: None };
        }
        Bar { bar: Some(new_counter(what, done)) }
    }

    /// Progress of a list of `what` (`replicasets.apps`) handed over in batches of `batch` (pages,
    /// or a stream cut into batches), fed batch by batch with [`ListProgress::page`].
    pub fn list(&self, what: impl Into<String>, batch: usize) -> ListProgress {
        ListProgress { progress: *self, what: what.into(), seen: 0, full_batch: batch, bar: Bar { bar: None } }
    }
}

fn new_bar(what: &str, total: u64) -> ProgressBar {
    let bars = BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let style = ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}")
        .expect("the progress template is valid")
        .progress_chars("=> ");
    let bar = bars.add(ProgressBar::new(total).with_style(style).with_message(what.to_string()));
    // Drawn at once: without this the first frame waits for the first item.
    bar.tick();
    bar
}

/// A count of the items of `what` done so far, `done` to begin with, for work of no known total.
fn new_counter(what: &str, done: u64) -> ProgressBar {
    let bars = BARS.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let style = ProgressStyle::with_template("{msg}: {pos} so far").expect("the progress template is valid");
    let counter = bars.add(ProgressBar::new_spinner().with_style(style).with_message(what.to_string()));
    counter.set_position(done);
    counter.tick();
    counter
}

/// One bar; cleared from the screen when finished or dropped.
#[derive(Debug)]
pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    /// A bar that draws nothing.
    pub fn hidden() -> Self {
        Self { bar: None }
    }

    /// Whether this bar is drawn.
    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    /// `n` more items done.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// The work is done: the bar leaves the screen.
    pub fn finish(self) {}
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            if let Some(bars) = BARS.get() {
                bars.remove(&bar);
            }
        }
    }
}

/// Progress of a list: a bar once a batch says how many items follow (the server's
/// `remainingItemCount` on a page) and the whole list is long enough ([`MIN_ITEMS`]); without that
/// count (a stream, a watch-list, pages of a filtered list), a count of the items read, once a
/// full batch says more may follow.
#[derive(Debug)]
pub struct ListProgress {
    progress: Progress,
    what: String,
    seen: u64,
    /// The size of a batch that may not be the last.
    full_batch: usize,
    bar: Bar,
}

impl ListProgress {
    /// A page of `items` arrived; `remaining` is the server's count of those after it, if it
    /// gave one; `restarted`: the list began again (its continue token expired).
    pub fn page(&mut self, items: usize, remaining: Option<u64>, restarted: bool) {
        if restarted {
            self.seen = 0;
        }
        self.seen += items as u64;
        let remaining = remaining.unwrap_or(0);
        let total = self.seen + remaining;
        match &self.bar.bar {
            Some(bar) => {
                // A counter (no length) stays one: a stream brings no total.
                if bar.length().is_some() {
                    bar.set_length(total);
                }
                bar.set_position(self.seen);
            }
            None if remaining > 0 => {
                self.bar = self.progress.bar(&format!("listing {}", self.what), total);
                if let Some(bar) = &self.bar.bar {
                    bar.set_position(self.seen);
                }
            }
            None if items == self.full_batch => {
                self.bar = self.progress.counter(&format!("listing {}", self.what), self.seen);
            }
            None => {}
        }
    }

    /// Whether a bar is drawn.
    pub fn is_shown(&self) -> bool {
        self.bar.is_shown()
    }

    /// The list is complete: its bar leaves the screen.
    pub fn finish(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_readable_output_never_shows_progress() {
        use crate::output::Objects;
        let formats = [Objects::Json, Objects::Yaml, Objects::JsonPath, Objects::CustomColumns];
        for format in formats.map(OutputFormat::Objects).into_iter().chain([OutputFormat::Name]) {
            assert!(!Progress::for_output(format).is_enabled(), "{format:?}");
        }
    }

    #[test]
    fn short_work_and_disabled_progress_draw_no_bar() {
        let on = Progress { enabled: true };
        assert!(!on.bar("deleting", MIN_ITEMS - 1).is_shown());
        assert!(!Progress::off().bar("deleting", 10_000).is_shown());
    }

    #[test]
    fn a_list_shows_a_bar_only_once_a_page_says_more_follow() {
        let on = Progress { enabled: true };
        let mut one_page = on.list("pods", 500);
        one_page.page(400, None, false);
        assert!(!one_page.is_shown(), "a single page is over already");

        let mut short = on.list("pods", 500);
        short.page(2, Some(3), false);
        assert!(!short.is_shown(), "5 items in all is short work");

        let mut long = on.list("replicasets.apps", 500);
        long.page(500, Some(600), false);
        assert!(long.is_shown());
        let bar = long.bar.bar.as_ref().unwrap();
        assert_eq!((bar.position(), bar.length()), (500, Some(1100)));
        long.page(500, Some(100), false);
        let bar = long.bar.bar.as_ref().unwrap();
        assert_eq!((bar.position(), bar.length()), (1000, Some(1100)));
        // The continue token expired: counting starts again.
        long.page(500, Some(600), true);
        let bar = long.bar.bar.as_ref().unwrap();
        assert_eq!((bar.position(), bar.length()), (500, Some(1100)));
    }

    #[test]
    fn a_list_without_a_count_of_what_follows_counts_once_a_full_batch_says_more_may_follow() {
        let on = Progress { enabled: true };
        let mut short = on.list("pods", 500);
        short.page(400, None, false);
        assert!(!short.is_shown(), "less than a batch: the stream is over already");

        let mut long = on.list("replicasets.apps", 500);
        long.page(500, None, false);
        assert!(long.is_shown());
        long.page(500, None, false);
        long.page(20, None, false);
        let counter = long.bar.bar.as_ref().unwrap();
        assert_eq!((counter.position(), counter.length()), (1020, None));
        // Dropped connection: read again from the start.
        long.page(500, None, true);
        assert_eq!(long.bar.bar.as_ref().unwrap().position(), 500);

        let mut off = Progress::off().list("replicasets.apps", 500);
        off.page(500, None, false);
        assert!(!off.is_shown());
    }

    #[test]
    fn off_progress_makes_no_list_bar() {
        let mut list = Progress::off().list("pods", 500);
        list.page(500, Some(5000), false);
        assert!(!list.is_shown());
    }
}
