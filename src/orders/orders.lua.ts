/**
 * The order state machine, one Lua script per transition, so each check-and-change is atomic in
 * Redis. Numbers are kept as strings in hashes; no JSON is built in Lua (cjson would print large
 * integers in exponent form). An outbox zset per shard (member "<orderId>|<type>", score = ms) records
 * every transition until its event is acknowledged by Kafka; the sweeper re-publishes what stays there.
 * Every key a script touches comes in KEYS, built in TypeScript (src/infra/shards.ts) next to the call,
 * and one script's keys share one hash tag: a viewer's shard (idempotency, open orders) or a product's
 * shard (stock, limits, the order, outbox, expiry), so the scripts run unchanged on a Redis Cluster.
 * KEYS[1] is always the shard's recovery sentinel.
 */

/** The cap's arithmetic, shared by the release and refund scripts (and checked against refundShare by a test). */
export const capLua = `
-- gives back to a capped agreement (KEYS[ak]) what an order held of it; an uncapped one keeps no counters
local function returnCap(ak, fen, units)
  if fen == 0 and units == 0 then return end
  local c = redis.call('HMGET', KEYS[ak], 'capFen', 'capUnits')
  if (c[1] or '') == '' and (c[2] or '') == '' then return end
  redis.call('HINCRBY', KEYS[ak], 'usedFen', -fen)
  redis.call('HINCRBY', KEYS[ak], 'usedUnits', -units)
end
-- floor(d × after / q) − floor(d × before / q) exactly (refundShare in agreement.types.ts): d = a×q + b keeps every product below 2^53
local function share(d, q, before, after)
  local b = d % q
  local a = (d - b) / q
  return a * (after - before) + math.floor(b * after / q) - math.floor(b * before / q)
end
`;

const common = `
-- a shard that lost data (and is not yet rebuilt) must not take orders: the recovery sentinel proves it is whole
local function whole() return redis.call('EXISTS', KEYS[1]) == 1 end
-- the changed order, appended to a reply: the caller publishes from this, never from a second read
-- (a second read can find Redis emptied by a crash in between, and the event would silently not be sent)
local function withOrder(reply, key)
  local h = redis.call('HGETALL', key)
  for i = 1, #h do reply[#reply + 1] = h[i] end
  return reply
end
${capLua}local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * The viewer's step of an order, before the product's: the idempotency key's promise (one key, one body,
 * whichever product it names) and the cap on unpaid orders (a zset scored by expiry, so an entry whose
 * removal was lost ends by itself). KEYS: sentinel, idem, open, viewer nickname.
 * ARGV: orderId, bodyHash, idemTtlSec, expMs, maxOpen, claimedMs. Answers OK+nickname, REPLAY+orderId+claimedMs, or a refusal.
 */
export const claimOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
local prior = redis.call('GET', KEYS[2])
if prior then
  local a = string.find(prior, '|', 1, true)
  local rest = string.sub(prior, a + 1)
  local b = string.find(rest, '|', 1, true)
  local hash = b and string.sub(rest, 1, b - 1) or rest
  if hash ~= ARGV[2] then return {'IDEMPOTENCY_KEY_REUSED'} end
  return {'REPLAY', string.sub(prior, 1, a - 1), b and string.sub(rest, b + 1) or '0'}
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', nowMs())
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return {'OPEN_ORDERS_LIMIT', ARGV[5]} end
redis.call('SET', KEYS[2], ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[6], 'EX', tonumber(ARGV[3]))
redis.call('ZADD', KEYS[3], tonumber(ARGV[4]), ARGV[1])
return {'OK', redis.call('GET', KEYS[4]) or ''}
`;

/**
 * Gives the viewer's place back: the order leaves the open set; with ARGV[2] = '1' the idempotency key is
 * freed too, if it still names this order (the order was refused or never recorded). KEYS: idem, open.
 * ARGV: orderId, dropClaim.
 */
