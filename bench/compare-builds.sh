#!/usr/bin/env bash
# Two builds side by side: single-letter ECS v2 requests (16 connections, 10 s, SQLite demo
# data) against each build in turn, three rounds, so machine noise hits both alike.
# Usage: bash bench/compare-builds.sh OLD_SAHIH NEW_SAHIH   (needs wrk)
set -euo pipefail
OLD="$1"; NEW="$2"
W=$(mktemp -d)
"$NEW" --data "$W/seed" demo --no-serve >/dev/null
LETTER="$W/seed/surat-undangan.pdf"
python3 - "$LETTER" "$W" <<'PY'
import base64, json, sys
pdf = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
body = {"nik": "3171012501850003", "passphrase": "contoh-passphrase-2026",
        "signatureProperties": [{"tampilan": "VISIBLE", "page": 1}], "file": [pdf]}
open(f"{sys.argv[2]}/v2-1.json", "w").write(json.dumps(body))
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
  r=$(BODY="$W/v2-1.json" wrk -t2 -c16 -d10s --timeout 60s -s "$W/post.lua" http://127.0.0.1:$port/api/v2/sign/pdf | grep Requests/sec)
  echo "round $round $b $r"
  kill $pid; wait $pid 2>/dev/null || true
done
done
rm -rf "$W"
