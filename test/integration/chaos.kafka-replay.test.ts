import { kafkaDownSale } from '../helpers/kafka-down-sale';

/** A retry with the same Idempotency-Key while the first attempt still waits for a broker that is down is not told the order is placed. */
describe('chaos: an idempotent retry while Kafka is down', () => {
  const t = kafkaDownSale();
  const { order, remaining } = t;

  it('when a client retries with the same Idempotency-Key while the first attempt still waits for the broker, then the retry is not told the order is placed', async () => {
    await t.kafka.down();
    const first = order('down-2');
    await new Promise((r) => setTimeout(r, 500));
    const retry = await order('down-2');
    const original = await first;
    console.log(`first attempt: ${original.status}; retry during it: ${retry.status} ${JSON.stringify(retry.body).slice(0, 120)}`);
    expect(original.status).toBe(503);
    // a 200/201 here would promise an order that the first attempt then cancels
    expect([200, 201]).not.toContain(retry.status);
    expect(await remaining()).toBe(10);
  }, 90_000);

});
