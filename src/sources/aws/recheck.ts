/**
 * Recheck for the AWS IAM source: one credential, by its exact id, read live with per-principal
 * calls (no GetAccountAuthorizationDetails, no credential report), for remediation to look at
 * just before it acts. The record is built by the scan's own `buildAwsCredentials`, over an
 * AwsCollected that holds only this principal, so its fields, grants (with provenance) and
 * attribution are the ones a scan would give. What a scan takes from the credential report comes
 * from per-credential calls instead, and `lastUsed.source` names them.
 *
 * Calls per kind, with no retries (I inline policies, G groups, K managed and boundary policies
 * of the principal and its groups; every listing fits one page):
 * - access key: sts:GetCallerIdentity, GetAccessKeyLastUsed, ListAccessKeys, GetUser, then the user's;
 * - console password: sts:GetCallerIdentity, GetUser, GetLoginProfile, ListMFADevices, then the user's;
 * - the user's: ListUserPolicies + I × GetUserPolicy, ListAttachedUserPolicies, ListGroupsForUser,
 *   per group ListGroupPolicies + one GetGroupPolicy each + ListAttachedGroupPolicies, and
 *   GetPolicy + GetPolicyVersion per distinct managed or boundary policy (2K);
 * - role: sts:GetCallerIdentity, GetRole, ListRolePolicies + I × GetRolePolicy,
 *   ListAttachedRolePolicies, 2K;
 * - root access key: sts:GetCallerIdentity, then `unknown` (code 'unsupported').
 * An `absent` answer stops at the call that said so (a deleted key costs GetCallerIdentity and
 * GetAccessKeyLastUsed). The account is confirmed with GetCallerIdentity for configured accounts
 * too, as discover does, so a role that lands elsewhere is an error rather than a wrong answer.
 */
import { GetLoginProfileCommand, ListMFADevicesCommand } from '@aws-sdk/client-iam';
import type { AwsAccountConfig, AwsConfig } from '../../config/schema.js';
import { CwError, ErrorCodes } from '../../errors.js';
import type { Credential } from '../../model/credential.js';
import { diffCounts } from '../api-calls.js';
import type { RecheckContext, RecheckResult } from '../source.js';
import { confirmAccount } from './accounts.js';
import { type AwsCollected, buildAwsCredentials } from './build-records.js';
import type { AccountClients, AwsClientPool } from './client-pool.js';
import { type AuthDetails, getAccessKeyLastUsed, listAccessKeys } from './collect.js';
import type { ReportRow } from './credential-report.js';
import { awsErrorName, isAccessDenied, toCwError } from './errors.js';
import { type AwsCredentialRef, parseAwsCredentialId } from './recheck-id.js';
import { getUser, Reader, RecheckStop, readRoleDetails, readUserDetails, type StopOutcome } from './recheck-read.js';

/** The IAM actions recheck uses beyond AWS_SCANNER_PERMISSIONS. */
export const AWS_RECHECK_PERMISSIONS = [
  'iam:GetUser',
  'iam:ListUserPolicies',
  'iam:GetUserPolicy',
  'iam:ListAttachedUserPolicies',
  'iam:ListGroupsForUser',
  'iam:ListGroupPolicies',
  'iam:GetGroupPolicy',
  'iam:ListAttachedGroupPolicies',
  'iam:GetRole',
  'iam:ListRolePolicies',
  'iam:GetRolePolicy',
  'iam:ListAttachedRolePolicies',
  'iam:GetLoginProfile',
  'iam:ListMFADevices',
] as const;

type Outcome = { state: 'present'; credential: Credential } | StopOutcome;

