#!/usr/bin/env bash
# Measures FerretDB's SQLite and PostgreSQL backends side by side under concurrent batched writes
# (the projection's and the allocator's write pattern), in one run on this machine.
# Usage: scripts/measure/ferretdb-backends.sh   (needs Debian's postgresql server and the FerretDB build)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
FDB="${LIVEGIVE_CACHE_DIR:-$HOME/.cache/livegive}/ferretdb-v1.24.2/ferretdb"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
TMP=$(mktemp -d); chown postgres "$TMP"
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; su postgres -c "$PGBIN/pg_ctl -D $TMP/pg stop -m fast" >/dev/null 2>&1 || true; rm -rf "$TMP"; }
PIDS=(); trap cleanup EXIT
su postgres -c "$PGBIN/initdb -D $TMP/pg -U postgres --auth=trust" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $TMP/pg -o '-p ${PGPORT:-55433} -k $TMP -c fsync=on' -l $TMP/pg.log start -w -t 120" >/dev/null
su postgres -c "$PGBIN/createdb -h 127.0.0.1 -p ${PGPORT:-55433} -U postgres ferretdb"
mkdir -p "$TMP/sqlite"
"$FDB" --listen 127.0.0.1:47017 --handler sqlite --sqlite-url "file:$TMP/sqlite/" >"$TMP/f1.log" 2>&1 & PIDS+=($!)
"$FDB" --listen 127.0.0.1:47018 --handler postgresql --postgresql-url "postgres://postgres@127.0.0.1:${PGPORT:-55433}/ferretdb" >"$TMP/f2.log" 2>&1 & PIDS+=($!)
for p in 47017 47018; do for _ in $(seq 1 80); do node "$ROOT/scripts/probe.mjs" mongo "mongodb://127.0.0.1:$p/x" && break; sleep 0.25; done; done
cd "$ROOT" && node_modules/.bin/tsx scripts/measure/ferretdb-writes.ts sqlite=mongodb://127.0.0.1:47017/m postgresql=mongodb://127.0.0.1:47018/m
