import { spawn, ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { waitFor } from './env';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

/** A private, real redis-server for tests that stop or wipe Redis without touching anyone else's. */
export class PrivateRedis {
  proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'lg-redis-'));
  constructor(readonly port: number) {}
  get url() { return `redis://127.0.0.1:${this.port}`; }

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.up();
    return r;
  }

  async up(opts: { appendonly?: boolean } = {}): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', opts.appendonly === false ? 'no' : 'yes', '--save', ''], { stdio: 'ignore' });
    await waitFor(async () => {
      const c = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      c.on('error', () => undefined); // refused while the server starts: the connect() rejection is the answer
      try { await c.connect(); return (await c.ping()) === 'PONG'; } finally { c.disconnect(); }
    }, `redis on ${this.port}`, 10000, 50);
  }

  /** Stops the server; wipe=true also deletes its persistence files (a Redis that lost its data). */
  async down(opts: { wipe?: boolean; kill?: boolean } = {}): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill(opts.kill ? 'SIGKILL' : 'SIGTERM');
      await exited;
    }
    if (opts.wipe) {
      const { rmSync } = await import('node:fs');
      for (const f of ['appendonlydir', 'dump.rdb']) rmSync(path.join(this.dir, f), { recursive: true, force: true });
    }
  }
}
