import request from 'supertest';
import { Kafka, logLevel } from 'kafkajs';
import { startService, admin, bearer, type TestService } from '../helpers/app';
import { waitFor } from '../helpers/env';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { snapshotTotals, summariseLedger } from '../helpers/ledger-check';
import { donationOf, startAllocator } from '../../src/allocator';
import { hashEntry } from '../../src/allocator/chain';
import type { OrderEvent } from '../../src/events';
import type { Stoppable } from '../../src/app';
import { totKey } from '../helpers/hot-keys';

const charities = ['c1', 'c2', 'c3'];
const streams = ['s1', 's2', 's3', 's4'];

describe('allocator: exactness, redelivery, poison messages, ownership', () => {
  let svc: TestService;
  let allocator: Stoppable;
  let writer: EventWriter;
  const expected = new Map(charities.map((c) => [c, 0]));
  let matchId = '';

  beforeAll(async () => {
    // the API plus the allocator alone: the order projection's own cost stays out of these timings
    svc = await startService('api');
    allocator = await startAllocator(svc.deps);
    const db = svc.deps.db;
    await db.collection('charities').insertMany(charities.map((c) => ({ _id: c as never, name: `慈善${c}`, registrationNo: `R${c}`, active: true, createdAt: new Date() })));
    await db.collection('streams').insertMany(streams.map((s) => ({ _id: s as never, hostId: 'h1', title: s, status: 'live', goalFen: 1_000_000, productIds: [], createdAt: new Date() })));
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
  });
  afterAll(async () => { await writer?.close(); await allocator?.stop(); await svc?.stop(); });

  it('when 5,000 random orders are paid and 10% refunded over 3 charities and 4 streams, then every ledger sums to paid − refunded + matches to the fen, the totals equal it and every chain verifies from entry 1', async () => {
    const m = await request(svc.url).post('/api/v1/matches').set(admin).send({ sponsorName: '某农业集团', streamId: 's1', charityId: 'c1', ratioPercent: 100, capFen: 50_000 }).expect(201);
    matchId = m.body.id;
    const paid: OrderEvent[] = [];
    const refunds: OrderEvent[] = [];
    for (let i = 0; i < 5000; i++) {
      const spec = { orderId: newOrderId(), charityId: charities[i % 3], streamId: streams[Math.floor(Math.random() * 4)], productId: `p${i % 7}`, quantity: 1 + Math.floor(Math.random() * 5), pledgePerUnitFen: 1 + Math.floor(Math.random() * 2000) };
      paid.push(orderEvent('order.paid', spec));
      expected.set(spec.charityId, expected.get(spec.charityId)! + spec.quantity * spec.pledgePerUnitFen);
      if (Math.random() < 0.1) {
        refunds.push(orderEvent('order.refunded', spec));
        expected.set(spec.charityId, expected.get(spec.charityId)! - spec.quantity * spec.pledgePerUnitFen);
      }
    }
    await writer.send(paid);
    await writer.send(refunds);
    const t0 = Date.now();
    await waitFor(async () => {
      const got = await Promise.all(charities.map((c) => svc.deps.redis.hget(totKey(svc.deps, c, 'tot:c', c), 'donationFen')));
      return got.every((v, i) => Number(v) === expected.get(charities[i]));
    }, 'totals to reach the expected donations', 90_000, 250);
    console.log(`allocated ${paid.length + refunds.length} events in ${Date.now() - t0} ms`);

    const ledger = await summariseLedger(svc.deps);
    for (const c of charities) {
      const l = ledger.byCharity.get(c)!;
      expect(l.donationFen).toBe(expected.get(c));
      expect(l.problems).toBe(0);
      expect(l.maxSeq).toBe(l.count);
      const t = await svc.deps.redis.hgetall(totKey(svc.deps, c, 'tot:c', c));
      expect(Number(t.donationFen)).toBe(l.donationFen);
      expect(Number(t.matchedFen ?? 0)).toBe(l.matchedFen);
      expect(Number(t.entries)).toBe(l.count);
    }
    // the sponsor's budget: what the ledger matched is exactly what left the budget, never more than the cap
    const match = await request(svc.url).get(`/api/v1/matches/${matchId}`).set(admin).expect(200);
    expect(ledger.byMatch.get(matchId)).toBe(match.body.matchedFen);
    expect(match.body.matchedFen).toBeLessThanOrEqual(50_000);
    expect(ledger.byCharity.get('c2')!.matchedFen).toBe(0);
    for (const s of streams) {
      const r = await request(svc.url).get(`/api/v1/streams/${s}/totals`).expect(200);
      expect(r.body.donationFen).toBe(ledger.byStream.get(s)!.donationFen);
      expect(r.body.matchedFen).toBe(ledger.byStream.get(s)!.matchedFen);
      expect(r.body.byCharity.reduce((n: number, c: { donationFen: number }) => n + c.donationFen, 0)).toBe(r.body.donationFen);
      expect(r.body.recent[0].buyer).toBe('张**');
    }
  }, 120_000);

  it('when the whole topic is replayed from offset 0 into a fresh consumer group, then no entry and no total changes', async () => {
    const before = { ledger: await summariseLedger(svc.deps), totals: await snapshotTotals(svc.deps) };
    const groupId = `${svc.deps.config.kafka.groupPrefix}.replay`;
    const replay = await startAllocator(svc.deps, { groupId });
    const kadmin = new Kafka({ clientId: 'replay-check', brokers: svc.deps.config.kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await kadmin.connect();
    try {
      const topic = svc.deps.config.kafka.topics.orderEvents;
      const ends = await kadmin.fetchTopicOffsets(topic);
      await waitFor(async () => {
        const [committed] = await kadmin.fetchOffsets({ groupId, topics: [topic] });
        // an empty partition has nothing to commit
        return committed.partitions.every((p) => Number(ends.find((e) => e.partition === p.partition)!.offset) === 0 || Number(p.offset) >= Number(ends.find((e) => e.partition === p.partition)!.offset));
      }, 'the replay group to reach the end of the topic', 60_000, 250);
    } finally {
      await kadmin.disconnect();
      await replay.stop();
    }
    const after = { ledger: await summariseLedger(svc.deps), totals: await snapshotTotals(svc.deps) };
    expect(after.ledger.count).toBe(before.ledger.count);
    expect(after.totals).toEqual(before.totals);
  }, 240_000); // two full ledger reads: the MongoDB-wire test server scans slowly while other suites write

  it('when poison messages sit between valid orders, then each goes to the dead-letter topic with its reason and original bytes, and the orders around them are allocated', async () => {
    const a = orderEvent('order.paid', { orderId: newOrderId(), charityId: 'c2', streamId: 's2', quantity: 1, pledgePerUnitFen: 777 });
    const b = orderEvent('order.paid', { orderId: newOrderId(), charityId: 'c2', streamId: 's2', quantity: 2, pledgePerUnitFen: 111 });
    const floatPledge = JSON.stringify({ ...b, eventId: 'bad.float', pledgePerUnitFen: 1.5 });
    const wrongKey = JSON.stringify({ ...a, eventId: 'bad.key', orderId: newOrderId() });
    const dlqSeen: { reason: string; valueBase64: string }[] = [];
    const kafka = new Kafka({ clientId: 'dlq-check', brokers: svc.deps.config.kafka.brokers, logLevel: logLevel.NOTHING });
    const dlq = kafka.consumer({ groupId: `${svc.deps.config.kafka.groupPrefix}.dlq-check` });
    await dlq.connect();
    await dlq.subscribe({ topic: svc.deps.config.kafka.topics.deadLetter, fromBeginning: true });
    await dlq.run({ eachMessage: async ({ message }) => { const d = JSON.parse(message.value!.toString()); if (d.group.endsWith('.allocator')) dlqSeen.push(d); } });
    try {
      const before = Number(await svc.deps.redis.hget(totKey(svc.deps, 'c2', 'tot:c', 'c2'), 'donationFen'));
      await writer.raw([
        { key: 'c2', value: JSON.stringify(a) },
        { key: 'c2', value: Buffer.from([0xff, 0x00, 0x7b]) },
        { key: 'c2', value: floatPledge },
        { key: 'c1', value: wrongKey },
        { key: 'c2', value: JSON.stringify(b) },
      ]);
      await waitFor(async () => Number(await svc.deps.redis.hget(totKey(svc.deps, 'c2', 'tot:c', 'c2'), 'donationFen')) === before + 777 + 222, 'both valid orders to be allocated', 30_000);
      await waitFor(async () => dlqSeen.length >= 3, 'three dead letters', 30_000);
      expect(dlqSeen.map((d) => d.reason)).toEqual(expect.arrayContaining(['not JSON', expect.stringMatching(/^invalid: pledgePerUnitFen/), expect.stringMatching(/does not match charityId/)]));
      expect(dlqSeen.map((d) => Buffer.from(d.valueBase64, 'base64').toString())).toEqual(expect.arrayContaining([floatPledge, wrongKey]));
      const ledger = await summariseLedger(svc.deps);
      expect([...ledger.byCharity.values()].every((c) => c.problems === 0 && c.maxSeq === c.count)).toBe(true);
      expect(ledger.byCharity.get('c1')!.keys.has('bad.key:allocation')).toBe(false);
    } finally {
      await dlq.disconnect();
    }
  }, 180_000);

  it('when a charity asks for another charity\'s ledger, then it is refused; its own ledger pages through the chain', async () => {
    const c1 = await svc.deps.tokens.issue('charity', 'c1');
    const c2 = await svc.deps.tokens.issue('charity', 'c2');
    const denied = await request(svc.url).get('/api/v1/charities/c1/ledger').set(bearer(c2)).expect(403);
    expect(denied.body.error.code).toBe('FORBIDDEN');
    await request(svc.url).get('/api/v1/charities/c1/ledger').expect(401);
    const p1 = await request(svc.url).get('/api/v1/charities/c1/ledger?limit=3').set(bearer(c1)).expect(200);
    expect(p1.body.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    expect(p1.body.next).toBe(3);
    const p2 = await request(svc.url).get(`/api/v1/charities/c1/ledger?after=${p1.body.next}&limit=2`).set(admin).expect(200);
    expect(p2.body.entries[0]).toMatchObject({ seq: 4, prevHash: p1.body.entries[2].hash });
    // a charity can check every hash from the page alone
    for (const e of [...p1.body.entries, ...p2.body.entries]) expect(hashEntry(e)).toBe(e.hash);
    // the order behind entry 1 reads as allocated at seq 1, or reversed later if it was among the refunds
    const d = await donationOf(svc.deps, p1.body.entries[0].orderId, p1.body.entries[0].charityId);
    expect(d.status === 'allocated' ? d.entrySeq === 1 : d.status === 'reversed' && d.entrySeq! > 1).toBe(true);
    for (const bad of ['limit=0', 'limit=501', 'after=-1', 'after=x', 'limit=2.5', 'extra=1']) {
      const r = await request(svc.url).get(`/api/v1/charities/c1/ledger?${bad}`).set(bearer(c1)).expect(422);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    }
  }, 180_000);

  it('when a match is created with bad input or by a non-operator, then it is refused with a stable code and no budget appears', async () => {
    const good = { sponsorName: 'S', streamId: 's3', charityId: 'c3', ratioPercent: 100, capFen: 1000 };
    const before = await svc.deps.db.collection('matches').countDocuments();
    const viewer = await svc.deps.tokens.issue('viewer', 'v9');
    expect((await request(svc.url).post('/api/v1/matches').set(bearer(viewer)).send(good).expect(403)).body.error.code).toBe('FORBIDDEN');
    await request(svc.url).post('/api/v1/matches').send(good).expect(401);
    for (const body of [{ ...good, ratioPercent: 0 }, { ...good, capFen: 10.5 }, { ...good, capFen: '1000' }, { ...good, capFen: -1 }, { ...good, streamId: { $gt: '' } }, { ...good, extra: 1 }, { ...good, sponsorName: '' }]) {
      const r = await request(svc.url).post('/api/v1/matches').set(admin).send(body).expect(422);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    }
    const missing = await request(svc.url).post('/api/v1/matches').set(admin).send({ ...good, streamId: 'nope' }).expect(404);
    expect(missing.body.error.details).toEqual([{ field: 'body.streamId', message: 'no such stream' }]);
    expect(await svc.deps.db.collection('matches').countDocuments()).toBe(before);
    expect(await svc.deps.redis.smembers(totKey(svc.deps, 'c3', 'match', 'for', 's3', 'c3'))).toEqual([]);
    expect((await request(svc.url).get('/api/v1/streams/nope/totals').expect(404)).body.error.code).toBe('NOT_FOUND');
    expect((await request(svc.url).get('/api/v1/streams/$bad/totals').expect(422)).body.error.code).toBe('VALIDATION_FAILED');
  });
});
