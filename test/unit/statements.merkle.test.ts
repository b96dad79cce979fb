import { createHash } from 'node:crypto';
import { auditPath, BLOCK_SIZE, leafHash, nodeHash, perfectRoot, subtreeRoot, treeRoot, verifyAuditPath } from '../../src/statements/merkle';

const hashes = (n: number) => Array.from({ length: n }, (_, i) => createHash('sha256').update(`entry ${i}`).digest('hex'));

// an independent, naive RFC 6962 tree hash to compare against
function naiveRoot(leaves: string[]): Buffer {
  if (leaves.length === 1) return leafHash(leaves[0]);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}

describe('Merkle tree over entry hashes', () => {
  // at least 2,085 leaves: the proofs below pick leaves 700 and 1500 whatever the block size
  const leaves = hashes(Math.max(2 * BLOCK_SIZE + 37, 2085));
  const src = { leaf: (i: number) => leaves[i] };

  it('when computed with cached block roots, then the root equals the root computed leaf by leaf', () => {
    const blockRoots = [0, 1].map((b) => subtreeRoot(src, b * BLOCK_SIZE, (b + 1) * BLOCK_SIZE));
    const cached = { leaf: (i: number) => { if (i < 2 * BLOCK_SIZE) throw new Error(`leaf ${i} should come from a cached block`); return leaves[i]; }, blockRoot: (b: number) => blockRoots[b] };
    expect(treeRoot(cached, leaves.length)).toBe(naiveRoot(leaves).toString('hex'));
  });

  it('when stored node roots (perfect subtrees of whole blocks) are given, then root and proofs equal those computed leaf by leaf, reading no leaf they cover', () => {
    const n = leaves.length;
    const covered = Math.floor(n / (4 * BLOCK_SIZE)) * 4 * BLOCK_SIZE; // a run of 4-block nodes
    const node = (lo: number, size: number) => (lo + size <= covered ? subtreeRoot(src, lo, lo + size) : undefined);
    const stored = { leaf: (i: number) => { if (i < covered && i !== 5) throw new Error(`leaf ${i} should come from a stored node`); return leaves[i]; }, nodeRoot: node };
    expect(treeRoot(stored, n)).toBe(naiveRoot(leaves).toString('hex'));
    expect(auditPath({ ...stored, leaf: (i: number) => leaves[i] }, 5, n)).toEqual(auditPath(src, 5, n));
  });

  it('when every leaf of small trees is proven, then every proof verifies and is about log2(n) long', () => {
    for (const n of [1, 2, 3, 5, 8, 13]) {
      const l = hashes(n);
      const s = { leaf: (i: number) => l[i] };
      const root = treeRoot(s, n);
      for (let i = 0; i < n; i++) {
        const path = auditPath(s, i, n);
        expect(path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyAuditPath(l[i], i, n, path, root)).toBe(true);
      }
    }
    const root = treeRoot(src, leaves.length);
    const path = auditPath(src, 1500, leaves.length);
    expect(path.length).toBeLessThanOrEqual(12);
    expect(verifyAuditPath(leaves[1500], 1500, leaves.length, path, root)).toBe(true);
  });

  it('when the leaf, its position, the root or a path element changes, then the proof fails', () => {
    const n = leaves.length;
    const root = treeRoot(src, n);
    const path = auditPath(src, 700, n);
    expect(verifyAuditPath(leaves[701], 700, n, path, root)).toBe(false);
    expect(verifyAuditPath(leaves[700], 701, n, path, root)).toBe(false);
    const grown = [...leaves, hashes(n + 1)[n]];
    expect(verifyAuditPath(leaves[700], 700, n + 1, path, treeRoot({ leaf: (i) => grown[i] }, n + 1))).toBe(false);
    const bad = [...path];
    bad[3] = hashes(1)[0];
    expect(verifyAuditPath(leaves[700], 700, n, bad, root)).toBe(false);
    expect(verifyAuditPath(leaves[700], 700, n, path.slice(1), root)).toBe(false);
  });
});

describe('perfectRoot: a block\'s root the fast way', () => {
  it('when the leaves are 1 to 128 entry hashes (a power of two), then it equals subtreeRoot over them; a leaf that is not 64 hex digits is hashed as subtreeRoot hashes it', () => {
    for (let n = 1; n <= 128; n *= 2) {
      const hs = Array.from({ length: n }, (_, i) => createHash('sha256').update(`entry ${n}:${i}`).digest('hex'));
      expect(perfectRoot(hs).toString('hex')).toBe(subtreeRoot({ leaf: (i) => hs[i - 64 * n] }, 64 * n, 65 * n).toString('hex'));
      // 64 characters that are not all hex digits, and a short one
      const odd = hs.map((h, i) => (i === n - 1 ? `${h.slice(0, 62)}zz` : i === 0 && n > 1 ? h.slice(0, 10) : h));
      expect(perfectRoot(odd).toString('hex')).toBe(subtreeRoot({ leaf: (i) => odd[i] }, 0, n).toString('hex'));
    }
    expect(() => perfectRoot(['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)])).toThrow(RangeError);
  });
});
