import { canonicalId, ID_MAX_CODE_POINTS, isValidId } from './ids';

const NFD_CAFE = 'cafe\u0301';

describe('the id rule', () => {
  describe('accepts', () => {
    it.each([
      ['an e-mail address, as seed clients use', 'bob@example.com'],
      ['a plus sign', 'user+1'],
      ['a precomposed non-ASCII letter', 'café'],
      ['every ASCII punctuation character of the rule', '_.:-@+'],
      ['letters of other scripts', 'Ωμέγα-東京-Москва'],
      ['Devanagari, whose vowel signs are combining marks even in NFC', 'हिन्दी'],
      ['non-ASCII digits', '٣٤٥'],
      ['64 code points outside the BMP (128 UTF-16 units)', '𠀀'.repeat(ID_MAX_CODE_POINTS)],
    ])('%s: %s', (_case, id) => {
      expect(canonicalId(id)).toBe(id);
    });

    it('an id written decomposed, as its NFC form', () => {
      expect(canonicalId(NFD_CAFE)).toBe('café');
    });

    it('counts length after NFC: 64 letters written as 128 decomposed code points', () => {
      const decomposed = 'e\u0301'.repeat(ID_MAX_CODE_POINTS);
      expect(canonicalId(decomposed)).toBe('é'.repeat(ID_MAX_CODE_POINTS));
    });
  });

  describe('refuses', () => {
    it.each([
      ['an empty string', ''],
      ['65 code points', 'x'.repeat(ID_MAX_CODE_POINTS + 1)],
      ['65 letters after NFC', 'e\u0301'.repeat(ID_MAX_CODE_POINTS + 1)],
      ['a slash (path safety)', 'a/b'],
      ['a percent sign (path safety)', 'a%2Fb'],
      ['a backslash', 'a\\b'],
      ['a space (log safety)', 'a b'],
      ['a tab', 'a\tb'],
      ['a no-break space', 'a\u00a0b'],
      ['an ideographic space', 'a\u3000b'],
      ['a line feed', 'a\nb'],
      ['NUL', 'a\u0000b'],
      ['an escape character (terminal control)', 'a\u001b[31mb'],
      ['DEL', 'a\u007fb'],
      ['a C1 control (NEL)', 'a\u0085b'],
      ['a right-to-left override (format character)', 'a\u202eb'],
      ['a zero-width space', 'a\u200bb'],
      ['"*" (Redis pattern safety)', 'news*'],
      ['"?"', 'news?'],
      ['"["', 'news[1'],
      ['"]"', 'news]1'],
      ['"#"', 'news#1'],
      ['a quote', 'a"b'],
      ['a leading combining mark', '\u0301abc'],
      ['an emoji (a symbol, not a letter)', 'hi🙂'],
      ['a lone surrogate', 'a\ud800'],
    ])('%s', (_case, id) => {
      expect(canonicalId(id)).toBeUndefined();
      expect(isValidId(id)).toBe(false);
    });

    it.each([[42], [null], [undefined], [{ id: 'a' }], [['a']]])('a non-string: %p', (value) => {
      expect(isValidId(value)).toBe(false);
    });

    it('a very long string without normalising it in full', () => {
      const huge = 'e\u0301'.repeat(1_000_000);
      const normalize = jest.spyOn(String.prototype, 'normalize');
      expect(canonicalId(huge)).toBeUndefined();
      expect(normalize).not.toHaveBeenCalled();
      normalize.mockRestore();
    });
  });
});
