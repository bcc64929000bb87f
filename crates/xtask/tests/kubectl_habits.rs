//! kubectl's habits and kubectl's failure behaviour, row by row (issue 19), over all four
//! plugin binaries against the fake API server. The expected strings are what the real
//! kubectl prints for the same mistake (`kubectl get pods --bogus`, `kubectl get pods -n`,
//! `kubectl --user nosuch get pods`...), checked by hand with /usr/bin/kubectl v1.32.
//!
//! Rows where a server's answer matters run on both backends (kubeplug-testenv's
//! `backend_tests!`: the fake and a real kube-apiserver); the others need the fake's fault
//! injection or request records, or no server at all.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use apiserver_fake::{FakeServer, Options};
use support::{stderr, stdout};

/// One plugin, and arguments that make it talk to the server (its plainest command).
struct Plugin {
    binary: &'static str,
    /// The command the user types, as help hints must name it.
    command: &'static str,
    read: &'static [&'static str],
}

const PLUGINS: [Plugin; 4] = [
    Plugin { binary: "kubectl-show-stale_replica_sets", command: "kubectl show stale-replica-sets", read: &[] },
    Plugin { binary: "kubectl-inspect-crd", command: "kubectl inspect crd", read: &[] },
    Plugin { binary: "kubectl-can_i_batch", command: "kubectl can-i-batch", read: &["--check", "get pods"] },
    Plugin { binary: "kubectl-show-extensions", command: "kubectl show extensions", read: &[] },
];

fn server() -> FakeServer {
    FakeServer::start_with(Options::demo()).expect("fake server")
}

/// Runs a plugin with the server's kubeconfig (unless `args` names another) and an empty HOME.
fn run(plugin: &Plugin, kubeconfig: &Path, args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(support::plugin_bin_dir().join(plugin.binary))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("HOME", home.path())
        .env_remove("KUBEPLUG_DEBUG")
        .output()
        .expect("running the plugin")
}

fn read_args<'a>(plugin: &'a Plugin, extra: &[&'a str]) -> Vec<&'a str> {
    plugin.read.iter().copied().chain(extra.iter().copied()).collect()
}

/// A run that failed the way kubectl fails: exit 1, and stderr exactly `error: <message>`
/// (plus the hint line, when given) with nothing else: no Debug text, no `os error`.
fn assert_error(plugin: &Plugin, out: &Output, message: &str, hint: Option<&str>) {
    let err = stderr(out);
    let mut expected = format!("error: {message}\n");
    if let Some(hint) = hint {
        expected.push_str(hint);
        expected.push('\n');
    }
    assert_eq!(out.status.code(), Some(1), "{}: {err}", plugin.binary);
    assert_eq!(err, expected, "{}", plugin.binary);
}

/// The one `error:` line of a failed run, after checking it is the only one and is clean.
fn error_line(plugin: &Plugin, out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{}: {err}", plugin.binary);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{}: one error line: {err}", plugin.binary);
    for bad in ["os error", "Error {", "Output {", "panicked", "Status {", "\\n"] {
        assert!(!err.contains(bad), "{}: {bad:?} in {err}", plugin.binary);
    }
    errors[0].to_string()
}

fn succeeded(plugin: &Plugin, out: &Output) {
    // 3 is a plugin's documented "no" answer (can-i-batch: denied): still a run that worked.
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}: {}", plugin.binary, stderr(out));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn flags_go_anywhere() {
    let s = server();
    for plugin in &PLUGINS {
        let kc = s.kubeconfig().to_str().unwrap();
        let mut before = vec!["--kubeconfig", kc, "-n", "shop"];
        before.extend(plugin.read);
        succeeded(plugin, &run(plugin, Path::new("/nonexistent"), &before));
        let after = read_args(plugin, &["-n", "shop", "--kubeconfig", kc]);
        succeeded(plugin, &run(plugin, Path::new("/nonexistent"), &after));
    }
    // The row of the issue: a connection flag before a subcommand.
    let dir = tempfile::tempdir().unwrap();
    let candy = write(
        dir.path(),
        "x.yaml",
        "apiVersion: awesome.corp.com/v1\nkind: Candy\nmetadata: {name: mint, namespace: demo}\nspec: {}\n",
    );
    let kc = s.kubeconfig().to_str().unwrap();
    let out =
        run(&PLUGINS[1], Path::new("/nonexistent"), &["--kubeconfig", kc, "validate", "-f", candy.to_str().unwrap()]);
    succeeded(&PLUGINS[1], &out);
}

