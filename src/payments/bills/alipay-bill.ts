import { parse } from 'csv-parse/sync';
import { unzipSync } from 'fflate';
import iconv from 'iconv-lite';
import { yuanToFen } from '../yuan';
import { badBill, type Bill, type BillRow } from './bill.types';

export const ALIPAY_BILL_HEADER = ['支付宝交易号', '商户订单号', '业务类型', '商品名称', '创建时间', '完成时间', '门店编号', '门店名称', '操作员', '终端号', '对方账户',
  '订单金额（元）', '商家实收（元）', '支付宝红包（元）', '集分宝（元）', '支付宝优惠（元）', '商家优惠（元）', '券核销金额（元）', '券名称', '商家红包消费金额（元）',
  '卡消费金额（元）', '退款批次号/请求号', '服务费（元）', '分润（元）', '备注'];
const col = (name: string) => ALIPAY_BILL_HEADER.indexOf(name);

/** The detail CSV of an Alipay trade bill zip (the entry whose preamble says 业务明细 and not 汇总), decoded from GBK. */
function detailText(zip: Buffer): string {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(new Uint8Array(zip));
  } catch (err) {
    throw badBill(`not a readable zip (truncated?): ${(err as Error).message.slice(0, 80)}`);
  }
  const texts = Object.values(entries).map((b) => iconv.decode(Buffer.from(b), 'gbk'));
  const detail = texts.find((t) => t.startsWith('#支付宝业务明细查询'));
  if (!detail) throw badBill('the zip holds no 业务明细 CSV');
  return detail;
}

/**
 * Parses an Alipay trade bill (bill_type trade): a zip of GBK CSVs; the detail file has `#` preamble lines
 * (account, dates), a header, rows whose id cells end with a tab, and a `#` footer whose 交易合计 / 退款合计
 * (count and yuan) must agree with the rows. Throws BAD_BILL otherwise.
 */
export function parseAlipayBill(zip: Buffer): Bill {
  const lines = detailText(zip).split(/\r?\n/);
  const account = /^#账号：\[(\d+)\]/.exec(lines.find((l) => l.startsWith('#账号：')) ?? '')?.[1];
  if (!account) throw badBill('the preamble names no account (#账号：[…])');
  const footer = (label: string) => {
    const m = new RegExp(`^#${label}：(\\d+)笔.*?共(-?\\d+\\.\\d{2})元`).exec(lines.find((l) => l.startsWith(`#${label}：`)) ?? '');
    if (!m) throw badBill(`the footer has no #${label} (truncated bill?)`);
    return { count: Number(m[1]), fen: Math.abs(yuanToFen(m[2])!) };
  };
  const [trades, refunds] = [footer('交易合计'), footer('退款合计')];
  let records: string[][];
  try {
    records = parse(lines.filter((l) => l.trim() && !l.startsWith('#')).join('\n'), { relax_column_count: true, trim: false });
  } catch (err) {
    throw badBill(`the detail is not CSV: ${(err as Error).message.slice(0, 120)}`);
  }
  const header = (records.shift() ?? []).map((c) => c.trim());
  if (header.join(',') !== ALIPAY_BILL_HEADER.join(',')) throw badBill('not an Alipay trade bill: the detail header differs');
  if (!records.length) throw badBill('empty bill: no detail rows');
  const rows: BillRow[] = records.map((raw, i) => {
    const where = `row ${i + 1}`;
    const r = raw.map((c) => c.replace(/\t+$/, '').trim()); // id cells end with a tab so spreadsheets keep them as text
    if (r.length < ALIPAY_BILL_HEADER.length) throw badBill(`${where}: ${r.length} fields, ${ALIPAY_BILL_HEADER.length} expected`);
    const money = (name: string) => {
      const f = r[col(name)] === '' ? 0 : yuanToFen(r[col(name)]);
      if (f === null) throw badBill(`${where}: ${name} "${r[col(name)].slice(0, 20)}" is not yuan with two decimals`);
      return f;
    };
    const kind = r[col('业务类型')] === '交易' ? 'payment' : r[col('业务类型')] === '退款' ? 'refund' : null;
    if (!kind) throw badBill(`${where}: unknown 业务类型`);
    const at = r[col('完成时间')] || r[col('创建时间')];
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(at)) throw badBill(`${where}: 完成时间 is not "YYYY-MM-DD hh:mm:ss"`);
    return {
      kind, orderId: r[col('商户订单号')], providerRef: r[col('支付宝交易号')], amountFen: Math.abs(money('订单金额（元）')), feeFen: money('服务费（元）'), day: at.slice(0, 10),
      ...(kind === 'refund' ? { refundId: r[col('退款批次号/请求号')] } : {}),
    };
  });
  const sum = (k: BillRow['kind']) => rows.filter((r) => r.kind === k);
  const off = [['交易合计', trades, sum('payment')], ['退款合计', refunds, sum('refund')]] as const;
  for (const [label, total, list] of off) {
    const fen = list.reduce((n, r) => n + r.amountFen, 0);
    if (total.count !== list.length || total.fen !== fen) throw badBill(`the footer's ${label} does not match the detail rows`, { footer: total, detail: { count: list.length, fen } });
  }
  return { provider: 'alipay', account, rows };
}
