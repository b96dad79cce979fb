import http from 'node:http';
import { Command } from 'commander';
import { loadConfig, ConfigError } from './config';
import { createDeps, closeDeps, Deps } from './deps';
import { buildApp, Stoppable } from './app';
import { slices } from './slices';
import { createLogger } from './infra/logger';
import { buildOpsApp } from './ops/ops-app';

type Role = 'api' | 'workers' | 'all';

export interface Running { deps: Deps; server?: http.Server; port?: number; stop(): Promise<void> }

/** Starts the processes of a role in this process; stop() shuts them down gracefully. */
export async function start(role: Role, env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const config = loadConfig(env);
  const logger = createLogger(config.logLevel, { role });
  const deps = await createDeps(config, { logger, clientId: `livegive-${role}-${process.pid}`, registerModels: (c) => slices.forEach((s) => s.models?.(c)) });
  const stoppables: Stoppable[] = [];
  let server: http.Server | undefined;
  let port: number | undefined;
  if (role === 'workers' || role === 'all') {
    for (const s of slices) if (s.workers) stoppables.push(await s.workers(deps));
  }
  let readinessClose: (() => Promise<void>) | undefined;
  if (role === 'api' || role === 'all') {
    const { app, readiness } = buildApp(deps, slices);
    readinessClose = () => readiness.close();
    server = http.createServer(app);
    server.keepAliveTimeout = 65_000;
    for (const s of slices) if (s.attach) stoppables.push(await s.attach(server, deps));
    for (const s of slices) if (s.background) stoppables.push(await s.background(deps));
    await new Promise<void>((resolve) => server!.listen(config.http.port, config.http.host, resolve));
    port = (server.address() as { port: number }).port;
    logger.info({ port }, 'listening');
  }
  if (role === 'workers' && config.http.opsPort !== undefined) {
    // probes and scrapes only: workers serve no API
    const ops = buildOpsApp(deps);
    readinessClose = () => ops.readiness.close();
    server = http.createServer(ops.app);
    await new Promise<void>((resolve) => server!.listen(config.http.opsPort, config.http.host, resolve));
    port = (server.address() as { port: number }).port;
    logger.info({ port }, 'workers: /healthz, /readyz and /metrics listening');
  }
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= (async () => {
    deps.state.closing = true;
    // stop taking requests first, then finish in-flight work, commit offsets, close connections
    const closed = server ? new Promise<void>((r) => server!.close(() => r())) : Promise.resolve();
    server?.closeIdleConnections();
    for (const s of stoppables.reverse()) await s.stop().catch((err) => logger.error({ err }, 'stop failed'));
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5000).unref())]);
    await readinessClose?.();
    await closeDeps(deps);
    logger.info('stopped');
  })());
  return { deps, server, port, stop };
}

async function cli(): Promise<void> {
  const program = new Command()
    .name('livegive')
    .option('--role <role>', 'api | workers | all', 'all')
    .option('--demo', 'seed a demo stream and run a simulated audience (all-in-one only)')
    .parse();
  const opts = program.opts<{ role: string; demo?: boolean }>();
  if (!['api', 'workers', 'all'].includes(opts.role)) {
    console.error(`livegive: --role must be api, workers or all (got "${opts.role}")`);
    process.exit(2);
  }
  let running: Running;
  try {
    running = await start(opts.role as Role);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`livegive: ${err.message}`);
      process.exit(78);
    }
    throw err;
  }
  if (opts.demo && running.port !== undefined) {
    const { runDemo } = await import('./demo/run-demo');
    await runDemo(running);
  }
  const shutdown = (signal: string) => {
    running.deps.logger.info({ signal }, 'shutting down');
    running.stop().then(() => process.exit(0), () => process.exit(1));
    setTimeout(() => process.exit(1), 20_000).unref();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  cli().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
