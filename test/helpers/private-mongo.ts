import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, openSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { freePort } from './redis-server';
import { waitFor } from './env';

const cacheDir = () => process.env.LIVEGIVE_CACHE_DIR ?? path.join(os.homedir(), '.cache/livegive');

/**
 * A private MongoDB-wire server (FerretDB on SQLite, the build scripts/stack makes) on a free port, for
 * scenarios that stop it; the shared server on 27017 is never touched. Data survives down()/up().
 */
export class PrivateMongo {
  proc: ChildProcess | null = null;
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'lg-mongo-'));
  constructor(readonly port: number) {}
  get url() { return `mongodb://127.0.0.1:${this.port}/livegive`; }

  static async start(): Promise<PrivateMongo> {
    const m = new PrivateMongo(await freePort());
    await m.up();
    return m;
  }

  async up(): Promise<void> {
    const bin = path.join(cacheDir(), 'ferretdb-v1.24.2', 'ferretdb');
    if (!existsSync(bin)) throw new Error(`FerretDB is not built at ${bin}: run scripts/stack install`);
    const out = openSync(path.join(this.dir, 'ferretdb.log'), 'a');
    this.proc = spawn(bin, ['--listen', `127.0.0.1:${this.port}`, '--handler', 'sqlite', '--sqlite-url', `file:${this.dir}/`], { stdio: ['ignore', out, out] });
    const proc = this.proc;
    await waitFor(async () => {
      if (proc.exitCode !== null) throw new Error(`private FerretDB exited with ${proc.exitCode} (see ${this.dir}/ferretdb.log)`);
      const c = new MongoClient(this.url, { serverSelectionTimeoutMS: 500, directConnection: true });
      try { await c.connect(); await c.db('admin').command({ ping: 1 }); return true; } catch { return false; } finally { await c.close().catch(() => undefined); }
    }, `private FerretDB on ${this.port}`, 20000, 100);
  }

  async down(opts: { kill?: boolean } = {}): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(opts.kill ? 'SIGKILL' : 'SIGTERM');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.down({ kill: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
