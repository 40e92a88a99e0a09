import {
  type AccessKeyMetadata,
  GenerateCredentialReportCommand,
  GetCredentialReportCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import { _parseRfc3339DateTimeWithOffset } from '@smithy/core/serde';
import { describe, expect, it } from 'vitest';
import { CwError, ErrorCodes } from '../../src/errors.js';
import { reportSlotFor } from '../../src/sources/aws/build-records.js';
import {
  fetchCredentialReport,
  parseCredentialReport,
  type ReportKeySlot,
} from '../../src/sources/aws/credential-report.js';

const HEADER = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'password_next_rotation',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_1_last_used_date',
  'access_key_1_last_used_region',
  'access_key_1_last_used_service',
  'access_key_2_active',
  'access_key_2_last_rotated',
  'access_key_2_last_used_date',
  'access_key_2_last_used_region',
  'access_key_2_last_used_service',
  'cert_1_active',
  'cert_1_last_rotated',
  'cert_2_active',
  'cert_2_last_rotated',
].join(',');

/** A report as AWS writes it: root row first, `N/A` / `no_information` / `not_supported` placeholders. */
const AWS_CSV = [
  HEADER,
  '<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
  'svc-invoice-bot,arn:aws:iam::123456789012:user/svc-invoice-bot,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-01-02T03:04:05+00:00,2026-01-10T08:00:00+00:00,us-east-1,s3,false,2025-02-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A',
  'alice,arn:aws:iam::123456789012:user/people/alice,2024-06-01T00:00:00+00:00,true,no_information,2024-06-01T00:00:00+00:00,2024-09-01T00:00:00+00:00,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
  'agent-scraper,arn:aws:iam::123456789012:user/agent-scraper,2025-03-01T00:00:00+00:00,TRUE,2026-01-09T00:00:00+00:00,2025-03-01T00:00:00+00:00,not_supported,TRUE,False,N/A,N/A,N/A,N/A,TRUE,2025-03-02T00:00:00+00:00,no_information,not_supported,not_supported,false,N/A,false,N/A',
  '',
].join('\n');

