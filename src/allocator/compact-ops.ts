import type { TotalsOp } from './totals';

/**
 * One batch's totals operations, folded before they go to Redis: the increments of one hash field summed into
 * one HINCRBY, the names set once (the last value), a recent-list keeping only the pushes that survive its trim,
 * each stream touched once (the script moves a touched stream's seq once a run).
 * Confirmations, refunds and the rest stay as they are, in order; an op that reads what increments wrote (the
 * remittance ops) is a barrier: what came before it is folded and applied before it. Applied by the script in one go, the result is
 * the same (`applyOps` of both agrees, test/unit/compact-ops.test.ts): increments commute with everything else
 * the script does (the nested ones of a confirmation are increments too), a later HSET of a field overwrites an
 * earlier one, and the pushes a list's trim drops never show. A batch of ~1,400 payments went from ~24 Redis
 * calls an entry in the totals script to ~4 (the script was most of the allocator's time in a backlog drain).
 */
export function compactOps(ops: TotalsOp[]): TotalsOp[] {
  const kept: TotalsOp[] = [];
  // exact sums: numbers while every partial stays a safe integer (always, for fen in one batch), BigInt past that;
  // by key, then field (no joined string per op: a batch folds tens of thousands)
  const sums = new Map<string, Map<string, number | bigint>>();
  const sets = new Map<string, TotalsOp>();
  const lists = new Map<string, Array<TotalsOp & { 0: 'lpush' }>>();
  const touched = new Set<string>();
  const flush = () => {
    for (const [key, fields] of sums) for (const [field, n] of fields) kept.push(['hincrby', key, field, String(n)]);
    kept.push(...sets.values());
    sums.clear();
    sets.clear();
  };
  for (const op of ops) {
    if (op[0] === 'hincrby') {
      const fields = sums.get(op[1]) ?? sums.set(op[1], new Map()).get(op[1])!;
      fields.set(op[2], add(fields.get(op[2]) ?? 0, op[3]));
    } else if (op[0] === 'hset') {
      const k = `${op[1]}\u0000${op[2]}`;
      sets.delete(k); // re-inserted last: Map order follows the last write
      sets.set(k, op);
    } else if (op[0] === 'touch') {
      // a set: the script bumps each touched stream's seq once, whatever the number of touches
      if (!touched.has(op[1])) { touched.add(op[1]); kept.push(op); }
    } else if (op[0] === 'lpush') {
      const l = lists.get(op[1]) ?? lists.set(op[1], []).get(op[1])!;
      l.push(op);
    } else {
      // the remittance ops read what the increments before them wrote (ztrim compares a running sum with the
      // remitted field, cumadd scores by a running sum, hdel drops a reservation): fold up to here, keep the order
      if (op[0] === 'ztrim' || op[0] === 'cumadd' || op[0] === 'hdel') flush();
      kept.push(op);
    }
  }
  const pushes = [...lists.values()].flatMap((l) => (l.every((p) => p[3] === l[0][3]) ? l.slice(-l[0][3]) : l));
  flush();
  return [...kept, ...pushes];
}

/** a + b exactly, b an integer string: a number while the result is a safe integer, a BigInt from there on. */
function add(a: number | bigint, b: string): number | bigint {
  if (typeof a === 'number') {
    const n = Number(b);
    const r = a + n;
    if (Number.isSafeInteger(n) && Number.isSafeInteger(r)) return r;
  }
  return BigInt(a) + BigInt(b);
}
