import { wechatBill, alipayBillZip, type TestBillRow } from '../helpers/providers';
import { parseWechatBill } from '../../src/payments/bills/wechatpay-bill';
import { parseAlipayBill } from '../../src/payments/bills/alipay-bill';
import { compareBill, reportCsv } from '../../src/payments/reconcile';
import { matchShareBack, entriesForEvent } from '../../src/allocator/allocate';
import type { OrderEvent } from '../../src/events';
import { donationStatusOf } from '../../src/statements/receipt.verify';

const rows: TestBillRow[] = [
  { kind: 'payment', orderId: 'o_a', ref: '4200001', fen: 4990, feeFen: 30, time: '2026-12-01 10:00:00' },
  { kind: 'payment', orderId: 'o_b', ref: '4200002', fen: 9980, feeFen: 60, time: '2026-12-01 11:00:00' },
  { kind: 'refund', orderId: 'o_b', ref: '4200002', fen: 4990, feeFen: -30, refundId: 'rf_1', time: '2026-12-01 12:00:00' },
];
const codeOf = (f: () => unknown) => { try { f(); return 'none'; } catch (e) { return (e as { code?: string }).code; } };

describe('provider bills', () => {
  it('when a WeChat Pay trade bill is parsed, then rows are fen and the summary was checked', () => {
    const b = parseWechatBill(wechatBill('1900000001', 'wx8888888888888888', rows));
    expect(b).toMatchObject({ provider: 'wechatpay', account: '1900000001', appid: 'wx8888888888888888' });
    expect(b.rows.map((r) => [r.kind, r.orderId, r.amountFen, r.feeFen, r.day])).toEqual([
      ['payment', 'o_a', 4990, 30, '2026-12-01'], ['payment', 'o_b', 9980, 60, '2026-12-01'], ['refund', 'o_b', 4990, -30, '2026-12-01']]);
    expect(b.rows[2].refundId).toBe('rf_1');
  });
  it('when a WeChat bill is broken, then it is refused as BAD_BILL', () => {
    expect(codeOf(() => parseWechatBill(wechatBill('1900000001', 'wx1', rows, (s) => { s[1] = '149.71'; })))).toBe('BAD_BILL');
    expect(codeOf(() => parseWechatBill(wechatBill('1900000001', 'wx1', rows, (s) => { s[0] = '4'; })))).toBe('BAD_BILL');
    expect(codeOf(() => parseWechatBill(Buffer.from('')))).toBe('BAD_BILL');
    expect(codeOf(() => parseWechatBill(wechatBill('1900000001', 'wx1', [])))).toBe('BAD_BILL');
    const text = wechatBill('1900000001', 'wx1', rows).toString('utf8');
    expect(codeOf(() => parseWechatBill(Buffer.from(text.split('\r\n').slice(0, -3).join('\r\n'))))).toBe('BAD_BILL'); // summary cut off
    expect(codeOf(() => parseWechatBill(Buffer.from(text.replace('`49.90', '`49.9'))))).toBe('BAD_BILL');
    expect(codeOf(() => parseWechatBill(Buffer.from(text.replace('`49.90', '`4.99e1'))))).toBe('BAD_BILL');
  });
  it('when an Alipay bill zip is parsed, then GBK, the # lines and trailing tabs are handled and the footer checked', () => {
    const b = parseAlipayBill(alipayBillZip('2088102177000000', '2026-12-01', rows));
    expect(b.account).toBe('2088102177000000');
    expect(b.rows.map((r) => [r.kind, r.orderId, r.providerRef, r.amountFen, r.refundId ?? null])).toEqual([
      ['payment', 'o_a', '4200001', 4990, null], ['payment', 'o_b', '4200002', 9980, null], ['refund', 'o_b', '4200002', 4990, 'rf_1']]);
  });
  it('when an Alipay zip is truncated or empty, then it is refused as BAD_BILL', () => {
    const zip = alipayBillZip('2088102177000000', '2026-12-01', rows);
    expect(codeOf(() => parseAlipayBill(zip.subarray(0, zip.length - 40)))).toBe('BAD_BILL');
    expect(codeOf(() => parseAlipayBill(Buffer.from('not a zip')))).toBe('BAD_BILL');
    expect(codeOf(() => parseAlipayBill(alipayBillZip('2088102177000000', '2026-12-01', [])))).toBe('BAD_BILL');
  });
  it('when a bill is compared, then each kind of difference is reported once, to the fen, and the CSV says whether the day balances', () => {
    const bill = parseWechatBill(wechatBill('1900000001', 'wx1', [...rows, { kind: 'payment', orderId: 'o_c', ref: '4200003', fen: 101, time: '2026-12-01 13:00:00' }]));
    const r = compareBill(bill, {
      payments: [{ orderId: 'o_b', providerRef: '4200002', amountFen: 9980, source: 'notification' }, { orderId: 'o_c', providerRef: '4200003', amountFen: 100, source: 'notification' },
        { orderId: 'o_d', providerRef: '4200004', amountFen: 500, source: 'notification' }],
      refunds: [],
    });
    expect(r.differences.map((d) => [d.kind, d.orderId, d.hereFen, d.thereFen, d.action])).toEqual([
      ['amount_mismatch', 'o_c', 100, 101, 'investigate'], ['paid_here_not_there', 'o_d', 500, 0, 'investigate'],
      ['paid_there_not_here', 'o_a', 0, 4990, 'apply'], ['refund_mismatch', 'o_b', 0, 4990, 'investigate']]);
    expect(r.summary).toMatchObject({ paidThereFen: 4990 + 9980 + 101, refundedThereFen: 4990, feeFen: 60, unresolved: 4 });
    const twice = compareBill(parseWechatBill(wechatBill('1900000001', 'wx1', [rows[0], { ...rows[0], ref: '4200009' }])), { payments: [{ orderId: 'o_a', providerRef: '4200001', amountFen: 4990, source: 'notification' }], refunds: [] });
    expect(twice.differences.map((d) => [d.kind, d.providerRef, d.action])).toEqual([['duplicate_charge', '4200009', 'refund_at_provider']]);
    const csv = reportCsv({ provider: 'wechatpay', date: '2026-12-01', balanced: false, ...r });
    expect(csv.split('\r\n')[0]).toBe('kind,order_id,provider_ref,here_fen,there_fen,action');
    expect(csv).toContain('NOT balanced');
  });
});

