//! Shell completion of every plugin binary: `completion bash|zsh|fish` scripts, and kubectl's
//! `__complete` protocol for flags, flag values, kubeconfig names and server-side names.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{candidates, stderr, stdout};

fn binary(name: &str) -> PathBuf {
    support::plugin_bin_dir().join(name)
}

fn run(bin: &Path, args: &[&str], home: &Path) -> Output {
    Command::new(bin)
        .args(args)
        .env("HOME", home)
        .env("KUBECONFIG", home.join("no-kubeconfig"))
        .output()
        .expect("running a plugin")
}

#[test]
fn completion_scripts_for_each_shell_name_the_binary() {
    let home = tempfile::tempdir().unwrap();
    for p in &support::registry().plugins {
        for shell in ["bash", "zsh", "fish"] {
            let out = run(&binary(&p.binary), &["completion", shell], home.path());
            assert!(out.status.success(), "{} completion {shell}: {}", p.binary, stderr(&out));
            assert!(stdout(&out).contains(&p.binary), "{} completion {shell}:\n{}", p.binary, stdout(&out));
        }
        let out = run(&binary(&p.binary), &["completion", "tcsh"], home.path());
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).starts_with("error: unsupported shell \"tcsh\""), "{}", stderr(&out));
    }
}

#[test]
fn flags_and_output_values_complete_for_every_plugin() {
    let home = tempfile::tempdir().unwrap();
    for p in &support::registry().plugins {
        let out = run(&binary(&p.binary), &["__complete", "--"], home.path());
        assert!(out.status.success());
        let (values, directive) = candidates(&stdout(&out));
        for flag in ["--output", "--namespace", "--context", "--kubeconfig", "--help"] {
            assert!(values.iter().any(|v| v == flag), "{}: {flag} missing from {values:?}", p.binary);
        }
        assert_eq!(directive, ":4");

        // Each command offers exactly the formats it prints, in kubectl's order: `-o name` only
        // where there are named objects, custom columns only where there are rows of objects.
        let expected: &[&str] = match p.binary.as_str() {
            "kubectl-show-stale_replica_sets" => {
                &["json", "yaml", "name", "jsonpath", "jsonpath-file", "custom-columns", "custom-columns-file", "wide"]
            }
            "kubectl-inspect-crd" => {
                &["json", "yaml", "name", "jsonpath", "jsonpath-file", "custom-columns", "custom-columns-file", "wide"]
            }
            "kubectl-can_i_batch" => {
                &["json", "yaml", "jsonpath", "jsonpath-file", "custom-columns", "custom-columns-file", "wide"]
            }
            "kubectl-show-extensions" => &["json", "yaml", "jsonpath", "jsonpath-file", "wide"],
            other => panic!("{other}: no expected -o formats written down for this plugin"),
        };
        let out = run(&binary(&p.binary), &["__complete", "-o", ""], home.path());
        let (values, _) = candidates(&stdout(&out));
        assert_eq!(values, expected, "{}", p.binary);
        let out = run(&binary(&p.binary), &["__complete", "--output=y"], home.path());
        assert_eq!(candidates(&stdout(&out)).0, ["--output=yaml"], "{}", p.binary);
    }
}

#[test]
fn contexts_complete_from_the_kubeconfig() {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\n\
         clusters: [{name: dev-cluster, cluster: {server: 'https://127.0.0.1:1'}}]\n\
         users: [{name: dev-user, user: {token: t}}]\n\
         contexts: [{name: dev, context: {cluster: dev-cluster, user: dev-user}}, {name: prod-eu, context: {cluster: dev-cluster, user: dev-user}}, {name: prod-us, context: {cluster: dev-cluster, user: dev-user}}]\n",
    )
    .unwrap();
    let bin = binary("kubectl-show-stale_replica_sets");
    // Through KUBECONFIG, as kubectl passes its environment on.
    let out = Command::new(&bin)
        .args(["__complete", "--context", "prod"])
        .env("HOME", home.path())
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .unwrap();
    assert_eq!(stdout(&out), "prod-eu\nprod-us\n:4\n");
    // And through --kubeconfig typed earlier on the command line.
    let out = run(&bin, &["__complete", "--kubeconfig", kubeconfig.to_str().unwrap(), "--cluster", ""], home.path());
    assert_eq!(stdout(&out), "dev-cluster\n:4\n");
}

#[test]
fn namespaces_and_resource_types_complete_from_the_server() {
    let server = apiserver_fake::FakeServer::start().expect("starting the fake API server");
    server
        .apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shipping}\n")
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig().to_str().unwrap().to_string();
    for p in &support::registry().plugins {
        let out = run(&binary(&p.binary), &["__complete", "--kubeconfig", &kubeconfig, "-n", "sh"], home.path());
        assert_eq!(stdout(&out), "shipping\nshop\n:4\n", "{}: {}", p.binary, stderr(&out));
        assert_eq!(stderr(&out), "");
    }
    // can-i-batch's --resources takes resource types, completed like `kubectl api-resources -o name`.
    let out = run(
        &binary("kubectl-can_i_batch"),
        &["__complete", "--kubeconfig", &kubeconfig, "--resources", "pods,deploy"],
        home.path(),
    );
    let (values, directive) = candidates(&stdout(&out));
    assert_eq!(values, ["pods,deployments.apps"], "{}", stderr(&out));
    assert_eq!(directive, ":4");
}

#[test]
fn an_unreachable_server_completes_nothing_and_says_nothing() {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
         clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]\n\
         users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n",
    )
    .unwrap();
    let out = run(
        &binary("kubectl-show-stale_replica_sets"),
        &["__complete", "--kubeconfig", kubeconfig.to_str().unwrap(), "--namespace", ""],
        home.path(),
    );
    assert!(out.status.success());
    assert_eq!(stdout(&out), ":4\n");
    assert_eq!(stderr(&out), "");
}

#[test]
fn crd_names_complete_from_the_server_for_a_crd_argument() {
    use clap::{CommandFactory, Parser};

    /// A plugin whose positional is a CRD, as `kubectl inspect crd NAME` is.
    #[derive(Parser)]
    #[command(name = "kubectl-crd-test")]
    struct Args {
        #[arg(value_name = "CRD")]
        crd: Option<String>,
        #[command(flatten)]
        connection: kubeplug::ConnectionFlags,
    }

    let candies = apiserver_fake::DEMO_MANIFESTS.iter().find(|(name, _)| name.contains("candies")).unwrap().1;
    let server = apiserver_fake::FakeServer::start_with(apiserver_fake::Options {
        seed_yaml: vec![candies.to_string()],
        ..Default::default()
    })
    .expect("starting the fake API server");
    let words: Vec<String> = ["--kubeconfig", server.kubeconfig().to_str().unwrap(), ""].map(String::from).into();
    let answer = kubeplug::completion::complete(&mut Args::command(), &words);
    assert!(answer.values().iter().any(|v| v.starts_with("candies.")), "{:?}", answer.values());
    assert_eq!(answer.directive, kubeplug::completion::DIRECTIVE_NO_FILE_COMP);
}
