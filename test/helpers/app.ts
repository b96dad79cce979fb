import { start, Running } from '../../src/main';
import { testEnv, ADMIN_TOKEN } from './env';

export interface TestService extends Running { url: string; env: NodeJS.ProcessEnv }

/** Runs the service in-process on port 0 against the real stack, in a namespace of its own. */
export async function startService(role: 'all' | 'api' | 'workers' = 'all', overrides: Record<string, string> = {}, env?: NodeJS.ProcessEnv): Promise<TestService> {
  const e = env ?? testEnv(overrides);
  const running = await start(role, { ...e, ...overrides });
  return Object.assign(running, { url: `http://127.0.0.1:${running.port ?? 0}`, env: e });
}

export const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };
export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
