import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type BrowserContext, type Page, type WebSocketRoute } from 'playwright-core';
import { signPayment } from '../../src/orders';
import { DemoClient } from '../../src/demo/demo-client';
import { seedDemo, type DemoWorld } from '../../src/demo/seed-demo';
import { startService, type TestService } from '../helpers/app';
import { ADMIN_TOKEN, PAYMENT_SECRET, testEnv } from '../helpers/env';
import { freePort } from '../helpers/redis-server';

/**
 * The overlay in Debian's Chromium, as OBS's browser source would show it: a payment moves the total on
 * the page, and the page keeps working through an API restart (it reconnects and resumes with since).
 */

const artifacts = path.resolve(__dirname, '../artifacts');
let env: NodeJS.ProcessEnv;
let port: number;
let workers: TestService;
let api: TestService;
let world: DemoWorld;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const requested: string[] = [];
/** sockets whose server frames are swallowed: open to the page, but hearing nothing (a dropped network) */
const sockets: WebSocketRoute[] = [];
let muted = new Set<WebSocketRoute>();

async function buyAndPay(productIndex: number, quantity: number): Promise<void> {
  const client = new DemoClient(api.url);
  const order = await client.call<{ id: string; totalFen: number }>('POST', '/api/v1/orders', {
    token: world.viewers[0].token, headers: { 'Idempotency-Key': randomUUID() }, body: { streamId: world.streamId, productId: world.products[productIndex].id, quantity },
  });
  const raw = JSON.stringify({ orderId: order.id, paymentId: `pay-${randomUUID()}`, amountFen: order.totalFen, status: 'succeeded' });
  await client.call('POST', '/api/v1/payments/notify', { rawBody: raw, headers: { 'Livegive-Signature': signPayment(PAYMENT_SECRET, raw) } });
}

const text = (sel: string) => page.locator(sel).innerText();
const waitForText = (sel: string, want: string, timeout = 10000) =>
  page.waitForFunction(([s, w]) => document.querySelector(s)?.textContent === w, [sel, want] as const, { timeout });

beforeAll(async () => {
  mkdirSync(artifacts, { recursive: true });
  env = testEnv();
  port = await freePort();
  workers = await startService('workers', {}, env);
  api = await startService('api', { PORT: String(port) }, env);
  world = await seedDemo(new DemoClient(api.url), ADMIN_TOKEN, { viewers: 1 });
  userDataDir = mkdtempSync(path.join(os.tmpdir(), 'lg-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport: { width: 480, height: 420 },
  });
  page = await context.newPage();
  page.on('request', (r) => requested.push(r.url()));
  await page.routeWebSocket(/\/ws\/streams\//, (ws) => {
    const server = ws.connectToServer();
    sockets.push(ws);
    server.onMessage((m) => { if (!muted.has(ws)) ws.send(m); });
  });
}, 60000);

afterAll(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await api?.stop();
  await workers?.stop();
});

describe('overlay page in Chromium', () => {
  it('when an order is paid, then the page shows the new total formatted in yuan, the matching, units and a masked buyer in the ticker', async () => {
    await page.goto(`${api.url}/overlay/${world.streamId}`);
    await page.waitForSelector('body[data-state="live"]');
    await waitForText('#donation', '¥0.00');
    await waitForText('#charity', '赣州乡村振兴公益基金会、武汉市儿童助学慈善会'); // from the stream's products, before any sale

    await buyAndPay(0, 2); // 2 × ¥2.00 pledged, matched 1:1 by the sponsor
    await waitForText('#donation', '¥4.00');
    await waitForText('#matched', '¥4.00');
    expect(await text('#match-left')).toBe('¥996.00');
    expect(await text('#units')).toBe('2');
    expect(await text('#ticker')).toContain('张** 购买 2箱 赣南脐橙 5 kg，捐 ¥4.00');
    await page.waitForTimeout(1200); // let the count-up animation settle for the picture
    await page.screenshot({ path: path.join(artifacts, 'overlay.png') });
  }, 60000);

  it('when the API restarts, then the page reconnects, resumes and shows payments made after the restart', async () => {
    const seqBefore = Number(await page.getAttribute('body', 'data-seq'));
    await api.stop();
    await page.waitForSelector('body[data-state="retrying"]', { timeout: 10000 });
    api = await startService('api', { PORT: String(port) }, env);
    await buyAndPay(2, 250); // 250 × ¥5.00 to the second charity: ¥1,250.00 more
    await waitForText('#donation', '¥1,254.00', 20000);
    expect(await page.getAttribute('body', 'data-state')).toBe('live');
    expect(Number(await page.getAttribute('body', 'data-seq'))).toBeGreaterThan(seqBefore);
    expect(await text('#goal-pct')).toBe('25%'); // (¥1,254 + ¥4 matched) of ¥5,000
    await page.waitForTimeout(1200);
    await page.screenshot({ path: path.join(artifacts, 'overlay-after-restart.png') });
  }, 60000);

  it('when the socket silently stops delivering, then the page still shows a new payment within 20 s and moves to a fresh socket', async () => {
    muted = new Set(sockets);
    await buyAndPay(0, 1); // +¥2.00 pledged
    await waitForText('#donation', '¥1,256.00', 25000);
    await buyAndPay(0, 1);
    await waitForText('#donation', '¥1,258.00', 5000); // through the replacement socket, not the 15 s check
    expect(await page.getAttribute('body', 'data-state')).toBe('live');
  }, 60000);

  it('then the page made no request outside its own origin', () => {
    expect(requested.length).toBeGreaterThan(3);
    expect(requested.filter((u) => !u.startsWith(`http://127.0.0.1:${port}/`) && !u.startsWith(`ws://127.0.0.1:${port}/`))).toEqual([]);
  });
});
