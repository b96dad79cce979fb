import { formatYuan } from '../money';
import type { publicCharity } from './public-views';

type View = Awaited<ReturnType<typeof publicCharity>>;

const esc = (s: string | number) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const kindLabel: Record<string, string> = { allocation: '分配 allocation', reversal: '冲回 reversal', match: '配捐 match', match_reversal: '配捐冲回 match reversal' };

/** The public transparency page: totals, chain head and the latest entries, masked (entries carry no buyer data). */
export function charityPage(v: View): string {
  const rows = v.latest.map((e) => `<tr><td>#${esc(e.seq)}</td><td>${esc(e.at.replace('T', ' ').slice(0, 19))}</td><td>${esc(kindLabel[e.kind] ?? e.kind)}</td><td>${esc(e.productName || e.productId)}</td><td class="n">${esc(formatYuan(e.amountFen))}</td></tr>`).join('');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(v.name)} · 公益透明 livegive</title>
<style>body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#222}
.total{font-size:2.4em;font-weight:700;color:#c0392b}.hash{font-family:monospace;word-break:break-all;font-size:.85em;color:#555}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left}.n{text-align:right}</style></head>
<body><h1>${esc(v.name)}</h1><p>统一社会信用代码 Registration code: ${esc(v.registrationNo)}</p>
<p>累计善款 Total allocated</p><p class="total" id="total">${esc(formatYuan(v.totalFen))}</p>
<p>账本笔数 Entries: <b id="entries">${esc(v.entries)}</b></p>
<p>链头 Chain head #${esc(v.headSeq)}: <span class="hash" id="head-hash">${esc(v.headHash)}</span></p>
<p>默克尔根 Merkle root: <span class="hash">${esc(v.merkleRoot)}</span></p>
<h2>最新记录 Latest entries</h2>
<table><thead><tr><th>#</th><th>时间 Time (UTC)</th><th>类型 Kind</th><th>商品 Product</th><th class="n">金额 Amount</th></tr></thead><tbody>${rows || '<tr><td colspan="5">暂无 None yet</td></tr>'}</tbody></table>
<p>核验 Verify: <code>GET /api/v1/public/charities/${esc(v.id)}</code>, <code>npx livegive verify --charity ${esc(v.id)}</code></p>
</body></html>`;
}
