import { describe, expect, it } from 'vitest';
import { CwError, describeError, type ErrorCode, ErrorCodes, isCwError } from '../../src/errors.js';
import {
  awsAccessKeyId,
  awsConsolePasswordId,
  awsRoleId,
  jobId,
  vaultAppRoleId,
  vaultAwsRoleId,
  vaultLeaseId,
  vaultNamespaceSegment,
  vaultSecretIdId,
  vaultTokenId,
} from '../../src/model/ids.js';
import { mapLimit, Semaphore, sleep } from '../../src/util/concurrency.js';

describe(CwError.name, () => {
  it.each([
    { code: ErrorCodes.CONFIG, exit: 2 },
    { code: ErrorCodes.REGISTRY, exit: 2 },
    { code: ErrorCodes.POLICY, exit: 2 },
    { code: ErrorCodes.REDIS, exit: 2 },
    { code: ErrorCodes.AWS, exit: 2 },
    { code: ErrorCodes.AWS_ACCESS_DENIED, exit: 2 },
    { code: ErrorCodes.VAULT, exit: 2 },
    { code: ErrorCodes.VAULT_PERMISSION, exit: 2 },
    { code: ErrorCodes.VAULT_SEALED, exit: 2 },
    { code: ErrorCodes.AUDIT, exit: 2 },
    { code: ErrorCodes.TIMEOUT, exit: 2 },
    { code: ErrorCodes.INPUT, exit: 2 },
    { code: ErrorCodes.AUDIT_TAMPERED, exit: 1 },
  ] satisfies { code: ErrorCode; exit: number }[])('should exit with $exit for $code', ({ code, exit }) => {
    expect(new CwError(code, 'm').exitCode).toBe(exit);
  });

  it('should give every code a CW_ERR_ name and an exit status of 1 or 2', () => {
    for (const code of Object.values(ErrorCodes)) {
      expect(code).toMatch(/^CW_ERR_[A-Z_]+$/);
      expect([1, 2]).toContain(new CwError(code, 'm').exitCode);
    }
  });

  it.each([
    { name: 'default', opts: undefined, retryable: false, cause: undefined },
    { name: 'retryable', opts: { retryable: true }, retryable: true, cause: undefined },
    { name: 'with a cause', opts: { cause: 'root cause' }, retryable: false, cause: 'root cause' },
  ])('should carry its options: $name', ({ opts, retryable, cause }) => {
    const err = new CwError(ErrorCodes.AWS, 'boom', opts);

    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('CwError');
    expect(err.message).toBe('boom');
    expect(err.code).toBe(ErrorCodes.AWS);
    expect(err.retryable).toBe(retryable);
    expect(err.cause).toBe(cause);
    expect(isCwError(err)).toBe(true);
  });

  it.each([
    { name: 'a plain Error', value: new Error('x') },
    { name: 'a look-alike object', value: { code: ErrorCodes.CONFIG, message: 'x' } },
    { name: 'a string', value: 'x' },
    { name: 'undefined', value: undefined },
  ])('should not take $name for a CwError', ({ value }) => {
    expect(isCwError(value)).toBe(false);
  });
});

describe(describeError.name, () => {
  const sut = describeError;

  it.each([
    {
      name: 'a CwError',
      err: new CwError(ErrorCodes.CONFIG, 'cw.yaml:3 redis.url: must be a URL'),
      expected: 'CW_ERR_CONFIG: cw.yaml:3 redis.url: must be a URL',
    },
    { name: 'a plain Error', err: new TypeError('x is undefined'), expected: 'CW_ERR_INTERNAL: x is undefined' },
    { name: 'a thrown string', err: 'oops', expected: 'CW_ERR_INTERNAL: oops' },
    { name: 'a thrown number', err: 42, expected: 'CW_ERR_INTERNAL: 42' },
    { name: 'undefined', err: undefined, expected: 'CW_ERR_INTERNAL: undefined' },
  ])('should describe $name in one line', ({ err, expected }) => {
    expect(sut(err)).toBe(expected);
  });

  it('should not include the stack trace', () => {
    const err = new CwError(ErrorCodes.AWS, 'denied');

    expect(sut(err)).not.toContain('\n');
    expect(sut(err)).not.toContain(' at ');
  });
});

describe(jobId.name, () => {
  const sut = jobId;

  it.each([
    { parts: ['discover', 'aws/123456789012'], expected: 'discover/aws/123456789012' },
    { parts: ['scan:2026-01-01T00:00:00Z'], expected: 'scan_2026-01-01T00_00_00Z' },
    { parts: ['a:b:c', 'd:e'], expected: 'a_b_c/d_e' },
    { parts: ['123'], expected: 'j-123' },
    { parts: ['0'], expected: 'j-0' },
    { parts: ['12', '34'], expected: '12/34' },
    { parts: ['1:2'], expected: '1_2' },
  ])('should turn $parts into $expected', ({ parts, expected }) => {
    expect(sut(...parts)).toBe(expected);
  });

  it.each([['123'], ['0', ''], ['9999999999'], ['1:2', '3'], ['scan', '2026:01:01'], ['aws/123456789012', 'AKIA:X']])(
    'should never yield a colon or an all-digit id for %j',
    (...parts: string[]) => {
      const id = sut(...parts);

      expect(id).not.toContain(':');
      expect(id).not.toMatch(/^\d+$/);
    },
  );

  it('should be deterministic', () => {
    expect(sut('discover', 'scan:1', 'aws/1')).toBe(sut('discover', 'scan:1', 'aws/1'));
  });
});

