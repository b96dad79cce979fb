import { donationFenOf, isOrderEvent, refundUnits, type LogEvent, type OrderEvent, type RemittanceEvent } from '../events';
import { refundShare } from '../agreements/agreement.types';
import { mulFen } from '../money';
import { chainEntries } from './chain';
import { GENESIS, type ChainHead, type LedgerEntry, type UnchainedEntry } from './ledger.types';

/** Where a charity's chain stands, and the last Kafka offset already folded into it. */
export interface AllocatorHead extends ChainHead { partition: number; offset: number }

/** What the match script answered for one order and one sponsor match (amounts in fen). */
export interface MatchTake { matchId: string; amountFen: number; wantFen: number }

/** An event with its place in the log, as the allocator sees it. */
export interface PositionedEvent { event: LogEvent; partition: number; offset: number }

/** `ratioPercent` of an amount, rounded down to whole fen, in integer arithmetic only. */
export function matchWant(amountFen: number, ratioPercent: number): number {
  const p = mulFen(amountFen, ratioPercent);
  return (p - (p % 100)) / 100;
}

/**
 * The rounding rule for a sponsor's match on partial refunds: after refunds of r of an order's q units, the
 * sponsor has got back floor(taken × r / q) in total, so one refund returns floor(taken × after / q) −
 * floor(taken × before / q). The shares are whole fen, never negative, and add up to exactly `taken` once
 * every unit is refunded, whatever the split (1+1+1 of 3 units returns what one whole refund returns).
 */
export function matchShareBack(takenFen: number, quantity: number, refundedBefore: number, refundedAfter: number): number {
  const upTo = (r: number) => Math.floor(mulFen(takenFen, r) / quantity);
  return upTo(refundedAfter) - upTo(refundedBefore);
}

/** Why a match gave what it gave, for the buyer's receipt. */
export function matchReason(t: MatchTake): 'matched' | 'partial_cap_reached' | 'cap_exhausted' {
  if (t.amountFen >= t.wantFen) return 'matched';
  return t.amountFen > 0 ? 'partial_cap_reached' : 'cap_exhausted';
}

/** True when the event is already in the charity's chain: the head has passed its offset. */
export const isFolded = (head: AllocatorHead | undefined, pe: PositionedEvent) => !!head && head.partition === pe.partition && pe.offset <= head.offset;

/** Only payments and refunds move money; placed, expired and cancelled orders leave the ledger alone. */
export const movesMoney = (e: LogEvent): e is OrderEvent => e.type === 'order.paid' || e.type === 'order.refunded';
/** Events that become ledger entries: payments, refunds, remittances and the charity's answers to them. */
export const entersLedger = (e: LogEvent) => movesMoney(e) || !isOrderEvent(e);

/** What a refund event reverses of its order's donation D: refundShare of its units (all of them for an event without refundQuantity). */
export function reversedDonation(e: OrderEvent): number {
  const after = e.refundedQuantity ?? e.quantity;
  return refundShare(donationFenOf(e), e.quantity, after - refundUnits(e), after);
}

/** The entry a remittance event produces: amount 0 (the donation total is unchanged), the remittance hashed in `remit`. */
export function remitEntry(e: RemittanceEvent): UnchainedEntry {
  const kind = e.type === 'remittance.sent' ? 'remittance' : 'acknowledgement';
  return {
    key: `${e.eventId}:${kind}`, kind, charityId: e.charityId, orderId: e.remittanceId, streamId: '', productId: '', hostId: e.hostId, eventId: e.eventId,
    amountFen: 0, salesFen: 0, quantity: 0, matchId: null, at: new Date(e.occurredAt).toISOString(), agreementId: e.agreementId,
    remit: {
      remittanceId: e.remittanceId, amountFen: e.amountFen, paidAt: new Date(e.paidAt).toISOString(), reference: e.reference, coversFrom: e.coversFrom, coversTo: e.coversTo,
      ...(e.byStream ? { byStream: e.byStream } : {}),
      ...(kind === 'acknowledgement' ? { outcome: e.type === 'remittance.disputed' ? 'disputed' as const : 'acknowledged' as const } : {}),
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
    },
  };
}

