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
 * Builds a charity's statement for [from, to) in one streamed pass over its entries before `to`
 * (memory independent of the number of entries), then names everything in one batched read per kind.
 */
export async function buildStatement(deps: Deps, charityId: string, period: Period, onEntry?: () => void): Promise<Statement> {
  const started = Date.now();
  const acc = new StatementAccumulator(charityId, period.from, period.to);
  let read = 0;
  for await (const e of new StatementsRepository(deps).entriesBefore(charityId, period.to)) {
    acc.add(e);
    read++;
    onEntry?.();
  }
  const names = await lookupNames(deps, { charityIds: [charityId], ...acc.ids() });
  const s = acc.finish({ charity: names.charities.get(charityId), streams: names.streams, hosts: names.hosts, products: names.products });
  deps.logger.info({ charityId, from: s.from, to: s.to, read, entries: s.entries, ms: Date.now() - started }, 'statement built');
  return s;
}
