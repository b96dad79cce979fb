import type { Command } from 'commander';
import { loadConfig } from '../config';
import { closeDeps, createDeps } from '../deps';
import { createLogger } from '../infra/logger';
import { registerLedgerModel } from './ledger.repository';
import { rebuildTotals } from './rebuild-totals';

/** `livegive rebuild-totals`: recomputes every running total, chain head and match budget from the ledger. */
export function register(program: Command): void {
  program.command('rebuild-totals')
    .description('recompute the live totals, chain heads and sponsor budgets in Redis from the ledger (allocators wait meanwhile)')
    .action(async () => {
      const config = loadConfig();
      const deps = await createDeps(config, { logger: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), clientId: 'livegive-cli', registerModels: registerLedgerModel });
      try {
        const r = await rebuildTotals(deps);
        console.log(JSON.stringify(r));
        if (r.chainProblems > 0) {
          console.error(`livegive: the ledger chain has ${r.chainProblems} problem(s); totals were rebuilt from the stored entries`);
          process.exitCode = 3;
        }
      } finally {
        await closeDeps(deps);
      }
    });
}
