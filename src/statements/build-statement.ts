import type { Deps } from '../deps';
import { DomainError } from '../infra/errors';
import { lookupNames } from '../catalog';
import { periodProblem, Statement, StatementAccumulator } from './statement.math';
import { StatementsRepository } from './statements.repository';

export interface Period { from: Date; to: Date }

/** Refuses a period that is reversed, malformed or longer than three years (422, naming the field). */
export function checkPeriod(from: string, to: string): Period {
  const p = { from: new Date(from), to: new Date(to) };
  const problem = periodProblem(p.from, p.to);
  if (problem) throw new DomainError('VALIDATION_FAILED', 'invalid period', [problem]);
  return p;
}

/**
 * Builds a charity's statement for [from, to): the opening balance from stored period balances (never by
 * re-reading history), then one streamed pass over the period's entries, day by day in store order
 * (the figures do not depend on it; memory independent of their number and of a day's size);
 * then names everything in one batched read per kind. Cost: O(entries in the period).
 */
export async function buildStatement(deps: Deps, charityId: string, period: Period, onEntry?: () => void): Promise<Statement> {
  const started = Date.now();
  const acc = new StatementAccumulator(charityId, period.from, period.to);
  const repo = new StatementsRepository(deps);
  const opening = await repo.balanceBefore(charityId, period.from);
  acc.addOpening(opening.sumFen, opening.head);
  const read = await repo.eachBetween(charityId, period.from, period.to, (e) => { acc.add(e); onEntry?.(); });
  const names = await lookupNames(deps, { charityIds: [charityId], ...acc.ids() });
  const s = acc.finish({ charity: names.charities.get(charityId), streams: names.streams, hosts: names.hosts, products: names.products });
  deps.logger.info({ charityId, from: s.from, to: s.to, read, entries: s.entries, ms: Date.now() - started }, 'statement built');
  return s;
}
