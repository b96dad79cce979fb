import request from 'supertest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startService, TestService, admin, bearer } from '../helpers/app';
import { seedWorld, newViewer, World } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { chainEntries } from '../../src/allocator/chain';
import { ChainHead, GENESIS, LedgerEntry, UnchainedEntry } from '../../src/allocator/ledger.types';
import { verifyReceipt, Receipt, PublicHead } from '../../src/statements';
import { formatYuan } from '../../src/money';
import { appendEntries } from '../../src/allocator';

/** Appends chained entries straight into the ledger, as the allocator would (tests only). */
async function append(svc: TestService, charityId: string, raw: Array<Partial<UnchainedEntry> & { at: string; amountFen: number }>, heads: Map<string, ChainHead>): Promise<LedgerEntry[]> {
  const head = heads.get(charityId) ?? GENESIS;
  const chained = chainEntries(head, raw.map((r, i) => ({
    key: `ev${head.seq + i + 1}-${charityId}:${r.kind ?? 'allocation'}`, charityId, kind: 'allocation', salesFen: r.amountFen * 10, quantity: 1,
    orderId: `o${head.seq + i + 1}`, streamId: 's_a', productId: 'p_a', hostId: 'h_a', eventId: `ev${head.seq + i + 1}-${charityId}`, matchId: null, ...r,
  })));
  await appendEntries(svc.deps, chained);
  heads.set(charityId, { seq: chained[chained.length - 1].seq, hash: chained[chained.length - 1].hash });
  return chained;
}

const stmt = (svc: TestService, id: string, token: string, q: string) => request(svc.url).get(`/api/v1/charities/${id}/statements?${q}`).set(bearer(token));