/** Recheck one AWS credential. Ids outside the configured accounts, or malformed, throw CwError INPUT. */
export async function recheckAwsCredential(
  cfg: AwsConfig,
  pool: AwsClientPool,
  id: string,
  ctx: RecheckContext,
): Promise<RecheckResult> {
  const ref = parseAwsCredentialId(id);
  const account = accountFor(cfg, ref);
  const clients = pool.forAccount(account);
  const before = clients.meter.snapshot();
  const finish = (o: Outcome): RecheckResult =>
    ({
      ...o,
      apiCalls: diffCounts(clients.meter.snapshot(), before),
      checkedAt: ctx.clock.now().toISOString(),
    }) as RecheckResult;
  try {
    await confirm(clients, account, ref, ctx.signal);
    if (ref.kind === 'root-access-key') {
      return finish({
        state: 'unknown',
        code: 'unsupported',
        reason: `${id}: root access keys are visible only in the credential report and cannot be acted on without the root user`,
      });
    }
    const r = new Reader(clients.iam, ref.account, cfg.maxConcurrency, ctx.signal);
    const collected =
      ref.kind === 'access-key'
        ? await accessKey(r, ref, ctx)
        : ref.kind === 'console-password'
          ? await consolePassword(r, ref, ctx)
          : await role(r, ref, ctx);
    const credential = buildAwsCredentials(collected, ctx.registry).find((c) => c.id === id);
    if (!credential) {
      // IAM names are case-insensitive: GetUser("Bot") can answer for user "bot", whose id differs.
      return finish({ state: 'unknown', code: 'id-mismatch', reason: `IAM answered for ${id} under another name` });
    }
    return finish({ state: 'present', credential });
  } catch (err) {
    if (err instanceof RecheckStop) return finish(err.outcome);
    throw err;
  }
}

function accountFor(cfg: AwsConfig, ref: AwsCredentialRef): AwsAccountConfig | null {
  if (!cfg.accounts) return null;
  const account = cfg.accounts.find((a) => a.id === ref.account);
  if (!account) {
    const known = cfg.accounts.map((a) => a.id).join(', ');
    throw new CwError(
      ErrorCodes.INPUT,
      `credential id "${ref.id}": account ${ref.account} is not one this source scans (configured: ${known})`,
    );
  }
  return account;
}

/** The account the clients land in must be the id's (for the home account it is only known now). */
async function confirm(
  clients: AccountClients,
  account: AwsAccountConfig | null,
  ref: AwsCredentialRef,
  signal?: AbortSignal,
): Promise<void> {
  let landed: string;
  try {
    landed = (await confirmAccount(clients.sts, account?.id, signal)).account;
  } catch (err) {
    if (err instanceof CwError) throw err; // a configured account's role landed elsewhere
    if (isAccessDenied(err)) {
      const role = account?.roleArn ? ` and sts:AssumeRole on ${account.roleArn}` : '';
      throw new RecheckStop({
        state: 'unknown',
        code: awsErrorName(err),
        reason: `account ${ref.account} was denied: needs sts:GetCallerIdentity${role} (${(err as Error).message})`,
      });
    }
    throw toCwError(err, `account ${ref.account}: sts:GetCallerIdentity`);
  }
  if (landed !== ref.account) {
    throw new CwError(
      ErrorCodes.INPUT,
      `credential id "${ref.id}": account ${ref.account} is not the home account this source scans (${landed || 'unknown'})`,
    );
  }
}

/**
 * The collected facts for one principal. buildAwsCredentials builds records only for the
 * principals in agentUsers/agentRoles; recheck puts the principal there whether or not it still
 * looks like an agent, since it answers for the id it was given: attribution (agentId, owner,
 * unregisteredAgent) then shows what the principal is now.
 */
function only(ref: AwsCredentialRef, details: AuthDetails, ctx: RecheckContext): AwsCollected {
  return {
    account: ref.account,
    details,
    report: null,
    agentUsers: details.users,
    agentRoles: details.roles,
    accessKeys: new Map(),
    keyLastUsed: new Map(),
    roleSessionSeconds: new Map(),
    observedAt: ctx.clock.now().toISOString(),
  };
}

