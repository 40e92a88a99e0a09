/**
 * DESIGN invariant 1, the logging half: pino redaction in src/logger.ts covers every name in
 * SECRET_FIELDS at depths 0 to 3 of a log object (so `{ a: { b: { c: { sessionToken } } } }` is
 * still censored), in child-logger bindings too, and leaves every other field untouched. Checked
 * through an injected destination stream, on the JSON lines pino actually writes.
 */
import { describe, expect, it } from 'vitest';
import { createLogger, SECRET_FIELDS } from '../../src/logger.js';
import { lineSink } from '../support/capture.js';

const SECRET = 'canary-Secret/Value+0123456789';
const PATHS = [['a'], ['a', 'b'], ['a', 'b', 'c']].map((p, i) => ({ depth: i + 1, parents: p }));
const DEPTHS = [{ depth: 0, parents: [] as string[] }, ...PATHS];

/** `{ [parents[0]]: { … { [field]: value } } }` */
function nest(parents: string[], field: string, value: unknown): Record<string, unknown> {
  return parents.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), { [field]: value });
}

function at(obj: unknown, path: string[]): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

function logOnce(write: (log: ReturnType<typeof createLogger>) => void): {
  raw: string;
  parsed: Record<string, unknown>;
} {
  const sink = lineSink();
  const log = createLogger({ level: 'info', destination: sink });
  write(log);
  expect(sink.lines).toHaveLength(1);
  const raw = sink.lines[0]!;
  return { raw, parsed: JSON.parse(raw) };
}

describe('logger redaction (SECRET_FIELDS)', () => {
  it('lists the secret-bearing names the design calls out', () => {
    expect(SECRET_FIELDS).toEqual(
      expect.arrayContaining(['secretAccessKey', 'SecretAccessKey', 'sessionToken', 'SessionToken', 'token']),
    );
    expect(SECRET_FIELDS).toEqual(expect.arrayContaining(['secretId', 'secret_id', 'externalId', 'hmacKey']));
    expect(SECRET_FIELDS).toEqual(expect.arrayContaining(['authorization', 'X-Vault-Token', 'x-vault-token']));
  });

  const cases = SECRET_FIELDS.flatMap((field) =>
    DEPTHS.map(({ depth, parents }) => ({ field, depth: `depth ${depth}`, parents })),
  );

  it.each(cases)('$field at $depth is [Redacted]; its siblings pass through', ({ field, parents }) => {
    const obj = nest(parents, field, SECRET);
    // A non-secret sibling next to the secret, and one at the top level.
    (at(obj, parents) as Record<string, unknown>).accessKeyId = 'AKIAEXAMPLE000000001';
    obj.scanId = 'scan-1';
    const { raw, parsed } = logOnce((log) => log.info(obj, 'msg'));
    expect(raw).not.toContain(SECRET);
    expect(at(parsed, [...parents, field])).toBe('[Redacted]');
    expect(at(parsed, [...parents, 'accessKeyId'])).toBe('AKIAEXAMPLE000000001');
    expect(parsed.scanId).toBe('scan-1');
    expect(parsed.msg).toBe('msg');
  });

  it.each(SECRET_FIELDS)('%s is redacted inside an array of objects (depth 2 through an index)', (field) => {
    const { raw, parsed } = logOnce((log) => log.info({ items: [{ [field]: SECRET, userName: 'svc-bot' }] }));
    expect(raw).not.toContain(SECRET);
    expect(at(parsed, ['items', '0', field])).toBe('[Redacted]');
    expect(at(parsed, ['items', '0', 'userName'])).toBe('svc-bot');
  });

  it.each(SECRET_FIELDS)('%s is redacted in child-logger bindings', (field) => {
    const { raw, parsed } = logOnce((log) => log.child({ [field]: SECRET, unit: 'aws/1' }).info('bound'));
    expect(raw).not.toContain(SECRET);
    expect(parsed[field]).toBe('[Redacted]');
    expect(parsed.unit).toBe('aws/1');
  });

  it('leaves non-secret fields, including look-alike names, untouched at every depth', () => {
    const plain = {
      accessKeyId: 'AKIAEXAMPLE000000001',
      AccessKeyId: 'AKIAEXAMPLE000000002',
      userName: 'svc-invoice-bot',
      passwordLastUsed: '2024-01-01T00:00:00Z',
      tokenAccessor: 'accessor-1',
      tokens: 3,
      secretIdAccessor: 'sid-accessor-1',
      externalIdConfigured: true,
      roleArn: 'arn:aws:iam::111111111111:role/credwarden-reader',
    };
    for (const { parents } of DEPTHS) {
      const obj = parents.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), { ...plain });
      const { parsed } = logOnce((log) => log.info(obj));
      expect(at(parsed, parents)).toMatchObject(plain);
    }
  });
});
