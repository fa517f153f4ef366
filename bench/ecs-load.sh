#!/usr/bin/env bash
# Load test of the ECS-compatible API with wrk (Debian) on loopback, for BENCHMARKS.md:
#   1. bulk v2 requests, 50 one-page letters each, one passphrase (letters/s = requests/s x 50)
#   2. one request with 1,000 letters (wall time)
#   3. single-letter v2 requests at concurrency 16 (throughput, p50/p99)
#   4. single-letter v1 multipart requests at concurrency 16 (documents kept for download)
# on SQLite + local directory, then PostgreSQL + S3 (moto) when SAHIH_TEST_PG_URL or a local
# server is available; and the Argon2id passphrase check alone (`sahih bench unlock`).
# Usage: bash bench/ecs-load.sh [SECONDS]   (needs scripts/install-test-deps.sh done, wrk)
#        SAHIH_BENCH_BIN=/path/to/sahih bash bench/ecs-load.sh [SECONDS]   (another build, e.g.
#        an earlier commit's, measured the same way; nothing is built)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-20}"
S="${SAHIH_BENCH_BIN:-$PWD/target/release/sahih}"
W="$(mktemp -d /tmp/sahih-load.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }
[ -n "${SAHIH_BENCH_BIN:-}" ] || cargo build --release --quiet -p sahih
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$S" --data "$W/seed" demo --no-serve >/dev/null
LETTER="$W/seed/surat-undangan.pdf"
NIK=3171012501850003; PASS=contoh-passphrase-2026
python3 - "$LETTER" "$W" <<'PY'
import base64, json, sys
pdf = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
w = sys.argv[2]
for n in (1, 50, 1000):
    body = {"nik": "3171012501850003", "passphrase": "contoh-passphrase-2026",
            "signatureProperties": [{"tampilan": "VISIBLE", "page": 1}], "file": [pdf] * n}
    open(f"{w}/v2-{n}.json", "w").write(json.dumps(body))
PY
cat > "$W/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = os.getenv("CTYPE")
wrk.headers["Authorization"] = "Basic " .. os.getenv("AUTH")
LUA
python3 - "$LETTER" "$W" <<'PY'
import sys, uuid
pdf = open(sys.argv[1], "rb").read(); b = "----sahihbench"
parts = [("nik", "3171012501850003"), ("passphrase", "contoh-passphrase-2026"), ("tampilan", "invisible")]
out = b"".join(f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in parts)
out += f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode() + pdf + f"\r\n--{b}--\r\n".encode()
open(f"{sys.argv[2]}/v1.multipart", "wb").write(out)
PY

suite() { # label data-dir [env...]
  local label="$1" data="$2"; shift 2
  local port; port=$(free_port)
  env "$@" "$S" --data "$data" serve --listen "127.0.0.1:$port" >/dev/null 2>"$W/$label.log" &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
  local cred; cred=$(env "$@" "$S" --data "$data" client add "bench-$label" | tail -1)
  export AUTH; AUTH=$(printf %s "$cred" | base64 -w0)
  local url="http://127.0.0.1:$port"
  echo "=== $label"
  echo "--- bulk v2, 50 letters/request, 4 connections, ${DUR}s (letters/s = Requests/sec x 50)"
  BODY="$W/v2-50.json" CTYPE=application/json wrk -t2 -c4 -d"${DUR}s" --timeout 60s -s "$W/post.lua" "$url/api/v2/sign/pdf" | grep -E "Requests/sec|Latency|Non-2xx|requests in"
  echo "--- one request with 1,000 letters"
  for _ in 1 2 3; do
    curl -s -o /dev/null -w "  %{http_code} %{time_total}s\n" -u "$cred" -H "Content-Type: application/json" --data-binary @"$W/v2-1000.json" "$url/api/v2/sign/pdf"
  done
  echo "--- single-letter v2, 16 connections, ${DUR}s"
  BODY="$W/v2-1.json" CTYPE=application/json wrk -t2 -c16 -d"${DUR}s" --latency --timeout 60s -s "$W/post.lua" "$url/api/v2/sign/pdf" | grep -E "Requests/sec| 50%| 99%|Non-2xx|requests in"
  echo "--- single-letter v1 multipart (kept for one download), 16 connections, ${DUR}s"
  BODY="$W/v1.multipart" CTYPE="multipart/form-data; boundary=----sahihbench" wrk -t2 -c16 -d"${DUR}s" --latency --timeout 60s -s "$W/post.lua" "$url/api/sign/pdf" | grep -E "Requests/sec| 50%| 99%|Non-2xx|requests in"
}

echo "=== passphrase check alone (Argon2id m=19456 KiB, t=2, p=1 + AES-256-GCM unseal)"
SAHIH_PASSPHRASE=$PASS "$S" --data "$W/seed" bench unlock "$LETTER" --nik $NIK --n 50
suite sqlite-local "$W/seed"

echo "=== peer, same run: pyHanko in-process signing the same letter at B-LT, one core"
echo "    (our TSA and OCSP over HTTP on loopback; no HTTP API, no passphrase check in front)"
source bench/peer-setup.sh
PPORT=$(free_port)
"$S" --data "$W/seed" serve --listen "127.0.0.1:$PPORT" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PPORT/readyz" >/dev/null && break; sleep 0.1; done
"$S" --data "$W/seed" ca export -o "$W/root.pem" >/dev/null
.venv/bin/python bench/pyhanko_peer.py sign "$LETTER" "${PEER[@]}" --n 100 \
  --tsa "http://127.0.0.1:$PPORT/tsa" --tsa-root "$W/root.pem" | sed 's/^/  /'
echo "    Sahih in-process, same letter, B-LT, one core:"
SAHIH_PASSPHRASE=$PASS "$S" --data "$W/seed" bench sign "$LETTER" --nik $NIK --level B-LT --n 100 | sed 's/^/  /'

PG=$(bash scripts/ensure-postgres.sh 3>/dev/null || true)
MOTO="$PWD/.venv/bin/moto_server"
if [ -n "$PG" ] && [ -x "$MOTO" ]; then
  DB="sahih_load_$$"
  psql "$PG" -qc "CREATE DATABASE $DB"
  PGURL="${PG%/*}/$DB"
  MPORT=$(free_port)
  "$MOTO" -H 127.0.0.1 -p "$MPORT" >/dev/null 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -s "http://127.0.0.1:$MPORT/" >/dev/null && break; sleep 0.2; done
  curl -s -X PUT "http://127.0.0.1:$MPORT/bench" >/dev/null
  E=(SAHIH_DATABASE_URL="$PGURL" SAHIH_BLOB_URL="s3://bench/docs?endpoint=http://127.0.0.1:$MPORT"
     AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=bench)
  env "${E[@]}" "$S" --data "$W/pg" init --base-url http://127.0.0.1:1 >/dev/null
  env "${E[@]}" SAHIH_PASSPHRASE=$PASS "$S" --data "$W/pg" enroll --nik $NIK --nip 198501252010011003 \
    --name "Budi Santoso" --email budi@contoh.go.id --position "Kepala Dinas" --unit Diskominfo >/dev/null
  suite postgres-s3 "$W/pg" "${E[@]}"
  kill "${PIDS[@]}" 2>/dev/null || true; PIDS=()
  sleep 1; psql "$PG" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
else
  echo "!!! PostgreSQL + S3 part SKIPPED (no PostgreSQL or moto_server)"
fi
