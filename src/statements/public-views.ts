import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { lookupNames } from '../catalog';
import { getOrder } from '../orders';
import { mulFen } from '../money';
import { BLOCK_SIZE } from './merkle';
import { loadChain } from './load-chain';
import { donationStage, donationStatusOf, type Receipt } from './receipt.verify';
import { RemittancesRepository } from '../remittances';
import { publishedStatements } from './scheduled-statements';

export const LATEST_ENTRIES = 20;

/** The charity's published head and latest entries (no buyer data), optionally as of an earlier seq. */
export async function publicCharity(deps: Deps, charityId: string, atSeq?: number) {
  const names = await lookupNames(deps, { charityIds: [charityId] });
  const charity = names.charities.get(charityId);
  if (!charity) throw new DomainError('NOT_FOUND', 'no such charity');
  const [chain, statements] = await Promise.all([loadChain(deps, charityId, { atSeq, latest: LATEST_ENTRIES }), publishedStatements(deps, charityId)]);
  const products = (await lookupNames(deps, { productIds: chain.latest.map((e) => e.productId) })).products;
  return {
    id: charityId, name: charity.name, registrationNo: charity.registrationNo,
    totalFen: chain.head.totalFen, entries: chain.head.seq, headSeq: chain.head.seq, headHash: chain.head.hash,
    merkleRoot: chain.head.merkleRoot, blockSize: BLOCK_SIZE, statements,
    latest: chain.latest.map((e) => ({ seq: e.seq, kind: e.kind, amountFen: e.amountFen, at: e.at, streamId: e.streamId, productId: e.productId, productName: products.get(e.productId)?.name ?? '' })),
  };
}

/** A buyer's receipt: what the order earmarked, where it stands, and each ledger entry with its inclusion proof. */
export async function getReceipt(deps: Deps, orderId: string): Promise<Receipt> {
  const order = await getOrder(deps, orderId);
  if (!order) throw new DomainError('NOT_FOUND', 'no such order');
  const chain = await loadChain(deps, order.charityId, { orderId });
  const entries = chain.orderEntries.map((entry) => ({ entry, proof: chain.proof(entry.seq) }));
  const alloc = entries.find((e) => e.entry.kind === 'allocation');
  const status = donationStatusOf(entries.map((e) => e.entry));
  const agreementId = alloc?.entry.agreementId;
  const remittances = agreementId ? await new RemittancesRepository(deps).byAgreement(agreementId) : [];
  const stage = donationStage(alloc?.entry ?? null, deps.config.orders.refundWindowSeconds * 1000, Date.now(), remittances);
  return {
    orderId, charityId: order.charityId, charityName: order.charityName,
    amountFen: alloc?.entry.amountFen ?? mulFen(order.pledgePerUnitFen, order.quantity), status, orderStatus: order.status,
    entrySeq: alloc?.entry.seq ?? null, entryHash: alloc?.entry.hash ?? null, proof: alloc?.proof ?? null,
    entries, head: { seq: chain.head.seq, hash: chain.head.hash, merkleRoot: chain.head.merkleRoot }, stage,
  };
}
