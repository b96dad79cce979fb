import { startService, type TestService } from '../helpers/app';
import { testEnv, waitFor } from '../helpers/env';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { remittanceEvent } from '../helpers/agreements';
import { spawnAllocator, stopChild } from '../helpers/allocator-process';
import { totKey } from '../helpers/hot-keys';
import { summariseLedger } from '../helpers/ledger-check';

describe('remittances when the allocator crashes between the event and its ledger entry', () => {
  const env = testEnv();
  let svc: TestService;
  let writer: EventWriter;

  beforeAll(async () => {
    svc = await startService('api', {}, env);
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
  }, 120_000);
  afterAll(async () => { await writer?.close(); await svc?.stop(); });

  it('when the allocator is SIGKILLed mid-run and restarted, then each remittance and answer is one entry and the layers count each once', async () => {
    const charities = ['rc1', 'rc2'];
    const events = [];
    let remitted = 0;
    let acknowledged = 0;
    const remits: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const charityId = charities[i % 2];
      const agreementId = `ag_${charityId}`;
      events.push({ ...orderEvent('order.paid', { orderId: newOrderId(), charityId, streamId: 's_c', hostId: 'h1', quantity: 1, pledgePerUnitFen: 100 }), agreementId });
      if (i % 30 === 7) {
        const r = { remittanceId: `rm_${i}`, agreementId, charityId, hostId: 'h1', amountFen: 50 };
        events.push(remittanceEvent(r));
        remits.push(r.remittanceId);
        remitted += 50;
        if (i % 60 === 7) { events.push(remittanceEvent(r, 'remittance.acknowledged')); acknowledged += 50; }
      }
    }
    // a few hundred a send: two charities put everything in two partitions, and a broker refuses too large a batch
    for (let i = 0; i < events.length; i += 400) await writer.raw(events.slice(i, i + 400).map((e) => ({ key: e.charityId, value: JSON.stringify(e) })));
    const entries = async () => (await Promise.all(charities.map((c) => svc.deps.redis.hget(totKey(svc.deps, c, 'tot:c', c), 'entries')))).reduce((n, v) => n + Number(v ?? 0), 0);
    const first = await spawnAllocator(env);
    await waitFor(async () => (await entries()) > 600, 'the allocator to be under way', 60_000, 20);
    await stopChild(first, 'SIGKILL');
    expect(await entries()).toBeLessThan(events.length);
    const second = await spawnAllocator(env);
    try {
      await waitFor(async () => (await entries()) === events.length, 'every event to be in the ledger', 180_000, 250);
    } finally {
      await stopChild(second, 'SIGTERM');
    }
    const ledger = await summariseLedger(svc.deps);
    const keys = charities.flatMap((c) => [...ledger.byCharity.get(c)!.keys]);
    expect(keys.filter((k) => k.endsWith(':remittance')).length).toBe(remits.length);
    expect(keys.filter((k) => k.endsWith(':acknowledgement')).length).toBe(remits.length / 2);
    expect(charities.map((c) => ledger.byCharity.get(c)!.problems)).toEqual([0, 0]);
    const layer = async (c: string, f: string) => Number(await svc.deps.redis.hget(totKey(svc.deps, c, `tot:a:ag_${c}`), f));
    const sums = await Promise.all(charities.flatMap((c) => [layer(c, 'remittedFen'), layer(c, 'acknowledgedFen'), layer(c, 'pledgedFen')]));
    expect([sums[0] + sums[3], sums[1] + sums[4], sums[2] + sums[5]]).toEqual([remitted, acknowledged, 300_000]);
  }, 300_000);
});
