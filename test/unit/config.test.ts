import { loadConfig, ConfigError } from '../../src/config';

const good = { LIVEGIVE_ADMIN_TOKEN: 'a'.repeat(20), LIVEGIVE_PAYMENT_SECRET: 'b'.repeat(20) };

describe('config', () => {
  it('when the environment is valid, then a frozen, nested config comes back with defaults', () => {
    const c = loadConfig({ ...good, LIVEGIVE_NAMESPACE: 'abc' });
    expect(c.http.port).toBe(8080);
    expect(c.kafka.topics.orderEvents).toBe('abc.livegive.order-events.v1');
    expect(c.mongo.url).toContain('/livegive_abc');
    expect(Object.isFrozen(c.kafka)).toBe(true);
  });

  it('when PORT is bad and the payment secret is missing, then start-up fails naming both keys', () => {
    let err: unknown;
    try { loadConfig({ LIVEGIVE_ADMIN_TOKEN: 'a'.repeat(20), PORT: 'eighty' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/PORT/);
    expect(msg).toMatch(/LIVEGIVE_PAYMENT_SECRET.*not set/);
  });

  it('when a port is out of range or a URL has the wrong scheme, then each is named', () => {
    expect(() => loadConfig({ ...good, PORT: '70000', REDIS_URL: 'http://x' })).toThrow(/PORT[\s\S]*REDIS_URL|REDIS_URL[\s\S]*PORT/);
  });

  it('when LIVEGIVE_OPS_PORT is unset the workers open no port; set, it is a port number, and anything else is named', () => {
    expect(loadConfig(good).http.opsPort).toBeUndefined();
    expect(loadConfig({ ...good, LIVEGIVE_OPS_PORT: '9464' }).http.opsPort).toBe(9464);
    expect(() => loadConfig({ ...good, LIVEGIVE_OPS_PORT: 'metrics' })).toThrow(/LIVEGIVE_OPS_PORT/);
    expect(() => loadConfig({ ...good, LIVEGIVE_OPS_PORT: '65536' })).toThrow(/LIVEGIVE_OPS_PORT/);
  });

  it('when LIVEGIVE_ALLOCATOR_LINGER_MS is unset the allocator waits 25 ms after a small batch; 0 turns it off, and a negative, fractional or over-five-seconds value is named', () => {
    expect(loadConfig(good).kafka.allocatorLingerMs).toBe(25);
    expect(loadConfig({ ...good, LIVEGIVE_ALLOCATOR_LINGER_MS: '0' }).kafka.allocatorLingerMs).toBe(0);
    for (const bad of ['-1', '2.5', '5001', 'soon']) expect(() => loadConfig({ ...good, LIVEGIVE_ALLOCATOR_LINGER_MS: bad })).toThrow(/LIVEGIVE_ALLOCATOR_LINGER_MS/);
  });

  it('when LIVEGIVE_ALLOCATOR_CADENCE_MS is unset small batches start at most once a feed interval (LIVEGIVE_FEED_INTERVAL_MS); 0 turns it off, and a bad value is named', () => {
    expect(loadConfig(good).kafka.allocatorCadenceMs).toBe(100);
    expect(loadConfig({ ...good, LIVEGIVE_FEED_INTERVAL_MS: '250' }).kafka.allocatorCadenceMs).toBe(250);
    expect(loadConfig({ ...good, LIVEGIVE_FEED_INTERVAL_MS: '250', LIVEGIVE_ALLOCATOR_CADENCE_MS: '0' }).kafka.allocatorCadenceMs).toBe(0);
    for (const bad of ['-1', '2.5', '5001', 'often']) expect(() => loadConfig({ ...good, LIVEGIVE_ALLOCATOR_CADENCE_MS: bad })).toThrow(/LIVEGIVE_ALLOCATOR_CADENCE_MS/);
  });
});
