import type { Deps } from '../deps';
import type { LedgerEntry } from '../allocator/ledger.types';
import { RemittancesRepository } from './remittance.models';
import { isOrderEvent } from '../events';
import type { PositionedEvent } from '../allocator/allocate';
import { LEDGER_COLLECTION } from '../allocator/ledger.repository';

/**
 * Drops remittance events whose entry the chain already holds (folded in: at or below the charity's head). An
 * order event is re-published with the same bytes, so a repeat recomputes an identical entry; an answer sent again
 * (after Redis lost its guard) carries a new time, so it must be known by its key, not by its hash. One read by _id
 * per remittance event (they are few); an entry stored but not yet folded in (a crash before the totals) is kept, so
 * the retry completes it.
 */
export async function withoutWrittenRemits(deps: Pick<Deps, 'db'>, events: PositionedEvent[], heads: Map<string, { seq: number }>): Promise<PositionedEvent[]> {
  const remits = events.filter((pe) => !isOrderEvent(pe.event));
  if (!remits.length) return events;
  const ledger = deps.db.collection<{ _id: string; seq: number }>(LEDGER_COLLECTION);
  const written = new Set<string>();
  for (const pe of remits) {
    const kind = pe.event.type === 'remittance.sent' ? 'remittance' : 'acknowledgement';
    const stored = await ledger.findOne({ _id: `${pe.event.eventId}:${kind}` }, { projection: { seq: 1 } }); // query: ledger.byId
    if (stored && stored.seq <= (heads.get(pe.event.charityId)?.seq ?? 0)) written.add(pe.event.eventId);
  }
  return events.filter((pe) => !written.has(pe.event.eventId));
}

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
