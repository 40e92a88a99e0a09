// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is the config syntax under test, not a template.
/**
 * A password in `redis.url` is a secret like any other (issue 8, part 2): only an `${env:NAME}`
 * reference is accepted, the error names `redis.url` and says how to write it, and no error ever
 * echoes the password. The variable holds the password as is; it is percent-encoded into the URL.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/config/load.js';
import { CwError } from '../../src/errors.js';

const FILE = join('/srv/credwarden', 'credwarden.yaml');
const config = (url: string) => `redis:\n  prefix: cw\n  url: "${url}"\n`;

function configError(text: string, env: NodeJS.ProcessEnv = {}): CwError {
  try {
    loadConfigText(FILE, text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(CwError);
    return err as CwError;
  }
  throw new Error('expected a config error');
}

describe('redis.url passwords', () => {
  it.each([
    ['a password alone', 'redis://:hunter2@cache.internal:6379', 'hunter2'],
    ['a user and a password', 'redis://user:pw-s3cret@cache.internal', 'pw-s3cret'],
    ['TLS', 'rediss://default:s3cretpass@cache.internal:6380/0', 's3cretpass'],
    ['a password with an @', 'redis://:hun@ter2@cache.internal:6379', 'hun@ter2'],
    ['a reference and literal text', 'redis://:lit3ral${env:REDIS_PASSWORD}@cache.internal:6379', 'lit3ral'],
  ])('should reject %s, naming redis.url and never the password', (_name, url, password) => {
    const err = configError(config(url), { REDIS_PASSWORD: 'from-env' });

    expect(err.code).toBe('CW_ERR_CONFIG');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(
      /^\/srv\/credwarden\/credwarden\.yaml:3 redis\.url: the password must be an \$\{env:NAME\} reference, e\.g\. redis:\/\/:\$\{env:REDIS_PASSWORD\}@host:6379/,
    );
    expect(err.message).not.toContain(password);
  });

  it('should reject a password in the query', () => {
    const err = configError(config('redis://cache.internal:6379/0?password=hunter2'));

    expect(err.message).toMatch(
      /credwarden\.yaml:3 redis\.url: put the password in the user-info as an \$\{env:NAME\}/,
    );
    expect(err.message).not.toContain('hunter2');
  });

  it.each([
    ['no user-info', 'redis://cache.internal:6379', {}, 'redis://cache.internal:6379'],
    ['a user name only', 'redis://worker@cache.internal:6379', {}, 'redis://worker@cache.internal:6379'],
    ['an empty password', 'redis://worker:@cache.internal:6379', {}, 'redis://worker:@cache.internal:6379'],
    [
      'a password reference',
      'redis://:${env:REDIS_PASSWORD}@cache.internal:6379',
      { REDIS_PASSWORD: 'hunter2' },
      'redis://:hunter2@cache.internal:6379',
    ],
    [
      'user and password references',
      'rediss://${env:REDIS_USER}:${env:REDIS_PASSWORD}@${env:REDIS_HOST}:6380/1',
      { REDIS_USER: 'svc', REDIS_PASSWORD: 'pw', REDIS_HOST: 'cache' },
      'rediss://svc:pw@cache:6380/1',
    ],
    [
      'a password with URL-special characters (percent-encoded into the URL)',
      'redis://:${env:REDIS_PASSWORD}@cache.internal:6379',
      { REDIS_PASSWORD: 'a@b/c:d?e#f%' },
      'redis://:a%40b%2Fc%3Ad%3Fe%23f%25@cache.internal:6379',
    ],
    [
      'the whole URL from the environment',
      '${env:REDIS_URL}',
      { REDIS_URL: 'redis://:pw@cache:6379' },
      'redis://:pw@cache:6379',
    ],
  ])('should accept %s', (_name, url, env, expected) => {
    const c = loadConfigText(FILE, config(url), env);

    expect(c.redis.url).toBe(expected);
    const parsed = new URL(c.redis.url);
    if (env && 'REDIS_PASSWORD' in env) expect(decodeURIComponent(parsed.password)).toBe(env.REDIS_PASSWORD);
  });

  it('should refuse a resolved URL that carries its password in the query, without echoing it', () => {
    const err = configError(config('${env:REDIS_URL}'), { REDIS_URL: 'redis://cache:6379?password=hunter2' });

    expect(err.message).toMatch(/credwarden\.yaml:3 redis\.url: put the password in the user-info/);
    expect(err.message).not.toContain('hunter2');
  });

  it('should refuse a resolved URL that does not parse, without echoing it', () => {
    const err = configError(config('${env:REDIS_URL}'), { REDIS_URL: 'redis://:pw@host:notaport' });

    expect(err.message).toMatch(/credwarden\.yaml:3 redis\.url: is not a valid URL once its references are resolved/);
    expect(err.message).not.toContain('pw@');
  });

  it('should refuse a resolved URL whose password has a raw "/" (it would parse as a path), without echoing it', () => {
    const err = configError(config('${env:REDIS_URL}'), { REDIS_URL: 'redis://u:12/x@cache:6379' });

    expect(err.message).toMatch(/credwarden\.yaml:3 redis\.url: has "@" after the host: percent-encode/);
    expect(err.message).not.toContain('12/x');
  });

  it('should name the unset variable of a password reference', () => {
    const err = configError(config('redis://:${env:REDIS_PASSWORD}@cache:6379'));

    expect(err.message).toBe(`${FILE}:3 redis.url: environment variable REDIS_PASSWORD is not set`);
  });
});
