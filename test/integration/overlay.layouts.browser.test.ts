import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { DemoClient } from '../../src/demo/demo-client';
import { seedDemo, type DemoWorld } from '../../src/demo/seed-demo';
import { startService, type TestService } from '../helpers/app';
import { artifacts, buyAndPay, launchChromium, transparency } from '../helpers/browser';
import { ADMIN_TOKEN } from '../helpers/env';

/**
 * The overlay as OBS shows it, in Debian's Chromium: each layout at 1920×1080 and 1280×720 on a transparent
 * page, settings from the query string, alerts with masked names (none under the minimum), test alerts,
 * a visible reconnecting state, a reload that starts from the snapshot, and nothing asked of another origin.
 */

let svc: TestService;
let world: DemoWorld;
let browser: { context: BrowserContext; close(): Promise<void> };
const requested: string[] = [];
let refuseSockets = false;
const sockets: WebSocketRoute[] = [];

async function open(query: string, viewport = { width: 1920, height: 1080 }): Promise<Page> {
  const page = await browser.context.newPage();
  await page.setViewportSize(viewport);
  page.on('request', (r) => requested.push(r.url()));
  await page.routeWebSocket(/\/ws\/streams\//, (ws) => {
    if (refuseSockets) { ws.close({ code: 1011, reason: 'test: server away' }); return; }
    sockets.push(ws);
    const server = ws.connectToServer();
    server.onMessage((m) => ws.send(m));
  });
  await page.goto(`${svc.url}/overlay/${world.streamId}${query}`);
  await page.waitForSelector('body[data-state="live"]', { state: 'attached' });
  // "live" means the socket opened; the totals arrive with the snapshot frame just after (data-seq leaves -1)
  await firstFrame(page);
  return page;
}

const firstFrame = (page: Page) => page.waitForFunction(() => Number(document.body.getAttribute('data-seq')) >= 0, undefined, { timeout: 10_000 });

const text = (page: Page, sel: string) => page.locator(sel).innerText();

