import { runScenario, scaleOutScenario, formatResult } from '../../scripts/chaos/scenarios';
import { formatProblems } from '../../scripts/chaos/gather';

const SEED = Number(process.env.LIVEGIVE_CHAOS_SEED ?? 6);

/** Scenario 6: two API instances and two worker processes; one of each is SIGKILLed mid-sale. */
describe('chaos: two of each, one of each killed', () => {
  it('when one API and one worker process die mid-sale, then the survivors carry on and the invariant holds', async () => {
    const r = await runScenario(scaleOutScenario(), SEED);
    console.log(formatResult(r));
    expect(formatProblems(r.problems)).toBe('invariant holds');
  }, 180_000);
});
