import type { Deps } from '../deps';
import type { LedgerEntry } from '../allocator/ledger.types';
import { blockOf, GENESIS_HASH } from '../allocator/ledger.types';
import { hashEntry } from '../allocator/chain';
import { auditPath, BLOCK_SIZE, LeafSource, treeRoot } from './merkle';
import { StatementsRepository } from './statements.repository';
import type { InclusionProof } from './receipt.verify';

export interface ChainView {
  head: { seq: number; hash: string; merkleRoot: string; totalFen: number };
  /** newest first */
  latest: LedgerEntry[];
  orderEntries: LedgerEntry[];
  proof(seq: number): InclusionProof;
}

interface Options { orderId?: string; atSeq?: number; latest?: number }

const ZERO = Buffer.alloc(32);
const ZERO_HEX = '0'.repeat(64);

/**
 * The Merkle tree's pieces as they are fetched: stored node roots (perfect subtrees of whole blocks) and
 * the leaves of the few blocks a proof or a partial tail needs. A computation that asks for a piece not
 * yet here gets a placeholder and the piece is noted; the caller fetches what was noted and computes again.
 */
class FetchedTree implements LeafSource {
  readonly nodes = new Map<string, Buffer | null>();
  readonly leaves = new Map<number, string[]>();
  readonly wantNodes = new Map<string, { level: number; index: number }>();
  readonly wantLeaves = new Set<number>();

  leaf(i: number): string {
    const b = Math.floor(i / BLOCK_SIZE);
    const l = this.leaves.get(b);
    if (!l) { this.wantLeaves.add(b); return ZERO_HEX; }
    const h = l[i - b * BLOCK_SIZE];
    if (!h) throw new Error(`leaf ${i} is not in the stored block ${b}`);
    return h;
  }

  nodeRoot(lo: number, n: number): Buffer | undefined {
    const level = Math.log2(n / BLOCK_SIZE);
    const index = lo / n;
    const k = `${level}:${index}`;
    if (!this.nodes.has(k)) { this.wantNodes.set(k, { level, index }); return ZERO; }
    return this.nodes.get(k) ?? undefined;
  }
}

/** Runs a tree computation, fetching by _id (in parallel) what it asked for, until it needs nothing more: O(log n) reads. */
async function resolve<T>(repo: StatementsRepository, charityId: string, tree: FetchedTree, compute: () => T): Promise<T> {
  for (let round = 0; round < 64; round++) {
    tree.wantNodes.clear();
    tree.wantLeaves.clear();
    const out = compute();
    if (!tree.wantNodes.size && !tree.wantLeaves.size) return out;
    const nodeWants = [...tree.wantNodes.entries()];
    const blockWants = [...tree.wantLeaves];
    const docs = await repo.nodes(charityId, [...nodeWants.map(([, w]) => w), ...blockWants.map((index) => ({ level: 0, index }))]);
    nodeWants.forEach(([k], i) => tree.nodes.set(k, docs[i] ? Buffer.from(docs[i]!.root, 'hex') : null));
    await Promise.all(blockWants.map(async (b, i) => {
      const doc = docs[nodeWants.length + i];
      tree.leaves.set(b, doc?.leaves ? doc.leaves.match(/.{64}/g)! : (await repo.block(charityId, b)).map((e) => e.hash));
    }));
  }
  throw new Error(`the Merkle tree of ${charityId} could not be resolved`);
}

/**
 * A charity's published head, Merkle root and total, as of its latest head or an earlier seq, its latest
 * entries and (given an order) the order's entries with proofs. Reads the head document, the head's block
 * (checked entry by entry, link by link: the head stops before the first broken one), the block before it
 * and O(log n) stored Merkle nodes by _id, whatever the ledger's size.
 */
export async function loadChain(deps: Deps, charityId: string, opts: Options = {}): Promise<ChainView> {
  const repo = new StatementsRepository(deps);
  const published = await repo.head(charityId);
  let size = Math.min(opts.atSeq ?? Infinity, published.seq);
  const tb = size > 0 ? blockOf(size) : 0;
  const [tail, [prev]] = await Promise.all([size > 0 ? repo.block(charityId, tb) : Promise.resolve([]), tb > 0 ? repo.nodes(charityId, [{ level: 0, index: tb - 1 }]) : Promise.resolve([null])]);
  if (tb > 0 && !prev) throw new Error(`block ${tb - 1} of ${charityId} is not sealed: rebuild the derived documents (livegive ledger rebuild-derived)`);
  const good: LedgerEntry[] = [];
  let prevHash = prev?.lastHash ?? GENESIS_HASH;
  for (const e of tail) {
    if (e.seq > size) break;
    if (e.seq !== tb * BLOCK_SIZE + good.length + 1 || e.prevHash !== prevHash || hashEntry(e) !== e.hash) {
      deps.logger.error({ charityId, seq: e.seq, expectedSeq: tb * BLOCK_SIZE + good.length + 1 }, 'ledger chain is broken here; publishing the head before it');
      break;
    }
    good.push(e);
    prevHash = e.hash;
  }
  size = Math.min(size, tb * BLOCK_SIZE + good.length);
  const tree = new FetchedTree();
  tree.leaves.set(tb, good.map((e) => e.hash));
  const mine = opts.orderId ? (await repo.orderEntries(charityId, opts.orderId)).filter((e) => e.seq <= size) : [];
  const { root, paths } = await resolve(repo, charityId, tree, () => ({ root: treeRoot(tree, size), paths: new Map(mine.map((e) => [e.seq, auditPath(tree, e.seq - 1, size)])) }));
  const want = opts.latest ?? 0;
  const latest = [...good].reverse();
  if (latest.length < want && tb > 0) latest.push(...(await repo.block(charityId, tb - 1)).reverse());
  return {
    head: { seq: size, hash: good.length ? good[good.length - 1].hash : (prev?.lastHash ?? GENESIS_HASH), merkleRoot: root, totalFen: (prev?.cumFen ?? 0) + good.reduce((s, e) => s + e.amountFen, 0) },
    latest: latest.slice(0, want),
    orderEntries: mine,
    proof: (seq) => ({ leafIndex: seq - 1, treeSize: size, path: paths.get(seq) ?? [] }),
  };
}
