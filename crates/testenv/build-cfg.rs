// The build script of every crate whose tests use kubeplug-testenv (`include!`d from its build.rs).
// With a real server configured, the `real` variants of `backend_tests!` compile as ordinary
// tests; without one they compile as ignored tests, so `cargo test` reports them as skipped
// rather than passed. Rebuilds when either variable changes.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(kubeplug_real_server)");
    println!("cargo::rerun-if-env-changed=KUBEBUILDER_ASSETS");
    println!("cargo::rerun-if-env-changed=KUBEPLUG_TEST_KUBECONFIG");
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("KUBEBUILDER_ASSETS") || set("KUBEPLUG_TEST_KUBECONFIG") {
        println!("cargo::rustc-cfg=kubeplug_real_server");
    }
}
