import { formatYuan } from '../money';
import type { publicCharity } from './public-views';
import type { PublicAgreements } from './public-agreements';

type View = Awaited<ReturnType<typeof publicCharity>>;

const esc = (s: string | number) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const kindLabel: Record<string, string> = { allocation: '分配 allocation', reversal: '冲回 reversal', match: '配捐 match', match_reversal: '配捐冲回 match reversal', remittance: '拨付 remittance', acknowledgement: '确认 acknowledgement' };
const statusLabel: Record<string, string> = { sent: '已拨付待确认 sent', acknowledged: '机构已确认 acknowledged', disputed: '机构有异议 disputed' };

/** Per agreement: terms, the four layers, overdue, remittances with their dates (Asia/Shanghai) and the charity's answer. */
function agreementsSection(a: PublicAgreements): string {
  const layer = (l: PublicAgreements['layers'], cls = '') => ['pledgedFen', 'confirmedFen', 'remittedFen', 'acknowledgedFen', 'overdueFen'].map((f) => `<td class="n${cls}" data-layer="${f}">${esc(formatYuan(l[f as keyof typeof l]))}</td>`).join('');
  const head = '<tr><th></th><th class="n">承诺 Pledged</th><th class="n">已确认 Confirmed</th><th class="n">已拨付 Remitted</th><th class="n">机构确认 Acknowledged</th><th class="n">逾期 Overdue</th></tr>';
  const items = a.agreements.map((g) => {
    const cap = [g.terms.capFen !== null ? `上限 cap ${formatYuan(g.terms.capFen)}` : '', g.terms.capUnits !== null ? `${g.terms.capUnits} units` : ''].filter(Boolean).join(', ') || '无上限 no cap';
    const rems = g.remittances.map((r) => `<tr><td>${esc(r.paidAtLocal)}</td><td class="n">${esc(formatYuan(r.amountFen))}</td><td>${esc(r.reference)}</td><td>#${esc(r.coversSeqs.from)}–#${esc(r.coversSeqs.to)}</td><td>${esc(statusLabel[r.status] ?? r.status)}${r.answeredAtLocal ? ` ${esc(r.answeredAtLocal)}` : ''}${r.reason ? `: ${esc(r.reason)}` : ''}</td></tr>`).join('');
    return `<section class="agreement" id="agreement-${esc(g.id)}"><h3>${esc(g.hostName || g.hostId)} · ${esc(formatYuan(g.terms.perUnitFen))}/件 per unit · ${esc(cap)}</h3>
<p>${esc(g.terms.validFromLocal)} – ${esc(g.terms.validToLocal)} · 确认后 ${esc(g.terms.remitWithinDays)} 天内拨付 remit within ${esc(g.terms.remitWithinDays)} days of confirmation · ${esc(g.status)}${g.note ? ` · <em class="migrated">迁移时代为接受 ${esc(g.note)}</em>` : ''}</p>
<table>${head}<tr><td>本协议 This agreement</td>${layer(g.layers)}</tr></table>
${g.layers.overdueFen > 0 ? `<p class="overdue">逾期未拨付 Overdue: ${esc(formatYuan(g.layers.overdueFen))}</p>` : ''}
<table><thead><tr><th>拨付时间 Paid (UTC+8)</th><th class="n">金额 Amount</th><th>凭证 Reference</th><th>覆盖 Covers</th><th>状态 Status</th></tr></thead><tbody>${rems || '<tr><td colspan="5">暂无拨付 No remittance yet</td></tr>'}</tbody></table></section>`;
  }).join('');
  return `<h2>捐赠协议 Pledge agreements</h2><table>${head}<tr><td>合计 All</td>${layer(a.layers)}</tr></table>${items || '<p>暂无 None yet</p>'}`;
}

/** The public transparency page: totals, chain head and the latest entries, masked (entries carry no buyer data). */
export function charityPage(v: View, agreements?: PublicAgreements): string {
  const rows = v.latest.map((e) => `<tr><td>#${esc(e.seq)}</td><td>${esc(e.at.replace('T', ' ').slice(0, 19))}</td><td>${esc(kindLabel[e.kind] ?? e.kind)}</td><td>${esc(e.productName || e.productId)}</td><td class="n">${esc(formatYuan(e.amountFen))}</td></tr>`).join('');
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(v.name)} · 公益透明 livegive</title>
<style>body{font-family:system-ui,"Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;max-width:860px;margin:2em auto;padding:0 1em;color:#222}
.overdue{color:#c0392b;font-weight:700}.total{font-size:2.4em;font-weight:700;color:#c0392b}.hash{font-family:monospace;word-break:break-all;font-size:.85em;color:#555}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left}.n{text-align:right}</style></head>
<body><h1>${esc(v.name)}</h1><p>统一社会信用代码 Registration code: ${esc(v.registrationNo)}</p>
<p>累计善款 Total allocated</p><p class="total" id="total">${esc(formatYuan(v.totalFen))}</p>
<p>账本笔数 Entries: <b id="entries">${esc(v.entries)}</b></p>
<p>链头 Chain head #${esc(v.headSeq)}: <span class="hash" id="head-hash">${esc(v.headHash)}</span></p>
<p>默克尔根 Merkle root: <span class="hash">${esc(v.merkleRoot)}</span></p>
${agreements ? agreementsSection(agreements) : ''}
${v.statements.length ? `<h2>定期报告 Statements produced on schedule</h2><table><thead><tr><th>期间 Period</th><th>从 From (UTC)</th><th>至 To (UTC)</th><th class="n">期末 Closing</th><th>摘要 Digest (SHA-256)</th></tr></thead><tbody>${v.statements.map((st) => `<tr><td>${esc(st.kind === 'quarter' ? st.label : `协议结束 agreement ${st.label}`)}</td><td>${esc(st.from.slice(0, 16).replace('T', ' '))}</td><td>${esc(st.to.slice(0, 16).replace('T', ' '))}</td><td class="n">${esc(formatYuan(st.closingFen))}</td><td class="hash">${esc(st.digest)}</td></tr>`).join('')}</tbody></table>` : ''}
<h2>最新记录 Latest entries</h2>
<table><thead><tr><th>#</th><th>时间 Time (UTC)</th><th>类型 Kind</th><th>商品 Product</th><th class="n">金额 Amount</th></tr></thead><tbody>${rows || '<tr><td colspan="5">暂无 None yet</td></tr>'}</tbody></table>
<p>核验 Verify: <code>GET /api/v1/public/charities/${esc(v.id)}</code>, <code>npx livegive verify --charity ${esc(v.id)}</code></p>
</body></html>`;
}