describe(vaultNamespaceSegment.name, () => {
  const sut = vaultNamespaceSegment;

  it.each([
    { ns: '', expected: 'root' },
    { ns: '/', expected: 'root' },
    { ns: 'root', expected: 'root' },
    { ns: 'team-a/', expected: 'team-a' },
    { ns: 'team-a', expected: 'team-a' },
    { ns: '/team-a/', expected: 'team-a' },
    // One id segment, so a namespace's id prefixes never cover its children's ids.
    { ns: 'team-a/child/', expected: 'team-a%2Fchild' },
  ])('should map "$ns" to "$expected"', ({ ns, expected }) => {
    expect(sut(ns)).toBe(expected);
  });
});

describe('credential ids', () => {
  it.each([
    {
      name: 'access key',
      id: awsAccessKeyId('123456789012', 'AKIAEXAMPLE'),
      expected: 'aws/123456789012/access-key/AKIAEXAMPLE',
    },
    { name: 'role', id: awsRoleId('123456789012', 'agent-role'), expected: 'aws/123456789012/role/agent-role' },
    {
      name: 'console password',
      id: awsConsolePasswordId('123456789012', 'svc-bot'),
      expected: 'aws/123456789012/console-password/svc-bot',
    },
    { name: 'root token', id: vaultTokenId('main', '', 'acc1'), expected: 'vault/main/root/token/acc1' },
    { name: 'namespaced token', id: vaultTokenId('main', 'team-a/', 'acc1'), expected: 'vault/main/team-a/token/acc1' },
    {
      name: 'approle role',
      id: vaultAppRoleId('main', 'root', 'approle', 'bot'),
      expected: 'vault/main/root/approle/approle/bot',
    },
    {
      name: 'secret id',
      id: vaultSecretIdId('main', 'team-a/', 'approle', 'bot', 'sid1'),
      expected: 'vault/main/team-a/approle/approle/bot/secret-id/sid1',
    },
    {
      name: 'lease',
      id: vaultLeaseId('main', '', 'aws/creds/bot/abc'),
      expected: 'vault/main/root/lease/aws/creds/bot/abc',
    },
    {
      name: 'aws role',
      id: vaultAwsRoleId('main', 'root', 'aws', 'bot'),
      expected: 'vault/main/root/aws-role/aws/bot',
    },
  ])('should build the $name id', ({ id, expected }) => {
    expect(id).toBe(expected);
  });

  it('should give the root namespace one id whatever its spelling', () => {
    expect(
      new Set([vaultTokenId('c', '', 'a'), vaultTokenId('c', 'root', 'a'), vaultTokenId('c', '/', 'a')]).size,
    ).toBe(1);
  });
});

/** Runs `fn` under a tracker that records the highest number of calls in flight. */
function tracked<T>(fn: (x: T) => Promise<unknown>) {
  const state = { active: 0, peak: 0 };
  const wrapped = async (x: T) => {
    state.active++;
    state.peak = Math.max(state.peak, state.active);
    try {
      return await fn(x);
    } finally {
      state.active--;
    }
  };
  return { state, wrapped };
}

describe(mapLimit.name, () => {
  const sut = mapLimit;

  it.each([
    { limit: 1, count: 5 },
    { limit: 2, count: 7 },
    { limit: 4, count: 3 },
    { limit: 10, count: 10 },
  ])('should keep at most $limit of $count calls in flight and keep input order', async ({ limit, count }) => {
    const items = Array.from({ length: count }, (_, i) => i);
    // Later items finish first, so completion order differs from input order.
    const { state, wrapped } = tracked(async (x: number) => {
      await sleep((count - x) * 2);
      return x * 10;
    });

    const out = await sut(items, limit, (x) => wrapped(x) as Promise<number>);

    expect(out).toEqual(items.map((x) => x * 10));
    expect(state.peak).toBe(Math.min(limit, count));
  });

  it('should pass each item its index', async () => {
    expect(await sut(['a', 'b', 'c'], 2, async (x, i) => `${i}:${x}`)).toEqual(['0:a', '1:b', '2:c']);
  });

  it('should return an empty list for no items', async () => {
    let calls = 0;

    const out = await sut([], 3, async () => ++calls);

    expect(out).toEqual([]);
    expect(calls).toBe(0);
  });

  it('should reject with the first rejection', async () => {
    const boom = new Error('boom');

    await expect(
      sut([1, 2, 3], 2, async (x) => {
        if (x === 2) throw boom;
        return x;
      }),
    ).rejects.toBe(boom);
  });
});

describe(Semaphore.name, () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('should reject the limit %s', (limit) => {
    expect(() => new Semaphore(limit)).toThrow(/positive integer/);
  });

  it.each([1, 2, 3])('should run at most %i tasks at once and return their results', async (limit) => {
    const sut = new Semaphore(limit);
    const { state, wrapped } = tracked(async (x: number) => {
      await sleep(5);
      return x;
    });

    const out = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => sut.run(() => wrapped(x))));

    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(state.peak).toBe(limit);
    expect(sut.inFlight).toBe(0);
  });

  it('should release its slot when a task fails', async () => {
    const sut = new Semaphore(1);

    await expect(sut.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');

    expect(await sut.run(async () => 'next')).toBe('next');
    expect(sut.inFlight).toBe(0);
  });
});

describe(sleep.name, () => {
  it('should reject at once with the reason of an aborted signal', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);

    await expect(sleep(60_000, controller.signal)).rejects.toBe(reason);
  });

  it('should reject when aborted while waiting', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');

    const waiting = sleep(60_000, controller.signal);
    controller.abort(reason);

    await expect(waiting).rejects.toBe(reason);
  });
});
