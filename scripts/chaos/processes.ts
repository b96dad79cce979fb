import { spawn, ChildProcess } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import path from 'node:path';
import net from 'node:net';

export type Role = 'api' | 'workers' | 'all';

const ROOT = path.resolve(__dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One livegive process run as a real child (`node --import tsx src/main.ts --role …`), so SIGKILL kills
 * the service itself: `tsx <file>` would put a wrapper process in between. Its stdout and stderr (pino
 * JSON) are appended to `logFile` across restarts, so tests can grep everything it ever logged.
 */
export class ServiceProcess {
  proc: ChildProcess | null = null;
  private log: WriteStream;
  starts = 0;
  kills = 0;

  constructor(readonly name: string, readonly role: Role, readonly env: NodeJS.ProcessEnv, readonly logFile: string, readonly port?: number) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  get url(): string { return `http://127.0.0.1:${this.port}`; }
  get running(): boolean { return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null; }

  /** Starts the process; for the api role, waits until /healthz answers. */
  async start(timeoutMs = 60000): Promise<void> {
    if (this.running) return;
    const env = { ...process.env, ...this.env, ...(this.port !== undefined ? { PORT: String(this.port) } : {}) };
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--role', this.role], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.starts++;
    proc.stdout?.pipe(this.log, { end: false });
    proc.stderr?.pipe(this.log, { end: false });
    const deadline = Date.now() + timeoutMs;
    if (this.role === 'workers') {
      // workers have no port and main.ts logs nothing for them: a short grace in which it must not die
      const graceEnd = Date.now() + Math.min(3000, timeoutMs);
      while (Date.now() < graceEnd && this.running) await sleep(100);
      if (!this.running) throw new Error(`${this.name} exited during start-up (code ${proc.exitCode}); see ${this.logFile}`);
      return;
    }
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited during start-up (code ${proc.exitCode}); see ${this.logFile}`);
      if (await this.healthy()) return;
      await sleep(100);
    }
    throw new Error(`${this.name} did not answer /healthz within ${timeoutMs} ms; see ${this.logFile}`);
  }

  async healthy(): Promise<boolean> {
    try {
      const r = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      return r.ok;
    } catch {
      return false;
    }
  }

  /** SIGKILL: no shutdown hooks, no flushing, in-flight work lost — a crash. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || !this.running) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    this.kills++;
    await exited;
    this.proc = null;
  }

  /** SIGTERM and wait for the graceful shutdown (SIGKILL after a grace period). */
  async stop(graceMs = 20000): Promise<void> {
    const p = this.proc;
    if (!p || !this.running) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(t);
    this.proc = null;
  }

  async close(): Promise<void> {
    await this.kill();
    await new Promise((r) => this.log.end(r));
  }
}
