import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { masterOf } from '../../src/infra/redis';
import type { Deps } from '../../src/deps';

/** The cluster scripts/cluster/redis.sh runs; tests in test/cluster run only when REDIS_CLUSTER_NODES names it. */
export const clusterNodes = process.env.REDIS_CLUSTER_NODES ?? '';
export const describeCluster = clusterNodes ? describe : describe.skip;

const root = path.resolve(__dirname, '../..');
const dataDir = path.join(root, '.data', 'redis-cluster');

/** "host:port" of the master serving a key now. */
export async function masterAddress(deps: Deps, key: string): Promise<string> {
  const n = await masterOf(deps.redis, key);
  return `${n.options.host}:${n.options.port}`;
}

/** Kills a node's process (as a crash would: SIGKILL, no shutdown save). */
export function killNode(port: number): void {
  const pid = Number(readFileSync(path.join(dataDir, String(port), 'pid'), 'utf8').trim());
  process.kill(pid, 'SIGKILL');
}

/** Starts any stopped node again (it rejoins as a replica of whoever took over) and waits for state ok. */
export function restartNodes(): void {
  execFileSync(path.join(root, 'scripts/cluster/redis.sh'), ['up'], { stdio: 'pipe' });
}

/** The role a node reports (master/slave), or 'down'. */
export async function roleOf(port: number): Promise<string> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await r.connect();
    return String((await r.role())[0]);
  } catch {
    return 'down';
  } finally {
    r.disconnect();
  }
}
