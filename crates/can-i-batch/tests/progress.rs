//! Progress of many access checks, on both backends: a bar on a terminal (a pseudo-terminal made
//! by `script`) that is gone from the screen when the answers print; on a pipe, stderr stays
//! exactly empty.

mod common;

use common::{BIN, run, world};

/// 8 verbs x 15 resources: 120 reviews, long work.
const VERBS: &str = "get,list,watch,create,update,patch,delete,deletecollection";
const RESOURCES: &str = "pods,services,configmaps,secrets,serviceaccounts,persistentvolumeclaims,limitranges,resourcequotas,deployments,replicasets,statefulsets,daemonsets,jobs,cronjobs,roles";
const BAR: &str = "checking access [";

kubeplug_testenv::backend_tests! {
    fn many_checks_show_progress_on_a_terminal_only_and_leave_no_trace(env) {
        let w = world(env);
        let args = ["--context", "alice", "-n", w.team_a.as_str(), "--verbs", VERBS, "--resources", RESOURCES];

        let piped = run(w.bare().args(args), None);
        assert!(matches!(piped.code, 0 | 3), "{}", piped.stderr);
        assert_eq!(piped.stderr, "", "nothing but the answers");
        assert!(!piped.stdout.contains(BAR) && !piped.stdout.contains('\u{1b}'), "{}", piped.stdout);

        let line = format!("{BIN} {}", args.join(" "));
        let out = w.command("script").args(["-qfec", &line, "/dev/null"]).stdin(std::process::Stdio::null()).output().expect("script runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(piped.code), "{text}");
        assert!(text.contains(BAR), "the checks were shown: {text:?}");
        let mut parser = vt100::Parser::new(200, 250, 0);
        parser.process(&out.stdout);
        let rows: Vec<String> = parser.screen().rows(0, 250).map(|r| r.trim_end().to_string()).collect();
        assert!(rows.iter().all(|r| !r.contains(BAR)), "no bar left on the screen: {rows:#?}");
        let shown = rows.iter().filter(|r| !r.is_empty()).count();
        assert_eq!(shown, piped.stdout.lines().filter(|l| !l.trim().is_empty()).count(), "the screen holds the answers only: {rows:#?}");
    }
}