export const unclaimOrderLua = `
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] == '1' then
  local v = redis.call('GET', KEYS[1])
  if v and string.sub(v, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then redis.call('DEL', KEYS[1]) end
end
return 1
`;

/**
 * The product's step: stream live, product pinned, the pledge's agreement (accepted, in force, covering the stream;
 * its cap), per-buyer limit, stock, then the order with its pledge snapshot and what it donates, its expiry and its
 * outbox entry. An order id already there answers EXISTS (a replay took over).
 * KEYS: sentinel, stream, pins, product, bought, stock, order, expiring, outbox, held (units of the shard's unpaid
 * orders), agreement (the one the caller believes the product names, in the product's shard).
 * ARGV: viewerId, streamId, productId, quantity, bodyHash, orderId, createdMs, ttlMs, eventId, createdIso, expiresIso, idempotencyKey, nick, agreementId
 * Cap: q units at p under (capFen, capUnits) donate u = min(q, units left) and D = min(u×p, fen left); when nothing is
 * left an agreement that stops selling answers CAP_REACHED, one that continues sells with D = 0.
 */
export const placeOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
if redis.call('EXISTS', KEYS[7]) == 1 then return {'EXISTS'} end
local viewerId, streamId, productId = ARGV[1], ARGV[2], ARGV[3]
local qty = tonumber(ARGV[4])
if redis.call('HGET', KEYS[2], 'status') ~= 'live' then return {'NOT_ON_SALE', 'stream'} end
if redis.call('SISMEMBER', KEYS[3], productId) == 0 then return {'NOT_ON_SALE', 'pin'} end
local t = redis.call('HMGET', KEYS[4], 'priceFen', 'perUnitFen', 'charityId', 'charityName', 'name', 'hostId', 'limit', 'agreementId')
if not t[1] then return {'NOT_ON_SALE', 'product'} end
local per = tonumber(t[2])
local donation, units, capped = qty * per, qty, false
-- no agreementId field: a product listed before agreements, not yet migrated (sells as before)
if t[8] then
  if t[8] == '' then return {'NOT_ON_SALE', 'agreement'} end
  if t[8] ~= ARGV[14] then return {'AGREEMENT_MOVED', t[8]} end
  local a = redis.call('HMGET', KEYS[11], 'status', 'fromMs', 'toMs', 'streams', 'capFen', 'capUnits', 'usedFen', 'usedUnits', 'onCap')
  if a[1] ~= 'accepted' then return {'NOT_ON_SALE', 'agreement'} end
  local now = nowMs()
  if now < tonumber(a[2]) or now >= tonumber(a[3]) then return {'NOT_ON_SALE', 'agreement'} end
  if a[4] ~= '' and not string.find(a[4], ',' .. streamId .. ',', 1, true) then return {'NOT_ON_SALE', 'agreement'} end
  if a[5] ~= '' or a[6] ~= '' then
    capped = true
    if a[6] ~= '' then units = math.min(qty, math.max(0, tonumber(a[6]) - tonumber(a[8] or '0'))) end
    donation = units * per
    if a[5] ~= '' then donation = math.min(donation, math.max(0, tonumber(a[5]) - tonumber(a[7] or '0'))) end
    if donation == 0 then
      units = 0
      if a[9] == 'stop_selling' then return {'CAP_REACHED'} end
    end
  end
end
local already = tonumber(redis.call('GET', KEYS[5]) or '0')
if already + qty > tonumber(t[7]) then return {'PURCHASE_LIMIT', tostring(tonumber(t[7]) - already)} end
local left = tonumber(redis.call('GET', KEYS[6]) or '0')
if left < qty then return {'OUT_OF_STOCK', tostring(left)} end
redis.call('DECRBY', KEYS[6], qty)
redis.call('INCRBY', KEYS[5], qty)
redis.call('INCRBY', KEYS[10], qty)
if capped then
  redis.call('HINCRBY', KEYS[11], 'usedFen', donation)
  redis.call('HINCRBY', KEYS[11], 'usedUnits', units)
