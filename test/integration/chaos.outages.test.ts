import { runScenario, kafkaOutageScenario, mongoOutageScenario, formatResult } from '../../scripts/chaos/scenarios';
import { formatProblems } from '../../scripts/chaos/gather';

const SEED = Number(process.env.LIVEGIVE_CHAOS_SEED ?? 2);

/** Scenarios 2 and 4 (short): a private broker or MongoDB-wire server stops for 8 s during a sale. */
describe('chaos: store outages', () => {
  it('when Kafka is down for 8 s, then orders are refused (503) or accepted and published later, never lost, and the invariant holds', async () => {
    const r = await runScenario(kafkaOutageScenario(8000), SEED);
    console.log(formatResult(r));
    expect(formatProblems(r.problems)).toBe('invariant holds');
  }, 180_000);

  it('when MongoDB is down for 8 s, then intake goes on, consumers catch up and the invariant holds', async () => {
    const r = await runScenario(mongoOutageScenario(8000), SEED + 1);
    console.log(formatResult(r));
    expect(r.notes.some((n) => /\((\d+) orders accepted while it was down\)/.exec(n)?.[1] !== '0')).toBe(true);
    expect(formatProblems(r.problems)).toBe('invariant holds');
  }, 180_000);
});