describe(parseCredentialReport.name, () => {
  const sut = parseCredentialReport;

  it('should skip the root account row and key rows by user name', () => {
    const report = sut(AWS_CSV, '2026-01-11T00:00:00.000Z');

    expect(report.generatedAt).toBe('2026-01-11T00:00:00.000Z');
    expect([...report.rows.keys()]).toEqual(['svc-invoice-bot', 'alice', 'agent-scraper']);
  });

  it.each([
    {
      user: 'svc-invoice-bot',
      expected: {
        user: 'svc-invoice-bot',
        arn: 'arn:aws:iam::123456789012:user/svc-invoice-bot',
        userCreationTime: '2025-01-01T00:00:00+00:00',
        passwordEnabled: false,
        passwordLastUsed: null,
        passwordLastChanged: null,
        mfaActive: false,
        keys: [
          {
            slot: 1,
            active: true,
            lastRotated: '2025-01-02T03:04:05+00:00',
            lastUsedDate: '2026-01-10T08:00:00+00:00',
            lastUsedRegion: 'us-east-1',
            lastUsedService: 's3',
          },
          {
            slot: 2,
            active: false,
            lastRotated: '2025-02-01T00:00:00+00:00',
            lastUsedDate: null,
            lastUsedRegion: null,
            lastUsedService: null,
          },
        ],
      },
    },
    {
      user: 'alice',
      expected: {
        user: 'alice',
        arn: 'arn:aws:iam::123456789012:user/people/alice',
        userCreationTime: '2024-06-01T00:00:00+00:00',
        passwordEnabled: true,
        passwordLastUsed: null,
        passwordLastChanged: '2024-06-01T00:00:00+00:00',
        mfaActive: true,
        keys: [],
      },
    },
    {
      user: 'agent-scraper',
      expected: {
        user: 'agent-scraper',
        arn: 'arn:aws:iam::123456789012:user/agent-scraper',
        userCreationTime: '2025-03-01T00:00:00+00:00',
        passwordEnabled: true,
        passwordLastUsed: '2026-01-09T00:00:00+00:00',
        passwordLastChanged: '2025-03-01T00:00:00+00:00',
        mfaActive: true,
        keys: [
          {
            slot: 2,
            active: true,
            lastRotated: '2025-03-02T00:00:00+00:00',
            lastUsedDate: null,
            lastUsedRegion: null,
            lastUsedService: null,
          },
        ],
      },
    },
  ])('should read the row of $user', ({ user, expected }) => {
    expect(sut(AWS_CSV).rows.get(user)).toEqual(expected);
  });

  it('should read CRLF line endings like LF', () => {
    const crlf = sut(AWS_CSV.replace(/\n/g, '\r\n'));

    expect(crlf).toEqual(sut(AWS_CSV));
  });

  it('should find columns by header name when they are reordered', () => {
    const csv = [
      'access_key_1_last_rotated,access_key_1_active,mfa_active,arn,user,password_enabled',
      '2025-01-02T03:04:05+00:00,true,true,arn:aws:iam::1:user/bot,bot,false',
    ].join('\n');

    expect(sut(csv).rows.get('bot')).toMatchObject({
      arn: 'arn:aws:iam::1:user/bot',
      mfaActive: true,
      passwordEnabled: false,
      keys: [{ slot: 1, active: true, lastRotated: '2025-01-02T03:04:05+00:00', lastUsedDate: null }],
    });
  });

  it.each([
    {
      name: 'the last-used columns',
      drop: ['access_key_1_last_used_date', 'access_key_1_last_used_region', 'access_key_1_last_used_service'],
      expected: {
        keys: [expect.objectContaining({ slot: 1, lastUsedDate: null, lastUsedRegion: null, lastUsedService: null })],
      },
    },
    {
      name: 'the password columns',
      drop: ['password_enabled', 'password_last_used'],
      expected: { passwordEnabled: false, passwordLastUsed: null },
    },
    // Unknown, not "no MFA": aws-console-without-mfa must not fire on a report that lacks the column.
    { name: 'the mfa column', drop: ['mfa_active'], expected: { mfaActive: null } },
    { name: 'the creation time column', drop: ['user_creation_time'], expected: { userCreationTime: null } },
    { name: 'the slot 1 rotation column', drop: ['access_key_1_last_rotated'], expected: { keys: [] } },
  ])('should read a missing column as null/false without shifting its neighbours: $name', ({ drop, expected }) => {
    const header = HEADER.split(',');
    const row =
      'bot,arn:aws:iam::1:user/bot,2025-01-01T00:00:00+00:00,true,2026-01-01T00:00:00+00:00,2025-01-01T00:00:00+00:00,N/A,true,true,2025-01-02T00:00:00+00:00,2026-01-03T00:00:00+00:00,eu-west-1,sts,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A'.split(
        ',',
      );
    const keep = header.map((h, i) => (drop.includes(h) ? -1 : i)).filter((i) => i >= 0);
    const csv = [keep.map((i) => header[i]).join(','), keep.map((i) => row[i]).join(',')].join('\n');

    const full = sut([HEADER, row.join(',')].join('\n')).rows.get('bot');
    const degraded = sut(csv).rows.get('bot');

    expect(degraded).toEqual({ ...full, ...expected });
  });

  it.each([
    { name: 'an empty document', csv: '' },
    { name: 'only a header', csv: `${HEADER}\n` },
    { name: 'only the root account', csv: AWS_CSV.split('\n').slice(0, 2).join('\n') },
  ])('should return no rows for $name', ({ csv }) => {
    const report = sut(csv);

    expect(report.rows.size).toBe(0);
    expect(report.generatedAt).toBeNull();
  });
});

