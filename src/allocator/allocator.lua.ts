/**
 * The allocator's Redis scripts. Every key they touch is passed in KEYS (full names, built in
 * totals.store.ts), all under ONE charity's hash tag {tot:<charityId>}: a call never touches two charities, so
 * charities spread over a cluster's masters. Totals that span charities (a stream's, a product's, a host's) are
 * that charity's partials, summed on read. Totals operations carry their full key names; the interpreter refuses
 * any key the call did not declare.
 * Amounts travel as strings or integer replies, never through cjson's number printing, so large fen
 * values stay exact.
 */

/** K(key): the key itself, or an error if the call did not declare it in KEYS (a cluster routes by KEYS alone). */
const declaredKeys = `
local declared = {}
for _, k in ipairs(KEYS) do declared[k] = true end
local function K(k)
  if not declared[k] then error('undeclared key ' .. tostring(k)) end
  return k
end
`;

const interpreter = `${declaredKeys}local CONFIRM, CONFIRM_OPS = KEYS[1], KEYS[2]
local touched = {}
-- writes that nothing reads before the next flush, collected so that a batch's thousands of them are a few calls:
-- HSETs by key (field, value pairs), the confirmations' ZADDs (score, member) and their stored ops (member, ops)
local hsets, hsetKeys, zadds, zops = {}, {}, {}, {}
local function many(cmd, key, args)
  -- unpack() takes a few thousand values at most: 1,000 (an even number, whole pairs) a call
  for i = 1, #args, 1000 do redis.call(cmd, key, unpack(args, i, math.min(i + 999, #args))) end
end
local function flush()
  for _, key in ipairs(hsetKeys) do many('HSET', key, hsets[key]) end
  hsets, hsetKeys = {}, {}
  if #zadds > 0 then many('ZADD', CONFIRM, zadds); many('HSET', CONFIRM_OPS, zops); zadds, zops = {}, {} end
end
local function append(list, a, b) list[#list + 1] = a; list[#list + 1] = b end
local run
run = function(ops)
  for _, op in ipairs(ops) do
    local k = op[1]
    if k == 'hincrby' then
      if hsets[op[2]] then flush() end
      redis.call('HINCRBY', K(op[2]), op[3], op[4])
    elseif k == 'hset' then
      local key = K(op[2])
      if not hsets[key] then hsets[key] = {}; hsetKeys[#hsetKeys + 1] = key end
      append(hsets[key], op[3], op[4])
    elseif k == 'lpush' then
      redis.call('LPUSH', K(op[2]), op[3])
      redis.call('LTRIM', K(op[2]), 0, op[4] - 1)
    elseif k == 'confirm' then
      -- the ops as stored: JSON the allocator encoded once (qualifyOps)
      append(zadds, string.format('%d', op[3]), op[2])
      append(zops, op[2], op[4])
    elseif k == 'touch' then touched[op[2]] = K(op[3])
    else
      -- every other op reads what the collected writes change (a pending confirmation, a hash's field): they go first
      flush()
      if k == 'unconfirm' and op[4] then
        -- a partial refund before confirmation: the pending confirmation will apply the order net of it
        local pending = redis.call('HGET', CONFIRM_OPS, op[2])
        if pending and redis.call('ZSCORE', CONFIRM, op[2]) then
          local list = cjson.decode(pending)
          for _, x in ipairs(op[3]) do list[#list + 1] = x end
          redis.call('HSET', CONFIRM_OPS, op[2], cjson.encode(list))
        else run(op[3]) end
      elseif k == 'unconfirm' then
        if redis.call('ZREM', CONFIRM, op[2]) == 1 then redis.call('HDEL', CONFIRM_OPS, op[2])
        else run(op[3]) end
      elseif k == 'hdel' then redis.call('HDEL', K(op[2]), op[3])
      elseif k == 'cumadd' then
        local sum = redis.call('HINCRBY', K(op[2]), op[3], op[4])
        redis.call('ZADD', K(op[5]), sum, op[7])
        redis.call('ZADD', K(op[6]), op[8], op[7])
        redis.call('HSET', K(op[9]), op[7], op[10])
      elseif k == 'ztrim' then
        local upTo = redis.call('HGET', K(op[5]), op[6]) or '0'
        -- a page at a time: one remittance may pass many allocations, and unpack() takes a few thousand at most
        while true do
          local ms = redis.call('ZRANGEBYSCORE', K(op[2]), '-inf', upTo, 'LIMIT', 0, 500)
          if #ms == 0 then break end
          redis.call('ZREM', op[2], unpack(ms))
          redis.call('ZREM', K(op[3]), unpack(ms))
          redis.call('HDEL', K(op[4]), unpack(ms))
        end
      end
    end
  end
end
-- bumps each touched stream's partial seq; publishes it when given a channel; answers streamId, seq, streamId, seq, ...
local function publish(channel)
  flush()
  local moved = {}
  for streamId, key in pairs(touched) do
    local seq = redis.call('HINCRBY', key, 'seq', 1)
    if channel ~= '' then redis.call('PUBLISH', channel, '{"streamId":"' .. streamId .. '","seq":' .. seq .. '}') end
    moved[#moved + 1] = streamId
    moved[#moved + 1] = seq
  end
  return moved
end
`;

/**
 * KEYS: the charity's confirm zset, confirm ops, built marker, rebuild lock, chain head, then every totals key the ops name.
 * ARGV: channel ('' to leave the notifying to the caller), plan JSON {c, h: head key, before, after: {seq, hash,
 * partition, offset}, ops, r: the events to remember as [day hash key (also in KEYS), eventId, …] lists, ttl: the
 * hashes' seconds}.
 * Applies the ops only if the chain head is still where the plan started (compare and set), so each entry
 * changes the totals exactly once; a head already past the plan means a rebuild or an earlier run folded
 * these entries in. Answers {'OK', 1, streamId, seq, …} (each stream whose partial seq moved, and that seq),
 * {'OK', 0}, {'REBUILD'} when the charity's totals are gone, {'BUSY'} during its
 * rebuild, {'CONFLICT', charityId} when another writer moved the head.
 */
