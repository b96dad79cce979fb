import { StatementAccumulator, StatementEntry, periodProblem, statementDigest } from '../../src/statements/statement.math';
import { GENESIS_HASH } from '../../src/allocator/ledger.types';

const names = { charity: { name: '壹基金', registrationNo: '53100000500021676Q' }, streams: new Map([['s1', { title: '助农专场' }]]), hosts: new Map(), products: new Map() };
const e = (seq: number, at: string, kind: StatementEntry['kind'], amountFen: number, streamId = 's1'): StatementEntry =>
  ({ seq, at, kind, amountFen, quantity: kind === 'allocation' ? 2 : kind === 'reversal' ? -2 : 0, streamId, productId: 'p1', hostId: 'h1', hash: `h${seq}` });

const from = new Date('2026-11-01T00:00:00.000Z');
const to = new Date('2026-12-01T00:00:00.000Z');

describe('statement math', () => {
  const entries = [
    e(1, '2026-10-31T23:59:59.999Z', 'allocation', 500),
    e(2, '2026-11-01T00:00:00.000Z', 'allocation', 1000),
    e(3, '2026-11-02T00:00:00.000Z', 'match', 1000, 's2'),
    e(4, '2026-11-03T00:00:00.000Z', 'reversal', -1000),
    e(5, '2026-11-03T00:00:00.000Z', 'match_reversal', -400, 's2'),
    e(6, '2026-12-01T00:00:00.000Z', 'allocation', 777),
  ];

  it('when entries straddle the period, then the one at from is in, the one at to is out, and closing = opening + period', () => {
    const acc = new StatementAccumulator('c1', from, to);
    entries.forEach((x) => acc.add(x));
    const s = acc.finish(names);
    expect(s).toMatchObject({ openingFen: 500, allocatedFen: 1000, reversedFen: -1000, matchedFen: 1000, matchReversedFen: -400, closingFen: 1100, entries: 4, firstSeq: 2, lastSeq: 5, headSeq: 5, headHash: 'h5' });
    expect(s.byStream).toEqual([
      { streamId: 's2', title: '', entries: 2, units: 0, allocatedFen: 0, reversedFen: 0, matchedFen: 1000, matchReversedFen: -400, netFen: 600 },
      { streamId: 's1', title: '助农专场', entries: 2, units: 0, allocatedFen: 1000, reversedFen: -1000, matchedFen: 0, matchReversedFen: 0, netFen: 0 },
    ]);
  });

  it('when entries arrive in another order, then the statement and its digest are identical', () => {
    const a = new StatementAccumulator('c1', from, to);
    const b = new StatementAccumulator('c1', from, to);
    entries.forEach((x) => a.add(x));
    [...entries].reverse().forEach((x) => b.add(x));
    const sa = a.finish(names);
    expect(JSON.stringify(b.finish(names))).toBe(JSON.stringify(sa));
    expect(sa.digest).toBe(statementDigest(sa));
    expect(statementDigest({ ...sa, closingFen: sa.closingFen + 1 })).not.toBe(sa.digest);
  });

  it('when the period is empty, then the figures are zero and the opening balance is carried', () => {
    const acc = new StatementAccumulator('c1', new Date('2026-11-10T00:00:00Z'), new Date('2026-11-20T00:00:00Z'));
    entries.forEach((x) => acc.add(x));
    expect(acc.finish(names)).toMatchObject({ openingFen: 1100, closingFen: 1100, entries: 0, firstSeq: null, lastSeq: null, byStream: [], headSeq: 5 });
    const none = new StatementAccumulator('c1', from, to).finish(names);
    expect(none).toMatchObject({ openingFen: 0, closingFen: 0, headSeq: 0, headHash: GENESIS_HASH });
  });

  it('when a period is reversed, malformed or longer than three years, then it is refused naming the field', () => {
    expect(periodProblem(to, from)).toEqual({ field: 'query.from', message: 'must not be after to' });
    expect(periodProblem(new Date('x'), to)?.field).toBe('query.from');
    expect(periodProblem(new Date('2020-01-01T00:00:00Z'), new Date('2023-01-01T00:00:00.001Z'))?.field).toBe('query.to');
    expect(periodProblem(new Date('2020-01-01T00:00:00Z'), new Date('2023-01-01T00:00:00Z'))).toBeNull();
    expect(periodProblem(from, from)).toBeNull();
  });
});
