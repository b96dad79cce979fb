import { runScenario, redisRestartScenario, formatResult } from '../../scripts/chaos/scenarios';
import { formatProblems } from '../../scripts/chaos/gather';

const SEED = Number(process.env.LIVEGIVE_CHAOS_SEED ?? 3);

/** Scenario 3: Redis restarts without, then with, its append-only file while a sale runs. */
describe('chaos: Redis restart during a sale', () => {
  it('when Redis comes back empty and then from its own file, then orders pause until the state is rebuilt, nothing is oversold and the invariant holds', async () => {
    const r = await runScenario(redisRestartScenario(), SEED);
    console.log(formatResult(r));
    expect(r.notes.filter((n) => n.includes('ready again'))).toHaveLength(2);
    expect(formatProblems(r.problems)).toBe('invariant holds');
  }, 180_000);
});
