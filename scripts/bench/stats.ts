/** Pure statistics for the benchmark: percentiles, summaries, ratios and the sustainable-rate rule. */

export interface Summary { count: number; p50: number; p95: number; p99: number; max: number; mean: number }

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * n);
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))];
}

/** Sorts a copy of the values and answers count, mean, max and the usual percentiles. */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i];
  const n = sorted.length;
  return { count: n, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: n ? sorted[n - 1] : NaN, mean: n ? sum / n : NaN };
}

/** a ÷ b, or null when either side is missing or b is zero (a ratio that cannot be computed is not 0). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

export interface StepVerdictInput {
  offered: number;
  p99Ms: number;
  requests: number;
  errors: number;
  /** seconds after the step's end until consumer lag was zero; null if it never got there in the window */
  lagDrainedAfterS: number | null;
}

export interface SustainableRule { maxP99Ms: number; maxErrorRate: number; maxDrainS: number }
export const defaultRule: SustainableRule = { maxP99Ms: 250, maxErrorRate: 0.001, maxDrainS: 10 };

/** Why a step fails the rule (empty when it passes). */
export function stepFailures(s: StepVerdictInput, rule: SustainableRule = defaultRule): string[] {
  const why: string[] = [];
  if (!(s.p99Ms <= rule.maxP99Ms)) why.push(`p99 ${fmtMs(s.p99Ms)} > ${rule.maxP99Ms} ms`);
  const rate = s.requests ? s.errors / s.requests : 1;
  if (!(rate < rule.maxErrorRate)) why.push(`errors ${(rate * 100).toFixed(2)}% ≥ ${(rule.maxErrorRate * 100).toFixed(1)}%`);
  if (s.lagDrainedAfterS === null || s.lagDrainedAfterS > rule.maxDrainS) why.push(`lag not back to zero within ${rule.maxDrainS} s`);
  return why;
}

/** The highest offered rate whose step passes the rule, or null when none does. */
export function sustainableRate(steps: StepVerdictInput[], rule: SustainableRule = defaultRule): number | null {
  let best: number | null = null;
  for (const s of steps) if (stepFailures(s, rule).length === 0 && (best === null || s.offered > best)) best = s.offered;
  return best;
}

function fmtMs(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a';
}
