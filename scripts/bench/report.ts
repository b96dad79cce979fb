import type { Summary } from './stats';
import type { HttpStep } from './baselines';
import type { Check } from './verify';
import type { ViewerStats } from './viewers';
import type { FunctionCost } from './profile';
import { lineChart } from './svg';

export interface StepReport {
  offered: number;
  durationS: number;
  sent: number;
  achieved: number;
  soldOut: number;
  errors: Record<string, number>;
  errorRate: number;
  latency: Summary;
  payments: { sent: number; ok: number; errors: Record<string, number>; latency: Summary };
  refunds: { sent: number; ok: number; errors: Record<string, number> };
  screen: Summary | null;
  lagAtEnd: number;
  lagDrainedAfterS: number | null;
  /** per consumer group: lag at the step's end, and seconds until it first read 0 (null: not in the window) */
  lagByGroupAtEnd?: Record<string, number>;
  groupDrainedS?: Record<string, number | null>;
  /** median answer times of the stores during the step, seen from the bench: Redis PING, MongoDB ping, Kafka lag read (admin) */
  storesMs?: { redisPing: number; mongoPing: number; kafkaAdmin: number };
  /** the service's own handler time (its histogram's bucket bounds, ms): what the client saw minus this was queueing */
  serverMs?: {
    orderP50: number | null; orderP99: number | null; payP50: number | null; payP99: number | null;
    /** one Kafka send, and a message's wait from queued to acknowledged (queue + linger + send) */
    kafkaSendP50?: number | null; kafkaSendP99?: number | null; kafkaWaitP50?: number | null; kafkaWaitP99?: number | null;
    /** the api's event-loop delay p99 at the step's end (prom-client's sampler) */
    eventLoopLagP99?: number;
    /** payment → screen by stage: event produced → allocator batch start, one allocator batch, notification → frame written */
    eventAgeP50?: number | null; eventAgeP99?: number | null; allocBatchP50?: number | null; allocBatchP99?: number | null; feedP50?: number | null; feedP99?: number | null;
    /** the load generator's own event-loop delay p99 over the step (ms): how late it may time a frame's arrival */
    loadgenLoopP99?: number;
  };
  consumedPerSec: Record<string, number>;
  producedPerSec: number;
  rssMB: Record<string, number>;
  failures: string[];
}

export interface Ratio { stage: string; value: number | null; numerator: string; denominator: string }

export interface Report {
  startedAt: string;
  commit: string;
  command: string;
  mode: 'full' | 'quick';
  machine: { cpus: number; cpuModel: string; memGB: number; node: string };
  notes: string[];
  scenario: Record<string, unknown>;
  steps: StepReport[];
  sustainableRate: number | null;
  baselines: {
    express: { steps: HttpStep[]; sustainableRate: number | null };
    redis: { opsPerSec: number; ops: number; latency: Summary; errors: number } | null;
    kafka: { count: number; producePerSec: number; consumePerSec: number } | null;
  };
  ratios: Ratio[];
  viewers: ViewerStats;
  lag: { tS: number; total: number; byGroup: Record<string, number> }[];
  stepStartsS: number[];
  checks: Check[];
  profiles?: Record<string, { file: string; totalMs: number; idleMs: number; top: FunctionCost[]; owners: { owner: string; selfMs: number; share: number }[] }>;
}

