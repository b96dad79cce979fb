// One allocator process of the drain benchmark (scripts/bench/data/drain.ts --allocators N): connects, says READY,
// starts consuming in group BENCH_GROUP on the line GO, stops and exits on SIGTERM. Reads the service's environment.
import { loadConfig } from '../../../src/config';
import { closeDeps, createDeps } from '../../../src/deps';
import { createLogger } from '../../../src/infra/logger';
import { registerLedgerModel } from '../../../src/allocator/ledger.repository';
import { registerDerivedModels } from '../../../src/allocator/ledger-derived.repository';
import { startAllocator } from '../../../src/allocator';

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config, { logger: createLogger('warn'), clientId: `bench-alloc-${process.pid}`, registerModels: (c) => { registerLedgerModel(c); registerDerivedModels(c); } });
  let stop = async () => closeDeps(deps);
  process.on('SIGTERM', () => { void stop().then(() => process.exit(0), () => process.exit(1)); });
  process.stdout.write('READY\n');
  await new Promise<void>((resolve) => process.stdin.on('data', (b: Buffer) => { if (b.toString().includes('GO')) resolve(); }));
  const allocator = await startAllocator(deps, { groupId: process.env.BENCH_GROUP });
  stop = async () => { await allocator.stop(); await closeDeps(deps); };
}

main().catch((err) => { console.error(err); process.exit(1); });
