import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import request from 'supertest';
import { testEnv, waitFor } from '../helpers/env';

const root = path.resolve(__dirname, '../..');
// a build of its own (the same tsc project and asset copy as `npm run build`), so dist/ is left alone
const out = path.join(root, '.data', `build-test-${process.pid}`);

function jsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? jsFiles(p) : p.endsWith('.js') ? [p] : [];
  });
}

describe('the compiled service (what the image runs)', () => {
  let child: ChildProcess | undefined;

  beforeAll(() => {
    execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', out], { cwd: root, stdio: 'pipe' });
    execFileSync(process.execPath, [path.join(root, 'scripts/copy-assets.mjs'), out], { cwd: root, stdio: 'pipe' });
  }, 300_000); // tsc on two busy cores has taken over two minutes
  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(out, { recursive: true, force: true });
  });

  it('when it is built, then it needs only production dependencies and carries the static pages', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const imported = new Set<string>();
    for (const f of jsFiles(out)) {
      for (const m of readFileSync(f, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
        const spec = m[1];
        if (spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0])) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    expect([...imported].filter((p) => !(p in pkg.dependencies))).toEqual([]);
    expect(imported).not.toContain('tsx');
    for (const f of ['overlay.html', 'overlay.js', 'overlay.css']) expect(existsSync(path.join(out, 'feed/public', f))).toBe(true);
  });

  it('when node runs main.js --role api, then it becomes ready, serves the overlay assets, and exits 0 on SIGTERM', async () => {
    const env = { ...testEnv({ LIVEGIVE_LOG_LEVEL: 'info' }), PATH: process.env.PATH };
    const proc = spawn(process.execPath, [path.join(out, 'main.js'), '--role', 'api'], { cwd: out, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let log = '';
    proc.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
    proc.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    const port = await waitFor(async () => Number(/"port":(\d+)[^\n]*"msg":"listening"/.exec(log)?.[1]) || undefined, 'the compiled api to listen', 30000);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await request(url).get('/readyz')).status === 200, 'the compiled api to be ready', 20000);
    const js = await request(url).get('/static/overlay/overlay.js').expect(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).toMatch(/"msg":"stopped"/);
  }, 120_000);
});
