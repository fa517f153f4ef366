#!/usr/bin/env bash
# Installs what the test suite needs, idempotently: Debian packages for the outside
# validators and PDF producers, and a Python venv (.venv) with pyHanko and friends.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  poppler-utils qpdf mupdf-tools openssl libnss3-tools softhsm2 opensc
  ghostscript texlive-latex-base libreoffice-writer-nogui chromium chromium-driver
  fonts-dejavu-core fonts-liberation postgresql-client
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY_REQ=scripts/requirements-test.txt
if [ ! -x .venv/bin/python ] || ! cmp -s "$PY_REQ" .venv/.requirements-installed; then
  echo "==> preparing Python venv (.venv) from $PY_REQ"
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -r "$PY_REQ"
  cp "$PY_REQ" .venv/.requirements-installed
fi
# axe-core (WCAG checks injected by the browser tests), pinned in tests/e2e/package-lock.json.
if [ ! -f tests/e2e/node_modules/axe-core/axe.min.js ] || ! cmp -s tests/e2e/package-lock.json tests/e2e/node_modules/.sahih-installed; then
  echo "==> installing axe-core for the browser tests (npm ci)"
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp tests/e2e/package-lock.json tests/e2e/node_modules/.sahih-installed
fi
# The dependency policy (deny.toml): licenses, duplicate versions, sources. Pinned; built once.
DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -q "$DENY_VERSION"; then
  echo "==> installing cargo-deny $DENY_VERSION (built from crates.io, a few minutes once)"
  CARGO_TARGET_DIR="${TMPDIR:-/tmp}/cargo-deny-build" cargo install --quiet --locked cargo-deny --version "$DENY_VERSION"
fi
echo "==> test dependencies present"
