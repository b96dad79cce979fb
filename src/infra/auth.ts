import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type Redis from 'ioredis';
import type { Keyspace } from './redis';

export type Role = 'operator' | 'host' | 'charity' | 'viewer';
export interface Principal { role: Role; id: string }

interface PrincipalDoc { _id: string; role: Role; id: string; createdAt: Date }

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Bearer tokens: the operator's comes from configuration; the others are minted once, shown once and
 * stored only as a SHA-256 hash (MongoDB of record, Redis as the shared cache, a small map in process).
 */
export class TokenStore {
  private readonly cache = new Map<string, Principal>();
  private readonly coll: Collection<PrincipalDoc>;
  private readonly admin: Buffer;

  constructor(db: Db, private readonly redis: Redis, private readonly key: Keyspace, adminToken: string) {
    this.coll = db.collection<PrincipalDoc>('principals');
    this.admin = Buffer.from(hashToken(adminToken));
  }

  /** Mints a token for a new principal; the caller returns it once and it is never stored in clear. */
  async issue(role: Exclude<Role, 'operator'>, id: string): Promise<string> {
    const token = `lg_${role}_${randomBytes(24).toString('base64url')}`;
    const h = hashToken(token);
    await this.coll.insertOne({ _id: h, role, id, createdAt: new Date() });
    await this.redis.set(this.key('tok', h), `${role}:${id}`).catch(() => undefined);
    return token;
  }

  async resolve(token: string): Promise<Principal | null> {
    const h = hashToken(token);
    if (timingSafeEqual(Buffer.from(h), this.admin)) return { role: 'operator', id: 'operator' };
    const cached = this.cache.get(h);
    if (cached) return cached;
    let p: Principal | null = null;
    const fromRedis = await this.redis.get(this.key('tok', h)).catch(() => null);
    if (fromRedis) {
      const i = fromRedis.indexOf(':');
      p = { role: fromRedis.slice(0, i) as Role, id: fromRedis.slice(i + 1) };
    } else {
      const doc = await this.coll.findOne({ _id: h });
      if (doc) {
        p = { role: doc.role, id: doc.id };
        await this.redis.set(this.key('tok', h), `${p.role}:${p.id}`).catch(() => undefined);
      }
    }
    if (p) {
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(h, p);
    }
    return p;
  }
}