end
local expMs = tonumber(ARGV[7]) + tonumber(ARGV[8])
redis.call('HSET', KEYS[7],
  'orderId', ARGV[6], 'status', 'reserved', 'ver', '1', 'viewerId', viewerId, 'nick', ARGV[13], 'streamId', streamId,
  'productId', productId, 'productName', t[5], 'hostId', t[6], 'charityId', t[3], 'charityName', t[4],
  'quantity', ARGV[4], 'unitPriceFen', t[1], 'pledgePerUnitFen', t[2], 'createdAt', ARGV[10], 'expiresAt', ARGV[11],
  'expMs', tostring(expMs), 'idempotencyKey', ARGV[12], 'bodyHash', ARGV[5], 'eid:order.placed', ARGV[9], 'at:order.placed', ARGV[10])
if t[8] then redis.call('HSET', KEYS[7], 'agreementId', t[8], 'donationFen', tostring(donation), 'donationUnits', tostring(units)) end
redis.call('ZADD', KEYS[8], expMs, ARGV[6])
redis.call('ZADD', KEYS[9], ARGV[7], ARGV[6] .. '|order.placed')
return withOrder({'OK', ARGV[6]}, KEYS[7])
`;

/** KEYS: sentinel, order, expiring, outbox, held. ARGV: orderId, amountFen, paymentId, eventId, occurredIso */
export const payOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
local o = redis.call('HMGET', KEYS[2], 'status', 'quantity', 'unitPriceFen', 'expMs')
if not o[1] then return {'NOT_FOUND'} end
if tonumber(ARGV[2]) ~= tonumber(o[2]) * tonumber(o[3]) then return {'AMOUNT_MISMATCH', tostring(tonumber(o[2]) * tonumber(o[3]))} end
if o[1] == 'paid' or o[1] == 'refunded' or o[1] == 'partially_refunded' then return withOrder({'ALREADY', o[1]}, KEYS[2]) end
if o[1] ~= 'reserved' then return {'ORDER_NOT_PAYABLE', o[1]} end
if nowMs() >= tonumber(o[4]) then return {'ORDER_NOT_PAYABLE', 'expired'} end
redis.call('HSET', KEYS[2], 'status', 'paid', 'ver', '2', 'paymentId', ARGV[3], 'paidAt', ARGV[5], 'eid:order.paid', ARGV[4], 'at:order.paid', ARGV[5])
redis.call('DECRBY', KEYS[5], tonumber(o[2]))
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], nowMs(), ARGV[1] .. '|order.paid')
return withOrder({'OK', 'paid'}, KEYS[2])
`;

/**
 * Ends a reservation and gives its stock back, and what it held of its agreement's cap. KEYS: sentinel, order, expiring, outbox,
 * stock, bought, held, agreement (stock, bought and agreement of the order's product, viewer and agreement, read before the
 * call; they never change). ARGV: orderId, eventId, occurredIso,
 * kind ('expired': only once the order is due; 'cancelled'), productId, viewerId, reason ('unpublished': its
 * order.placed never reached Kafka and is dropped from the outbox; 'viewer': its buyer cancelled it), agreementId ('' none)
 */
