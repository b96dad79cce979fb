import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

/**
 * CPU time of a process (all its threads: utime+stime from /proc/<pid>/stat), in ms; NaN when it is gone.
 * `withReaped` adds its children that have exited and been waited for (cutime+cstime: a postmaster's backends).
 */
export function cpuMs(pid: number, withReaped = false): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the ")" of the command: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based)
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12]) + (withReaped ? Number(f[13]) + Number(f[14]) : 0)) * 1000) / clockTicks;
  } catch {
    return Number.NaN;
  }
}

// USER_HZ is 100 on every Linux this runs on (getconf CLK_TCK)
const clockTicks = 100;

/** CPU of named groups of processes between two readings. */
export class CpuMeter {
  private start = new Map<string, number>();
  constructor(readonly groups: Record<string, number[]>) {}

  private read(): Map<string, number> {
    return new Map(Object.entries(this.groups).map(([name, pids]) => [name, pids.reduce((s, p) => s + cpuMs(p), 0)]));
  }

  begin(): void { this.start = this.read(); }

  /** ms of CPU per group since begin(). */
  end(): Record<string, number> {
    const now = this.read();
    return Object.fromEntries([...now].map(([k, v]) => [k, v - (this.start.get(k) ?? 0)]));
  }
}

/** The first process whose command line contains every one of `parts` (e.g. a server by its port), or null. */
export function findPid(...parts: string[]): number | null {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (parts.every((p) => cmd.includes(p))) return Number(d);
    } catch { /* gone */ }
  }
  return null;
}

/** The stack's servers running on this machine, by name: redis-server; Kafka; FerretDB, PostgreSQL or mongod (empty where they run elsewhere). */
export function localServerPids(): { redis: number[]; kafka: number[]; store: number[] } {
  // [k]: the pattern does not match the shell that runs pgrep
  const pids = (cmd: string) => execFileSync('sh', ['-c', `${cmd}; true`], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  return { redis: pids('pgrep -x redis-server'), kafka: pids('pgrep -f [k]afka.Kafka'), store: pids('pgrep -x ferretdb; pgrep -x postgres; pgrep -x mongod') };
}
