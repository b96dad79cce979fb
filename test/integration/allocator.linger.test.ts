import { startService, type TestService } from '../helpers/app';
import { waitFor } from '../helpers/env';
import { EventWriter, newOrderId, orderEvent } from '../helpers/order-events';
import { totKey } from '../helpers/hot-keys';
import { donationOf, startAllocator } from '../../src/allocator';
import type { Stoppable } from '../../src/app';

const LINGER_MS = 4000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * LIVEGIVE_ALLOCATOR_LINGER_MS, made long here so its effect cannot hide in the allocator's own time: the wait comes
 * after a small batch, never before one.
 */
describe('allocator: the wait after a small batch', () => {
  let svc: TestService;
  let allocator: Stoppable;
  let writer: EventWriter;
  const c = 'cl1';
  const stream = 'sl1';
  const paid = (orderId: string) => orderEvent('order.paid', { orderId, charityId: c, streamId: stream, quantity: 1, pledgePerUnitFen: 100 });
  const allocated = (orderId: string) => async () => (await donationOf(svc.deps, orderId, c)).status === 'allocated';
  const screenSeq = async () => Number(await svc.deps.redis.hget(totKey(svc.deps, c, `tot:s:${stream}`), 'seq'));

  beforeAll(async () => {
    svc = await startService('api', { LIVEGIVE_ALLOCATOR_LINGER_MS: String(LINGER_MS) });
    allocator = await startAllocator(svc.deps);
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
    // the group has joined and allocated once; then a quiet spell longer than the wait
    const warm = newOrderId();
    await writer.send([paid(warm)]);
    await waitFor(allocated(warm), 'the warm-up payment allocated', 60_000);
    await sleep(LINGER_MS + 1000);
  }, 90_000);
  afterAll(async () => { await writer?.close(); await allocator?.stop(); await svc?.stop(); });

  it('when a payment comes after a quiet spell it is allocated at once; payments right after a batch wait for the wait to end and reach the screen as one update', async () => {
    const lone = newOrderId();
    const t0 = Date.now();
    await writer.send([paid(lone)]);
    await waitFor(allocated(lone), 'the lone payment allocated', 20_000, 20);
    expect(Date.now() - t0).toBeLessThan(LINGER_MS / 2);

    // its batch is done: the allocator now waits before fetching again, and what arrives meanwhile comes together
    const seq = await screenSeq();
    const [a, b] = [newOrderId(), newOrderId()];
    const t1 = Date.now();
    await writer.send([paid(a)]);
    await sleep(300);
    await writer.send([paid(b)]);
    await waitFor(async () => (await allocated(a)()) && (await allocated(b)()), 'both payments allocated', 20_000, 20);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(LINGER_MS / 2);
    expect(await screenSeq()).toBe(seq + 1);
    expect(Number(await svc.deps.redis.hget(totKey(svc.deps, c, `tot:s:${stream}`), 'donationFen'))).toBe(400);
  }, 60_000);
});

/**
 * LIVEGIVE_ALLOCATOR_CADENCE_MS, long here for the same reason (and no linger): small batches start at most once a
 * cadence, counted from the previous batch's start, so a batch meets a free frame slot of the feed.
 */
describe('allocator: small batches at most once a cadence', () => {
  const CADENCE_MS = 3000;
  let svc: TestService;
  let allocator: Stoppable;
  let writer: EventWriter;
  const c = 'cl2';
  const stream = 'sl2';
  const paid = (orderId: string) => orderEvent('order.paid', { orderId, charityId: c, streamId: stream, quantity: 1, pledgePerUnitFen: 100 });
  const allocated = (orderId: string) => async () => (await donationOf(svc.deps, orderId, c)).status === 'allocated';
  const screenSeq = async () => Number(await svc.deps.redis.hget(totKey(svc.deps, c, `tot:s:${stream}`), 'seq'));

  beforeAll(async () => {
    svc = await startService('api', { LIVEGIVE_ALLOCATOR_LINGER_MS: '0', LIVEGIVE_ALLOCATOR_CADENCE_MS: String(CADENCE_MS) });
    allocator = await startAllocator(svc.deps);
    writer = new EventWriter(svc.deps.config.kafka.topics.orderEvents);
    const warm = newOrderId();
    await writer.send([paid(warm)]);
    await waitFor(allocated(warm), 'the warm-up payment allocated', 60_000);
    await sleep(CADENCE_MS + 1000);
  }, 90_000);
  afterAll(async () => { await writer?.close(); await allocator?.stop(); await svc?.stop(); });

  it('when a payment comes after a quiet spell it is allocated at once; the next ones wait until a cadence after that batch began and come as one batch', async () => {
    const lone = newOrderId();
    const t0 = Date.now();
    await writer.send([paid(lone)]);
    await waitFor(allocated(lone), 'the lone payment allocated', 20_000, 20);
    expect(Date.now() - t0).toBeLessThan(CADENCE_MS / 2);

    const seq = await screenSeq();
    const [a, b] = [newOrderId(), newOrderId()];
    await writer.send([paid(a)]);
    await sleep(300);
    await writer.send([paid(b)]);
    await waitFor(async () => (await allocated(a)()) && (await allocated(b)()), 'both payments allocated', 20_000, 20);
    // the next batch began no sooner than a cadence after the lone payment's (which began after t0)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(CADENCE_MS);
    expect(await screenSeq()).toBe(seq + 1);
    expect(Number(await svc.deps.redis.hget(totKey(svc.deps, c, `tot:s:${stream}`), 'donationFen'))).toBe(400);
  }, 60_000);
});