export const applyPlansLua = `${interpreter}
if redis.call('EXISTS', KEYS[3]) == 0 then return {'REBUILD'} end
if redis.call('EXISTS', KEYS[4]) == 1 then return {'BUSY'} end
local p = cjson.decode(ARGV[2])
local cur = tonumber(redis.call('HGET', K(p.h), 'seq') or '0')
if cur ~= p.before and cur < p.after.seq then return {'CONFLICT', p.c} end
if cur ~= p.before then return {'OK', 0} end
run(p.ops)
flush()
redis.call('HSET', p.h, 'seq', p.after.seq, 'hash', p.after.hash, 'partition', p.after.partition, 'offset', p.after.offset)
-- the events folded in are remembered with the head that folds them: a copy republished at another offset is known
for _, day in ipairs(p.r) do
  local key, fields = K(day[1]), {}
  for i = 2, #day do append(fields, day[i], '1') end
  many('HSET', key, fields)
  redis.call('EXPIRE', key, p.ttl)
end
local reply = {'OK', 1}
for _, v in ipairs(publish(ARGV[1])) do reply[#reply + 1] = v end
return reply
`;

/**
 * KEYS: confirm zset, confirm ops, then every key the ops of the members named in ARGV touch.
 * ARGV: channel, nowMs, members... Confirms those donations whose refund window has passed (and that are
 * still pending); a member that came due after the caller read the zset waits for the next call.
 */
export const confirmDueLua = `${interpreter}
local n = 0
for i = 3, #ARGV do
  local m = ARGV[i]
  flush()
  local score = redis.call('ZSCORE', CONFIRM, m)
  if score and tonumber(score) <= tonumber(ARGV[2]) then
    local ops = redis.call('HGET', CONFIRM_OPS, m)
    redis.call('ZREM', CONFIRM, m)
    redis.call('HDEL', CONFIRM_OPS, m)
    if ops then run(cjson.decode(ops)) end
    n = n + 1
  end
end
publish(ARGV[1])
return n
`;

/**
 * KEYS: each item's match set and each named match's budget, taken and returned hashes (read by the caller).
 * ARGV: items JSON [{e: eventId, o: orderId, k: 'p'|'r', a: "amount", f: match-set key, ids: [matchId], m: [{b, t, r}], n?, q?, b?, r?}].
 * For each paid order and each sponsor match of its stream and charity: takes min(want, remaining)
 * once per order (a repeat answers what was taken); for a refund, gives the taken amount back once, or for
 * refund n of an order (q units, b refunded before it, r after) its share by matchShareBack's rule, once.
 * Answers {'STALE'} if a match set changed since the caller read it (it reads again), else a flat
 * array: eventId, matchId, amount, want, eventId, …
 */
export const takeMatchesLua = `${declaredKeys}local items = cjson.decode(ARGV[1])
for _, it in ipairs(items) do
  local ids = redis.call('SMEMBERS', K(it.f))
  table.sort(ids)
  if #ids ~= #it.ids then return {'STALE'} end
  for i, id in ipairs(ids) do if id ~= it.ids[i] then return {'STALE'} end end
end
local out = {}
local function amountOf(v) return tonumber(string.sub(v, 1, string.find(v, ':', 1, true) - 1)) end
for _, it in ipairs(items) do
  for i, id in ipairs(it.ids) do
    local mk, tk, rk = K(it.m[i].b), K(it.m[i].t), K(it.m[i].r)
    local amt, want
    if it.k == 'p' then
      local prev = redis.call('HGET', tk, it.o)
      if prev then
        amt = amountOf(prev)
        want = tonumber(string.sub(prev, string.find(prev, ':', 1, true) + 1))
      else
        local p = tonumber(it.a) * tonumber(redis.call('HGET', mk, 'ratioPercent'))
        want = (p - p % 100) / 100
        amt = math.min(want, tonumber(redis.call('HGET', mk, 'remainingFen')))
        if amt < 0 then amt = 0 end
        if amt > 0 then redis.call('HINCRBY', mk, 'remainingFen', string.format('%d', -amt)) end
        redis.call('HSET', tk, it.o, string.format('%d:%d', amt, want))
      end
    elseif it.n then
      -- matchShareBack (allocate.ts): floor(taken * r / q) - floor(taken * b / q), once per (order, refund)
      local back = redis.call('HGET', rk, it.o .. '#' .. it.n)
      if back then amt = tonumber(back)
      else
        local prev = redis.call('HGET', tk, it.o)
        local taken = 0
        if prev then taken = amountOf(prev) end
        amt = math.floor(taken * it.r / it.q) - math.floor(taken * it.b / it.q)
        if amt > 0 then redis.call('HINCRBY', mk, 'remainingFen', string.format('%d', amt)) end
        redis.call('HINCRBY', rk, it.o, string.format('%d', amt))
        redis.call('HSET', rk, it.o .. '#' .. it.n, string.format('%d', amt))
      end
      want = amt
    else
      local back = redis.call('HGET', rk, it.o)
      if back then amt = tonumber(back)
      else
        local prev = redis.call('HGET', tk, it.o)
        amt = 0
        if prev then amt = amountOf(prev) end
        if amt > 0 then redis.call('HINCRBY', mk, 'remainingFen', string.format('%d', amt)) end
        redis.call('HSET', rk, it.o, string.format('%d', amt))
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
