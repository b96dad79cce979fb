#!/usr/bin/env bash
# scripts/fuzz.sh install|run — API fuzzing with schemathesis (from PyPI, pinned) against the OpenAPI
# document the service generates. `run` fuzzes a running service:
#   scripts/fuzz.sh run <base-url> [--seed N] [--max-examples N] [extra schemathesis args…]
# Tokens come from LIVEGIVE_FUZZ_TOKEN (sent as a bearer token on every request).
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
CACHE="${LIVEGIVE_CACHE_DIR:-$HOME/.cache/livegive}"
VENV="$CACHE/schemathesis-$SCHEMATHESIS_VERSION"
ST="$VENV/bin/schemathesis"

log() { printf '[fuzz] %s\n' "$*" >&2; }

install() {
  [ -f "$VENV/.installed" ] && return 0
  command -v python3 >/dev/null || { log "python3 is needed for schemathesis"; exit 1; }
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  "$ST" --version >/dev/null
  touch "$VENV/.installed"
}

case "${1:-}" in
  install) install ;;
  path) echo "$ST" ;;
  run)
    shift
    base="${1:?usage: scripts/fuzz.sh run <base-url> [args…]}"; shift
    install
    auth=()
    [ -n "${LIVEGIVE_FUZZ_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $LIVEGIVE_FUZZ_TOKEN")
    exec "$ST" run "$base/api/v1/openapi.json" --url "$base" --checks all "${auth[@]}" "$@"
    ;;
  *) echo "usage: scripts/fuzz.sh install|path|run <base-url> [args…]" >&2; exit 2 ;;
esac
