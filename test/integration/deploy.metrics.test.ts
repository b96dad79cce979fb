import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { parse } from 'yaml';
import { startService, type TestService } from '../helpers/app';
import { testEnv, waitFor } from '../helpers/env';
import { seedWorld, newViewer } from '../helpers/fixtures';
import { order, pay } from '../helpers/orders';
import { rebuildTotals } from '../../src/allocator';
import { LEDGER_COLLECTION } from '../../src/allocator/ledger.repository';

const root = path.resolve(__dirname, '../..');

/** Every livegive_* name in the alert rules and the dashboard's queries. */
function referencedMetrics(): { alerts: Set<string>; dashboard: Set<string> } {
  const names = (exprs: string[]) => new Set(exprs.flatMap((e) => e.match(/\blivegive_[a-z0-9_]+/g) ?? []));
  const rules = parse(readFileSync(path.join(root, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { expr: string }[] }[] };
  const dash = JSON.parse(readFileSync(path.join(root, 'deploy/grafana/livegive.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
  return {
    alerts: names(rules.groups.flatMap((g) => g.rules.map((r) => r.expr))),
    dashboard: names(dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))),
  };
}

/** The series names a /metrics page exports: each `# TYPE` family, with a histogram's _bucket, _sum and _count. */
function exportedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    const [, name, type] = m;
    out.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) out.add(name + s);
  }
  return out;
}

/** The value of one sample line (name{labels} value), or undefined. */
function sample(text: string, series: RegExp): number | undefined {
  const line = text.split('\n').find((l) => series.test(l));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('the metrics the alerts and the dashboard use', () => {
  let api: TestService;
  let workers: TestService;
  let charityId: string;

  beforeAll(async () => {
    const env = testEnv();
    api = await startService('api', {}, env);
    // the workers role listens only for probes and scrapes, on its own port
    workers = await startService('workers', { LIVEGIVE_OPS_PORT: '0' }, env);
  });
  afterAll(async () => { await workers?.stop(); await api?.stop(); });

  it('when the workers run with LIVEGIVE_OPS_PORT, then they answer /healthz, /readyz and /metrics there and no API', async () => {
    await request(workers.url).get('/healthz').expect(200);
    const ready = await request(workers.url).get('/readyz').expect(200);
    expect(ready.body.checks).toEqual({ kafka: 'ok', mongo: 'ok', redis: 'ok' });
    const m = await request(workers.url).get('/metrics').expect(200);
    expect(sample(m.text, /^livegive_ready /)).toBe(1);
    expect(sample(m.text, /^livegive_store_reachable\{store="kafka"\} /)).toBe(1);
    expect(sample(m.text, /^livegive_redis_rebuilding /)).toBe(0);
    expect((await request(workers.url).get('/api/v1/streams/s_x/totals').expect(404)).body.error.code).toBe('NOT_FOUND');
  });

  it('when an order is placed and paid, then the script time, allocator batches and lag are recorded', async () => {
    const world = await seedWorld(api.url);
    charityId = world.charity.id;
    const viewer = await newViewer(api.url);
    const o = (await order(api.url, viewer.token, { streamId: world.stream.id, productId: world.product.id, quantity: 2 }).expect(201)).body;
    await pay(api.url, { orderId: o.id, paymentId: `p_${o.id}`, amountFen: o.totalFen, status: 'succeeded' }).expect(200);
    const a = (await request(api.url).get('/metrics').expect(200)).text;
    expect(sample(a, /^livegive_redis_script_seconds_count\{script="lgPlaceOrder"\} /)).toBe(1);
    expect(sample(a, /^livegive_redis_script_seconds_count\{script="lgPayOrder"\} /)).toBe(1);
    const w = await waitFor(async () => {
      const t = (await request(workers.url).get('/metrics')).text;
      // both groups: the projection waits longer for its batches than the allocator does
      const done = (sample(t, /^livegive_ledger_entries_total\{kind="allocation"\} /) ?? 0) >= 1 && (sample(t, /^livegive_events_consumed_total\{group="projection"\} /) ?? 0) >= 2;
      return done ? t : undefined;
    }, 'the allocator and the projection to consume the order\'s events', 30000, 250);
    expect(sample(w, /^livegive_allocator_batch_size_count /)).toBeGreaterThanOrEqual(1);
    expect(sample(w, /^livegive_allocator_batch_seconds_count /)).toBeGreaterThanOrEqual(1);
    expect(sample(w, /^livegive_consumer_lag\{group="allocator",partition="\d+"\} /)).toBeGreaterThanOrEqual(0);
    expect(sample(w, /^livegive_consumer_lag\{group="projection",partition="\d+"\} /)).toBeGreaterThanOrEqual(0);
    expect(sample(w, /^livegive_redis_script_seconds_count\{script="lgApplyPlans"\} /)).toBeGreaterThanOrEqual(1);
  });

  it('when a rebuild from the ledger finds an entry that does not hash to its stored hash, then the chain-break counter the alert reads goes up', async () => {
    const metric = async () => sample((await request(workers.url).get('/metrics')).text, /^livegive_chain_verify_failures_total /);
    expect(await metric()).toBe(0);
    // an entry altered outside the allocator (this test's own namespace): its stored hash no longer matches
    const ledger = workers.deps.db.collection<{ charityId: string; seq: number; amountFen: number }>(LEDGER_COLLECTION);
    expect((await ledger.updateOne({ charityId, seq: 1 }, { $inc: { amountFen: 1 } })).modifiedCount).toBe(1);
    const report = await rebuildTotals(workers.deps);
    expect(report.chainProblems).toBeGreaterThan(0);
    expect(await metric()).toBe(1);
  });

  it('when an alert or a panel names a metric, then a running api or workers instance exports it', async () => {
    await request(api.url).get('/readyz').expect(200);
    const text = [(await request(api.url).get('/metrics').expect(200)).text, (await request(workers.url).get('/metrics').expect(200)).text].join('\n');
    const exported = exportedNames(text);
    const { alerts, dashboard } = referencedMetrics();
    // what the issue asks the dashboard and the alerts to show
    for (const n of ['livegive_orders_placed_total', 'livegive_orders_refused_total', 'livegive_http_request_duration_seconds_bucket', 'livegive_consumer_lag',
      'livegive_allocator_batch_size_bucket', 'livegive_allocator_batch_seconds_bucket', 'livegive_ws_clients', 'livegive_ws_frames_sent_total',
      'livegive_redis_script_seconds_bucket']) expect(dashboard).toContain(n);
    for (const n of ['livegive_consumer_lag', 'livegive_http_requests_total', 'livegive_ready', 'livegive_redis_rebuilding', 'livegive_dead_letters_total',
      'livegive_chain_verify_failures_total', 'livegive_payment_anomalies_total']) expect(alerts).toContain(n);
    const missing = [...new Set([...alerts, ...dashboard])].filter((n) => !exported.has(n));
    expect(missing).toEqual([]);
  });
});
