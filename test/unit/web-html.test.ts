/**
 * The dashboard's building blocks: escaping by default, URLs that keep a filter, long messages
 * cut on a word with the whole in the title, `next` kept on this site, and the same-site check of
 * a state-changing request.
 */
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { escapeHtml, href, html, raw } from '../../src/web/html.js';
import { safeNext } from '../../src/web/login.js';
import { brief } from '../../src/web/pages/findings-parts.js';
import { sameSite } from '../../src/web/respond.js';
import { ago, table } from '../../src/web/ui.js';

const HOSTILE = '<img src=x onerror=alert(1)>"\'`&';

describe('html', () => {
  it('escapes every interpolated value, in text and in attributes, and keeps nested markup', () => {
    const out = html`<a title="${HOSTILE}">${HOSTILE}</a>${[html`<b>${HOSTILE}</b>`, 1, null, false, undefined]}`.value;
    expect(out).toBe(
      '<a title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&#96;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&#96;&amp;</a><b>&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&#96;&amp;</b>1',
    );
    expect(out).not.toContain('<img');
    expect(html`${raw('<hr>')}`.value).toBe('<hr>');
    expect(escapeHtml('a&b')).toBe('a&amp;b');
  });

  it('href keeps the non-empty query values, encoded', () => {
    expect(href('/findings', { severity: 'high', agent: '', policy: undefined, q: 'a&b=c' })).toBe(
      '/findings?severity=high&q=a%26b%3Dc',
    );
    expect(href('/findings')).toBe('/findings');
  });

  it('a table escapes its caption and cells and marks the sorted column', () => {
    const t = table({
      caption: HOSTILE,
      columns: [
        { key: 'a', label: 'A', sortable: true },
        { key: 'n', label: 'N', numeric: true },
      ],
      rows: [[html`${HOSTILE}`, html`1`]],
      path: '/x',
      query: { f: '1' },
      sort: { key: 'a', dir: 'desc' },
    }).value;
    expect(t).not.toContain('<img');
    expect(t).toContain('aria-sort="descending"');
    expect(t).toContain('href="/x?f=1&amp;sort=a&amp;dir=asc"');
    expect(t).toContain('<td class="num">1</td>');
  });
});

describe('brief', () => {
  it('keeps a short message whole and cuts a long one on a word, the whole in the title', () => {
    expect(brief('short').value).toBe('short');
    const long = `${'word '.repeat(100)}${HOSTILE}`;
    const b = brief(long).value;
    expect(b.startsWith('<span title="word word')).toBe(true);
    expect(b).toMatch(/word…<\/span>$/);
    expect(b).not.toContain('<img');
    const visible = b.replace(/^<span title="[^"]*">/, '').replace(/<\/span>$/, '');
    expect(visible.length).toBeLessThanOrEqual(241);
  });
});

describe('safeNext', () => {
  it('follows a path on this site only', () => {
    expect(safeNext('/findings?severity=high')).toBe('/findings?severity=high');
    for (const bad of [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      'javascript:x',
      '',
      7,
      '/login?x',
      `/${'a'.repeat(3000)}`,
    ])
      expect(safeNext(bad)).toBe('/');
  });
});

describe('sameSite', () => {
  const req = (headers: Record<string, string>, protocol = 'http') =>
    ({ headers: { host: 'cw.example:8080', ...headers }, protocol }) as unknown as FastifyRequest;
  it('trusts Sec-Fetch-Site when a browser sends it, else compares Origin with Host', () => {
    expect(sameSite(req({ 'sec-fetch-site': 'same-origin', origin: 'null' }))).toBe(true);
    expect(sameSite(req({ 'sec-fetch-site': 'same-site' }))).toBe(false);
    expect(sameSite(req({ 'sec-fetch-site': 'cross-site', origin: 'http://cw.example:8080' }))).toBe(false);
    expect(sameSite(req({ origin: 'http://cw.example:8080' }))).toBe(true);
    expect(sameSite(req({ origin: 'https://cw.example:8080' }))).toBe(false); // another scheme
    expect(sameSite(req({ origin: 'http://cw.example:8081' }))).toBe(false);
    expect(sameSite(req({ origin: 'null' }))).toBe(false);
    expect(sameSite(req({ origin: 'not a url' }))).toBe(false);
    expect(sameSite(req({ host: 'cw.example:443', origin: 'https://cw.example' }, 'https'))).toBe(true);
    expect(sameSite(req({}))).toBe(true); // not a browser: the CSRF token still decides
  });
});

describe('ago', () => {
  it('says how long ago, or how long until', () => {
    expect([ago(30_000), ago(10 * 60_000), ago(5 * 3_600_000), ago(3 * 86_400_000), ago(-2 * 3_600_000)]).toEqual([
      '30 s ago',
      '10 min ago',
      '5 h ago',
      '3 d ago',
      'in 2 h',
    ]);
  });
});
