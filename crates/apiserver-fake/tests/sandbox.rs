//! The `kubeplug-sandbox` binary: serves the demo data, writes the kubeconfig where asked,
//! stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn sandbox_serves_the_demo_until_terminated() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("kubeplug-sandbox"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("kubeplug sandbox listening on https://127.0.0.1:"), "{first}");
    let second = lines.next().unwrap().unwrap();
    assert_eq!(second, format!("kubeconfig: {}", kubeconfig.display()));
    let config = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(config.contains("current-context: admin"));
    if std::path::Path::new(apiserver_fake::testing::KUBECTL).exists() {
        let out = Command::new(apiserver_fake::testing::KUBECTL)
            .args(["get", "deployments", "-n", "shop", "-o", "name"])
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "deployment.apps/cart\ndeployment.apps/web\n");
    }
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn sandbox_rejects_a_missing_seed_directory() {
    let out = Command::new(assert_cmd::cargo::cargo_bin("kubeplug-sandbox"))
        .args(["--no-demo", "--seed", "/nonexistent/seed-dir"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: reading seed directory /nonexistent/seed-dir"), "{stderr}");
}

#[test]
fn sandbox_rejects_a_latency_that_is_not_milliseconds() {
    let out =
        Command::new(assert_cmd::cargo::cargo_bin("kubeplug-sandbox")).args(["--latency", "soon"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: invalid value 'soon' for '--latency <MS>'"), "{stderr}");
}
