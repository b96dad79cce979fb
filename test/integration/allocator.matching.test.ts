import request from 'supertest';
import { startService, admin, type TestService } from '../helpers/app';
import { waitFor } from '../helpers/env';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { summariseLedger } from '../helpers/ledger-check';
import { matchesForOrder, startAllocator } from '../../src/allocator';
import type { Stoppable } from '../../src/app';
import { totKey } from '../helpers/hot-keys';

describe('sponsor matching (配捐)', () => {
  let svc: TestService;
  let allocator: Stoppable;
  let writer: EventWriter;
  let matchId = '';
  const spec = () => ({ orderId: newOrderId(), charityId: 'c1', streamId: 's1', quantity: 1, pledgePerUnitFen: 700 });
  const ledgerMatched = async () => (await summariseLedger(svc.deps)).byMatch.get(matchId) ?? 0;
  const charityEntries = async () => Number(await svc.deps.redis.hget(totKey(svc.deps, 'c1', 'tot:c', 'c1'), 'entries'));

  beforeAll(async () => {
    svc = await startService('api');
    allocator = await startAllocator(svc.deps);
    await svc.deps.db.collection('charities').insertOne({ _id: 'c1' as never, name: '武汉市慈善总会', registrationNo: 'x', active: true, createdAt: new Date() });
    await svc.deps.db.collection('streams').insertOne({ _id: 's1' as never, hostId: 'h', title: 's1', status: 'live', goalFen: 0, productIds: [], createdAt: new Date() });
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
    const m = await request(svc.url).post('/api/v1/matches').set(admin).send({ sponsorName: '某农业集团', streamId: 's1', charityId: 'c1', ratioPercent: 100, capFen: 100_000 }).expect(201);
    expect(m.body).toMatchObject({ remainingFen: 100_000, matchedFen: 0, ratioPercent: 100 });
    matchId = m.body.id;
  });
  afterAll(async () => { await writer?.close(); await allocator?.stop(); await svc?.stop(); });

  it('when 300 paid orders arrive at once against a 1:1 cap of ¥1,000, then exactly ¥1,000 is matched, the last match is partial, and receipts say why', async () => {
    const specs = Array.from({ length: 300 }, spec);
    await writer.send(specs.map((s) => orderEvent('order.paid', s)));
    // 300 allocations, 142 full matches of 700 and one partial of 600
    await waitFor(async () => (await charityEntries()) === 300 + 143, 'all orders and matches to be allocated', 60_000);
    expect(await ledgerMatched()).toBe(100_000);
    const budget = await request(svc.url).get(`/api/v1/matches/${matchId}`).set(admin).expect(200);
    expect(budget.body).toMatchObject({ remainingFen: 0, matchedFen: 100_000 });
    const receipts = await Promise.all(specs.map((s) => matchesForOrder(svc.deps, 's1', 'c1', s.orderId)));
    const reasons = receipts.map((r) => r[0].reason);
    expect(reasons.filter((r) => r === 'matched')).toHaveLength(142);
    expect(receipts.filter((r) => r[0].reason === 'partial_cap_reached').map((r) => r[0].amountFen)).toEqual([600]);
    expect(reasons.filter((r) => r === 'cap_exhausted')).toHaveLength(157);
    const totals = await request(svc.url).get('/api/v1/streams/s1/totals').expect(200);
    expect(totals.body).toMatchObject({ matchedFen: 100_000, donationFen: 300 * 700, matches: [{ matchId, capFen: 100_000, matchedFen: 100_000, remainingFen: 0 }] });
    // the charity's name as the order's pledge snapshot carried it
    expect(totals.body.byCharity).toEqual([{ charityId: 'c1', name: '慈善c1', donationFen: 210_000, matchedFen: 100_000 }]);

    // refunds of ten fully matched orders give ¥70 back to the budget, and later orders use it up exactly again
    const matched = specs.filter((_, i) => reasons[i] === 'matched').slice(0, 10);
    await writer.send(matched.map((s) => orderEvent('order.refunded', s)));
    await waitFor(async () => (await charityEntries()) === 443 + 20, 'refunds and match reversals', 60_000);
    expect((await request(svc.url).get(`/api/v1/matches/${matchId}`).set(admin).expect(200)).body.remainingFen).toBe(7000);
    expect(await ledgerMatched()).toBe(93_000);
    await writer.send(Array.from({ length: 12 }, () => orderEvent('order.paid', spec())));
    await waitFor(async () => (await charityEntries()) === 463 + 12 + 10, 'new orders to take the returned budget', 60_000);
    expect(await ledgerMatched()).toBe(100_000);
    expect((await request(svc.url).get(`/api/v1/matches/${matchId}`).set(admin).expect(200)).body.remainingFen).toBe(0);
    const ledger = await summariseLedger(svc.deps);
    expect(ledger.byCharity.get('c1')).toMatchObject({ donationFen: (300 - 10 + 12) * 700, matchedFen: 100_000, problems: 0 });
  }, 180_000);
});
