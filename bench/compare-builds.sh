#!/usr/bin/env bash
# Two builds side by side on the ECS v2 API (SQLite demo data, B-LT), alternating builds for
# three rounds so machine noise hits both alike. MODE chooses the load:
#   single  single-letter requests, 16 connections, 10 s (requests/s)
#   bulk    50 letters per request, 4 connections, 10 s (letters/s = requests/s x 50)
#   1000    one request with 1,000 letters, three times per round (wall time each)
# Usage: bash bench/compare-builds.sh OLD_SAHIH NEW_SAHIH [MODE]   (needs wrk; MODE: single)
set -euo pipefail
OLD="$1"; NEW="$2"; MODE="${3:-single}"
case "$MODE" in single) N=1; C=16 ;; bulk) N=50; C=4 ;; 1000) N=1000; C=1 ;;
  *) echo "MODE: single, bulk or 1000"; exit 2 ;; esac
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$NEW" --data "$W/seed" demo --no-serve >/dev/null
LETTER="$W/seed/surat-undangan.pdf"
python3 - "$LETTER" "$W" "$N" <<'PY'
import base64, json, sys
pdf = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
body = {"nik": "3171012501850003", "passphrase": "contoh-passphrase-2026",
        "signatureProperties": [{"tampilan": "VISIBLE", "page": 1}], "file": [pdf] * int(sys.argv[3])}
open(f"{sys.argv[2]}/body.json", "w").write(json.dumps(body))
PY
cat > "$W/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. os.getenv("AUTH")
LUA
for round in 1 2 3; do
for b in "$OLD" "$NEW"; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$b" --data "$W/seed" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/readyz >/dev/null && break; sleep 0.1; done
  cred=$("$b" --data "$W/seed" client add "bench-$round-$RANDOM" | tail -1)
  export AUTH=$(printf %s "$cred" | base64 -w0)
  if [ "$MODE" = 1000 ]; then
    r=$(for _ in 1 2 3; do curl -s -o /dev/null -w "%{http_code} %{time_total}s  " -u "$cred" \
      -H 'Content-Type: application/json' --data-binary @"$W/body.json" \
      http://127.0.0.1:$port/api/v2/sign/pdf; done)
  else
    r=$(BODY="$W/body.json" wrk -t2 -c$C -d10s --timeout 60s -s "$W/post.lua" http://127.0.0.1:$port/api/v2/sign/pdf | grep Requests/sec)
  fi
  echo "round $round $MODE $(basename "$b") $r"
  kill $pid; wait $pid 2>/dev/null || true
done
done
