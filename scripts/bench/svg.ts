/** A small, dependency-free SVG line chart writer for the benchmark report (pure: data in, text out). */

export interface Series { name: string; points: [number, number][]; dashed?: boolean }
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** horizontal reference lines, e.g. the 250 ms p99 limit */
  hLines?: { y: number; label: string }[];
  /** vertical markers, e.g. step boundaries */
  vLines?: { x: number; label: string }[];
  logY?: boolean;
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const M = { left: 70, right: 20, top: 40, bottom: 70 };

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** "Nice" tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  const last = Math.ceil(hi / step - 1e-9) * step;
  for (let v = Math.floor(lo / step) * step; v <= last + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/** Renders the chart; points that are not finite (or ≤ 0 on a log axis) are skipped. */
export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 760;
  const H = spec.height ?? 420;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const ok = (p: [number, number]) => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!spec.logY || p[1] > 0);
  const pts = spec.series.flatMap((s) => s.points.filter(ok));
  const xs = [...pts.map((p) => p[0]), ...(spec.vLines ?? []).map((v) => v.x)];
  const ys = [...pts.map((p) => p[1]), ...(spec.hLines ?? []).map((h) => h.y)];
  const x0 = xs.length ? Math.min(0, ...xs) : 0;
  const x1 = xs.length ? Math.max(...xs) : 1;
  let xTicks = niceTicks(x0, x1);
  const xmax = xTicks[xTicks.length - 1];
  const tY = spec.logY ? (v: number) => Math.log10(v) : (v: number) => v;
  const yvals = ys.filter((v) => !spec.logY || v > 0).map(tY);
  const ylo = spec.logY ? Math.floor(yvals.length ? Math.min(...yvals) : 0) : 0;
  const yhi = yvals.length ? Math.max(...yvals, ylo + (spec.logY ? 1 : 0)) : 1;
  const yTicks = spec.logY ? Array.from({ length: Math.ceil(yhi) - ylo + 1 }, (_, i) => ylo + i) : niceTicks(0, yhi * 1.05);
  const ymax = yTicks[yTicks.length - 1];
  const sx = (x: number) => M.left + ((x - x0) / (xmax - x0 || 1)) * pw;
  const sy = (y: number) => M.top + ph - ((tY(y) - ylo) / (ymax - ylo || 1)) * ph;
  xTicks = xTicks.filter((t) => t >= x0);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`);
  for (const t of xTicks) {
    out.push(`<line x1="${sx(t).toFixed(1)}" y1="${M.top}" x2="${sx(t).toFixed(1)}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t).toFixed(1)}" y="${M.top + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of yTicks) {
    const v = spec.logY ? 10 ** t : t;
    out.push(`<line x1="${M.left}" y1="${sy(v).toFixed(1)}" x2="${M.left + pw}" y2="${sy(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${M.left + pw / 2}" y="${H - 38}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel + (spec.logY ? ' (log scale)' : ''))}</text>`);
  for (const h of spec.hLines ?? []) {
    if (spec.logY && h.y <= 0) continue;
    out.push(`<line x1="${M.left}" y1="${sy(h.y).toFixed(1)}" x2="${M.left + pw}" y2="${sy(h.y).toFixed(1)}" stroke="#999" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${M.left + pw - 4}" y="${(sy(h.y) - 4).toFixed(1)}" text-anchor="end" fill="#666">${escapeXml(h.label)}</text>`);
  }
  for (const v of spec.vLines ?? []) {
    out.push(`<line x1="${sx(v.x).toFixed(1)}" y1="${M.top}" x2="${sx(v.x).toFixed(1)}" y2="${M.top + ph}" stroke="#bbb" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${(sx(v.x) + 3).toFixed(1)}" y="${M.top + 12}" fill="#666" font-size="10">${escapeXml(v.label)}</text>`);
  }
  spec.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const p = s.points.filter(ok);
    if (p.length) {
      const d = p.map((q, j) => `${j ? 'L' : 'M'}${sx(q[0]).toFixed(1)} ${sy(q[1]).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>`);
      for (const q of p.length <= 40 ? p : []) out.push(`<circle cx="${sx(q[0]).toFixed(1)}" cy="${sy(q[1]).toFixed(1)}" r="3" fill="${color}"/>`);
    }
    const lx = M.left + (i % 4) * (pw / 4);
    const ly = H - 16 + Math.floor(i / 4) * 14 - (spec.series.length > 4 ? 10 : 0);
    out.push(`<rect x="${lx}" y="${ly - 9}" width="12" height="4" fill="${color}"/><text x="${lx + 16}" y="${ly - 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
