import { runScenario, crashScenario, formatResult } from '../../scripts/chaos/scenarios';
import { formatProblems } from '../../scripts/chaos/gather';

const SEED = Number(process.env.LIVEGIVE_CHAOS_SEED ?? 1);

/** Scenario 1 (short): SIGKILL the API, the workers or both at seeded moments during a sale, restarting each time. */
describe('chaos: crash anywhere', () => {
  it('when the API and workers are SIGKILLed four times during a sale, then nothing is lost or counted twice', async () => {
    const r = await runScenario(crashScenario(4), SEED);
    console.log(formatResult(r));
    expect(r.notes.filter((n) => n.startsWith('kill') || n.includes(' kill '))).toHaveLength(4);
    expect(formatProblems(r.problems)).toBe('invariant holds');
  }, 180_000);
});
