import { runScenario, replayScenario, formatResult } from '../../scripts/chaos/scenarios';
import { formatProblems } from '../../scripts/chaos/gather';

const SEED = Number(process.env.LIVEGIVE_CHAOS_SEED ?? 5);

/** Scenario 5 (short): the projection and the allocator re-read the whole log; nothing changes. */
describe('chaos: replay from the earliest offset', () => {
  it('when both consumer groups are reset to the earliest offset after a sale, then the ledger is unchanged and the invariant holds', async () => {
    const r = await runScenario(replayScenario(6000), SEED);
    console.log(formatResult(r));
    expect(r.accepted).toBeGreaterThan(20);
    expect(formatProblems(r.problems)).toBe('invariant holds');
  }, 180_000);
});
