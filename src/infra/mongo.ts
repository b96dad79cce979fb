import mongoose, { Connection } from 'mongoose';
import type { Logger } from './logger';

/**
 * A mongoose connection (not the global one, so tests and processes can hold several). The driver
 * retries server selection by itself; callers see errors only after serverSelectionTimeoutMS.
 */
export async function connectMongo(url: string, logger: Logger): Promise<Connection> {
  const conn = mongoose.createConnection(url, {
    serverSelectionTimeoutMS: 5000,
    directConnection: true,
    maxPoolSize: 20,
    autoIndex: false,
    autoCreate: false,
  });
  conn.on('disconnected', () => logger.warn('mongo disconnected'));
  conn.on('reconnected', () => logger.info('mongo reconnected'));
  await conn.asPromise();
  return conn;
}

/** Creates every model's collection and indexes (FerretDB lacks TTL and partial indexes: none are used). */
export async function syncIndexes(conn: Connection): Promise<void> {
  for (const model of Object.values(conn.models)) {
    await model.createCollection().catch((e: { code?: number }) => { if (e.code !== 48) throw e; });
    await model.createIndexes();
  }
}

/**
 * The positions of the documents an insert refused as duplicates, when duplicates are all it refused;
 * `null` for any other failure. A driver or network error during a bulk insert also arrives as a
 * MongoBulkWriteError, with an empty `writeErrors`: that is a failure (nothing is known to be stored),
 * never "all duplicates".
 */
export function onlyDuplicates(err: unknown, count: number): number[] | null {
  const e = (err ?? {}) as { code?: number; writeErrors?: { index: number; code?: number }[] | { index: number; code?: number } };
  if (Array.isArray(e.writeErrors) && e.writeErrors.length > 0) {
    return e.writeErrors.every((w) => w.code === 11000) ? e.writeErrors.map((w) => w.index) : null;
  }
  if (e.writeErrors && !Array.isArray(e.writeErrors)) return e.writeErrors.code === 11000 ? [e.writeErrors.index] : null;
  if (e.code === 11000 && count === 1) return [0];
  return null;
}