#[test]
fn a_server_unavailable_forever_is_given_up_with_one_line_naming_it() {
    let s = server();
    for plugin in &PLUGINS {
        s.clear_requests();
        s.faults().unavailable_next(usize::MAX, 1);
        // That the run returns at all is the point (kubectl gives up after about 30 s); its
        // duration is not asserted, as timings on a shared machine are noise.
        let out = run(plugin, s.kubeconfig(), &read_args(plugin, &["--request-timeout", "5s"]));
        s.faults().clear();
        let line = error_line(plugin, &out);
        assert!(line.contains(s.url()) && line.contains("503"), "{}: {line}", plugin.binary);
        // One retry policy: each request is tried at most 1 + 10 times (two nested policies
        // made 28 requests of one list).
        let mut per_request = std::collections::BTreeMap::<String, usize>::new();
        for r in s.requests() {
            *per_request.entry(format!("{} {}?{}", r.method, r.path, r.query)).or_default() += 1;
        }
        let worst = per_request.values().max().copied().unwrap_or(0);
        assert!(worst > 1, "{}: the 503 was retried: {per_request:?}", plugin.binary);
        assert!(worst <= 11, "{}: {per_request:?}", plugin.binary);
        eprintln!("{}: {} requests", plugin.binary, s.requests().len());
    }
}

#[test]
fn request_timeouts_are_go_durations() {
    let s = server();
    for plugin in &PLUGINS {
        for value in ["500ms", "1.5s", "1m30s", "0", "5"] {
            succeeded(plugin, &run(plugin, s.kubeconfig(), &read_args(plugin, &["--request-timeout", value])));
        }
        let out = run(plugin, s.kubeconfig(), &read_args(plugin, &["--request-timeout", "soon"]));
        let line = error_line(plugin, &out);
        // kubectl's own sentence for a bad --request-timeout.
        assert!(line.contains("Invalid timeout value. Timeout must be a single integer in seconds"), "{line}");
        assert!(line.contains("'soon'"), "{line}");
    }
}

#[test]
fn usage_errors_name_the_flag_like_kubectl_with_the_typed_command_in_the_hint() {
    let s = server();
    for plugin in &PLUGINS {
        let hint = format!("See '{} --help' for usage.", plugin.command);
        let cases: [(&[&str], &str); 4] = [
            (&["--bogus"], "unknown flag: --bogus"),
            (&["-Z"], "unknown shorthand flag: 'Z' in -Z"),
            (&["--namespace"], "flag needs an argument: --namespace"),
            (&["-n"], "flag needs an argument: 'n' in -n"),
        ];
        for (args, message) in cases {
            assert_error(plugin, &run(plugin, s.kubeconfig(), args), message, Some(&hint));
        }
    }
    // Required flags are named (cobra's words).
    let out = run(&PLUGINS[0], s.kubeconfig(), &["--yes"]);
    assert_error(
        &PLUGINS[0],
        &out,
        r#"required flag(s) "delete" not set"#,
        Some("See 'kubectl show stale-replica-sets --help' for usage."),
    );
    let out = run(&PLUGINS[1], s.kubeconfig(), &["validate"]);
    assert_error(
        &PLUGINS[1],
        &out,
        r#"required flag(s) "filename" not set"#,
        Some("See 'kubectl inspect crd validate --help' for usage."),
    );
}

