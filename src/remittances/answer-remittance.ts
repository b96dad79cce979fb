import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { ORDER_EVENT_VERSION } from '../events';
import { RemittancesRepository } from './remittance.models';
import { remittanceView, type RemittanceView } from './remittance.view';
import { publishRemitEvent } from './create-remittance';

/**
 * The named charity acknowledges a remittance, or disputes it with a reason: once (a second answer, either kind,
 * is 409). The answer is taken atomically in Redis (HSETNX), then published; the allocator writes the
 * `acknowledgement` entry and the document's new status. Another charity's remittance answers 404.
 */
export async function answerRemittance(deps: Deps, charityId: string, remittanceId: string, answer: { outcome: 'acknowledged' | 'disputed'; reason?: string }, now = Date.now()): Promise<RemittanceView> {
  const repo = new RemittancesRepository(deps);
  const doc = await repo.byId(remittanceId);
  if (!doc || doc.charityId !== charityId) throw new DomainError('NOT_FOUND', 'no such remittance');
  if (doc.status !== 'sent') throw new DomainError('REMITTANCE_ALREADY_ANSWERED', `the remittance was already ${doc.status}`);
  // outside the totals' keys: a totals rebuild never forgets an answer (the document's status covers a lost Redis)
  const guard = deps.key('remit', 'answered');
  if ((await deps.redis.hsetnx(guard, remittanceId, answer.outcome)) === 0) throw new DomainError('REMITTANCE_ALREADY_ANSWERED', 'the remittance was already answered');
  const at = new Date(now);
  try {
    await publishRemitEvent(deps, {
      // one id per answer: should a lost Redis let a second, different answer through, each is its own entry, never a clash
      eventId: `rm:${remittanceId}:${answer.outcome}`, type: answer.outcome === 'acknowledged' ? 'remittance.acknowledged' : 'remittance.disputed', version: ORDER_EVENT_VERSION,
      occurredAt: at.toISOString(), remittanceId, agreementId: doc.agreementId, charityId, hostId: doc.hostId, amountFen: doc.amountFen,
      paidAt: doc.paidAt.toISOString(), reference: doc.reference, coversFrom: doc.coversFrom, coversTo: doc.coversTo,
      ...(doc.byStream ? { byStream: doc.byStream } : {}),
      ...(answer.reason !== undefined ? { reason: answer.reason } : {}),
    });
  } catch (err) {
    await deps.redis.hdel(guard, remittanceId).catch(() => undefined);
    deps.logger.warn({ err: (err as Error).message, remittanceId }, 'remittance answer not published');
    throw new DomainError('UNAVAILABLE', 'the answer could not be recorded; retry', undefined, 1);
  }
  return remittanceView({ ...doc, status: answer.outcome, answeredAt: at, ...(answer.reason !== undefined ? { reason: answer.reason } : {}) });
}
