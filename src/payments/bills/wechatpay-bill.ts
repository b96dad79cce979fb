import { parse } from 'csv-parse/sync';
import { yuanToFen } from '../yuan';
import { badBill, type Bill, type BillRow } from './bill.types';

/** The trade bill's columns (GET /v3/bill/tradebill, bill_type ALL), in order. */
export const WECHAT_BILL_HEADER = ['交易时间', '公众账号ID', '商户号', '特约商户号', '设备号', '微信订单号', '商户订单号', '用户标识', '交易类型', '交易状态', '付款银行', '货币种类',
  '应结订单金额', '代金券金额', '微信退款单号', '商户退款单号', '退款金额', '充值券退款金额', '退款类型', '退款状态', '商品名称', '商户数据包', '手续费', '费率', '订单金额', '申请退款金额', '费率备注'];
export const WECHAT_SUMMARY_HEADER = ['总交易单数', '应结订单总金额', '退款总金额', '充值券退款总金额', '手续费总金额', '订单总金额', '申请退款总金额'];

const col = (name: string) => WECHAT_BILL_HEADER.indexOf(name);
const unquote = (cell: string, where: string) => {
  if (!cell.startsWith('`')) throw badBill(`${where}: every field of a WeChat Pay bill starts with a backtick`);
  return cell.slice(1);
};

/**
 * Parses a WeChat Pay trade bill (CSV, UTF-8, every field prefixed with a backtick, yuan with two decimals)
 * and checks its summary (the last two lines) against the detail rows: the row count and each total must
 * agree to the fen (总交易单数 counts every detail row; 应结订单总金额 and 订单总金额 sum the SUCCESS rows;
 * 退款总金额 and 申请退款总金额 the REFUND rows; 手续费总金额 every row). Throws BAD_BILL otherwise.
 */
export function parseWechatBill(file: Buffer): Bill {
  let records: string[][];
  try {
    records = parse(file.toString('utf8'), { bom: true, relax_column_count: true, skip_empty_lines: true, trim: false });
  } catch (err) {
    throw badBill(`not a CSV file: ${(err as Error).message.slice(0, 120)}`);
  }
  if (records.length < 4) throw badBill('empty bill: a header, at least one row and the two summary lines are expected');
  if (records[0].join(',') !== WECHAT_BILL_HEADER.join(',')) throw badBill('not a WeChat Pay trade bill: the header differs');
  const sumHead = records[records.length - 2];
  if (sumHead.join(',') !== WECHAT_SUMMARY_HEADER.join(',')) throw badBill('the summary header is missing (truncated bill?)');
  const sums = records[records.length - 1].map((c, i) => unquote(c, `summary ${WECHAT_SUMMARY_HEADER[i]}`));
  const detail = records.slice(1, -2);
  const rows: BillRow[] = [];
  const totals = { count: detail.length, settle: 0, refund: 0, voucherRefund: 0, fee: 0, order: 0, refundApplied: 0 };
  let account = '';
  let appid = '';
  detail.forEach((raw, i) => {
    const where = `row ${i + 2}`;
    if (raw.length !== WECHAT_BILL_HEADER.length) throw badBill(`${where}: ${raw.length} fields, ${WECHAT_BILL_HEADER.length} expected`);
    const r = raw.map((c) => unquote(c, where));
    const money = (name: string) => {
      const f = yuanToFen(r[col(name)]);
      if (f === null) throw badBill(`${where}: ${name} "${r[col(name)].slice(0, 20)}" is not yuan with two decimals`);
      return f;
    };
    if (!account) { account = r[col('商户号')]; appid = r[col('公众账号ID')]; }
    if (r[col('商户号')] !== account || r[col('公众账号ID')] !== appid) throw badBill(`${where}: the bill mixes merchants`);
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(r[col('交易时间')])) throw badBill(`${where}: 交易时间 is not "YYYY-MM-DD hh:mm:ss"`);
    const state = r[col('交易状态')];
    const fee = money('手续费');
    totals.fee += fee;
    totals.voucherRefund += money('充值券退款金额');
    const base = { orderId: r[col('商户订单号')], providerRef: r[col('微信订单号')], feeFen: fee, day: r[col('交易时间')].slice(0, 10) };
    if (state === 'SUCCESS') {
      totals.settle += money('应结订单金额');
      totals.order += money('订单金额');
      rows.push({ ...base, kind: 'payment', amountFen: money('订单金额') });
    } else if (state === 'REFUND') {
      totals.refund += money('退款金额');
      totals.refundApplied += money('申请退款金额');
      if (r[col('退款状态')] === 'SUCCESS') rows.push({ ...base, kind: 'refund', refundId: r[col('商户退款单号')], amountFen: money('退款金额') });
    } else if (state !== 'REVOKED') throw badBill(`${where}: unknown 交易状态 ${state.slice(0, 20)}`);
  });
  const want = [totals.count, totals.settle, totals.refund, totals.voucherRefund, totals.fee, totals.order, totals.refundApplied];
  const got = sums.map((s, i) => (i === 0 ? (/^\d+$/.test(s) ? Number(s) : null) : yuanToFen(s)));
  const off = WECHAT_SUMMARY_HEADER.filter((_, i) => got[i] !== want[i]);
  if (off.length) throw badBill('the summary does not match the detail rows', off.map((name) => ({ field: name, summary: sums[WECHAT_SUMMARY_HEADER.indexOf(name)], detail: want[WECHAT_SUMMARY_HEADER.indexOf(name)] })));
  return { provider: 'wechatpay', account, appid, rows };
}
