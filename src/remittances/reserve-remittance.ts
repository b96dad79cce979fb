import type Redis from 'ioredis';
import type { Deps } from '../deps';
import { builtCharitiesKey, charityKeyspace } from '../allocator/totals.store';
import { totalsKeys } from '../allocator/totals';

/**
 * KEYS: the agreement's layers hash, its pending remittances, its confirmed allocations by running sum, the totals'
 * built marker and rebuild lock, the set of agreements with pending remittances (all under the agreement's charity's
 * tag {tot:<charityId>}, beside the totals the allocator moves), the streams of its confirmed allocations. ARGV: remittance id, amount, now (ms).
 * Refuses an amount above confirmed − remitted − pending; else records it as pending ("amount:ms") and answers the
 * seqs of the confirmed allocations it covers, oldest first (from the first not yet covered to the one its last fen
 * reaches), then the amount split by those allocations' streams (stream, fen, stream, fen, …): the part of each
 * covered allocation the remittance reaches goes to its stream. Reads the covered allocations a page at a time.
 */
const reserveLua = `
if redis.call('EXISTS', KEYS[4]) == 0 or redis.call('EXISTS', KEYS[5]) == 1 then return {'BUSY'} end
local confirmed = tonumber(redis.call('HGET', KEYS[1], 'confirmedFen') or '0')
local remitted = tonumber(redis.call('HGET', KEYS[1], 'remittedFen') or '0')
local pending = 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do pending = pending + tonumber(string.match(v, '^%d+')) end
local amount = tonumber(ARGV[2])
local available = confirmed - remitted - pending
if amount > available then
  if available < 0 then available = 0 end
  return {'EXCEEDS', string.format('%d', available)}
end
local cursor = remitted + pending
local first = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. string.format('%d', cursor), '+inf', 'LIMIT', 0, 1)
local last = redis.call('ZRANGEBYSCORE', KEYS[3], string.format('%d', cursor + amount), '+inf', 'LIMIT', 0, 1)
local stop = cursor + amount
local prev = 0
local before = redis.call('ZREVRANGEBYSCORE', KEYS[3], string.format('%d', cursor), '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
if before[2] then prev = tonumber(before[2]) end
local split, order = {}, {}
local offset, done = 0, false
while not done do
  local page = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. string.format('%d', cursor), '+inf', 'WITHSCORES', 'LIMIT', offset, 500)
  if #page == 0 then break end
  for i = 1, #page, 2 do
    local score = tonumber(page[i + 1])
    local lo, hi = math.max(prev, cursor), math.min(score, stop)
    if hi > lo then
      local s = redis.call('HGET', KEYS[7], page[i]) or ''
      if not split[s] then split[s] = 0; order[#order + 1] = s end
      split[s] = split[s] + (hi - lo)
    end
    prev = score
    if score >= stop then done = true; break end
  end
  offset = offset + 500
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
redis.call('SADD', KEYS[6], KEYS[2])
local out = {'OK', first[1] or '0', last[1] or '0'}
for _, s in ipairs(order) do out[#out + 1] = s; out[#out + 1] = string.format('%d', split[s]) end
return out
`;

/** An agreement, or its id (then its charity is read: its keys live under that charity's tag). */
type AgreementRef = string | { _id: string; charityId: string };
async function refOf(deps: Deps, a: AgreementRef): Promise<{ _id: string; charityId: string }> {
  if (typeof a !== 'string') return a;
  // query: agreements.byId
  const doc = await deps.db.collection<{ _id: string; charityId: string }>('agreements').findOne({ _id: a }, { projection: { charityId: 1 } });
  return { _id: a, charityId: doc?.charityId ?? '' };
}

type Scripted = Redis & { lgReserveRemittance(...args: string[]): Promise<string[]> };

export type Reservation = { ok: true; coversFrom: number; coversTo: number; byStream: Record<string, number> } | { ok: false; reason: 'exceeds'; availableFen: number } | { ok: false; reason: 'busy' };

/**
 * Takes a remittance's amount from what its agreement has confirmed and not yet remitted, atomically: two
 * remittances at once can never both pass if together they exceed it. The allocator frees the reservation
 * when it writes the remittance's entry (the same script run that moves the remitted layer).
 */
export async function reserveRemittance(deps: Deps, agreementOrId: AgreementRef, remittanceId: string, amountFen: number, now = Date.now()): Promise<Reservation> {
  const agreement = await refOf(deps, agreementOrId);
  const agreementId = agreement._id;
  const r = deps.redis as Scripted;
  if (typeof r.lgReserveRemittance !== 'function') deps.redis.defineCommand('lgReserveRemittance', { lua: reserveLua, numberOfKeys: 7 });
  const tk = charityKeyspace(deps, agreement.charityId);
  const keys = [totalsKeys.agreement(agreementId), totalsKeys.reserved(agreementId), totalsKeys.confirmedBySum(agreementId), totalsKeys.built, totalsKeys.lock, totalsKeys.pendingRemittances, totalsKeys.confirmedStreams(agreementId)].map((k) => tk(k));
  const [status, a, b, ...split] = await r.lgReserveRemittance(...keys, remittanceId, String(amountFen), String(now));
  if (status === 'BUSY') return { ok: false, reason: 'busy' };
  if (status === 'EXCEEDS') return { ok: false, reason: 'exceeds', availableFen: Number(a) };
  const byStream: Record<string, number> = {};
  // entries that name no stream (none today) stay out of the split
  for (let i = 0; i < split.length; i += 2) if (split[i]) byStream[split[i]] = Number(split[i + 1]);
  return { ok: true, coversFrom: Number(a), coversTo: Number(b), byStream };
}


/** Every pending remittance, with its agreement's hash key, amount and when it was reserved (charity by charity). */
export async function pendingRemittances(deps: Deps): Promise<Array<{ key: string; remittanceId: string; amountFen: number; atMs: number }>> {
  const charities = await deps.redis.smembers(builtCharitiesKey(deps));
  const keys = (await Promise.all(charities.map((c) => deps.redis.smembers(charityKeyspace(deps, c)(totalsKeys.pendingRemittances))))).flat();
  const out = [];
  for (const key of keys) {
    for (const [remittanceId, v] of Object.entries(await deps.redis.hgetall(key))) {
      const [amount, at] = v.split(':').map(Number);
      out.push({ key, remittanceId, amountFen: amount, atMs: at ?? 0 });
    }
  }
  return out;
}

/** Gives a reservation back (the remittance's event could not be published). */
export async function releaseRemittance(deps: Deps, agreementOrId: AgreementRef, remittanceId: string): Promise<void> {
  const agreement = await refOf(deps, agreementOrId);
  await deps.redis.hdel(charityKeyspace(deps, agreement.charityId)(totalsKeys.reserved(agreement._id)), remittanceId);
}
