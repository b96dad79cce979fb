#!/usr/bin/env bash
# The api's start-up compiled (node dist/main.js, what the image runs) against from source (node --import tsx
# src/main.ts), back to back, RUNS times each: seconds to the first 200 on /healthz, and at that moment the
# process's CPU (utime+stime from /proc) and resident memory. Needs the stack (scripts/stack up) and a build
# (npm run build). Uses namespace LIVEGIVE_NAMESPACE=startup_measure (its own topics, database, Redis keys).
#   RUNS=3 PORT=18090 scripts/measure/startup-compiled.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/main.js ] || { echo "run npm run build first" >&2; exit 1; }
RUNS="${RUNS:-3}"
PORT="${PORT:-18090}"
TICK=$(getconf CLK_TCK)
export LIVEGIVE_ADMIN_TOKEN=measure-admin-token-0123456789 LIVEGIVE_PAYMENT_SECRET=measure-pay-secret-0123456789
export LIVEGIVE_NAMESPACE=startup_measure HOST=127.0.0.1 LIVEGIVE_TOPIC_PARTITIONS=3 LIVEGIVE_LOG_LEVEL=warn PORT

run() {
  local label="$1"; shift
  "$@" >/dev/null 2>&1 &
  local pid=$! t0 t1 stat rss
  t0=$(date +%s.%N)
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; do
    kill -0 "$pid" 2>/dev/null || { echo "$label exited during start-up" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(date +%s.%N)
  read -ra stat < "/proc/$pid/stat"
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  printf '%-9s ready %5.2f s  cpu %5.2f s  rss %4d MB\n' "$label" "$(echo "$t1 - $t0" | bc)" "$(echo "(${stat[13]} + ${stat[14]}) / $TICK" | bc -l)" $((rss / 1024))
  kill -TERM "$pid"; wait "$pid" || true
}

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$RUNS"); do
  run compiled node dist/main.js --role api
  run tsx node --import tsx src/main.ts --role api
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
