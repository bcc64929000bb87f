#!/usr/bin/env python3
"""Turns the results of scripts/bench (hyperfine JSON, peak RSS, outputs) into BENCHMARKS.md and
a summary on stdout. usage: report.py RESULTS_DIR OUT_FILE (settings come from BENCH_* variables).
"""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

RESULTS = Path(sys.argv[1])
OUT = Path(sys.argv[2])
ENV = os.environ
HERE = Path(__file__).resolve().parent

# Reference figures from the issues (a real kube-apiserver, 22,412 ReplicaSets, 61 MB in 45 pages).
REFERENCE = {
    "jq": "16.1 s, 1.1 GB",
    "custom-columns": "13.0 s",
    "get": "9.7 s",
    "floor": "1.2 s",
    "floor-parse": "2.3 s",
    "loop": "32.7 s",
    "checks-floor": "0.35 s",
    "kubectl --help": "55 ms",
}


class Result:
    def __init__(self, group, name):
        base = RESULTS / group / name
        data = json.loads(base.with_suffix(".json").read_text())["results"][0]
        self.name = name
        self.command = base.with_suffix(".cmd").read_text().strip()
        self.times = data["times"]
        self.median = statistics.median(self.times)
        self.min = min(self.times)
        self.max = max(self.times)
        self.user = data.get("user")
        self.system = data.get("system")
        rss = base.with_suffix(".rss")
        self.rss_kb = int(rss.read_text().strip()) if rss.exists() and rss.read_text().strip() else None


def load(group):
    d = RESULTS / group
    if not d.is_dir():
        return {}
    return {p.stem: Result(group, p.stem) for p in sorted(d.glob("*.json"))}


def output(group, name):
    p = RESULTS / group / f"{name}.out"
    return p.read_text() if p.exists() else ""


def lines(group, name):
    return len([l for l in output(group, name).splitlines() if l.strip()])


def secs(t):
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def rng(r):
    return f"{secs(r.min)} – {secs(r.max)}"


