import http from 'node:http';

/** The answer to one request: status 0 means no HTTP answer (code then names the socket error). */
export interface HttpResult { status: number; code: string | null; body: unknown; endMs: number }

export const now = () => performance.now();

/**
 * A keep-alive HTTP/1.1 client bound to one 127.0.0.1 port. Requests beyond maxSockets queue in the
 * agent, and that queueing counts in the latency measured from the scheduled time.
 */
export class BenchClient {
  readonly agent: http.Agent;
  inFlight = 0;

  constructor(readonly port: number, maxSockets = 256, private readonly timeoutMs = 15_000) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
  }

  /** Sends one JSON request; never rejects. rawBody, when given, is sent as is (signed payloads). */
  request(method: string, path: string, opts: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
    const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const headers: Record<string, string | number> = { ...opts.headers };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    this.inFlight++;
    return new Promise<HttpResult>((resolve) => {
      let done = false;
      const finish = (r: Omit<HttpResult, 'endMs'>) => {
        if (done) return;
        done = true;
        this.inFlight--;
        resolve({ ...r, endMs: now() });
      };
      const req = http.request({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try { body = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
          const status = res.statusCode ?? 0;
          finish({ status, code: status >= 400 ? errorCode(body, status) : null, body });
        });
        res.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, code: e.code ?? 'RESPONSE_ERROR', body: null }));
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' })));
      req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, code: e.code ?? 'REQUEST_ERROR', body: null }));
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The stable error code of an error answer ({"error":{"code"}}), else HTTP_<status>. */
export function errorCode(body: unknown, status: number): string {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : `HTTP_${status}`;
}

/** Throws with the answer when a setup call did not get the expected status. */
export async function expectStatus(p: Promise<HttpResult>, status: number, what: string): Promise<Record<string, unknown>> {
  const r = await p;
  if (r.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${r.status || r.code} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r.body as Record<string, unknown>;
}
