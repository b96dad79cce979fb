import request from 'supertest';
import { startService, admin, type TestService } from '../helpers/app';
import { chainEntries } from '../../src/allocator/chain';
import { GENESIS, type UnchainedEntry } from '../../src/allocator/ledger.types';
import { appendEntries } from '../../src/allocator/append-entries';
import { insertAgreement } from '../helpers/agreements';
import { produceScheduledStatements, quarterOf } from '../../src/statements/scheduled-statements';

const entry = (i: number, at: string, amountFen: number): UnchainedEntry => ({
  key: `sch${i}:allocation`, charityId: 'c_sched', kind: 'allocation', amountFen, salesFen: amountFen * 5, quantity: 1, orderId: `o_s${i}`, streamId: 's1',
  productId: 'p1', hostId: 'h1', eventId: `sch${i}`, matchId: null, at,
});

describe('statements produced on schedule, digests in the public head (issue 15)', () => {
  let svc: TestService;
  const now = Date.parse('2026-12-02T06:00:00Z');

  beforeAll(async () => {
    svc = await startService('api');
    await svc.deps.db.collection('charities').insertOne({ _id: 'c_sched' as never, name: '定期公示基金会', registrationNo: '53110000MJ0000001X', active: true, createdAt: new Date('2026-06-15T00:00:00Z') });
    await appendEntries(svc.deps, chainEntries(GENESIS, [
      entry(1, '2026-06-20T02:00:00.000Z', 1000), // Q2
      entry(2, '2026-08-10T02:00:00.000Z', 2000), // Q3
      entry(3, '2026-09-30T15:30:00.000Z', 300), // 23:30 on 30 September in Shanghai: Q3
      entry(4, '2026-09-30T16:30:00.000Z', 40), // 00:30 on 1 October in Shanghai: Q4
    ]));
    await insertAgreement(svc.deps, { _id: 'ag_sched_ended', hostId: 'h1', charityId: 'c_sched', validFrom: new Date('2026-08-01T00:00:00Z'), validTo: new Date('2026-11-01T00:00:00Z') });
    await insertAgreement(svc.deps, { _id: 'ag_sched_running', hostId: 'h1', charityId: 'c_sched', validFrom: new Date('2026-08-01T00:00:00Z'), validTo: new Date('2027-11-01T00:00:00Z') });
  }, 120_000);
  afterAll(async () => { await svc?.stop(); });

  it('quarters are Asia/Shanghai calendar quarters', () => {
    expect(quarterOf(Date.parse('2026-09-30T15:30:00Z'))).toEqual({ label: '2026Q3', from: new Date('2026-06-30T16:00:00Z'), to: new Date('2026-09-30T16:00:00Z') });
    expect(quarterOf(Date.parse('2026-09-30T16:30:00Z')).label).toBe('2026Q4');
  });

  it('when the schedule runs, then each completed quarter and each ended agreement gets one statement, its digest the one served for that period', async () => {
    expect(await produceScheduledStatements(svc.deps, now)).toBe(3);
    expect(await produceScheduledStatements(svc.deps, now)).toBe(0);
    const head = (await request(svc.url).get('/api/v1/public/charities/c_sched').expect(200)).body;
    const mine = head.statements as Array<{ kind: string; label: string; from: string; to: string; digest: string; closingFen: number }>;
    expect(mine.map((s) => [s.kind, s.label, s.closingFen])).toEqual([['quarter', '2026Q2', 1000], ['quarter', '2026Q3', 3300], ['agreement_end', 'ag_sched_ended', 3340]]);
    for (const s of mine) {
      const served = await request(svc.url).get(`/api/v1/charities/c_sched/statements?from=${encodeURIComponent(s.from)}&to=${encodeURIComponent(s.to)}`).set(admin).expect(200);
      expect(served.body.digest).toBe(s.digest);
    }
    const page = await request(svc.url).get('/charities/c_sched').expect(200);
    expect(page.text).toContain(mine[1].digest);
  });

  it('when a quarter has ended less than a day ago, then it is not produced yet', async () => {
    expect(await produceScheduledStatements(svc.deps, Date.parse('2027-01-01T12:00:00Z'))).toBe(0);
    expect(await produceScheduledStatements(svc.deps, Date.parse('2027-01-02T00:00:00Z'))).toBe(1);
  });
});
