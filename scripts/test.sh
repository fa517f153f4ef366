#!/usr/bin/env bash
# The whole test suite: installs what the tests need (idempotent), checks formatting and lints,
# runs the Rust tests, builds the release binary and runs the end-to-end suite against outside
# validators (pdfsig, pyHanko, qpdf, OpenSSL) on a corpus of real-world PDFs made by real
# producers (pdfTeX, LibreOffice, Chromium, Ghostscript, reportlab, qpdf, pypdf, pyHanko).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

# PostgreSQL for the tests that run on both backends: the local server, else a throwaway one.
PGTMP_FILE=$(mktemp)
SAHIH_TEST_PG_URL=$(bash scripts/ensure-postgres.sh 3>"$PGTMP_FILE")
PGTMP=$(sed -n 's/^PGTMP=//p' "$PGTMP_FILE"); rm -f "$PGTMP_FILE"
if [ -n "$PGTMP" ]; then
  BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  AS=(); [ "$(id -u)" -eq 0 ] && AS=(runuser -u postgres --)
  trap '"${AS[@]}" "$BIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1; rm -rf "$PGTMP"' EXIT
fi
if [ -n "$SAHIH_TEST_PG_URL" ]; then
  export SAHIH_TEST_PG_URL
  echo "==> PostgreSQL for tests: ${SAHIH_TEST_PG_URL}${PGTMP:+ (throwaway server in $PGTMP)}"
else
  unset SAHIH_TEST_PG_URL
  echo "!!! =====================================================================!!!"
  echo "!!! NO POSTGRESQL AVAILABLE: PostgreSQL halves of the tests are SKIPPED  !!!"
  echo "!!! =====================================================================!!!"
fi

echo "==> docs/CLAIMS.md names only tests that exist"
python3 scripts/check-claims.py
echo "==> no module of a crate imports another in a circle"
python3 scripts/check-module-cycles.py
echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> dependency policy (deny.toml: licenses, duplicate versions, sources; advisories need the network)"
cargo deny --log-level error check licenses bans sources
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo doc (warnings denied: broken links and markup in the docs fail)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --quiet
echo "==> cargo build --release"
cargo build --release --quiet -p sahih
echo "==> cargo test (release profile: shares the build above)"
cargo test --workspace --release --quiet

echo "==> end-to-end tests (pytest)"
export SAHIH_BIN="$PWD/target/release/sahih"
export SAHIH_BIG="${SAHIH_BIG:-1}"
.venv/bin/python -m pytest tests/e2e -q -p no:cacheprovider "$@"
