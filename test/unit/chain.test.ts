import { chainEntries, verifyChain, hashEntry } from '../../src/allocator/chain';
import { GENESIS, UnchainedEntry } from '../../src/allocator/ledger.types';

const entry = (i: number, amountFen = 100): UnchainedEntry => ({
  key: `e${i}:allocation`, charityId: 'c1', kind: 'allocation', amountFen, salesFen: amountFen * 10, quantity: 1,
  orderId: `o${i}`, streamId: 's1', productId: 'p1', hostId: 'h1', eventId: `e${i}`, matchId: null, at: `2026-11-29T10:00:0${i % 10}.000Z`,
});

describe('hash chain', () => {
  const chained = chainEntries(GENESIS, [1, 2, 3, 4].map((i) => entry(i)));

  it('numbers entries 1..n, links each to the previous hash and verifies clean', () => {
    expect(chained.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(chained[0].prevHash).toBe(GENESIS.hash);
    expect(chained[2].prevHash).toBe(chained[1].hash);
    expect(verifyChain('c1', chained)).toMatchObject({ count: 4, problems: [], head: { seq: 4, hash: chained[3].hash } });
  });

  it('is deterministic: the same head and entries give the same hashes', () => {
    expect(chainEntries(GENESIS, [1, 2, 3, 4].map((i) => entry(i)))).toEqual(chained);
  });

  it('continues from a head', () => {
    const more = chainEntries({ seq: 4, hash: chained[3].hash }, [entry(5)]);
    expect(more[0].seq).toBe(5);
    expect(verifyChain('c1', [...chained, ...more]).problems).toEqual([]);
  });

  it('names the entry whose amount was changed', () => {
    const tampered = chained.map((e) => (e.seq === 3 ? { ...e, amountFen: 1 } : e));
    expect(verifyChain('c1', tampered).problems).toEqual([{ seq: 3, problem: 'hash', expected: expect.any(String), found: chained[2].hash }]);
  });

  it('names a deleted entry as a gap, and a reordered pair as broken links', () => {
    const deleted = chained.filter((e) => e.seq !== 2);
    expect(verifyChain('c1', deleted).problems).toContainEqual({ seq: 3, problem: 'gap', expectedSeq: 2 });
    const swapped = [chained[0], chained[2], chained[1], chained[3]];
    const seqs = verifyChain('c1', swapped).problems.map((p) => p.seq);
    expect(seqs).toEqual(expect.arrayContaining([3, 2]));
  });

  it('hashes every field: changing the order id changes the hash', () => {
    expect(hashEntry({ ...chained[0], orderId: 'other' })).not.toBe(chained[0].hash);
  });
});