fn exec_kubeconfig(dir: &Path, s: &FakeServer, command: &str) -> PathBuf {
    let ca = ca_data(s);
    write(
        dir,
        "exec-kubeconfig",
        &format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster: {{server: \"{}\", certificate-authority-data: {ca}}}\ncontexts:\n- name: c\n  context: {{cluster: c, user: u}}\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {command}\n      interactiveMode: Never\n",
            s.url()
        ),
    )
}

/// The CA of the server, as its kubeconfig carries it.
fn ca_data(s: &FakeServer) -> String {
    let text = std::fs::read_to_string(s.kubeconfig()).unwrap();
    let line = text.lines().find(|l| l.contains("certificate-authority-data:")).expect("CA data in the kubeconfig");
    line.split_once("certificate-authority-data:").unwrap().1.trim().trim_matches(['"', '}', ',']).trim().to_string()
}

#[test]
fn failing_credential_plugins_are_named_with_their_stderr() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let failing = write(dir.path(), "fail.sh", "#!/bin/sh\necho 'token expired, run: corp-login' >&2\nexit 1\n");
    std::fs::set_permissions(&failing, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let missing = exec_kubeconfig(dir.path(), &s, "nosuch-credential-plugin");
    for plugin in &PLUGINS {
        let out = run(plugin, &missing, plugin.read);
        let err = stderr(&out);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert_eq!(lines.len(), 2, "{err}");
        // kubectl: `getting credentials: exec: executable nosuch not found` and its hint.
        assert!(
            lines[0].ends_with("getting credentials: exec: executable nosuch-credential-plugin not found"),
            "{err}"
        );
        assert_eq!(
            lines[1],
            "It looks like you are trying to use a client-go credential plugin that is not installed."
        );
    }
    let fails = exec_kubeconfig(dir.path(), &s, failing.to_str().unwrap());
    for plugin in &PLUGINS {
        let line = error_line(plugin, &run(plugin, &fails, plugin.read));
        let expected = "failed with exit code 1: token expired, run: corp-login";
        assert!(line.contains(failing.to_str().unwrap()) && line.contains(expected), "{}: {line}", plugin.binary);
    }
}

#[test]
fn bad_files_are_one_line_with_the_file_line_and_column() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let garbage = write(dir.path(), "garbage", "apiVersion: v1\nclusters: [unclosed\n");
    let duplicate =
        write(dir.path(), "duplicate", "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nclusters: []\n");
    for plugin in &PLUGINS {
        let cases: Vec<(Vec<&str>, String)> = vec![
            (vec!["--kubeconfig", &d], format!("kubeconfig {d}: is a directory")),
            (vec!["--kubeconfig", "/nope/config"], "kubeconfig /nope/config: no such file or directory".into()),
            (
                vec!["--kubeconfig", duplicate.to_str().unwrap()],
                format!("kubeconfig {}:5:1: duplicate mapping key: clusters", duplicate.display()),
            ),
            (
                vec!["--certificate-authority", "/nope"],
                "unable to read certificate-authority /nope: no such file or directory".into(),
            ),
        ];
        for (args, message) in cases {
            let out = run(plugin, s.kubeconfig(), &read_args(plugin, &args));
            assert_error(plugin, &out, &message, None);
        }
        let line = error_line(
            plugin,
            &run(plugin, s.kubeconfig(), &read_args(plugin, &["--kubeconfig", garbage.to_str().unwrap()])),
        );
        assert!(line.starts_with(&format!("error: kubeconfig {}:2:", garbage.display())), "{line}");
    }
    // The plugins' own input files, the same way.
    let out = run(&PLUGINS[1], s.kubeconfig(), &["validate", "-f", &d, "--crd-file", &d]);
    assert!(!stderr(&out).contains("os error"), "{}", stderr(&out));
    let dup = write(dir.path(), "dup.yaml", "apiVersion: v1\nkind: Candy\nkind: Candy\n");
    let out = run(&PLUGINS[1], s.kubeconfig(), &["validate", "-f", dup.to_str().unwrap()]);
    assert_error(&PLUGINS[1], &out, &format!("{}:3:1: duplicate mapping key: kind", dup.display()), None);
    let out = run(&PLUGINS[2], s.kubeconfig(), &["-f", &d]);
    assert_error(&PLUGINS[2], &out, &format!("{d}: is a directory"), None);
}

#[test]
fn all_namespaces_wins_over_namespace() {
    let s = server();
    s.clear_requests();
    let stale = &PLUGINS[0];
    succeeded(stale, &run(stale, s.kubeconfig(), &["-A", "-n", "shop"]));
    let lists: Vec<String> =
        s.requests().into_iter().filter(|r| r.path.contains("replicasets")).map(|r| r.path).collect();
    assert_eq!(lists, ["/apis/apps/v1/replicasets"], "one cluster-wide list");

    let can_i = &PLUGINS[2];
    let out = run(can_i, s.kubeconfig(), &["--check", "get pods", "-A", "-n", "shop", "-o", "json"]);
    succeeded(can_i, &out);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let namespaces: Vec<&str> =
        json["items"].as_array().unwrap().iter().map(|i| i["check"]["namespace"].as_str().unwrap_or("")).collect();
    assert_eq!(namespaces, [""], "-A means namespace \"\"");
}

