#!/usr/bin/env python3
"""Concurrent people on the pages, for BENCHMARKS.md: N sessions (officials logged in with
password and TOTP) each loop for D seconds over: the inbox list, one waiting request (which
opens it), and signing it with the passphrase through the page form. Prints throughput and
p50/p95/p99 per kind of request. Usage: web_sessions.py BASE_URL SESSIONS_JSON SECONDS"""
import hashlib
import http.client
import json
import re
import statistics
import sys
import threading
import time
import urllib.parse


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    base, sessions_file, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    sessions = json.load(open(sessions_file))
    host = urllib.parse.urlparse(base).netloc
    lat = {"inbox": [], "open": [], "sign": []}
    errors = {"n": 0, "by_kind": {"inbox": 0, "open": 0, "sign": 0}}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def run(s):
        conn = http.client.HTTPConnection(host, timeout=120)
        headers = {"Cookie": s["cookie"]}

        def req(kind, method, path, body=None):
            h = dict(headers)
            if body is not None:
                h["Content-Type"] = "application/x-www-form-urlencoded"
                h["Sec-Fetch-Site"] = "same-origin"
            t0 = time.monotonic()
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            dt = time.monotonic() - t0
            with lock:
                lat[kind].append(dt)
                if r.status >= 400:
                    errors["n"] += 1
                    errors["by_kind"][kind] += 1
            return r.status, data.decode(errors="replace")

        while time.monotonic() < stop:
            status, page = req("inbox", "GET", "/kotak-masuk")
            ids = re.findall(r'href="/kotak-masuk/([a-z2-7]{26})"', page)
            # The sessions of one official take different requests (as people at different
            # desks would), so they do not race to sign the same one.
            mine = [i for i in ids if int(hashlib.sha256(i.encode()).hexdigest(), 16) % s["slots"] == s["slot"]]
            if not mine:
                break
            rid = mine[0]
            status, page = req("open", "GET", f"/kotak-masuk/{rid}")
            csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page)
            if not csrf:
                break
            body = urllib.parse.urlencode({"csrf": csrf.group(1), "passphrase": s["passphrase"]})
            req("sign", "POST", f"/kotak-masuk/{rid}/tandatangani", body)

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    print(f"  {len(sessions)} sessions, {wall:.1f} s, errors {errors['n']} {errors['by_kind']}")
    for kind, values in lat.items():
        ms = [v * 1000 for v in values]
        print(f"  {kind:6} {len(values) / wall:7.1f}/s  p50 {pct(ms, 50):7.1f} ms  "
              f"p95 {pct(ms, 95):7.1f} ms  p99 {pct(ms, 99):7.1f} ms  (n={len(values)})")


if __name__ == "__main__":
    main()
