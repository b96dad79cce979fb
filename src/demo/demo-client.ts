/** A small JSON client for the public HTTP API (API.md), shared by the in-process demo, scripts/demo.ts and the feed bench. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly retryAfterSeconds?: number) {
    super(`${status} ${code}: ${message}`);
  }
}

export class DemoClient {
  constructor(readonly baseUrl: string) {}

  async call<T>(method: string, path: string, opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}): Promise<T> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.baseUrl + path, { method, headers, body });
    const text = await res.text();
    const json = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      const e = json?.error ?? {};
      const ra = Number(res.headers.get('retry-after'));
      throw new ApiError(res.status, String(e.code ?? 'HTTP_ERROR'), String(e.message ?? text), Number.isFinite(ra) && ra > 0 ? ra : undefined);
    }
    return json as T;
  }
}
