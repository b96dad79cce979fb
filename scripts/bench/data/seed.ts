import type { Db } from 'mongodb';
import type { Deps } from '../../../src/deps';
import { chainEntries } from '../../../src/allocator/chain';
import { appendEntries } from '../../../src/allocator';
import { ledgerDoc } from '../../../src/allocator/ledger.repository';
import { GENESIS, type ChainHead, type LedgerEntry, type UnchainedEntry } from '../../../src/allocator/ledger.types';
import type { OrderEvent } from '../../../src/events';

const CHUNK = 5000;

/** Entry i of a charity's synthetic chain: mostly allocations, every 23rd a reversal of the entry before it. */
function raw(charityId: string, i: number, atMs: number): UnchainedEntry {
  const reversal = i % 23 === 22;
  const q = 1 + (i % 3);
  return {
    key: `${charityId}_e${i}:${reversal ? 'reversal' : 'allocation'}`, charityId, kind: reversal ? 'reversal' : 'allocation',
    amountFen: (reversal ? -1 : 1) * 200 * q, salesFen: (reversal ? -1 : 1) * 4990 * q, quantity: (reversal ? -1 : 1) * q,
    orderId: `${charityId}_o${reversal ? i - 1 : i}`, streamId: `s${i % 20}`, productId: `p${i % 50}`, hostId: `h${i % 5}`, eventId: `${charityId}_e${i}`,
    matchId: null, at: new Date(atMs).toISOString(),
  };
}

/**
 * Appends `n` entries to a charity's chain from `head`, dated evenly over [fromMs, toMs), through the
 * allocator's own write path (ledger, then derived documents) or, with `bare`, as ledger documents only.
 */
export async function seedChain(deps: Pick<Deps, 'db'>, charityId: string, head: ChainHead, n: number, fromMs: number, toMs: number, opts: { bare?: boolean; onChunk?: (done: number) => void } = {}): Promise<ChainHead> {
  let h = head;
  const step = (toMs - fromMs) / Math.max(1, n);
  for (let i = 0; i < n; i += CHUNK) {
    const chunk = chainEntries(h, Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => raw(charityId, h.seq + j, fromMs + Math.floor((i + j) * step))));
    if (opts.bare) await deps.db.collection('ledger').insertMany(chunk.map((e) => ({ ...ledgerDoc(e), charityName: '', productName: '', buyer: '', partition: -1, offset: -1 })) as never[], { ordered: false });
    else await appendEntries(deps, chunk);
    const last = chunk[chunk.length - 1];
    h = { seq: last.seq, hash: last.hash };
    opts.onChunk?.(i + chunk.length);
  }
  return h;
}

/** One projected order document per allocation of a chain (what GET /orders/:id reads once Redis no longer has it). */
export async function seedOrders(db: Db, charityId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += CHUNK) {
    const docs = Array.from({ length: Math.min(CHUNK, n - i) }, (_, j) => {
      const k = i + j;
      const orderId = `${charityId}_o${k}`;
      const at = new Date(Date.parse('2026-11-11T00:00:00.000Z') + k * 1000).toISOString();
      return {
        _id: `${orderId}#2`, orderId, orderVersion: 2, status: 'paid', viewerId: 'v1', streamId: `s${k % 20}`, productId: `p${k % 50}`, productName: '赣南脐橙',
        hostId: `h${k % 5}`, charityId, charityName: '基准公益', quantity: 1 + (k % 3), unitPriceFen: 4990, pledgePerUnitFen: 200, createdAt: at, expiresAt: at,
        paidAt: at, paymentId: `pay_${orderId}`, idempotencyKey: `k_${orderId}`, bodyHash: 'h', lastEventId: `${orderId}.order.paid`, updatedAt: new Date(at),
      };
    });
    await db.collection('orders').insertMany(docs as never[], { ordered: false });
  }
}

/** A valid `order.paid` event (the allocator's input) for the drain measurement. */
export function paidEvent(charityId: string, i: number, atMs: number): OrderEvent {
  const orderId = `${charityId}_d${i}`;
  const at = new Date(atMs).toISOString();
  const quantity = 1 + (i % 3);
  return {
    eventId: `${orderId}.order.paid`, type: 'order.paid', version: 1, occurredAt: at, orderId, orderVersion: 2, status: 'paid', charityId, charityName: '基准公益',
    streamId: `s${i % 20}`, productId: `p${i % 50}`, productName: '赣南脐橙 5 kg', hostId: `h${i % 5}`, viewerId: `v${i % 1000}`, buyerMasked: '张**', quantity,
    unitPriceFen: 4990, pledgePerUnitFen: 200, totalFen: 4990 * quantity, pledgeTotalFen: 200 * quantity, createdAt: at, expiresAt: at, paidAt: at,
    paymentId: `pay_${orderId}`, idempotencyKey: `k_${orderId}`, bodyHash: 'h',
  } as OrderEvent;
}

export const GENESIS_HEAD = GENESIS;
export type { LedgerEntry };
