import type { Deps } from '../../../src/deps';
import { masters } from '../../../src/infra/redis';

/**
 * Removes every Redis key of one namespace (its prefix, `lg:<ns>:`): the allocated-event ids, totals and
 * chain heads a benchmark's allocator left there. A SCAN matching the prefix on each master (each server
 * of a cluster holds its own slots), then UNLINK in chunks; answers how many went. Keys of other
 * namespaces and of the service itself are never touched.
 */
export async function removeNamespaceKeys(deps: Pick<Deps, 'redis' | 'config'>): Promise<number> {
  const prefix = deps.config.redis.prefix;
  // the un-namespaced prefix is the service's own data: never a benchmark's to remove
  if (!deps.config.namespace || !prefix.endsWith(':') || prefix === 'lg:') throw new Error(`refusing to remove keys under ${JSON.stringify(prefix)}`);
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  let removed = 0;
  for (const node of masters(deps.redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      // one key a command: keys of different slots may not share an UNLINK on a cluster node
      if (keys.length) {
        const pipe = node.pipeline();
        for (const k of keys) pipe.unlink(k);
        for (const [err, n] of (await pipe.exec()) ?? []) if (!err) removed += Number(n);
      }
    } while (cursor !== '0');
  }
  return removed;
}
