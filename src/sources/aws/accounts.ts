/**
 * Account sessions. The home account uses the default credential chain; every other account is
 * reached with STS AssumeRole (with its ExternalId), and the temporary credentials are cached
 * until five minutes before they expire. Each account is confirmed with GetCallerIdentity before
 * it is scanned: a role that lands in a different account is an error, not a silent mis-scan.
 */
import { AssumeRoleCommand, GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Clock } from '../../clock.js';
import type { AwsAccountConfig } from '../../config/schema.js';
import { CwError, ErrorCodes } from '../../errors.js';

const REFRESH_BEFORE_MS = 5 * 60_000;

export class AssumedRoleProvider {
  private cached: AwsCredentialIdentity | null = null;
  private inflight: Promise<AwsCredentialIdentity> | null = null;

  constructor(
    private readonly sts: STSClient,
    private readonly account: AwsAccountConfig & { roleArn: string },
    private readonly sessionSeconds: number,
    private readonly clock: Clock,
    private readonly sessionName = 'credwarden-scan',
  ) {}

  /** Expiry of the cached credentials (ms since epoch), 0 when none: changes exactly when AssumeRole ran. */
  get cachedUntil(): number {
    return this.cached?.expiration?.getTime() ?? 0;
  }

  readonly provide: AwsCredentialIdentityProvider = async () => {
    const c = this.cached;
    if (c?.expiration && c.expiration.getTime() - REFRESH_BEFORE_MS > this.clock.now().getTime()) return c;
    this.inflight ??= this.assume().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  };

  private async assume(): Promise<AwsCredentialIdentity> {
    const out = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.account.roleArn,
        RoleSessionName: this.sessionName,
        DurationSeconds: this.sessionSeconds,
        ...(this.account.externalId ? { ExternalId: this.account.externalId } : {}),
      }),
    );
    const cr = out.Credentials;
    if (!cr?.AccessKeyId || !cr.SecretAccessKey) {
      throw new CwError(ErrorCodes.AWS, `AssumeRole ${this.account.roleArn} returned no credentials`);
    }
    this.cached = {
      accessKeyId: cr.AccessKeyId,
      secretAccessKey: cr.SecretAccessKey,
      sessionToken: cr.SessionToken,
      expiration: cr.Expiration,
    };
    return this.cached;
  }
}

/** GetCallerIdentity, and check that the account is the one configured. */
export async function confirmAccount(
  sts: STSClient,
  expected: string | undefined,
  signal?: AbortSignal,
): Promise<{ account: string; arn: string }> {
  const id = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
  const account = id.Account ?? '';
  if (expected !== undefined && account !== expected) {
    throw new CwError(
      ErrorCodes.AWS,
      `account ${expected}: credentials resolve to account ${account || '(unknown)'} (${id.Arn ?? 'no ARN'})`,
    );
  }
  return { account, arn: id.Arn ?? '' };
}
