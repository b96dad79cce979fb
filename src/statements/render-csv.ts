import type { LedgerEntry } from '../allocator/ledger.types';
import { formatYuan } from '../money';

/** The CSV's columns: amounts in yuan for people, and in fen so a spreadsheet can sum them exactly. */
export const csvHeader = ['seq', 'at', 'kind', 'amount_yuan', 'amount_fen', 'quantity', 'order_id', 'stream_id', 'product_id', 'host_id', 'prev_hash', 'hash'];

function cell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (RFC 4180, CRLF) for an entry. */
export function csvRow(e: LedgerEntry): string {
  return [e.seq, e.at, e.kind, formatYuan(e.amountFen), e.amountFen, e.quantity, e.orderId, e.streamId, e.productId, e.hostId, e.prevHash, e.hash].map(cell).join(',') + '\r\n';
}

const LINES_PER_CHUNK = 64;

/**
 * Streams the period's CSV, header first (a UTF-8 BOM so spreadsheets read ¥ correctly), then the lines
 * (`csvRow` of each entry, in seq order) as they come a day at a time, joined into chunks of 64
 * lines: one stream write per chunk, not per line.
 */
export async function* renderCsv(days: AsyncIterable<string[]>): AsyncIterable<string> {
  yield '\uFEFF' + csvHeader.join(',') + '\r\n';
  for await (const lines of days) for (let i = 0; i < lines.length; i += LINES_PER_CHUNK) yield lines.slice(i, i + LINES_PER_CHUNK).join('');
}
