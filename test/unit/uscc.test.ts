import { isValidUscc, usccCheckChar } from '../../src/catalog/uscc';

describe('unified social credit code', () => {
  it('accepts a code whose check character matches (GB 32100-2015)', () => {
    expect(isValidUscc('91350100M000100Y43')).toBe(true);
    const body = '53420100MJH603112';
    expect(isValidUscc(body + usccCheckChar(body))).toBe(true);
  });
  it('refuses a wrong check character, a wrong length, lower case and forbidden letters', () => {
    expect(isValidUscc('91350100M000100Y44')).toBe(false);
    expect(isValidUscc('91350100M000100Y4')).toBe(false);
    expect(isValidUscc('91350100m000100y43')).toBe(false);
    expect(isValidUscc('91350100M0001I0Y43')).toBe(false);
  });
});
