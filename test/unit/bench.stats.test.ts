import { percentile, summarize, ratio, stepFailures, sustainableRate } from '../../scripts/bench/stats';

describe('bench statistics', () => {
  it('when asked for percentiles, then answers the nearest rank of the sorted values', () => {
    const v = Float64Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('when summarising unsorted latencies, then sorts a copy and reports count, mean, max and p50/p95/p99', () => {
    const values = [30, 10, 20, 40, 1000];
    const s = summarize(values);
    expect(s).toEqual({ count: 5, p50: 30, p95: 1000, p99: 1000, max: 1000, mean: 220 });
    expect(values).toEqual([30, 10, 20, 40, 1000]);
  });

  it('when the denominator is missing or zero, then the ratio is null rather than 0 or Infinity', () => {
    expect(ratio(2600, 5200)).toBe(0.5);
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 3)).toBeNull();
    expect(ratio(3, undefined)).toBeNull();
    expect(ratio(NaN, 3)).toBeNull();
  });

  const pass = { offered: 1000, p99Ms: 120, requests: 30_000, errors: 10, lagDrainedAfterS: 2 };

  it('when a step meets p99 ≤ 250 ms, < 0.1% errors and lag drained within 10 s, then it passes', () => {
    expect(stepFailures(pass)).toEqual([]);
    expect(stepFailures({ ...pass, p99Ms: 250 })).toEqual([]);
  });

  it('when a step misses any part of the rule, then it fails naming each reason', () => {
    expect(stepFailures({ ...pass, p99Ms: 251 })).toEqual(['p99 251 ms > 250 ms']);
    expect(stepFailures({ ...pass, errors: 30 })).toHaveLength(1); // exactly 0.1% is not under 0.1%
    expect(stepFailures({ ...pass, lagDrainedAfterS: null })).toEqual(['lag not back to zero within 10 s']);
    expect(stepFailures({ ...pass, lagDrainedAfterS: 10.5 })).toHaveLength(1);
    expect(stepFailures({ ...pass, requests: 0, errors: 0 })).toHaveLength(1);
  });

  it('when several steps pass, then the sustainable rate is the highest passing offered rate, even past a failing one', () => {
    const steps = [250, 500, 1000, 2000, 2600, 4000].map((offered) => ({ ...pass, offered, p99Ms: offered === 2000 || offered === 4000 ? 400 : 100 }));
    expect(sustainableRate(steps)).toBe(2600);
    expect(sustainableRate(steps.map((s) => ({ ...s, p99Ms: 900 })))).toBeNull();
  });
});
