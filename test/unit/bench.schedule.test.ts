import { dueBy, runOpenLoop, scheduledAt, scheduleFor } from '../../scripts/bench/schedule';

describe('bench open-loop schedule', () => {
  it('when a step runs at a rate for a duration, then it offers exactly rate × duration requests spaced 1000/rate ms apart', () => {
    const s = scheduleFor(1000, 250, 30);
    expect(s.total).toBe(7500);
    expect(scheduledAt(s, 0)).toBe(1000);
    expect(scheduledAt(s, 1)).toBe(1004);
    expect(scheduledAt(s, 7499)).toBeCloseTo(1000 + 29_996);
  });

  it('when the clock moves, then the due count follows the clock alone and never exceeds the total', () => {
    const s = scheduleFor(0, 1000, 2);
    expect(dueBy(s, -1)).toBe(0);
    expect(dueBy(s, 0)).toBe(1);
    expect(dueBy(s, 9.99)).toBe(10);
    expect(dueBy(s, 500)).toBe(501);
    expect(dueBy(s, 10_000)).toBe(2000);
  });

  it('when answers never come back, then the loop still fires every request on time (it never waits for answers)', async () => {
    let t = 0;
    const fired: [number, number][] = [];
    const s = scheduleFor(0, 100, 1); // 100 requests over 1 s
    const done = runOpenLoop(s, (i, at) => { fired.push([i, at]); }, { now: () => (t += 7), tickMs: 0 });
    await expect(done).resolves.toBe(100);
    expect(fired.map((f) => f[0])).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(fired[42][1]).toBe(420); // latency is later measured from this scheduled time, not from when it was sent
  });

  it('when the clock stalls (a busy event loop), then the requests that fell due are all fired at once with their original scheduled times', async () => {
    const clock = [0, 0, 500, 1000];
    let k = 0;
    const fired: number[] = [];
    await runOpenLoop(scheduleFor(0, 10, 1), (_i, at) => { fired.push(at); }, { now: () => clock[Math.min(k++, clock.length - 1)], tickMs: 0 });
    expect(fired).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  });

  it('when aborted, then it stops firing', async () => {
    let n = 0;
    const sent = await runOpenLoop(scheduleFor(0, 1000, 10), () => { n++; }, { now: () => 5, tickMs: 0, abort: () => n >= 6 });
    expect(sent).toBe(6);
  });
});
