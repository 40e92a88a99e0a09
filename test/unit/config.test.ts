// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` is the config syntax under test, not a template.
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveEnvRefs } from '../../src/config/env-refs.js';
import { loadConfigText } from '../../src/config/load.js';
import { ConfigSchema } from '../../src/config/schema.js';
import { formatPath } from '../../src/config/yaml-source.js';
import { CwError, ErrorCodes } from '../../src/errors.js';

const DIR = '/srv/credwarden';
const FILE = join(DIR, 'credwarden.yaml');

/** Lines joined with "\n", so a case's line numbers can be read off its array index + 1. */
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function configError(text: string, env: NodeJS.ProcessEnv = {}): CwError {
  let caught: unknown;
  try {
    loadConfigText(FILE, text, env);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CwError);
  return caught as CwError;
}

describe(loadConfigText.name, () => {
  const sut = loadConfigText;

  describe('defaults', () => {
    it.each([
      { name: 'an empty file', text: '' },
      { name: 'an empty mapping', text: '{}\n' },
      { name: 'only a log level', text: yaml('log:', '  level: debug') },
    ])('should fill every documented default for $name', ({ text }) => {
      const config = sut(FILE, text, {});

      expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'credwarden', cluster: false });
      expect(config.schedules).toEqual({ discover: '*/15 * * * *', drills: [] });
      expect(config.worker).toEqual({
        discoverConcurrency: 4,
        shutdownTimeoutSeconds: 30,
        leaseSeconds: 30,
        stalledCheckSeconds: 30,
        maxStalledCount: 3,
      });
      expect(config.scan).toEqual({ timeoutSeconds: 1800 });
      expect(config.vault).toEqual([]);
      expect(config.aws).toBeUndefined();
      expect(config.audit).toEqual({ file: join(DIR, '.cw', 'credwarden.audit.jsonl') });
      expect(config.registry).toBe(join(DIR, 'agents.yaml'));
      // No policies key: the default packs shipped with credwarden are used (see policy/packs.ts).
      expect(config.policies).toBeUndefined();
      expect(config.configFile).toBe(FILE);
      expect(config.baseDir).toBe(DIR);
    });

    it('should fill the aws defaults when an aws section is present', () => {
      const config = sut(FILE, yaml('aws:', '  accounts:', '    - id: "123456789012"'), {});

      expect(config.aws).toEqual({
        region: 'us-east-1',
        accounts: [{ id: '123456789012' }],
        maxConcurrency: 4,
        maxAttempts: 5,
        assumeRoleSessionSeconds: 3600,
        credentialReportTimeoutSeconds: 120,
        requestTimeoutMs: 30_000,
      });
    });

    it('should fill the vault cluster defaults', () => {
      const text = yaml(
        'vault:',
        '  - name: main',
        '    address: http://127.0.0.1:8200',
        '    token: ${env:VAULT_TOKEN}',
      );

      const config = sut(FILE, text, { VAULT_TOKEN: 'tok' });

      expect(config.vault).toEqual([
        {
          name: 'main',
          address: 'http://127.0.0.1:8200',
          token: 'tok',
          namespaces: ['root'],
          approleMounts: ['approle'],
          leasePrefixes: [],
          awsMounts: [],
          requestTimeoutMs: 10_000,
          concurrency: 16,
        },
      ]);
    });

    it('should accept the config contract example from the design document', () => {
      const text = yaml(
        'redis: { url: redis://127.0.0.1:6379, prefix: credwarden }',
        'aws:',
        '  endpoint: http://127.0.0.1:5000',
        '  region: us-east-1',
        '  accounts:',
        '    - { id: "123456789012" }',
        '    - { id: "111111111111", roleArn: "arn:aws:iam::111111111111:role/credwarden-reader", externalId: "${env:CW_EXTERNAL_ID}" }',
        'vault:',
        '  - name: main',
        '    address: http://127.0.0.1:8200',
        '    token: ${env:VAULT_TOKEN}',
        '    namespaces: [root]',
        '    approleMounts: [approle]',
        '    leasePrefixes: [aws/creds/]',
        'registry: agents.yaml',
        'policies: [policies/]',
        'schedules: { discover: "*/15 * * * *" }',
      );

      const config = sut(FILE, text, { CW_EXTERNAL_ID: 'ext-123', VAULT_TOKEN: 'tok' });

      expect(config.aws?.accounts?.[1]).toEqual({
        id: '111111111111',
        roleArn: 'arn:aws:iam::111111111111:role/credwarden-reader',
        externalId: 'ext-123',
      });
      expect(config.vault[0]?.leasePrefixes).toEqual(['aws/creds/']);
    });
  });

  describe('paths', () => {
    it.each([
      {
        name: 'relative paths against the config file directory',
        lines: ['registry: conf/agents.yaml', 'policies: [p1/, ../shared/p2]', 'audit:', '  file: logs/audit.jsonl'],
        expected: {
          registry: join(DIR, 'conf', 'agents.yaml'),
          policies: [join(DIR, 'p1'), resolve(DIR, '..', 'shared', 'p2')],
          auditFile: join(DIR, 'logs', 'audit.jsonl'),
        },
      },
      {
        name: 'absolute paths unchanged',
        lines: ['registry: /etc/cw/agents.yaml', 'policies: [/etc/cw/policies]', 'audit:', '  file: /var/log/cw.jsonl'],
        expected: { registry: '/etc/cw/agents.yaml', policies: ['/etc/cw/policies'], auditFile: '/var/log/cw.jsonl' },
      },
    ])('should resolve $name', ({ lines, expected }) => {
      const config = sut(FILE, yaml(...lines), {});

      expect(config.registry).toBe(expected.registry);
      expect(config.policies).toEqual(expected.policies);
      expect(config.audit.file).toBe(expected.auditFile);
    });

    it('should resolve a relative config file name against the working directory', () => {
      const config = sut(join('deploy', 'credwarden.yaml'), '', {});

      expect(config.configFile).toBe(resolve('deploy', 'credwarden.yaml'));
      expect(config.baseDir).toBe(resolve('deploy'));
      expect(config.audit.file).toBe(resolve('deploy', '.cw', 'credwarden.audit.jsonl'));
      expect(config.registry).toBe(resolve('deploy', 'agents.yaml'));
    });
  });

  describe('${env:NAME} references', () => {
    it.each([
      {
        name: 'a whole-value reference for a vault token',
        lines: ['vault:', '  - name: main', '    address: https://vault:8200', '    token: ${env:VAULT_TOKEN}'],
        env: { VAULT_TOKEN: 'hvs.secret' },
        pick: (c: ReturnType<typeof loadConfigText>) => c.vault[0]?.token,
        expected: 'hvs.secret',
      },
      {
        name: 'a reference embedded in an externalId',
        lines: ['aws:', '  accounts:', '    - id: "123456789012"', '      externalId: "pre-${env:EXT}-post"'],
        env: { EXT: 'abc' },
        pick: (c: ReturnType<typeof loadConfigText>) => c.aws?.accounts?.[0]?.externalId,
        expected: 'pre-abc-post',
      },
      {
        name: 'several references in one string',
        lines: ['aws:', '  accounts:', '    - id: "123456789012"', '      externalId: "${env:A}-${env:B}"'],
        env: { A: 'left', B: 'right' },
        pick: (c: ReturnType<typeof loadConfigText>) => c.aws?.accounts?.[0]?.externalId,
        expected: 'left-right',
      },
      {
        name: 'a reference in a non-secret url',
        lines: ['redis:', '  url: redis://${env:REDIS_HOST}:6379'],
        env: { REDIS_HOST: 'cache.internal' },
        pick: (c: ReturnType<typeof loadConfigText>) => c.redis.url,
        expected: 'redis://cache.internal:6379',
      },
      {
        name: 'an hmacKey reference',
        lines: ['audit:', '  hmacKey: ${env:CW_HMAC}'],
        env: { CW_HMAC: '0123456789abcdef0123' },
        pick: (c: ReturnType<typeof loadConfigText>) => c.audit.hmacKey,
        expected: '0123456789abcdef0123',
      },
    ])('should resolve $name', ({ lines, env, pick, expected }) => {
      expect(pick(sut(FILE, yaml(...lines), env))).toBe(expected);
    });
  });

  describe('errors', () => {
    interface ErrorCase {
      name: string;
      lines: string[];
      env?: NodeJS.ProcessEnv;
      line: number;
      path: string;
      message: RegExp;
    }

    const cases: ErrorCase[] = [
      {
        name: 'a bad account id',
        lines: ['aws:', '  accounts:', '    - id: "123456789012"', '    - id: "12345"'],
        line: 4,
        path: 'aws.accounts[1].id',
        message: /12-digit AWS account id/,
      },
      {
        name: 'a bad role ARN',
        lines: [
          'redis:',
          '  prefix: cw',
          'aws:',
          '  accounts:',
          '    - id: "123456789012"',
          '    - id: "210987654321"',
          '      roleArn: arn:aws:iam::210987654321:user/reader',
        ],
        line: 7,
        path: 'aws.accounts[1].roleArn',
        message: /IAM role ARN/,
      },
      {
        name: 'an unquoted (numeric) account id',
        lines: ['aws:', '  accounts:', '    - id: 123456789012'],
        line: 3,
        path: 'aws.accounts[0].id',
        message: /expected string/,
      },
      {
        name: 'a string where a number belongs',
        lines: ['worker:', '  discoverConcurrency: "four"'],
        line: 2,
        path: 'worker.discoverConcurrency',
        message: /expected number/,
      },
      {
        name: 'a number out of range',
        lines: ['aws:', '  region: eu-west-1', '  maxConcurrency: 100'],
        line: 3,
        path: 'aws.maxConcurrency',
        message: /32/,
      },
      {
        name: 'a cron expression with an impossible minute',
        lines: ['schedules:', '  discover: "61 * * * *"'],
        line: 2,
        path: 'schedules.discover',
        message: /not a valid cron expression/,
      },
      {
        name: 'a cron expression with too many fields',
        lines: ['schedules:', '  discover: "* * * * * * *"'],
        line: 2,
        path: 'schedules.discover',
        message: /not a valid cron expression/,
      },
      {
        name: 'a redis url without a scheme',
        lines: ['redis:', '  url: localhost:6379'],
        line: 2,
        path: 'redis.url',
        message: /must be a URL/,
      },
      {
        name: 'a redis prefix with a colon',
        lines: ['redis:', '  prefix: "cw:prod"'],
        line: 2,
        path: 'redis.prefix',
        message: /letters, digits/,
      },
      {
        name: 'an unknown log level',
        lines: ['log:', '  level: verbose'],
        line: 2,
        path: 'log.level',
        message: /expected one of/,
      },
      {
        name: 'an uppercase vault cluster name',
        lines: ['vault:', '  - name: Prod', '    address: https://vault:8200', '    token: ${env:VT}'],
        env: { VT: 'x' },
        line: 2,
        path: 'vault[0].name',
        message: /lowercase/,
      },
      {
        name: 'an empty vault namespace list',
        lines: [
          'vault:',
          '  - name: prod',
          '    address: https://vault:8200',
          '    token: ${env:VT}',
          '    namespaces: []',
        ],
        env: { VT: 'x' },
        line: 5,
        path: 'vault[0].namespaces',
        message: /1 items/,
      },
      {
        name: 'a literal vault token',
        lines: ['vault:', '  - name: prod', '    address: https://vault:8200', '    token: hvs.literal-secret'],
        line: 4,
        path: 'vault[0].token',
        message: /\$\{env:NAME\} reference/,
      },
      {
        name: 'a literal token on the second cluster',
        lines: [
          'vault:',
          '  - name: prod',
          '    address: https://vault:8200',
          '    token: ${env:VT}',
          '  - name: dr',
          '    address: https://vault-dr:8200',
          '    token: hvs.literal-secret',
        ],
        env: { VT: 'x' },
        line: 7,
        path: 'vault[1].token',
        message: /\$\{env:NAME\} reference/,
      },
      {
        name: 'a vault token that only embeds a reference',
        lines: ['vault:', '  - name: prod', '    address: https://vault:8200', '    token: "Bearer ${env:VT}"'],
        env: { VT: 'x' },
        line: 4,
        path: 'vault[0].token',
        message: /\$\{env:NAME\} reference/,
      },
      {
        name: 'a literal hmacKey',
        lines: ['audit:', '  file: audit.jsonl', '  hmacKey: literal-key-0123456789'],
        line: 3,
        path: 'audit.hmacKey',
        message: /\$\{env:NAME\} reference/,
      },
      {
        name: 'an unset variable for a vault token',
        lines: ['vault:', '  - name: prod', '    address: https://vault:8200', '    token: ${env:MISSING}'],
        line: 4,
        path: 'vault[0].token',
        message: /environment variable MISSING is not set/,
      },
      {
        name: 'an unset variable inside an externalId',
        lines: ['aws:', '  accounts:', '    - id: "123456789012"', '      externalId: "ext-${env:CW_EXTERNAL_ID}"'],
        line: 4,
        path: 'aws.accounts[0].externalId',
        message: /environment variable CW_EXTERNAL_ID is not set/,
      },
      {
        name: 'a variable set to the empty string',
        lines: ['audit:', '  hmacKey: ${env:CW_HMAC}'],
        env: { CW_HMAC: '' },
        line: 2,
        path: 'audit.hmacKey',
        message: /environment variable CW_HMAC is not set/,
      },
      {
        name: 'an hmacKey shorter than 16 characters after resolution',
        lines: ['audit:', '  hmacKey: ${env:CW_HMAC}'],
        env: { CW_HMAC: 'short' },
        line: 2,
        path: 'audit.hmacKey',
        message: /at least 16 characters/,
      },
      {
        name: 'a missing required key',
        lines: ['vault:', '  - name: prod', '    token: ${env:VT}'],
        env: { VT: 'x' },
        line: 2,
        path: 'vault[0].address',
        message: /expected string, received undefined/,
      },
    ];

    it.each(cases)('should report $name as one located CW_ERR_CONFIG error', ({ lines, env, line, path, message }) => {
      const err = configError(yaml(...lines), env);

      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message.startsWith(`${FILE}:${line} ${path}: `)).toBe(true);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('\n');
    });

    it.each([
      {
        name: 'a literal vault token',
        lines: ['vault:', '  - name: p', '    address: https://v:8200', '    token: hvs.TOPSECRET'],
      },
      { name: 'a literal hmacKey', lines: ['audit:', '  hmacKey: TOPSECRET-0123456789'] },
      { name: 'a too-short resolved hmacKey', lines: ['audit:', '  hmacKey: ${env:K}'], env: { K: 'TOPSECRET' } },
    ])('should never echo the secret value of $name', ({ lines, env }) => {
      const err = configError(yaml(...lines), env ?? {});

      expect(err.message).not.toContain('TOPSECRET');
    });

    it.each([
      {
        name: 'a nested unknown key',
        lines: ['redis:', '  url: redis://cache:6379', '  bogus: 1'],
        line: 3,
        path: 'redis\\.bogus',
        key: 'bogus',
      },
      {
        name: 'an unknown top-level key',
        lines: ['redis:', '  url: redis://cache:6379', 'bogus: 1'],
        line: 3,
        path: 'bogus',
        key: 'bogus',
      },
      {
        name: 'an unknown account key',
        lines: ['aws:', '  accounts:', '    - id: "123456789012"', '      role: x', '      bogus: 1'],
        line: 4,
        path: 'aws\\.accounts\\[0\\]\\.role',
        key: 'role',
      },
    ])(
      "should reject $name (strict schema) naming the file, the key's own line and its path",
      ({ lines, line, path, key }) => {
        const err = configError(yaml(...lines));

        expect(err.code).toBe(ErrorCodes.CONFIG);
        expect(err.message).toMatch(new RegExp(`^${FILE}:${line} ${path}: .*"${key}"`));
      },
    );

    it.each([
      { name: 'an unclosed flow sequence', lines: ['aws:', '  region: us-east-1', '  accounts: ['], line: 3 },
      { name: 'misaligned mapping items', lines: ['a: 1', 'b:', '  - x', '  y: 2'], line: 4 },
      {
        name: 'a duplicate key',
        lines: ['redis:', '  url: redis://a:6379', '  url: redis://b:6379'],
        line: 3,
        fragment: /unique/,
      },
    ])('should report $name as a YAML syntax error naming the file and line', ({ lines, line, fragment }) => {
      const err = configError(yaml(...lines));

      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toMatch(new RegExp(`^${FILE}:\\d+: YAML syntax error: `));
      expect(Number(/:(\d+): YAML/.exec(err.message)![1])).toBeGreaterThanOrEqual(line - 1);
      if (fragment) expect(err.message).toMatch(fragment);
      expect(err.message).not.toContain('\n');
    });

    it.each([
      { name: 'a sequence', text: '- a\n- b\n' },
      { name: 'a scalar', text: 'just text\n' },
    ])('should reject $name at the top level', ({ text }) => {
      const err = configError(text);

      expect(err.code).toBe(ErrorCodes.CONFIG);
      expect(err.message).toBe(`${FILE}: must be a YAML mapping`);
    });

    it('should report only the first issue and count the rest', () => {
      const err = configError(yaml('worker:', '  discoverConcurrency: 0', '  shutdownTimeoutSeconds: 0'));

      expect(err.message).toMatch(new RegExp(`^${FILE}:2 worker\\.discoverConcurrency: .*\\(and 1 more\\)$`));
    });

    it('should map to exit code 2', () => {
      const err = configError(yaml('schedules:', '  discover: nope'));

      expect(err.exitCode).toBe(2);
    });
  });
});

