import { spawn, ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import Redis from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import type { loadConfig } from '../../src/config';
import { BenchClient } from './http';
import { deleteKeys } from './baselines';

/** A process the bench started (the service roles or the bare express baseline). */
export interface Child { name: string; proc: ChildProcess; port?: number; exited: Promise<number | null> }

export const ROOT = path.resolve(__dirname, '..', '..');

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs a TypeScript entry point as a child node process (tsx as a loader, so the pid is the real
 * process and --cpu-prof profiles it), its output going to a log file.
 */
export function spawnTs(name: string, entry: string, args: string[], env: NodeJS.ProcessEnv, opts: { logDir: string; profileDir?: string; port?: number; cwd?: string }): Child {
  // one folder per process: the tsx loader runs in a worker thread that writes a profile of its own
  const nodeArgs = opts.profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(opts.profileDir, name)] : [];
  // e.g. BENCH_NODE_ARGS='--trace-deopt' (V8 flags that NODE_OPTIONS refuses), for every service process
  if (process.env.BENCH_NODE_ARGS) nodeArgs.push(...process.env.BENCH_NODE_ARGS.split(/\s+/).filter(Boolean));
  const log = fs.openSync(path.join(opts.logDir, `${name}.log`), 'a');
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry, ...args], { cwd: opts.cwd ?? ROOT, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { name, proc, port: opts.port, exited };
}

/** Polls a URL path until it answers 200 (or the child dies, or the time is up). */
export async function waitHttpOk(child: Child, urlPath: string, timeoutMs = 90_000): Promise<void> {
  const client = new BenchClient(child.port!, 2, 2000);
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void child.exited.then(() => { dead = true; });
  try {
    while (Date.now() < deadline && !dead) {
      const r = await client.request('GET', urlPath);
      if (r.status === 200) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${child.name} ${dead ? 'exited' : 'did not answer 200'} on ${urlPath} (see its log)`);
  } finally {
    client.close();
  }
}

/** Resident memory in bytes of a process and its descendants, read from /proc (0 if gone). */
export function rssBytes(pid: number): number {
  const kids = new Map<number, number[]>();
  for (const d of safeReaddir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = safeRead(`/proc/${d}/stat`);
    const m = stat && /\) \S (\d+)/.exec(stat);
    if (m) kids.set(Number(m[1]), [...(kids.get(Number(m[1])) ?? []), Number(d)]);
  }
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop()!;
    const status = safeRead(`/proc/${p}/status`);
    const m = status && /VmRSS:\s+(\d+) kB/.exec(status);
    if (m) total += Number(m[1]) * 1024;
    stack.push(...(kids.get(p) ?? []));
  }
  return total;
}

/** SIGTERM, then SIGKILL if the child has not exited after graceMs; answers its exit code. */
export async function stopChild(child: Child, graceMs = 25_000): Promise<number | null> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return child.proc.exitCode;
  child.proc.kill('SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
  const first = await Promise.race([child.exited, timer]);
  if (first !== 'timeout') return first;
  child.proc.kill('SIGKILL');
  return child.exited;
}

function safeReaddir(p: string): string[] {
  try { return fs.readdirSync(p); } catch { return []; }
}
function safeRead(p: string): string | null {
  try { return fs.readFileSync(p, 'utf8'); } catch { return null; }
}

/** Drops the run's database, Redis keys, topics and consumer groups. */
export async function dropNamespace(config: ReturnType<typeof loadConfig>, mongo: MongoClient): Promise<void> {
  await mongo.db(new URL(config.mongo.url).pathname.slice(1)).dropDatabase().catch(() => undefined);
  const redis = new Redis(config.redis.url, { maxRetriesPerRequest: 1 });
  await deleteKeys(redis, `${config.redis.prefix}*`).finally(() => redis.disconnect());
  const admin = new Kafka({ clientId: 'livegive-bench-cleanup', brokers: config.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${config.namespace}.`));
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${config.namespace}.`));
    if (groups.length) await admin.deleteGroups(groups).catch(() => undefined);
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}
