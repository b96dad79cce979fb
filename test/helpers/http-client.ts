import http from 'node:http';

/** A keep-alive JSON client with a bounded socket pool, for bursts of thousands of concurrent requests. */
export function jsonClient(base: string, maxSockets = 128) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const u = new URL(base);
  const send = (method: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: any }>((resolve, reject) => { // eslint-disable-line @typescript-eslint/no-explicit-any
      const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const req = http.request({ agent, host: u.hostname, port: u.port, method, path, headers: { 'content-type': 'application/json', ...(data ? { 'content-length': String(data.length) } : {}), ...headers } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(data);
    });
  return { send, close: () => agent.destroy() };
}
