import { selfTimes, selfTimesByOwner, shortLocation, CpuProfile } from '../../scripts/bench/profile';

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });

// root → handler (src/orders/place-order.ts) → parse (node_modules/zod); plus GC
const profile: CpuProfile = {
  startTime: 0,
  endTime: 10_000,
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 4] },
    { id: 2, callFrame: frame('placeOrder', 'file:///work/main/src/orders/place-order.ts', 9), children: [3] },
    { id: 3, callFrame: frame('parse', 'file:///work/main/node_modules/zod/lib/types.js', 99) },
    { id: 4, callFrame: frame('(garbage collector)', '') },
    { id: 5, callFrame: frame('parse', 'file:///work/main/node_modules/zod/lib/types.js', 99) },
    { id: 6, callFrame: frame('(idle)', '') },
  ],
  // sample i lasts until sample i+1: timeDeltas[i+1]
  samples: [2, 3, 3, 4, 5, 6, 2],
  timeDeltas: [0, 1000, 2000, 3000, 500, 700, 9000],
};

describe('bench CPU profile summary', () => {
  it('when samples are present, then self time per function is summed over nodes with the same name and location, idle apart', () => {
    const { total, idle, functions } = selfTimes(profile);
    expect(total).toBeCloseTo(7.2); // ms of busy time: the last sample has no successor and counts 0
    expect(idle).toBeCloseTo(9);
    expect(functions[0]).toMatchObject({ name: 'parse', location: 'node_modules/zod/lib/types.js:100', selfMs: 5.7 });
    expect(functions.map((f) => f.name)).toEqual(['parse', 'placeOrder', '(garbage collector)']);
    expect(functions.reduce((s, f) => s + f.share, 0)).toBeCloseTo(1);
  });

  it('when a profile has only hit counts, then time is spread by hits over the profile duration', () => {
    const p: CpuProfile = { startTime: 0, endTime: 5000, nodes: [{ id: 1, callFrame: frame('a', ''), hitCount: 3 }, { id: 2, callFrame: frame('b', ''), hitCount: 1 }, { id: 3, callFrame: frame('(idle)', ''), hitCount: 1 }] };
    expect(selfTimes(p).functions).toEqual([{ name: 'a', location: '', selfMs: 3, share: 0.75 }, { name: 'b', location: '', selfMs: 1, share: 0.25 }]);
  });

  it('when grouped by owner, then node_modules packages and project files are named', () => {
    const owners = selfTimesByOwner(profile);
    expect(owners[0].owner).toBe('zod');
    expect(owners.map((o) => o.owner)).toContain('src/orders/place-order.ts');
  });

  it('shortens locations to something a person can read, with 1-based line numbers', () => {
    expect(shortLocation('file:///work/main/src/feed/feed.hub.ts', 41)).toBe('src/feed/feed.hub.ts:42');
    expect(shortLocation('file:///x/node_modules/@scope/pkg/index.js', 0)).toBe('node_modules/@scope/pkg/index.js:1');
    expect(shortLocation('node:internal/streams/writable', 3)).toBe('node:internal/streams/writable:4');
    expect(shortLocation('', 3)).toBe('');
  });
});