const f0 = (v: number | null | undefined) => (v == null || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US'));
const f1 = (v: number | null | undefined) => (v == null || !Number.isFinite(v) ? '–' : v.toFixed(1));
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const codes = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || '–';

/** The human-readable report (pure). */
export function renderMarkdown(r: Report): string {
  const L: string[] = [];
  L.push(`# livegive benchmark — ${r.mode} run, ${r.startedAt}, commit ${r.commit}`, '');
  L.push(`Command: \`${r.command}\``, '');
  L.push(`Machine: ${r.machine.cpus} cores (${r.machine.cpuModel}), ${r.machine.memGB} GiB, Node ${r.machine.node}.`, '');
  for (const n of r.notes) L.push(`> ${n}`, '');
  L.push(`## Sustainable rate: ${r.sustainableRate === null ? 'none of the steps passed' : `${f0(r.sustainableRate)} orders/s`}`, '');
  L.push('Rule: the highest step with p99 order latency ≤ 250 ms, under 0.1% errors, and Kafka consumer lag back to zero within 10 s of the step\'s end.', '');
  L.push('| offered/s | achieved/s | errors | p50 ms | p95 ms | p99 ms | pay p99 ms | screen p50 ms | screen p99 ms | lag at end | drained after s | RSS api/workers MB | verdict |');
  L.push('|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
  for (const s of r.steps) {
    L.push(`| ${f0(s.offered)} | ${f0(s.achieved)} | ${pct(s.errorRate)} ${Object.keys(s.errors).length ? `(${codes(s.errors)})` : ''} | ${f0(s.latency.p50)} | ${f0(s.latency.p95)} | ${f0(s.latency.p99)} | ${f0(s.payments.latency.p99)} | ${f0(s.screen?.p50)} | ${f0(s.screen?.p99)} | ${f0(s.lagAtEnd)} | ${s.lagDrainedAfterS === null ? 'not in window' : f1(s.lagDrainedAfterS)} | ${Object.values(s.rssMB).map(f0).join(' / ')} | ${s.failures.length ? s.failures.join('; ') : 'pass'} |`);
  }
  L.push('', 'Kafka consumer lag per group at each step\'s end, and seconds until it first read zero:', '');
  for (const s of r.steps) L.push(`- ${f0(s.offered)}/s: ${Object.entries(s.lagByGroupAtEnd ?? {}).map(([g, v]) => `${g.split('.').pop()} ${f0(v)} → ${s.groupDrainedS?.[g] == null ? 'not zero within 10 s' : `0 after ${f1(s.groupDrainedS[g])} s`}`).join('; ') || '–'}`);
  const ms = (v: number | null | undefined) => (v == null ? '–' : v === Infinity ? '> 2,500' : `≤ ${f0(v)}`);
  L.push('', 'Time inside the service per step (its own request histogram, bucket bounds): ' + r.steps.map((s) => `${f0(s.offered)}/s: orders p50 ${ms(s.serverMs?.orderP50)} ms, p99 ${ms(s.serverMs?.orderP99)} ms; payments p50 ${ms(s.serverMs?.payP50)} ms, p99 ${ms(s.serverMs?.payP99)} ms; of which waiting for Kafka p50 ${ms(s.serverMs?.kafkaWaitP50)} ms, p99 ${ms(s.serverMs?.kafkaWaitP99)} ms (one send p50 ${ms(s.serverMs?.kafkaSendP50)} ms, p99 ${ms(s.serverMs?.kafkaSendP99)} ms); event-loop delay p99 ${f1(s.serverMs?.eventLoopLagP99)} ms`).join('; ') + '. Client-side latency above minus this is time queued before the handler (client, kernel, event loop).');
  L.push('', 'Payment → screen by stage (bucket bounds, ms; p50 / p99): ' + r.steps.map((s) => `${f0(s.offered)}/s: payment answered ${ms(s.serverMs?.payP50)} / ${ms(s.serverMs?.payP99)}, event age at the allocator ${ms(s.serverMs?.eventAgeP50)} / ${ms(s.serverMs?.eventAgeP99)}, allocator batch ${ms(s.serverMs?.allocBatchP50)} / ${ms(s.serverMs?.allocBatchP99)}, notification → frame written ${ms(s.serverMs?.feedP50)} / ${ms(s.serverMs?.feedP99)}; on screen ${f0(s.screen?.p50)} / ${f0(s.screen?.p99)} (the load generator's event-loop delay p99 ${f0(s.serverMs?.loadgenLoopP99)})`).join('; ') + '. The screen figure also holds the load generator receiving the frame on 1,000 sockets.');
  L.push('', 'How the stores answered during each step (medians, from the bench process): ' + r.steps.map((s) => `${f0(s.offered)}/s: Redis PING ${f1(s.storesMs?.redisPing)} ms, MongoDB ping ${f1(s.storesMs?.mongoPing)} ms, Kafka offsets read ${f1(s.storesMs?.kafkaAdmin)} ms`).join('; ') + '.');
  L.push('', 'Per step: orders sent, limited product sold out (answers 409 OUT_OF_STOCK, counted as correct), payments and refunds:', '');
  L.push('| offered/s | orders sent | sold-out answers | payments ok/sent | payment errors | refunds ok/sent | refund errors | events produced/s | consumed/s by group |');
  L.push('|---:|---:|---:|---|---|---|---|---:|---|');
  for (const s of r.steps) {
    L.push(`| ${f0(s.offered)} | ${f0(s.sent)} | ${f0(s.soldOut)} | ${f0(s.payments.ok)}/${f0(s.payments.sent)} | ${codes(s.payments.errors)} | ${f0(s.refunds.ok)}/${f0(s.refunds.sent)} | ${codes(s.refunds.errors)} | ${f0(s.producedPerSec)} | ${Object.entries(s.consumedPerSec).map(([g, v]) => `${g.split('.').pop()} ${f0(v)}`).join(', ')} |`);
  }
  L.push('', '## Against the baselines (same run, same load generator)', '');
  L.push('| stage | ratio | numerator | denominator |', '|---|---:|---|---|');
  for (const x of r.ratios) L.push(`| ${x.stage} | ${x.value === null ? '–' : x.value.toFixed(3)} | ${x.numerator} | ${x.denominator} |`);
  L.push('', `Bare express (\`{}\`), open loop: sustainable ${f0(r.baselines.express.sustainableRate)} req/s.`, '');
  L.push('| offered/s | achieved/s | errors | p50 ms | p99 ms |', '|---:|---:|---:|---:|---:|');
  for (const s of r.baselines.express.steps) L.push(`| ${f0(s.offered)} | ${f0(s.achieved)} | ${s.errors} | ${f1(s.latency.p50)} | ${f1(s.latency.p99)} |`);
  if (r.baselines.redis) L.push('', `Redis reservation script alone: ${f0(r.baselines.redis.opsPerSec)} ops/s (${f0(r.baselines.redis.ops)} ops, p99 ${f1(r.baselines.redis.latency.p99)} ms at 64 in flight, ${r.baselines.redis.errors} errors).`);
  if (r.baselines.kafka) L.push('', `kafkajs with no work, ${f0(r.baselines.kafka.count)} events: produce ${f0(r.baselines.kafka.producePerSec)} events/s, consume ${f0(r.baselines.kafka.consumePerSec)} events/s.`);
  L.push('', '## Viewers', '', `${r.viewers.connected} WebSocket viewers connected (${r.viewers.failed} failed, ${r.viewers.closedEarly} closed early), ${f0(r.viewers.frames)} frames received, ${r.viewers.snapshots} snapshots. Payment-to-screen is measured by latency probes: one unit of a probe-only product paid at a time, timed from sending the payment notification to the first frame at each viewer whose units for that product include it.`);
  L.push('', '## Correctness', '');
  for (const c of r.checks) L.push(`- ${c.ok ? 'PASS' : '**FAIL**'} ${c.name}: ${c.detail}`);
  if (r.profiles) {
    L.push('', '## Where the time goes (CPU profiles, self time)', '');
    for (const [role, p] of Object.entries(r.profiles)) {
      L.push(`### ${role}: ${f0(p.totalMs)} ms busy, ${f0(p.idleMs)} ms idle (\`profiles/${p.file}\`; shares are of the busy time)`, '', '| function | location | self ms | share |', '|---|---|---:|---:|');
      for (const fn of p.top) L.push(`| \`${fn.name}\` | ${fn.location || '–'} | ${f0(fn.selfMs)} | ${pct(fn.share)} |`);
      L.push('', 'By package or file: ' + p.owners.slice(0, 12).map((o) => `${o.owner} ${pct(o.share)}`).join(', '), '');
    }
  }
  L.push('', 'Charts: `throughput.svg`, `latency.svg`, `kafka-lag.svg`.', '');
  return L.join('\n');
}

/** The three charts of the report (pure). */
export function renderCharts(r: Report): { file: string; svg: string }[] {
  const ex = r.baselines.express.steps;
  const throughput = lineChart({
    title: 'Throughput against offered rate', xLabel: 'offered requests/s', yLabel: 'achieved/s',
    series: [
      { name: 'orders (service)', points: r.steps.map((s) => [s.offered, s.achieved]) },
      { name: 'bare express {}', points: ex.map((s) => [s.offered, s.achieved]) },
      { name: 'offered = achieved', points: [...r.steps, ...ex].map((s) => [s.offered, s.offered] as [number, number]).sort((a, b) => a[0] - b[0]), dashed: true },
    ],
  });
  const latency = lineChart({
    title: 'Latency against offered rate (from the scheduled send time)', xLabel: 'offered requests/s', yLabel: 'ms', logY: true,
    series: [
      { name: 'orders p50', points: r.steps.map((s) => [s.offered, s.latency.p50]) },
      { name: 'orders p99', points: r.steps.map((s) => [s.offered, s.latency.p99]) },
      { name: 'payment→screen p99', points: r.steps.map((s) => [s.offered, s.screen?.p99 ?? NaN]) },
      { name: 'bare express p99', points: ex.map((s) => [s.offered, s.latency.p99]), dashed: true },
    ],
    hLines: [{ y: 250, label: 'p99 limit 250 ms' }],
  });
  const groups = [...new Set(r.lag.flatMap((s) => Object.keys(s.byGroup)))];
  const lag = lineChart({
    title: 'Kafka consumer lag over time', xLabel: 'seconds since the first step', yLabel: 'events behind',
    series: groups.map((g) => ({ name: g.split('.').pop()!, points: r.lag.map((s) => [s.tS, s.byGroup[g] ?? NaN] as [number, number]) })),
    vLines: r.stepStartsS.map((t, i) => ({ x: t, label: `${f0(r.steps[i]?.offered)}/s` })),
  });
  return [{ file: 'throughput.svg', svg: throughput }, { file: 'latency.svg', svg: latency }, { file: 'kafka-lag.svg', svg: lag }];
}
