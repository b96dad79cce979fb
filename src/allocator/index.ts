import type { Connection } from 'mongoose';
import type { Deps } from '../deps';
import type { Slice } from '../app';
import { allocatorRoutes } from './allocator.routes';
import { startAllocator } from './allocator.consumer';
import { registerLedgerModel } from './ledger.repository';
import { registerDerivedModels } from './ledger-derived.repository';
import { registerMatchModel } from './create-match';
import { rebuildTotals } from './rebuild-totals';

export { totalsChannel, charityKeyspace, streamCharitiesKey, totalsBuiltHere, staleCharities } from './totals.store';
export { readStreamTotals, readCharityTotals, donationOf } from './totals.read';
export { matchesForOrder, getMatch } from './create-match';
export { LedgerRepository, LEDGER_COLLECTION } from './ledger.repository';
export type { LedgerDoc } from './ledger.repository';
export { LedgerDerivedRepository, TREE_COLLECTION, PERIODS_COLLECTION } from './ledger-derived.repository';
export { appendEntries } from './append-entries';
export { startAllocator } from './allocator.consumer';
export { rebuildTotals, rebuildStaleTotals, rebuildCharity } from './rebuild-totals';

/** A recovery step: totals, chain heads and sponsor budgets rebuilt from the ledger. */
export const totalsRebuildStep = { name: 'totals', run: (deps: Deps) => rebuildTotals(deps) };

/** Order events → hash-chained ledger per charity, sponsor matching, running totals. */
export const allocatorSlice: Slice = {
  name: 'allocator',
  models: (conn: Connection) => { registerLedgerModel(conn); registerDerivedModels(conn); registerMatchModel(conn); },
  routes: allocatorRoutes,
  workers: (deps) => startAllocator(deps),
};
