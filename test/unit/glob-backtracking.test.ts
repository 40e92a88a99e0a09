/**
 * User globs never backtrack without end (issue 8, part 2): `********a` against a 40-character
 * name took 5 s as a RegExp, and more stars never finished. These cases would not finish with a
 * backtracking RegExp. No timing is measured: each runs under a vm watchdog (10 s, far above what
 * a linear matcher needs), which, unlike vitest's per-test timeout, interrupts synchronous code.
 * The matcher keeps every semantic the RegExps had (see also registry.test.ts, privilege-*.test.ts).
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { actionPatternRegExp, resourceMatches, resourcePatternRegExp } from '../../src/privilege/iam-glob.js';
import { anyGlob, globMatch } from '../../src/registry/glob.js';
import { WildcardBuilder, wildcardMatcher } from '../../src/util/wildcard.js';

const STARS = `${'*'.repeat(30)}a`;
const STAR_A = `${'*a'.repeat(30)}b`;
const LONG = 'x'.repeat(200);
const LONG_A = 'a'.repeat(200);

/** `fn()`, interrupted with "Script execution timed out" if it runs past the watchdog. */
function finishes<T>(fn: () => T): T {
  return runInNewContext('fn()', { fn }, { timeout: 10_000 }) as T;
}

describe('pathological patterns finish', () => {
  it.each([
    ['30 stars then a literal, against 200 non-matching characters', STARS, LONG],
    ['*a repeated 30 times then b, against 200 a', STAR_A, LONG_A],
    ['stars and ? mixed', `${'*?'.repeat(40)}z`, LONG],
  ])('globMatch: %s', (_name, pattern, value) => {
    expect(finishes(() => globMatch(pattern, value))).toBe(false);
    expect(finishes(() => globMatch(pattern, `${value}${pattern.slice(-1)}`))).toBe(true);
  });

  it('registry selectors (anyGlob) with many stars', () => {
    expect(finishes(() => anyGlob([STARS, STAR_A], LONG_A.replace(/a$/, 'c')))).toBe(false);
  });

  it('IAM action patterns', () => {
    expect(finishes(() => actionPatternRegExp(`s3:${STARS}`).test(`s3:${LONG}`))).toBe(false);
    expect(finishes(() => actionPatternRegExp(`s3:${STAR_A}`).test(`S3:${'A'.repeat(200)}`))).toBe(false);
    expect(finishes(() => actionPatternRegExp(`s3:${STAR_A}`).test(`S3:${'A'.repeat(200)}B`))).toBe(true);
  });

  it('IAM resource patterns, with a policy variable among the stars', () => {
    const pattern = `arn:aws:s3:::${'*'.repeat(20)}\${aws:username}${'*a'.repeat(20)}b`;
    const vars = { 'aws:username': 'bob' };
    expect(finishes(() => resourcePatternRegExp(pattern, vars).test(`arn:aws:s3:::${LONG_A}`))).toBe(false);
    expect(finishes(() => resourceMatches(pattern, `arn:aws:s3:::xbob${'a'.repeat(20)}b`, vars))).toBe(true);
    // An unknown variable matches anything: one more star, still no blow-up.
    expect(finishes(() => resourcePatternRegExp(`${'*a'.repeat(20)}\${aws:unknown}b`).test(LONG_A))).toBe(false);
  });

  it('a pattern and a text of 100,000 characters each', () => {
    const big = `${'*a'.repeat(50_000)}b`;
    expect(finishes(() => wildcardMatcher(big).test('a'.repeat(100_000)))).toBe(false);
  });
});

describe(wildcardMatcher.name, () => {
  it.each([
    ['', '', true],
    ['', 'a', false],
    ['*', '', true],
    ['*', 'anything at all', true],
    ['***', '', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ba', false],
    ['*c', 'abc', true],
    ['*c', 'abcd', false],
    ['a*c', 'ac', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbbcd', false],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b*c', 'aXcYb', false],
    ['?', 'a', true],
    ['?', '', false],
    ['?', 'ab', false],
    ['a?c', 'abc', true],
    ['a?c', 'a\nc', true],
    ['*?', '', false],
    ['*?', 'x', true],
    ['agent-*', 'agent-scraper', true],
    ['agent-*', 'Agent-scraper', false],
    ['*agent*', 'token-agent-7', true],
    ['a.b', 'a.b', true],
    ['a.b', 'aXb', false],
    ['[ab]', '[ab]', true],
    ['[ab]', 'a', false],
    ['(x|y)+', '(x|y)+', true],
    ['^$\\', '^$\\', true],
    ['mississippi*', 'mississippi', true],
    ['*issip*', 'mississippi', true],
    ['*si?pi', 'mississippi', true],
  ])('%j against %j: %s', (pattern, value, expected) => {
    expect(wildcardMatcher(pattern).test(value)).toBe(expected);
  });

  it('should match case-insensitively when asked, like a RegExp with the i flag', () => {
    const m = wildcardMatcher('S3:Get*Object?', { caseInsensitive: true });
    expect(m.test('s3:getobjectS')).toBe(true);
    expect(m.test('S3:GETBUCKETOBJECTX')).toBe(true);
    expect(m.test('s3:putobjectx')).toBe(false);
    expect(wildcardMatcher('ÄB*', { caseInsensitive: true }).test('äbc')).toBe(true);
  });

  it('should treat builder literals as literal, wildcards included', () => {
    const m = new WildcardBuilder().glob('a*').literal('*?').star().build();
    expect(m.test('aXY*?')).toBe(true);
    expect(m.test('aXY*?Z')).toBe(true);
    expect(m.test('aXYZ?')).toBe(false);
  });

  it('should work on UTF-16 code units, as the RegExps did (no u flag)', () => {
    expect(wildcardMatcher('??').test('🤖')).toBe(true);
    expect(wildcardMatcher('?').test('🤖')).toBe(false);
  });
});
