import cliProgress from 'cli-progress';
import type { Broadcast } from './scenario';
import type { Report, StepReport } from './report';

/** The progress bar while the load runs (one line per finished step when output is not a terminal). */
export class Progress {
  private bar = new cliProgress.SingleBar({
    format: ' {step}/s [{bar}] {value}/{total} s | sent {sent} | in flight {inflight} | p99 {p99} ms | lag {lag}',
    hideCursor: true, clearOnComplete: false, noTTYOutput: false,
  }, cliProgress.Presets.shades_classic);
  private elapsed = 0;

  constructor(total: number) {
    this.bar.start(total, 0, { step: '-', sent: 0, inflight: 0, p99: '-', lag: 0 });
  }

  tick(b: Broadcast, offered: number, lag: number): void {
    const s = b.steps.at(-1);
    if (!s) return;
    const lat = s.latencies.slice(-2000).sort((x, y) => x - y);
    const p99 = lat.length ? Math.round(lat[Math.floor(lat.length * 0.99)]) : '-';
    this.bar.update(Math.min(this.elapsed + Math.floor((performance.now() - s.startMs) / 1000), this.bar.getTotal()), { step: offered, sent: s.sent, inflight: b.pending, p99, lag });
  }

  stepDone(r: StepReport): void {
    this.elapsed += r.durationS;
    this.bar.update(this.elapsed);
    if (!process.stdout.isTTY) console.log(`  step ${r.offered}/s: achieved ${Math.round(r.achieved)}/s, p99 ${Math.round(r.latency.p99)} ms, errors ${(r.errorRate * 100).toFixed(2)}%, lag drained ${r.lagDrainedAfterS ?? 'no'}`);
  }

  stop(): void {
    this.bar.stop();
  }
}

/** The summary table printed at the end. */
export function printSummary(r: Report, dir: string): void {
  console.log(`\nSustainable rate: ${r.sustainableRate ?? 'none'} orders/s (p99 ≤ 250 ms, < 0.1% errors, lag back to 0 within 10 s)`);
  console.table(r.steps.map((s) => ({
    'offered/s': s.offered, 'achieved/s': Math.round(s.achieved), 'errors %': +(s.errorRate * 100).toFixed(2),
    'p50 ms': Math.round(s.latency.p50), 'p99 ms': Math.round(s.latency.p99), 'screen p50 ms': s.screen ? Math.round(s.screen.p50) : '-',
    'screen p99 ms': s.screen ? Math.round(s.screen.p99) : '-', 'lag end': s.lagAtEnd, 'drained s': s.lagDrainedAfterS === null ? 'no' : +s.lagDrainedAfterS.toFixed(1),
    verdict: s.failures.length ? 'fail' : 'pass',
  })));
  console.table(r.steps.map((s) => ({
    'offered/s': s.offered, 'pay p50/p99': pair(s.serverMs?.payP50, s.serverMs?.payP99), 'event age at allocator': pair(s.serverMs?.eventAgeP50, s.serverMs?.eventAgeP99),
    'allocator batch': pair(s.serverMs?.allocBatchP50, s.serverMs?.allocBatchP99), 'notify → frame': pair(s.serverMs?.feedP50, s.serverMs?.feedP99),
    'screen p50/p99': s.screen ? `${Math.round(s.screen.p50)} / ${Math.round(s.screen.p99)}` : '-',
    'load generator loop p99': s.serverMs?.loadgenLoopP99 == null ? '-' : Math.round(s.serverMs.loadgenLoopP99),
  })));
  console.table(r.ratios.map((x) => ({ stage: x.stage, ratio: x.value === null ? '-' : +x.value.toFixed(3), of: `${x.numerator} / ${x.denominator}` })));
  for (const c of r.checks) console.log(`${c.ok ? 'PASS' : 'FAIL'} ${c.name}`);
  console.log(`\nReport: ${dir}/report.md (report.json, throughput.svg, latency.svg, kafka-lag.svg)`);
}

// a stage's p50 / p99 in ms (histogram bucket bounds; '-' when the service has no such histogram)
const pair = (a?: number | null, b?: number | null) => `${a == null ? '-' : Math.round(a)} / ${b == null ? '-' : Math.round(b)}`;
