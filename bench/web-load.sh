#!/usr/bin/env bash
# The pages under load, for BENCHMARKS.md (issue 12), on SQLite + local documents:
#   1. the inbox page of an official with 10,000 waiting requests (wrk, 1 and 16 connections):
#      latency p50/p95/p99 and throughput; the stylesheet from the same server as the floor of
#      the HTTP stack, measured in the same run;
#   2. 50 concurrent sessions (17 officials, up to 3 sessions each) browsing and signing: each
#      loops over inbox -> open a request -> sign it with the passphrase (bench/web_sessions.py);
#      next to the same signatures through the ECS v2 API at 16 connections (the same
#      pipeline without pages), measured in the same run.
# The 10,000 requests are inserted with SQL (filing them one by one through the API would
# measure the API, not the page); the requests that are signed are filed through the API.
# Usage: bash bench/web-load.sh [SECONDS]   (needs wrk; SAHIH_BENCH_BIN for another build)
set -euo pipefail
cd "$(dirname "$0")/.."
DUR="${1:-15}"
S="${SAHIH_BENCH_BIN:-$PWD/target/release/sahih}"
W="$(mktemp -d /tmp/sahih-web.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
command -v wrk >/dev/null || { echo "wrk not installed"; exit 1; }
[ -n "${SAHIH_BENCH_BIN:-}" ] || cargo build --release --quiet -p sahih
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
D="$W/data"
"$S" --data "$D" init --org "Pemerintah Kota Contoh" --base-url "$URL" >/dev/null
sed -i 's/^portal_per_minute = .*/portal_per_minute = 100000000/' "$D/config.toml"
PASS="Rahasia-Bench-Web-2026"
printf '%s\n' "$PASS" > "$W/pass"; chmod 600 "$W/pass"
N_OFFICIALS=18
for i in $(seq 1 $N_OFFICIALS); do
  n=$(printf %04d "$i")
  "$S" --data "$D" enroll --nik "317101250185$n" --nip "198501252010011$(printf %03d "$i")" --name "Pejabat $i" \
    --email "pejabat$i@contoh.go.id" --position "Kepala Bidang $i" --unit "Dinas $i" \
    --passphrase-file "$W/pass" >/dev/null
done
"$S" --data "$D" serve --listen "127.0.0.1:$PORT" >/dev/null 2>"$W/serve.log" &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done
APP=$("$S" --data "$D" client add bench-app | tail -1)
"$S" --data "$W/seed" demo --no-serve >/dev/null
LETTER="$W/seed/surat-undangan.pdf"

# Accounts and sessions (over HTTP, as a browser posts the forms), requests filed via the API.
"$PY" - "$S" "$D" "$URL" "$APP" "$LETTER" "$N_OFFICIALS" "$PASS" "$W" <<'PY'
import base64, hashlib, hmac, json, re, struct, subprocess, sys, time, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor
S, D, URL, APP, LETTER, N, PASS, W = sys.argv[1:9]
N = int(N)
LOGIN = "Login-Bench-Web-2026!"
letter = open(LETTER, "rb").read()

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(NoRedirect)

def call(method, path, body=None, headers=None):
    req = urllib.request.Request(URL + path, data=body, method=method, headers=headers or {})
    try:
        r = opener.open(req, timeout=60)
    except urllib.error.HTTPError as e:
        r = e
    return r.status, r.headers, r.read().decode(errors="replace")

