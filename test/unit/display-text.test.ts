import { displayText, textProblem } from '../../src/infra/display-text';

/** Names shown to others (overlay ticker, public pages) refuse text that hides or reorders what it shows. */
describe('display text', () => {
  const Name = displayText(32);

  it('when a name is ordinary text, emoji or CJK, then it passes, trimmed and NFC-normalised', () => {
    expect(Name.parse('  张三  ')).toBe('张三');
    expect(Name.parse('Cafe\u0301')).toBe('Café');
    expect(Name.parse('Café').length).toBe(4);
    // a zero-width joiner inside an emoji sequence is part of the picture, not an attack
    expect(Name.parse('👨\u200D👩\u200D👧 fan')).toBe('👨\u200D👩\u200D👧 fan');
  });

  it.each([
    ['a right-to-left override', 'abc\u202Edef'],
    ['a left-to-right embedding', '\u202Aabc'],
    ['a pop directional formatting', 'abc\u202C'],
    ['a first-strong isolate', 'abc\u2068x\u2069'],
    ['a right-to-left isolate', '\u2067abc'],
    ['a left-to-right mark', 'abc\u200E'],
    ['a right-to-left mark', 'abc\u200F'],
    ['an Arabic letter mark', 'abc\u061C'],
    ['a control character', 'abc\u0007'],
    ['a newline', 'abc\ndef'],
    ['a C1 control', 'abc\u0085def'],
    ['a line separator', 'abc\u2028def'],
    ['a lone surrogate', 'abc\uD800'],
  ])('when a name holds %s, then it is refused', (_what, s) => {
    expect(textProblem(s)).not.toBeNull();
    expect(Name.safeParse(s).success).toBe(false);
  });

  it.each([
    ['zero-width spaces', '\u200B\u200B'],
    ['a zero-width joiner', '\u200D'],
    ['a word joiner and a BOM', '\u2060\uFEFF'],
    ['a Hangul filler', '\u3164'],
    ['a braille blank', '\u2800'],
    ['combining marks alone', '\u0301\u0301'],
    ['an ideographic space between invisibles', '\u200B\u3000\u200C'],
  ])('when a name is only %s, then it is refused as invisible', (_what, s) => {
    expect(textProblem(s)).toMatch(/invisible/);
    expect(Name.safeParse(s).success).toBe(false);
  });

  it('when a name is empty after trimming or too long, then it is refused', () => {
    expect(Name.safeParse('   ').success).toBe(false);
    expect(Name.safeParse('x'.repeat(33)).success).toBe(false);
  });
});
