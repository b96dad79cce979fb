import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

describe('start-up with bad configuration', () => {
  it('when PORT is bad and LIVEGIVE_PAYMENT_SECRET is missing, then the process exits non-zero naming both', () => {
    const r = spawnSync(path.join(root, 'node_modules/.bin/tsx'), ['src/main.ts', '--role', 'api'], {
      cwd: root, encoding: 'utf8', timeout: 30000,
      env: { PATH: process.env.PATH, LIVEGIVE_ADMIN_TOKEN: 'x'.repeat(20), PORT: 'abc' },
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/PORT/);
    expect(r.stderr).toMatch(/LIVEGIVE_PAYMENT_SECRET/);
  });
});
