import type { StreamTotals } from '../events';
import type { LedgerEntry } from './ledger.types';

/**
 * Running totals as pure data: each ledger entry becomes a list of Redis operations (relative key
 * names, prefixed by the store). The same lists are applied by the Lua script on the hot path and by
 * an in-memory interpreter during a rebuild, so both give the same numbers by construction.
 */

/** Names shown with totals; stored next to each entry (never hashed) so totals can be rebuilt. */
export interface EntryDisplay {
  charityName: string; productName: string; buyer: string;
  /** a reversal that leaves units of its order paid (a partial refund): the order still counts, its confirmation is reduced */
  partialRefund?: boolean;
}

export type TotalsOp =
  | ['hincrby', string, string, string]
  | ['hset', string, string, string]
  | ['lpush', string, string, number]
  /** the donation becomes confirmed (its ops applied) once the refund window has passed */
  | ['confirm', string, number, TotalsOp[]]
  /** a refund: drop the pending confirmation, or take back an already confirmed donation; partial (4th): add the ops to the pending confirmation instead */
  | ['unconfirm', string, TotalsOp[]] | ['unconfirm', string, TotalsOp[], true]
  /** bumps the stream's seq once per script run and publishes it */
  | ['touch', string]
  /** issue 15: drops a field (a remittance's reservation, once its entry is written) */
  | ['hdel', string, string]
  /**
   * issue 15, at confirmation: adds the amount to a running sum (hash, field) and records the entry (member: its seq)
   * in two sorted sets, by that running sum and by its confirmation time, so coverage and overdue are range reads;
   * and the member's stream in a hash (a remittance's amount is split by stream over the entries it covers)
   */
  | ['cumadd', string, string, string, string, string, string, string, string, string]
  /**
   * issue 15, after a remittance: forgets the confirmed allocations it has passed (running sum ≤ the hash's field):
   * coverage starts after them and they can no longer be overdue, so the sets hold only what is not yet remitted
   */
  | ['ztrim', string, string, string, string, string];

export const totalsKeys = {
  stream: (id: string) => `tot:s:${id}`,
  charity: (id: string) => `tot:c:${id}`,
  product: (id: string) => `tot:p:${id}`,
  recent: (streamId: string) => `tot:recent:${streamId}`,
  names: 'tot:names',
  donations: 'tot:don',
  confirm: 'tot:confirm',
  confirmOps: 'tot:confirm:ops',
  built: 'tot:built',
  lock: 'tot:lock',
  head: (charityId: string) => `chain:${charityId}`,
  /** issue 15: the four layers of an agreement and of a host; an agreement's pending remittances; its confirmed allocations by running sum and by time */
  agreement: (id: string) => `tot:a:${id}`,
  host: (id: string) => `tot:h:${id}`,
  reserved: (agreementId: string) => `tot:a:${agreementId}:res`,
  confirmedBySum: (agreementId: string) => `tot:a:${agreementId}:zc`,
  confirmedByTime: (agreementId: string) => `tot:a:${agreementId}:zt`,
  confirmedStreams: (agreementId: string) => `tot:a:${agreementId}:st`,
  /** the set of agreements' pending-remittance hashes (the remittance sweeper reads it) */
  pendingRemittances: 'tot:a:pending',
  /** the streams and hosts this charity holds partials of: the copy, in the charity's own slot, of the index entries
   * kept in each stream's and host's slot (a failover there may drop one; this copy puts it back) */
  partialStreams: 'tot:idx:s',
  partialHosts: 'tot:idx:h',
} as const;

export const RECENT_MAX = 20;
const inc = (key: string, field: string, n: number): TotalsOp => ['hincrby', key, field, String(n)];

/** The operations one entry makes on the totals of its stream, charity and product (and its agreement and host: layersOps). */
export function entryOps(e: LedgerEntry, d: EntryDisplay, refundWindowMs: number): TotalsOp[] {
  if (e.kind === 'remittance' || e.kind === 'acknowledgement') return remitOps(e);
  return [...orderEntryOps(e, d, refundWindowMs), ...layersOps(e, d, refundWindowMs)];
}

/**
 * Issue 15's layers for an allocation or reversal: pledged at once, confirmed with the order's confirmation, for the
 * entry's host and (if it names one) agreement; an agreement's confirmed allocations are also recorded for coverage
 * and overdue. Separate ops (and a separate pending confirmation key), so the order's own ops are unchanged.
 */
