import { describe, expect, it } from 'vitest';
import {
  type AuditEvent,
  assertNoSecrets,
  type BreakReason,
  buildEvent,
  canonicalJson,
  GENESIS_HASH,
  hashEvent,
  prepareForAppend,
  prepareInput,
  verifyChain,
} from '../../src/audit/index.js';
import { CwError, ErrorCodes } from '../../src/errors.js';

const KEY = 'test-hmac-key';

function buildChain(n: number, hmacKey?: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body = {
      seq,
      time: new Date(Date.UTC(2026, 10, 1, 0, 0, seq)).toISOString(),
      type: 'action.intent',
      actor: 'worker-1',
      subject: `aws/123456789012/access-key/AKIAEXAMPLE${seq}`,
      data: { attempt: seq, reason: 'stale', tags: ['a', 'b'] },
      prevHash,
    };
    const event = { ...body, hash: hashEvent(body, hmacKey) };
    out.push(event);
    prevHash = event.hash;
  }
  return out;
}

/** Edits an event's data and recomputes its own hash (what an attacker without the key can do). */
function forge(e: AuditEvent, hmacKey?: string): AuditEvent {
  const edited = { ...e, data: { ...e.data, reason: 'approved' } };
  return { ...edited, hash: hashEvent(edited, hmacKey) };
}

interface Case {
  name: string;
  hmacKey?: string;
  tamper: (c: AuditEvent[]) => unknown[];
  expected: { reason: BreakReason; seq: number; position: number } | null;
  count?: number;
}

const cases: Case[] = [
  { name: 'intact chain', tamper: (c) => c, expected: null, count: 10 },
  { name: 'empty chain', tamper: () => [], expected: null, count: 0 },
  {
    name: 'edited event (data changed, hash kept)',
    tamper: (c) => c.map((e) => (e.seq === 4 ? { ...e, data: { ...e.data, reason: 'approved' } } : e)),
    expected: { reason: 'hash-mismatch', seq: 4, position: 3 },
    count: 3,
  },
  {
    name: 'edited event with its hash recomputed (no key)',
    tamper: (c) => c.map((e) => (e.seq === 4 ? forge(e) : e)),
    expected: { reason: 'prev-hash-mismatch', seq: 5, position: 4 },
    count: 4,
  },
  {
    name: 'keyed chain: forgery recomputed without the key',
    hmacKey: KEY,
    tamper: (c) => c.map((e) => (e.seq === 4 ? forge(e) : e)),
    expected: { reason: 'hash-mismatch', seq: 4, position: 3 },
  },
  {
    name: 'keyed chain: forgery recomputed with a guessed key',
    hmacKey: KEY,
    tamper: (c) => c.map((e) => (e.seq === 4 ? forge(e, 'guess') : e)),
    expected: { reason: 'hash-mismatch', seq: 4, position: 3 },
  },
  {
    name: 'deleted middle event',
    tamper: (c) => c.filter((e) => e.seq !== 6),
    expected: { reason: 'seq-gap', seq: 7, position: 5 },
    count: 5,
  },
  {
    name: 'deleted middle event, later events renumbered',
    tamper: (c) => c.filter((e) => e.seq !== 6).map((e) => (e.seq > 6 ? { ...e, seq: e.seq - 1 } : e)),
    expected: { reason: 'hash-mismatch', seq: 6, position: 5 },
  },
  {
    name: 'deleted first event',
    tamper: (c) => c.slice(1),
    expected: { reason: 'seq-gap', seq: 2, position: 0 },
    count: 0,
  },
  {
    name: 'reordered pair',
    tamper: (c) => [...c.slice(0, 4), c[5], c[4], ...c.slice(6)],
    expected: { reason: 'seq-out-of-order', seq: 6, position: 4 },
  },
  {
    name: 'event moved far back',
    tamper: (c) => [...c.slice(0, 2), ...c.slice(3, 8), c[2], ...c.slice(8)],
    expected: { reason: 'seq-out-of-order', seq: 4, position: 2 },
  },
  {
    name: 'duplicate event',
    tamper: (c) => [...c.slice(0, 5), c[4], ...c.slice(5)],
    expected: { reason: 'duplicate-seq', seq: 5, position: 5 },
  },
  {
    name: 'malformed event (unhashed extra field)',
    tamper: (c) => c.map((e) => (e.seq === 3 ? { ...e, note: 'approved by cfo' } : e)),
    expected: { reason: 'malformed', seq: 3, position: 2 },
  },
  {
    name: 'malformed event (not an object)',
    tamper: (c) => [...c.slice(0, 2), 'garbage', ...c.slice(3)],
    expected: { reason: 'malformed', seq: 3, position: 2 },
  },
  {
    name: 'first break wins over later ones',
    tamper: (c) => c.filter((e) => e.seq !== 8).map((e) => (e.seq === 3 ? forge(e) : e)),
    expected: { reason: 'prev-hash-mismatch', seq: 4, position: 3 },
  },
];

