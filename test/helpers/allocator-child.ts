// A process that runs only the allocator (no API, no projection), for crash and rebalance tests:
// the test kills or stops it like an operator would. Reads the same environment as the service.
import { loadConfig } from '../../src/config';
import { createDeps, closeDeps } from '../../src/deps';
import { createLogger } from '../../src/infra/logger';
import { registerLedgerModel } from '../../src/allocator/ledger.repository';
import { startAllocator } from '../../src/allocator';

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config, { logger: createLogger(config.logLevel, { role: 'allocator-child' }), clientId: `alloc-child-${process.pid}`, registerModels: registerLedgerModel });
  const allocator = await startAllocator(deps);
  process.stdout.write('READY\n');
  process.on('SIGTERM', () => {
    void allocator.stop().then(() => closeDeps(deps)).then(() => process.exit(0), () => process.exit(1));
  });
}

main().catch((err) => { console.error(err); process.exit(1); });
