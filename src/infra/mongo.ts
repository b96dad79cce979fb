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
