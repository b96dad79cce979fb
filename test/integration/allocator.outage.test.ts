import { startService, type TestService } from '../helpers/app';
import { waitFor } from '../helpers/env';
import { PrivateMongo } from '../helpers/private-mongo';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { summariseLedger } from '../helpers/ledger-check';
import { startAllocator } from '../../src/allocator';
import type { Stoppable } from '../../src/app';
import { totKey } from '../helpers/hot-keys';

describe('allocator while MongoDB is away', () => {
  let mongo: PrivateMongo;
  let svc: TestService;
  let allocator: Stoppable;
  let writer: EventWriter;
  let expected = 0;
  const batch = (n: number) => Array.from({ length: n }, (_, i) => {
    const spec = { orderId: newOrderId(), charityId: 'c1', streamId: 's1', quantity: 1, pledgePerUnitFen: 100 + i };
    expected += spec.pledgePerUnitFen;
    return orderEvent('order.paid', spec);
  });
  const donation = async () => Number(await svc.deps.redis.hget(totKey(svc.deps, 'c1', 'tot:c', 'c1'), 'donationFen') ?? 0);

  beforeAll(async () => {
    mongo = await PrivateMongo.start();
    svc = await startService('api', { MONGO_URL: mongo.url });
    allocator = await startAllocator(svc.deps);
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
  });
  afterAll(async () => { await writer?.close(); await allocator?.stop(); await svc?.stop(); await mongo?.destroy(); });

  it('when MongoDB stops while paid orders arrive, then nothing is allocated or skipped meanwhile, and once it is back every order is allocated exactly once', async () => {
    await writer.send(batch(50));
    await waitFor(async () => (await donation()) === expected, 'the first orders', 30_000);
    const before = await donation();
    await mongo.down();
    await writer.send(batch(200));
    await new Promise((r) => setTimeout(r, 4000));
    // entries are durable before totals move, so with MongoDB away the totals stand still
    expect(await donation()).toBe(before);
    await mongo.up();
    await waitFor(async () => (await donation()) === expected, 'the orders held back by the outage', 60_000);
    const ledger = await summariseLedger(svc.deps);
    expect(ledger.byCharity.get('c1')).toMatchObject({ count: 250, maxSeq: 250, problems: 0, donationFen: expected });
  }, 120_000);
});