function layersOps(e: LedgerEntry, d: EntryDisplay, refundWindowMs: number): TotalsOp[] {
  if (e.kind !== 'allocation' && e.kind !== 'reversal') return [];
  const targets = [totalsKeys.host(e.hostId), ...(e.agreementId ? [totalsKeys.agreement(e.agreementId)] : [])];
  const confirmed: TotalsOp[] = targets.map((k) => inc(k, 'confirmedFen', e.amountFen));
  const pendingKey = `layers:${e.orderId}`;
  const ops: TotalsOp[] = targets.map((k) => inc(k, 'pledgedFen', e.amountFen));
  const confirmAt = Date.parse(e.at) + refundWindowMs;
  if (e.kind === 'allocation') {
    if (e.agreementId) {
      const a = e.agreementId;
      confirmed.push(['cumadd', totalsKeys.agreement(a), 'confirmedGrossFen', String(e.amountFen), totalsKeys.confirmedBySum(a), totalsKeys.confirmedByTime(a), String(e.seq), String(confirmAt), totalsKeys.confirmedStreams(a), e.streamId]);
    }
    ops.push(['confirm', pendingKey, confirmAt, confirmed]);
  } else {
    // as the order's own confirmation: a last refund drops a pending one, a partial refund is netted into it
    ops.push(d.partialRefund ? ['unconfirm', pendingKey, confirmed, true] : ['unconfirm', pendingKey, confirmed]);
  }
  return ops;
}

/** A remittance moves the remitted layer (and frees its reservation); an acknowledgement the acknowledged one, a dispute the disputed one. */
function remitOps(e: LedgerEntry): TotalsOp[] {
  const r = e.remit!;
  const a = e.agreementId ?? '';
  const field = e.kind === 'remittance' ? 'remittedFen' : r.outcome === 'disputed' ? 'disputedFen' : 'acknowledgedFen';
  const amount = String(r.amountFen);
  const ops: TotalsOp[] = [inc(totalsKeys.charity(e.charityId), 'entries', 1), ['hincrby', totalsKeys.charity(e.charityId), field, amount], ['hincrby', totalsKeys.host(e.hostId), field, amount], ['hincrby', totalsKeys.agreement(a), field, amount]];
  // a stream's share: the part of the covered entries that were sold on it (split when the remittance was reserved)
  for (const [streamId, fen] of Object.entries(r.byStream ?? {})) ops.push(['hincrby', totalsKeys.stream(streamId), field, String(fen)], ['touch', streamId]);
  if (e.kind === 'remittance') {
    ops.push(['hdel', totalsKeys.reserved(a), r.remittanceId]);
    ops.push(['ztrim', totalsKeys.confirmedBySum(a), totalsKeys.confirmedByTime(a), totalsKeys.confirmedStreams(a), totalsKeys.agreement(a), 'remittedFen']);
  }
  return ops;
}

function orderEntryOps(e: LedgerEntry, d: EntryDisplay, refundWindowMs: number): TotalsOp[] {
  const s = totalsKeys.stream(e.streamId);
  const c = totalsKeys.charity(e.charityId);
  const p = totalsKeys.product(e.productId);
  const ops: TotalsOp[] = [
    ['hset', totalsKeys.names, `c:${e.charityId}`, d.charityName],
    ['hset', totalsKeys.names, `p:${e.productId}`, d.productName],
    inc(c, 'entries', 1), inc(c, 'balanceFen', e.amountFen),
  ];
  if (e.kind === 'match' || e.kind === 'match_reversal') {
    ops.push(inc(s, 'matchedFen', e.amountFen), inc(s, `c:${e.charityId}:m`, e.amountFen), inc(c, 'matchedFen', e.amountFen));
  } else {
    // an order stops counting only when its last unit is refunded
    const orders = e.kind === 'allocation' ? 1 : d.partialRefund ? 0 : -1;
    ops.push(
      inc(s, 'salesFen', e.salesFen), inc(s, 'units', e.quantity), inc(s, 'orders', orders), inc(s, 'donationFen', e.amountFen),
      inc(s, `c:${e.charityId}:d`, e.amountFen), inc(s, `p:${e.productId}:u`, e.quantity), inc(s, `p:${e.productId}:d`, e.amountFen),
      inc(c, 'donationFen', e.amountFen), inc(c, 'salesFen', e.salesFen), inc(c, 'units', e.quantity), inc(c, 'orders', orders),
      inc(p, 'donationFen', e.amountFen), inc(p, 'units', e.quantity), inc(p, 'salesFen', e.salesFen),
    );
    const confirmed = [inc(s, 'confirmedDonationFen', e.amountFen), inc(c, 'confirmedDonationFen', e.amountFen), inc(p, 'confirmedDonationFen', e.amountFen)];
    if (e.kind === 'allocation') {
      ops.push(['hset', totalsKeys.donations, e.orderId, `allocated:${e.seq}`]);
      ops.push(['confirm', e.orderId, Date.parse(e.at) + refundWindowMs, [...confirmed, ['touch', e.streamId]]]);
      const recent = { buyer: d.buyer, productName: d.productName, quantity: e.quantity, donationFen: e.amountFen, at: e.at };
      ops.push(['lpush', totalsKeys.recent(e.streamId), JSON.stringify(recent), RECENT_MAX]);
    } else {
      ops.push(['hset', totalsKeys.donations, e.orderId, `${d.partialRefund ? 'partially_reversed' : 'reversed'}:${e.seq}`]);
      ops.push(d.partialRefund ? ['unconfirm', e.orderId, confirmed, true] : ['unconfirm', e.orderId, confirmed]);
    }
  }
  ops.push(['touch', e.streamId]);
  return ops;
}

