import type { Deps } from '../deps';
import { totalsKeyspace } from '../allocator/totals.store';
import { totalsKeys } from '../allocator/totals';
import { zeroLayers, type Layers } from './agreement.types';

const DAY_MS = 86_400_000;
const num = (v: string | undefined | null) => Number(v ?? 0);

/**
 * The four layers (pledged, confirmed, remitted, acknowledged) and the overdue amount of each agreement, from the
 * totals the allocator keeps (rebuilt from the ledger by `rebuild-totals`). Overdue: the confirmed donations whose
 * confirmation + the agreement's remitWithinDays is at or before `now`, oldest first, less what was remitted.
 * One pipeline: per agreement its hash, and the last confirmation due by now with the running sum through it.
 */
export async function agreementLayers(deps: Deps, agreementIds: string[], now = Date.now(), remitWithinDays?: Map<string, number>): Promise<Map<string, Layers>> {
  const out = new Map<string, Layers>();
  if (!agreementIds.length) return out;
  const days = remitWithinDays ?? await remitDaysOf(deps, agreementIds);
  const tk = totalsKeyspace(deps);
  const pipe = deps.redis.pipeline();
  for (const id of agreementIds) {
    pipe.hgetall(tk(totalsKeys.agreement(id)));
    pipe.zrevrangebyscore(tk(totalsKeys.confirmedByTime(id)), now - (days.get(id) ?? 0) * DAY_MS, '-inf', 'LIMIT', 0, 1);
  }
  const res = (await pipe.exec()) ?? [];
  for (const [err] of res) if (err) throw err;
  const due = await Promise.all(agreementIds.map((id, i) => {
    const last = res[2 * i + 1][1] as string[];
    return last.length ? deps.redis.zscore(tk(totalsKeys.confirmedBySum(id)), last[0]) : Promise.resolve('0');
  }));
  agreementIds.forEach((id, i) => {
    const h = res[2 * i][1] as Record<string, string>;
    const l = zeroLayers();
    l.pledgedFen = num(h.pledgedFen);
    l.confirmedFen = num(h.confirmedFen);
    l.remittedFen = num(h.remittedFen);
    l.acknowledgedFen = num(h.acknowledgedFen);
    // due by now is counted on confirmations before refunds taken back after them: never more than what is confirmed
    l.overdueFen = Math.max(0, Math.min(num(due[i]), l.confirmedFen) - l.remittedFen);
    out.set(id, l);
  });
  return out;
}

/** The layers of a host or a charity: their totals, and the overdue of the agreements given (theirs). */
export async function partyLayers(deps: Deps, party: { hostId: string } | { charityId: string }, overdue: Iterable<Layers>): Promise<Layers> {
  const tk = totalsKeyspace(deps);
  const l = zeroLayers();
  if ('hostId' in party) {
    const h = await deps.redis.hgetall(tk(totalsKeys.host(party.hostId)));
    Object.assign(l, { pledgedFen: num(h.pledgedFen), confirmedFen: num(h.confirmedFen), remittedFen: num(h.remittedFen), acknowledgedFen: num(h.acknowledgedFen) });
  } else {
    const h = await deps.redis.hgetall(tk(totalsKeys.charity(party.charityId)));
    Object.assign(l, { pledgedFen: num(h.donationFen), confirmedFen: num(h.confirmedDonationFen), remittedFen: num(h.remittedFen), acknowledgedFen: num(h.acknowledgedFen) });
  }
  for (const a of overdue) l.overdueFen += a.overdueFen;
  return l;
}

async function remitDaysOf(deps: Deps, ids: string[]): Promise<Map<string, number>> {
  // one _id read each: `$in` is not pushed down on FerretDB (query: agreements.byId)
  const docs = await Promise.all(ids.map((id) => deps.db.collection<{ _id: string; remitWithinDays: number }>('agreements').findOne({ _id: id }, { projection: { remitWithinDays: 1 } })));
  return new Map(docs.filter((d) => d !== null).map((d) => [d._id, d.remitWithinDays]));
}