describe('ConfigSchema', () => {
  it.each([
    { name: 'every 15 minutes', cron: '*/15 * * * *' },
    { name: 'six fields with seconds', cron: '0 */5 * * * *' },
    { name: 'a fixed daily time', cron: '30 2 * * *' },
  ])('should accept a valid cron expression: $name', ({ cron }) => {
    expect(ConfigSchema.safeParse({ schedules: { discover: cron } }).success).toBe(true);
  });

  it.each([
    { name: 'a 12-digit account without a role', account: { id: '123456789012' }, ok: true },
    {
      name: 'a GovCloud role ARN',
      account: { id: '123456789012', roleArn: 'arn:aws-us-gov:iam::123456789012:role/r' },
      ok: true,
    },
    {
      name: 'a role ARN with a path',
      account: { id: '123456789012', roleArn: 'arn:aws:iam::123456789012:role/p/r' },
      ok: true,
    },
    { name: 'an 11-digit account', account: { id: '12345678901' }, ok: false },
    { name: 'a 13-digit account', account: { id: '1234567890123' }, ok: false },
    { name: 'a user ARN', account: { id: '123456789012', roleArn: 'arn:aws:iam::123456789012:user/u' }, ok: false },
    {
      name: 'a role ARN without a name',
      account: { id: '123456789012', roleArn: 'arn:aws:iam::123456789012:role/' },
      ok: false,
    },
    { name: 'a one-character externalId', account: { id: '123456789012', externalId: 'x' }, ok: false },
  ])('should validate accounts: $name', ({ account, ok }) => {
    expect(ConfigSchema.safeParse({ aws: { accounts: [account] } }).success).toBe(ok);
  });

  it('should accept namespace discovery instead of a namespace list', () => {
    const res = ConfigSchema.safeParse({
      vault: [{ name: 'main', address: 'https://vault:8200', token: 't', namespaces: { discover: true } }],
    });

    expect(res.success && res.data.vault[0]?.namespaces).toEqual({ discover: true });
  });
});

