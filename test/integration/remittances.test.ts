import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { startService, admin, bearer, type TestService } from '../helpers/app';
import { waitFor } from '../helpers/env';
import { uscc } from '../helpers/fixtures';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { insertAgreement } from '../helpers/agreements';
import { streamTotalsHash, totKey } from '../helpers/hot-keys';
import { agreementLayers } from '../../src/agreements/layers';
import { confirmDue } from '../../src/allocator/totals.store';
import { StatementsRepository } from '../../src/statements/statements.repository';
import { checkChain } from '../../src/statements/verify-ledger';
import type { AgreementDoc } from '../../src/agreements/agreement.types';
import { reserveRemittance } from '../../src/remittances/reserve-remittance';
import { RemittancesRepository, type RemittanceDoc } from '../../src/remittances/remittance.models';
import { PENDING_GRACE_MS, sweepRemittances } from '../../src/remittances/remittance-sweeper';
import { publishRemitEvent, sentEventOf } from '../../src/remittances/create-remittance';

const DAY = 86_400_000;

describe('remittances and acknowledgements (issue 15, ledger side)', () => {
  let svc: TestService;
  let writer: EventWriter;
  let charity: { id: string; token: string };
  let other: { id: string; token: string };
  let host: { id: string; token: string };
  let host2: { id: string; token: string };
  let ag: AgreementDoc;
  let ag2: AgreementDoc;
  let ag3: AgreementDoc;
  let windowMs: number;
  /** when the orders were paid: far enough back that the refund window has passed */
  const paidAt = new Date(Date.now() - 20 * DAY);
  const orders: { seq?: number; orderId: string; fen: number }[] = [];

  const layers = async (id = ag._id, now = Date.now()) => (await agreementLayers(svc.deps, [id], now)).get(id)!;
  const remittances = () => svc.deps.db.collection('remittances').countDocuments({});
  const reserved = () => svc.deps.redis.hgetall(totKey(svc.deps, charity.id, `tot:a:${ag._id}:res`));
  const remit = (body: Record<string, unknown>, token = host.token) => request(svc.url).post('/api/v1/remittances').set(bearer(token)).send(body);
  const good = (amountFen: number) => ({ agreementId: ag._id, amountFen, paidAt: new Date().toISOString(), reference: 'ICBC 20261201-0001' });

  beforeAll(async () => {
    svc = await startService('all');
    windowMs = svc.deps.config.orders.refundWindowSeconds * 1000;
    const mk = async (name: string) => (await request(svc.url).post('/api/v1/charities').set(admin).send({ name, registrationNo: uscc() }).expect(201)).body;
    charity = await mk('希望小学基金会R');
    other = await mk('另一家基金会R');
    host = (await request(svc.url).post('/api/v1/hosts').set(admin).send({ name: '县长主播' }).expect(201)).body;
    host2 = (await request(svc.url).post('/api/v1/hosts').set(admin).send({ name: '别的主播' }).expect(201)).body;
    ag = await insertAgreement(svc.deps, { hostId: host.id, charityId: charity.id, remitWithinDays: 3 });
    ag2 = await insertAgreement(svc.deps, { hostId: host2.id, charityId: charity.id, migrated: true });
    await insertAgreement(svc.deps, { _id: `ag_proposed_${charity.id}`, hostId: host2.id, charityId: charity.id, status: 'proposed', acceptedAt: undefined });
    ag3 = await insertAgreement(svc.deps, { hostId: host.id, charityId: other.id });
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
    // five paid orders under the agreement, 1,000 fen each (one with a donation cut by the cap: 500), one refunded in part
    const events = [];
    for (let i = 0; i < 5; i++) {
      // the second order sold on another stream: a remittance's amount is split by the streams of what it covers
      const spec = { orderId: newOrderId(), charityId: charity.id, streamId: i === 1 ? 's_r2' : 's_r1', hostId: host.id, quantity: 2, pledgePerUnitFen: 500 };
      const e = { ...orderEvent('order.paid', spec, new Date(paidAt.getTime() + i * 1000)), agreementId: ag._id, ...(i === 4 ? { donationFen: 500 } : {}) };
      events.push(e);
      orders.push({ orderId: spec.orderId, fen: i === 4 ? 500 : 1000 });
    }
    events.push({ ...orderEvent('order.paid', { orderId: newOrderId(), charityId: other.id, streamId: 's_r1', hostId: host.id, quantity: 1, pledgePerUnitFen: 1000 }, paidAt), agreementId: ag3._id });
    await writer.send(events);
    await waitFor(async () => (await layers()).pledgedFen === 4500 && (await layers(ag3._id)).pledgedFen === 1000, 'the pledged layer');
    await confirmDue(svc.deps);
    await waitFor(async () => (await layers()).confirmedFen === 4500 && (await layers(ag3._id)).confirmedFen === 1000, 'the confirmed layer');
  }, 180_000);
  afterAll(async () => { await writer?.close(); await svc?.stop(); });

  it('when the allocator has the orders, then every entry names the agreement and the cap-cut order allocates its donationFen', async () => {
    const entries = await svc.deps.db.collection<{ kind: string; agreementId?: string; amountFen: number; orderId: string; seq: number }>('ledger').find({ charityId: charity.id }).toArray();
    expect(entries.map((e) => e.agreementId)).toEqual(entries.map(() => ag._id));
    expect(entries.map((e) => e.amountFen).sort()).toEqual([1000, 1000, 1000, 1000, 500].sort());
    for (const o of orders) o.seq = entries.find((e) => e.orderId === o.orderId)!.seq;
  });

  it.each([
    ['amount 0', { amountFen: 0 }, 'body.amountFen'],
    ['a negative amount', { amountFen: -100 }, 'body.amountFen'],
    ['a fractional amount', { amountFen: 10.5 }, 'body.amountFen'],
    ['an amount as a string', { amountFen: '100' }, 'body.amountFen'],
    ['paidAt not a date', { paidAt: 'yesterday' }, 'body.paidAt'],
    ['paidAt on 30 February', { paidAt: '2026-02-30T08:00:00Z' }, 'body.paidAt'],
    ['a reference too long', { reference: 'x'.repeat(129) }, 'body.reference'],
    ['a reference with control characters', { reference: 'ICBC\u0007 123' }, 'body.reference'],
    ['an unknown field', { note: 'x' }, 'body'],
  ])('when the body has %s, then 422 VALIDATION_FAILED naming the field and nothing is recorded or reserved', async (_n, patch, field) => {
    const before = await remittances();
    const r = await remit({ ...good(100), ...patch }).expect(422);
    expect(r.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(r.body.error.details)).toContain(field);
    expect([await remittances(), await reserved()]).toEqual([before, {}]);
  });

  it('when paidAt is in the future, then 422 and nothing is recorded', async () => {
    const before = await remittances();
    await remit({ ...good(100), paidAt: new Date(Date.now() + DAY).toISOString() }).expect(422);
    expect([await remittances(), await reserved()]).toEqual([before, {}]);
  });

  it('when a host remits under another host\'s agreement, or a charity or viewer tries, then 404 / 403 and nothing is recorded', async () => {
    const before = await remittances();
    expect((await remit({ ...good(100), agreementId: ag2._id }).expect(404)).body.error.code).toBe('NOT_FOUND');
    await remit(good(100), charity.token).expect(403);
    await request(svc.url).post('/api/v1/remittances').send(good(100)).expect(401);
    expect([await remittances(), await reserved(), (await layers(ag2._id)).remittedFen]).toEqual([before, {}, 0]);
  });

  it('when a remittance is larger than confirmed and unremitted, then 422 REMITTANCE_EXCEEDS_UNREMITTED and nothing changes', async () => {
    const before = await remittances();
    const r = await remit(good(4501)).expect(422);
    expect(r.body.error).toMatchObject({ code: 'REMITTANCE_EXCEEDS_UNREMITTED', details: { availableFen: 4500 } });
    expect([await remittances(), await reserved(), (await layers()).remittedFen]).toEqual([before, {}, 0]);
  });

  it('when two remittances that together exceed it arrive at once, then exactly one is recorded', async () => {
    const rs = await Promise.all([remit(good(2500)), remit(good(2500))]);
    expect(rs.map((r) => r.status).sort()).toEqual([201, 422]);
    const ok = rs.find((r) => r.status === 201)!.body;
    expect(ok).toMatchObject({ status: 'sent', amountFen: 2500, coversSeqs: { from: orders[0].seq, to: orders[2].seq } });
    await waitFor(async () => (await layers()).remittedFen === 2500, 'the remitted layer');
    expect(await reserved()).toEqual({});
  });

  it('when the charity acknowledges, then the layers and the public page move; another charity gets 404 and a second answer 409', async () => {
    const [rm] = await svc.deps.db.collection<{ _id: string }>('remittances').find({ agreementId: ag._id }).toArray();
    // the public view shows what the chain holds: the remittance once its entry is written
    await waitFor(async () => (await svc.deps.db.collection<{ _id: string; entrySeq?: number }>('remittances').findOne({ _id: rm._id }))?.entrySeq, 'the remittance entry');
    await request(svc.url).post(`/api/v1/remittances/${rm._id}/acknowledge`).set(bearer(other.token)).expect(404);
    await request(svc.url).post(`/api/v1/remittances/${rm._id}/acknowledge`).set(bearer(host.token)).expect(403);
    let pub = await request(svc.url).get(`/api/v1/public/charities/${charity.id}/agreements`).expect(200);
    expect(pub.headers['cache-control']).toMatch(/public, max-age=/);
    const mine = () => pub.body.agreements.find((a: { id: string }) => a.id === ag._id);
    expect(mine().layers).toEqual({ pledgedFen: 4500, confirmedFen: 4500, remittedFen: 2500, acknowledgedFen: 0, overdueFen: 2000 });
    // accepted agreements only (a proposed one is not public); one given at migration says so
    expect(pub.body.agreements.map((a: { id: string; note?: string }) => [a.id, a.note ?? null]).sort()).toEqual([[ag._id, null], [ag2._id, "accepted on the charity's behalf at migration"]].sort());
    expect(mine().terms).toMatchObject({ perUnitFen: 100, remitWithinDays: 3, validFromLocal: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+8\)$/) });
    expect(mine().remittances.map((r: { status: string; entrySeq: number }) => [r.status, r.entrySeq])).toEqual([['sent', 6]]);
    const a = await request(svc.url).post(`/api/v1/remittances/${rm._id}/acknowledge`).set(bearer(charity.token)).expect(200);
    expect(a.body.status).toBe('acknowledged');
    expect((await request(svc.url).post(`/api/v1/remittances/${rm._id}/acknowledge`).set(bearer(charity.token)).expect(409)).body.error.code).toBe('REMITTANCE_ALREADY_ANSWERED');
    await request(svc.url).post(`/api/v1/remittances/${rm._id}/dispute`).set(bearer(charity.token)).send({ reason: '未收到' }).expect(409);
    await waitFor(async () => (await layers()).acknowledgedFen === 2500, 'the acknowledged layer');
    // 2,500 fen covered orders 1 and 2 in full (1,000 each, the second on s_r2) and half of order 3
    const stream = async (id: string) => { const h = await streamTotalsHash(svc.deps, id); return [Number(h.remittedFen ?? 0), Number(h.acknowledgedFen ?? 0)]; };
    expect([await stream('s_r1'), await stream('s_r2')]).toEqual([[1500, 1500], [1000, 1000]]);
    pub = await request(svc.url).get(`/api/v1/public/charities/${charity.id}/agreements`).expect(200);
    expect(mine().remittances[0]).toMatchObject({ status: 'acknowledged', paidAtLocal: expect.stringContaining('(UTC+8)') });
    expect(pub.body.layers).toMatchObject({ remittedFen: 2500, acknowledgedFen: 2500 });
    const page = await request(svc.url).get(`/charities/${charity.id}`).expect(200);
    expect(page.text).toContain('机构已确认 acknowledged');
    expect(page.text).toContain('data-layer="acknowledgedFen">¥25.00');
    // the receipt of a covered order says remitted → acknowledged; an uncovered one stops at confirmed
    const receipt = (orderId: string) => waitFor(async () => { const r = await request(svc.url).get(`/api/v1/public/receipts/${orderId}`); return r.status === 200 && r.body; }, 'the receipt');
    expect(await receipt(orders[0].orderId)).toMatchObject({ stage: 'acknowledged', amountFen: 1000 });
    expect(await receipt(orders[4].orderId)).toMatchObject({ stage: 'confirmed', amountFen: 500 });
  });

  it('when a dispute has a reason, then it is recorded with it; a bad reason is 422 and changes nothing', async () => {
    const r = await remit(good(500)).expect(201);
    await request(svc.url).post(`/api/v1/remittances/${r.body.id}/dispute`).set(bearer(charity.token)).send({ reason: '' }).expect(422);
    await request(svc.url).post(`/api/v1/remittances/${r.body.id}/dispute`).set(bearer(charity.token)).send({ reason: 'a\u0000b' }).expect(422);
    await request(svc.url).post(`/api/v1/remittances/${r.body.id}/dispute`).set(bearer(charity.token)).send({ reason: '金额不符 amount differs' }).expect(200);
    await waitFor(async () => (await svc.deps.db.collection<{ _id: string; status: string; reason?: string }>('remittances').findOne({ _id: r.body.id }))?.status === 'disputed', 'the dispute to reach the ledger');
    const l = await layers();
    expect([l.remittedFen, l.acknowledgedFen]).toEqual([3000, 2500]);
  });

  it('when a statement covers the period, then it lists the remittances and answers (JSON and PDF) and its figures leave them out', async () => {
    const q = `from=${encodeURIComponent(new Date(Date.now() - 30 * DAY).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + DAY).toISOString())}`;
    const json = (await request(svc.url).get(`/api/v1/charities/${charity.id}/statements?${q}&format=json`).set(bearer(charity.token)).expect(200)).body;
    expect(json.allocatedFen).toBe(4500);
    const rems = json.remittances as Array<{ kind: string; remittanceId: string; amountFen: number; outcome?: string; reason?: string }>;
    expect(rems.map((r) => [r.kind, r.amountFen, r.outcome ?? null])).toEqual([['remittance', 2500, null], ['acknowledgement', 2500, 'acknowledged'], ['remittance', 500, null], ['acknowledgement', 500, 'disputed']]);
    const pdf = await request(svc.url).get(`/api/v1/charities/${charity.id}/statements?${q}&format=pdf`).set(bearer(charity.token)).buffer(true)
      .parse((res, cb) => { const parts: Buffer[] = []; res.on('data', (c: Buffer) => parts.push(c)); res.on('end', () => cb(null, Buffer.concat(parts))); }).expect(200);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lg-remit-'));
    writeFileSync(path.join(dir, 's.pdf'), pdf.body as Buffer);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', path.join(dir, 's.pdf'), '-'], { encoding: 'utf8' });
    expect(text).toContain(rems[0].remittanceId);
    expect(text).toContain('Remittances and acknowledgements');
  });

  it('when time passes the due date, then overdue shows (oldest first), and a remittance clears it', async () => {
    // confirmation = paid + refund window; due = confirmation + remitWithinDays (3)
    const dueOf = (i: number) => paidAt.getTime() + i * 1000 + windowMs + 3 * DAY;
    const l0 = await layers(ag._id, dueOf(0) - 1);
    expect(l0.overdueFen).toBe(0);
    // by the fourth order's due date, 4,000 fen were due and 3,000 remitted
    expect((await layers(ag._id, dueOf(3))).overdueFen).toBe(1000);
    expect((await layers(ag._id, dueOf(4))).overdueFen).toBe(1500);
    await remit(good(1500)).expect(201);
    await waitFor(async () => (await layers(ag._id, dueOf(4))).overdueFen === 0, 'overdue to clear');
    expect((await layers()).remittedFen).toBe(4500);
    // everything confirmed is remitted: the agreement's coverage sets are empty again (they hold only what is unremitted)
    expect(await Promise.all(['zc', 'zt'].map((z) => svc.deps.redis.zcard(totKey(svc.deps, charity.id, `tot:a:${ag._id}:${z}`))))).toEqual([0, 0]);
    expect((await remit(good(1)).expect(422)).body.error.details).toEqual({ availableFen: 0 });
  });

  it('when a remittance entry is tampered with, then verify names it; the untouched chain verifies', async () => {
    const repo = new StatementsRepository(svc.deps);
    expect((await checkChain(charity.id, repo.entriesAfter(charity.id, 0))).problems).toEqual([]);
    const coll = svc.deps.db.collection<{ _id: string; kind: string; seq: number; remit: { remittanceId: string; amountFen: number } }>('ledger');
    const target = (await coll.find({ charityId: charity.id, kind: 'remittance' } as never).toArray())[0];
    await coll.updateOne({ _id: target._id }, { $set: { 'remit.amountFen': target.remit.amountFen * 10 } });
    try {
      const problems = (await checkChain(charity.id, repo.entriesAfter(charity.id, 0))).problems;
      expect(problems).toEqual([expect.stringContaining(`remittance entry #${target.seq} (remittance ${target.remit.remittanceId})`)]);
    } finally {
      await coll.updateOne({ _id: target._id }, { $set: { 'remit.amountFen': target.remit.amountFen } });
    }
  });

  it('when an API process died after reserving a remittance, then the sweeper publishes it again (once in the chain) or releases a reservation with no document', async () => {
    const at = Date.now();
    // what a process that died after storing the document (but before publishing) leaves, and one that died before storing it
    expect(await reserveRemittance(svc.deps, ag3._id, 'rm_halfdone', 300, at)).toMatchObject({ ok: true });
    await new RemittancesRepository(svc.deps).insert({ _id: 'rm_halfdone', agreementId: ag3._id, charityId: other.id, hostId: host.id, amountFen: 300, paidAt: new Date(at), reference: 'BANK-9', coversFrom: 0, coversTo: 0, status: 'sent', createdAt: new Date(at) });
    expect(await reserveRemittance(svc.deps, ag3._id, 'rm_nodoc', 200, at)).toMatchObject({ ok: true });
    expect((await remit({ ...good(501), agreementId: ag3._id }).expect(422)).body.error.details).toEqual({ availableFen: 500 });
    expect(await sweepRemittances(svc.deps, at + PENDING_GRACE_MS - 1)).toEqual({ republished: 0, released: 0 });
    expect(await sweepRemittances(svc.deps, at + PENDING_GRACE_MS)).toEqual({ republished: 1, released: 1 });
    await waitFor(async () => (await layers(ag3._id)).remittedFen === 300, 'the republished remittance');
    // published twice (a sweep racing the allocator): still one entry
    await sweepRemittances(svc.deps, at + PENDING_GRACE_MS);
    await publishRemitEvent(svc.deps, sentEventOf((await new RemittancesRepository(svc.deps).byId('rm_halfdone'))!));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await svc.deps.db.collection('ledger').countDocuments({ charityId: other.id, kind: 'remittance' })).toBe(1);
    expect([(await layers(ag3._id)).remittedFen, await svc.deps.redis.hgetall(totKey(svc.deps, other.id, `tot:a:${ag3._id}:res`))]).toEqual([300, {}]);
    expect((await remit({ ...good(700), agreementId: ag3._id }).expect(201)).body.amountFen).toBe(700);
  });

  it('when an answer arrives again with another time (Redis lost its guard), then the chain keeps one entry and the allocator goes on', async () => {
    const [rm] = await svc.deps.db.collection<RemittanceDoc>('remittances').find({ agreementId: ag._id, status: 'acknowledged' } as never).toArray();
    const again = { ...sentEventOf(rm), eventId: `rm:${rm._id}:acknowledged`, type: 'remittance.acknowledged' as const, occurredAt: new Date().toISOString() };
    // the allocator's memory of allocated event ids went with it
    for (const day of await svc.deps.redis.keys(`${totKey(svc.deps, again.charityId, 'alloc', 'evd')}:*`)) await svc.deps.redis.hdel(day, again.eventId);
    await publishRemitEvent(svc.deps, again);
    // under the charity's own agreement: an agreement's layers live with its charity's totals
    const before = (await layers(ag2._id)).pledgedFen;
    await writer.send([{ ...orderEvent('order.paid', { orderId: newOrderId(), charityId: charity.id, streamId: 's_r1', hostId: host2.id, quantity: 1, pledgePerUnitFen: 70 }), agreementId: ag2._id }]);
    await waitFor(async () => (await layers(ag2._id)).pledgedFen === before + 70, 'the order after the repeated answer');
    expect(await svc.deps.db.collection('ledger').countDocuments({ charityId: charity.id, kind: 'acknowledgement', orderId: rm._id })).toBe(1);
    // no clash, so no gap: the order's entry follows the chain (an entry key clashing inside an unordered insert left one)
    const repo = new StatementsRepository(svc.deps);
    expect((await checkChain(charity.id, repo.entriesAfter(charity.id, 0))).problems).toEqual([]);
    expect((await layers()).acknowledgedFen).toBe(2500);
  });

  it('when the totals are rebuilt from the ledger, then every layer comes back the same', async () => {
    const before = await layers(ag._id, Date.now() + 30 * DAY);
    const beforeStream = await streamTotalsHash(svc.deps, 's_r2');
    // a remittance reserved and not yet in the ledger: the ledger cannot give it back, so a rebuild keeps it
    const ag4 = await insertAgreement(svc.deps, { hostId: host.id, charityId: other.id });
    await writer.send([{ ...orderEvent('order.paid', { orderId: newOrderId(), charityId: other.id, streamId: 's_r1', hostId: host.id, quantity: 1, pledgePerUnitFen: 800 }, paidAt), agreementId: ag4._id }]);
    await waitFor(async () => (await layers(ag4._id)).pledgedFen === 800, 'the order under the fourth agreement');
    await confirmDue(svc.deps);
    await waitFor(async () => (await layers(ag4._id)).confirmedFen === 800, 'its confirmation');
    expect(await reserveRemittance(svc.deps, ag4._id, 'rm_inflight', 600)).toMatchObject({ ok: true, byStream: { s_r1: 600 } });
    await svc.deps.redis.del(totKey(svc.deps, charity.id, 'tot:built'), totKey(svc.deps, other.id, 'tot:built'));
    const { rebuildTotals } = await import('../../src/allocator/rebuild-totals');
    await rebuildTotals(svc.deps);
    expect(await layers(ag._id, Date.now() + 30 * DAY)).toEqual(before);
    expect(await streamTotalsHash(svc.deps, 's_r2')).toMatchObject({ remittedFen: beforeStream.remittedFen, acknowledgedFen: beforeStream.acknowledgedFen });
    expect(await reserveRemittance(svc.deps, ag4._id, 'rm_toomuch', 201)).toEqual({ ok: false, reason: 'exceeds', availableFen: 200 });
  });
});
