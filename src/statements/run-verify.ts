import { readFile } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import type { LedgerEntry } from '../allocator/ledger.types';
import { formatYuan } from '../money';
import { periodProblem, type Statement } from './statement.math';
import { StatementsRepository } from './statements.repository';
import { checkChain, compareStatement } from './verify-ledger';

export interface VerifyOptions { charity: string; from?: string; to?: string; file?: string; url?: string; token?: string; mongoUrl?: string }
export interface VerifyIo { log(line: string): void; progress?: { start(total: number): void; tick(): void; stop(): void } }

/** Bad arguments: the CLI answers exit code 2 with this message. */
export class UsageError extends Error {}

interface Plan { opts: VerifyOptions; period?: { from: Date; to: Date }; claimed?: Statement }

async function plan(opts: VerifyOptions): Promise<Plan> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(opts.charity ?? '')) throw new UsageError('--charity must be a charity id (letters, digits, _ or -)');
  if (!opts.mongoUrl && !opts.token) throw new UsageError('--token (or LIVEGIVE_TOKEN) is required to read the ledger through the API; or give --mongo-url');
  if (opts.url && !/^https?:\/\/[^\s/]+/.test(opts.url)) throw new UsageError('--url must be an http(s) URL');
  if (opts.mongoUrl && !/^mongodb(\+srv)?:\/\//.test(opts.mongoUrl)) throw new UsageError('--mongo-url must be a mongodb:// URL');
  let claimed: Statement | undefined;
  if (opts.file) {
    const text = await readFile(opts.file, 'utf8').catch((e: Error) => { throw new UsageError(`cannot read --file ${opts.file}: ${e.message}`); });
    try { claimed = JSON.parse(text) as Statement; } catch { throw new UsageError(`--file ${opts.file} is not JSON`); }
    if (typeof claimed?.from !== 'string' || typeof claimed?.to !== 'string') throw new UsageError(`--file ${opts.file} is not a livegive statement (no from/to)`);
    if ((opts.from && opts.from !== claimed.from) || (opts.to && opts.to !== claimed.to)) throw new UsageError('--from/--to differ from the period of the statement in --file');
  }
  const from = opts.from ?? claimed?.from;
  const to = opts.to ?? claimed?.to;
  if ((from === undefined) !== (to === undefined)) throw new UsageError('give both --from and --to, or neither');
  if (from === undefined || to === undefined) return { opts };
  if (!/^\d{4}-\d\d-\d\dT/.test(from) || !/^\d{4}-\d\d-\d\dT/.test(to)) throw new UsageError('--from and --to must be ISO 8601 times, e.g. 2026-11-01T00:00:00Z');
  const period = { from: new Date(from), to: new Date(to) };
  const problem = periodProblem(period.from, period.to);
  if (problem) throw new UsageError(`${problem.field.replace('query.', '--')} ${problem.message}`);
  return { opts, period, claimed };
}

async function api<T>(o: VerifyOptions, path: string): Promise<T> {
  const r = await fetch(new URL(path, o.url), { headers: { Authorization: `Bearer ${o.token}` } });
  if (!r.ok) throw new Error(`GET ${path} answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
  return (await r.json()) as T;
}

async function* httpChain(o: VerifyOptions): AsyncIterable<LedgerEntry> {
  const r = await fetch(new URL(`/api/v1/charities/${o.charity}/chain`, o.url), { headers: { Authorization: `Bearer ${o.token}` } });
  if (!r.ok || !r.body) throw new Error(`GET the chain answered ${r.status}: ${(await r.text()).slice(0, 300)}`);
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
    rest += decoder.decode(chunk, { stream: true });
    const lines = rest.split('\n');
    rest = lines.pop()!;
    for (const l of lines) if (l) yield JSON.parse(l) as LedgerEntry;
  }
  if (rest.trim()) yield JSON.parse(rest) as LedgerEntry;
}

/**
 * `livegive verify`: recomputes a charity's chain, Merkle root and totals from its entries and compares
 * them with the published head and with a statement (saved in --file, or served for --from/--to).
 * Answers the exit code: 0 when everything matches, 1 when something does not.
 */
export async function runVerify(opts: VerifyOptions, io: VerifyIo): Promise<number> {
  const p = await plan(opts);
  const o = { ...opts, url: opts.url ?? 'http://127.0.0.1:8080' };
  const useApi = !opts.mongoUrl;
  const published = useApi ? await api<{ headSeq: number }>(o, `/api/v1/public/charities/${o.charity}`) : undefined;
  const mongo = opts.mongoUrl ? await MongoClient.connect(opts.mongoUrl, { directConnection: true }) : undefined;
  let check;
  try {
    const entries = mongo ? new StatementsRepository({ db: mongo.db() }).entriesAfter(o.charity, 0) : httpChain(o);
    io.progress?.start(published?.headSeq ?? 0);
    check = await checkChain(o.charity, entries, p.period, () => io.progress?.tick());
  } finally {
    io.progress?.stop();
    await mongo?.close();
  }
  const problems = [...check.problems];
  if (useApi) {
    const head = await api<{ totalFen: number; entries: number; headSeq: number; headHash: string; merkleRoot: string }>(o, `/api/v1/public/charities/${o.charity}?seq=${check.head.seq}`);
    if (head.headSeq !== check.head.seq) problems.push(`published head: entry count is ${head.headSeq}, the chain has ${check.head.seq}`);
    if (head.headHash !== check.head.hash) problems.push(`published head: head hash ${head.headHash} differs from the chain's ${check.head.hash}`);
    if (head.totalFen !== check.totalFen) problems.push(`published total: ${head.totalFen} fen, the entries sum to ${check.totalFen} fen`);
    if (head.merkleRoot !== check.merkleRoot) problems.push(`published Merkle root ${head.merkleRoot} differs from the one rebuilt from the entries (${check.merkleRoot})`);
  }
  let claimed = p.claimed;
  if (!claimed && p.period && useApi) claimed = await api<Statement>(o, `/api/v1/charities/${o.charity}/statements?from=${encodeURIComponent(p.period.from.toISOString())}&to=${encodeURIComponent(p.period.to.toISOString())}&format=json`);
  if (claimed && check.statement) problems.push(...compareStatement(claimed, check.statement));
  io.log(`chain of charity ${o.charity}: ${check.count} entries, head #${check.head.seq} ${check.head.hash}, total ${formatYuan(check.totalFen)}, Merkle root ${check.merkleRoot}`);
  if (check.statement) {
    const s = check.statement;
    io.log(`period [${s.from}, ${s.to}): opening ${formatYuan(s.openingFen)}, closing ${formatYuan(s.closingFen)}, ${s.entries} entries${claimed ? ', compared with the statement' : ''}`);
  }
  for (const line of problems) io.log(`MISMATCH ${line}`);
  io.log(problems.length ? `verify: ${problems.length} problem(s) found` : 'verify: everything matches');
  return problems.length ? 1 : 0;
}
