/**
 * The allocator's Redis scripts. Keys are derived from ARGV[1] (the namespace prefix): single-instance
 * Redis, not Cluster. Amounts travel as strings or integer replies, never through cjson's number
 * printing, so large fen values stay exact.
 */

const interpreter = `
local P, CHANNEL = ARGV[1], ARGV[2]
local touched = {}
local run
run = function(ops)
  for _, op in ipairs(ops) do
    local k = op[1]
    if k == 'hincrby' then redis.call('HINCRBY', P .. op[2], op[3], op[4])
    elseif k == 'hset' then redis.call('HSET', P .. op[2], op[3], op[4])
    elseif k == 'lpush' then
      redis.call('LPUSH', P .. op[2], op[3])
      redis.call('LTRIM', P .. op[2], 0, op[4] - 1)
    elseif k == 'confirm' then
      redis.call('ZADD', P .. 'tot:confirm', string.format('%d', op[3]), op[2])
      redis.call('HSET', P .. 'tot:confirm:ops', op[2], cjson.encode(op[4]))
    elseif k == 'unconfirm' and op[4] then
      -- a partial refund before confirmation: the pending confirmation will apply the order net of it
      local pending = redis.call('HGET', P .. 'tot:confirm:ops', op[2])
      if pending and redis.call('ZSCORE', P .. 'tot:confirm', op[2]) then
        local list = cjson.decode(pending)
        for _, x in ipairs(op[3]) do list[#list + 1] = x end
        redis.call('HSET', P .. 'tot:confirm:ops', op[2], cjson.encode(list))
      else run(op[3]) end
    elseif k == 'unconfirm' then
      if redis.call('ZREM', P .. 'tot:confirm', op[2]) == 1 then redis.call('HDEL', P .. 'tot:confirm:ops', op[2])
      else run(op[3]) end
    elseif k == 'touch' then touched[op[2]] = true end
  end
end
local function publish()
  for streamId in pairs(touched) do
    local seq = redis.call('HINCRBY', P .. 'tot:s:' .. streamId, 'seq', 1)
    redis.call('PUBLISH', CHANNEL, '{"streamId":"' .. streamId .. '","seq":' .. seq .. '}')
  end
end
`;

/**
 * ARGV: prefix, channel, plans JSON [{c, before, after: {seq, hash, partition, offset}, ops}].
 * Per charity, applies the ops only if the chain head is still where the plan started (compare and
 * set), so each entry changes the totals exactly once; a head already past the plan means a rebuild
 * or an earlier run folded these entries in. Answers {'REBUILD'} when the totals are gone,
 * {'BUSY'} during a rebuild, {'CONFLICT', charityId} when another writer moved the head.
 */
export const applyPlansLua = `${interpreter}
if redis.call('EXISTS', P .. 'tot:built') == 0 then return {'REBUILD'} end
if redis.call('EXISTS', P .. 'tot:lock') == 1 then return {'BUSY'} end
local plans = cjson.decode(ARGV[3])
for _, p in ipairs(plans) do
  local cur = tonumber(redis.call('HGET', P .. 'chain:' .. p.c, 'seq') or '0')
  if cur ~= p.before and cur < p.after.seq then return {'CONFLICT', p.c} end
end
local applied = 0
for _, p in ipairs(plans) do
  local hk = P .. 'chain:' .. p.c
  local cur = tonumber(redis.call('HGET', hk, 'seq') or '0')
  if cur == p.before then
    run(p.ops)
    redis.call('HSET', hk, 'seq', p.after.seq, 'hash', p.after.hash, 'partition', p.after.partition, 'offset', p.after.offset)
    applied = applied + 1
  end
end
publish()
return {'OK', applied}
`;

/** ARGV: prefix, channel, nowMs, limit. Confirms donations whose refund window has passed. */
export const confirmDueLua = `${interpreter}
local due = redis.call('ZRANGEBYSCORE', P .. 'tot:confirm', '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, m in ipairs(due) do
  local ops = redis.call('HGET', P .. 'tot:confirm:ops', m)
  redis.call('ZREM', P .. 'tot:confirm', m)
  redis.call('HDEL', P .. 'tot:confirm:ops', m)
  if ops then run(cjson.decode(ops)) end
end
publish()
return #due
`;

/**
 * ARGV: prefix, items JSON [{e: eventId, o: orderId, s: streamId, c: charityId, k: 'p'|'r', a: "amount", n?, q?, b?, r?}].
 * For each paid order and each sponsor match of its stream and charity: takes min(want, remaining)
 * once per order (a repeat answers what was taken); for a refund, gives the taken amount back once, or for
 * refund n of an order (q units, b refunded before it, r after) its share by matchShareBack's rule, once.
 * Answers a flat array: eventId, matchId, amount, want, eventId, …
 */
export const takeMatchesLua = `
local P = ARGV[1]
local items = cjson.decode(ARGV[2])
local out = {}
local function amountOf(v) return tonumber(string.sub(v, 1, string.find(v, ':', 1, true) - 1)) end
for _, it in ipairs(items) do
  local ids = redis.call('SMEMBERS', P .. 'match:for:' .. it.s .. ':' .. it.c)
  table.sort(ids)
  for _, id in ipairs(ids) do
    local mk = P .. 'match:' .. id
    local amt, want
    if it.k == 'p' then
      local prev = redis.call('HGET', mk .. ':taken', it.o)
      if prev then
        amt = amountOf(prev)
        want = tonumber(string.sub(prev, string.find(prev, ':', 1, true) + 1))
      else
        local p = tonumber(it.a) * tonumber(redis.call('HGET', mk, 'ratioPercent'))
        want = (p - p % 100) / 100
        amt = math.min(want, tonumber(redis.call('HGET', mk, 'remainingFen')))
        if amt < 0 then amt = 0 end
        if amt > 0 then redis.call('HINCRBY', mk, 'remainingFen', string.format('%d', -amt)) end
        redis.call('HSET', mk .. ':taken', it.o, string.format('%d:%d', amt, want))
      end
    elseif it.n then
      -- matchShareBack (allocate.ts): floor(taken * r / q) - floor(taken * b / q), once per (order, refund)
      local back = redis.call('HGET', mk .. ':returned', it.o .. '#' .. it.n)
      if back then amt = tonumber(back)
      else
        local prev = redis.call('HGET', mk .. ':taken', it.o)
        local taken = 0
        if prev then taken = amountOf(prev) end
        amt = math.floor(taken * it.r / it.q) - math.floor(taken * it.b / it.q)
        if amt > 0 then redis.call('HINCRBY', mk, 'remainingFen', string.format('%d', amt)) end
        redis.call('HINCRBY', mk .. ':returned', it.o, string.format('%d', amt))
        redis.call('HSET', mk .. ':returned', it.o .. '#' .. it.n, string.format('%d', amt))
      end
      want = amt
    else
      local back = redis.call('HGET', mk .. ':returned', it.o)
      if back then amt = tonumber(back)
      else
        local prev = redis.call('HGET', mk .. ':taken', it.o)
        amt = 0
        if prev then amt = amountOf(prev) end
        if amt > 0 then redis.call('HINCRBY', mk, 'remainingFen', string.format('%d', amt)) end
        redis.call('HSET', mk .. ':returned', it.o, string.format('%d', amt))
      end
      want = amt
    end
    out[#out + 1] = it.e
    out[#out + 1] = id
    out[#out + 1] = amt
    out[#out + 1] = want
  end
end
return out
`;
