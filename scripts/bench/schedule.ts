/**
 * Open-loop, constant-arrival-rate schedule: request i of a step is due at start + i × 1000 / rate,
 * whatever happened to earlier requests, so a slow server cannot slow the offered load down and the
 * latency measured from the scheduled time includes any queueing (no coordinated omission).
 */
export interface Schedule { startMs: number; ratePerSec: number; total: number }

export function scheduleFor(startMs: number, ratePerSec: number, durationS: number): Schedule {
  return { startMs, ratePerSec, total: Math.max(0, Math.floor(ratePerSec * durationS)) };
}

/** When request i is due. */
export function scheduledAt(s: Schedule, i: number): number {
  return s.startMs + (i * 1000) / s.ratePerSec;
}

/** How many requests are due by nowMs (never more than the total). */
export function dueBy(s: Schedule, nowMs: number): number {
  if (nowMs < s.startMs) return 0;
  return Math.min(s.total, Math.floor(((nowMs - s.startMs) * s.ratePerSec) / 1000) + 1);
}

/**
 * Fires fire(i, scheduledMs) for every due request on a fast timer, never waiting for answers.
 * Resolves when all are fired or the step was aborted; bounded by the schedule's total.
 */
export function runOpenLoop(s: Schedule, fire: (i: number, scheduledMs: number) => void, opts: { now?: () => number; tickMs?: number; abort?: () => boolean } = {}): Promise<number> {
  const now = opts.now ?? (() => performance.now());
  const tick = opts.tickMs ?? 1;
  let sent = 0;
  return new Promise((resolve) => {
    const loop = () => {
      if (opts.abort?.()) return resolve(sent);
      const due = dueBy(s, now());
      while (sent < due) {
        fire(sent, scheduledAt(s, sent));
        sent++;
      }
      if (sent >= s.total) return resolve(sent);
      setTimeout(loop, tick);
    };
    loop();
  });
}
