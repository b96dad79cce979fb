import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type BrowserContext } from 'playwright-core';
import { PNG } from 'pngjs';
import { signPayment } from '../../src/orders';
import { DemoClient } from '../../src/demo/demo-client';
import { PAYMENT_SECRET } from './env';

/** Screenshots of the pages under test, for people to look at (git-ignored). */
export const artifacts = path.resolve(__dirname, '../artifacts');

/** Debian's Chromium through playwright-core, as the overlay test runs it: a fresh profile, nothing phoning home. */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  mkdirSync(artifacts, { recursive: true });
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'lg-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport,
  });
  return { context, close: async () => { await context.close(); rmSync(userDataDir, { recursive: true, force: true }); } };
}

/** A viewer's order placed and paid through the public API, as a phone and the payment provider would. */
export async function buyAndPay(url: string, viewerToken: string, streamId: string, productId: string, quantity: number, pay = true): Promise<{ id: string; totalFen: number }> {
  const client = new DemoClient(url);
  const order = await client.call<{ id: string; totalFen: number }>('POST', '/api/v1/orders', {
    token: viewerToken, headers: { 'Idempotency-Key': randomUUID() }, body: { streamId, productId, quantity },
  });
  if (!pay) return order;
  const raw = JSON.stringify({ orderId: order.id, paymentId: `pay-${randomUUID()}`, amountFen: order.totalFen, status: 'succeeded' });
  await client.call('POST', '/api/v1/payments/notify', { rawBody: raw, headers: { 'Livegive-Signature': signPayment(PAYMENT_SECRET, raw) } });
  return order;
}

/** Share of fully transparent pixels in a PNG, and the alpha at given points. */
export function transparency(png: Buffer, points: [number, number][]): { transparentShare: number; alphaAt: number[]; width: number; height: number } {
  const img = PNG.sync.read(png);
  let clear = 0;
  for (let i = 3; i < img.data.length; i += 4) if (img.data[i] === 0) clear++;
  const alphaAt = points.map(([x, y]) => img.data[(img.width * y + x) * 4 + 3]);
  return { transparentShare: clear / (img.width * img.height), alphaAt, width: img.width, height: img.height };
}
