//! The harness itself: both backends answer the same requests the same way through kubectl.

use kubeplug_testenv::{Backend, ControlPlane, Controllers, backend_tests, rows};

backend_tests! {
    /// Objects are created through the API, in a namespace of the test's own.
    fn creates_and_reads_objects_in_its_own_namespace(env) {
        let ns = env.namespace("harness");
        let created = env.create(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: one, namespace: {ns}}}\ndata: {{k: v}}\n"
        ));
        assert_eq!(created.len(), 1);
        assert!(created[0]["metadata"]["uid"].as_str().is_some_and(|uid| !uid.is_empty()));
        let read = env.get("configmaps", Some(&ns), "one").expect("the ConfigMap exists");
        assert_eq!(read["data"]["k"], "v");
        assert_eq!(read["metadata"]["uid"], created[0]["metadata"]["uid"]);
        assert!(env.get("configmaps", Some(&ns), "two").is_none());
        let out = env.kubectl().args(["get", "configmaps", "-n", &ns, "--no-headers"]).output().unwrap();
        let names: Vec<String> = rows(&format!("HEADER\n{}", String::from_utf8_lossy(&out.stdout)))
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert!(names.contains(&"one".to_string()), "{names:?}");
    }

    /// The three users of both servers: admin may, alice (group devs) and bob may not by default.
    fn knows_the_admin_alice_and_bob(env) {
        let can = |context: &str| {
            let out = env.kubectl().args(["--context", context, "auth", "can-i", "create", "namespaces"]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        assert_eq!(can("admin"), "yes");
        assert_eq!(can("alice"), "no");
        assert_eq!(can("bob"), "no");
        let out = env.kubectl().args(["--context", "alice", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"]).output().unwrap();
        let who = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(who.starts_with("alice "), "{who}");
        assert!(who.contains("devs"), "{who}");
        let _ = env.backend() == Backend::Real;
    }
}

/// Started by `stops_every_process_and_removes_its_dir_when_the_test_binary_dies` in a child
/// test process: starts a control plane, prints its dir, and aborts without any cleanup.
#[test]
#[ignore = "only as the child of stops_every_process_and_removes_its_dir_when_the_test_binary_dies"]
fn child_starts_a_control_plane_and_aborts() {
    let Some(assets) = std::env::var_os("KUBEPLUG_TESTENV_CHILD") else { return };
    let plane = ControlPlane::start(std::path::Path::new(&assets), Controllers::None).unwrap();
    println!("DIR={}", plane.dir().display());
    std::process::abort();
}

#[test]
#[cfg_attr(not(kubeplug_real_server), ignore = "no real server: set KUBEBUILDER_ASSETS (envtest)")]
fn stops_every_process_and_removes_its_dir_when_the_test_binary_dies() {
    let Some(assets) = std::env::var_os("KUBEBUILDER_ASSETS") else {
        eprintln!("skipped: KUBEPLUG_TEST_KUBECONFIG names a cluster this harness did not start");
        return;
    };
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_starts_a_control_plane_and_aborts", "--nocapture"])
        .env("KUBEPLUG_TESTENV_CHILD", &assets)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the child aborts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let dir = stdout.lines().find_map(|l| l.strip_prefix("DIR=")).expect("the child printed its dir");
    let dir = std::path::Path::new(dir);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while dir.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!dir.exists(), "{} is left behind", dir.display());
    let ps = std::process::Command::new("ps").args(["-eo", "stat=,args="]).output().unwrap();
    let left: Vec<String> = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(&*dir.to_string_lossy()) && !l.trim_start().starts_with('Z'))
        .map(str::to_string)
        .collect();
    assert!(left.is_empty(), "processes left running: {left:?}");
}
