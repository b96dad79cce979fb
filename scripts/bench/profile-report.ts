import fs from 'node:fs';
import path from 'node:path';
import { selfTimes, selfTimesByOwner, CpuProfile } from './profile';

// Prints the top functions of every .cpuprofile under a folder: npx tsx scripts/bench/profile-report.ts <dir> [n]
const dir = process.argv[2];
const n = Number(process.argv[3] ?? 25);
if (!dir) { console.error('usage: profile-report.ts <dir with .cpuprofile files> [top n]'); process.exit(2); }
const files = (function walk(d: string): string[] {
  return fs.readdirSync(d).flatMap((f) => (fs.statSync(path.join(d, f)).isDirectory() ? walk(path.join(d, f)) : f.endsWith('.cpuprofile') ? [path.join(d, f)] : []));
})(dir);
for (const f of files) {
  const p = JSON.parse(fs.readFileSync(f, 'utf8')) as CpuProfile;
  const s = selfTimes(p);
  console.log(`\n${path.relative(dir, f)}: ${Math.round(s.total)} ms busy, ${Math.round(s.idle)} ms idle`);
  for (const fn of s.functions.slice(0, n)) console.log(`  ${(fn.share * 100).toFixed(1).padStart(5)}%  ${Math.round(fn.selfMs).toString().padStart(7)} ms  ${fn.name}  ${fn.location}`);
  console.log('  by owner: ' + selfTimesByOwner(p).slice(0, 12).map((o) => `${o.owner} ${(o.share * 100).toFixed(1)}%`).join(', '));
}
