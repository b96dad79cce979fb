import type { Deps } from '../deps';
import type { LedgerEntry } from '../allocator/ledger.types';
import { RemittancesRepository } from './remittance.models';

/**
 * The allocator's hook after a batch's entries are durable: each remittance or acknowledgement entry sets its
 * remittance document's status and entry numbers, so the document follows the ledger (a crash before this is
 * repaired by the batch's retry; a repeat sets the same values).
 */
export async function recordRemitEntries(deps: Pick<Deps, 'db'>, entries: LedgerEntry[]): Promise<void> {
  const repo = new RemittancesRepository(deps);
  for (const e of entries) {
    if (!e.remit) continue;
    if (e.kind === 'remittance') await repo.set(e.remit.remittanceId, { entrySeq: e.seq });
    else await repo.set(e.remit.remittanceId, { status: e.remit.outcome ?? 'acknowledged', answerSeq: e.seq, answeredAt: new Date(e.at), ...(e.remit.reason ? { reason: e.remit.reason } : {}) });
  }
}
