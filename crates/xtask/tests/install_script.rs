//! `scripts/install.sh`: installs every plugin of plugins.yaml under its PATH name, with its
//! kubectl completion helper, so that `kubectl show stale-replica-sets` works; `--uninstall`
//! removes exactly that.

mod support;

use std::path::Path;
use std::process::Command;

use support::{candidates, kubectl, stderr, stdout};
use xtask::registry::Plugin;

fn install_sh(args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(support::root().join("scripts/install.sh"))
        .args(args)
        .output()
        .expect("running install.sh")
}

#[test]
fn install_then_uninstall_through_the_real_kubectl() {
    let bin_dir = support::plugin_bin_dir();
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    let home = dir.path().join("home");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    // Something of the user's in the same directory must survive the uninstall.
    std::fs::write(prefix.join("bin/users-own-tool"), "#!/bin/sh\n").unwrap();

    let out = install_sh(&["--prefix", prefix.to_str().unwrap(), "--bin-dir", bin_dir.to_str().unwrap()]);
    assert!(out.status.success(), "install.sh: {}", stderr(&out));
    let dest = prefix.join("bin");
    let registry = support::registry();
    for p in &registry.plugins {
        for name in [p.binary.clone(), Plugin::completion_helper(&p.binary)] {
            let meta = std::fs::metadata(dest.join(&name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0, "{name} is executable");
        }
    }

    let out = kubectl(&dest, &home, &["show", "stale-replica-sets", "--help"]);
    assert!(out.status.success(), "kubectl show stale-replica-sets --help: {}", stderr(&out));
    assert!(stdout(&out).contains("Usage:"), "{}", stdout(&out));
    for p in &registry.plugins {
        let words: Vec<&str> = p.command.split_whitespace().collect();
        let mut args = words.clone();
        args.push("--help");
        let out = kubectl(&dest, &home, &args);
        assert!(out.status.success(), "kubectl {} --help: {}", p.command, stderr(&out));

        // kubectl finds the helper and passes the plugin's arguments to it.
        let mut args = vec!["__complete"];
        args.extend(&words);
        args.push("--");
        let out = kubectl(&dest, &home, &args);
        let (values, directive) = candidates(&stdout(&out));
        assert!(values.iter().any(|v| v == "--output"), "kubectl __complete {}: {values:?}", p.command);
        assert_eq!(directive, ":4");
    }
    let out = kubectl(&dest, &home, &["plugin", "list"]);
    assert!(out.status.success(), "kubectl plugin list: {}", stderr(&out));
    assert!(!stderr(&out).to_lowercase().contains("warning"), "{}", stderr(&out));

    let out = install_sh(&["--prefix", prefix.to_str().unwrap(), "--uninstall"]);
    assert!(out.status.success(), "install.sh --uninstall: {}", stderr(&out));
    let left: Vec<String> =
        std::fs::read_dir(&dest).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert_eq!(left, ["users-own-tool"]);
    assert!(!Path::new(&prefix.join("share/kubeplug")).exists());
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let out = install_sh(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), "error: unknown argument '--frobnicate' (see --help)\n");
    let dir = tempfile::tempdir().unwrap();
    let out = install_sh(&["--prefix", dir.path().to_str().unwrap(), "--uninstall"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("error: nothing to uninstall"), "{}", stderr(&out));
}
