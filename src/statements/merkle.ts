import { sha256 } from '../infra/sha256';
import { LEDGER_BLOCK_SIZE } from '../allocator/ledger.types';

/**
 * A Merkle tree over a charity's entry hashes in seq order (leaf i = entry seq i+1), shaped as in
 * RFC 6962/9162: the left subtree is the largest power of two below n. Aligned blocks of BLOCK_SIZE
 * leaves are perfect subtrees of every larger tree, so their roots can be cached once and a proof
 * stays ~log2(n) hashes long. Pure: no I/O.
 */
export const BLOCK_SIZE = LEDGER_BLOCK_SIZE;

const sha = (...parts: Buffer[]) => sha256(Buffer.concat(parts));
const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

/** Leaf hash of an entry hash (hex); the 0x00/0x01 prefixes keep leaves and nodes apart. */
export function leafHash(entryHashHex: string): Buffer {
  return sha(LEAF, Buffer.from(entryHashHex, 'hex'));
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return sha(NODE, left, right);
}

function largestPow2Below(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Where the tree's pieces come from: leaf(i) for leaves that must be hashed one by one, and
 * blockRoot(b) for complete blocks whose root is known (undefined if it must be computed from leaves).
 */
export interface LeafSource {
  leaf(i: number): string;
  blockRoot?(b: number): Buffer | undefined;
  /** root of the perfect, aligned subtree [lo, lo + n) for n = BLOCK_SIZE × 2^k, when stored (the allocator writes them) */
  nodeRoot?(lo: number, n: number): Buffer | undefined;
}

const isStoredNode = (lo: number, n: number) => n >= BLOCK_SIZE && (n & (n - 1)) === 0 && lo % n === 0;

/** Root of leaves [lo, hi). */
export function subtreeRoot(src: LeafSource, lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n <= 0) throw new RangeError('empty subtree');
  if (n === BLOCK_SIZE && lo % BLOCK_SIZE === 0) {
    const cached = src.blockRoot?.(lo / BLOCK_SIZE);
    if (cached) return cached;
  }
  if (isStoredNode(lo, n)) {
    const stored = src.nodeRoot?.(lo, n);
    if (stored) return stored;
  }
  if (n === 1) return leafHash(src.leaf(lo));
  const k = largestPow2Below(n);
  return nodeHash(subtreeRoot(src, lo, lo + k), subtreeRoot(src, lo + k, hi));
}

/**
 * Root of a perfect subtree over these entry hashes (hex; a power-of-two count, as a block's): what subtreeRoot
 * answers for them, computed level by level through one scratch buffer instead of a concatenated copy a hash (the
 * allocator seals a block every 64 entries). An entry hash that is not 64 hex digits goes the general way.
 */
export function perfectRoot(entryHashesHex: string[]): Buffer {
  const n = entryHashesHex.length;
  if (n === 0 || (n & (n - 1)) !== 0) throw new RangeError('not a perfect subtree');
  const scratch = Buffer.allocUnsafe(65);
  let level: Buffer[] = [];
  for (const hex of entryHashesHex) {
    scratch[0] = 0;
    if (hex.length !== 64 || scratch.write(hex, 1, 'hex') !== 32) return subtreeRoot({ leaf: (i) => entryHashesHex[i] }, 0, n);
    level.push(sha256(scratch.subarray(0, 33)));
  }
  scratch[0] = 1;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) {
      level[i].copy(scratch, 1);
      level[i + 1].copy(scratch, 33);
      next.push(sha256(scratch));
    }
    level = next;
  }
  return level[0];
}

/** Root of a tree of `size` leaves; the empty tree's root is SHA-256 of nothing. */
export function treeRoot(src: LeafSource, size: number): string {
  return size === 0 ? sha().toString('hex') : subtreeRoot(src, 0, size).toString('hex');
}

/** Audit path (hex, leaf-side first) proving leaf `index` is in the tree of `size` leaves. */
export function auditPath(src: LeafSource, index: number, size: number): string[] {
  if (index < 0 || index >= size) throw new RangeError('leaf index outside the tree');
  const path: Buffer[] = [];
  const walk = (m: number, lo: number, hi: number) => {
    const n = hi - lo;
    if (n === 1) return;
    const k = largestPow2Below(n);
    if (m < k) {
      walk(m, lo, lo + k);
      path.push(subtreeRoot(src, lo + k, hi));
    } else {
      walk(m - k, lo + k, hi);
      path.push(subtreeRoot(src, lo, lo + k));
    }
  };
  walk(index, 0, size);
  return path.map((b) => b.toString('hex'));
}

/** RFC 9162 §2.1.3.2: recomputes the root from a leaf and its audit path; true when it equals `root`. */
export function verifyAuditPath(entryHashHex: string, index: number, size: number, path: string[], rootHex: string): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (!/^[0-9a-f]{64}$/.test(entryHashHex) || !path.every((p) => /^[0-9a-f]{64}$/.test(p))) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(entryHashHex);
  for (const hex of path) {
    const p = Buffer.from(hex, 'hex');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString('hex') === rootHex;
}