describe('charity statements, receipts and the public page', () => {
  let svc: TestService;
  let w: World;
  let other: World;
  const heads = new Map<string, ChainHead>();
  const from = '2026-11-01T00:00:00.000Z';
  const to = '2026-11-08T00:00:00.000Z';
  let entries: LedgerEntry[];

  beforeAll(async () => {
    svc = await startService('api');
    w = await seedWorld(svc.url);
    other = await seedWorld(svc.url);
    entries = await append(svc, w.charity.id, [
      { at: '2026-10-31T23:59:59.999Z', amountFen: 10_000 },
      { at: from, amountFen: 200, streamId: w.stream.id, productId: w.product.id, hostId: w.host.id },
      { at: '2026-11-02T10:00:00.000Z', amountFen: 123_456, streamId: w.stream.id, productId: w.product.id, hostId: w.host.id, quantity: 3 },
      { at: '2026-11-03T10:00:00.000Z', kind: 'match', amountFen: 5_000, quantity: 0 },
      { at: '2026-11-04T10:00:00.000Z', kind: 'reversal', amountFen: -200, orderId: 'o2', streamId: w.stream.id, productId: w.product.id, hostId: w.host.id, quantity: -1 },
      { at: '2026-11-05T10:00:00.000Z', kind: 'match_reversal', amountFen: -1_000, quantity: 0 },
      { at: to, amountFen: 999 },
    ], heads);
  });
  afterAll(async () => { await svc?.stop(); });

  it('when a charity asks for a period, then the entry at from is in, the one at to is out, and closing = opening + period', async () => {
    const r = await stmt(svc, w.charity.id, w.charity.token, `from=${from}&to=${to}`).expect(200);
    expect(r.body).toMatchObject({
      charityId: w.charity.id, charityName: w.charity.name, openingFen: 10_000, allocatedFen: 123_656, reversedFen: -200, matchedFen: 5_000,
      matchReversedFen: -1_000, closingFen: 10_000 + 123_656 - 200 + 5_000 - 1_000, entries: 5, firstSeq: 2, lastSeq: 6, headSeq: 6, headHash: entries[5].hash,
    });
    const byStream = r.body.byStream.find((s: { streamId: string }) => s.streamId === w.stream.id);
    expect(byStream).toMatchObject({ title: '助农直播', entries: 3, units: 3, allocatedFen: 123_656, reversedFen: -200, netFen: 123_456 });
    expect(r.body.byProduct.find((p: { productId: string }) => p.productId === w.product.id).name).toBe('赣南脐橙 5 kg');
  });

  it('when the period holds no entries, then its figures are zero and the opening balance is carried', async () => {
    const r = await stmt(svc, w.charity.id, admin.Authorization.slice(7), 'from=2026-11-06T00:00:00Z&to=2026-11-07T00:00:00Z').expect(200);
    expect(r.body).toMatchObject({ openingFen: 137_456, allocatedFen: 0, closingFen: 137_456, entries: 0, firstSeq: null, lastSeq: null, byStream: [] });
  });

  it('when the period is reversed, malformed or over three years, then 422 VALIDATION_FAILED names the field', async () => {
    const bad = await stmt(svc, w.charity.id, w.charity.token, `from=${to}&to=${from}`).expect(422);
    expect(bad.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'query.from' }] });
    expect((await stmt(svc, w.charity.id, w.charity.token, `from=yesterday&to=${to}`).expect(422)).body.error.details[0].field).toBe('query.from');
    expect((await stmt(svc, w.charity.id, w.charity.token, 'from=2020-01-01T00:00:00Z&to=2023-01-02T00:00:00Z').expect(422)).body.error.details[0].field).toBe('query.to');
    await stmt(svc, w.charity.id, w.charity.token, `from=${from}&to=${to}&format=xls`).expect(422);
  });

  it('when no token, another charity\'s, a viewer\'s, or an unknown charity is used, then 401, 403, 403 and 404', async () => {
    await request(svc.url).get(`/api/v1/charities/${w.charity.id}/statements?from=${from}&to=${to}`).expect(401);
    expect((await stmt(svc, w.charity.id, other.charity.token, `from=${from}&to=${to}`).expect(403)).body.error.code).toBe('FORBIDDEN');
    await request(svc.url).get(`/api/v1/charities/${w.charity.id}/chain`).set(bearer(other.charity.token)).expect(403);
    const viewer = await newViewer(svc.url);
    await stmt(svc, w.charity.id, viewer.token, `from=${from}&to=${to}`).expect(403);
    await stmt(svc, 'c_nobody', admin.Authorization.slice(7), `from=${from}&to=${to}`).expect(404);
  });

  it('when the same statement is asked twice in each format, then the bytes are identical, and the CSV sums to the JSON', async () => {
    const q = `from=${from}&to=${to}`;
    const json = await stmt(svc, w.charity.id, w.charity.token, q).expect(200);
    expect((await stmt(svc, w.charity.id, w.charity.token, q)).text).toBe(json.text);
    const csv = await stmt(svc, w.charity.id, w.charity.token, `${q}&format=csv`).expect(200).expect('Content-Type', /text\/csv/);
    expect((await stmt(svc, w.charity.id, w.charity.token, `${q}&format=csv`)).text).toBe(csv.text);
    const [header, ...rows] = csv.text.replace(/^\uFEFF/, '').trim().split('\r\n').map((l) => l.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '')));
    const col = (name: string) => header.indexOf(name);
    expect(rows).toHaveLength(json.body.entries);
    const sum = (kind?: string) => rows.filter((r) => !kind || r[col('kind')] === kind).reduce((s, r) => s + Number(r[col('amount_fen')]), 0);
    expect(sum('allocation')).toBe(json.body.allocatedFen);
    expect(sum('reversal')).toBe(json.body.reversedFen);
    expect(sum('match')).toBe(json.body.matchedFen);
    expect(json.body.openingFen + sum()).toBe(json.body.closingFen);
    expect(rows.map((r) => r[col('amount_yuan')])).toContain('¥1,234.56');
    expect(rows.map((r) => Number(r[col('seq')]))).toEqual([2, 3, 4, 5, 6]);
  });

  it('when the PDF is asked for, then it opens, repeats byte for byte, and pdftotext finds the name, closing total and head hash', async () => {
    const get = () => stmt(svc, w.charity.id, w.charity.token, `from=${from}&to=${to}&format=pdf`).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    }).expect(200).expect('Content-Type', 'application/pdf');
    const a = (await get()).body as Buffer;
    expect(((await get()).body as Buffer).equals(a)).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), 'stmt-'));
    writeFileSync(path.join(dir, 's.pdf'), a);
    const text = execFileSync('pdftotext', ['-enc', 'UTF-8', path.join(dir, 's.pdf'), '-'], { encoding: 'utf8' });
    expect(text).toContain(w.charity.name);
    expect(text).toContain(formatYuan(10_000 + 123_656 - 200 + 5_000 - 1_000));
    expect(text.replace(/\s/g, '')).toContain(entries[5].hash);
  });

  it('when a buyer fetches a receipt, then its proof checks against the public head alone, and fails once the entry is altered', async () => {
    const viewer = await newViewer(svc.url, '王小明');
    const o = (await order(svc.url, viewer.token, { streamId: w.stream.id, productId: w.product.id, quantity: 2 }).expect(201)).body;
    const pending = (await request(svc.url).get(`/api/v1/public/receipts/${o.id}`).expect(200)).body as Receipt;
    expect(pending).toMatchObject({ status: 'pending', amountFen: 400, entries: [], entrySeq: null });
    await pay(svc.url, { orderId: o.id, paymentId: `pay_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }).expect(200);
    // enough entries around the order's to complete (and cache) a 1,024-entry block
    await append(svc, w.charity.id, Array.from({ length: 1100 }, (_, i) => ({ at: '2026-11-20T00:00:00.000Z', amountFen: i + 1 })), heads);
    const [alloc] = await append(svc, w.charity.id, [{ at: '2026-11-21T00:00:00.000Z', amountFen: 400, quantity: 2, orderId: o.id, streamId: w.stream.id, productId: w.product.id, hostId: w.host.id }], heads);
    await append(svc, w.charity.id, Array.from({ length: 30 }, (_, i) => ({ at: '2026-11-22T00:00:00.000Z', amountFen: i + 1 })), heads);

    const receipt = (await request(svc.url).get(`/api/v1/public/receipts/${o.id}`).expect(200)).body as Receipt;
    const head = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}`).expect(200)).body as PublicHead & { totalFen: number; latest: unknown[] };
    expect(receipt).toMatchObject({ status: 'allocated', amountFen: 400, entrySeq: alloc.seq, entryHash: alloc.hash });
    expect(receipt.proof!.path.length).toBeLessThanOrEqual(11);
    expect(verifyReceipt(receipt, head)).toEqual({ ok: true, problems: [] });
    expect(head).toMatchObject({ headSeq: heads.get(w.charity.id)!.seq, headHash: heads.get(w.charity.id)!.hash, totalFen: 137_456 + 999 + 1100 * 1101 / 2 + 400 + 465 });

    // a refund shows as its own entry, proven the same way
    await append(svc, w.charity.id, [{ at: '2026-11-23T00:00:00.000Z', kind: 'reversal', amountFen: -400, quantity: -2, orderId: o.id, streamId: w.stream.id, productId: w.product.id, hostId: w.host.id }], heads);
    const reversed = (await request(svc.url).get(`/api/v1/public/receipts/${o.id}`).expect(200)).body as Receipt;
    const head2 = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}`).expect(200)).body as PublicHead;
    expect(reversed.status).toBe('reversed');
    expect(reversed.entries.map((e) => e.entry.kind)).toEqual(['allocation', 'reversal']);
    expect(verifyReceipt(reversed, head2).ok).toBe(true);
    // the earlier receipt still checks against the head as it was when it was issued
    const old = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}?seq=${receipt.head.seq}`).expect(200)).body as PublicHead;
    expect(verifyReceipt(receipt, old).ok).toBe(true);

    const edited = JSON.parse(JSON.stringify(receipt)) as Receipt;
    edited.entries[0].entry.amountFen = 4_000;
    expect(verifyReceipt(edited, head).problems).toContainEqual(expect.stringContaining(`entry ${alloc.seq}: its fields do not hash`));
    await svc.deps.db.collection('ledger').updateOne({ _id: alloc.key as never }, { $set: { amountFen: 4_000 } });
    const altered = (await request(svc.url).get(`/api/v1/public/receipts/${o.id}`).expect(200)).body as Receipt;
    expect(verifyReceipt(altered, head2).ok).toBe(false);
    await svc.deps.db.collection('ledger').updateOne({ _id: alloc.key as never }, { $set: { amountFen: 400 } });
  }, 150_000); // a dozen scans of a 1,100-entry ledger: slow on the shared MongoDB-wire test server under load

  it('when anyone opens /charities/:id, then the page shows the name, total and head hash and no buyer name', async () => {
    const head = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}`).expect(200)).body;
    const page = await request(svc.url).get(`/charities/${w.charity.id}`).expect(200).expect('Content-Type', /html/);
    expect(page.text).toContain(w.charity.name);
    expect(page.text).toContain(formatYuan(head.totalFen));
    expect(page.text).toContain(head.headHash);
    expect(page.text).not.toContain('王小明');
    expect(head.latest).toHaveLength(20);
    // an earlier head inside an already cached block: its hash and total as they were then
    const at7 = (await request(svc.url).get(`/api/v1/public/charities/${w.charity.id}?seq=7`).expect(200)).body;
    expect(at7).toMatchObject({ headSeq: 7, headHash: entries[6].hash, totalFen: entries.reduce((t, e) => t + e.amountFen, 0) });
    await request(svc.url).get('/charities/c_nobody').expect(404);
    await request(svc.url).get(`/api/v1/public/receipts/o_nobody`).expect(404);
  }, 90_000);
});
