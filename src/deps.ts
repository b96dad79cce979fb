import type { Connection } from 'mongoose';
import type { Db } from 'mongodb';
import type Redis from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { Config } from './config';
import type { Logger } from './infra/logger';
import type { Metrics } from './infra/metrics';
import type { BatchingProducer } from './infra/kafka';
import type { TokenStore } from './infra/auth';
import type { Keyspace } from './infra/redis';
import { createLogger } from './infra/logger';
import { createMetrics } from './infra/metrics';
import { createKafka, ensureTopics, BatchingProducer as Producer } from './infra/kafka';
import { createRedisClient, keyspace } from './infra/redis';
import { connectMongo, syncIndexes } from './infra/mongo';
import { timeScripts } from './infra/script-timing';
import { TokenStore as Tokens } from './infra/auth';

/** Everything a slice needs from the outside world, built once per process (or per test). */
export interface Deps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  redis: Redis;
  mongo: Connection;
  db: Db;
  kafka: Kafka;
  producer: BatchingProducer;
  tokens: TokenStore;
  key: Keyspace;
  /** set while the service rebuilds Redis state and must refuse orders */
  state: { rebuilding: boolean; closing: boolean };
}

/** Connects to Kafka, MongoDB and Redis, creates topics and indexes. Models must be registered first. */
export async function createDeps(config: Config, opts: { logger?: Logger; clientId?: string; registerModels?: (conn: Connection) => void } = {}): Promise<Deps> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const redis = createRedisClient(config.redis, logger);
  const mongo = await connectMongo(config.mongo.url, logger);
  opts.registerModels?.(mongo);
  await syncIndexes(mongo);
  const kafka = createKafka(config, logger, opts.clientId);
  await ensureTopics(kafka, config);
  const producer = Producer.create(kafka, config.kafka.lingerMs, metrics);
  await producer.connect();
  timeScripts(redis, metrics.redisScriptSeconds);
  const db = mongo.db as unknown as Db;
  const key = keyspace(config.redis.prefix);
  const tokens = new Tokens(db, redis, key, config.auth.adminToken);
  return { config, logger, metrics, redis, mongo, db, kafka, producer, tokens, key, state: { rebuilding: false, closing: false } };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await deps.producer.close().catch(() => undefined);
  await deps.mongo.close().catch(() => undefined);
  deps.redis.disconnect();
}
