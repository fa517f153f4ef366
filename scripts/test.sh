#!/usr/bin/env bash
# The whole test suite: installs what the tests need (idempotent), checks formatting and lints,
# runs the Rust tests, builds the release binary and runs the end-to-end suite against outside
# validators (pdfsig, pyHanko, qpdf, OpenSSL) on a corpus of real-world PDFs made by real
# producers (pdfTeX, LibreOffice, Chromium, Ghostscript, reportlab, qpdf, pypdf, pyHanko).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo build --release"
cargo build --release --quiet -p sahih-cli
echo "==> cargo test (release profile: shares the build above)"
cargo test --workspace --release --quiet

echo "==> end-to-end tests (pytest)"
export SAHIH_BIN="$PWD/target/release/sahih"
export SAHIH_BIG="${SAHIH_BIG:-1}"
.venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider "$@"
