/** Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, largest first (pure). */

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber?: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
export interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples?: number[]; timeDeltas?: number[] }

export interface FunctionCost { name: string; location: string; selfMs: number; share: number }

/** Shortens file:///…/node_modules/pkg/x.js and /repo/src/x.ts to something a person can read. */
export function shortLocation(url: string, line: number): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm);
  else {
    const src = u.search(/\/(src|scripts|test)\//);
    if (src >= 0) u = u.slice(src + 1);
  }
  return `${u}:${line + 1}`;
}

/**
 * Self time per function (summed over every node with the same name and location), in ms, with shares
 * of the busy time: (idle) is reported apart. Uses the sample timeline when present, else hit counts ×
 * the mean sampling interval.
 */
export function selfTimes(profile: CpuProfile): { total: number; idle: number; functions: FunctionCost[] } {
  const byNode = new Map<number, number>();
  if (profile.samples?.length && profile.timeDeltas?.length === profile.samples.length) {
    // timeDeltas[i] is the gap before sample i, so sample i's time is the gap before sample i+1
    for (let i = 0; i < profile.samples.length; i++) {
      const dt = profile.timeDeltas[i + 1] ?? 0;
      byNode.set(profile.samples[i], (byNode.get(profile.samples[i]) ?? 0) + Math.max(0, dt));
    }
  } else {
    const hits = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
    const per = hits ? (profile.endTime - profile.startTime) / hits : 0;
    for (const n of profile.nodes) byNode.set(n.id, (n.hitCount ?? 0) * per);
  }
  const agg = new Map<string, { name: string; location: string; us: number }>();
  let total = 0;
  let idle = 0;
  for (const n of profile.nodes) {
    const us = byNode.get(n.id) ?? 0;
    if (!us) continue;
    if (n.callFrame.functionName === '(idle)') { idle += us; continue; }
    total += us;
    const name = n.callFrame.functionName || '(anonymous)';
    const location = shortLocation(n.callFrame.url, n.callFrame.lineNumber);
    const k = `${name}\u0000${location}`;
    const a = agg.get(k) ?? { name, location, us: 0 };
    a.us += us;
    agg.set(k, a);
  }
  const functions = [...agg.values()].sort((a, b) => b.us - a.us).map((a) => ({ name: a.name, location: a.location, selfMs: a.us / 1000, share: total ? a.us / total : 0 }));
  return { total: total / 1000, idle: idle / 1000, functions };
}

/** Self time grouped by package (node_modules/<pkg>), project file, or V8 pseudo-node such as (garbage collector). */
export function selfTimesByOwner(profile: CpuProfile): { owner: string; selfMs: number; share: number }[] {
  const { total, functions } = selfTimes(profile);
  const by = new Map<string, number>();
  for (const f of functions) {
    let owner = f.location ? f.location.replace(/:\d+$/, '') : f.name;
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(owner);
    if (m) owner = m[1];
    else if (owner.startsWith('node:')) owner = 'node (core)';
    by.set(owner, (by.get(owner) ?? 0) + f.selfMs);
  }
  return [...by].sort((a, b) => b[1] - a[1]).map(([owner, selfMs]) => ({ owner, selfMs, share: total ? selfMs / total : 0 }));
}
