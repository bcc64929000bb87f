//! Progress of `inspect crd validate` over many objects (offline, `--crd-file`): a bar on a
//! terminal (a pseudo-terminal made by `script`), gone from the screen at the end; on a pipe,
//! stderr is exactly the summary it always was.

use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-inspect-crd");
const CRDS: &str = "tests/data/crds";
/// Copies of widgets-valid.yaml (2 Widgets, 2 built-in objects): 240 objects, a long validation.
const FILES: usize = 60;
const BAR: &str = "validating objects [";

/// A directory of [`FILES`] copies of widgets-valid.yaml.
fn many_manifests() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/manifests/widgets-valid.yaml"))
            .unwrap();
    for i in 0..FILES {
        std::fs::write(dir.path().join(format!("widgets-{i:02}.yaml")), &text).unwrap();
    }
    dir
}

fn inspect() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).env("KUBECONFIG", "/nonexistent/kubeconfig");
    cmd
}

/// The summary of the 60 files, by hand from widgets-valid.yaml's own (tests/offline.rs): per
/// file 2 valid Widgets, a Namespace and a Service skipped, 2 transition rules not evaluated.
fn summary() -> String {
    format!(
        "skipped {} object(s) of built-in kinds (Namespace, Service): not checked against CRDs\n\
         {} object(s) in {FILES} file(s): {} valid, 0 invalid, 0 without CRD; {} transition rule(s) not evaluated (they run on update only) (list them with --show-unevaluated)\n",
        2 * FILES,
        2 * FILES,
        2 * FILES,
        2 * FILES
    )
}

#[test]
fn a_pipe_gets_exactly_the_summary_and_no_progress() {
    let dir = many_manifests();
    let out = inspect().args(["validate", "--crd-file", CRDS, "-f"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(String::from_utf8_lossy(&out.stderr), summary());
}

#[test]
fn a_terminal_shows_the_validation_progress_then_only_the_summary() {
    let dir = many_manifests();
    let line = format!("{BIN} validate --crd-file {CRDS} -f {}", dir.path().display());
    let out = Command::new("script")
        .args(["-qfec", &line, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(text.contains(BAR), "the validation was shown: {text:?}");
    let mut parser = vt100::Parser::new(50, 200, 0);
    parser.process(&out.stdout);
    let rows: Vec<String> = parser.screen().rows(0, 200).map(|r| r.trim_end().to_string()).collect();
    let shown: Vec<&str> = rows.iter().map(String::as_str).filter(|r| !r.is_empty()).collect();
    let expected: Vec<String> = summary().lines().map(str::to_string).collect();
    assert_eq!(shown, expected, "only the summary is left on the screen");
}

#[test]
fn json_output_on_a_terminal_has_no_progress() {
    let dir = many_manifests();
    let line = format!("{BIN} validate -o json --crd-file {CRDS} -f {}", dir.path().display());
    let out = Command::new("script")
        .args(["-qfec", &line, "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(!text.contains(BAR) && !text.contains('\u{1b}'), "{text:?}");
}
