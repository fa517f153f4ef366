#!/usr/bin/env python3
"""Latency of signed-in pages, for BENCHMARKS.md: each named path is requested N times in a row
on one keep-alive connection (after 5 warm-up requests) and timed from request to last byte.
Prints p50/p95/p99/max in milliseconds per path and fails on any answer other than 200.
Usage: page_latency.py BASE_URL COOKIE N "label|/path" ..."""
import http.client
import sys
import time
import urllib.parse


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    base, cookie, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    host = urllib.parse.urlparse(base).netloc
    conn = http.client.HTTPConnection(host, timeout=120)
    print(f"{'page':<38} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  bytes")
    for spec in sys.argv[4:]:
        label, path = spec.split("|", 1)
        times, size = [], 0
        for i in range(n + 5):
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie})
            r = conn.getresponse()
            body = r.read()
            dt = (time.perf_counter() - t0) * 1000
            if r.status != 200:
                sys.exit(f"{label}: HTTP {r.status} for {path}: {body[:300]!r}")
            if i >= 5:
                times.append(dt)
                size = len(body)
        print(f"{label:<38} {pct(times, 50):7.2f} {pct(times, 95):7.2f} {pct(times, 99):7.2f} "
              f"{max(times):7.2f}  {size}")


if __name__ == "__main__":
    main()