describe(resolveEnvRefs.name, () => {
  const sut = resolveEnvRefs;

  it.each([
    { name: 'a plain string', value: 'no refs', env: {}, expected: 'no refs', missing: [] },
    { name: 'a whole reference', value: '${env:A}', env: { A: 'x' }, expected: 'x', missing: [] },
    { name: 'two references', value: '${env:A}/${env:B}', env: { A: 'x', B: 'y' }, expected: 'x/y', missing: [] },
    { name: 'a non-string scalar', value: 42, env: {}, expected: 42, missing: [] },
    { name: 'null', value: null, env: {}, expected: null, missing: [] },
    { name: 'an invalid variable name', value: '${env:1A}', env: { '1A': 'x' }, expected: '${env:1A}', missing: [] },
    { name: 'a non-env reference', value: '${file:/x}', env: {}, expected: '${file:/x}', missing: [] },
    {
      name: 'an unset variable',
      value: 'a-${env:NOPE}',
      env: {},
      expected: 'a-',
      missing: [{ path: [], name: 'NOPE' }],
    },
  ])('should resolve $name', ({ value, env, expected, missing }) => {
    const res = sut(value, env);

    expect(res.value).toEqual(expected);
    expect(res.missing).toEqual(missing);
  });

  it('should walk arrays and objects, reporting each unset variable with its key path', () => {
    const value = { a: [{ b: '${env:X}' }, '${env:Y}'], c: { d: '${env:Z}' } };

    const res = sut(value, { Y: 'y' });

    expect(res.value).toEqual({ a: [{ b: '' }, 'y'], c: { d: '' } });
    expect(res.missing).toEqual([
      { path: ['a', 0, 'b'], name: 'X' },
      { path: ['c', 'd'], name: 'Z' },
    ]);
  });

  it('should not mutate its input', () => {
    const value = { a: ['${env:X}'] };

    sut(value, { X: 'x' });

    expect(value).toEqual({ a: ['${env:X}'] });
  });
});

describe(formatPath.name, () => {
  const sut = formatPath;

  it.each([
    { path: [], expected: '(root)' },
    { path: ['redis'], expected: 'redis' },
    { path: ['aws', 'accounts', 1, 'roleArn'], expected: 'aws.accounts[1].roleArn' },
    { path: ['vault', 0, 'namespaces', 2], expected: 'vault[0].namespaces[2]' },
    { path: [0, 'id'], expected: '[0].id' },
  ])('should format $path as $expected', ({ path, expected }) => {
    expect(sut(path)).toBe(expected);
  });
});
