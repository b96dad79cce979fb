import { existsSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import type { Writable } from 'node:stream';
import { formatYuan } from '../money';
import type { Figures, Statement } from './statement.math';

/** CJK fonts from Debian packages (fonts-wqy-microhei, fonts-noto-cjk), embedded as subsets: never downloaded. */
const fontCandidates: Array<{ path: string; family: string; mono: string }> = [
  { path: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', family: 'WenQuanYiMicroHei', mono: 'WenQuanYiMicroHeiMono' },
  { path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', family: 'NotoSansCJKsc-Regular', mono: 'NotoSansMonoCJKsc-Regular' },
];

export function findCjkFont() {
  const f = fontCandidates.find((c) => existsSync(c.path));
  if (!f) throw new Error(`no CJK font found: install the Debian package fonts-wqy-microhei (looked for ${fontCandidates.map((c) => c.path).join(', ')})`);
  return f;
}

const A4_BOTTOM = 841.89 - 60;

/**
 * Renders the printable bilingual statement. Its document dates are the period's end and its file id
 * derives from them, so the same statement always gives the same bytes.
 */
export function renderPdf(s: Statement, out: Writable): Promise<void> {
  const font = findCjkFont();
  const fixed = new Date(s.to);
  const doc = new PDFDocument({
    size: 'A4', margin: 50, compress: true, pdfVersion: '1.7',
    info: { Title: `Statement ${s.charityId} ${s.from} – ${s.to}`, Author: 'livegive', Producer: 'livegive', Creator: 'livegive', CreationDate: fixed, ModDate: fixed },
  });
  const done = new Promise<void>((resolve, reject) => { out.on('finish', resolve); out.on('error', reject); doc.on('error', reject); });
  doc.pipe(out);
  doc.registerFont('cjk', font.path, font.family);
  doc.registerFont('mono', font.path, font.mono);

  doc.font('cjk').fontSize(18).text('公益分配对账单 Charity Allocation Statement');
  doc.moveDown(0.5).fontSize(11);
  doc.text(`机构 Charity: ${s.charityName || '—'}  (${s.charityId})`);
  doc.text(`统一社会信用代码 Registration code: ${s.registrationNo || '—'}`);
  doc.text(`期间 Period (UTC): ${s.from}  至 to  ${s.to}   [from, to)`);
  doc.moveDown(0.8);

  const rows: Array<[string, string]> = [
    ['期初余额 Opening balance', formatYuan(s.openingFen)],
    ['分配 Allocations', formatYuan(s.allocatedFen)],
    ['退款冲回 Reversals', formatYuan(s.reversedFen)],
    ['企业配捐 Sponsor matches', formatYuan(s.matchedFen)],
    ['配捐冲回 Match reversals', formatYuan(s.matchReversedFen)],
    ['期末余额 Closing balance', formatYuan(s.closingFen)],
    ['本期笔数 Entries in period', String(s.entries)],
    ['首末序号 First / last entry', s.firstSeq === null ? '—' : `#${s.firstSeq} – #${s.lastSeq}`],
  ];
  table(doc, ['项目 Item', '金额 Amount'], rows.map((r) => r), [300, 195]);

  doc.moveDown(0.8).font('cjk').fontSize(11).text(`账本链头 Chain head: #${s.headSeq}`);
  doc.font('mono').fontSize(8.5).text(s.headHash);
  doc.font('cjk').fontSize(11).text('对账单摘要 Statement digest (SHA-256):');
  doc.font('mono').fontSize(8.5).text(s.digest);

  const breakdown = <T extends Figures>(title: string, list: T[], name: (r: T) => string, id: (r: T) => string) => {
    doc.moveDown(0.8).font('cjk').fontSize(13).text(title);
    doc.moveDown(0.3);
    table(doc, ['名称 Name', 'ID', '笔数 Entries', '数量 Units', '净额 Net'],
      list.map((r) => [name(r) || '—', id(r), String(r.entries), String(r.units), formatYuan(r.netFen)]), [165, 120, 60, 60, 90]);
  };
  breakdown('按直播间 By stream', s.byStream, (r) => r.title, (r) => r.streamId);
  breakdown('按主播 By host', s.byHost, (r) => r.name, (r) => r.hostId);
  breakdown('按商品 By product', s.byProduct, (r) => r.name, (r) => r.productId);
  if (s.remittances?.length) {
    const label = (r: NonNullable<Statement['remittances']>[number]) => (r.kind === 'remittance' ? '拨付 Remitted' : r.outcome === 'disputed' ? '异议 Disputed' : '确认 Acknowledged');
    doc.moveDown(0.8).font('cjk').fontSize(13).text('拨付与确认 Remittances and acknowledgements');
    doc.moveDown(0.3);
    table(doc, ['序号 Entry', '类型 Kind', '拨付单 Remittance', '凭证 Reference', '覆盖 Covers', '金额 Amount'],
      s.remittances.map((r) => [`#${r.seq}`, label(r), r.remittanceId, r.reference, `#${r.coversFrom} – #${r.coversTo}`, formatYuan(r.amountFen)]), [50, 80, 105, 105, 70, 85]);
  }

  doc.moveDown(1).font('cjk').fontSize(9).fillColor('#444')
    .text('金额单位：人民币元。核验 To verify: npx livegive verify --charity ' + s.charityId + ' --from ' + s.from + ' --to ' + s.to + ' --file statement.json');
  doc.end();
  return done;
}

function table(doc: PDFKit.PDFDocument, header: string[], rows: string[][], widths: number[]): void {
  const x0 = doc.page.margins.left;
  const line = (cells: string[], bold: boolean) => {
    if (doc.y + 18 > A4_BOTTOM) doc.addPage();
    const y = doc.y;
    let x = x0;
    doc.font('cjk').fontSize(bold ? 10 : 9.5).fillColor(bold ? '#000' : '#222');
    cells.forEach((c, i) => {
      const right = i > 0 && /^-?[¥#\d]/.test(c);
      doc.text(c, x + 2, y + 3, { width: widths[i] - 4, align: right ? 'right' : 'left', lineBreak: false, ellipsis: true });
      x += widths[i];
    });
    doc.moveTo(x0, y + 17).lineTo(x, y + 17).lineWidth(bold ? 0.8 : 0.3).strokeColor('#888').stroke();
    doc.x = x0;
    doc.y = y + 18;
  };
  line(header, true);
  for (const r of rows) line(r, false);
}