/** Redis state as plain maps, for the rebuild: hashes of integer-or-text fields, lists, one zset. */
export interface TotalsState {
  hashes: Map<string, Map<string, string>>;
  lists: Map<string, string[]>;
  pending: Map<string, { score: number; ops: TotalsOp[] }>;
  /** sorted sets: key → member → score */
  zsets: Map<string, Map<string, number>>;
}

export const emptyState = (): TotalsState => ({ hashes: new Map(), lists: new Map(), pending: new Map(), zsets: new Map() });

/** Applies operations in memory with the Lua script's semantics; confirmations due by `nowMs` apply at once. */
export function applyOps(st: TotalsState, ops: TotalsOp[], nowMs: number): void {
  const hash = (k: string) => st.hashes.get(k) ?? st.hashes.set(k, new Map()).get(k)!;
  for (const op of ops) {
    if (op[0] === 'hincrby') { const h = hash(op[1]); h.set(op[2], String(Number(h.get(op[2]) ?? 0) + Number(op[3]))); }
    else if (op[0] === 'hset') hash(op[1]).set(op[2], op[3]);
    else if (op[0] === 'lpush') { const l = st.lists.get(op[1]) ?? []; l.unshift(op[2]); st.lists.set(op[1], l.slice(0, op[3])); }
    else if (op[0] === 'confirm') { if (op[2] <= nowMs) applyOps(st, op[3], nowMs); else st.pending.set(op[1], { score: op[2], ops: op[3] }); }
    else if (op[0] === 'unconfirm' && op[3]) { const p = st.pending.get(op[1]); if (p) p.ops = [...p.ops, ...op[2]]; else applyOps(st, op[2], nowMs); }
    else if (op[0] === 'unconfirm') { if (!st.pending.delete(op[1])) applyOps(st, op[2], nowMs); }
    else if (op[0] === 'hdel') st.hashes.get(op[1])?.delete(op[2]); // never an empty hash to write back
    else if (op[0] === 'cumadd') {
      const h = hash(op[1]);
      const sum = Number(h.get(op[2]) ?? 0) + Number(op[3]);
      h.set(op[2], String(sum));
      const z = (k: string) => st.zsets.get(k) ?? st.zsets.set(k, new Map()).get(k)!;
      z(op[4]).set(op[6], sum);
      z(op[5]).set(op[6], Number(op[7]));
      hash(op[8]).set(op[6], op[9]);
    } else if (op[0] === 'ztrim') {
      const upTo = Number(st.hashes.get(op[4])?.get(op[5]) ?? 0);
      const bySum = st.zsets.get(op[1]);
      for (const [m, score] of bySum ?? []) {
        if (score > upTo) continue;
        bySum!.delete(m);
        st.zsets.get(op[2])?.delete(m);
        st.hashes.get(op[3])?.delete(m);
      }
    }
    // 'touch' only bumps the feed's seq: a rebuild sets seq once per stream
  }
}

const num = (h: Record<string, string>, f: string) => Number(h[f] ?? 0);

/** Shapes a stream's raw Redis hash into the API's totals answer. */
export function shapeStreamTotals(
  streamId: string, stream: { status: string; goalFen: number }, h: Record<string, string>, names: Record<string, string>,
  recent: string[], matches: StreamTotals['matches'],
): StreamTotals {
  const charityIds = new Set<string>();
  const productIds = new Set<string>();
  for (const f of Object.keys(h)) {
    const m = /^([cp]):(.+):[dmu]$/.exec(f);
    if (m) (m[1] === 'c' ? charityIds : productIds).add(m[2]);
  }
  return {
    streamId, seq: num(h, 'seq'), status: stream.status, goalFen: stream.goalFen,
    salesFen: num(h, 'salesFen'), units: num(h, 'units'), orders: num(h, 'orders'),
    donationFen: num(h, 'donationFen'), matchedFen: num(h, 'matchedFen'), confirmedDonationFen: num(h, 'confirmedDonationFen'),
    remittedFen: num(h, 'remittedFen'), acknowledgedFen: num(h, 'acknowledgedFen'),
    byCharity: [...charityIds].sort().map((id) => ({ charityId: id, name: names[`c:${id}`] ?? id, donationFen: num(h, `c:${id}:d`), matchedFen: num(h, `c:${id}:m`) })),
    byProduct: [...productIds].sort().map((id) => ({ productId: id, name: names[`p:${id}`] ?? id, units: num(h, `p:${id}:u`), donationFen: num(h, `p:${id}:d`) })),
    matches,
    recent: recent.map((r) => JSON.parse(r) as StreamTotals['recent'][number]),
  };
}