describe('verifyChain', () => {
  it.each(cases)('$name', ({ hmacKey, tamper, expected, count }) => {
    const events = tamper(buildChain(10, hmacKey)) as AuditEvent[];
    const r = verifyChain(events, hmacKey === undefined ? {} : { hmacKey });
    if (expected === null) {
      expect(r.ok).toBe(true);
      expect(r.firstBroken).toBeUndefined();
    } else {
      expect(r.ok).toBe(false);
      expect(r.firstBroken).toMatchObject(expected);
      expect(r.firstBroken?.detail).toBeTruthy();
    }
    if (count !== undefined) expect(r.count).toBe(count);
  });

  it('reports the verified prefix as count and head', () => {
    const chain = buildChain(10);
    const r = verifyChain(chain.filter((e) => e.seq !== 6));
    expect(r).toMatchObject({ count: 5, headSeq: 5, headHash: chain[4]!.hash });
    const ok = verifyChain(chain);
    expect(ok).toEqual({ ok: true, count: 10, headSeq: 10, headHash: chain[9]!.hash });
  });

  it('a keyed chain fails without the key, at seq 1', () => {
    const r = verifyChain(buildChain(3, KEY));
    expect(r.firstBroken).toMatchObject({ reason: 'hash-mismatch', seq: 1, position: 0 });
    expect(verifyChain(buildChain(3, KEY), { hmacKey: KEY }).ok).toBe(true);
  });

  it('a chain whose first event links elsewhere fails at position 0', () => {
    const [, second] = buildChain(2);
    const body = { ...second!, seq: 1 };
    const rogue = { ...body, hash: hashEvent(body) };
    expect(verifyChain([rogue]).firstBroken).toMatchObject({ reason: 'prev-hash-mismatch', seq: 1, position: 0 });
  });

  it('expectedHead reveals a deleted tail and a rewritten head record', () => {
    const chain = buildChain(10);
    const head = { seq: 10, hash: chain[9]!.hash };
    expect(verifyChain(chain, { expectedHead: head }).ok).toBe(true);
    const truncated = verifyChain(chain.slice(0, 8), { expectedHead: head });
    expect(truncated.firstBroken).toMatchObject({ reason: 'head-mismatch', seq: 10, position: 8 });
    expect(truncated.firstBroken?.detail).toMatch(/tail is missing/);
    const rewritten = verifyChain(chain, { expectedHead: { seq: 10, hash: 'f'.repeat(64) } });
    expect(rewritten.firstBroken).toMatchObject({ reason: 'head-mismatch', seq: 10 });
  });
});