const slot = (n: 1 | 2, lastRotated: string | null, over: Partial<ReportKeySlot> = {}): ReportKeySlot => ({
  slot: n,
  active: true,
  lastRotated,
  lastUsedDate: null,
  lastUsedRegion: null,
  lastUsedService: null,
  ...over,
});
const key = (createDate: string | undefined, status: 'Active' | 'Inactive' = 'Active'): AccessKeyMetadata => ({
  UserName: 'bot',
  AccessKeyId: 'AKIAEXAMPLE',
  Status: status,
  ...(createDate ? { CreateDate: new Date(createDate) } : {}),
});

describe('why a slot at the edge is not trusted', () => {
  it('the SDK rounds a CreateDate of …49.9997 up to …50.000, while the report truncates it to …49', () => {
    // The deserializer the IAM client's protocol uses (@smithy/core, schema serde).
    expect(_parseRfc3339DateTimeWithOffset('2026-12-02T13:16:49.999700Z')?.toISOString()).toBe(
      '2026-12-02T13:16:50.000Z',
    );
  });
});

describe(reportSlotFor.name, () => {
  const sut = reportSlotFor;

  const used = { lastUsedDate: '2026-01-01T00:00:00+00:00', lastUsedRegion: 'us-east-1', lastUsedService: 's3' };
  const otherUse = { lastUsedDate: '2026-01-05T00:00:00+00:00', lastUsedRegion: 'eu-west-1', lastUsedService: 'sqs' };

  it.each([
    {
      name: 'the slot with the same CreateDate',
      key: key('2025-01-02T03:04:05Z'),
      slots: [slot(1, '2025-01-01T00:00:00+00:00'), slot(2, '2025-01-02T03:04:05+00:00')],
      expected: 2,
    },
    {
      name: 'the slot when CreateDate carries milliseconds the report drops',
      key: key('2025-01-02T03:04:05.678Z'),
      slots: [slot(1, '2025-01-02T03:04:05+00:00')],
      expected: 1,
    },
    {
      name: 'the slot whose active flag matches when two share a second',
      key: key('2025-01-02T03:04:05Z', 'Inactive'),
      slots: [
        slot(1, '2025-01-02T03:04:05+00:00', { active: true }),
        slot(2, '2025-01-02T03:04:05+00:00', { active: false }),
      ],
      expected: 2,
    },
    {
      name: 'the first slot when two tie with identical last use',
      key: key('2025-01-02T03:04:05Z'),
      slots: [slot(1, '2025-01-02T03:04:05+00:00', used), slot(2, '2025-01-02T03:04:05+00:00', used)],
      expected: 1,
    },
    {
      name: 'no slot when two tie with different last use',
      key: key('2025-01-02T03:04:05Z'),
      slots: [slot(1, '2025-01-02T03:04:05+00:00', used), slot(2, '2025-01-02T03:04:05+00:00', otherUse)],
      expected: null,
    },
    {
      name: 'no slot when only the active flag differs',
      key: key('2025-01-02T03:04:05Z', 'Inactive'),
      slots: [slot(1, '2025-01-02T03:04:05+00:00', { active: true })],
      expected: null,
    },
    {
      name: 'no slot for a key newer than the report',
      key: key('2025-06-01T00:00:00Z'),
      slots: [slot(1, '2025-01-02T03:04:05+00:00')],
      expected: null,
    },
    {
      name: "no slot when the CreateDate the SDK rounded up to a second matches only the next key's slot",
      // Made at 03:04:05.9996 (report: 05), read back as 06.000; the next key was made at 06.2.
      key: key('2025-01-02T03:04:06.000Z'),
      slots: [slot(1, '2025-01-02T03:04:05+00:00'), slot(2, '2025-01-02T03:04:06+00:00', used)],
      expected: null,
    },
    {
      name: 'no slot for a key a whole second off',
      key: key('2025-01-02T03:04:06Z'),
      slots: [slot(1, '2025-01-02T03:04:05+00:00')],
      expected: null,
    },
    {
      name: 'no slot without a CreateDate',
      key: key(undefined),
      slots: [slot(1, '2025-01-02T03:04:05+00:00')],
      expected: null,
    },
    { name: 'no slot for a user without slots', key: key('2025-01-02T03:04:05Z'), slots: [], expected: null },
    {
      name: 'no slot from an empty slot',
      key: key('2025-01-02T03:04:05Z'),
      slots: [slot(1, null)],
      expected: null,
    },
  ])('should return $name', ({ key, slots, expected }) => {
    const got = sut(key, slots);

    expect(got?.slot ?? null).toBe(expected);
    if (expected !== null) expect(got).toBe(slots.find((s) => s.slot === expected));
  });

  it('should pair keys with the slots parsed from a real report', () => {
    const keys = parseCredentialReport(AWS_CSV).rows.get('svc-invoice-bot')!.keys;

    expect(sut(key('2025-01-02T03:04:05Z'), keys)).toMatchObject({ slot: 1, ...{ lastUsedService: 's3' } });
    expect(sut(key('2025-02-01T00:00:00Z', 'Inactive'), keys)).toMatchObject({ slot: 2, lastUsedDate: null });
  });
});

