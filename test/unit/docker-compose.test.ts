import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { configKeys } from '../../src/config';

describe('docker-compose.yml', () => {
  const doc = parse(readFileSync(path.resolve(__dirname, '../../docker-compose.yml'), 'utf8'));

  it('when it sets a variable on the api or workers, then the config knows that variable', () => {
    for (const name of ['api', 'workers']) {
      const env = doc.services[name].environment as Record<string, string>;
      expect(Object.keys(env).length).toBeGreaterThan(3);
      for (const k of Object.keys(env)) expect(configKeys).toContain(k);
    }
  });

  it('when it starts the stack, then Kafka, MongoDB and Redis are official images', () => {
    expect(doc.services.kafka.image).toMatch(/^apache\/kafka:3\.9/);
    expect(doc.services.mongo.image).toMatch(/^mongo:/);
    expect(doc.services.redis.image).toMatch(/^redis:/);
  });
});
