import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * The cluster profile's tests: `scripts/stack env --cluster` names the servers (three Kafka brokers, the Redis
 * Cluster when it is there, the shared MongoDB and single Redis); each must answer before any test runs.
 */
export default async function clusterSetup(): Promise<void> {
  const root = path.resolve(__dirname, '../..');
  const env = Object.fromEntries(
    execFileSync(path.join(root, 'scripts/stack'), ['env', '--cluster'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)),
  ) as Record<string, string>;
  for (const [kind, key] of [['kafka', 'KAFKA_BROKERS'], ['mongo', 'MONGO_URL'], ['redis', 'REDIS_URL']] as const) {
    try {
      execFileSync('node', [path.join(root, 'scripts/probe.mjs'), kind, env[key]], { stdio: 'pipe' });
    } catch {
      throw new Error(`${kind} is not reachable at ${env[key]}: run scripts/stack up --cluster (npm run test:cluster does it)`);
    }
  }
  // the cluster's variables win over the single-node defaults, so testEnv() points every service at it
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
}
