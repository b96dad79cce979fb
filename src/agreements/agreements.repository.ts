import type { Collection, Filter } from 'mongodb';
import type { Deps } from '../deps';
import { agreementHome, shardKeys } from '../infra/shards';
import { agreementCollections, type AgreementDoc, type AgreementStatus } from './agreement.types';

const isCapped = (a: Pick<AgreementDoc, 'capFen' | 'capUnits'>) => a.capFen !== null || a.capUnits !== null;

/**
 * Agreements of record in MongoDB, with hot copies in Redis that the order scripts read in the same step that
 * reserves stock: status, validity and covered streams in the shard of every product that sells under the
 * agreement, and (capped agreements) the caps and used counters in its home shard, where all its products live.
 */
export class AgreementsRepository {
  readonly agreements: Collection<AgreementDoc>;

  constructor(private readonly deps: Deps) {
    this.agreements = deps.db.collection(agreementCollections.agreements);
  }

  byId(id: string): Promise<AgreementDoc | null> {
    return this.agreements.findOne({ _id: id }); // query: agreements.byId
  }

  /** A host's agreements, or only those of one status. */
  ofHost(hostId: string, status?: AgreementStatus): Promise<AgreementDoc[]> {
    const filter: Filter<AgreementDoc> = status ? { hostId, status } : { hostId };
    return this.agreements.find(filter).toArray(); // query: agreements.byHost
  }

  ofCharity(charityId: string, status?: AgreementStatus): Promise<AgreementDoc[]> {
    const filter: Filter<AgreementDoc> = status ? { charityId, status } : { charityId };
    return this.agreements.find(filter).toArray(); // query: agreements.byCharity
  }

  /** Every agreement (the operator's list, rebuilding hot state). */
  all(status?: AgreementStatus): Promise<AgreementDoc[]> {
    const filter: Filter<AgreementDoc> = status ? { status } : {};
    return this.agreements.find(filter).toArray(); // query: agreements.all
  }

  ofHostAndCharity(hostId: string, charityId: string): Promise<AgreementDoc[]> {
    return this.agreements.find({ hostId, charityId }).toArray(); // query: agreements.byHostCharity
  }

  /** Moves the status, guarded by the one it must have (the caller also holds the agreement's step lock). */
  async setStatus(id: string, from: AgreementStatus, to: AgreementStatus, at: Date): Promise<AgreementDoc | null> {
    const stamp = to === 'accepted' ? 'acceptedAt' : to === 'declined' ? 'declinedAt' : 'suspendedAt';
    const r = await this.agreements.updateOne({ _id: id, status: from }, { $set: { status: to, [stamp]: at, updatedAt: at } }); // query: agreements.byId
    return r.modifiedCount === 1 ? this.byId(id) : null;
  }

  private get prefix() { return this.deps.config.redis.prefix; }

  /**
   * Runs fn while holding a short lock named `name` (an agreement's status change; a host's proposals to one charity),
   * or answers null when another request holds it: FerretDB applies an update without a lock, so two guarded updates
   * (or two overlap checks and inserts) could both pass.
   */
  async withLock<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
    const key = this.deps.key('agreement-lock', name);
    if ((await this.deps.redis.set(key, '1', 'PX', 10_000, 'NX')) !== 'OK') return null;
    try { return await fn(); } finally { await this.deps.redis.del(key).catch(() => undefined); }
  }

  /**
   * Writes the agreement's terms where the order scripts read them: its home shard and each shard given (its
   * products'). Caps go to the home shard only; the used counters are never touched here (the scripts move them,
   * a rebuild restores them).
   */
  async writeHot(a: AgreementDoc, shards: Iterable<number> = [], only?: Set<number>): Promise<void> {
    const home = agreementHome(a.hostId, a.charityId);
    const terms = {
      status: a.status, fromMs: a.validFrom.getTime(), toMs: a.validTo.getTime(), streams: a.streamIds ? `,${a.streamIds.join(',')},` : '',
      perUnitFen: a.perUnitFen, onCap: a.onCap,
    };
    await Promise.all([...new Set([home, ...shards])].filter((s) => !only || only.has(s)).map((s) => {
      const capped = s === home && isCapped(a);
      return this.deps.redis.hset(shardKeys(this.prefix, s).agreement(a._id), { ...terms, capFen: capped ? a.capFen ?? '' : '', capUnits: capped ? a.capUnits ?? '' : '' });
    }));
  }

  /** Sets the used counters of a capped agreement in its home shard (a rebuild, from the orders of record). */
  async setUsed(a: AgreementDoc, usedFen: number, usedUnits: number): Promise<void> {
    await this.deps.redis.hset(shardKeys(this.prefix, agreementHome(a.hostId, a.charityId)).agreement(a._id), { usedFen, usedUnits });
  }

  /** The used counters of a capped agreement, from its home shard. */
  async used(a: AgreementDoc): Promise<{ usedFen: number; usedUnits: number }> {
    const [f, u] = await this.deps.redis.hmget(shardKeys(this.prefix, agreementHome(a.hostId, a.charityId)).agreement(a._id), 'usedFen', 'usedUnits');
    return { usedFen: Number(f ?? 0), usedUnits: Number(u ?? 0) };
  }
}

export { isCapped };
