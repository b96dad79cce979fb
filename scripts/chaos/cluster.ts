import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServiceProcess, freePort } from './processes';
import { testEnv } from '../../test/helpers/env';
import { PrivateRedis } from '../../test/helpers/redis-server';
import { PrivateKafka } from '../../test/helpers/private-kafka';
import { PrivateMongo } from '../../test/helpers/private-mongo';
import { loadConfig } from '../../src/config';

export interface ClusterOptions {
  apis: number;
  workers: number;
  /** private servers for the stores a scenario stops; the shared ones are never stopped */
  privateRedis?: boolean;
  privateKafka?: boolean;
  privateMongo?: boolean;
  env?: Record<string, string>;
  logDir?: string;
}

/**
 * API and worker processes of one namespace, each a real child process that can be SIGKILLed, on the
 * shared stores or on private ones for the stores a scenario takes down.
 */
export class Cluster {
  apis: ServiceProcess[] = [];
  workers: ServiceProcess[] = [];
  redis?: PrivateRedis;
  kafka?: PrivateKafka;
  mongo?: PrivateMongo;
  env!: NodeJS.ProcessEnv;
  readonly logDir: string;

  private constructor(readonly opts: ClusterOptions) {
    this.logDir = opts.logDir ?? mkdtempSync(path.join(os.tmpdir(), 'lg-chaos-'));
  }

  static async start(opts: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(opts);
    try {
      if (opts.privateRedis) c.redis = await PrivateRedis.start();
      if (opts.privateKafka) c.kafka = await PrivateKafka.start();
      if (opts.privateMongo) c.mongo = await PrivateMongo.start();
      c.env = testEnv({
        LIVEGIVE_LOG_LEVEL: 'info', LIVEGIVE_MAX_OPEN_ORDERS_PER_VIEWER: '1000', LIVEGIVE_ORDER_TTL_SECONDS: '6', LIVEGIVE_SWEEP_INTERVAL_MS: '500', LIVEGIVE_REPUBLISH_AFTER_MS: '2000',
        ...(c.redis ? { REDIS_URL: c.redis.url } : {}), ...(c.kafka ? { KAFKA_BROKERS: c.kafka.brokers } : {}), ...(c.mongo ? { MONGO_URL: c.mongo.url } : {}),
        ...opts.env,
      });
      for (let i = 0; i < opts.apis; i++) c.apis.push(new ServiceProcess(`api-${i + 1}`, 'api', c.env, path.join(c.logDir, `api-${i + 1}.log`), await freePort()));
      for (let i = 0; i < opts.workers; i++) c.workers.push(new ServiceProcess(`workers-${i + 1}`, 'workers', c.env, path.join(c.logDir, `workers-${i + 1}.log`)));
      // the first process creates topics and indexes; the others then start side by side
      await c.apis[0]?.start();
      await Promise.all([...c.apis.slice(1), ...c.workers].map((p) => p.start()));
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  get config() { return loadConfig(this.env); }
  get mongoUrl() { return this.config.mongo.url; }
  get all(): ServiceProcess[] { return [...this.apis, ...this.workers]; }
  /** URLs of API processes that are up now (all of them when none is, so clients keep retrying). */
  urls = (): string[] => {
    const up = this.apis.filter((a) => a.running).map((a) => a.url);
    return up.length ? up : this.apis.map((a) => a.url);
  };

  async stop(): Promise<void> {
    await Promise.all(this.all.map((p) => p.stop().then(() => p.close())));
    await this.redis?.down({ wipe: true });
    await this.kafka?.destroy();
    await this.mongo?.destroy();
  }
}
