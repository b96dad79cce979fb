import { formatYuan, maskName, mulFen } from '../../src/money';

describe('money', () => {
  it('formats fen as yuan with thousands separators', () => {
    expect(formatYuan(0)).toBe('¥0.00');
    expect(formatYuan(5)).toBe('¥0.05');
    expect(formatYuan(123456)).toBe('¥1,234.56');
    expect(formatYuan(139_000_000_000)).toBe('¥1,390,000,000.00');
    expect(formatYuan(-400)).toBe('-¥4.00');
  });
  it('refuses fractional fen', () => {
    expect(() => formatYuan(1.5)).toThrow(RangeError);
    expect(() => mulFen(0.1, 3)).toThrow(RangeError);
  });
  it('refuses products that leave the safe integer range', () => {
    expect(mulFen(400, 3)).toBe(1200);
    expect(() => mulFen(2 ** 40, 2 ** 20)).toThrow('overflow');
  });
  it('masks names, keeping only the first character', () => {
    expect(maskName('张三丰')).toBe('张**');
    expect(maskName('alice')).toBe('a**');
    expect(maskName('  ')).toBe('**');
    expect(maskName('😀x')).toBe('😀**');
  });
});
