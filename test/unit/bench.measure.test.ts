import { ProbeBook, unitsInFrame } from '../../scripts/bench/viewers';
import { expectedByCharity } from '../../scripts/bench/verify';
import type { OrderRec } from '../../scripts/bench/scenario';
import type { SeedProduct } from '../../scripts/bench/seed';

describe('bench payment-to-screen probes', () => {
  const frame = JSON.stringify({ type: 'totals', seq: 9, totals: { units: 50, byProduct: [{ productId: 'p_a', name: 'x', units: 40, donationFen: 1 }, { name: '探针 probe', units: 7, productId: 'p_probe', donationFen: 700 }] } });

  it('when a frame lists the probe product, then its units are read whatever the key order, without confusing other products', () => {
    expect(unitsInFrame(frame, 'p_probe')).toBe(7);
    expect(unitsInFrame(frame, 'p_a')).toBe(40);
    expect(unitsInFrame(frame, 'p_missing')).toBeNull();
  });

  it('when the frame arrives as bytes with multi-byte names, then the units are read from the bytes without decoding them', () => {
    const bytes = Buffer.from(JSON.stringify({ type: 'totals', seq: 3, totals: { byProduct: [{ productId: 'p_x', name: '恩施硒茶 礼盒', units: 12, donationFen: 5 }, { productId: 'p_probe', name: '探针', donationFen: 0, units: 305 }] } }));
    expect(unitsInFrame(bytes, 'p_probe')).toBe(305);
    expect(unitsInFrame(bytes, 'p_x')).toBe(12);
    expect(unitsInFrame(bytes, 'p_pro')).toBeNull();
  });

  it('when units jump past several probes, then each probe gets its own delay from its own payment time, in its own step', () => {
    const book = new ProbeBook();
    book.sent(0, 1000);
    book.sent(0, 1200);
    book.sent(1, 1400);
    book.seen(0, 2, 1500); // the first frame showing two probes
    book.seen(2, 3, 1450);
    expect(book.delays.get(0)).toEqual([500, 300]);
    expect(book.delays.get(1)).toEqual([50]);
  });

  it('when a probe payment failed and was withdrawn, then later probes keep exact thresholds', () => {
    const book = new ProbeBook();
    book.sent(0, 100);
    book.sent(0, 200);
    book.unsend();
    book.sent(0, 300);
    book.seen(0, 2, 400);
    expect(book.delays.get(0)).toEqual([300, 100]);
  });

  it('when frames show more units than probes sent, then nothing is invented', () => {
    const book = new ProbeBook();
    book.sent(0, 100);
    book.seen(0, 5, 150);
    expect(book.delays.get(0)).toEqual([50]);
  });
});

describe('bench expected ledger', () => {
  const products = [{ charityIdx: 0 }, { charityIdx: 1 }] as SeedProduct[];
  const rec = (id: string, product: number, state: OrderRec['state'], qty = 2): OrderRec => ({ id, product, qty, totalFen: 2990 * qty, pledgeFen: 300 * qty, step: 0, state, unsure: false });

  it('when orders are paid, refunded or left unpaid, then allocations count every paid one, reversals the refunded ones, and units/orders/sales are net', () => {
    const e = expectedByCharity([rec('a', 0, 'paid'), rec('b', 0, 'refunded', 1), rec('c', 0, 'reserved', 3), rec('d', 1, 'paid', 3)], products, 2);
    expect(e[0]).toEqual({ allocatedFen: 900, reversedFen: 300, units: 2, orders: 1, salesFen: 5980 });
    expect(e[1]).toEqual({ allocatedFen: 900, reversedFen: 0, units: 3, orders: 1, salesFen: 8970 });
  });
});
