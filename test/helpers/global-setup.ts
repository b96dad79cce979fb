import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Integration tests need the real stack; `npm test` starts it, this only checks it answers. */
export default async function globalSetup(): Promise<void> {
  const onlyUnit = process.argv.some((a) => a.includes('test/unit')) && !process.argv.some((a) => a.includes('integration'));
  if (onlyUnit) return;
  const root = path.resolve(__dirname, '../..');
  const env = Object.fromEntries(
    execFileSync(path.join(root, 'scripts/stack'), ['env'], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(/=(.*)/s).slice(0, 2)),
  );
  for (const [kind, key] of [['kafka', 'KAFKA_BROKERS'], ['mongo', 'MONGO_URL'], ['redis', 'REDIS_URL']] as const) {
    try {
      execFileSync('node', [path.join(root, 'scripts/probe.mjs'), kind, env[key]], { stdio: 'pipe' });
    } catch {
      throw new Error(`${kind} is not reachable at ${env[key]}: run scripts/stack up (npm test does it for you)`);
    }
    process.env[key] ??= env[key];
  }
}
