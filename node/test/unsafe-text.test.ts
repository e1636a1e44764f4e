import { describe, expect, it } from 'vitest';
import { escapeUnsafe, safeJson, unsafeCharacter } from '../src/util/unsafe-text.js';

/** One of each kind of character that 2.3 refuses. */
const UNSAFE = {
  'C0 escape': '\u001b',
  'C0 newline': '\n',
  'C0 carriage return': '\r',
  'C0 tab': '\t',
  'C0 nul': '\u0000',
  DEL: '\u007f',
  'C1 CSI': '\u009b',
  'C1 NEL': '\u0085',
  'bidi RLO': '\u202e',
  'bidi LRE': '\u202a',
  'bidi RLI': '\u2067',
  'bidi PDI': '\u2069',
  'arabic letter mark': '\u061c',
  RLM: '\u200f',
  'zero width space': '\u200b',
  'word joiner': '\u2060',
  'soft hyphen': '\u00ad',
  BOM: '\ufeff',
  'line separator': '\u2028',
  'paragraph separator': '\u2029',
  'interlinear annotation': '\ufff9',
  'tag character': '\u{e0041}',
} as const;

describe('unsafe characters (docs/protocol.md 2.3)', () => {
  it.each(Object.entries(UNSAFE))('refuses %s', (_name, char) => {
    expect(unsafeCharacter(`Ministère${char}x`)).toBe(
      `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')} at character 10`,
    );
  });

  it('accepts the text of every UN language, with the joiners some scripts need', () => {
    for (const name of [
      'République française',
      'Российская Федерация',
      'الجمهورية العربية السورية',
      '中华人民共和国',
      'España',
      'می\u200cخواهم',
      'क्ष\u200dि',
      "Côte d'Ivoire / Panel of Experts (1267)",
    ]) {
      expect(unsafeCharacter(name), name).toBeUndefined();
    }
  });

  it('escapes every unsafe character and the backslash, so that a value stays on its line and reads back exactly', () => {
    const forged = 'BEL\nFRA          state        key 0000000000000000\u001b[2K\r\u202eevil\\x1b';
    const shown = escapeUnsafe(forged);
    expect(shown).toBe('BEL\\nFRA          state        key 0000000000000000\\x1b[2K\\r\\u{202e}evil\\\\x1b');
    expect(unsafeCharacter(shown)).toBeUndefined();
    expect(escapeUnsafe('République française')).toBe('République française');
  });

  it('writes JSON whose unsafe characters are \\u escapes and whose value is unchanged', () => {
    const value = { displayName: `a${Object.values(UNSAFE).join('')}b`, list: ['\u009b2J'] };
    const json = safeJson(value);
    expect(JSON.parse(json)).toEqual(value);
    expect(unsafeCharacter(json.replace(/\n/g, ''))).toBeUndefined();
    expect(json.split('\n')).toHaveLength(6);
  });
});
