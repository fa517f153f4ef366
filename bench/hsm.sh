#!/usr/bin/env bash
# Signing with an official's key in a PKCS#11 token (SoftHSM2) next to the same signing with a
# software key, and pyHanko (software key) as the peer, in one run, on the 1-page letter.
# Usage: bash bench/hsm.sh [N]   (needs: scripts/install-test-deps.sh done)
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-200}"
S="$PWD/target/release/sahih"
W="$(mktemp -d /tmp/sahih-bench-hsm.XXXXXX)"
trap 'rm -rf "$W"' EXIT
cargo build --release --quiet -p sahih
.venv/bin/python tests/corpus/make_corpus.py "$W/corpus" >/dev/null
eval "$(bash scripts/softhsm-token.sh "$W/hsm" bench-token 123456 654321 | tail -1)"
export SAHIH_HSM_PIN=123456 SAHIH_PASSPHRASE="bench-passphrase-123"
"$S" --data "$W/data" init --org "Pemerintah Kota Contoh" --base-url "http://127.0.0.1:9" >/dev/null
"$S" --data "$W/data" enroll --nik 3171012501850003 --nip 198501252010011003 --name "Budi Santoso" \
  --email budi@contoh.go.id --position "Kepala Dinas" --unit Diskominfo --key rsa2048 >/dev/null
sed -i 's/^backend = "software"/backend = "pkcs11"/; s/^token_label = .*/token_label = "bench-token"/' "$W/data/config.toml"
"$S" --data "$W/data" enroll --nik 3171012501850004 --nip 198501252010011004 --name "Siti Aminah" \
  --email siti@contoh.go.id --position "Sekretaris" --unit Diskominfo --key rsa2048 >/dev/null
source bench/peer-setup.sh
echo "machine: $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%d); 1-page letter, PAdES B-B, RSA-2048, n=$N"
echo "sahih, software key:";    "$S" --data "$W/data" bench sign "$W/corpus/reportlab.pdf" --nik 3171012501850003 --n "$N" | sed 's/^/  /'
echo "sahih, SoftHSM2 key:";    "$S" --data "$W/data" bench sign "$W/corpus/reportlab.pdf" --nik 3171012501850004 --n "$N" | sed 's/^/  /'
echo "pyHanko, software key:";  .venv/bin/python bench/pyhanko_peer.py sign "$W/corpus/reportlab.pdf" "${PEER[@]}" --n "$N" | sed 's/^/  /'
echo "passphrase check + key, software:"; "$S" --data "$W/data" bench unlock "$W/corpus/reportlab.pdf" --nik 3171012501850003 --n 20 | sed 's/^/  /'
echo "passphrase check + key, SoftHSM2:"; "$S" --data "$W/data" bench unlock "$W/corpus/reportlab.pdf" --nik 3171012501850004 --n 20 | sed 's/^/  /'
