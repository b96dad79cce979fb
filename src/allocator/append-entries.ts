import type { Deps } from '../deps';
import type { LedgerEntry } from './ledger.types';
import { LedgerRepository } from './ledger.repository';
import { LedgerDerivedRepository } from './ledger-derived.repository';

/**
 * Appends already chained entries of one charity the way the allocator does (ledger, then derived
 * documents), without Kafka or totals: for seeding benchmarks and tests that need a chain of a given shape.
 */
export async function appendEntries(deps: Pick<Deps, 'db'>, entries: LedgerEntry[]): Promise<void> {
  if (!entries.length) return;
  await new LedgerRepository(deps).append(entries.map((entry) => ({ entry, display: { charityName: '', productName: '', buyer: '' }, partition: -1, offset: -1 })));
  await new LedgerDerivedRepository(deps).afterAppend(entries[0].charityId, entries);
}
