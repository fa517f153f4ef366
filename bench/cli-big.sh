#!/usr/bin/env bash
# Whole `sahih sign` / `sahih verify` processes on the ~108 MB scan (issue 15's file), measured
# with /usr/bin/time (wall time, peak RSS), next to the floor in the same run: `sha256sum` and
# `cp` of the same file. Several builds may be compared in one run (same file, same machine).
# Usage: bash bench/cli-big.sh [BIN ...]   (default: target/release/sahih; ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
BINS=("$@")
[ ${#BINS[@]} -gt 0 ] || { cargo build --release --quiet -p sahih; BINS=("$PWD/target/release/sahih"); }
W="$(mktemp -d /tmp/sahih-cli-big.XXXXXX)"
trap 'rm -rf "$W"' EXIT
# One page holding a 10,000 x 10,800 8-bit grey image, stored uncompressed: 108,000,637 bytes.
python3 - "$W/scan108.pdf" <<'PY'
import os, sys
w, h = 10000, 10800
block = os.urandom(1 << 20)
data = block * (w * h // len(block)) + block[: w * h % len(block)]
objs = [b"<</Type/Catalog/Pages 2 0 R>>", b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</Im0 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceGray/BitsPerComponent 8/Length %d>>stream\n" % (w, h, len(data)) + data + b"\nendstream"]
c = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
objs.append(b"<</Length %d>>stream\n" % len(c) + c + b"\nendstream")
out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"); offs = []
for i, o in enumerate(objs, 1):
    offs.append(len(out)); out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
x = len(out)
out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
for o in offs: out += b"%010d 00000 n \n" % o
out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x)
open(sys.argv[1], "wb").write(out)
PY
export SAHIH_PASSPHRASE=contoh-passphrase-2026
NIK=3171012501850003
cat "$W/scan108.pdf" >/dev/null   # warm the page cache for every contender alike
measure() { # label command...
  local label="$1"; shift
  local best=""
  for _ in $(seq "$ROUNDS"); do
    /usr/bin/time -f "%e %M" -o "$W/t" "$@" >/dev/null 2>"$W/err" || { cat "$W/err"; exit 1; }
    best="$best $(cat "$W/t")"
  done
  # median wall time of the rounds, and the largest peak RSS seen
  python3 - "$label" $best <<'PY'
import sys, statistics
label, v = sys.argv[1], sys.argv[2:]
walls = [float(x) for x in v[0::2]]; rss = [int(x) for x in v[1::2]]
print(f"| {label} | {statistics.median(walls):.2f} s | {max(rss) / 1024:.0f} MB |")
PY
}
echo "file: $(stat -c %s "$W/scan108.pdf") bytes; machine: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); median of $ROUNDS"
echo "| command | wall | peak RSS |"
echo "|---|---|---|"
measure "sha256sum (floor)" sha256sum "$W/scan108.pdf"
measure "cp (floor)" cp "$W/scan108.pdf" "$W/copy.pdf"
for b in "${BINS[@]}"; do
  name="$(basename "$b")"
  rm -rf "$W/d"; "$b" --data "$W/d" demo --no-serve >/dev/null
  for lv in B-B B-LT B-LTA; do
    measure "$name sign --level $lv" "$b" --data "$W/d" sign "$W/scan108.pdf" -o "$W/out-$lv.pdf" --nik "$NIK" --level "$lv" --invisible
    rm -f "$W/out-$lv.pdf"
  done
  "$b" --data "$W/d" sign "$W/scan108.pdf" -o "$W/signed.pdf" --nik "$NIK" --invisible >/dev/null
  measure "$name verify (default level)" "$b" --data "$W/d" verify "$W/signed.pdf"
  rm -f "$W/signed.pdf"
done
