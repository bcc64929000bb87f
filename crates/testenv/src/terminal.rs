//! Command lines run on a pseudo-terminal (util-linux `script`), as a user at a terminal runs
//! them: progress bars and prompts appear only there. [`screen`] reads back what the terminal
//! shows once every escape sequence has been applied.

use std::io::{Read as _, Write as _};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `cmd` (a `script` command: `Command::new("script")` or `Env::command("script")`, which points
/// it at the test's server) set up to run `line` on a pseudo-terminal.
pub fn script<'c>(cmd: &'c mut Command, line: &str) -> &'c mut Command {
    cmd.args(["-qfec", line, "/dev/null"])
}

/// Runs `line` on a pseudo-terminal with nothing to read; its stdout is all the terminal showed
/// (stdout and stderr of `line`, as written).
pub fn run(cmd: &mut Command, line: &str) -> Output {
    script(cmd, line).stdin(Stdio::null()).output().expect("script runs")
}

/// What a terminal of `rows` x `cols` shows after `bytes`, one string per row, trailing blanks cut.
pub fn screen(bytes: &[u8], rows: u16, cols: u16) -> Vec<String> {
    let mut parser = vt100::Parser::new(rows, cols, 0);
    parser.process(bytes);
    parser.screen().rows(0, cols).map(|r| r.trim_end().to_string()).collect()
}

/// A command line running on a pseudo-terminal that the test types into (a confirmation prompt).
pub struct Session {
    child: Child,
    stdin: ChildStdin,
    seen: Arc<Mutex<Vec<u8>>>,
    reader: JoinHandle<()>,
}

impl Session {
    /// Starts `line` on a pseudo-terminal; what it shows is collected as it comes.
    pub fn start(cmd: &mut Command, line: &str) -> Session {
        let mut child = script(cmd, line).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("script runs");
        let stdin = child.stdin.take().expect("piped stdin");
        let mut out = child.stdout.take().expect("piped stdout");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = out.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    seen.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            })
        };
        Session { child, stdin, seen, reader }
    }

    /// Every byte the terminal has shown so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until the terminal shows `text` (a prompt), and returns what it has shown by then.
    /// Panics after `limit`: a safety net against a hung command, not a timing assertion.
    pub fn wait_for(&self, text: &str, limit: Duration) -> Vec<u8> {
        let deadline = Instant::now() + limit;
        loop {
            let bytes = self.bytes();
            if String::from_utf8_lossy(&bytes).contains(text) {
                return bytes;
            }
            assert!(Instant::now() < deadline, "{text:?} never shown: {}", String::from_utf8_lossy(&bytes));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `line` and Enter.
    pub fn type_line(&mut self, line: &str) {
        self.stdin.write_all(format!("{line}\n").as_bytes()).expect("the terminal takes input");
    }

    /// Waits for the command to end: its exit status and everything the terminal showed.
    pub fn finish(mut self) -> (ExitStatus, Vec<u8>) {
        let status = self.child.wait().expect("script ends");
        self.reader.join().expect("the reader thread ends");
        let bytes = std::mem::take(&mut *self.seen.lock().unwrap());
        (status, bytes)
    }
}
