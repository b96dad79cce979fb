/**
 * The order state machine, one Lua script per transition, so each check-and-change is atomic in
 * Redis. Numbers are kept as strings in hashes; no JSON is built in Lua (cjson would print large
 * integers in exponent form). An outbox zset (member "<orderId>|<type>", score = ms) records every
 * transition until its event is acknowledged by Kafka; the sweeper re-publishes what stays there.
 * Keys are derived from ARGV[1] (the namespace prefix): single-instance Redis, not Cluster.
 */

const common = `
local P = ARGV[1]
-- an empty Redis (lost data, not yet rebuilt) must not take orders: the recovery sentinel proves it is whole
local function whole() return redis.call('EXISTS', P .. 'recovery:sentinel') == 1 end
-- the changed order, appended to a reply: the caller publishes from this, never from a second read
-- (a second read can find Redis emptied by a crash in between, and the event would silently not be sent)
local function withOrder(reply, key)
  local h = redis.call('HGETALL', key)
  for i = 1, #h do reply[#reply + 1] = h[i] end
  return reply
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** ARGV: prefix, viewerId, streamId, productId, quantity, bodyHash, orderId, createdMs, ttlMs, idemTtlSec, idemKeyHash, idempotencyKey, eventId, createdIso, expiresIso */
export const placeOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
local viewerId, streamId, productId = ARGV[2], ARGV[3], ARGV[4]
local qty = tonumber(ARGV[5])
local idem = P .. 'idem:' .. viewerId .. ':' .. ARGV[11]
local prior = redis.call('GET', idem)
if prior then
  local sep = string.find(prior, '|', 1, true)
  local oid, hash = string.sub(prior, 1, sep - 1), string.sub(prior, sep + 1)
  if hash ~= ARGV[6] then return {'IDEMPOTENCY_KEY_REUSED'} end
  return {'REPLAY', oid}
end
local stream = P .. 'stream:' .. streamId
if redis.call('HGET', stream, 'status') ~= 'live' then return {'NOT_ON_SALE', 'stream'} end
if redis.call('SISMEMBER', stream .. ':pins', productId) == 0 then return {'NOT_ON_SALE', 'pin'} end
local t = redis.call('HMGET', P .. 'product:' .. productId, 'priceFen', 'perUnitFen', 'charityId', 'charityName', 'name', 'hostId', 'limit')
if not t[1] then return {'NOT_ON_SALE', 'product'} end
local bought = P .. 'bought:' .. productId .. ':' .. viewerId
local already = tonumber(redis.call('GET', bought) or '0')
if already + qty > tonumber(t[7]) then return {'PURCHASE_LIMIT', tostring(tonumber(t[7]) - already)} end
local stock = P .. 'stock:' .. productId
local left = tonumber(redis.call('GET', stock) or '0')
if left < qty then return {'OUT_OF_STOCK', tostring(left)} end
redis.call('DECRBY', stock, qty)
redis.call('INCRBY', bought, qty)
redis.call('SET', idem, ARGV[7] .. '|' .. ARGV[6], 'EX', tonumber(ARGV[10]))
local nick = redis.call('GET', P .. 'viewer:' .. viewerId) or ''
local expMs = tonumber(ARGV[8]) + tonumber(ARGV[9])
redis.call('HSET', P .. 'order:' .. ARGV[7],
  'orderId', ARGV[7], 'status', 'reserved', 'ver', '1', 'viewerId', viewerId, 'nick', nick, 'streamId', streamId,
  'productId', productId, 'productName', t[5], 'hostId', t[6], 'charityId', t[3], 'charityName', t[4],
  'quantity', ARGV[5], 'unitPriceFen', t[1], 'pledgePerUnitFen', t[2], 'createdAt', ARGV[14], 'expiresAt', ARGV[15],
  'expMs', tostring(expMs), 'idempotencyKey', ARGV[12], 'bodyHash', ARGV[6], 'eid:order.placed', ARGV[13], 'at:order.placed', ARGV[14])
redis.call('ZADD', P .. 'expiring', expMs, ARGV[7])
redis.call('ZADD', P .. 'outbox', ARGV[8], ARGV[7] .. '|order.placed')
return withOrder({'OK', ARGV[7]}, P .. 'order:' .. ARGV[7])
`;

