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

/** The checked chain after the cached blocks: sealed into a new cached block every BLOCK_SIZE entries. */
class Blocks {
  roots: Buffer[] = [];
  sums: number[] = [];
  prevHash = GENESIS_HASH;
  tail: LedgerEntry[] = [];
  readonly leaves = new Map<number, string[]>();
  readonly amounts = new Map<number, number[]>();
  broken = false;

  constructor(private readonly repo: StatementsRepository, private readonly charityId: string) {}

  get complete() { return this.roots.length; }
  get size() { return this.complete * BLOCK_SIZE + this.tail.length; }

  /** Appends the next entry if it continues the chain; from the first one that does not, nothing more is trusted. */
  async append(e: LedgerEntry): Promise<boolean> {
    if (this.broken || e.seq !== this.size + 1 || e.prevHash !== this.prevHash || hashEntry(e) !== e.hash) {
      this.broken = true;
      return false;
    }
    this.prevHash = e.hash;
    this.tail.push(e);
    if (this.tail.length === BLOCK_SIZE) await this.seal();
    return true;
  }

  private async seal(): Promise<void> {
    const index = this.complete;
    const leaves = this.tail.map((x) => x.hash);
    const amounts = this.tail.map((x) => x.amountFen);
    const root = subtreeRoot({ leaf: (i) => leaves[i % BLOCK_SIZE] }, index * BLOCK_SIZE, (index + 1) * BLOCK_SIZE);
    const sumFen = amounts.reduce((s, x) => s + x, 0);
    await this.repo.insertBlock({
      _id: blockId(this.charityId, index), charityId: this.charityId, index, firstSeq: this.tail[0].seq, lastSeq: this.tail[BLOCK_SIZE - 1].seq,
      lastHash: this.prevHash, root: root.toString('hex'), sumFen, leaves: leaves.join(''), amounts: amounts.join(','),
    });
    this.roots.push(root);
    this.sums.push(sumFen);
    this.leaves.set(index, leaves);
    this.amounts.set(index, amounts);
    this.tail = [];
  }

  /** Loads leaves and amounts of cached blocks that a proof or an earlier head needs. */
  async need(blocks: number[]): Promise<void> {
    const missing = [...new Set(blocks)].filter((b) => b < this.complete && !this.leaves.has(b));
    for (const b of await this.repo.blocksWithLeaves(this.charityId, missing)) {
      this.leaves.set(b.index, b.leaves.match(/.{64}/g) ?? []);
      this.amounts.set(b.index, b.amounts.split(',').map(Number));
    }
  }

  entryAt(seq: number): { hash: string; amountFen: number } {
    const b = Math.floor((seq - 1) / BLOCK_SIZE);
    if (b >= this.complete) return this.tail[seq - 1 - this.complete * BLOCK_SIZE];
    return { hash: this.leaves.get(b)![(seq - 1) % BLOCK_SIZE], amountFen: this.amounts.get(b)![(seq - 1) % BLOCK_SIZE] };
  }

  source(): LeafSource {
    return { leaf: (i) => this.entryAt(i + 1).hash, blockRoot: (b) => (b < this.complete ? this.roots[b] : undefined) };
  }

  totalAt(size: number): number {
    const partial = Math.floor(size / BLOCK_SIZE);
    let total = this.sums.slice(0, partial).reduce((s, x) => s + x, 0);
    for (let seq = partial * BLOCK_SIZE + 1; seq <= size; seq++) total += this.entryAt(seq).amountFen;
    return total;
  }
}

/**
 * Reads a charity's chain head, Merkle root and total with one ledger scan: cached roots for completed
 * blocks, then the entries after them (checked, and cached as blocks once complete), and in the same
 * scan an order's entries. Stops at the first gap or broken link, so it only publishes a sound chain.
 */
export async function loadChain(deps: Deps, charityId: string, opts: Options = {}): Promise<ChainView> {
  const repo = new StatementsRepository(deps);
  const blocks = new Blocks(repo, charityId);
  for (const s of await repo.blockSummaries(charityId)) {
    if (s.index !== blocks.complete) break; // only a gap-free prefix of cached blocks is used
    blocks.roots.push(Buffer.from(s.root, 'hex'));
    blocks.sums.push(s.sumFen);
    blocks.prevHash = s.lastHash;
  }
  const cachedSeq = blocks.size;
  const scanFrom = Math.max(0, cachedSeq - (opts.latest ?? 0));
  const latest: LedgerEntry[] = [];
  const orderEntries: LedgerEntry[] = [];
  for await (const e of repo.entriesAfter(charityId, scanFrom, opts.orderId)) {
    if (opts.orderId && e.orderId === opts.orderId) orderEntries.push(e);
    if (e.seq <= scanFrom) continue;
    if (e.seq > cachedSeq) {
      const wasBroken = blocks.broken;
      if (!(await blocks.append(e))) {
        if (!wasBroken) deps.logger.error({ charityId, seq: e.seq, expectedSeq: blocks.size + 1 }, 'ledger chain is broken here; publishing the head before it');
        continue;
      }
    }
    latest.push(e);
    if (latest.length > (opts.latest ?? 0)) latest.shift();
  }
  const size = Math.min(opts.atSeq ?? Infinity, blocks.size);
  const mine = orderEntries.filter((e) => e.seq <= size);
  await blocks.need([...mine.map((e) => Math.floor((e.seq - 1) / BLOCK_SIZE)), ...(size > 0 ? [Math.floor((size - 1) / BLOCK_SIZE)] : [])]);
  const src = blocks.source();
  return {
    head: { seq: size, hash: size === 0 ? GENESIS_HASH : src.leaf(size - 1), merkleRoot: treeRoot(src, size), totalFen: blocks.totalAt(size) },
    latest: latest.filter((e) => e.seq <= size).reverse(),
    orderEntries: mine,
    proof: (seq) => ({ leafIndex: seq - 1, treeSize: size, path: auditPath(src, seq - 1, size) }),
  };
}
