#!/usr/bin/env python3
"""Closed-loop load on GET /api/search: CLIENTS threads, each with its own keep-alive
connection, send one query after another for SECONDS; prints the latency percentiles of
the answers (every one must be 200) and the throughput. Standard library only.

    bench/search/load.py URL TOKEN QUERY [--clients 20] [--seconds 20] [--warmup 2]

QUERY is the raw `q` value (it is URL-encoded here); extra parameters go in --params.
"""

import argparse
import http.client
import json
import threading
import time
import urllib.parse


def worker(host, port, path, token, stop_at, warm_until, latencies, failures, lock):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    mine = []
    bad = 0
    while True:
        started = time.perf_counter()
        if started >= stop_at:
            break
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            bad += 1
            if bad == 1:
                print(f"status {response.status}: {body[:200]!r}")
        elif started >= warm_until:
            mine.append(elapsed)
    conn.close()
    with lock:
        latencies.extend(mine)
        failures.append(bad)


def percentile(sorted_values, p):
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the server, e.g. http://127.0.0.1:18091")
    parser.add_argument("token")
    parser.add_argument("query")
    parser.add_argument("--params", default="", help="more query parameters, e.g. limit=50")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=2)
    args = parser.parse_args()

    base = urllib.parse.urlsplit(args.url)
    path = f"/api/search?q={urllib.parse.quote(args.query)}"
    if args.params:
        path += f"&{args.params}"

    # One request first, to show what is measured.
    probe = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
    probe.request("GET", path, headers={"Authorization": f"Bearer {args.token}"})
    answer = probe.getresponse()
    body = json.loads(answer.read())
    probe.close()
    if answer.status != 200:
        raise SystemExit(f"probe: {answer.status} {body}")
    print(f"q={args.query!r} {args.params}: {len(body['results'])} results on the first page, has_more={body['has_more']}")

    latencies, failures, lock = [], [], threading.Lock()
    now = time.perf_counter()
    warm_until = now + args.warmup
    stop_at = warm_until + args.seconds
    threads = [
        threading.Thread(
            target=worker,
            args=(base.hostname, base.port, path, args.token, stop_at, warm_until, latencies, failures, lock),
        )
        for _ in range(args.clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    latencies.sort()
    ms = lambda s: f"{s * 1000:.1f} ms"
    print(
        f"{args.clients} clients, {args.seconds:g} s: {len(latencies)} answers "
        f"({len(latencies) / args.seconds:.0f}/s), non-200: {sum(failures)}"
    )
    print(
        f"p50 {ms(percentile(latencies, 50))}  p90 {ms(percentile(latencies, 90))}  "
        f"p99 {ms(percentile(latencies, 99))}  max {ms(latencies[-1])}"
    )


if __name__ == "__main__":
    main()
