#!/usr/bin/env python3
"""The floor of a cluster-wide list: fetch every page of a resource over ONE keep-alive HTTPS
connection, following limit/continue, doing nothing else (`fetch`) or also parsing each page as
JSON (`parse`). It is what any client must at least do; the plugins are measured against it.

Connection details come from the environment (scripts/bench reads them from the kubeconfig):
BENCH_SERVER (https://host:port), BENCH_TOKEN, BENCH_CA (a PEM file).

usage: floor_list.py fetch|parse PATH [LIMIT]     e.g. floor_list.py fetch /apis/apps/v1/replicasets
"""
import http.client
import json
import os
import re
import ssl
import sys
import urllib.parse

CONTINUE = re.compile(rb'"continue":"([^"]*)"')


def main():
    mode, path = sys.argv[1], sys.argv[2]
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    url = urllib.parse.urlsplit(os.environ["BENCH_SERVER"])
    context = ssl.create_default_context(cafile=os.environ["BENCH_CA"])
    conn = http.client.HTTPSConnection(url.hostname, url.port or 443, context=context)
    headers = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"], "Accept": "application/json"}
    pages = items = size = 0
    token = ""
    while True:
        query = {"limit": str(limit)}
        if token:
            query["continue"] = token
        conn.request("GET", path + "?" + urllib.parse.urlencode(query), headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            sys.exit(f"error: GET {path}: HTTP {resp.status}: {body[:200]!r}")
        pages += 1
        size += len(body)
        if mode == "parse":
            page = json.loads(body)
            items += len(page["items"])
            token = page["metadata"].get("continue", "")
        else:
            # The List's metadata comes before its items: the token is in the first bytes.
            m = CONTINUE.search(body, 0, 4096)
            token = m.group(1).decode() if m else ""
        if not token:
            break
    print(f"{pages} pages, {size} bytes" + (f", {items} items" if mode == "parse" else ""))


if __name__ == "__main__":
    main()
