import type { Deps } from '../deps';
import { parseLogEvent, type DeadLetter } from '../events';
import { allocate, entersLedger, isFolded, type PositionedEvent } from './allocate';
import { LedgerRepository } from './ledger.repository';
import { LedgerDerivedRepository } from './ledger-derived.repository';
import { deadLetterOf, publishDeadLetters } from '../infra/dead-letter';
import { recordRemitEntries, withoutWrittenRemits } from '../remittances/remittance.entries';
import { applyPlans, displayOf, readHeadsAndKnown, takeMatches, TotalsMissing } from './totals.store';
import { rebuildTotals } from './rebuild-totals';

export interface BatchInput {
  groupId: string;
  topic: string;
  partition: number;
  messages: { key: Buffer | null; value: Buffer | null; offset: string }[];
}

/** Splits a batch into valid events and dead letters (unparseable, invalid, or keyed to another charity). */
export function sortMessages(b: BatchInput): { events: PositionedEvent[]; dead: DeadLetter[] } {
  const events: PositionedEvent[] = [];
  const dead: DeadLetter[] = [];
  for (const m of b.messages) {
    const r = parseLogEvent(m.value);
    const key = m.key?.toString('utf8') ?? null;
    // the key places a charity's events in one partition, whose owner is the chain's only writer
    const reason = !r.ok ? r.reason : key !== r.event.charityId ? `key ${JSON.stringify(key)} does not match charityId` : null;
    if (reason === null && r.ok) events.push({ event: r.event, partition: b.partition, offset: Number(m.offset) });
    else dead.push(deadLetterOf(b, m, reason!));
  }
  return { events, dead };
}

/**
 * Allocates one Kafka batch (or several partitions' batches together): dead-letters what cannot be processed, takes sponsor match budgets, plans
 * and chains the entries (pure), inserts them in one unordered bulk insert, writes what derives from them
 * (period balances, block roots, the published head), then folds them into the totals and moves the chain
 * heads in one Redis script. Safe to repeat after any failure: the plan is
 * recomputed from the heads, and a repeat inserts identical entries or none.
 */
export async function allocateBatch(deps: Deps, b: BatchInput | readonly BatchInput[], repo = new LedgerRepository(deps)): Promise<{ entries: number; inserted: number; dead: number }> {
  // several partitions' batches at once (the consumer gathers a fetch's small ones): a charity's events are all in one
  // partition, so its chain still sees them in that partition's order
  const sorted = (Array.isArray(b) ? b : [b as BatchInput]).map(sortMessages);
  const events = sorted.flatMap((s) => s.events);
  const dead = sorted.flatMap((s) => s.dead);
  await publishDeadLetters(deps, 'allocator', dead);
  // an event id seen twice in one batch counts once. Only events that enter the ledger are planned: a placed, expired
  // or cancelled order has no entry and no totals, so a batch of those touches neither Redis nor the store (at live
  // rates about half the batches: an order's placed event comes a moment before its payment). A chain head's offset
  // is therefore that of the last event that entered its chain, as a rebuild from the ledger sets it.
  const seen = new Set<string>();
  const unique = events.filter((pe) => entersLedger(pe.event) && !seen.has(pe.event.eventId) && seen.add(pe.event.eventId));
  if (!unique.length) return { entries: 0, inserted: 0, dead: dead.length };
  const charityIds = [...new Set(unique.map((e) => e.event.charityId))];
  // with the heads: which events were allocated already (republished at another offset), and their match sets
  // a charity never built here, or whose master lost writes: rebuilt from its own ledger (only it), then its heads read again
  const { heads, known, matchSets } = await readHeadsAndKnown(deps, charityIds, unique).catch(async (err: unknown) => {
    if (!(err instanceof TotalsMissing)) throw err;
    await rebuildTotals(deps, err.charityIds);
    return readHeadsAndKnown(deps, charityIds, unique);
  });
  const republished = unique.filter((pe) => !known.has(pe.event.eventId));
  if (!republished.length) return { entries: 0, inserted: 0, dead: dead.length };
  // an answer sent again carries a new time: known by its entry key, not by its hash
  const fresh = await withoutWrittenRemits(deps, republished, heads);
  const matches = await takeMatches(deps, fresh.filter((pe) => !isFolded(heads.get(pe.event.charityId), pe)), matchSets);
  const plans = allocate(fresh, heads, matches);
  const rows = plans.flatMap((p) => p.entries.map((entry) => {
    const src = p.sources.get(entry.key)!;
    return { entry, display: displayOf(src.event), partition: src.partition, offset: src.offset };
  }));
  const derived = new LedgerDerivedRepository(deps);
  // reads of what precedes this batch (stored earlier), alongside its insert; never observed unhandled if the insert fails
  const before = plans.map((p) => { const r = derived.before(p.charityId, p.entries); r.catch(() => undefined); return r; });
  const inserted = await repo.append(rows);
  // derived documents after the entries and before the heads move: a crash here is repaired by this batch's retry (each write is idempotent)
  await Promise.all(plans.map((p, i) => derived.afterAppend(p.charityId, p.entries, before[i])));
  await applyPlans(deps, plans);
  await recordRemitEntries(deps, rows.map((r) => r.entry));
  for (const r of rows) deps.metrics.ledgerEntries.inc({ kind: r.entry.kind });
  return { entries: rows.length, inserted, dead: dead.length };
}

/*
 * The same event can reach the log twice at different offsets (a payment retried while its first publish was in
 * flight, the outbox sweeper racing an acknowledgement). Offsets cannot tell those apart, so the apply script
 * remembers the ids of the events it folds in for 30 days (ALLOCATED_TTL_SECONDS), atomically with the chain head,
 * and a batch drops the ids it finds there (read with the heads, above).
 */
