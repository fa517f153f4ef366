#!/usr/bin/env bash
# Make a SoftHSM2 token for development and tests (idempotent).
#
#   scripts/softhsm-token.sh DIR LABEL PIN SO_PIN
#
# Writes DIR/softhsm2.conf (tokens in DIR/tokens, file object store, errors-only logging) if
# it is missing, and initialises a token labelled LABEL with user PIN PIN and security
# officer PIN SO_PIN if no token has that label yet. Needs softhsm2-util (Debian package
# softhsm2). The last line printed is `export SOFTHSM2_CONF=...`, so that
#   eval "$(scripts/softhsm-token.sh DIR LABEL PIN SO_PIN | tail -1)"
# points SoftHSM at the token. SoftHSM reads SOFTHSM2_CONF when the module is initialised,
# so a process sees only the tokens that existed at that moment.
set -euo pipefail

if [ "$#" -ne 4 ]; then
  echo "usage: $0 DIR LABEL PIN SO_PIN" >&2
  exit 2
fi
DIR=$1 LABEL=$2 PIN=$3 SO_PIN=$4

if ! command -v softhsm2-util >/dev/null 2>&1; then
  echo "softhsm2-util not found: apt-get install -y softhsm2" >&2
  exit 1
fi

mkdir -p "$DIR/tokens"
DIR=$(cd "$DIR" && pwd)
CONF="$DIR/softhsm2.conf"
if [ ! -f "$CONF" ]; then
  cat >"$CONF" <<EOF
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
EOF
fi
export SOFTHSM2_CONF="$CONF"

# softhsm2-util --show-slots prints "Label: <label padded with blanks>" for each token.
if softhsm2-util --show-slots 2>/dev/null \
  | sed -n 's/^[[:space:]]*Label:[[:space:]]*//p' | sed 's/[[:space:]]*$//' \
  | grep -Fxq -- "$LABEL"; then
  echo "SoftHSM2 token '$LABEL' already present in $DIR/tokens"
else
  softhsm2-util --init-token --free --label "$LABEL" --pin "$PIN" --so-pin "$SO_PIN" >/dev/null
  echo "SoftHSM2 token '$LABEL' initialised in $DIR/tokens"
fi
echo "export SOFTHSM2_CONF=$CONF"
