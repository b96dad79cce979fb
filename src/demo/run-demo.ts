import type { Running } from '../main';

/** Seeds a demo stream and runs a simulated audience against this process. */
export async function runDemo(running: Running): Promise<void> {
  running.deps.logger.info({ port: running.port }, 'demo: not yet available');
}
