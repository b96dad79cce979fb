#!/usr/bin/env bash
# scripts/deploy-check.sh install|run — offline checks of the deployment artifacts, with pinned tools cached
# under ~/.cache/livegive (nothing is fetched at check time):
#   - kustomize (built from the Go module proxy) renders deploy/kubernetes/base and every overlay;
#   - kubernetes-validate (PyPI; it ships the Kubernetes JSON schemas) validates what was rendered, strictly
#     (unknown fields refused), against the oldest and newest Kubernetes versions we claim;
#   - promtool (from Debian's prometheus package, extracted: the server is not installed) checks the alert
#     rules, runs their unit tests, and parses every query of the Grafana dashboard;
#   - scripts/docker-check (Go module proxy) reads docker-compose.yml with compose-go, the loader docker compose
#     uses (the compose specification's schema), and the Dockerfile with BuildKit's parser and build checks.
# The metric names themselves are checked against a running instance by test/integration/deploy.metrics.test.ts.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VALIDATE_VERSION=1.37.0
KUSTOMIZE_VERSION=5.5.0
PROMETHEUS_DEB_VERSION=2.42.0+ds-5+deb12u1
K8S_VERSIONS=(1.30.0 1.37.0)
CACHE="${LIVEGIVE_CACHE_DIR:-$HOME/.cache/livegive}"
KV_VENV="$CACHE/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
KV="$KV_VENV/bin/kubernetes-validate"
KUSTOMIZE="$CACHE/kustomize-$KUSTOMIZE_VERSION/bin/kustomize"
PROMTOOL_DIR="$CACHE/promtool-${PROMETHEUS_DEB_VERSION%%+*}"
PROMTOOL="$PROMTOOL_DIR/promtool"

log() { printf '[deploy-check] %s\n' "$*" >&2; }

install() {
  if [ ! -f "$KV_VENV/.installed" ]; then
    command -v python3 >/dev/null || { log "python3 is needed for kubernetes-validate"; exit 1; }
    log "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION into $KV_VENV"
    rm -rf "$KV_VENV"
    python3 -m venv "$KV_VENV"
    "$KV_VENV/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2
    "$KV" --version >/dev/null
    touch "$KV_VENV/.installed"
  fi
  if [ ! -x "$KUSTOMIZE" ]; then
    command -v go >/dev/null || { log "go is needed to build kustomize"; exit 1; }
    log "building kustomize v$KUSTOMIZE_VERSION from the Go module proxy"
    GOBIN="$(dirname "$KUSTOMIZE")" GOFLAGS=-mod=mod go install "sigs.k8s.io/kustomize/kustomize/v5@v$KUSTOMIZE_VERSION"
  fi
  command -v go >/dev/null || { log "go is needed for docker-check"; exit 1; }
  (cd scripts/docker-check && go mod download)
  if [ ! -x "$PROMTOOL" ]; then
    log "extracting promtool from Debian's prometheus $PROMETHEUS_DEB_VERSION"
    local tmp; tmp="$(mktemp -d)"
    # apt-get download runs as _apt where it can: the folder must be writable by it
    chmod 777 "$tmp"
    (cd "$tmp" && { apt-get download "prometheus=$PROMETHEUS_DEB_VERSION" >/dev/null 2>&1 || { apt-get update -qq && apt-get download "prometheus=$PROMETHEUS_DEB_VERSION" >/dev/null; }; })
    dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
    mkdir -p "$PROMTOOL_DIR"
    cp "$tmp/x/usr/bin/promtool" "$PROMTOOL"
    rm -rf "$tmp"
    "$PROMTOOL" --version >/dev/null
  fi
}

# kubernetes-validate answers 0 for a kind it has no schema for (a WARN): here anything but INFO fails
validate() {
  local name="$1" file="$2" out k
  for k in "${K8S_VERSIONS[@]}"; do
    out="$("$KV" --strict -k "$k" "$file" 2>&1)" || { printf '%s\n' "$out" >&2; log "FAIL $name against Kubernetes $k"; return 1; }
    if printf '%s\n' "$out" | grep -v '^INFO ' | grep -q .; then printf '%s\n' "$out" >&2; log "FAIL $name against Kubernetes $k"; return 1; fi
    log "ok: $name: $(printf '%s\n' "$out" | grep -c '^INFO ') resources valid against Kubernetes $k (strict)"
  done
}

run() {
  install
  local tmp; tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  local dir name
  for dir in deploy/kubernetes/base deploy/kubernetes/overlays/*/; do
    dir="${dir%/}"
    name="${dir#deploy/kubernetes/}"
    "$KUSTOMIZE" build "$dir" > "$tmp/${name//\//_}.yaml"
    validate "$name" "$tmp/${name//\//_}.yaml"
  done
  "$PROMTOOL" check rules deploy/prometheus/alerts.yml >&2
  "$PROMTOOL" test rules deploy/prometheus/alerts.test.yml >&2
  # every dashboard query, with Grafana's interval variable replaced, as recording rules promtool can parse
  node -e '
    const d = require("./deploy/grafana/livegive.json");
    const exprs = d.panels.flatMap((p) => (p.targets || []).map((t) => t.expr));
    if (!exprs.length) { console.error("no queries in the dashboard"); process.exit(1); }
    const rules = exprs.map((e, i) => `      - record: livegive_dashboard_query_${i}\n        expr: ${JSON.stringify(e.replace(/\$__rate_interval/g, "5m"))}`);
    console.log(`groups:\n  - name: dashboard\n    rules:\n${rules.join("\n")}`);
  ' > "$tmp/dashboard-rules.yml"
  "$PROMTOOL" check rules "$tmp/dashboard-rules.yml" >&2
  # placeholders for the two variables compose requires (${VAR:?}); nothing runs
  (cd scripts/docker-check && LIVEGIVE_ADMIN_TOKEN=compose-check-placeholder LIVEGIVE_PAYMENT_SECRET=compose-check-placeholder go run . compose ../../docker-compose.yml) >&2
  log "ok: docker-compose.yml loads as docker compose loads it"
  (cd scripts/docker-check && go run . dockerfile ../../Dockerfile) >&2
  log "ok: the Dockerfile parses and passes BuildKit's parse-time build checks"
  log "all deployment checks passed"
}

case "${1:-}" in
  install) install ;;
  run) run ;;
  *) echo "usage: scripts/deploy-check.sh install|run" >&2; exit 2 ;;
esac