#[test]
fn namespace_is_one_namespace_and_lists_have_their_own_flag() {
    let s = server();
    s.clear_requests();
    let stale = &PLUGINS[0];
    succeeded(stale, &run(stale, s.kubeconfig(), &["-n", "a,b"]));
    // As kubectl: `kubectl get rs -n a,b` asks for namespace "a,b".
    assert!(
        s.requests().iter().any(|r| r.path == "/apis/apps/v1/namespaces/a,b/replicasets"),
        "{:?}",
        s.requests().iter().map(|r| &r.path).collect::<Vec<_>>()
    );

    let can_i = &PLUGINS[2];
    let namespaces = |args: &[&str]| -> Vec<String> {
        let out = run(can_i, s.kubeconfig(), args);
        succeeded(can_i, &out);
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["check"]["namespace"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(namespaces(&["--check", "get pods", "-n", "a,b", "-o", "json"]), ["a,b"]);
    assert_eq!(namespaces(&["--check", "get pods", "--namespaces", "a,b", "-o", "json"]), ["a", "b"]);
}

/// The server URL of a kubeconfig written by the harness (one cluster).
fn server_url(kubeconfig: &Path) -> String {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    text.lines().find_map(|l| l.trim().strip_prefix("server: ")).expect("a server line").to_string()
}

kubeplug_testenv::backend_tests! {
    fn an_unknown_user_is_refused_before_any_request(env) {
        for plugin in &PLUGINS {
            if let Some(fake) = env.fake() {
                fake.clear_requests();
            }
            let out = run(plugin, env.kubeconfig(), &read_args(plugin, &["--user", "nosuch"]));
            assert_error(plugin, &out, r#"auth info "nosuch" does not exist"#, None);
            // Only the fake records requests: none were sent.
            if let Some(fake) = env.fake() {
                assert!(fake.requests().is_empty(), "{}", plugin.binary);
            }
        }
    }

    fn a_server_without_scheme_works(env) {
        let dir = tempfile::tempdir().unwrap();
        let url = server_url(env.kubeconfig());
        let text = std::fs::read_to_string(env.kubeconfig()).unwrap();
        let host_port = url.strip_prefix("https://").unwrap();
        // The kubeconfig has the CA: client-go then adds https://.
        let kubeconfig = write(dir.path(), "kubeconfig", &text.replace(&url, host_port));
        assert!(!std::fs::read_to_string(&kubeconfig).unwrap().contains("https://"));
        for plugin in &PLUGINS {
            succeeded(plugin, &run(plugin, &kubeconfig, plugin.read));
            let out = run(plugin, env.kubeconfig(), &read_args(plugin, &["--server", host_port]));
            succeeded(plugin, &out);
        }
        // Without any TLS setting, client-go adds http://, as `kubectl --server 127.0.0.1:1` shows.
        for plugin in &PLUGINS {
            let out = run(plugin, Path::new("/nonexistent"), &read_args(plugin, &["--server", "127.0.0.1:1"]));
            let line = error_line(plugin, &out);
            // After what the plugin was doing (`listing replicasets.apps...: `), kubectl's sentence.
            let refused =
                "the connection to the server http://127.0.0.1:1 was refused - did you specify the right host or port?";
            assert!(line.ends_with(refused), "{}: {line}", plugin.binary);
        }
    }

    fn show_extensions_fails_when_no_section_could_be_read(env) {
        let plugin = &PLUGINS[3];
        let out = run(plugin, env.kubeconfig(), &["--context", "bob"]);
        let line = error_line(plugin, &out);
        assert!(line.starts_with("error: no section of the extension map could be read"), "{line}");
        succeeded(plugin, &run(plugin, env.kubeconfig(), &["--context", "admin"]));
    }

    fn verbosity_six_logs_each_request_and_eight_the_bodies_never_the_token(env) {
        let url = server_url(env.kubeconfig());
        let token = apiserver_fake::authn::token_of("admin").unwrap();
        for plugin in &PLUGINS {
            for flag in ["-v=6", "--v=6", "-v6"] {
                let out = run(plugin, env.kubeconfig(), &read_args(plugin, &[flag]));
                succeeded(plugin, &out);
                let err = stderr(&out);
                let logged = err
                    .lines()
                    .filter(|l| {
                        l.starts_with('I')
                            && l.contains(&format!("] GET {url}/"))
                            && l.contains(" 200 OK in ")
                            && l.ends_with(" milliseconds")
                    })
                    .count();
                assert!(logged >= 1, "{} {flag}: {err}", plugin.binary);
            }
            let out = run(plugin, env.kubeconfig(), &read_args(plugin, &["-v=9", "--token", token]));
            succeeded(plugin, &out);
            let err = stderr(&out);
            assert!(err.contains("\"Response Body\" body="), "{}: {err}", plugin.binary);
            assert!(!err.contains(token), "{}: the token must never be logged", plugin.binary);
            let quiet = run(plugin, env.kubeconfig(), plugin.read);
            assert!(!stderr(&quiet).contains("milliseconds"), "{}: nothing logged without -v", plugin.binary);
        }
    }
}
