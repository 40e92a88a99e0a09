/** escape.ts against hostile input: Slack markup, control and bidi characters, huge strings. */
import { describe, expect, it } from 'vitest';
import {
  ELLIPSIS,
  oneLine,
  plain,
  slackCode,
  slackEscape,
  slackLiteral,
  slackPlain,
  trimEscaped,
  trimTo,
} from '../../src/alerts/escape.js';

const RLO = '\u202E';
const INVISIBLES = '\u200B\u200C\u200D\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\uFEFF\u061C';
const CONTROLS = '\u0000\u0001\u0007\u0008\u000B\u000C\u001B\u001F\u007F\u0085\u009B';

describe('plain', () => {
  it('should remove C0/C1 control characters but keep \\n and \\t', () => {
    expect(plain(`a${CONTROLS}b\tc\nd`)).toBe('ab\tc\nd');
  });

  it('should remove zero-width and bidi override/isolate characters', () => {
    expect(plain(`invoice${RLO}fdp.exe`)).toBe('invoicefdp.exe');
    expect(plain(`x${INVISIBLES}y`)).toBe('xy');
  });

  it('should collapse \\r\\n and lone \\r to \\n, and Unicode line separators too', () => {
    expect(plain('a\r\nb\rc\u2028d\u2029e')).toBe('a\nb\nc\nd\ne');
  });

  it('should leave ordinary text, including non-Latin scripts and emoji, untouched', () => {
    const s = 'Zugriffsschlüssel für 代理 — עברית 🔑';
    expect(plain(s)).toBe(s);
  });

  it('should leave an ANSI escape inert (ESC removed, so no terminal sequence survives)', () => {
    expect(plain('\u001B[31mred\u001B[0m')).toBe('[31mred[0m');
  });
});

describe('oneLine', () => {
  it('should fold every whitespace run, newlines included, to one space and trim', () => {
    expect(oneLine('  a\n\n b\t\tc \r\n')).toBe('a b c');
  });
});

describe('slackEscape', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<!here>', '&lt;!here&gt;'],
    ['<!everyone>', '&lt;!everyone&gt;'],
    ['<@U024BE7LH>', '&lt;@U024BE7LH&gt;'],
    ['<#C024BE7LR>', '&lt;#C024BE7LR&gt;'],
    ['<!subteam^S0123>', '&lt;!subteam^S0123&gt;'],
    ['<https://evil.example|click>', '&lt;https://evil.example|click&gt;'],
    ['a & b', 'a &amp; b'],
    ['&lt;!channel&gt;', '&amp;lt;!channel&amp;gt;'],
  ])('should make %j inert', (input, want) => {
    expect(slackEscape(input)).toBe(want);
  });

  it('should leave no raw < or > in any output', () => {
    const hostile = `<<!here>>${RLO}<https://x|y>\u0000<`.repeat(50);
    expect(slackEscape(hostile)).not.toMatch(/[<>]/);
  });

  it('should strip control and bidi characters as plain does', () => {
    expect(slackEscape(`a${RLO}\u0007b`)).toBe('ab');
  });
});

describe('slackLiteral', () => {
  it('should neutralise bold, strike-through and code markers as well as < > &', () => {
    const out = slackLiteral('<!channel> *bold* ~gone~ `code`');
    expect(out).toBe('&lt;!channel&gt; ∗bold∗ ∼gone∼ ˋcodeˋ');
    expect(out).not.toMatch(/[*~`<>]/);
  });

  it('should keep underscores, which are common inside identifiers', () => {
    expect(slackLiteral('svc_deploy_bot')).toBe('svc_deploy_bot');
  });
});

describe('slackCode', () => {
  it('should wrap in one code span that no backtick inside can close', () => {
    const out = slackCode('a`b``c');
    expect(out).toBe('`aˋbˋˋc`');
    expect(out.match(/`/g)).toHaveLength(2);
  });

  it('should escape and fold its content and show "-" for an empty value', () => {
    expect(slackCode('<!here>\nx')).toBe('`&lt;!here&gt; x`');
    expect(slackCode('')).toBe('`-`');
    expect(slackCode(RLO)).toBe('`-`');
  });

  it('should bound its content', () => {
    expect(slackCode('x'.repeat(10_000), 50)).toHaveLength(52);
  });
});

describe('slackPlain', () => {
  it('should leave nothing Slack could read as markup in a plain_text object', () => {
    expect(slackPlain('<!channel> hi\nthere')).toBe('‹!channel› hi there');
  });
});

describe('trimTo', () => {
  it('should return short strings unchanged', () => {
    expect(trimTo('abc', 3)).toBe('abc');
  });

  it('should cut to exactly max characters, ending with an ellipsis', () => {
    const out = trimTo('abcdef', 4);
    expect(out).toBe(`abc${ELLIPSIS}`);
    expect(out).toHaveLength(4);
  });

  it('should never split a surrogate pair', () => {
    const s = `ab${'🔑'.repeat(10)}`;
    for (let max = 1; max <= s.length; max++) {
      const out = trimTo(s, max);
      expect(out.length).toBeLessThanOrEqual(max);
      // encodeURIComponent throws URIError on a lone surrogate.
      expect(() => encodeURIComponent(out)).not.toThrow();
    }
  });

  it('should handle max 0 and 1', () => {
    expect(trimTo('abc', 0)).toBe('');
    expect(trimTo('abc', 1)).toBe(ELLIPSIS);
  });

  it('should bound a 100 KB string quickly', () => {
    const big = `${'<!channel>'.repeat(10_000)}${'\u0000'.repeat(1000)}`;
    const started = performance.now();
    const out = trimTo(slackEscape(big), 3000);
    expect(out).toHaveLength(3000);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('trimEscaped', () => {
  it('should not leave half an entity before the ellipsis', () => {
    const s = slackEscape('abc&def'); // abc&amp;def
    for (let max = 4; max < s.length; max++) {
      const out = trimEscaped(s, max);
      expect(out.length).toBeLessThanOrEqual(max);
      expect(out).not.toMatch(/&[a-z]*…$/);
    }
    expect(trimEscaped(s, 9)).toBe(`abc&amp;${ELLIPSIS}`);
  });
});
