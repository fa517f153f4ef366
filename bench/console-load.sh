#!/usr/bin/env bash
# The staff consoles under load, for BENCHMARKS.md (issue 13), on PostgreSQL:
#   1. the audit page (/admin/audit) over 1,000,000 entries: the newest page, filtered by action,
#      by actor, by official (NIK), by a date range, and a page deep in the log;
#   2. the dashboard (/admin) over a year of data: 182,500 signatures (500 a day) by 30 officials
#      in 30 units and four document classes, plus the refusals among the audit entries; for the
#      default 30 days and for the whole year.
# Each page is requested sequentially on one keep-alive connection (bench/page_latency.py) and
# timed from request to last byte; the stylesheet from the same server, measured in the same run,
# is the floor of the HTTP stack. The entries and signatures are inserted with SQL (making them
# one by one would measure signing, not the pages); the audit chain is not valid afterwards,
# which the pages do not check unless asked.
# Usage: bash bench/console-load.sh [REQUESTS]   (needs PostgreSQL at SAHIH_BENCH_PG_URL or
#        postgres://postgres@127.0.0.1:5432/postgres; SAHIH_BENCH_BIN for another build)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
S="${SAHIH_BENCH_BIN:-$PWD/target/release/sahih}"
ADMIN_URL="${SAHIH_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="sahih_bench_console_$$"
DB_URL="${ADMIN_URL%/*}/$DB"
W="$(mktemp -d /tmp/sahih-console.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -n "${SAHIH_BENCH_KEEP:-}" ] || psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
[ -n "${SAHIH_BENCH_BIN:-}" ] || cargo build --release --quiet -p sahih
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3

psql -q "$ADMIN_URL" -c "CREATE DATABASE $DB" >/dev/null
export SAHIH_DATABASE_URL="$DB_URL"
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
D="$W/data"
"$S" --data "$D" init --org "Pemerintah Kota Contoh" --base-url "$URL" >/dev/null
PASS="Rahasia-Bench-Konsol-2026"
printf '%s\n' "$PASS" > "$W/pass"; chmod 600 "$W/pass"
echo "== enrolling 30 officials in 30 units"
for i in $(seq 1 30); do
  n=$(printf %04d "$i")
  "$S" --data "$D" enroll --nik "317101250185$n" --nip "198501252010011$(printf %03d "$i")" \
    --name "Pejabat $i" --email "pejabat$i@contoh.go.id" --position "Kepala Bidang $i" \
    --unit "Dinas Contoh $i" --passphrase-file "$W/pass" >/dev/null
done

echo "== inserting 182,500 signatures and 1,000,000 audit entries"
psql -q "$DB_URL" <<'SQL'
INSERT INTO signed_documents (id, sha256_hex, official_id, certificate_id, signed_at, field_name,
                              file_name, level, class)
SELECT 'bench' || g, md5(g::text) || md5((g + 1)::text), o.id, c.id,
       extract(epoch FROM now())::bigint - (g % 365) * 86400 - (g % 86400),
       'Signature1', 'surat.pdf', 'B-LT',
       (ARRAY['surat-dinas', 'nota-dinas', 'sk', 'undangan'])[1 + g % 4]
FROM generate_series(1, 182500) g
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM officials) o ON o.k = g % 30
JOIN LATERAL (SELECT MAX(id) AS id FROM certificates WHERE official_id = o.id) c ON true;

INSERT INTO audit_log (seq, at_micros, action, actor, client, document_sha256, result, detail,
                       prev_hash, hash)
SELECT s.seq + g,
       (extract(epoch FROM now())::bigint - 365 * 86400 + g * 31) * 1000000,
       CASE WHEN g % 50 = 0 THEN 'sign.refused'
            WHEN g % 37 = 0 THEN 'passphrase.wrong'
            WHEN g % 5 = 0 THEN 'account.login'
            ELSE 'sign' END,
       CASE WHEN g % 5 = 0 AND g % 37 <> 0 AND g % 50 <> 0 THEN 'account:' || (g % 40)
            ELSE 'nik:317101250185' || lpad((1 + g % 30)::text, 4, '0') END,
       'e-office', md5(g::text) || md5((g + 7)::text),
       CASE WHEN g % 50 = 0 OR g % 37 = 0 THEN 'refused' ELSE 'ok' END,
       CASE WHEN g % 50 = 0 THEN 'class=keuangan: dilarang'
            ELSE 'class=surat-dinas level=B-LT id=bench' || g END,
       md5((g - 1)::text) || md5(g::text), md5(g::text) || md5((g - 1)::text)
FROM generate_series(1, 1000000) g, (SELECT seq FROM audit_head WHERE id = 1) s;
UPDATE audit_head SET seq = (SELECT MAX(seq) FROM audit_log),
                      hash = (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1) WHERE id = 1;
VACUUM ANALYZE;
SQL

"$S" --data "$D" serve --listen "127.0.0.1:$PORT" >/dev/null 2>"$W/serve.log" &
PIDS+=($!)
for _ in $(seq 100); do curl -sf "$URL/readyz" >/dev/null && break; sleep 0.1; done

# An administrator's session, as a browser makes it.
COOKIE=$("$PY" - "$S" "$D" "$URL" <<'PY'
import base64, hashlib, hmac, re, struct, subprocess, sys, time, urllib.parse, urllib.request
S, D, URL = sys.argv[1:4]
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
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30 + offset), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((int.from_bytes(mac[o:o + 4], "big") & 0x7FFFFFFF) % 1000000)
subprocess.run([S, "--data", D, "account", "invite", "--role", "admin", "--email",
                "admin@contoh.go.id", "--name", "Admin Bench"], check=True, capture_output=True)
out = subprocess.run([S, "--data", D, "outbox", "admin@contoh.go.id"], check=True,
                     capture_output=True, text=True).stdout
path = urllib.parse.urlparse(re.findall(r"https?://\S+/akun/atur/[A-Za-z0-9_-]+", out)[-1]).path
form = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
pw = "Login-Bench-Konsol-2026!"
_, h, _ = call("POST", path, urllib.parse.urlencode({"password": pw, "password2": pw}).encode(), form)
cookie = h.get("Set-Cookie").split(";")[0]
_, _, page = call("GET", "/akun/2fa", headers={"Cookie": cookie})
secret = re.search(r'<p class="secret">([A-Z2-7 ]+)</p>', page).group(1).replace(" ", "")
csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
call("POST", "/akun/2fa", urllib.parse.urlencode({"csrf": csrf, "code": totp(secret)}).encode(),
     dict(form, Cookie=cookie))
print(cookie)
PY
)
DEEP=$(psql -qtA "$DB_URL" -c "SELECT MAX(seq) - 600000 FROM audit_log")
echo "== $N sequential requests per page, one keep-alive connection (ms)"
"$PY" bench/page_latency.py "$URL" "$COOKIE" "$N" \
  "stylesheet (HTTP floor)|/aset/sahih.css" \
  "audit, newest page|/admin/audit" \
  "audit, action sign.refused|/admin/audit?aksi=sign.refused" \
  "audit, actor account:10|/admin/audit?pelaku=account:10" \
  "audit, official NIK|/admin/audit?nik=3171012501850007" \
  "audit, 30 days|/admin/audit?dari=$(date -d '-30 days' +%F)&sampai=$(date +%F)" \
  "audit, 600,000 entries back|/admin/audit?sebelum=$DEEP" \
  "dashboard, 30 days|/admin" \
  "dashboard, 365 days|/admin?periode=365"