export const releaseOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
local o = redis.call('HMGET', KEYS[2], 'status', 'quantity', 'productId', 'viewerId', 'expMs', 'agreementId', 'donationFen', 'donationUnits')
if o[1] ~= 'reserved' then redis.call('ZREM', KEYS[3], ARGV[1]) return {'SKIP', o[1] or 'missing'} end
if o[3] ~= ARGV[5] or o[4] ~= ARGV[6] or (o[6] or '') ~= ARGV[8] then return {'SKIP', 'keys'} end
local kind = ARGV[4]
if kind == 'expired' and nowMs() < tonumber(o[5]) then return {'SKIP', 'not due'} end
local typ = 'order.' .. kind
redis.call('HSET', KEYS[2], 'status', kind, 'ver', '2', 'eid:' .. typ, ARGV[2], 'at:' .. typ, ARGV[3], 'reason', ARGV[7])
redis.call('INCRBY', KEYS[5], tonumber(o[2]))
redis.call('DECRBY', KEYS[6], tonumber(o[2]))
redis.call('DECRBY', KEYS[7], tonumber(o[2]))
if o[6] then returnCap(8, tonumber(o[7] or '0'), tonumber(o[8] or '0')) end
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[7] == 'unpublished' then redis.call('ZREM', KEYS[4], ARGV[1] .. '|order.placed') end
redis.call('ZADD', KEYS[4], nowMs(), ARGV[1] .. '|' .. typ)
return withOrder({'OK', kind}, KEYS[2])
`;

/**
 * Refunds some units of a paid order (partial refunds); the refunded units' share of what the order donates goes back to
 * its agreement's cap. KEYS: sentinel, order, outbox, the product's stock, the order's agreement (any key of the shard when none).
 * ARGV: orderId, eventId, occurredIso, units ('0' = all that is left), refundId ('' = none; a refund id seen
 * before answers ALREADY, no change), restock ('1' = the units return to stock), target ('0' = none; else the
 * units refunded in total after this refund, for providers that report cumulative refunds: at or below what
 * is refunded is ALREADY). Refund n is recorded in field rf:<n> = units|refundedAfter|eventId|iso|restockedAfter|refundId
 * and its event waits in the outbox as "<orderId>|order.refunded#<n>".
 */
export const refundOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
local key = KEYS[2]
local o = redis.call('HMGET', key, 'status', 'quantity', 'refundedQty', 'refunds', 'productId', 'restockedQty', 'agreementId', 'donationFen', 'donationUnits')
if not o[1] then return {'NOT_FOUND'} end
local ref = ARGV[5]
if ref ~= '' then
  local seen = redis.call('HGET', key, 'rref:' .. ref)
  if seen then return withOrder({'ALREADY', seen}, key) end
end
local qty = tonumber(o[2])
local done = tonumber(o[3] or '0')
-- an order refunded whole before partial refunds existed has no refundedQty
if o[1] == 'refunded' and not o[3] then done = qty end
local want = tonumber(ARGV[4])
local target = tonumber(ARGV[7] or '0')
if target > 0 then
  if target <= done then return withOrder({'ALREADY', o[4] or '0'}, key) end
  want = target - done
end
if o[1] == 'refunded' and want == 0 then return withOrder({'ALREADY', o[4] or '0'}, key) end
if o[1] ~= 'paid' and o[1] ~= 'partially_refunded' and o[1] ~= 'refunded' then return {'ORDER_NOT_REFUNDABLE', o[1]} end
local left = qty - done
if want == 0 then want = left end
if want < 1 or want > left then return {'REFUND_EXCEEDS_REMAINING', tostring(left)} end
local n = tonumber(o[4] or '0') + 1
if o[7] then returnCap(5, share(tonumber(o[8] or '0'), qty, done, done + want), share(tonumber(o[9] or '0'), qty, done, done + want)) end
done = done + want
local restocked = tonumber(o[6] or '0')
if ARGV[6] == '1' then
  restocked = restocked + want
  redis.call('INCRBY', KEYS[4], want)
end
local status = 'partially_refunded'
if done == qty then status = 'refunded' end
redis.call('HSET', key, 'status', status, 'ver', tostring(2 + n), 'refundedQty', tostring(done), 'refunds', tostring(n),
  'restockedQty', tostring(restocked), 'eid:order.refunded', ARGV[2], 'at:order.refunded', ARGV[3],
  'rf:' .. n, want .. '|' .. done .. '|' .. ARGV[2] .. '|' .. ARGV[3] .. '|' .. restocked .. '|' .. ref)
if ref ~= '' then redis.call('HSET', key, 'rref:' .. ref, tostring(n)) end
redis.call('ZADD', KEYS[3], nowMs(), ARGV[1] .. '|order.refunded#' .. n)
return withOrder({'OK', tostring(n)}, key)
`;
