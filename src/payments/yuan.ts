/**
 * Yuan written by a provider ("12.30", "-0.01") to integer fen, by string: exactly two decimals, no
 * exponent, no float ever. "12.3", "1e2", "12", "012.00" and " 12.30" are refused (null).
 */
export function yuanToFen(s: string): number | null {
  const m = /^(-?)(0|[1-9]\d{0,12})\.(\d{2})$/.exec(s);
  if (!m) return null;
  const fen = Number(m[2]) * 100 + Number(m[3]);
  return m[1] && fen !== 0 ? -fen : fen;
}

/** Fen back to the providers' yuan text with two decimals (for reports and test bills). */
export function fenToYuan(fen: number): string {
  const abs = Math.abs(fen);
  return `${fen < 0 ? '-' : ''}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