def mb(r):
    return f"{r.rss_kb / 1024:.1f} MB" if r and r.rss_kb else "—"


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine():
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem_kb = int(line.split()[1])
    return {
        "nproc": sh("nproc"),
        "cpu": cpu or platform.processor(),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "kubectl": ENV.get("BENCH_KUBECTL_VERSION", "?"),
        "hyperfine": sh("hyperfine --version"),
        "rustc": ENV.get("BENCH_RUSTC_VERSION", "?"),
        "load": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    # A `|` inside a cell (a pipeline in a code span) would end the cell in GitHub's tables.
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(out)


def page_stats(group):
    m = re.search(r"(\d+) pages, (\d+) bytes, (\d+) items", output(group, "floor-parse"))
    return tuple(int(x) for x in m.groups()) if m else None


LABELS = {
    "plugin": "`kubectl show stale-replica-sets -A`",
    "plugin-direct": "`kubectl-show-stale_replica_sets -A` (the binary, without kubectl's dispatch)",
    "jq": "`kubectl get rs -A -o json | jq …`",
    "custom-columns": "`kubectl get rs -A -o custom-columns=… | awk '$2 == 0'` (the original approach)",
    "get": "`kubectl get rs -A` (no filter, for reference)",
    "floor": "floor: raw page fetch, one connection (Python http.client)",
    "floor-parse": "floor: raw page fetch + JSON parse of each page",
}


def stale_section(n, md, summary, targets, per_size):
    g = f"stale-{n}"
    r = load(g)
    if not r:
        return
    floor = r["floor"].median
    plugin = r["plugin"].median
    stats = page_stats(g)
    md.append(f"### Stale ReplicaSets: {int(n):,} ReplicaSets in {ENV['BENCH_NAMESPACES']} namespaces")
    if stats:
        pages, size, items = stats
        md.append(f"\n{items:,} ReplicaSets, {pages} pages of 500, {size / 1e6:.1f} MB of JSON "
                  f"({size / max(items, 1) / 1000:.2f} KB per ReplicaSet).\n")
    rows = []
    for name in ["plugin", "plugin-direct", "jq", "custom-columns", "get", "floor", "floor-parse"]:
        if name not in r:
            continue
        x = r[name]
        rows.append([LABELS[name], secs(x.median), rng(x), ratio(x.median, floor), ratio(x.median, plugin), mb(x)])
    md.append(table(["command", "median", "min – max", "÷ floor", "÷ plugin", "peak RSS"], rows))
    found = {k: lines(g, k) for k in ["plugin", "jq", "custom-columns"]}
    found["plugin"] -= 1  # its header
    md.append(f"\nRows found: plugin {found['plugin']:,}, jq {found['jq']:,}, custom-columns | awk "
              f"{found['custom-columns']:,}. The pipelines also count the current ReplicaSet of each "
              "Deployment scaled to zero (one in 25 here), which is in use, not stale; the plugin "
              "leaves those out.\n")
    per_size[int(n)] = r
    summary.append(f"stale@{n}: plugin {secs(plugin)} (direct {secs(r['plugin-direct'].median)}), "
                   f"floor {secs(floor)} (parse {secs(r['floor-parse'].median)}), jq {secs(r['jq'].median)}, "
                   f"custom-columns {secs(r['custom-columns'].median)}; plugin/floor {ratio(plugin, floor)}, "
                   f"jq/plugin {ratio(r['jq'].median, plugin)}, RSS plugin {mb(r['plugin'])} "
                   f"(direct {mb(r['plugin-direct'])}), jq {mb(r['jq'])}")


def seeding():
    """One line per kubeplug-seed run: what it created or deleted, how fast."""
    p = RESULTS / "seed.txt"
    if not p.exists():
        return ""
    out = ["Seeding (32 creates in flight, same sandbox):", ""]
    block = []
    for line in p.read_text().splitlines() + ["WHAT"]:
        if line.startswith("WHAT") and block:
            total = next((l.split() for l in block if l.startswith("total")), None)
            parts = [" ".join(l.split()[:-3]) + " " + f"{int(l.split()[-3]):,}" for l in block if not l.startswith("total")]
            if total:
                out.append(f"- {', '.join(parts)}: {float(total[2]):.1f} s ({int(total[3]):,} objects/s)")
            block = []
        elif line.strip() and not line.startswith("WHAT"):
            block.append(line)
    return "\n".join(out)


def server_note(m):
    """Which API server answered, and what that means for the figures."""
    if ENV.get("BENCH_REAL") == "1":
        return f"""**The API server is a real kube-apiserver v1.32.13 with its etcd** (the envtest control
plane the tests start, `kubeplug-envtest`, no controllers) **and runs on the same {m['nproc']} cores
as the client**: every figure includes the server's work, and client and server compete for the
CPUs. Only ratios measured in the same run are compared with the targets."""
    return f"""**The API server is the fake one (`kubeplug-sandbox`, in-memory, same wire format as a real
kube-apiserver v1.32) and runs on the same {m['nproc']} cores as the client**: every figure
includes the server's work, and client and server compete for the CPUs. The same comparisons on
the real kube-apiserver: `scripts/bench --real`, BENCHMARKS-real.md. Only ratios measured in the
same run are compared with the targets."""


def main():
    m = machine()
    quick = ENV.get("BENCH_QUICK") == "1"
    sizes = ENV.get("BENCH_SIZES", "").split()
    md = []
    summary = []
    targets = []
    md.append("# Benchmarks" + (" (quick smoke run: sizes too small for the targets)" if quick else ""))
    md.append(f"""
Each kubeplug plugin against what a user would otherwise type, on the same data, in one run,
with the floor (a bare client doing the least any tool must do) measured in the same run.
Produced by `{ENV.get('BENCH_INVOCATION', 'scripts/bench').strip()}` in {ENV.get('BENCH_ELAPSED', '?')} s
on {m['date']}; rerun it to check (`scripts/bench --quick` is a smoke run of well under a minute).

## Machine

| | |
|---|---|
| CPUs (nproc) | {m['nproc']} |
| CPU | {m['cpu']} |
| memory | {m['memory']} |
| kernel | {m['kernel']} |
| kubectl | {m['kubectl']} |
| hyperfine | {m['hyperfine']} |
| rustc | {m['rustc']} |
| load average (1, 5, 15 min) at start → end | {ENV.get('BENCH_LOAD_START', '?')} → {m['load']} |

{server_note(m)}

## Data

Seeded by `kubeplug-seed` (crates/seed):

- ReplicaSets: {', '.join(f'{int(s):,}' for s in sizes)} over {ENV.get('BENCH_NAMESPACES')} namespaces, as Deployments
  with rollout histories of 5 revisions: one current ReplicaSet with replicas (0 for one Deployment
  in 25, scaled down), four old ones at 0, revision annotations, controller ownerReferences to the
  Deployment's real uid, a pod template with two containers, env, probes and resources.
- {ENV.get('BENCH_CRDS')} CRDs (two versions, one deprecated; schema with enum, pattern, bounds,
  int-or-string, preserve-unknown-fields) with {ENV.get('BENCH_INSTANCES')} instances.
- Roles and RoleBindings for {ENV.get('BENCH_USERS')} users; the access checks are asked as
  `{ENV.get('BENCH_USER')}` (impersonated), bound in 3 of the namespaces.

{seeding()}

Runs: {ENV.get('BENCH_RUNS')} timed runs after {ENV.get('BENCH_WARMUP')} warm-up run(s) per command;
{ENV.get('BENCH_PIPE_RUNS')} for the kubectl pipelines of the stale ReplicaSets (seconds each at 20,000),
{ENV.get('BENCH_SLOW_RUNS')} and no warm-up for the loops of kubectl processes, {ENV.get('BENCH_FAST_RUNS')} after 3 for `--help`.
hyperfine reads each command's output through a pipe (`--output=pipe`), as a terminal would. Peak RSS: `/usr/bin/time -v`, maximum resident set
size of the largest single process (for a pipeline, the bigger of its commands); a plugin run
through kubectl inherits kubectl's own peak from before the `exec`, so the binary run directly
shows the plugin's own.

## Results
""")
    per_size = {}
    for n in sizes:
        stale_section(n, md, summary, targets, per_size)

    c = load("checks")
    if c:
        floor, plugin = c["floor"].median, c["plugin"].median
        md.append(f"### Access checks: {ENV.get('BENCH_CHECKS')} checks\n")
        rows = [
            ["`kubectl can-i-batch -f checks.yaml --as USER`", secs(plugin), rng(c["plugin"]), ratio(plugin, floor), "1.00×", mb(c["plugin"])],
            ["`kubectl-can_i_batch …` (the binary, without kubectl's dispatch)", secs(c["plugin-direct"].median),
             rng(c["plugin-direct"]), ratio(c["plugin-direct"].median, floor), ratio(c["plugin-direct"].median, plugin),
             mb(c["plugin-direct"])],
            [f"loop of {ENV.get('BENCH_CHECKS')} × `kubectl auth can-i … --as USER`", secs(c["loop"].median), rng(c["loop"]),
             ratio(c["loop"].median, floor), ratio(c["loop"].median, plugin), mb(c["loop"])],
            ["floor: `curl -Z --parallel-max 16` posting the SelfSubjectAccessReviews (16 in flight, HTTP/2)",
             secs(floor), rng(c["floor"]), "1.00×", ratio(floor, plugin), mb(c["floor"])],
            ["bare client in Python: 16 threads, one keep-alive connection each",
             secs(c["python"].median), rng(c["python"]), ratio(c["python"].median, floor),
             ratio(c["python"].median, plugin), mb(c["python"])],
        ]
        md.append(table(["command", "median", "min – max", "÷ floor", "÷ plugin", "peak RSS"], rows))
        yes_loop = sum(1 for l in output("checks", "loop").splitlines() if l.strip() == "yes")
        fm = re.search(r"(\d+) checks, (\d+) allowed", output("checks", "python"))
        plugin_out = output("checks", "plugin")
        yes_plugin = sum(1 for l in plugin_out.splitlines()[1:] if re.search(r"\byes\b", l))
        ok_curl = sum(1 for l in output("checks", "floor").splitlines() if l.strip() == "201")
        md.append(f"\nAllowed answers: plugin {yes_plugin}, kubectl loop {yes_loop}, Python client "
                  f"{fm.group(2) if fm else '?'} (of {fm.group(1) if fm else '?'}); curl got {ok_curl} answers (201).\n")
        summary.append(f"checks: plugin {secs(plugin)} (direct {secs(c['plugin-direct'].median)}), loop {secs(c['loop'].median)}, floor {secs(floor)}; "
                       f"loop/plugin {ratio(c['loop'].median, plugin)}, plugin/floor {ratio(plugin, floor)}")
        nc = ENV.get("BENCH_CHECKS")
        targets.append((f"{nc} checks: ≥ 50× faster than the kubectl loop", f"{c['loop'].median / plugin:.1f}×",
                        c["loop"].median / plugin >= 50))
        targets.append((f"{nc} checks: within 1.5× of a bare concurrent client (through kubectl)",
                        f"{plugin / floor:.2f}×", plugin / floor <= 1.5))
        direct = c["plugin-direct"].median
        targets.append((f"{nc} checks: within 1.5× of a bare concurrent client (binary run directly)",
                        f"{direct / floor:.2f}×", direct / floor <= 1.5))

    d = load("crds")
    if d:
        plugin, loop = d["plugin"].median, d["loop"].median
        md.append(f"### CRDs with instance counts: {ENV.get('BENCH_CRDS')} CRDs, {ENV.get('BENCH_INSTANCES')} instances\n")
        rows = [
            ["`kubectl inspect crd -o wide`", secs(plugin), rng(d["plugin"]), "1.00×", mb(d["plugin"])],
            ["`kubectl-inspect-crd -o wide` (the binary, without kubectl's dispatch)", secs(d["plugin-direct"].median),
             rng(d["plugin-direct"]), ratio(d["plugin-direct"].median, plugin), mb(d["plugin-direct"])],
            ["kubectl loop: `kubectl get crd` then `kubectl get CRD -A --no-headers | wc -l` per CRD",
             secs(loop), rng(d["loop"]), ratio(loop, plugin), mb(d["loop"])],
        ]
        md.append(table(["command", "median", "min – max", "÷ plugin", "peak RSS"], rows))
        md.append(f"\nLines printed: plugin {lines('crds', 'plugin') - 1} CRDs, loop {lines('crds', 'loop')} CRDs.\n")
        summary.append(f"crds: plugin {secs(plugin)} (direct {secs(d['plugin-direct'].median)}), loop {secs(loop)}; loop/plugin {ratio(loop, plugin)}")

    s = load("startup")
    if s:
        md.append("### Start-up: `--help`\n")
        rows = []
        plugins = [n for n in s if n.startswith("kubectl-")]
        for name in ["kubectl"] + plugins + ["via-kubectl"]:
            if name in s:
                x = s[name]
                label = "`kubectl show stale-replica-sets --help` (through kubectl)" if name == "via-kubectl" else f"`{name} --help`"
                rows.append([label, secs(x.median), rng(x), mb(x)])
        md.append(table(["command", "median", "min – max", "peak RSS"], rows))
        md.append("")
        for name in plugins:
            if name in s:
                targets.append((f"start-up: `{name} --help` under 5 ms", secs(s[name].median), s[name].median < 0.005))
        summary.append("startup: " + ", ".join(f"{k} {secs(v.median)}" for k, v in s.items()))

    if per_size:
        big = max(per_size)
        r = per_size[big]
        plugin, floor = r["plugin"].median, r["floor"].median
        direct = r["plugin-direct"].median
        targets.insert(0, (f"stale @ {big:,}: ≤ 1.05× the raw page fetch (through kubectl)",
                           f"{plugin / floor:.2f}×", plugin / floor <= 1.05))
        targets.insert(1, (f"stale @ {big:,}: ≤ 1.05× the raw page fetch (binary run directly)",
                           f"{direct / floor:.2f}×", direct / floor <= 1.05))
        targets.insert(2, (f"stale @ {big:,}: ≥ 12× faster than the jq pipeline",
                           f"{r['jq'].median / plugin:.1f}×", r["jq"].median / plugin >= 12))
        rss = r["plugin-direct"].rss_kb
        if rss:
            targets.insert(3, (f"stale @ {big:,}: peak RSS under 25 MB (plugin's own process)",
                               f"{rss / 1024:.1f} MB (through kubectl: {mb(r['plugin'])})", rss / 1024 < 25))
        if len(per_size) > 1:
            small = min(per_size)
            growth = r["plugin"].median / per_size[small]["plugin"].median
            floor_growth = floor / per_size[small]["floor"].median
            k = big / small
            targets.insert(4, (f"stale: time linear in the count ({small:,} → {big:,} is {k:.0f}× the data)",
                               f"{growth:.1f}× the time (floor: {floor_growth:.1f}×)", growth <= k * 1.1))

    md.append("## Targets (from the issues)\n")
    md.append(table(["target", "measured", "met"], [[t, v, "yes" if ok else "**no**"] for t, v, ok in targets]))
    md.append("")
    md.append(f"Reference figures from a real kube-apiserver (issue 9): jq pipeline {REFERENCE['jq']}, "
              f"custom-columns | awk {REFERENCE['custom-columns']}, `kubectl get rs -A` {REFERENCE['get']}, "
              f"bare page fetch {REFERENCE['floor']} ({REFERENCE['floor-parse']} with parsing), "
              f"500 × `kubectl auth can-i` {REFERENCE['loop']} vs {REFERENCE['checks-floor']} for a bare "
              f"client on 16 connections, `kubectl --help` {REFERENCE['kubectl --help']}.\n")

    notes = HERE / "NOTES.md"
    if notes.exists() and not quick:
        md.append(notes.read_text().strip() + "\n")

    md.append("## Commands, exactly\n")
    md.append("Each timed command, as given to hyperfine (`--shell=bash`; `-N` for `--help`), with "
              "KUBECONFIG pointing at the sandbox, HOME a fresh directory and target/release first on PATH:\n")
    md.append("```")
    seen = set()
    for p in sorted(RESULTS.glob("*/*.cmd")):
        cmd = p.read_text().strip()
        cmd = re.sub(r"/\S*/kubeplug-bench\.\w+/", "$WORK/", cmd)
        cmd = re.sub(r"\S*/python3(\.\d+)?\b", "python3", cmd)
        cmd = cmd.replace(str(HERE.parent) + "/", "")
        if cmd not in seen:
            seen.add(cmd)
            md.append(f"{p.parent.name}/{p.stem}: {cmd}")
    md.append("```")

    # Keep the section scripts/bench-cel-validate writes (it needs a real server, not run here).
    if OUT.exists():
        kept = re.search(r"<!-- cel-validate:begin.*?<!-- cel-validate:end -->", OUT.read_text(), re.S)
        if kept:
            md += ["", kept.group(0)]
    OUT.write_text("\n".join(md) + "\n")
    print("\n".join(summary))
    print("\ntargets:")
    for t, v, ok in targets:
        print(f"  {'MET ' if ok else 'MISS'}  {t}: {v}")


if __name__ == "__main__":
    main()
