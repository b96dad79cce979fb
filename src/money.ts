/** Money is integer fen (分) end to end. These helpers are pure and never touch floating point for sums. */

export function assertFen(n: number, what = 'amount'): number {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} must be a whole number of fen, got ${n}`);
  return n;
}

/** Multiplies fen by a unit count, refusing anything that would leave the safe integer range. */
export function mulFen(fen: number, units: number): number {
  assertFen(fen); assertFen(units, 'units');
  const r = fen * units;
  if (!Number.isSafeInteger(r)) throw new RangeError('amount overflow');
  return r;
}

/** 123456 → "¥1,234.56"; negative amounts keep their sign: -5 → "-¥0.05". */
export function formatYuan(fen: number): string {
  assertFen(fen);
  const neg = fen < 0;
  const abs = Math.abs(fen);
  const yuan = Math.trunc(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = String(abs % 100).padStart(2, '0');
  return `${neg ? '-' : ''}¥${yuan}.${cents}`;
}

/** Masks a buyer's name for anything public: keeps the first character ("张三丰" → "张**"). */
export function maskName(name: string): string {
  const chars = Array.from(name.trim());
  if (chars.length === 0) return '**';
  return `${chars[0]}**`;
}
