import type { Deps } from '../deps';
import type { LedgerEntry } from '../allocator/ledger.types';
import { GENESIS_HASH } from '../allocator/ledger.types';
import { hashEntry } from '../allocator/chain';
import { auditPath, BLOCK_SIZE, LeafSource, subtreeRoot, treeRoot } from './merkle';
import { blockId, StatementsRepository } from './statements.repository';
import type { InclusionProof } from './receipt.verify';

export interface ChainView {
  head: { seq: number; hash: string; merkleRoot: string; totalFen: number };
  /** newest first */
  latest: LedgerEntry[];
  orderEntries: LedgerEntry[];
  proof(seq: number): InclusionProof;
}

interface Options { orderId?: string; atSeq?: number; latest?: number }

/**
 * Reads a charity's chain head, Merkle root and total with one ledger scan: cached block roots for the
 * completed blocks, the entries after them (checked, and cached as new blocks once complete), and, in
 * the same scan, an order's entries. Stops at the first gap or broken link, so it only publishes a sound chain.
 */
export async function loadChain(deps: Deps, charityId: string, opts: Options = {}): Promise<ChainView> {
  const repo = new StatementsRepository(deps);
  const summaries = await repo.blockSummaries(charityId);
  const roots: Buffer[] = [];
  const sums: number[] = [];
  let prevHash = GENESIS_HASH;
  for (const s of summaries) {
    if (s.index !== roots.length) break; // only a gap-free prefix of blocks is trusted
    roots.push(Buffer.from(s.root, 'hex'));
    sums.push(s.sumFen);
    prevHash = s.lastHash;
  }
  const cachedSeq = roots.length * BLOCK_SIZE;
  const scanFrom = Math.max(0, cachedSeq - (opts.latest ?? 0));
  let tail: LedgerEntry[] = [];
  const latest: LedgerEntry[] = [];
  const orderEntries: LedgerEntry[] = [];
  const leavesOf = new Map<number, string[]>();
  const amountsOf = new Map<number, number[]>();
  let broken = false;
  for await (const e of repo.entriesAfter(charityId, scanFrom, opts.orderId)) {
    if (opts.orderId && e.orderId === opts.orderId) orderEntries.push(e);
    if (e.seq <= scanFrom || broken) continue;
    if (e.seq > cachedSeq) {
      const expectedSeq = roots.length * BLOCK_SIZE + tail.length + 1;
      if (e.seq !== expectedSeq || e.prevHash !== prevHash || hashEntry(e) !== e.hash) {
        deps.logger.error({ charityId, seq: e.seq, expectedSeq }, 'ledger chain is broken here; publishing the head before it');
        broken = true;
        continue;
      }
      prevHash = e.hash;
      tail.push(e);
      if (tail.length === BLOCK_SIZE) {
        const index = roots.length;
        const leaves = tail.map((x) => x.hash);
        const root = subtreeRoot({ leaf: (i) => leaves[i - index * BLOCK_SIZE] }, index * BLOCK_SIZE, (index + 1) * BLOCK_SIZE);
        const sumFen = tail.reduce((s, x) => s + x.amountFen, 0);
        await repo.insertBlock({ _id: blockId(charityId, index), charityId, index, firstSeq: tail[0].seq, lastSeq: e.seq, lastHash: e.hash, root: root.toString('hex'), sumFen, leaves: leaves.join(''), amounts: tail.map((x) => x.amountFen).join(',') });
        roots.push(root);
        sums.push(sumFen);
        leavesOf.set(index, leaves);
        amountsOf.set(index, tail.map((x) => x.amountFen));
        tail = [];
      }
    }
    latest.push(e);
    if (latest.length > (opts.latest ?? 0)) latest.shift();
  }
  const complete = roots.length;
  const fullSeq = complete * BLOCK_SIZE + tail.length;
  const size = opts.atSeq !== undefined ? Math.min(opts.atSeq, fullSeq) : fullSeq;
  // leaves of cached blocks are needed only for proofs inside them and for a head inside one
  const needed = new Set(orderEntries.filter((e) => e.seq <= size).map((e) => Math.floor((e.seq - 1) / BLOCK_SIZE)));
  if (size > 0) needed.add(Math.floor((size - 1) / BLOCK_SIZE));
  for (const b of await repo.blocksWithLeaves(charityId, [...needed].filter((b) => b < complete && !leavesOf.has(b)))) {
    leavesOf.set(b.index, b.leaves.match(/.{64}/g) ?? []);
    amountsOf.set(b.index, b.amounts.split(',').map(Number));
  }
  const src: LeafSource = {
    leaf: (i) => {
      const b = Math.floor(i / BLOCK_SIZE);
      return b < complete ? leavesOf.get(b)![i % BLOCK_SIZE] : tail[i - complete * BLOCK_SIZE].hash;
    },
    blockRoot: (b) => (b < complete ? roots[b] : undefined),
  };
  const partialBlock = Math.floor(size / BLOCK_SIZE);
  let totalFen = sums.slice(0, partialBlock).reduce((s, x) => s + x, 0);
  for (let seq = partialBlock * BLOCK_SIZE + 1; seq <= size; seq++) {
    totalFen += partialBlock < complete ? amountsOf.get(partialBlock)![(seq - 1) % BLOCK_SIZE] : tail[seq - 1 - complete * BLOCK_SIZE].amountFen;
  }
  return {
    head: { seq: size, hash: size === 0 ? GENESIS_HASH : src.leaf(size - 1), merkleRoot: treeRoot(src, size), totalFen },
    latest: latest.filter((e) => e.seq <= size).reverse(),
    orderEntries: orderEntries.filter((e) => e.seq <= size),
    proof: (seq) => ({ leafIndex: seq - 1, treeSize: size, path: auditPath(src, seq - 1, size) }),
  };
}
