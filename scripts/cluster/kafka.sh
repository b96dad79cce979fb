#!/usr/bin/env bash
# scripts/cluster/kafka.sh up|down|env|status|kill N|start N — three KRaft Kafka 3.9.1 nodes (each broker +
# controller) on 127.0.0.1 from the jars scripts/stack install caches: brokers 19092/19094/19096, controllers
# 19093/19095/19097, replication factor 3, min.insync.replicas=2, unclean leader election off, small heaps.
# Data and logs under .data/kafka-cluster/; `kill N` / `start N` (N = 1..3) are for the broker-loss tests.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${LIVEGIVE_DATA_DIR:-$ROOT/.data}/kafka-cluster"
CACHE="${LIVEGIVE_CACHE_DIR:-$HOME/.cache/livegive}"
KAFKA_LIBS="$CACHE/kafka-3.9.1/libs"
HEAP="${LIVEGIVE_CLUSTER_KAFKA_HEAP:-256m}"
NODES=(1 2 3)
broker_port() { echo $((19090 + 2 * $1)); }
controller_port() { echo $((19091 + 2 * $1)); }
brokers() { echo "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096"; }
voters() { echo "1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097"; }

log() { printf '[kafka-cluster] %s\n' "$*" >&2; }
die() { printf '[kafka-cluster] ERROR: %s\n' "$*" >&2; exit 1; }
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
probe() { node "$ROOT/scripts/probe.mjs" kafka "$1" >/dev/null 2>&1; }

configure() {
  local n=$1 dir="$DATA/node$1"
  mkdir -p "$dir/logs"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(voters)
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/logs
num.partitions=1
auto.create.topics.enable=false
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
offsets.topic.replication.factor=3
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
group.initial.rebalance.delay.ms=0
log.retention.hours=168
num.network.threads=2
num.io.threads=2
background.threads=2
num.replica.fetchers=1
PROPS
  cat >"$dir/log4j.properties" <<PROPS
log4j.rootLogger=WARN, file
log4j.logger.kafka=INFO
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$dir/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
  # all three nodes share one cluster id; storage is formatted once and kept across restarts
  java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$dir/log4j.properties" kafka.tools.StorageTool format \
    --cluster-id="$(cat "$DATA/cluster.id")" -c "$dir/server.properties" --ignore-formatted >"$dir/format.log" 2>&1 \
    || { tail -n 20 "$dir/format.log" >&2; die "node $n: storage format failed"; }
}

start_node() {
  local n=$1 dir="$DATA/node$1"
  pid_alive "$DATA/node$n.pid" && return 0
  [ -f "$dir/logs/meta.properties" ] || configure "$n"
  nohup java "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$dir/log4j.properties" -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/stdout.log" 2>&1 &
  echo $! >"$DATA/node$n.pid"
}

wait_node() {
  local n=$1
  for _ in $(seq 1 360); do
    probe "127.0.0.1:$(broker_port "$n")" && return 0
    pid_alive "$DATA/node$n.pid" || { tail -n 30 "$DATA/node$n/server.log" >&2 || true; die "node $n exited during start-up"; }
    sleep 0.25
  done
  die "node $n did not answer in 90 s (see $DATA/node$n/server.log)"
}

stop_node() {
  local n=$1 sig=${2:-TERM} pidfile="$DATA/node$1.pid"
  pid_alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  local pid; pid=$(cat "$pidfile")
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "node $n: stopped ($sig)"
}

node_arg() { case "${1:-}" in 1|2|3) echo "$1" ;; *) die "node must be 1, 2 or 3" ;; esac; }

case "${1:-}" in
  up)
    [ -f "$KAFKA_LIBS/kafka_2.13-3.9.1.jar" ] || "$ROOT/scripts/stack" install
    command -v java >/dev/null || die "Java 17 is needed for Kafka"
    mkdir -p "$DATA"
    [ -f "$DATA/cluster.id" ] || python3 -c 'import uuid,base64;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))' >"$DATA/cluster.id"
    for n in "${NODES[@]}"; do start_node "$n"; done
    for n in "${NODES[@]}"; do wait_node "$n"; done
    log "up: $(brokers) (RF 3, min ISR 2, heap $HEAP each)"
    ;;
  down) for n in "${NODES[@]}"; do stop_node "$n"; done ;;
  kill) n=$(node_arg "${2:-}"); stop_node "$n" KILL ;;
  start) n=$(node_arg "${2:-}"); start_node "$n"; wait_node "$n"; log "node $n: up" ;;
  status) for n in "${NODES[@]}"; do if probe "127.0.0.1:$(broker_port "$n")"; then echo "kafka node $n: up"; else echo "kafka node $n: down"; fi; done ;;
  env) echo "KAFKA_BROKERS=$(brokers)" ;;
  *) echo "usage: scripts/cluster/kafka.sh up|down|env|status|kill N|start N" >&2; exit 2 ;;
esac
