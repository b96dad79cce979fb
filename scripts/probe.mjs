// Readiness probe over each service's own protocol: a Kafka metadata request, a MongoDB ping, a
// Redis PING. Exits 0 when the service answers within the timeout, 1 otherwise.
// Usage: node scripts/probe.mjs kafka|mongo|redis <url>
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import Redis from 'ioredis';

const [kind, url] = process.argv.slice(2);
const timeout = setTimeout(() => process.exit(1), 3000);

async function main() {
  if (kind === 'kafka') {
    const admin = new Kafka({ brokers: url.split(','), logLevel: logLevel.NOTHING, connectionTimeout: 1000, retry: { retries: 0 } }).admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [] });
    await admin.disconnect();
  } else if (kind === 'mongo') {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 1500, directConnection: true });
    await client.connect();
    await client.db().command({ ping: 1 });
    await client.close();
  } else if (kind === 'redis') {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    await redis.connect();
    if ((await redis.ping()) !== 'PONG') throw new Error('no PONG');
    redis.disconnect();
  } else {
    console.error('usage: probe.mjs kafka|mongo|redis <url>');
    process.exit(2);
  }
}

main().then(() => { clearTimeout(timeout); process.exit(0); }, (err) => { console.error(String(err?.message ?? err)); process.exit(1); });
