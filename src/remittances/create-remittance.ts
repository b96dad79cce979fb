import { randomBytes } from 'node:crypto';
import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { ORDER_EVENT_VERSION, type RemittanceEvent } from '../events';
import { RemittancesRepository, type RemittanceDoc } from './remittance.models';
import { releaseRemittance, reserveRemittance } from './reserve-remittance';
import { remittanceView, type RemittanceView } from './remittance.view';

export interface CreateRemittanceInput { agreementId: string; amountFen: number; paidAt: string; reference: string }

/** How far in the future a paidAt may be (clocks differ a little). */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Publishes a remittance or answer event on the order events' topic, keyed by its charity (the chain's one writer). */
export async function publishRemitEvent(deps: Deps, e: RemittanceEvent): Promise<void> {
  await deps.producer.sendMany(deps.config.kafka.topics.orderEvents, [{ key: e.charityId, value: JSON.stringify(e) }]);
}

/** The `remittance.sent` event of a stored remittance: the same bytes whenever it is (re-)published. */
export const sentEventOf = (d: RemittanceDoc): RemittanceEvent => ({
  eventId: `rm:${d._id}:sent`, type: 'remittance.sent', version: ORDER_EVENT_VERSION, occurredAt: d.createdAt.toISOString(), remittanceId: d._id,
  agreementId: d.agreementId, charityId: d.charityId, hostId: d.hostId, amountFen: d.amountFen, paidAt: d.paidAt.toISOString(), reference: d.reference,
  coversFrom: d.coversFrom, coversTo: d.coversTo, ...(d.byStream ? { byStream: d.byStream } : {}),
});

/**
 * The host records a remittance under its own agreement: the amount is reserved atomically against the agreement's
 * confirmed, unremitted donations (covering them oldest first), the document stored, the event published; the
 * allocator turns it into a `remittance` entry in the charity's chain. Nothing is kept if publishing fails.
 */
export async function createRemittance(deps: Deps, hostId: string, input: CreateRemittanceInput, now = Date.now()): Promise<RemittanceView> {
  const repo = new RemittancesRepository(deps);
  const ag = await repo.agreement(input.agreementId);
  // another host's agreement answers as an unknown one: its existence is not the caller's to learn
  if (!ag || ag.hostId !== hostId) throw new DomainError('NOT_FOUND', 'no such agreement');
  if (ag.status !== 'accepted' && ag.status !== 'suspended') throw new DomainError('INVALID_STATE', `the agreement is ${ag.status}: nothing under it can be remitted`);
  if (Date.parse(input.paidAt) > now + CLOCK_SKEW_MS) throw new DomainError('VALIDATION_FAILED', 'invalid remittance', [{ field: 'body.paidAt', message: 'must not be in the future' }]);
  const id = `rm_${randomBytes(9).toString('base64url')}`;
  const r = await reserveRemittance(deps, ag, id, input.amountFen, now);
  if (!r.ok && r.reason === 'busy') throw new DomainError('UNAVAILABLE', 'totals are being rebuilt; retry shortly', undefined, 2);
  if (!r.ok) throw new DomainError('REMITTANCE_EXCEEDS_UNREMITTED', `the agreement has ${r.availableFen} fen confirmed and not yet remitted`, { availableFen: r.availableFen });
  const doc: RemittanceDoc = {
    _id: id, agreementId: ag._id, charityId: ag.charityId, hostId, amountFen: input.amountFen, paidAt: new Date(input.paidAt), reference: input.reference,
    coversFrom: r.coversFrom, coversTo: r.coversTo, ...(Object.keys(r.byStream).length ? { byStream: r.byStream } : {}), status: 'sent', createdAt: new Date(now),
  };
  try {
    await repo.insert(doc);
    await publishRemitEvent(deps, sentEventOf(doc));
  } catch (err) {
    deps.logger.warn({ err: (err as Error).message, remittanceId: id }, 'remittance not published; reservation released');
    await Promise.allSettled([releaseRemittance(deps, ag, id), repo.remove(id)]);
    throw new DomainError('UNAVAILABLE', 'the remittance could not be recorded; retry', undefined, 1);
  }
  deps.logger.info({ remittanceId: id, agreementId: ag._id, amountFen: doc.amountFen }, 'remittance recorded');
  return remittanceView(doc);
}
