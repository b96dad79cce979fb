import type { LedgerEntry } from '../allocator/ledger.types';
import { hashEntry } from '../allocator/chain';
import { verifyAuditPath } from './merkle';

/** Proof that an entry is leaf seq−1 of the Merkle tree over the charity's first treeSize entry hashes. */
export interface InclusionProof { leafIndex: number; treeSize: number; path: string[] }

export type DonationStatus = 'pending' | 'allocated' | 'partially_reversed' | 'reversed';

/** Where an order's donation stands by its entries: a reversal that leaves units of the order allocated is partial. */
export function donationStatusOf(entries: Pick<LedgerEntry, 'kind' | 'amountFen'>[]): DonationStatus {
  const has = (k: string) => entries.some((e) => e.kind === k);
  const left = entries.filter((e) => e.kind === 'allocation' || e.kind === 'reversal').reduce((n, e) => n + e.amountFen, 0);
  if (has('reversal')) return has('allocation') && left > 0 ? 'partially_reversed' : 'reversed';
  return has('allocation') ? 'allocated' : 'pending';
}

/** What a buyer gets for an order: the entries it produced, each with its proof, and the head they were proven against. */
export interface Receipt {
  orderId: string;
  charityId: string;
  charityName: string;
  /** the pledge the purchase earmarked (pledge per unit × quantity) */
  amountFen: number;
  status: DonationStatus;
  orderStatus: string;
  /** the allocation entry (null while pending) */
  entrySeq: number | null;
  entryHash: string | null;
  proof: InclusionProof | null;
  /** every entry of the order: the allocation, its reversal, sponsor matches, each as its own entry */
  entries: Array<{ entry: LedgerEntry; proof: InclusionProof }>;
  head: { seq: number; hash: string; merkleRoot: string };
  /** issue 15: how far the donation has got (pledged → confirmed → remitted → acknowledged) */
  stage?: DonationStage;
}

export type DonationStage = 'pledged' | 'confirmed' | 'remitted' | 'acknowledged';

/**
 * The stage of a donation whose allocation entry is `seq` (null while pending): confirmed once its refund window
 * has passed, remitted when a remittance written to the ledger covers its entry, acknowledged when the charity
 * acknowledged that remittance.
 */
export function donationStage(alloc: { seq: number; at: string } | null, refundWindowMs: number, now: number, remittances: Array<{ coversFrom: number; coversTo: number; status: string; entrySeq?: number }>): DonationStage {
  if (!alloc) return 'pledged';
  const covering = remittances.filter((r) => r.entrySeq !== undefined && r.coversFrom <= alloc.seq && alloc.seq <= r.coversTo);
  if (covering.some((r) => r.status === 'acknowledged')) return 'acknowledged';
  if (covering.length) return 'remitted';
  return Date.parse(alloc.at) + refundWindowMs <= now ? 'confirmed' : 'pledged';
}

/** The charity's published head: GET /api/v1/public/charities/:id. */
export interface PublicHead { id: string; headSeq: number; headHash: string; merkleRoot: string }

/**
 * Checks a receipt with nothing but itself and the charity's published head: each entry hashes to its
 * own hash, and each hash sits in the published Merkle tree. Answers every problem found.
 */
export function verifyReceipt(receipt: Receipt, head: PublicHead): { ok: boolean; problems: string[] } {
  const problems: string[] = [];
  if (receipt.charityId !== head.id) problems.push(`receipt is for charity ${receipt.charityId}, head is for ${head.id}`);
  if (receipt.head.seq !== head.headSeq || receipt.head.merkleRoot !== head.merkleRoot || receipt.head.hash !== head.headHash) {
    problems.push(`receipt was proven against head ${receipt.head.seq}, the published head is ${head.headSeq} (fetch the head at seq ${receipt.head.seq})`);
  }
  for (const { entry, proof } of receipt.entries) {
    const name = `entry ${entry.seq}`;
    if (entry.charityId !== receipt.charityId || entry.orderId !== receipt.orderId) problems.push(`${name} belongs to another charity or order`);
    if (hashEntry(entry) !== entry.hash) problems.push(`${name}: its fields do not hash to ${entry.hash}`);
    if (proof.leafIndex !== entry.seq - 1 || proof.treeSize !== head.headSeq) problems.push(`${name}: the proof is for another position or tree`);
    else if (!verifyAuditPath(entry.hash, proof.leafIndex, proof.treeSize, proof.path, head.merkleRoot)) problems.push(`${name}: not in the published tree ${head.merkleRoot}`);
  }
  const expected = donationStatusOf(receipt.entries.map((e) => e.entry));
  if (receipt.status !== expected) problems.push(`status says ${receipt.status}, the entries say ${expected}`);
  const alloc = receipt.entries.find((e) => e.entry.kind === 'allocation')?.entry;
  if (alloc && (alloc.amountFen !== receipt.amountFen || alloc.seq !== receipt.entrySeq || alloc.hash !== receipt.entryHash)) {
    problems.push(`the allocation entry ${alloc.seq} does not match the receipt's amount, number or hash`);
  }
  return { ok: problems.length === 0, problems };
}
