import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** Starts test/helpers/allocator-child.ts with the given environment and waits until it consumes. */
export async function spawnAllocator(env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  // node itself (not the tsx wrapper, which would survive as an orphan runner when killed)
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/helpers/allocator-child.ts')], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('allocator child did not start within 180 s')), 180_000);
    child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('READY')) { clearTimeout(timer); resolve(); } });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`allocator child exited with ${code}`)); });
  });
  child.stdout!.resume();
  return child;
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  return exited;
}
