/**
 * The IAM credential report: generate, poll with backoff until IAM says COMPLETE (never by
 * watching GeneratedTime, which moto hard-codes and AWS caches for four hours), fetch, parse.
 * `N/A`, `not_supported` and `no_information` read as null. Columns are found by header name, so
 * a missing or reordered column degrades to null (false for the other flags) rather than misreading
 * its neighbour; a missing mfa_active stays null, since "no MFA" is a finding (aws-console-without-mfa).
 */
import { GenerateCredentialReportCommand, GetCredentialReportCommand, type IAMClient } from '@aws-sdk/client-iam';
import { CwError, ErrorCodes } from '../../errors.js';
import { sleep } from '../../util/concurrency.js';
import { parseCsv } from '../../util/csv.js';

export interface ReportKeySlot {
  slot: 1 | 2;
  active: boolean;
  lastRotated: string | null;
  lastUsedDate: string | null;
  lastUsedRegion: string | null;
  lastUsedService: string | null;
}

export interface ReportRow {
  user: string;
  arn: string;
  userCreationTime: string | null;
  passwordEnabled: boolean;
  passwordLastUsed: string | null;
  passwordLastChanged: string | null;
  /** mfa_active; null when the report has no such column (unknown is not "no MFA"). */
  mfaActive: boolean | null;
  keys: ReportKeySlot[];
}

export interface CredentialReport {
  generatedAt: string | null;
  rows: Map<string, ReportRow>;
  /** The `<root_account>` row, when the report has one (AWS does; moto does not). */
  root: ReportRow | null;
}

const NULLS = new Set(['N/A', 'not_supported', 'no_information', '']);
const val = (v: string | undefined): string | null => (v === undefined || NULLS.has(v) ? null : v);
const bool = (v: string | undefined): boolean => v?.toLowerCase() === 'true';

export function parseCredentialReport(csv: string, generatedAt: string | null = null): CredentialReport {
  const lines = parseCsv(csv);
  const header = lines.shift() ?? [];
  const col = (name: string) => header.indexOf(name);
  const idx = Object.fromEntries(header.map((h) => [h, col(h)]));
  const rows = new Map<string, ReportRow>();
  let root: ReportRow | null = null;
  for (const f of lines) {
    const get = (name: string) => (idx[name] === undefined ? undefined : f[idx[name] as number]);
    const user = get('user');
    if (!user) continue;
    const keys: ReportKeySlot[] = ([1, 2] as const).map((n) => ({
      slot: n,
      active: bool(get(`access_key_${n}_active`)),
      lastRotated: val(get(`access_key_${n}_last_rotated`)),
      lastUsedDate: val(get(`access_key_${n}_last_used_date`)),
      lastUsedRegion: val(get(`access_key_${n}_last_used_region`)),
      lastUsedService: val(get(`access_key_${n}_last_used_service`)),
    }));
    const row: ReportRow = {
      user,
      arn: get('arn') ?? '',
      userCreationTime: val(get('user_creation_time')),
      passwordEnabled: bool(get('password_enabled')),
      passwordLastUsed: val(get('password_last_used')),
      passwordLastChanged: val(get('password_last_changed')),
      mfaActive: idx.mfa_active === undefined ? null : bool(get('mfa_active')),
      keys: keys.filter((k) => k.lastRotated !== null),
    };
    if (user === '<root_account>') root = row;
    else rows.set(user, row);
  }
  return { generatedAt, rows, root };
}

export interface ReportFetchOptions {
  timeoutMs: number;
  /** First poll delay; doubles up to 8 s. */
  initialDelayMs?: number;
  now?: () => number;
  signal?: AbortSignal;
}

const errName = (e: unknown) => (e as { name?: string }).name ?? '';

export async function fetchCredentialReport(iam: IAMClient, opts: ReportFetchOptions): Promise<CredentialReport> {
  const now = opts.now ?? Date.now;
  const deadline = now() + opts.timeoutMs;
  let delay = opts.initialDelayMs ?? 250;
  let state: string | undefined = (
    await iam.send(new GenerateCredentialReportCommand({}), { abortSignal: opts.signal })
  ).State;
  for (;;) {
    if (state === 'COMPLETE') {
      try {
        const out = await iam.send(new GetCredentialReportCommand({}), { abortSignal: opts.signal });
        const csv = new TextDecoder().decode(out.Content ?? new Uint8Array());
        return parseCredentialReport(csv, out.GeneratedTime ? out.GeneratedTime.toISOString() : null);
      } catch (err) {
        const n = errName(err);
        if (n === 'CredentialReportNotReadyException') state = 'INPROGRESS';
        else if (n === 'CredentialReportNotPresentException' || n === 'CredentialReportExpiredException')
          state = undefined;
        else throw err;
      }
    }
    if (now() + delay > deadline) {
      throw new CwError(
        ErrorCodes.TIMEOUT,
        `credential report not ready after ${Math.round(opts.timeoutMs / 1000)} s`,
        {
          retryable: true,
        },
      );
    }
    await sleep(delay, opts.signal);
    delay = Math.min(delay * 2, 8000);
    if (state !== 'COMPLETE')
      state = (await iam.send(new GenerateCredentialReportCommand({}), { abortSignal: opts.signal })).State;
  }
}
