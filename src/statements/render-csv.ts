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

/** Streams the period's entries as CSV lines, header first (a UTF-8 BOM so spreadsheets read ¥ correctly). */
export async function* renderCsv(entries: AsyncIterable<LedgerEntry>): AsyncIterable<string> {
  yield '\uFEFF' + csvHeader.join(',') + '\r\n';
  for await (const e of entries) yield csvRow(e);
}
