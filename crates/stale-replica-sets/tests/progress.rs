//! Progress on stderr, on both backends: shown on a terminal (a pseudo-terminal made by `script`)
//! for the pages of a big list and for many deletes, off the screen before the confirmation
//! prompt and at the end; never on a pipe, where stderr stays exactly what it was.

mod common;

use common::*;
use kubeplug_testenv::terminal::{self, Session};
use kubeplug_testenv::{Env, backend_tests};
use std::time::Duration;

/// Stale ReplicaSets in the namespace: more than one page of 500, so the list has pages to show.
const MANY: usize = 600;

/// A namespace with [`MANY`] bare ReplicaSets at 0 replicas (stale, deletable).
fn many_stale(env: &Env) -> String {
    let ns = env.namespace("many");
    let yaml: String =
        (0..MANY).map(|i| replicaset_yaml(&ns, &format!("app-{i:04}"), Owner::None, 1, 0, "app", "")).collect();
    env.create(&yaml);
    ns
}

/// What a terminal of `rows` x 80 shows after `bytes`.
fn screen(bytes: &[u8], rows: u16) -> Vec<String> {
    terminal::screen(bytes, rows, 80)
}

/// The last row with text on it.
fn last_line(rows: &[String]) -> &str {
    rows.iter().rev().find(|r| !r.is_empty()).map(String::as_str).unwrap_or("")
}

const LIST_BAR: &str = "listing replicasets.apps [";
const DELETE_BAR: &str = "deleting ReplicaSets [";
const STREAM_COUNTER: &str = "listing replicasets.apps: ";

backend_tests! {
    /// On a terminal: the pages of the list show as a bar, which is gone from the screen when the
    /// prompt asks; after "y" the deletes show as a bar, gone at the end; the screen keeps only
    /// the list, the prompt, one line per deleted ReplicaSet and the summary.
    fn a_terminal_shows_progress_cleared_before_the_prompt_and_at_the_end(env) {
        let ns = many_stale(env);
        // Paged: only pages carry the server's count of what follows (`remainingItemCount`),
        // which the list's bar needs; a streamed read or a watch-list has no count to show.
        let line = format!("{BIN} -n {ns} --delete --read paged");
        let mut session = Session::start(&mut env.command("script"), &line);
        let prompt = format!("Delete these {MANY} ReplicaSet(s)? [y/N]:");
        let at_prompt = session.wait_for(&prompt, Duration::from_secs(120));
        let text = String::from_utf8_lossy(&at_prompt).into_owned();
        assert!(text.contains(LIST_BAR), "the list's pages were shown: {text}");
        // Tall enough that nothing scrolls away: every row ever written is on this screen.
        let rows = screen(&at_prompt, 2 * MANY as u16 + 50);
        assert_eq!(last_line(&rows), prompt, "the prompt is alone on its line");
        assert!(rows.iter().all(|r| !r.contains(LIST_BAR)), "no bar left on the screen: {rows:#?}");
        let listed = rows.iter().filter(|r| r.starts_with("  replicaset.apps \"app-")).count();
        assert_eq!(listed, MANY, "{rows:#?}");

        session.type_line("y");
        let (status, all) = session.finish();
        let text = String::from_utf8_lossy(&all).into_owned();
        assert!(status.success(), "{text}");
        assert!(text.contains(DELETE_BAR), "the deletes were shown: {text}");
        let rows = screen(&all, 2 * MANY as u16 + 50);
        assert!(rows.iter().all(|r| !r.contains(LIST_BAR) && !r.contains(DELETE_BAR)), "no bar left: {rows:#?}");
        let deleted = rows.iter().filter(|r| r.starts_with("replicaset.apps \"app-") && r.ends_with("deleted")).count();
        assert_eq!(deleted, MANY, "one whole line per deleted ReplicaSet: {rows:#?}");
        assert_eq!(last_line(&rows), format!("{MANY} deleted, 0 skipped, 0 failed"));
        assert!(!exists(env, &ns, "app-0000") && !exists(env, &ns, &format!("app-{:04}", MANY - 1)));
    }

    /// On a terminal, the default read (one stream, no count of what follows): a count of the
    /// ReplicaSets read so far, gone from the screen when the table prints.
    fn a_streamed_read_on_a_terminal_counts_what_it_read_then_clears_it(env) {
        let ns = many_stale(env);
        let line = format!("{BIN} -n {ns}");
        let out = terminal::run(&mut env.command("script"), &line);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}");
        // The first batch of 500 is full: more may follow.
        assert!(text.contains(&format!("{STREAM_COUNTER}500 so far")), "the read was counted: {text}");
        let rows = screen(out.stdout.as_slice(), MANY as u16 + 50);
        assert!(rows.iter().all(|r| !r.contains(STREAM_COUNTER)), "no counter left on the screen: {rows:#?}");
        assert_eq!(rows.iter().filter(|r| r.starts_with("app-")).count(), MANY, "{rows:#?}");
    }

    /// On a pipe nothing but the usual: the table on stdout, an empty stderr; then the deletes'
    /// lines and their summary, exactly.
    fn a_pipe_gets_no_progress_bytes(env) {
        let ns = many_stale(env);
        let listed = run(env, &["-n", &ns]);
        assert_eq!(stderr(&listed), "");
        assert_eq!(names(&ok(listed)).len(), MANY);

        let deleted = run(env, &["-n", &ns, "--delete", "--yes"]);
        assert_eq!(stderr(&deleted), format!("{MANY} deleted, 0 skipped, 0 failed\n"));
        let expected: String =
            (0..MANY).map(|i| format!("replicaset.apps \"app-{i:04}\" in namespace \"{ns}\" deleted\n")).collect();
        let mut lines: Vec<&str> = Vec::new();
        let out = ok(deleted);
        lines.extend(out.lines());
        // Deletes run concurrently: their lines come in the order the answers arrive.
        lines.sort_unstable();
        assert_eq!(lines.join("\n") + "\n", expected);
    }

    /// On a terminal with -o name (output for programs): no bar, although stderr is a terminal.
    fn machine_readable_output_on_a_terminal_has_no_progress(env) {
        let ns = many_stale(env);
        let line = format!("{BIN} -n {ns} -o name");
        let out = terminal::run(&mut env.command("script"), &line);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}");
        assert!(!text.contains(LIST_BAR), "{text}");
        assert!(!text.contains('\u{1b}'), "no escape sequences at all: {text:?}");
        assert_eq!(text.lines().count(), MANY, "{text}");
    }
}
