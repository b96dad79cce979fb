/**
 * The service's own view of order latency, from its Prometheus histogram: the difference between two
 * scrapes gives the requests of one step, and the bucket where a percentile falls gives an upper bound.
 * Compared with the client's open-loop latency it tells time in the handler from time queued before it.
 */
export type Buckets = Map<number, number>;

const LINE = /^(\w+)_bucket\{([^}]*)\}\s+(\d+(?:\.\d+)?)$/;

/** Cumulative bucket counts (le in seconds → count) of one HTTP method and route from a /metrics text. */
export function parseBuckets(text: string, method: string, route: string): Buckets {
  return histogramBuckets(text, 'livegive_http_request_duration_seconds', { method, route });
}

/** Cumulative bucket counts of any histogram, restricted to series carrying the given labels. */
export function histogramBuckets(text: string, metric: string, want: Record<string, string> = {}): Buckets {
  const out: Buckets = new Map();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m || m[1] !== metric) continue;
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(want).some(([k, v]) => labels[k] !== v)) continue;
    out.set(labels.le === '+Inf' ? Infinity : Number(labels.le), Number(m[3]));
  }
  return out;
}

/** The upper bound (ms) of the bucket holding percentile p of the requests between two scrapes; null with none. */
export function bucketPercentileMs(before: Buckets, after: Buckets, p: number): number | null {
  const les = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total <= 0) return null;
  for (const le of les) if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= p * total) return le * 1000;
  return Infinity;
}

/** A gauge's value from a /metrics text (NaN when absent). */
export function gaugeValue(text: string, metric: string): number {
  const m = new RegExp(`^${metric}(?:\\{[^}]*\\})?\\s+(\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}