async function accessKey(r: Reader, ref: AwsCredentialRef, ctx: RecheckContext): Promise<AwsCollected> {
  const keyId = ref.name;
  const asOf = () => ctx.clock.now().toISOString();
  // NoSuchEntity here is the key gone (moto answers so for an unknown or deleted key); a denial is
  // `unknown`, never absent. moto also answers, with the owner's UserName, for a key of another
  // account, so the owner's ListAccessKeys in this account must list the exact key id.
  const { userName, lastUsed } = await r.call(
    { op: 'GetAccessKeyLastUsed', subject: `access key ${keyId}`, gone: `access key ${keyId} does not exist` },
    () => getAccessKeyLastUsed(r.iam, keyId, asOf, r.signal),
  );
  if (!userName) {
    const reason = `GetAccessKeyLastUsed named no user owning access key ${keyId}`;
    throw new RecheckStop({ state: 'unknown', code: 'NoUserName', reason });
  }
  const gone = `user ${userName}, owner of access key ${keyId}, does not exist`;
  const keys = await r.call({ op: 'ListAccessKeys', subject: `user ${userName}`, gone }, () =>
    listAccessKeys(r.iam, userName, r.signal),
  );
  const key = keys.find((k) => k.AccessKeyId === keyId);
  if (!key)
    throw new RecheckStop({ state: 'absent', reason: `access key ${keyId} is not listed for user ${userName}` });
  const user = await getUser(r, userName, gone);
  const c = only(ref, await readUserDetails(r, user, gone), ctx);
  c.accessKeys.set(userName, [key]);
  c.keyLastUsed.set(keyId, lastUsed);
  return c;
}

/** The credential report's time format (to the second, `+00:00`), so the record reads as a scan's does. */
const reportTime = (d: Date | undefined): string | null => (d ? d.toISOString().replace(/\.\d{3}Z$/, '+00:00') : null);

async function consolePassword(r: Reader, ref: AwsCredentialRef, ctx: RecheckContext): Promise<AwsCollected> {
  const userName = ref.name;
  const subject = `user ${userName}`;
  const gone = `user ${userName} does not exist`;
  const user = await getUser(r, userName, gone);
  const profile = await r.call(
    { op: 'GetLoginProfile', subject, gone: `user ${userName} has no console password (no login profile)` },
    () => r.iam.send(new GetLoginProfileCommand({ UserName: userName }), r.opts),
  );
  const mfa = await r.pages(
    { op: 'ListMFADevices', subject, gone },
    (Marker) => r.iam.send(new ListMFADevicesCommand({ UserName: userName, Marker }), r.opts),
    (p) => p.MFADevices,
  );
  const c = only(ref, await readUserDetails(r, user, gone), ctx);
  // The one row the credential report would have for this user, from the calls that say the same
  // thing one user at a time; buildAwsCredentials turns it into the record as in a scan.
  // GetLoginProfile's CreateDate stands in for password_last_changed.
  const row: ReportRow = {
    user: userName,
    arn: user.Arn ?? '',
    userCreationTime: reportTime(user.CreateDate),
    passwordEnabled: true,
    passwordLastUsed: reportTime(user.PasswordLastUsed),
    passwordLastChanged: reportTime(profile.LoginProfile?.CreateDate),
    mfaActive: mfa.length > 0,
    keys: [],
  };
  c.report = { generatedAt: null, rows: new Map([[userName, row]]), root: null };
  c.reportSource = 'GetUser';
  return c;
}

async function role(r: Reader, ref: AwsCredentialRef, ctx: RecheckContext): Promise<AwsCollected> {
  const { details, role, maxSessionDuration } = await readRoleDetails(r, ref.name, `role ${ref.name} does not exist`);
  const c = only(ref, details, ctx);
  if (maxSessionDuration) c.roleSessionSeconds.set(role.RoleName!, maxSessionDuration);
  return c;
}
