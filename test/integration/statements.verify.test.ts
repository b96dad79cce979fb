import request from 'supertest';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Collection } from 'mongodb';
import { startService, TestService, bearer } from '../helpers/app';
import { seedWorld, World } from '../helpers/fixtures';
import { chainEntries } from '../../src/allocator/chain';
import { GENESIS, LedgerEntry } from '../../src/allocator/ledger.types';
import { runVerify, VerifyOptions } from '../../src/statements/run-verify';
import { appendEntries } from '../../src/allocator';
import { ledgerDoc } from '../../src/allocator/ledger.repository';

type Doc = Omit<LedgerEntry, 'key' | 'at'> & { _id: string; at: Date };
const root = path.resolve(__dirname, '../..');

/** Runs the real command line, as a charity would (async: the service answers from this same process). */
function cli(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, [path.join(root, 'bin/livegive.js'), 'verify', ...args], { env: { ...process.env, LIVEGIVE_FROM_SOURCE: '1' } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

async function verify(opts: Omit<VerifyOptions, 'charity'>, charity: string) {
  const lines: string[] = [];
  const code = await runVerify({ charity, ...opts }, { log: (l) => lines.push(l) });
  return { code, out: lines.join('\n') };
}

describe('livegive verify', () => {
  let svc: TestService;
  let w: World;
  let ledger: Collection<Doc>;
  let chain: LedgerEntry[];
  let api: Omit<VerifyOptions, 'charity'>;
  const from = '2026-11-01T00:00:00.000Z';
  const to = '2026-11-02T00:00:00.000Z';
  const docOf = (e: LedgerEntry): Doc => ledgerDoc(e);

  beforeAll(async () => {
    svc = await startService('api');
    w = await seedWorld(svc.url);
    api = { url: svc.url, token: w.charity.token };
    chain = chainEntries(GENESIS, Array.from({ length: 40 }, (_, i) => ({
      key: `ev${i}:${i % 9 === 8 ? 'reversal' : 'allocation'}`, charityId: w.charity.id, kind: i % 9 === 8 ? 'reversal' as const : 'allocation' as const,
      amountFen: i % 9 === 8 ? -200 : 200 + i, salesFen: 4990, quantity: i % 9 === 8 ? -1 : 1, orderId: `o${i}`, streamId: w.stream.id, productId: w.product.id,
      hostId: w.host.id, eventId: `ev${i}`, matchId: null, at: new Date(Date.parse('2026-10-31T23:00:00.000Z') + i * 1_800_000).toISOString(),
    })));
    ledger = svc.deps.db.collection<Doc>('ledger');
    await appendEntries(svc.deps, chain);
  });
  afterAll(async () => { await svc?.stop(); });

  it('when nothing was altered, then the command exits 0 and says everything matches, with and without a period', async () => {
    const whole = await cli(['--charity', w.charity.id, '--url', svc.url, '--token', w.charity.token]);
    expect(whole.out).toContain('verify: everything matches');
    expect(whole.code).toBe(0);
    const period = await cli(['--charity', w.charity.id, '--url', svc.url, '--token', w.charity.token, '--from', from, '--to', to]);
    expect(period.out).toContain('compared with the statement');
    expect(period.code).toBe(0);
  });

  it('when the arguments are bad, then it exits 2 with a clear message and reads nothing', async () => {
    const r = await cli(['--charity', w.charity.id, '--url', svc.url, '--token', w.charity.token, '--from', to, '--to', from]);
    expect(r.code).toBe(2);
    expect(r.out).toContain('--from must not be after to');
    expect((await cli(['--url', svc.url])).code).toBe(2);
  });

  it('when one entry\'s amount is changed in MongoDB, then verify exits 1 naming that entry (through the API and directly)', async () => {
    await ledger.updateOne({ _id: chain[6].key }, { $set: { amountFen: 99_999 } });
    try {
      const r = await verify(api, w.charity.id);
      expect(r.code).toBe(1);
      expect(r.out).toContain('MISMATCH entry #7 does not hash to its stored hash');
      const direct = await verify({ mongoUrl: svc.deps.config.mongo.url }, w.charity.id);
      expect(direct.code).toBe(1);
      expect(direct.out).toContain('entry #7 does not hash');
      expect((await cli(['--charity', w.charity.id, '--url', svc.url, '--token', w.charity.token])).code).toBe(1);
    } finally {
      await ledger.updateOne({ _id: chain[6].key }, { $set: { amountFen: chain[6].amountFen } });
    }
    expect((await verify(api, w.charity.id)).code).toBe(0);
  });

  it('when an entry is deleted, then verify names the missing entry', async () => {
    await ledger.deleteOne({ _id: chain[11].key });
    try {
      const r = await verify(api, w.charity.id);
      expect(r.code).toBe(1);
      expect(r.out).toContain('MISMATCH entry #12 is missing');
    } finally {
      await ledger.insertOne(docOf(chain[11]));
    }
  });

  it('when two entries swap places, then verify names both', async () => {
    const [a, b] = [chain[19], chain[20]];
    await ledger.updateOne({ _id: a.key }, { $set: { seq: -1 } });
    await ledger.updateOne({ _id: b.key }, { $set: { seq: 20 } });
    await ledger.updateOne({ _id: a.key }, { $set: { seq: 21 } });
    try {
      const r = await verify(api, w.charity.id);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/entry #20 (does not link|does not hash)/);
      expect(r.out).toMatch(/entry #21 (does not link|does not hash)/);
    } finally {
      await ledger.updateOne({ _id: a.key }, { $set: { seq: -1 } });
      await ledger.updateOne({ _id: b.key }, { $set: { seq: 21 } });
      await ledger.updateOne({ _id: a.key }, { $set: { seq: 20 } });
    }
  });

  it('when a saved statement is checked, then a true copy passes and an edited figure is named', async () => {
    const saved = (await request(svc.url).get(`/api/v1/charities/${w.charity.id}/statements?from=${from}&to=${to}`).set(bearer(w.charity.token)).expect(200)).body;
    const dir = mkdtempSync(path.join(tmpdir(), 'verify-'));
    const file = path.join(dir, 'statement.json');
    writeFileSync(file, JSON.stringify(saved));
    expect((await verify({ ...api, file }, w.charity.id)).code).toBe(0);
    writeFileSync(file, JSON.stringify({ ...saved, closingFen: saved.closingFen + 1, byStream: [{ ...saved.byStream[0], netFen: 1 }] }));
    const r = await verify({ ...api, file }, w.charity.id);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`closingFen: statement says ${saved.closingFen + 1}, the ledger gives ${saved.closingFen}`);
    expect(r.out).toContain(`byStream[${w.stream.id}].netFen: statement says 1`);
    expect(r.out).toContain('digest does not match');
  });
});
