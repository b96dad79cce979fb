import type { Running } from '../main';
import { DemoClient } from './demo-client';
import { seedDemo } from './seed-demo';
import { describeStats, runAudience } from './audience';

/** Seeds a demo stream and runs a simulated audience against this process, printing the overlay URL. */
export async function runDemo(running: Running): Promise<void> {
  const { config, logger } = running.deps;
  const api = new DemoClient(`http://127.0.0.1:${running.port}`);
  // with rate limits on, one address may place 120 orders a minute: stay under it
  const rate = config.rateLimits.enabled ? 1.5 : 5;
  const world = await seedDemo(api, config.auth.adminToken);
  const audience = runAudience(api, world, { rate, paymentSecret: config.auth.paymentSecret });
  // printed for the person at the terminal (never logged): the demo's own principals, and the operator's
  // token and payment secret only when npm start generated them (lg_demo_…), never ones the operator chose
  const lines = [
    `livegive demo: a live stream with a simulated audience buying ${rate} orders/s`,
    `API:      ${api.baseUrl}  (OpenAPI: ${api.baseUrl}/api/v1/openapi.json)`,
    `overlay:  ${world.overlayUrl}  (add it to OBS as a browser source)`,
    `totals:   ${api.baseUrl}/api/v1/streams/${world.streamId}/totals`,
    ...world.charities.map((c) => `charity:  ${c.name}  ${api.baseUrl}/charities/${c.id}  token ${c.token}`),
    `host token: ${world.hostToken}`,
    ...(config.auth.adminToken.startsWith('lg_demo_') ? [`operator token: ${config.auth.adminToken}`] : []),
    ...(config.auth.paymentSecret.startsWith('lg_demo_') ? [`payment secret: ${config.auth.paymentSecret}  (for npm run demo against this instance)`] : []),
  ];
  console.log(`\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  const progress = setInterval(() => logger.info({ streamId: world.streamId }, `demo: ${describeStats(audience.stats)}`), 10_000);
  progress.unref();
  const stop = running.stop;
  running.stop = async () => {
    clearInterval(progress);
    await audience.stop();
    await stop();
  };
}