describe('partial reversal arithmetic', () => {
  it('when a match is given back over partial refunds, then every split sums to exactly what was taken', () => {
    for (const [taken, q] of [[499, 3], [1, 3], [1000, 7], [0, 2], [99_999, 10]]) {
      const oneByOne = Array.from({ length: q }, (_, i) => matchShareBack(taken, q, i, i + 1));
      expect(oneByOne.reduce((a, b) => a + b, 0)).toBe(taken);
      expect(oneByOne.every((x) => x >= 0 && Number.isInteger(x))).toBe(true);
      expect(matchShareBack(taken, q, 0, q)).toBe(taken);
    }
    expect([0, 1, 2].map((i) => matchShareBack(499, 3, i, i + 1))).toEqual([166, 166, 167]);
  });
  it('when a receipt\'s entries reverse some units, all of them, or none, then its status says so', () => {
    const alloc = { kind: 'allocation', amountFen: 999 } as const;
    expect(donationStatusOf([alloc, { kind: 'reversal', amountFen: -333 }])).toBe('partially_reversed');
    expect(donationStatusOf([alloc, { kind: 'reversal', amountFen: -333 }, { kind: 'match', amountFen: 499 }, { kind: 'reversal', amountFen: -666 }])).toBe('reversed');
    expect(donationStatusOf([alloc])).toBe('allocated');
    expect(donationStatusOf([])).toBe('pending');
  });
  it('when a refund event carries refundQuantity, then its reversal is exactly those units; without it, the whole order', () => {
    const e = { eventId: 'e1', type: 'order.refunded', occurredAt: '2026-12-01T00:00:00.000Z', orderId: 'o1', charityId: 'c1', streamId: 's1', productId: 'p1', hostId: 'h1',
      quantity: 3, unitPriceFen: 4990, pledgePerUnitFen: 333, totalFen: 14970, pledgeTotalFen: 999 } as OrderEvent;
    expect(entriesForEvent({ ...e, refundQuantity: 1, refundedQuantity: 1, refundNo: 1 }, [])[0]).toMatchObject({ kind: 'reversal', amountFen: -333, salesFen: -4990, quantity: -1 });
    expect(entriesForEvent(e, [])[0]).toMatchObject({ kind: 'reversal', amountFen: -999, salesFen: -14970, quantity: -3 });
  });
});
