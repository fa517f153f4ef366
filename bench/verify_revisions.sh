#!/usr/bin/env bash
# Whole-command `sahih verify` on files with later revisions, next to pyHanko on the same
# files, and (when OLD names another sahih binary) next to that build: the one-page letter at
# B-B (the signature covers the file) and at B-LT (a DSS revision follows, so the modification
# analysis runs), and the letter followed by 3,000 metadata revisions.
# Usage: bash bench/verify_revisions.sh [N] [OLD]   (after scripts/install-test-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-30}"
OLD="${2:-}"
S="$PWD/target/release/sahih"
W="$(mktemp -d /tmp/sahih-bench-rev.XXXXXX)"
trap 'rm -rf "$W"' EXIT
cargo build --release --quiet -p sahih
.venv/bin/python tests/corpus/make_corpus.py "$W/corpus" >/dev/null
export SAHIH_PASSPHRASE="bench-passphrase-123"
"$S" --data "$W/data" init --org "Pemerintah Kota Contoh" --base-url "http://127.0.0.1:9" >/dev/null
"$S" --data "$W/data" enroll --nik 3171012501850003 --nip 198501252010011003 --name "Budi Santoso" \
  --email budi@contoh.go.id --position "Kepala Dinas" --unit Diskominfo --key rsa2048 >/dev/null
"$S" --data "$W/data" ca export -o "$W/root.pem" >/dev/null
for level in B-B B-LT; do
  "$S" --data "$W/data" sign "$W/corpus/reportlab.pdf" -o "$W/letter-$level.pdf" \
    --nik 3171012501850003 --level "$level" >/dev/null
done
# 3,000 revisions after the signature, each rewriting the document information dictionary.
.venv/bin/python - "$W/letter-B-B.pdf" "$W/revisions3000.pdf" <<'PY'
import sys
sys.path.insert(0, "tests/hostile")
from pdfraw import append_revision, last_trailer
data = open(sys.argv[1], "rb").read()
n = last_trailer(data).size + 1
for i in range(3000):
    data = append_revision(data, [(n, b"<< /Producer (Revisi %d) >>" % i)], info=n)
open(sys.argv[2], "wb").write(data)
PY

.venv/bin/python - "$N" "$W" "$S" "$OLD" <<'PY'
import statistics, subprocess, sys, time
n, w, new, old = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
files = [("1-page letter, B-B", "letter-B-B.pdf"), ("1-page letter, B-LT", "letter-B-LT.pdf"),
         ("letter + 3,000 revisions", "revisions3000.pdf")]
def timed(cmd, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, p.returncode, p.stdout
py = f"{sys.executable} tests/e2e/validators.py pyhanko".split()
print(f"| file | sahih verify (this build) | verdict |" + (" sahih verify (OLD) | verdict |" if old else "") + " pyHanko validate |")
print("|---|---|---|" + ("---|---|" if old else "") + "---|")
for label, f in files:
    path = f"{w}/{f}"
    row = [label]
    for binary in [new] + ([old] if old else []):
        ms, rc, out = timed([binary, "verify", path, "--data", f"{w}/data"], n)
        verdict = "SAH" if rc == 0 else f"exit {rc}"
        row += [f"{ms:.1f} ms", verdict]
    ms, rc, _ = timed(py + [path, "--trust", f"{w}/root.pem"], max(3, n // 5))
    row.append(f"{ms:.0f} ms")
    print("| " + " | ".join(row) + " |")
PY
