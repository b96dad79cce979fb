import { Command } from 'commander';
import { DemoClient } from '../src/demo/demo-client';
import { seedDemo } from '../src/demo/seed-demo';
import { describeStats, runAudience } from '../src/demo/audience';

/**
 * `npm run demo -- --rate 50 [--url http://127.0.0.1:8080] [--seconds 60]`: seeds a demo stream on any
 * running instance through its HTTP API and runs a simulated audience against it. The operator token and
 * the payment secret come from LIVEGIVE_ADMIN_TOKEN and LIVEGIVE_PAYMENT_SECRET, as for the server.
 */
async function main(): Promise<void> {
  const o = new Command().name('demo')
    .option('--rate <n>', 'orders per second', '10')
    .option('--url <url>', 'base URL of a running instance', 'http://127.0.0.1:8080')
    .option('--seconds <n>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--viewers <n>', 'simulated buyers to sign up', '12')
    .parse().opts<{ rate: string; url: string; seconds?: string; viewers: string }>();
  const rate = Number(o.rate);
  const viewers = Number(o.viewers);
  const fail = (msg: string): never => { console.error(`demo: ${msg}`); process.exit(2); };
  if (!Number.isFinite(rate) || rate <= 0 || rate > 5000) fail('--rate must be a number of orders per second between 0 and 5000');
  if (!Number.isInteger(viewers) || viewers < 1 || viewers > 1000) fail('--viewers must be a whole number from 1 to 1000');
  if (o.seconds !== undefined && !(Number(o.seconds) > 0)) fail('--seconds must be a positive number');
  if (!/^https?:\/\/[^/]+$/.test(o.url.replace(/\/$/, ''))) fail('--url must look like http://host:port');
  const adminToken = process.env.LIVEGIVE_ADMIN_TOKEN ?? fail('set LIVEGIVE_ADMIN_TOKEN to the server\'s operator token');
  const paymentSecret = process.env.LIVEGIVE_PAYMENT_SECRET ?? fail('set LIVEGIVE_PAYMENT_SECRET to the server\'s payment secret');

  const api = new DemoClient(o.url.replace(/\/$/, ''));
  const world = await seedDemo(api, adminToken, { viewers });
  console.log(`overlay: ${world.overlayUrl}`);
  console.log(`totals:  ${api.baseUrl}/api/v1/streams/${world.streamId}/totals`);
  const audience = runAudience(api, world, { rate, paymentSecret });
  const progress = setInterval(() => console.log(describeStats(audience.stats)), 5000);
  const finish = async () => {
    clearInterval(progress);
    await audience.stop();
    console.log(`done: ${describeStats(audience.stats)}`);
    if (audience.stats.refused.RATE_LIMITED) console.log('hint: the server limits orders per address; run it with LIVEGIVE_RATE_LIMITS=off for rates above 2/s');
    process.exit(0);
  };
  process.on('SIGINT', () => void finish());
  process.on('SIGTERM', () => void finish());
  if (o.seconds) setTimeout(() => void finish(), Number(o.seconds) * 1000);
}

main().catch((err) => {
  console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
