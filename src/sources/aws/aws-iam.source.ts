/**
 * The AWS IAM source: one scan unit per account. Collection is bulk-first, so an account with N
 * agent users costs about N + a handful of calls, not 7N:
 *   1. GetAccountAuthorizationDetails (all pages): users, groups, roles, local managed policies;
 *   2. the credential report (generate, poll, fetch);
 *   3. ListAccessKeys only for agent users the report shows holding keys;
 *   4. GetAccessKeyLastUsed only for keys the report does not cover;
 *   plus GetPolicy/GetPolicyVersion for AWS-managed policies agents carry, and ListRoles for
 *   MaxSessionDuration when there are agent roles.
 * A denial on the account marks the unit partial; a denial on one step marks only what that step
 * covers as incomplete. Transient failures throw (retryable), so the queue retries the unit.
 * recheck() reads one credential by id with per-principal calls instead (recheck.ts).
 */
import type { AccessKeyMetadata } from '@aws-sdk/client-iam';
import type { AwsAccountConfig, AwsConfig } from '../../config/schema.js';
import { CwError, ErrorCodes } from '../../errors.js';
import { isAgentPrincipal } from '../../registry/match.js';
import { mapLimit } from '../../util/concurrency.js';
import { diffCounts } from '../api-calls.js';
import type {
  DiscoverContext,
  RecheckContext,
  RecheckResult,
  ScanUnit,
  Source,
  UnitProblem,
  UnitResult,
} from '../source.js';
import { confirmAccount } from './accounts.js';
import {
  type AwsCollected,
  accessKeyLastUsed,
  buildAwsCredentials,
  roleSubject,
  userSubject,
} from './build-records.js';
import { type AwsClientPool, HOME } from './client-pool.js';
import {
  fetchAuthorizationDetails,
  fetchManagedPolicies,
  getAccessKeyLastUsed,
  listAccessKeys,
  listRoleSessionDurations,
} from './collect.js';
import { type CredentialReport, fetchCredentialReport } from './credential-report.js';
import { awsErrorName, isAccessDenied, toCwError } from './errors.js';
import { AWS_RECHECK_PERMISSIONS, recheckAwsCredential } from './recheck.js';
import { ownsAwsId } from './recheck-id.js';

export const AWS_SCANNER_PERMISSIONS = [
  'sts:GetCallerIdentity',
  'iam:GetAccountAuthorizationDetails',
  'iam:GenerateCredentialReport',
  'iam:GetCredentialReport',
  'iam:ListAccessKeys',
  'iam:GetAccessKeyLastUsed',
  'iam:ListRoles',
  'iam:GetPolicy',
  'iam:GetPolicyVersion',
] as const;

export class AwsIamSource implements Source {
  readonly type = 'aws' as const;
  readonly permissions = AWS_SCANNER_PERMISSIONS;
  readonly recheckPermissions = AWS_RECHECK_PERMISSIONS;

  constructor(
    private readonly cfg: AwsConfig,
    private readonly pool: AwsClientPool,
  ) {}

  private accounts(): (AwsAccountConfig | null)[] {
    return this.cfg.accounts ?? [null];
  }

  units(): ScanUnit[] {
    return this.accounts().map((a) => ({
      sourceType: 'aws',
      key: `aws/${a?.id ?? HOME}`,
      label: a ? (a.name ?? a.id) : 'home account',
    }));
  }

