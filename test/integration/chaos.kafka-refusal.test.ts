import { kafkaDownSale } from '../helpers/kafka-down-sale';
import { waitFor } from '../helpers/env';

/** Kafka down: an order that cannot be recorded is refused (503, Retry-After) and reserves nothing; after the broker returns, orders flow again. */
describe('chaos: an order while Kafka is down', () => {
  const t = kafkaDownSale();
  const { order, remaining } = t;

  it('when the broker is down, then the order is refused with 503 and Retry-After, and the stock is given back', async () => {
    await t.kafka.down();
    const t0 = Date.now();
    const a = await order('down-1');
    const ms = Date.now() - t0;
    console.log(`order refused after ${ms} ms with ${a.status} ${a.body.error?.code ?? ''}`);
    expect(a.status).toBe(503);
    expect(a.retryAfter).toBeGreaterThanOrEqual(1);
    expect(await remaining()).toBe(10);
  }, 90_000);

  it('when the broker is back, then the same Idempotency-Key places the order', async () => {
    await t.kafka.up();
    const a = await waitFor(async () => { const r = await order('down-1'); return r.status === 201 || r.status === 200 ? r : null; }, 'an accepted order', 60_000, 500);
    expect(a.body.id).toMatch(/^o_/);
    expect(await remaining()).toBe(8);
  }, 90_000);
});
