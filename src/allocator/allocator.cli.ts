import type { Command } from 'commander';
import { loadConfig } from '../config';
import { closeDeps, createDeps } from '../deps';
import { createLogger } from '../infra/logger';
import { registerLedgerModel } from './ledger.repository';
import { rebuildTotals } from './rebuild-totals';
import { LedgerRepository } from './ledger.repository';
import { LedgerDerivedRepository, registerDerivedModels } from './ledger-derived.repository';

/**
 * `livegive rebuild-totals`: recomputes every running total, chain head and match budget from the ledger.
 * `livegive rebuild-derived`: recomputes the ledger's derived documents (period balances, blocks, Merkle nodes, heads).
 */
export function register(program: Command): void {
  program.command('rebuild-derived')
    .description('recompute period balances, sealed blocks, Merkle nodes and published heads from the ledger (stop the allocators first)')
    .option('--charity <id>', 'only this charity (default: every charity in the ledger)')
    .action(async (opts: { charity?: string }) => {
      if (opts.charity !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(opts.charity)) {
        console.error('livegive rebuild-derived: --charity must be a charity id (letters, digits, _ or -)');
        process.exitCode = 2;
        return;
      }
      const config = loadConfig();
      const deps = await createDeps(config, { logger: createLogger('warn'), clientId: 'livegive-cli', registerModels: (c) => { registerLedgerModel(c); registerDerivedModels(c); } });
      try {
        const ledger = new LedgerRepository(deps);
        const { charities, updated } = await ledger.backfillKeys();
        const derived = new LedgerDerivedRepository(deps);
        for (const c of opts.charity ? [opts.charity] : charities) {
          const r = await derived.rebuild(c, ledger.chain(c));
          console.log(JSON.stringify({ charityId: c, headSeq: r.head.seq, periods: r.periods.size, treeNodes: r.tree.size }));
        }
        console.log(JSON.stringify({ keysBackfilled: updated }));
      } finally {
        await closeDeps(deps);
      }
    });

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