/** The unchained entries one event produces: its allocation or reversal, then one per sponsor match; a remittance's one entry. */
export function entriesForEvent(e: LogEvent, matches: MatchTake[]): UnchainedEntry[] {
  if (!isOrderEvent(e)) return [remitEntry(e)];
  if (!movesMoney(e)) return [];
  const sign = e.type === 'order.paid' ? 1 : -1;
  // a refund reverses exactly its own units (all of them for an event without refundQuantity)
  const units = sign > 0 ? e.quantity : refundUnits(e);
  const at = new Date(e.occurredAt).toISOString();
  const kind = sign > 0 ? 'allocation' as const : 'reversal' as const;
  const amountFen = sign > 0 ? donationFenOf(e) : -reversedDonation(e);
  const salesFen = sign * mulFen(e.unitPriceFen, units);
  // an order under an agreement names it on every entry (hashed); one without keeps the fields it always had. Written
  // out, not spread from a shared base: one object of one shape an entry (the allocator's hot path), fields in the order
  // they were stored before
  const { charityId, orderId, streamId, productId, hostId, eventId, agreementId } = e;
  const key = `${eventId}:${kind}`;
  const quantity = sign * units;
  const out: UnchainedEntry[] = [agreementId
    ? { charityId, orderId, streamId, productId, hostId, eventId, at, agreementId, key, kind, amountFen, salesFen, quantity, matchId: null }
    : { charityId, orderId, streamId, productId, hostId, eventId, at, key, kind, amountFen, salesFen, quantity, matchId: null }];
  if (!matches.length) return out;
  // sorted by match id so a recomputation after a crash yields the same sequence numbers
  for (const m of [...matches].sort((a, b) => a.matchId.localeCompare(b.matchId))) {
    if (m.amountFen <= 0) continue;
    const matchKind = sign > 0 ? 'match' : 'match_reversal';
    // the order's fields as on its own entry; the rest its own
    out.push({ ...out[0], key: `${eventId}:${matchKind}:${m.matchId}`, kind: matchKind, amountFen: sign * m.amountFen, salesFen: 0, quantity: 0, matchId: m.matchId });
  }
  return out;
}

export interface CharityPlan {
  charityId: string;
  before: AllocatorHead;
  after: AllocatorHead;
  entries: LedgerEntry[];
  /** the event each entry came from, by entry key (totals need the buyer and product names) */
  sources: Map<string, PositionedEvent>;
}

/**
 * Plans a batch: per charity, skips events already folded into its chain (offset at or below the
 * head's), turns the rest into entries and numbers and hashes them after the head. Pure: the same
 * heads, events and match answers always give the same entries, which is what makes a retry after a
 * crash insert identical documents instead of a fork.
 */
export function allocate(events: PositionedEvent[], heads: Map<string, AllocatorHead>, matches: Map<string, MatchTake[]>): CharityPlan[] {
  const plans = new Map<string, { before: AllocatorHead; last: PositionedEvent | null; raw: UnchainedEntry[]; sources: Map<string, PositionedEvent> }>();
  for (const pe of events) {
    const id = pe.event.charityId;
    if (isFolded(heads.get(id), pe)) continue;
    const head = heads.get(id) ?? { ...GENESIS, partition: pe.partition, offset: -1 };
    let p = plans.get(id);
    if (!p) plans.set(id, (p = { before: head, last: null, raw: [], sources: new Map() }));
    p.last = pe;
    for (const entry of entriesForEvent(pe.event, matches.get(pe.event.eventId) ?? [])) {
      p.raw.push(entry);
      p.sources.set(entry.key, pe);
    }
  }
  return [...plans].map(([charityId, p]) => {
    const entries = chainEntries(p.before, p.raw);
    const tail = entries[entries.length - 1];
    const after: AllocatorHead = {
      seq: tail?.seq ?? p.before.seq, hash: tail?.hash ?? p.before.hash,
      partition: p.last!.partition, offset: p.last!.offset,
    };
    return { charityId, before: p.before, after, entries, sources: p.sources };
  });
}
