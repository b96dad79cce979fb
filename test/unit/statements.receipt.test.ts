import { chainEntries, hashEntry } from '../../src/allocator/chain';
import { GENESIS, LedgerEntry } from '../../src/allocator/ledger.types';
import { auditPath, treeRoot } from '../../src/statements/merkle';
import { verifyReceipt, Receipt, PublicHead } from '../../src/statements/receipt.verify';

const chain = chainEntries(GENESIS, Array.from({ length: 2500 }, (_, i) => ({
  key: `e${i}:${i === 2000 ? 'reversal' : 'allocation'}`, charityId: 'c1', kind: i === 2000 ? 'reversal' as const : 'allocation' as const,
  amountFen: i === 2000 ? -300 : 300, salesFen: 0, quantity: 1, orderId: i === 1500 || i === 2000 ? 'o_buyer' : `o${i}`, streamId: 's1', productId: 'p1', hostId: 'h1',
  eventId: `e${i}`, matchId: null, at: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
})));
const src = { leaf: (i: number) => chain[i].hash };
const head: PublicHead = { id: 'c1', headSeq: chain.length, headHash: chain[chain.length - 1].hash, merkleRoot: treeRoot(src, chain.length) };
const proven = (e: LedgerEntry) => ({ entry: e, proof: { leafIndex: e.seq - 1, treeSize: chain.length, path: auditPath(src, e.seq - 1, chain.length) } });

function receipt(entries = [chain[1500], chain[2000]]): Receipt {
  return {
    orderId: 'o_buyer', charityId: 'c1', charityName: '基金会', amountFen: 300, status: 'reversed', orderStatus: 'refunded',
    entrySeq: chain[1500].seq, entryHash: chain[1500].hash, proof: proven(chain[1500]).proof, entries: entries.map(proven),
    head: { seq: head.headSeq, hash: head.headHash, merkleRoot: head.merkleRoot },
  };
}

describe('verifyReceipt', () => {
  it('when the receipt is untouched, then it checks out with nothing but itself and the public head', () => {
    expect(verifyReceipt(receipt(), head)).toEqual({ ok: true, problems: [] });
  });

  it('when the entry\'s amount is altered, then the check fails naming the entry', () => {
    const r = receipt();
    r.entries[0].entry = { ...r.entries[0].entry, amountFen: 30_000 };
    expect(verifyReceipt(r, head).problems).toContain('entry 1501: its fields do not hash to ' + chain[1500].hash);
  });

  it('when the altered entry is re-hashed as well, then it is no longer in the published tree', () => {
    const r = receipt();
    const forged = { ...chain[1500], amountFen: 30_000 };
    forged.hash = hashEntry(forged);
    r.entries[0].entry = forged;
    expect(verifyReceipt(r, head).problems).toEqual(expect.arrayContaining([expect.stringContaining('entry 1501: not in the published tree')]));
  });

  it('when the head differs or the status claims more than the entries show, then the check fails', () => {
    expect(verifyReceipt(receipt(), { ...head, merkleRoot: '0'.repeat(64) }).ok).toBe(false);
    expect(verifyReceipt(receipt([chain[1500]]), head).problems).toContain('status says reversed, the entries say allocated');
  });
});