type Step = { state: string } | { csv: string; generated?: Date } | { error: string };

/** A fake IAMClient: Generate and Get pop their scripted answers; every call is recorded. */
class FakeIam {
  readonly calls: string[] = [];
  constructor(
    private readonly generate: Step[],
    private readonly get: Step[] = [],
    private readonly onCall: () => void = () => {},
  ) {}

  async send(command: unknown): Promise<unknown> {
    this.onCall();
    const isGenerate = command instanceof GenerateCredentialReportCommand;
    const isGet = command instanceof GetCredentialReportCommand;
    if (!isGenerate && !isGet) throw new Error('unexpected command');
    this.calls.push(isGenerate ? 'generate' : 'get');
    const queue = isGenerate ? this.generate : this.get;
    const step = queue.length > 1 ? queue.shift()! : queue[0];
    if (!step) throw new Error(`no scripted answer for ${this.calls.at(-1)}`);
    if ('error' in step) throw Object.assign(new Error(`${step.error}: scripted`), { name: step.error });
    if ('state' in step) return { State: step.state };
    return { Content: new TextEncoder().encode(step.csv), GeneratedTime: step.generated };
  }

  get client(): IAMClient {
    return this as unknown as IAMClient;
  }
}

const CSV = [HEADER, AWS_CSV.split('\n')[2]].join('\n');
const GENERATED = new Date('2026-01-11T00:00:00Z');

