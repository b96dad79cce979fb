import path from 'node:path';
import request from 'supertest';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { startService, admin, bearer, type TestService } from '../helpers/app';
import { artifacts, buyAndPay, launchChromium, transparency } from '../helpers/browser';
import { waitFor } from '../helpers/env';
import { newViewer, uscc } from '../helpers/fixtures';
import { confirmDue } from '../../src/allocator/totals.store';
import { insertAgreement } from '../helpers/agreements';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';

/**
 * Issue 15 on the screens, in Debian's Chromium against the real services: a host proposes a capped agreement in
 * its console, the charity accepts it in its own, sales fill the cap, the confirmed donations are remitted from the
 * host console and acknowledged (or disputed) from the charity console, and both consoles show the layers move;
 * the overlay shows "¥X / ¥cap" and "已达上限" only when asked (cap=on). A bad yuan amount is refused in the page
 * without a request; a viewer token opens neither console and cannot propose.
 */

let svc: TestService;
let browser: { context: BrowserContext; close(): Promise<void> };
let charity: { id: string; token: string };
let host: { id: string; token: string };
let viewer: { id: string; token: string };
let hostPage: Page;
let charityPage: Page;
let agreementId: string;
let streamId: string;
let productId: string;
const posts: string[] = [];
const requested: string[] = [];

const PER_UNIT = 250; // ¥2.50 a unit
const CAP = 1000; // ¥10.00

function track(page: Page): Page {
  page.on('request', (r: Request) => {
    requested.push(r.url());
    if (r.method() === 'POST') posts.push(new URL(r.url()).pathname);
  });
  return page;
}

async function open(pathname: string, token: string): Promise<Page> {
  const page = track(await browser.context.newPage());
  await page.goto(`${svc.url}${pathname}`);
  await page.getByLabel('访问令牌').fill(token);
  await page.getByRole('button', { name: '登录' }).click();
  return page;
}

/** The text of one layer cell (pledged, confirmed, remitted, acknowledged, overdue) of an agreement's row. */
const layer = (page: Page, which: string) => page.locator(`#agreements tr[data-agreement="${agreementId}"] td[data-layer="${which}"]`).innerText();
const waitLayer = (page: Page, which: string, text: string) => page.waitForFunction(([id, w, t]) =>
  document.querySelector(`#agreements tr[data-agreement="${id}"] td[data-layer="${w}"]`)?.textContent === t, [agreementId, which, text], { timeout: 20_000 });

/** The agreement's layers as the API answers them (the host's own list). */
async function apiLayers(id = agreementId) {
  const list = (await request(svc.url).get('/api/v1/agreements').set(bearer(host.token)).expect(200)).body.agreements as Record<string, number & string>[];
  return list.find((a) => a.id === id)!;
}

