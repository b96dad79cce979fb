import { randomBytes, randomFillSync } from 'node:crypto';
import { taggedKey } from './redis';

/**
 * Where the hot state of orders lives. Products, viewers and streams are spread over SHARDS virtual
 * shards, each one hash tag (one Redis Cluster slot): a product's stock, terms, buyers' counts and orders
 * share its shard, so a flash sale on one product is one slot, and many products spread over the
 * cluster. Each shard has its own outbox, expiry index and recovery sentinel; the sweeper walks them all.
 * 64 shards spread evenly enough over a few masters (23/21/20 on three) and cost the sweeper 128 reads a tick.
 */
export const SHARDS = 64;

/** FNV-1a over the id: stable across processes and versions (it decides where data lives). */
export function shardOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h % SHARDS;
}

export const shardTag = (shard: number) => shard.toString(16).padStart(2, '0');
export const allShards = (): number[] => Array.from({ length: SHARDS }, (_, i) => i);

/** A new order id that names its product's shard ("o_<2 hex><random>"): a payment notice names only the order. */
export const newOrderId = (productId: string) => `o_${shardTag(shardOf(productId))}${randomId12()}`;

// 12 random bytes per order id, cut from a pool filled 256 ids at a time (one call into the CSPRNG per 256 orders)
const pool = Buffer.alloc(12 * 256);
let poolAt = pool.length;
function randomId12(): string {
  if (poolAt === pool.length) { randomFillSync(pool); poolAt = 0; }
  poolAt += 12;
  return pool.toString('base64url', poolAt - 12, poolAt);
}

/** The shard an order id names, or null for an id livegive never issued. */
export function shardOfOrder(orderId: string): number | null {
  const m = /^o_([0-9a-f]{2})[A-Za-z0-9_-]{16}$/.exec(orderId);
  const s = m ? parseInt(m[1], 16) : NaN;
  return s < SHARDS ? s : null;
}

/** Every key of one shard, built here and passed to the scripts in KEYS (no key name is built in Lua). */
export function shardKeys(prefix: string, shard: number): ShardKeys {
  // built once per (prefix, shard): an order placed and paid asked for its shards' keys a dozen times, each a new object of 15 functions
  let byShard = built.get(prefix);
  if (!byShard) built.set(prefix, (byShard = []));
  return (byShard[shard] ??= buildShardKeys(prefix, shard));
}
const built = new Map<string, ShardKeys[]>();

function buildShardKeys(prefix: string, shard: number) {
  const t = shardTag(shard);
  const k = (...p: string[]) => taggedKey(prefix, t, ...p);
  return {
    shard,
    sentinel: k('recovery', 'sentinel'),
    expiring: k('expiring'),
    outbox: k('outbox'),
    /** units held by the shard's unpaid orders (a gauge: stock a hoarder could be sitting on) */
    held: k('held'),
    order: (orderId: string) => k('order', orderId),
    product: (productId: string) => k('product', productId),
    stock: (productId: string) => k('stock', productId),
    bought: (productId: string, viewerId: string) => k('bought', productId, viewerId),
    /** every shard holds a copy of each stream's status and of the pins of its own products */
    stream: (streamId: string) => k('stream', streamId),
    pins: (streamId: string) => k('stream', streamId, 'pins'),
    idem: (viewerId: string, keyHash: string) => k('idem', viewerId, keyHash),
    open: (viewerId: string) => k('open', viewerId),
    viewer: (viewerId: string) => k('viewer', viewerId),
    /** an agreement's hot state (status, validity, streams; caps and used counters in its home shard only) */
    agreement: (agreementId: string) => k('agreement', agreementId),
  };
}
export type ShardKeys = Readonly<ReturnType<typeof buildShardKeys>>;

export const productShard = (prefix: string, productId: string) => shardKeys(prefix, shardOf(productId));
export const viewerShard = (prefix: string, viewerId: string) => shardKeys(prefix, shardOf(viewerId));
/** The home shard of a host's agreements with one charity: a capped agreement's counters and all its products live there. */
export const agreementHome = (hostId: string, charityId: string) => shardOf(`${hostId}|${charityId}`);

/** A new id "<prefix>_<random>" drawn until it falls in the given shard (~SHARDS draws). */
export function idInShard(prefix: string, shard: number): string {
  for (;;) {
    const id = `${prefix}_${randomBytes(12).toString('base64url')}`;
    if (shardOf(id) === shard) return id;
  }
}

/** The keys of an order's shard; null when the id names none (such an order does not exist). */
export function orderShard(prefix: string, orderId: string): ShardKeys | null {
  const s = shardOfOrder(orderId);
  return s === null ? null : shardKeys(prefix, s);
}