describe(fetchCredentialReport.name, () => {
  const sut = fetchCredentialReport;

  it.each([
    {
      name: 'STARTED, INPROGRESS, then COMPLETE',
      generate: [{ state: 'STARTED' }, { state: 'INPROGRESS' }, { state: 'COMPLETE' }],
      get: [{ csv: CSV, generated: GENERATED }],
      calls: ['generate', 'generate', 'generate', 'get'],
    },
    {
      name: 'COMPLETE at once',
      generate: [{ state: 'COMPLETE' }],
      get: [{ csv: CSV, generated: GENERATED }],
      calls: ['generate', 'get'],
    },
    {
      name: 'a Get that is not ready yet',
      generate: [{ state: 'COMPLETE' }],
      get: [{ error: 'CredentialReportNotReadyException' }, { csv: CSV, generated: GENERATED }],
      calls: ['generate', 'get', 'generate', 'get'],
    },
    {
      name: 'a Get that finds no report',
      generate: [{ state: 'COMPLETE' }, { state: 'STARTED' }, { state: 'COMPLETE' }],
      get: [{ error: 'CredentialReportNotPresentException' }, { csv: CSV, generated: GENERATED }],
      calls: ['generate', 'get', 'generate', 'generate', 'get'],
    },
    {
      name: 'a Get that finds an expired report',
      generate: [{ state: 'COMPLETE' }, { state: 'COMPLETE' }],
      get: [{ error: 'CredentialReportExpiredException' }, { csv: CSV, generated: GENERATED }],
      calls: ['generate', 'get', 'generate', 'get'],
    },
  ])('should poll until the report is ready: $name', async ({ generate, get, calls }) => {
    const iam = new FakeIam(generate, get);

    const report = await sut(iam.client, { timeoutMs: 10_000, initialDelayMs: 1 });

    expect(iam.calls).toEqual(calls);
    expect(report.generatedAt).toBe(GENERATED.toISOString());
    expect([...report.rows.keys()]).toEqual(['svc-invoice-bot']);
  });

  it('should read a report without GeneratedTime or Content as empty', async () => {
    const iam = new FakeIam([{ state: 'COMPLETE' }], [{ csv: '' }]);

    const report = await sut(iam.client, { timeoutMs: 1000, initialDelayMs: 1 });

    expect(report).toEqual({ generatedAt: null, rows: new Map(), root: null });
  });

  it.each([
    { name: 'from Get', generate: [{ state: 'COMPLETE' }], get: [{ error: 'AccessDeniedException' }] },
    { name: 'from Generate', generate: [{ error: 'AccessDeniedException' }], get: [] },
  ])('should pass any other error through unchanged: $name', async ({ generate, get }) => {
    const iam = new FakeIam(generate, get);

    await expect(sut(iam.client, { timeoutMs: 1000, initialDelayMs: 1 })).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('should give up with a retryable CW_ERR_TIMEOUT when the report never completes', async () => {
    let clock = 0;
    const iam = new FakeIam([{ state: 'INPROGRESS' }], [], () => {
      clock += 1000;
    });

    const err = await sut(iam.client, { timeoutMs: 5000, initialDelayMs: 1, now: () => clock }).catch(
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(CwError);
    expect(err).toMatchObject({ code: ErrorCodes.TIMEOUT, retryable: true });
    expect((err as CwError).message).toMatch(/credential report not ready after 5 s/);
    expect((err as CwError).exitCode).toBe(2);
    expect(iam.calls.length).toBeGreaterThan(1);
    expect(iam.calls.every((c) => c === 'generate')).toBe(true);
  });

  it('should give up on the wall clock too', async () => {
    const iam = new FakeIam([{ state: 'INPROGRESS' }]);

    await expect(sut(iam.client, { timeoutMs: 20, initialDelayMs: 1 })).rejects.toMatchObject({
      code: ErrorCodes.TIMEOUT,
    });
  });

  it('should stop waiting when aborted', async () => {
    const iam = new FakeIam([{ state: 'STARTED' }]);
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));

    await expect(sut(iam.client, { timeoutMs: 10_000, initialDelayMs: 1, signal: controller.signal })).rejects.toThrow(
      'shutting down',
    );
    expect(iam.calls).toEqual(['generate']);
  });
});

describe('the <root_account> row', () => {
  it('should be kept apart from the users, with its key slots', () => {
    const header =
      'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated';
    const csv = `${header}\n<root_account>,arn:aws:iam::111111111111:root,2020-01-01T00:00:00+00:00,not_supported,2026-01-01T00:00:00+00:00,not_supported,not_supported,false,true,2021-03-01T00:00:00+00:00,2026-10-01T00:00:00+00:00,us-east-1,s3,false,N/A\n`;
    const report = parseCredentialReport(csv);
    expect(report.rows.size).toBe(0);
    expect(report.root).toMatchObject({
      user: '<root_account>',
      mfaActive: false,
      keys: [{ slot: 1, active: true, lastUsedService: 's3' }],
    });
  });
});