beforeAll(async () => {
  // a one-second refund window: paid donations become confirmed (and so remittable) at the next sweep
  svc = await startService('all', { LIVEGIVE_REFUND_WINDOW_SECONDS: '1' });
  charity = (await request(svc.url).post('/api/v1/charities').set(admin).send({ name: '床垫公益基金会', registrationNo: uscc() }).expect(201)).body;
  host = (await request(svc.url).post('/api/v1/hosts').set(admin).send({ name: '床垫主播老王' }).expect(201)).body;
  viewer = await newViewer(svc.url, '李四');
  browser = await launchChromium({ width: 1440, height: 1000 });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

describe('agreements and remittances in the consoles', () => {
  it('when the host types a bad yuan amount, then the page refuses it in words and sends nothing', async () => {
    hostPage = await open('/console/host', host.token);
    await hostPage.waitForSelector('body[data-signin="ok"]');
    await hostPage.waitForSelector('body[data-agreements="0"]');
    await hostPage.getByLabel('公益机构编号').fill(charity.id);
    for (const bad of ['1.234', '-1', '1e3', '¥', '0']) {
      await hostPage.getByLabel('每件捐赠 (¥)').fill(bad);
      await hostPage.evaluate(() => document.body.removeAttribute('data-propose'));
      await hostPage.getByRole('button', { name: '提出协议' }).click();
      await hostPage.waitForSelector('body[data-propose="refused"]');
      expect(await hostPage.locator('#propose-msg').innerText()).toContain('每件捐赠金额格式不对');
    }
    await hostPage.getByLabel('每件捐赠 (¥)').fill('2.50');
    for (const bad of ['10.001', '-5', '1e2']) {
      await hostPage.getByLabel('捐赠上限 (¥，可空)').fill(bad);
      await hostPage.evaluate(() => document.body.removeAttribute('data-propose'));
      await hostPage.getByRole('button', { name: '提出协议' }).click();
      await hostPage.waitForSelector('body[data-propose="refused"]');
      expect(await hostPage.locator('#propose-msg').innerText()).toContain('捐赠上限格式不对');
    }
    expect(posts.filter((p) => p === '/api/v1/agreements')).toEqual([]);
    expect((await request(svc.url).get('/api/v1/agreements').set(bearer(host.token)).expect(200)).body.agreements).toEqual([]);
  }, 60_000);

  it('when the host proposes a capped agreement, then it is listed awaiting the charity, and the charity accepts it in its console', async () => {
    await hostPage.getByLabel('捐赠上限 (¥，可空)').fill('10');
    await hostPage.getByLabel('达到上限后').selectOption('continue_without_donation');
    await hostPage.getByLabel('确认后几天内汇出').fill('7');
    // a Shanghai calendar day 30 days on (the first day is today there, filled in by the page)
    await hostPage.getByLabel('截止日（含）').fill(new Date(Date.now() + 8 * 3_600_000 + 30 * 86_400_000).toISOString().slice(0, 10));
    await hostPage.getByRole('button', { name: '提出协议' }).click();
    await hostPage.waitForFunction(() => /^ag_/.test(document.body.getAttribute('data-propose') ?? ''));
    agreementId = String(await hostPage.getAttribute('body', 'data-propose'));
    expect(posts.filter((p) => p === '/api/v1/agreements')).toHaveLength(1);
    const row = hostPage.locator(`#agreements tr[data-agreement="${agreementId}"]`);
    await row.waitFor();
    expect(await row.locator('.ag-status').innerText()).toBe('待机构答复');
    expect(await row.locator('.cap').innerText()).toBe('¥0.00 / ¥10.00');
    const stored = await apiLayers();
    expect(stored).toMatchObject({ perUnitFen: PER_UNIT, capFen: CAP, capUnits: null, onCap: 'continue_without_donation', remitWithinDays: 7, status: 'proposed', charityName: '床垫公益基金会' });
    // the days chosen are Shanghai days: the agreement starts at midnight there
    expect(new Date(stored.validFrom).getTime() % 86_400_000).toBe(16 * 3_600_000);

    charityPage = await open('/console/charity', charity.token);
    await charityPage.waitForSelector('body[data-signin="ok"]');
    const proposal = charityPage.locator(`#proposals tr[data-agreement="${agreementId}"]`);
    await proposal.waitFor();
    expect(await proposal.innerText()).toContain('床垫主播老王');
    expect(await proposal.innerText()).toContain('¥2.50/件');
    await proposal.getByRole('button', { name: '接受 床垫主播老王' }).click();
    await charityPage.waitForFunction(() => document.querySelector('#agreements-msg')?.textContent === '已接受协议。');
    await charityPage.waitForSelector(`#agreements tr[data-agreement="${agreementId}"][data-status="accepted"]`);
    expect(await charityPage.locator(`#proposals tr[data-agreement="${agreementId}"]`).count()).toBe(0);
    expect((await apiLayers()).status).toBe('accepted');
    await hostPage.waitForSelector(`#agreements tr[data-agreement="${agreementId}"][data-status="accepted"]`, { timeout: 10_000 });
    expect(await row.locator('.ag-status').innerText()).toBe('已生效');
  }, 60_000);

  it('when sales fill the cap, then both consoles show pledged and cap used, and the overlay shows ¥X / ¥cap and 已达上限 only with cap=on', async () => {
    productId = (await request(svc.url).post('/api/v1/products').set(bearer(host.token)).send({
      name: '乳胶床垫', origin: '湖北武汉', unit: '张', priceFen: 99_900, stock: 100, buyerLimit: 50, pledge: { charityId: charity.id, perUnitFen: PER_UNIT, agreementId },
    }).expect(201)).body.id;
    streamId = (await request(svc.url).post('/api/v1/streams').set(bearer(host.token)).send({ title: '床垫专场', goalFen: 100_000 }).expect(201)).body.id;
    await request(svc.url).put(`/api/v1/streams/${streamId}/products`).set(bearer(host.token)).send({ productIds: [productId] }).expect(200);
    await request(svc.url).post(`/api/v1/streams/${streamId}/start`).set(bearer(host.token)).expect(200);

    // products listed since sign-in appear among the form's choices once the form is started again
    await hostPage.getByLabel('公益机构编号').focus();
    await hostPage.waitForSelector(`#ag-products option[value="${productId}"]`, { state: 'attached', timeout: 10_000 });
    await hostPage.waitForSelector(`#ag-streams option[value="${streamId}"]`, { state: 'attached' });

    await buyAndPay(svc.url, viewer.token, streamId, productId, 3);
    await waitLayer(hostPage, 'pledged', '¥7.50');
    await waitLayer(charityPage, 'pledged', '¥7.50');
    expect(await hostPage.locator(`#agreements tr[data-agreement="${agreementId}"] .cap`).innerText()).toBe('¥7.50 / ¥10.00');

    const overlay = track(await browser.context.newPage());
    await overlay.setViewportSize({ width: 1280, height: 720 });
    await overlay.goto(`${svc.url}/overlay/${streamId}?cap=on`);
    await overlay.waitForSelector('body[data-caps="1"]', { timeout: 15_000, state: 'attached' });
    expect(await overlay.locator(`.cap[data-agreement="${agreementId}"] .cap-amt`).innerText()).toBe('¥7.50 / ¥10.00');
    expect(await overlay.locator('.cap-reached').isVisible()).toBe(false);

    // the last order gets what is left of the cap: 2 units would give ¥5.00, the cap leaves ¥2.50
    await buyAndPay(svc.url, viewer.token, streamId, productId, 2);
    await waitLayer(hostPage, 'pledged', '¥10.00');
    expect(await hostPage.locator(`#agreements tr[data-agreement="${agreementId}"] .cap`).innerText()).toBe('¥10.00 / ¥10.00 · 已达上限');
    await overlay.waitForSelector(`.cap[data-agreement="${agreementId}"][data-reached="1"]`, { timeout: 15_000 });
    expect(await overlay.locator('.cap-amt').innerText()).toBe('¥10.00 / ¥10.00');
    expect(await overlay.locator('.cap-reached').innerText()).toBe('已达上限');
    expect(await overlay.locator('.cap-reached').isVisible()).toBe(true);
    // the bar under the figure is full once the cap is reached
    const [fill, lane] = await Promise.all([overlay.locator('.cap-fill').boundingBox(), overlay.locator('.cap-track').boundingBox()]);
    expect(Math.round(fill!.width)).toBe(Math.round(lane!.width));
    await overlay.waitForTimeout(800);
    const shot = await overlay.screenshot({ path: path.join(artifacts, 'overlay-cap-card-1280x720.png'), omitBackground: true });
    // still a transparent browser source: the corner far from the card is clear
    const t = transparency(shot, [[1270, 710]]);
    expect(t.alphaAt).toEqual([0]);
    expect(t.transparentShare).toBeGreaterThan(0.5);
    await overlay.goto(`${svc.url}/overlay/${streamId}?cap=on&layout=bar`);
    await overlay.waitForSelector('body[data-caps="1"]', { timeout: 15_000, state: 'attached' });
    await overlay.waitForTimeout(800);
    await overlay.screenshot({ path: path.join(artifacts, 'overlay-cap-bar-1280x720.png'), omitBackground: true });

    // without the option the overlay is as before: no cap line, no request for the agreements
    const asked: string[] = [];
    overlay.on('request', (r) => asked.push(r.url()));
    await overlay.goto(`${svc.url}/overlay/${streamId}`);
    await overlay.waitForSelector('body[data-state="live"]', { state: 'attached' });
    await overlay.waitForFunction(() => document.querySelector('#donation')?.textContent === '¥10.00', undefined, { timeout: 10_000 });
    await overlay.waitForTimeout(500);
    expect(await overlay.locator('#caps').isHidden()).toBe(true);
    expect(await overlay.getAttribute('body', 'data-caps')).toBeNull();
    expect(asked.some((u) => u.includes('/api/v1/streams/'))).toBe(true);
    expect(asked.filter((u) => u.includes('/agreements'))).toEqual([]);
    await overlay.close();
  }, 90_000);

  it('when the donations are confirmed, the host records a remittance (a too-large one refused in words) and the charity acknowledges it, then both consoles show the layers move', async () => {
    await waitFor(async () => { await confirmDue(svc.deps); return (await apiLayers()).confirmedFen === CAP; }, 'the confirmed layer', 30_000);
    await waitLayer(hostPage, 'confirmed', '¥10.00');
    await waitLayer(charityPage, 'confirmed', '¥10.00');

    // bad amounts never leave the page
    const sent = () => posts.filter((p) => p === '/api/v1/remittances').length;
    expect(await hostPage.getByLabel('协议', { exact: true }).inputValue()).toBe(agreementId);
    await hostPage.getByLabel('银行或支付流水号').fill('ICBC 20261202-0001');
    for (const bad of ['1.234', '-1', '1e3']) {
      await hostPage.getByLabel('金额 (¥)', { exact: true }).fill(bad);
      await hostPage.evaluate(() => document.body.removeAttribute('data-remit'));
      await hostPage.getByRole('button', { name: '登记汇款' }).click();
      await hostPage.waitForSelector('body[data-remit="refused"]');
      expect(await hostPage.locator('#remit-msg').innerText()).toContain('汇款金额格式不对');
    }
    expect(sent()).toBe(0);

    // more than confirmed and unremitted: the server refuses, the page says so in words
    await hostPage.getByLabel('金额 (¥)', { exact: true }).fill('100');
    await hostPage.getByRole('button', { name: '登记汇款' }).click();
    await hostPage.waitForSelector('body[data-remit="error"]');
    expect(await hostPage.locator('#remit-msg').innerText()).toBe('汇款金额超过该协议已确认且尚未汇出的善款：目前最多可汇 ¥10.00。 (REMITTANCE_EXCEEDS_UNREMITTED)');
    expect(sent()).toBe(1);
    expect((await apiLayers()).remittedFen).toBe(0);

    await hostPage.getByLabel('金额 (¥)', { exact: true }).fill('6.00');
    await hostPage.getByRole('button', { name: '登记汇款' }).click();
    await hostPage.waitForFunction(() => /^rm_/.test(document.body.getAttribute('data-remit') ?? ''));
    const remittanceId = String(await hostPage.getAttribute('body', 'data-remit'));
    expect(await hostPage.locator('#remit-msg').innerText()).toBe('已登记汇款 ¥6.00，等待公益机构确认。');
    await waitLayer(hostPage, 'remitted', '¥6.00');
    await waitLayer(charityPage, 'remitted', '¥6.00');
    expect(await layer(hostPage, 'acknowledged')).toBe('¥0.00');
    await hostPage.waitForSelector(`#remittances tr[data-remittance="${remittanceId}"][data-status="sent"]`, { timeout: 15_000 });

    const received = charityPage.locator(`#remittances tr[data-remittance="${remittanceId}"]`);
    await received.waitFor({ timeout: 15_000 });
    expect(await received.innerText()).toContain('ICBC 20261202-0001');
    await received.getByRole('button', { name: '确认收款 床垫主播老王 ¥6.00' }).click();
    await charityPage.waitForFunction(() => document.querySelector('#remittances-msg')?.textContent === '已确认收款。');
    await waitLayer(charityPage, 'acknowledged', '¥6.00');
    await waitLayer(hostPage, 'acknowledged', '¥6.00');
    await hostPage.waitForSelector(`#remittances tr[data-remittance="${remittanceId}"][data-status="acknowledged"]`, { timeout: 15_000 });
    expect(await charityPage.locator('#l-acknowledged').innerText()).toBe('¥6.00');
    expect(await layer(charityPage, 'overdue')).toBe('¥0.00'); // due within 7 days: nothing overdue yet
    expect(await apiLayers()).toMatchObject({ pledgedFen: 1000, confirmedFen: 1000, remittedFen: 600, acknowledgedFen: 600, overdueFen: 0 });
  }, 90_000);

  it('when the charity disputes a second remittance with a reason, then the host sees the dispute and its reason', async () => {
    await hostPage.getByLabel('金额 (¥)', { exact: true }).fill('1.50');
    await hostPage.getByLabel('银行或支付流水号').fill('ICBC 20261202-0002');
    await hostPage.getByRole('button', { name: '登记汇款' }).click();
    await hostPage.waitForFunction(() => document.querySelector('#remit-msg')?.textContent === '已登记汇款 ¥1.50，等待公益机构确认。');
    const remittanceId = String(await hostPage.getAttribute('body', 'data-remit'));
    const row = charityPage.locator(`#remittances tr[data-remittance="${remittanceId}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.getByRole('button', { name: '提出异议 床垫主播老王 ¥1.50' }).click();
    // an empty reason stops at the page
    const before = posts.length;
    await row.getByRole('button', { name: '提交异议' }).click();
    expect(await charityPage.locator('#remittances-msg').innerText()).toBe('请写明异议理由。');
    expect(posts.length).toBe(before);
    await row.getByLabel('异议理由').fill('未到账');
    await row.getByRole('button', { name: '提交异议' }).click();
    await charityPage.waitForFunction(() => document.querySelector('#remittances-msg')?.textContent === '已提出异议。');
    await hostPage.waitForSelector(`#remittances tr[data-remittance="${remittanceId}"][data-status="disputed"]`, { timeout: 15_000 });
    expect(await hostPage.locator(`#remittances tr[data-remittance="${remittanceId}"] .rm-status`).innerText()).toMatch(/^机构有异议：未到账 · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    await waitLayer(hostPage, 'remitted', '¥7.50');
    expect(await layer(hostPage, 'acknowledged')).toBe('¥6.00');
    await hostPage.waitForTimeout(500);
    await hostPage.locator('#agreements-panel').screenshot({ path: path.join(artifacts, 'console-host-agreements.png') });
    await charityPage.locator('#agreements-panel').screenshot({ path: path.join(artifacts, 'console-charity-agreements.png') });
  }, 60_000);

  it('when the charity suspends the agreement, then a confirm step comes first and the host sees it suspended', async () => {
    const row = charityPage.locator(`#agreements tr[data-agreement="${agreementId}"]`);
    const click = (name: string) => row.getByRole('button', { name, exact: true }).click({ timeout: 10_000 });
    await click('暂停 床垫主播老王');
    await row.locator('.confirm').waitFor({ timeout: 5_000 });
    expect(await row.innerText()).toContain('确定暂停？');
    await click('取消');
    await row.locator('.confirm').waitFor({ state: 'detached', timeout: 5_000 });
    expect((await apiLayers()).status).toBe('accepted');
    await click('暂停 床垫主播老王');
    await click('确定暂停 床垫主播老王');
    await charityPage.waitForFunction(() => document.querySelector('#agreements-msg')?.textContent === '已暂停协议。', undefined, { timeout: 10_000 });
    expect((await apiLayers()).status).toBe('suspended');
    await hostPage.waitForSelector(`#agreements tr[data-agreement="${agreementId}"][data-status="suspended"]`, { timeout: 10_000 });
  }, 60_000);

  it('when confirmed donations pass the agreement\'s due date unremitted, then both consoles mark the overdue amount', async () => {
    // an agreement due within 1 day and an order paid 20 days ago under it (as the remittances test seeds them)
    const late = await insertAgreement(svc.deps, { hostId: host.id, charityId: charity.id, perUnitFen: 300, remitWithinDays: 1 });
    const writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
    try {
      const spec = { orderId: newOrderId(), charityId: charity.id, streamId: 's_overdue', hostId: host.id, quantity: 2, pledgePerUnitFen: 300 };
      await writer.send([{ ...orderEvent('order.paid', spec, new Date(Date.now() - 20 * 86_400_000)), agreementId: late._id }]);
    } finally { await writer.close(); }
    await waitFor(async () => { await confirmDue(svc.deps); return (await apiLayers(late._id))?.overdueFen === 600; }, 'the overdue amount', 30_000);
    const cellOf = (id: string) => `#agreements tr[data-agreement="${id}"] td[data-layer="overdue"]`;
    for (const page of [hostPage, charityPage]) {
      await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === '⚠ ¥6.00', cellOf(late._id), { timeout: 15_000 });
      expect(await page.locator(cellOf(late._id)).getAttribute('class')).toContain('overdue');
      // the first agreement is due within 7 days: nothing overdue, nothing marked
      expect(await page.locator(cellOf(agreementId)).getAttribute('class')).not.toContain('overdue');
    }
    expect(await charityPage.locator('#l-overdue').innerText()).toBe('¥6.00');
    expect(await charityPage.locator('#l-overdue').evaluate((e) => e.parentElement!.classList.contains('overdue'))).toBe(true);
    await charityPage.locator('#agreements-panel').screenshot({ path: path.join(artifacts, 'console-charity-overdue.png') });
  }, 60_000);

  it('when a viewer token is used, then neither console opens and the API refuses a proposal', async () => {
    for (const pathname of ['/console/host', '/console/charity']) {
      const page = await open(pathname, viewer.token);
      await page.waitForSelector('body[data-signin="refused"]');
      expect(await page.locator('#agreements-panel').isHidden()).toBe(true);
      expect(await page.locator('#agreements tr').count()).toBe(0);
      await page.close();
    }
    await request(svc.url).post('/api/v1/agreements').set(bearer(viewer.token)).send({ charityId: charity.id, perUnitFen: 100, onCap: 'stop_selling', validFrom: new Date().toISOString(), validTo: new Date(Date.now() + 86_400_000).toISOString(), remitWithinDays: 3 }).expect(403);
    expect((await request(svc.url).get('/api/v1/agreements').set(bearer(host.token)).expect(200)).body.agreements).toHaveLength(2);
  }, 30_000);

  it('then no page asked anything of another origin and no token appeared in any URL', () => {
    expect(requested.filter((u) => !u.startsWith(`${svc.url}/`) && !u.startsWith(svc.url.replace('http', 'ws') + '/') && !u.startsWith('blob:'))).toEqual([]);
    expect(requested.filter((u) => /lg_(host|charity|viewer)_|test-admin-token/.test(u))).toEqual([]);
  });
});
