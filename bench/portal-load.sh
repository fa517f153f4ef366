#!/usr/bin/env bash
# The public verification portal under load, for BENCHMARKS.md (issue 12: "portal verification
# of the one-page letter, server time p95 <= 20 ms"):
#   1. POST /verifikasi (multipart, the demo's signed one-page letter at B-LT), 1 connection:
#      per-request latency p50/p95/p99 on loopback (the server's time plus loopback);
#   2. the same at 16 connections: throughput;
#   3. POST /api/v1/verify (the native API door, same core function), 1 connection;
#   4. GET /v/{id} (the QR record page), 16 connections;
#   5. peers in the same run, whole commands on the same file (hyperfine): `sahih verify` and
#      poppler's `pdfsig`.
# Usage: bash bench/portal-load.sh [SECONDS]   (needs wrk and hyperfine from Debian)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-15}"
S="${SAHIH_BENCH_BIN:-$PWD/target/release/sahih}"
W="$(mktemp -d /tmp/sahih-portal.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
for t in wrk hyperfine pdfsig; do command -v $t >/dev/null || { echo "$t not installed"; exit 1; }; done
[ -n "${SAHIH_BENCH_BIN:-}" ] || cargo build --release --quiet -p sahih
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$S" --data "$W/seed" demo --no-serve >/dev/null
SIGNED="$W/seed/surat-undangan-ttd.pdf"
# The portal's per-address limit would cut the load generator off; lift it for the benchmark.
sed -i 's/^portal_per_minute = .*/portal_per_minute = 100000000/' "$W/seed/config.toml"
grep -q '^portal_per_minute = 100000000' "$W/seed/config.toml"
PORT=$(free_port)
"$S" --data "$W/seed" serve --listen "127.0.0.1:$PORT" >/dev/null 2>"$W/serve.log" &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$PORT"
CRED=$("$S" --data "$W/seed" client add bench-portal | tail -1)
export AUTH; AUTH=$(printf %s "$CRED" | base64 -w0)

python3 - "$SIGNED" "$W" <<'PY'
import sys
pdf = open(sys.argv[1], "rb").read(); b = "----sahihportal"
out = f'--{b}\r\nContent-Disposition: form-data; name="lang"\r\n\r\nid\r\n'.encode()
out += f'--{b}\r\nContent-Disposition: form-data; name="berkas"; filename="surat.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode() + pdf + f"\r\n--{b}--\r\n".encode()
open(f"{sys.argv[2]}/portal.multipart", "wb").write(out)
PY
cat > "$W/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = os.getenv("METHOD") or "POST"
wrk.headers["Content-Type"] = os.getenv("CTYPE")
if os.getenv("AUTH") and os.getenv("WITH_AUTH") then
  wrk.headers["Authorization"] = "Basic " .. os.getenv("AUTH")
end
done = function(summary, latency, requests)
  io.write(string.format("  requests %d, non-2xx %d, %.1f req/s\n", summary.requests,
    summary.errors.status, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("  latency p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
LUA
# Sanity: the portal answers SAH for this file.
curl -s -H "Content-Type: multipart/form-data; boundary=----sahihportal" --data-binary @"$W/portal.multipart" "$URL/verifikasi" | grep -q '>SAH<'

echo "=== POST /verifikasi, one-page letter (B-LT), 1 connection, ${DUR}s"
BODY="$W/portal.multipart" CTYPE="multipart/form-data; boundary=----sahihportal" \
  wrk -t1 -c1 -d"${DUR}s" --timeout 30s -s "$W/post.lua" "$URL/verifikasi" | grep -E "^  (requests|latency)"
echo "=== POST /verifikasi, 16 connections, ${DUR}s"
BODY="$W/portal.multipart" CTYPE="multipart/form-data; boundary=----sahihportal" \
  wrk -t2 -c16 -d"${DUR}s" --timeout 30s -s "$W/post.lua" "$URL/verifikasi" | grep -E "^  (requests|latency)"
echo "=== POST /api/v1/verify (native API, same core function, JSON report), 1 connection, ${DUR}s"
BODY="$SIGNED" CTYPE="application/pdf" WITH_AUTH=1 \
  wrk -t1 -c1 -d"${DUR}s" --timeout 30s -s "$W/post.lua" "$URL/api/v1/verify" | grep -E "^  (requests|latency)"
echo "=== GET /v/{id} (QR record page), 16 connections, ${DUR}s"
REC=$(python3 - "$W/seed/sahih.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1]).execute("SELECT id FROM signed_documents LIMIT 1").fetchone()[0])
PY
)
: > "$W/empty"
BODY="$W/empty" METHOD=GET CTYPE="text/plain" \
  wrk -t2 -c16 -d"${DUR}s" --timeout 30s -s "$W/post.lua" "$URL/v/$REC" | grep -E "^  (requests|latency)"

echo "=== peers, same run, whole commands on the same file (hyperfine)"
"$S" --data "$W/seed" ca export -o "$W/root.pem" >/dev/null
hyperfine -N -w 3 -r 30 --export-markdown "$W/peers.md" \
  "$S --data $W/seed verify $SIGNED" \
  "pdfsig $SIGNED" >/dev/null
sed "s|$W/seed/||g; s|$S|sahih|g; s|$W||g" "$W/peers.md"