/** ARGV: prefix, orderId, amountFen, paymentId, eventId, occurredIso */
export const payOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
local key = P .. 'order:' .. ARGV[2]
local o = redis.call('HMGET', key, 'status', 'quantity', 'unitPriceFen', 'expMs')
if not o[1] then return {'NOT_FOUND'} end
if tonumber(ARGV[3]) ~= tonumber(o[2]) * tonumber(o[3]) then return {'AMOUNT_MISMATCH', tostring(tonumber(o[2]) * tonumber(o[3]))} end
if o[1] == 'paid' or o[1] == 'refunded' or o[1] == 'partially_refunded' then return withOrder({'ALREADY', o[1]}, key) end
if o[1] ~= 'reserved' then return {'ORDER_NOT_PAYABLE', o[1]} end
if nowMs() >= tonumber(o[4]) then return {'ORDER_NOT_PAYABLE', 'expired'} end
redis.call('HSET', key, 'status', 'paid', 'ver', '2', 'paymentId', ARGV[4], 'paidAt', ARGV[6], 'eid:order.paid', ARGV[5], 'at:order.paid', ARGV[6])
redis.call('ZREM', P .. 'expiring', ARGV[2])
redis.call('ZADD', P .. 'outbox', nowMs(), ARGV[2] .. '|order.paid')
return withOrder({'OK', 'paid'}, key)
`;

/**
 * Ends a reservation and gives its stock back. ARGV: prefix, orderId, eventId, occurredIso, kind
 * ('expired': only once the order is due; 'cancelled': a failed publish, also frees the idempotency key)
 */
export const releaseOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
local key = P .. 'order:' .. ARGV[2]
local o = redis.call('HMGET', key, 'status', 'quantity', 'productId', 'viewerId', 'expMs', 'idempotencyKey')
if o[1] ~= 'reserved' then redis.call('ZREM', P .. 'expiring', ARGV[2]) return {'SKIP', o[1] or 'missing'} end
local kind = ARGV[5]
if kind == 'expired' and nowMs() < tonumber(o[5]) then return {'SKIP', 'not due'} end
local typ = 'order.' .. kind
redis.call('HSET', key, 'status', kind, 'ver', '2', 'eid:' .. typ, ARGV[3], 'at:' .. typ, ARGV[4])
redis.call('INCRBY', P .. 'stock:' .. o[3], tonumber(o[2]))
redis.call('DECRBY', P .. 'bought:' .. o[3] .. ':' .. o[4], tonumber(o[2]))
redis.call('ZREM', P .. 'expiring', ARGV[2])
if kind == 'cancelled' then
  redis.call('DEL', P .. 'idem:' .. o[4] .. ':' .. ARGV[6])
  redis.call('ZREM', P .. 'outbox', ARGV[2] .. '|order.placed')
end
redis.call('ZADD', P .. 'outbox', nowMs(), ARGV[2] .. '|' .. typ)
return withOrder({'OK', kind}, key)
`;

/**
 * Refunds some units of a paid order (partial refunds). ARGV: prefix, orderId, eventId, occurredIso,
 * units ('0' = all that is left), refundId ('' = none; a refund id seen before answers ALREADY, no change),
 * restock ('1' = the units return to stock), target ('0' = none; else the units refunded in total after
 * this refund, for providers that report cumulative refunds: at or below what is refunded is ALREADY).
 * Refund n is recorded in field rf:<n> = units|refundedAfter|eventId|iso|restockedAfter|refundId and its
 * event waits in the outbox as "<orderId>|order.refunded#<n>".
 */
export const refundOrderLua = `${common}
if not whole() then return {'UNAVAILABLE'} end
local key = P .. 'order:' .. ARGV[2]
local o = redis.call('HMGET', key, 'status', 'quantity', 'refundedQty', 'refunds', 'productId', 'restockedQty')
if not o[1] then return {'NOT_FOUND'} end
local ref = ARGV[6]
if ref ~= '' then
  local seen = redis.call('HGET', key, 'rref:' .. ref)
  if seen then return withOrder({'ALREADY', seen}, key) end
end
local qty = tonumber(o[2])
local done = tonumber(o[3] or '0')
-- an order refunded whole before partial refunds existed has no refundedQty
if o[1] == 'refunded' and not o[3] then done = qty end
local want = tonumber(ARGV[5])
local target = tonumber(ARGV[8] or '0')
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
done = done + want
local restocked = tonumber(o[6] or '0')
if ARGV[7] == '1' then
  restocked = restocked + want
  redis.call('INCRBY', P .. 'stock:' .. o[5], want)
end
local status = 'partially_refunded'
if done == qty then status = 'refunded' end
redis.call('HSET', key, 'status', status, 'ver', tostring(2 + n), 'refundedQty', tostring(done), 'refunds', tostring(n),
  'restockedQty', tostring(restocked), 'eid:order.refunded', ARGV[3], 'at:order.refunded', ARGV[4],
  'rf:' .. n, want .. '|' .. done .. '|' .. ARGV[3] .. '|' .. ARGV[4] .. '|' .. restocked .. '|' .. ref)
if ref ~= '' then redis.call('HSET', key, 'rref:' .. ref, tostring(n)) end
redis.call('ZADD', P .. 'outbox', nowMs(), ARGV[2] .. '|order.refunded#' .. n)
return withOrder({'OK', tostring(n)}, key)
`;
