import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configKeys } from '../../src/config';

interface Service {
  image?: string; build?: unknown; command?: string[]; environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] }; restart?: string;
}

describe('docker-compose.yml', () => {
  // merge keys (<<: *env) as docker compose reads them
  const doc = parse(readFileSync(path.resolve(__dirname, '../../docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const { services } = doc;
  const stores = ['mongo', 'kafka', 'redis'];

  it('when it sets a variable on the api or workers, then the config knows that variable', () => {
    for (const name of ['api', 'workers']) {
      const env = services[name].environment!;
      expect(Object.keys(env).length).toBeGreaterThan(3);
      for (const k of Object.keys(env)) expect(configKeys).toContain(k);
    }
  });

  it('when it starts the stack, then Kafka, MongoDB and Redis are official images', () => {
    expect(services.kafka.image).toMatch(/^apache\/kafka:3\.9/);
    expect(services.mongo.image).toMatch(/^mongo:/);
    expect(services.redis.image).toMatch(/^redis:/);
  });

  it('when it runs the api and workers, then both are the image built from the Dockerfile, one role each', () => {
    for (const name of ['api', 'workers']) {
      expect(services[name].build).toBe('.');
      expect(services[name].image).toBe(services.api.image);
      expect(services[name].command).toEqual(['--role', name]);
    }
  });

  it('when a service starts, then what it needs is healthy first: no plain depends_on list, no sleeping', () => {
    for (const name of ['api', 'workers']) {
      const deps = services[name].depends_on!;
      expect(Array.isArray(deps)).toBe(false);
      expect(deps['mongo-init']).toEqual({ condition: 'service_completed_successfully' });
      expect(deps.kafka).toEqual({ condition: 'service_healthy' });
      expect(deps.redis).toEqual({ condition: 'service_healthy' });
    }
    expect(services['mongo-init'].depends_on).toEqual({ mongo: { condition: 'service_healthy' } });
    expect(JSON.stringify(services)).not.toMatch(/\bsleep \d/);
  });

  it('when compose reports a service healthy, then it has a check of its own: every long-running service has a healthcheck', () => {
    // mongo-init is a one-shot job: its successful exit is the condition
    const unchecked = Object.entries(services).filter(([name, s]) => name !== 'mongo-init' && !((s.healthcheck?.test?.length ?? 0) > 1)).map(([name]) => name);
    expect(unchecked).toEqual([]);
    expect(Object.keys(services)).toEqual(expect.arrayContaining([...stores, 'api', 'workers']));
  });

  it('when the api or workers are up, then their own /readyz answered 200 on the port they listen on', () => {
    const api = services.api.healthcheck!.test.join(' ');
    expect(api).toContain(`127.0.0.1:${services.api.environment!.PORT}/readyz`);
    const workers = services.workers.healthcheck!.test.join(' ');
    expect(services.workers.environment!.LIVEGIVE_OPS_PORT).toMatch(/^\d+$/);
    expect(workers).toContain(`127.0.0.1:${services.workers.environment!.LIVEGIVE_OPS_PORT}/readyz`);
  });

  it('when the stores start, then MongoDB is a replica set initiated once, Kafka runs KRaft and Redis appends to its log', () => {
    const rs = /replicaSet=(\w+)/.exec(services.api.environment!.MONGO_URL)![1];
    expect(services.mongo.command).toEqual(expect.arrayContaining(['--replSet', rs]));
    const init = services['mongo-init'].command!.join(' ');
    expect(init).toContain(`rs.initiate({ _id: '${rs}'`);
    expect(init).toContain('NotYetInitialized'); // an initiated set is left alone
    expect(services['mongo-init'].restart).toBe('no');
    expect(services.kafka.environment!.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(JSON.stringify(services.kafka)).not.toMatch(/zookeeper/i);
    expect(services.kafka.environment!.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(services.redis.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    for (const s of stores) expect(services[s]).toHaveProperty('volumes');
  });
});
