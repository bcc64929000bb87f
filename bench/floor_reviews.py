#!/usr/bin/env python3
"""The floor of many access checks: POST one SelfSubjectAccessReview per check on N concurrent
keep-alive HTTPS connections (threads), as a bare client would. Same environment as
floor_list.py (BENCH_SERVER, BENCH_TOKEN, BENCH_CA), plus BENCH_AS to impersonate a user.

The checks file has one flow mapping per line (`- {verb: get, resource: pods, namespace: x}`),
the format of bench/checks-500.yaml, which `kubectl can-i-batch -f` reads too.

usage: floor_reviews.py post FILE [CONCURRENCY]     a bare client in Python (threads)
       floor_reviews.py curl-config FILE           a curl config for the same reviews, for
                                                   `curl -Z --parallel-max 16 -K CONFIG` (the floor)
       floor_reviews.py kubectl-args FILE          `kubectl auth can-i` arguments, a line per check
       floor_reviews.py generate N USER > FILE     write a checks file
"""
import http.client
import json
import os
import queue
import re
import ssl
import sys
import threading
import urllib.parse

ENTRY = re.compile(r"^- \{(.*)\}\s*$")


def read_checks(path):
    checks = []
    with open(path) as f:
        for line in f:
            m = ENTRY.match(line)
            if m:
                checks.append(dict(kv.strip().split(": ", 1) for kv in m.group(1).split(",")))
    return checks


def kubectl_args(check):
    # `kubectl auth can-i get pods/log` would ask about the pod NAMED log: a subresource is a flag.
    resource = check["resource"] + ("." + check["group"] if check.get("group") else "")
    sub = f' --subresource {check["subresource"]}' if check.get("subresource") else ""
    return f'{check["verb"]} {resource}{sub} -n {check["namespace"]}'


def post(path, concurrency):
    checks = read_checks(path)
    url = urllib.parse.urlsplit(os.environ["BENCH_SERVER"])
    context = ssl.create_default_context(cafile=os.environ["BENCH_CA"])
    headers = {
        "Authorization": "Bearer " + os.environ["BENCH_TOKEN"],
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    if os.environ.get("BENCH_AS"):
        headers["Impersonate-User"] = os.environ["BENCH_AS"]
    work = queue.Queue()
    for c in checks:
        work.put(c)
    allowed = []
    errors = []

    def worker():
        try:
            ask()
        except Exception as e:  # a broken worker must fail the run, not shrink it
            errors.append(repr(e))

    def ask():
        conn = http.client.HTTPSConnection(url.hostname, url.port or 443, context=context)
        while True:
            try:
                c = work.get_nowait()
            except queue.Empty:
                return
            body = review_body(c)
            conn.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body, headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 201:
                errors.append(f"HTTP {resp.status}: {data[:200]!r}")
                continue
            allowed.append(json.loads(data)["status"]["allowed"])

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(f"error: {len(errors)} reviews or workers failed, the first: {errors[0]}")
    print(f"{len(allowed)} checks, {sum(allowed)} allowed")


def review_body(check):
    attrs = {k: check[k] for k in ("verb", "resource", "group", "subresource", "name", "namespace") if check.get(k)}
    return json.dumps({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attrs},
    })


def curl_config(path):
    """One transfer per check, each with its own body; curl runs them in parallel (-Z), over
    HTTP/2 streams when the server offers it, like a client with a connection pool."""
    url = os.environ["BENCH_SERVER"].rstrip("/") + "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    for i, c in enumerate(read_checks(path)):
        if i:
            print("next")
        print(f'url = "{url}"')
        print('request = "POST"')
        print('header = "Content-Type: application/json"')
        print('header = "Accept: application/json"')
        print(f'header = "Authorization: Bearer {os.environ["BENCH_TOKEN"]}"')
        if os.environ.get("BENCH_AS"):
            print(f'header = "Impersonate-User: {os.environ["BENCH_AS"]}"')
        print(f'cacert = "{os.environ["BENCH_CA"]}"')
        print(f"data = {json.dumps(review_body(c))}")
        print('write-out = "%{http_code}\\n"')
        print('output = "/dev/null"')


def generate(n, user):
    """Distinct checks over verbs x resources x namespaces, some allowed for USER, most not."""
    verbs = ["get", "list", "watch", "create", "delete"]
    resources = [
        ("pods", "", ""), ("deployments", "apps", ""), ("replicasets", "apps", ""), ("services", "", ""),
        ("configmaps", "", ""), ("secrets", "", ""), ("pods", "", "log"), ("pods", "", "exec"),
        ("statefulsets", "apps", ""), ("jobs", "batch", ""),
    ]
    print(f"# {n} access checks for kubectl can-i-batch -f (run with --as {user}); generated by")
    print(f"# bench/floor_reviews.py generate {n} {user}")
    count = 0
    ns = 0
    while count < n:
        for verb in verbs:
            for resource, group, sub in resources:
                if count == n:
                    break
                fields = [f"verb: {verb}", f"resource: {resource}"]
                if group:
                    fields.append(f"group: {group}")
                if sub:
                    fields.append(f"subresource: {sub}")
                fields.append(f"namespace: kubeplug-bench-{ns:03}")
                print("- {" + ", ".join(fields) + "}")
                count += 1
        ns += 1


def main():
    cmd = sys.argv[1]
    if cmd == "post":
        post(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 16)
    elif cmd == "curl-config":
        curl_config(sys.argv[2])
    elif cmd == "kubectl-args":
        for c in read_checks(sys.argv[2]):
            print(kubectl_args(c))
    elif cmd == "generate":
        generate(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(f"error: unknown command {cmd!r}")


if __name__ == "__main__":
    main()