beforeAll(async () => {
  svc = await startService('all');
  world = await seedDemo(new DemoClient(svc.url), ADMIN_TOKEN, { viewers: 2 });
  browser = await launchChromium({ width: 1920, height: 1080 });
  const first = await open('');
  await buyAndPay(svc.url, world.viewers[0].token, world.streamId, world.products[0].id, 2); // ¥4.00, matched 1:1
  await buyAndPay(svc.url, world.viewers[1].token, world.streamId, world.products[2].id, 100); // ¥500.00 to the second charity
  await first.waitForFunction(() => document.querySelector('#donation')?.textContent === '¥504.00', undefined, { timeout: 20_000 });
  await first.close();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

describe('overlay layouts', () => {
  const sizes = [{ width: 1920, height: 1080 }, { width: 1280, height: 720 }];
  const widths: Record<string, number[]> = {};

  for (const layout of ['card', 'bar', 'compact']) {
    for (const size of sizes) {
      it(`when OBS loads layout=${layout} at ${size.width}×${size.height}, then the page is transparent around the overlay, which fits and shows the totals`, async () => {
        const page = await open(`?layout=${layout}`, size);
        await page.waitForFunction(() => document.querySelector('#donation')?.textContent === '¥504.00');
        await page.waitForTimeout(1200); // animations settle for the picture
        const png = await page.screenshot({ omitBackground: true });
        writeFileSync(path.join(artifacts, `overlay-${layout}-${size.width}x${size.height}.png`), png);
        const t = transparency(png, [[0, 0], [size.width - 1, size.height - 1], [Math.floor(size.width / 2), Math.floor(size.height / 2)]]);
        expect([t.width, t.height]).toEqual([size.width, size.height]);
        expect(t.alphaAt).toEqual([0, 0, 0]); // corners and the middle of the picture stay see-through
        expect(t.transparentShare).toBeGreaterThan(layout === 'bar' ? 0.6 : 0.75);
        expect(await page.evaluate(() => [getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).backgroundColor])).toEqual(['rgba(0, 0, 0, 0)', 'rgba(0, 0, 0, 0)']);
        const box = (await page.locator('.card').boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(size.width);
        expect(box.y + box.height).toBeLessThanOrEqual(size.height);
        (widths[layout] ??= []).push(box.width);
        expect(await page.locator('#donation').isVisible()).toBe(true);
        expect(await page.locator('#goal-bar').isVisible()).toBe(true);
        await page.close();
      }, 30_000);
    }
    it(`then layout=${layout} takes the same share of the picture at both sizes`, () => {
      expect(widths[layout][0] / widths[layout][1]).toBeCloseTo(1.5, 1);
    });
  }

  it('when the settings ask for English, a light theme, an accent colour, one charity and no ticker, then the page follows them', async () => {
    const page = await open(`?lang=en&theme=light&accent=1e88e5&ticker=off&charity=${world.charities[1].id}`);
    await page.waitForFunction(() => document.querySelector('#donation')?.textContent === '¥500.00');
    expect(await text(page, '#charity')).toBe('武汉市儿童助学慈善会');
    await page.waitForFunction(() => document.querySelector('#units')?.textContent === '100'); // its rice only, not the oranges
    expect(await page.locator('#orders').isHidden()).toBe(true); // orders are counted per stream, not per charity
    expect(await page.locator('.total .label').innerText()).toBe('Raised');
    expect(await page.locator('#ticker').isHidden()).toBe(true);
    expect(await page.evaluate(() => getComputedStyle(document.querySelector('.badge')!).backgroundColor)).toBe('rgb(30, 136, 229)');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(artifacts, 'overlay-card-light-en.png'), omitBackground: true });
    await page.close();
  }, 30_000);

  it('when the goal passes a milestone, then its mark lights up and the bar reports the share', async () => {
    const page = await open('');
    // (¥504 + ¥4 matched) of ¥5,000 = 10%: no milestone yet
    expect(await page.locator('.mark.reached').count()).toBe(0);
    await buyAndPay(svc.url, world.viewers[1].token, world.streamId, world.products[2].id, 200); // +¥1,000 → 30%
    await page.waitForSelector('.mark[data-pct="25"].reached', { timeout: 20_000 });
    expect(await page.locator('.mark.reached').count()).toBe(1);
    expect(await page.getAttribute('#bar', 'aria-valuenow')).toBe('30');
    await page.waitForSelector('.alert.milestone', { timeout: 5000 });
    expect(await text(page, '.alert.milestone')).toBe('达成目标 25%！');
    await page.close();
  }, 40_000);

  it('when a donation arrives, then a short alert shows the masked buyer, and no name below the minimum', async () => {
    const named = await open('');
    const anonymous = await open('?nameMin=100'); // ¥100: the ¥2.00 gift below it shows no name
    await buyAndPay(svc.url, world.viewers[0].token, world.streamId, world.products[0].id, 1);
    // both pages see the same payment at once; each alert lasts about 4 s
    await Promise.all([named, anonymous].map((page) => page.waitForSelector('.alert:not(.milestone)', { timeout: 20_000 })));
    for (const [page, who] of [[named, '张**'], [anonymous, '一位爱心观众']] as const) {
      expect(await text(page, '.alert .who')).toBe(who);
      expect(await text(page, '.alert .amt')).toBe('¥2.00');
    }
    await Promise.all([named, anonymous].map((page) => page.waitForSelector('.alert:not(.milestone)', { state: 'detached', timeout: 6000 })));
    expect(await text(anonymous, '#ticker')).not.toContain('张**');
    await named.close();
    await anonymous.close();
  }, 60_000);

  it('when test mode is on, then sample alerts show, marked as tests, and the totals stay the real ones', async () => {
    const page = await open('?test=1&nameMin=10&layout=bar');
    await page.waitForSelector('.alert.test', { timeout: 5000 });
    expect(await text(page, '.alert.test .tag')).toBe('测试');
    const real = await new DemoClient(svc.url).call<{ donationFen: number }>('GET', `/api/v1/streams/${world.streamId}/totals`);
    expect(await page.locator('#donation').getAttribute('data-fen')).toBe(String(real.donationFen));
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(artifacts, 'overlay-bar-test-alert-1920x1080.png'), omitBackground: true });
    await page.close();
  }, 30_000);

  it('when the server goes away, then the page shows it is reconnecting, and is live again when it returns', async () => {
    const page = await open('');
    expect(await page.locator('#reconnecting').isVisible()).toBe(false);
    refuseSockets = true; // every socket is cut and new ones are refused, as when the API is down
    for (const ws of sockets.splice(0)) await ws.close({ code: 1012, reason: 'test: server restarting' });
    await page.waitForSelector('body[data-state="retrying"]', { timeout: 10_000, state: 'attached' });
    expect(await page.locator('#reconnecting').isVisible()).toBe(true);
    expect(await text(page, '#reconnecting')).toBe('重新连接中…');
    await page.screenshot({ path: path.join(artifacts, 'overlay-card-reconnecting.png'), omitBackground: true });
    refuseSockets = false;
    await page.waitForSelector('body[data-state="live"]', { timeout: 20_000, state: 'attached' });
    expect(await page.locator('#reconnecting').isVisible()).toBe(false);
    await page.close();
  }, 40_000);

  it('when OBS reloads the page, then it starts from the snapshot at once, without replaying old alerts', async () => {
    const page = await open('');
    const real = await new DemoClient(svc.url).call<{ donationFen: number }>('GET', `/api/v1/streams/${world.streamId}/totals`);
    const total = await page.locator('#donation').getAttribute('data-fen');
    expect(total).toBe(String(real.donationFen));
    await page.reload();
    await page.waitForSelector('body[data-state="live"]', { state: 'attached' });
    await page.waitForFunction((fen) => document.querySelector('#donation')?.getAttribute('data-fen') === fen, total, { timeout: 5000 });
    expect(Number(await page.getAttribute('body', 'data-seq'))).toBeGreaterThan(0);
    await page.waitForTimeout(1000);
    expect(await page.locator('.alert').count()).toBe(0);
    expect(await page.locator('#ticker li').count()).toBeGreaterThan(0);
    await page.close();
  }, 30_000);

  it('then no page asked anything of another origin', () => {
    expect(requested.length).toBeGreaterThan(30);
    expect(requested.filter((u) => !u.startsWith(`${svc.url}/`) && !u.startsWith(svc.url.replace('http', 'ws') + '/'))).toEqual([]);
  });
});
