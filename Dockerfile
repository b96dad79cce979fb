# syntax=docker/dockerfile:1
# One image for every role: `--role api` (the default CMD) or `--role workers`.
# The build stage runs the same commands as CI (.ci/run): npm ci, then npm run build (tsc + the src/ assets
# copied into dist/ by scripts/copy-assets.mjs). The runtime stage holds compiled JavaScript and production
# dependencies only, runs as an unprivileged user, and has tini as PID 1 so SIGTERM reaches the graceful
# shutdown in src/main.ts (stop taking requests, finish in-flight work, commit offsets, close connections).
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.mjs ./scripts/copy-assets.mjs
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# tini: PID 1 that forwards signals and reaps children; the CJK font: PDF statements embed it (render-pdf.ts)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tini fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
# the node image's unprivileged user, by number so Kubernetes' runAsNonRoot can check it; the files stay root's
USER 1000:1000
# 8080: API, WebSocket feed, /healthz, /readyz, /metrics (api role); 9464: LIVEGIVE_OPS_PORT (workers role)
EXPOSE 8080 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/main.js"]
CMD ["--role", "api"]
