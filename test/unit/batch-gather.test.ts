import { TurnGather } from '../../src/allocator/batch-gather';

describe('gathering a fetch\'s batches (TurnGather)', () => {
  it('when items are submitted in one turn of the event loop, then they run as one group in order and each gets its own result; a later turn forms its own group', async () => {
    const groups: number[][] = [];
    const g = new TurnGather<number, string>(async (items) => { groups.push(items); return items.map((n) => `r${n}`); });
    // kafkajs starts a fetch's eachBatch calls one after the other, each a few promise hops in
    const first = [1, 2, 3].map((n) => Promise.resolve().then(() => Promise.resolve()).then(() => g.submit(n)));
    expect(await Promise.all(first)).toEqual(['r1', 'r2', 'r3']);
    expect(await g.submit(4)).toBe('r4');
    expect(groups).toEqual([[1, 2, 3], [4]]);
  });

  it('when the group\'s run fails, then every item of that group gets the error and the next group runs afresh', async () => {
    let fail = true;
    const g = new TurnGather<number, number>(async (items) => { if (fail) throw new Error('store away'); return items; });
    const a = g.submit(1);
    const b = g.submit(2);
    await expect(a).rejects.toThrow('store away');
    await expect(b).rejects.toThrow('store away');
    fail = false;
    expect(await g.submit(3)).toBe(3);
  });
});
