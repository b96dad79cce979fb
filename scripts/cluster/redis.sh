#!/usr/bin/env bash
# scripts/cluster/redis.sh up|down|env — a Redis Cluster of three masters with one replica each on
# 127.0.0.1:7001-7006 (Debian's redis-server, append-only on, cluster-enabled), data in .data/redis-cluster/.
# `env` prints REDIS_CLUSTER_NODES, which points the service at it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${LIVEGIVE_DATA_DIR:-$ROOT/.data}/redis-cluster"
PORTS="${LIVEGIVE_REDIS_CLUSTER_PORTS:-7001 7002 7003 7004 7005 7006}"

log() { printf '[redis-cluster] %s\n' "$*" >&2; }
die() { printf '[redis-cluster] ERROR: %s\n' "$*" >&2; exit 1; }
nodes() { local out=""; for p in $PORTS; do out="$out${out:+,}127.0.0.1:$p"; done; echo "$out"; }
alive() { [ -f "$DIR/$1/pid" ] && kill -0 "$(cat "$DIR/$1/pid")" 2>/dev/null; }

up() {
  command -v redis-server >/dev/null || die "redis-server is not installed (scripts/stack install)"
  for p in $PORTS; do
    mkdir -p "$DIR/$p"
    if alive "$p"; then continue; fi
    # node timeout 3 s: a lost master is replaced by its replica within a few seconds
    redis-server --port "$p" --bind 127.0.0.1 --dir "$DIR/$p" --daemonize yes --pidfile "$DIR/$p/pid" \
      --logfile "$DIR/$p/redis.log" --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 3000 \
      --appendonly yes --appendfsync everysec --save '' --maxmemory 256mb >/dev/null
  done
  for p in $PORTS; do
    for _ in $(seq 1 80); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.25; done
    redis-cli -p "$p" ping >/dev/null 2>&1 || die "redis on $p did not start (see $DIR/$p/redis.log)"
  done
  local first; first=$(echo "$PORTS" | awk '{print $1}')
  if ! redis-cli -p "$first" cluster info | grep -q 'cluster_state:ok'; then
    if [ "$(redis-cli -p "$first" cluster info | awk -F: '/cluster_known_nodes/{print $2}' | tr -d '\r')" = "1" ]; then
      log "creating the cluster"
      # shellcheck disable=SC2046
      redis-cli --cluster create $(for p in $PORTS; do printf '127.0.0.1:%s ' "$p"; done) --cluster-replicas 1 --cluster-yes >/dev/null
    fi
    for _ in $(seq 1 120); do
      redis-cli -p "$first" cluster info | grep -q 'cluster_state:ok' && break; sleep 0.25
    done
  fi
  redis-cli -p "$first" cluster info | grep -q 'cluster_state:ok' || die "cluster did not reach state ok"
  log "up: $(nodes)"
}

down() {
  for p in $PORTS; do
    if alive "$p"; then kill "$(cat "$DIR/$p/pid")"; fi
  done
  for p in $PORTS; do
    for _ in $(seq 1 40); do alive "$p" || break; sleep 0.25; done
  done
  log "stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) echo "REDIS_CLUSTER_NODES=$(nodes)" ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