def totp(secret, offset=0):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    c = int(time.time()) // 30 + offset
    mac = hmac.new(key, struct.pack(">Q", c), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((int.from_bytes(mac[o:o + 4], "big") & 0x7FFFFFFF) % 1000000)

form = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
sessions = []
for i in range(1, N + 1):
    nik = "317101250185%04d" % i
    subprocess.run([S, "--data", D, "account", "invite", "--role", "official", "--nik", nik],
                   check=True, capture_output=True)
    out = subprocess.run([S, "--data", D, "outbox", f"pejabat{i}@contoh.go.id"], check=True,
                         capture_output=True, text=True).stdout
    path = urllib.parse.urlparse(re.findall(r"https?://\S+/akun/atur/[A-Za-z0-9_-]+", out)[-1]).path
    st, h, text = call("POST", path, urllib.parse.urlencode({"password": LOGIN, "password2": LOGIN}).encode(), form)
    assert h.get("Set-Cookie"), (st, path, text[:2000])
    cookie = h.get("Set-Cookie").split(";")[0]
    _, _, page = call("GET", "/akun/2fa", headers={"Cookie": cookie})
    secret = re.search(r'<p class="secret">([A-Z2-7 ]+)</p>', page).group(1).replace(" ", "")
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
    call("POST", "/akun/2fa", urllib.parse.urlencode({"csrf": csrf, "code": totp(secret, -1)}).encode(),
         dict(form, Cookie=cookie))
    cookies = [cookie]
    for off in (0, 1):
        st, h, _ = call("POST", "/masuk", urllib.parse.urlencode(
            {"login": f"pejabat{i}@contoh.go.id", "password": LOGIN, "code": totp(secret, off)}).encode(), form)
        if h.get("Set-Cookie"):
            cookies.append(h.get("Set-Cookie").split(";")[0])
    if i == N:
        json.dump({"cookie": cookies[0], "nik": nik}, open(f"{W}/big.json", "w"))
        continue
    for slot, c in enumerate(cookies):
        sessions.append({"cookie": c, "passphrase": PASS, "nik": nik, "slot": slot,
                         "slots": len(cookies)})
sessions = sessions[:50]
json.dump(sessions, open(f"{W}/sessions.json", "w"))

auth = "Basic " + base64.b64encode(APP.encode()).decode()
def file(nik):
    b = "----bench"
    body = (f'--{b}\r\nContent-Disposition: form-data; name="request"\r\n\r\n'
            + json.dumps({"nik": nik, "message": "Mohon ditandatangani", "placement": {"invisible": True}})
            + f'\r\n--{b}\r\nContent-Disposition: form-data; name="file"; filename="surat.pdf"\r\n'
            'Content-Type: application/pdf\r\n\r\n').encode() + letter + f"\r\n--{b}--\r\n".encode()
    st, _, text = call("POST", "/api/v1/signing-requests", body,
                       {"Authorization": auth, "Content-Type": f"multipart/form-data; boundary={b}"})
    assert st == 201, text
niks = sorted({s["nik"] for s in sessions})
with ThreadPoolExecutor(8) as ex:
    list(ex.map(file, [n for n in niks for _ in range(120)]))
print(f"  {len(sessions)} sessions of {len(niks)} officials, {len(niks) * 120} requests filed")
PY

# 10,000 waiting requests for the last official, inserted with SQL.
"$PY" - "$D/sahih.db" "$W/big.json" "$LETTER" "$D" <<'PY'
import json, os, shutil, sqlite3, sys, time
db, big, letter, data = sys.argv[1:5]
nik = json.load(open(big))["nik"]
con = sqlite3.connect(db)
official = con.execute("SELECT id FROM officials WHERE nik = ?", (nik,)).fetchone()[0]
client = con.execute("SELECT id FROM api_clients LIMIT 1").fetchone()[0]
os.makedirs(f"{data}/documents/requests/bench", exist_ok=True)
shutil.copy(letter, f"{data}/documents/requests/bench/0.pdf")
now = int(time.time())
rows = [(f"bench{i:021d}", client, official, "umum", "{}", f"Permintaan {i}", None, None,
         "pending", now - i) for i in range(10000)]
con.executemany("INSERT INTO signing_requests (id, client_id, official_id, class, options_json, "
                "message, due_at, callback_url, status, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
con.executemany("INSERT INTO signing_request_documents (request_id, idx, file_name, blob_key, "
                "sha256, size) VALUES (?,?,?,?,?,?)",
                [(r[0], 0, f"surat-{i}.pdf", "requests/bench/0.pdf", "0" * 64, 1) for i, r in enumerate(rows)])
con.commit()
print(f"  10,000 waiting requests for NIK {nik}")
PY
COOKIE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cookie"])' "$W/big.json")
curl -sf -H "Cookie: $COOKIE" "$URL/kotak-masuk" | grep -q 'Menunggu (200+)'
cat > "$W/get.lua" <<'LUA'
wrk.method = "GET"
wrk.headers["Cookie"] = os.getenv("COOKIE")
done = function(summary, latency, requests)
  io.write(string.format("  requests %d, non-2xx %d, %.1f req/s\n", summary.requests,
    summary.errors.status, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("  latency p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
LUA
echo "=== GET /kotak-masuk with 10,000 waiting (200 listed), 1 connection, ${DUR}s"
COOKIE="$COOKIE" wrk -t1 -c1 -d"${DUR}s" --timeout 30s -s "$W/get.lua" "$URL/kotak-masuk" | grep -E "^  (requests|latency)"
echo "=== the same, 16 connections, ${DUR}s"
COOKIE="$COOKIE" wrk -t2 -c16 -d"${DUR}s" --timeout 30s -s "$W/get.lua" "$URL/kotak-masuk" | grep -E "^  (requests|latency)"
echo "=== floor, same server: GET /aset/sahih.css, 1 connection, ${DUR}s"
COOKIE="" wrk -t1 -c1 -d"${DUR}s" --timeout 30s -s "$W/get.lua" "$URL/aset/sahih.css" | grep -E "^  (requests|latency)"

echo "=== 50 sessions browsing and signing (inbox -> open -> sign with passphrase), ${DUR}s"
"$PY" bench/web_sessions.py "$URL" "$W/sessions.json" "$DUR"

echo "=== same run, the API door: ECS v2, one letter per request, 16 connections, ${DUR}s"
python3 - "$LETTER" "$W" <<'PY'
import base64, json, sys
pdf = base64.b64encode(open(sys.argv[1], "rb").read()).decode()
json.dump({"nik": "3171012501850001", "passphrase": open(sys.argv[2] + "/pass").read().strip(),
           "signatureProperties": [{"tampilan": "INVISIBLE"}], "file": [pdf]},
          open(sys.argv[2] + "/v2.json", "w"))
PY
cat > "$W/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. os.getenv("AUTH")
done = function(summary, latency, requests)
  io.write(string.format("  requests %d, non-2xx %d, %.1f req/s\n", summary.requests,
    summary.errors.status, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("  latency p50 %.2f ms, p95 %.2f ms, p99 %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
LUA
AUTH=$(printf %s "$APP" | base64 -w0) BODY="$W/v2.json" wrk -t2 -c16 -d"${DUR}s" --timeout 60s -s "$W/post.lua" "$URL/api/v2/sign/pdf" | grep -E "^  (requests|latency)"
