#!/usr/bin/env bash
# Prints a PostgreSQL admin URL for the tests (to be exported as SAHIH_TEST_PG_URL), or nothing.
#
# 1. SAHIH_TEST_PG_URL already set: use it.
# 2. A server answers on 127.0.0.1:5432 (trust auth, user postgres): use it.
# 3. Else start a throwaway server from the installed binaries (initdb/pg_ctl under
#    /usr/lib/postgresql/*/bin) in a temporary directory on a free port, owned by the
#    `postgres` user when running as root; scripts/test.sh stops it at exit
#    (its data directory is printed to fd 3 as "PGTMP=<dir>").
# Nothing found: prints nothing; the tests then skip their PostgreSQL half with a loud line.
set -uo pipefail

if [ -n "${SAHIH_TEST_PG_URL:-}" ]; then
  echo "$SAHIH_TEST_PG_URL"; exit 0
fi
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 -U postgres; then
  if psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atc "select 1" >/dev/null 2>&1; then
    echo "postgres://postgres@127.0.0.1:5432/postgres"; exit 0
  fi
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  exit 0
fi
DIR=$(mktemp -d /tmp/sahih-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AS=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || exit 0
  chown postgres "$DIR"
  AS=(runuser -u postgres --)
fi
"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U postgres -A trust >/dev/null 2>&1 || exit 0
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1 || exit 0
echo "PGTMP=$DIR" >&3
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