describe('canonicalJson', () => {
  it('does not depend on key order, at any depth', () => {
    const a = { b: 1, a: { y: [1, { q: true, p: null }], x: 'é"\n' } };
    const b = { a: { x: 'é"\n', y: [1, { p: null, q: true }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"é\\"\\n","y":[1,{"p":null,"q":true}]},"b":1}');
  });

  it('survives a JSON round trip and drops undefined properties', () => {
    const v = { n: 1e21, f: 0.1, neg: -0, d: new Date('2026-01-02T03:04:05Z'), u: undefined };
    const s = canonicalJson(v);
    expect(s).toBe('{"d":"2026-01-02T03:04:05.000Z","f":0.1,"n":1e+21,"neg":0}');
    expect(canonicalJson(JSON.parse(s))).toBe(s);
  });

  it.each([
    ['NaN', { x: Number.NaN }],
    ['Infinity', { x: [Number.POSITIVE_INFINITY] }],
    ['bigint', { x: 1n }],
    ['a Map', { x: new Map() }],
    ['undefined in an array', [undefined]],
  ])('rejects %s', (_name, v) => {
    expect(() => canonicalJson(v)).toThrow(CwError);
  });

  it('rejects cycles but accepts shared references', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/circular/);
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
  });
});

describe('assertNoSecrets', () => {
  const rejects = (v: unknown): CwError => {
    try {
      assertNoSecrets(v);
    } catch (err) {
      expect(err).toBeInstanceOf(CwError);
      expect((err as CwError).code).toBe(ErrorCodes.AUDIT);
      return err as CwError;
    }
    throw new Error('expected assertNoSecrets to throw');
  };

  it('rejects a secret field name at any depth, case-insensitively, without echoing the value', () => {
    const err = rejects({ nested: { SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } });
    expect(err.message).toContain('$.nested.SecretAccessKey');
    expect(err.message).not.toContain('wJalr');
    rejects({ list: [{ ok: 1 }, { SESSIONTOKEN: null }] });
    rejects({ headers: { 'x-vault-token': 'redacted' } });
  });

  it('rejects a Vault token value, current and legacy formats', () => {
    const err = rejects({ note: 'hvs.CAESIJlU0k1h2u5Hd0cn3Ct7pKzWqjS1fuGp8xk2' });
    expect(err.message).toContain('$.note');
    expect(err.message).not.toContain('hvs.');
    rejects({ tokens: ['hvb.AAAAAQJ3ZXjbPq_hN0x9HkYv2DcT'] });
    rejects({ t: 's.Qf1s5zigZ4OX6akYjQXJC1jY' });
  });

  it('accepts access key ids, accessors and ordinary data', () => {
    expect(() =>
      assertNoSecrets({
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        sessionKeyId: 'ASIAIOSFODNN7EXAMPLE',
        accessor: 'hmac-accessor-0c1f',
        tokenAccessor: 'Z6xFNhAAuvB9vEUqYbrB5vHr',
        reason: 'hvs is a prefix, this is prose',
        kind: 'aws-console-password',
      }),
    ).not.toThrow();
  });
});

describe('prepareInput', () => {
  it('checks the stored form, so toJSON cannot smuggle a secret field', () => {
    class Creds {
      toJSON() {
        return { sessionToken: 'FwoGZXIvYXdzEXAMPLE' };
      }
    }
    const sneaky = new Creds();
    expect(() => prepareInput({ type: 't', actor: 'a', subject: 's', data: { creds: sneaky } })).toThrow(
      /sessionToken/,
    );
  });

  it('takes the default actor and requires one', () => {
    expect(prepareInput({ type: 't', subject: 's', data: {} }, 'credwarden').actor).toBe('credwarden');
    expect(() => prepareInput({ type: 't', subject: 's', data: {} })).toThrow(/actor is required/);
  });
});

describe('buildEvent (the append fast path)', () => {
  it('produces exactly the canonical text and hash that canonicalJson and hashEvent define', () => {
    const inputs = [
      { type: 't', actor: 'a', subject: 's', data: {} },
      {
        type: 'finding.opened',
        actor: 'credwarden',
        subject: 'aws/123456789012/access-key/AKIAEXAMPLE',
        data: {
          z: [1, 'two', { b: null, a: true }],
          a: 'ünïcødé \u2028 "quoted" \\ back',
          n: -0.5e-7,
          nested: { y: 1, x: 2 },
        },
      },
      { type: 'ε', actor: 'user:ø', subject: '\u0000\u001f', data: { '': '', '\ud83d\ude00': 1 } },
    ];
    for (const hmacKey of [undefined, 'k3y-0123456789abcdef']) {
      let prev = GENESIS_HASH;
      for (const [i, input] of inputs.entries()) {
        const p = prepareForAppend(input);
        const { event, text } = buildEvent(p, i + 1, `2026-11-0${i + 1}T00:00:00.000Z`, prev, hmacKey);
        const { hash, ...body } = event;
        expect(hash).toBe(hashEvent(body, hmacKey));
        expect(text).toBe(canonicalJson(event));
        expect(JSON.parse(text)).toEqual(event);
        prev = hash;
      }
    }
  });
});
