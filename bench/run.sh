#!/usr/bin/env bash
# Runs the signing/verification benchmarks for BENCHMARKS.md: `sahih bench` (in-process, key
# unlocked once) next to pyHanko in-process on the same files, in the same run.
# Usage: bash bench/run.sh [N]   (needs: scripts/install-test-deps.sh done, release build)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
S="$PWD/target/release/sahih"
W="$(mktemp -d /tmp/sahih-bench.XXXXXX)"
SERVER=""
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$W"' EXIT
cargo build --release --quiet -p sahih
echo "==> corpus (letter, 36-page book, 100 MB scan)"
.venv/bin/python tests/corpus/make_corpus.py "$W/corpus" --big >/dev/null
export SAHIH_PASSPHRASE="bench-passphrase-123"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$S" --data "$W/data" init --org "Pemerintah Kota Contoh" --base-url "http://127.0.0.1:$PORT" >/dev/null
"$S" --data "$W/data" enroll --nik 3171012501850003 --nip 198501252010011003 --name "Budi Santoso" \
  --email budi@contoh.go.id --position "Kepala Dinas" --unit Diskominfo --key rsa2048 >/dev/null
source bench/peer-setup.sh

run() { # name file n
  local name="$1" file="$2" n="$3"
  for kind in sign verify; do
    echo "--- $name: $kind (n=$n)"
    echo "sahih:";   "$S" --data "$W/data" bench "$kind" "$file" --nik 3171012501850003 --n "$n" | sed 's/^/  /'
    echo "pyHanko:"; .venv/bin/python bench/pyhanko_peer.py "$kind" "$file" "${PEER[@]}" --n "$n" | sed 's/^/  /'
  done
}
"$S" --data "$W/data" ca export -o "$W/root.pem" >/dev/null
"$S" --data "$W/data" serve --listen "127.0.0.1:$PORT" >/dev/null 2>&1 & SERVER=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d)"
run "1-page letter (reportlab.pdf)" "$W/corpus/reportlab.pdf" "$N"
run "36-page book (book36.pdf)" "$W/corpus/book36.pdf" "$((N / 4))"
ls -l "$W/corpus/scan100mb.pdf" | awk '{print "scan size: " $5 " bytes"}'
run "100 MB scan (scan100mb.pdf)" "$W/corpus/scan100mb.pdf" 3

echo "--- 1-page letter: sign at B-LT (n=$((N / 4)))"
echo "sahih (built-in TSA and OCSP in-process):"
"$S" --data "$W/data" bench sign "$W/corpus/reportlab.pdf" --nik 3171012501850003 --level B-LT --n "$((N / 4))" | sed 's/^/  /'
echo "pyHanko (our TSA and OCSP/CRL over HTTP on loopback):"
.venv/bin/python bench/pyhanko_peer.py sign "$W/corpus/reportlab.pdf" "${PEER[@]}" --n "$((N / 4))" \
  --tsa "http://127.0.0.1:$PORT/tsa" --tsa-root "$W/root.pem" | sed 's/^/  /'