  async discover(unitKey: string, ctx: DiscoverContext): Promise<UnitResult> {
    const unit = this.units().find((u) => u.key === unitKey);
    if (!unit)
      throw new CwError(
        ErrorCodes.INPUT,
        `unknown AWS scan unit "${unitKey}" (known: ${this.units()
          .map((u) => u.key)
          .join(', ')})`,
      );
    const account = this.accounts().find((a) => `aws/${a?.id ?? HOME}` === unitKey) ?? null;
    const clients = this.pool.forAccount(account);
    const before = clients.meter.snapshot();
    const startedAt = ctx.clock.now().toISOString();
    const problems: UnitProblem[] = [];
    const finish = (credentials: UnitResult['credentials'], completePrefixes: string[]): UnitResult => ({
      unit,
      credentials,
      completePrefixes,
      problems,
      apiCalls: diffCounts(clients.meter.snapshot(), before),
      startedAt,
      finishedAt: ctx.clock.now().toISOString(),
    });
    const deny = (scope: string, what: string, err: unknown) => {
      problems.push({ scope, code: awsErrorName(err), message: `${what}: ${(err as Error).message}` });
      ctx.log.warn({ scope, code: awsErrorName(err), reason: (err as Error).message }, `${what}: not scanned`);
    };

    let accountId: string;
    try {
      accountId = (await confirmAccount(clients.sts, account?.id, ctx.signal)).account;
    } catch (err) {
      if (isAccessDenied(err) || (err instanceof CwError && err.code === ErrorCodes.AWS)) {
        deny(unitKey, `account ${account?.id ?? 'home'}`, err);
        return finish([], []);
      }
      const where = this.cfg.endpoint ? ` at ${this.cfg.endpoint}` : ` (region ${this.cfg.region})`;
      throw toCwError(err, `account ${account?.id ?? 'home'}: sts:GetCallerIdentity${where}`);
    }
    const prefix = `aws/${accountId}/`;
    ctx.progress?.(`aws ${accountId}: reading authorization details`);
    let details: Awaited<ReturnType<typeof fetchAuthorizationDetails>>;
    try {
      details = await fetchAuthorizationDetails(clients.iam, ctx.signal);
    } catch (err) {
      if (isAccessDenied(err)) {
        deny(prefix, 'GetAccountAuthorizationDetails', err);
        return finish([], []);
      }
      throw toCwError(err, `account ${accountId}: GetAccountAuthorizationDetails`);
    }

    const agentUsers = details.users.filter((u) => u.UserName && isAgentPrincipal(ctx.registry, userSubject(u)));
    const agentRoles = details.roles.filter((r) => r.RoleName && isAgentPrincipal(ctx.registry, roleSubject(r)));
    const complete = new Set([
      `${prefix}access-key/`,
      `${prefix}role/`,
      `${prefix}console-password/`,
      `${prefix}root-access-key/`,
    ]);
    const concurrency = this.cfg.maxConcurrency;

    const neededArns = new Set<string>();
    for (const u of agentUsers) {
      for (const p of u.AttachedManagedPolicies ?? []) if (p.PolicyArn) neededArns.add(p.PolicyArn);
      for (const g of u.GroupList ?? [])
        for (const p of details.groups.get(g)?.AttachedManagedPolicies ?? [])
          if (p.PolicyArn) neededArns.add(p.PolicyArn);
      if (u.PermissionsBoundary?.PermissionsBoundaryArn) neededArns.add(u.PermissionsBoundary.PermissionsBoundaryArn);
    }
    for (const r of agentRoles) {
      for (const p of r.AttachedManagedPolicies ?? []) if (p.PolicyArn) neededArns.add(p.PolicyArn);
      if (r.PermissionsBoundary?.PermissionsBoundaryArn) neededArns.add(r.PermissionsBoundary.PermissionsBoundaryArn);
    }
    await this.step(
      () => fetchManagedPolicies(clients.iam, neededArns, details.policyDocs, concurrency, ctx.signal),
      accountId,
      'GetPolicyVersion',
      () =>
        problems.push({
          scope: prefix,
          code: 'AccessDenied',
          message: 'AWS-managed policy documents denied: grants incomplete',
        }),
    );

    let report: CredentialReport | null = null;
    ctx.progress?.(`aws ${accountId}: credential report`);
    await this.step(
      async () => {
        report = await fetchCredentialReport(clients.iam, {
          timeoutMs: this.cfg.credentialReportTimeoutSeconds * 1000,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
      },
      accountId,
      'credential report',
      (err) => {
        deny(`${prefix}console-password/`, 'credential report', err);
        complete.delete(`${prefix}console-password/`);
        complete.delete(`${prefix}root-access-key/`);
      },
    );
    const rep = report as CredentialReport | null;

    const holders = agentUsers.filter((u) => {
      const row = rep?.rows.get(u.UserName!);
      return !row || row.keys.length > 0;
    });
    const accessKeys = new Map<string, AccessKeyMetadata[]>();
    let done = 0;
    await this.step(
      () =>
        mapLimit(holders, concurrency, async (u) => {
          accessKeys.set(u.UserName!, await listAccessKeys(clients.iam, u.UserName!, ctx.signal));
          if (++done % 250 === 0) ctx.progress?.(`aws ${accountId}: access keys ${done}/${holders.length} users`);
        }),
      accountId,
      'ListAccessKeys',
      (err) => {
        deny(`${prefix}access-key/`, 'ListAccessKeys', err);
        complete.delete(`${prefix}access-key/`);
      },
    );

    const observedAt = ctx.clock.now().toISOString();
    const collected: AwsCollected = {
      account: accountId,
      details,
      report: rep,
      agentUsers,
      agentRoles,
      accessKeys,
      keyLastUsed: new Map(),
      roleSessionSeconds: new Map(),
      observedAt,
    };
    const uncovered = [...accessKeys.entries()].flatMap(([user, keys]) =>
      keys.filter((k) => accessKeyLastUsed(k, collected, user) === null).map((k) => k.AccessKeyId!),
    );
    await this.step(
      () =>
        mapLimit(uncovered, concurrency, async (keyId) => {
          const asOf = () => ctx.clock.now().toISOString();
          collected.keyLastUsed.set(keyId, (await getAccessKeyLastUsed(clients.iam, keyId, asOf, ctx.signal)).lastUsed);
        }),
      accountId,
      'GetAccessKeyLastUsed',
      (err) => deny(`${prefix}access-key/`, 'GetAccessKeyLastUsed (last-used unknown for some keys)', err),
    );
    if (agentRoles.length > 0) {
      await this.step(
        async () => {
          collected.roleSessionSeconds = await listRoleSessionDurations(clients.iam, ctx.signal);
        },
        accountId,
        'ListRoles',
        (err) => deny(`${prefix}role/`, 'ListRoles (max session duration unknown)', err),
      );
    }
    const credentials = buildAwsCredentials(collected, ctx.registry);
    ctx.progress?.(`aws ${accountId}: ${credentials.length} credentials`);
    return finish(credentials, [...complete]);
  }

  owns(credentialId: string): boolean {
    return ownsAwsId(credentialId, this.cfg.accounts);
  }

  /** One credential, read live by its exact id (see recheck.ts). */
  recheck(credentialId: string, ctx: RecheckContext): Promise<RecheckResult> {
    return recheckAwsCredential(this.cfg, this.pool, credentialId, ctx);
  }

  /** Run one collection step: a denial calls `onDenied` and the scan goes on; anything else throws. */
  private async step(
    fn: () => Promise<unknown>,
    account: string,
    what: string,
    onDenied: (err: unknown) => void,
  ): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (isAccessDenied(err)) onDenied(err);
      else throw toCwError(err, `account ${account}: ${what}`);
    }
  }
}
