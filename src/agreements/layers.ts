import type { Deps } from '../deps';
import { charityKeyspace, hostCharitiesKey } from '../allocator/totals.store';
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
  const docs = await agreementsOf(deps, agreementIds);
  const days = remitWithinDays ?? new Map([...docs].map(([id, d]) => [id, d.remitWithinDays]));
  // an agreement's layers live under its charity's tag: one pipeline per agreement (its own slot)
  const res = await Promise.all(agreementIds.map(async (id) => {
    const tk = charityKeyspace(deps, docs.get(id)?.charityId ?? '');
    const r = (await deps.redis.pipeline().hgetall(tk(totalsKeys.agreement(id)))
      .zrevrangebyscore(tk(totalsKeys.confirmedByTime(id)), now - (days.get(id) ?? 0) * DAY_MS, '-inf', 'LIMIT', 0, 1).exec()) ?? [];
    for (const [err] of r) if (err) throw err;
    const last = r[1][1] as string[];
    return { h: r[0][1] as Record<string, string>, due: last.length ? await deps.redis.zscore(tk(totalsKeys.confirmedBySum(id)), last[0]) : '0' };
  }));
  const due = res.map((r) => r.due);
  agreementIds.forEach((id, i) => {
    const h = res[i].h;
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
  const l = zeroLayers();
  if ('hostId' in party) {
    // a host's layers are the partials of the charities it sold for, each under that charity's tag
    const charities = await deps.redis.smembers(hostCharitiesKey(deps, party.hostId));
    const parts = await Promise.all(charities.map((c) => deps.redis.hgetall(charityKeyspace(deps, c)(totalsKeys.host(party.hostId)))));
    const h = Object.fromEntries(['pledgedFen', 'confirmedFen', 'remittedFen', 'acknowledgedFen'].map((f) => [f, String(parts.reduce((n, p) => n + num(p[f]), 0))]));
    Object.assign(l, { pledgedFen: num(h.pledgedFen), confirmedFen: num(h.confirmedFen), remittedFen: num(h.remittedFen), acknowledgedFen: num(h.acknowledgedFen) });
  } else {
    const h = await deps.redis.hgetall(charityKeyspace(deps, party.charityId)(totalsKeys.charity(party.charityId)));
    Object.assign(l, { pledgedFen: num(h.donationFen), confirmedFen: num(h.confirmedDonationFen), remittedFen: num(h.remittedFen), acknowledgedFen: num(h.acknowledgedFen) });
  }
  for (const a of overdue) l.overdueFen += a.overdueFen;
  return l;
}

async function agreementsOf(deps: Deps, ids: string[]): Promise<Map<string, { charityId: string; remitWithinDays: number }>> {
  // one _id read each: `$in` is not pushed down on FerretDB (query: agreements.byId)
  const docs = await Promise.all(ids.map((id) => deps.db.collection<{ _id: string; charityId: string; remitWithinDays: number }>('agreements').findOne({ _id: id }, { projection: { charityId: 1, remitWithinDays: 1 } })));
  return new Map(docs.filter((d) => d !== null).map((d) => [d._id, d]));
}
