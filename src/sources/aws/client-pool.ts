/**
 * One set of clients per AWS account, kept for the life of the process: an IAM client and an STS
 * client signed as that account, sharing a CallMeter (operation counts and the per-account
 * concurrency cap). Assumed-role credentials are cached in the pool, so repeated scans do not
 * re-assume until the credentials near expiry. The SDK constructors are injected: only main.ts
 * builds real clients.
 */
import type { IAMClient, IAMClientConfig } from '@aws-sdk/client-iam';
import type { STSClient, STSClientConfig } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Clock } from '../../clock.js';
import type { AwsAccountConfig, AwsConfig } from '../../config/schema.js';
import { AssumedRoleProvider } from './accounts.js';
import { CallMeter } from './call-meter.js';
import { NoQuotaRetryStrategy } from './retry.js';

export interface AwsSdkFactories {
  iam(config: IAMClientConfig): IAMClient;
  sts(config: STSClientConfig): STSClient;
}

export interface AccountClients {
  iam: IAMClient;
  sts: STSClient;
  meter: CallMeter;
}

/** The home account key; configured accounts use their id. */
export const HOME = 'home';

export class AwsClientPool {
  private readonly pool = new Map<string, AccountClients>();
  private baseSts: STSClient | null = null;

  constructor(
    private readonly cfg: AwsConfig,
    private readonly sdk: AwsSdkFactories,
    private readonly clock: Clock,
    /** Test hook: a fixed retry delay (ms) for every error type, throttling included. */
    private readonly retryDelayMs?: number,
  ) {}

  private common(): IAMClientConfig & STSClientConfig {
    return {
      region: this.cfg.region,
      ...(this.cfg.endpoint ? { endpoint: this.cfg.endpoint } : {}),
      requestHandler: { requestTimeout: this.cfg.requestTimeoutMs, connectionTimeout: 5000 },
      retryStrategy: new NoQuotaRetryStrategy({
        maxAttempts: this.cfg.maxAttempts,
        ...(this.retryDelayMs !== undefined
          ? { backoff: { computeNextBackoffDelay: () => this.retryDelayMs!, setDelayBase: () => {} } }
          : {}),
      }),
    };
  }

  forAccount(account: AwsAccountConfig | null): AccountClients {
    const key = account?.id ?? HOME;
    let c = this.pool.get(key);
    if (c) return c;
    const meter = new CallMeter(this.cfg.maxConcurrency);
    let credentials: AwsCredentialIdentityProvider | undefined;
    if (account?.roleArn) {
      this.baseSts ??= this.sdk.sts(this.common());
      const provider = new AssumedRoleProvider(
        this.baseSts,
        { ...account, roleArn: account.roleArn },
        this.cfg.assumeRoleSessionSeconds,
        this.clock,
      );
      credentials = async () => {
        const before = provider.cachedUntil;
        const creds = await provider.provide();
        if (provider.cachedUntil !== before) meter.note('sts:AssumeRole');
        return creds;
      };
    }
    const conf = { ...this.common(), ...(credentials ? { credentials } : {}) };
    const iam = this.sdk.iam(conf);
    const sts = this.sdk.sts(conf);
    iam.middlewareStack.use(meter.plugin('iam'));
    sts.middlewareStack.use(meter.plugin('sts'));
    c = { iam, sts, meter };
    this.pool.set(key, c);
    return c;
  }

  /**
   * A one-off STS client signed with one access key (rotation proves a new key works); the caller
   * destroys it. Same endpoint, region, timeouts and retries as every other client, no metering.
   */
  stsWithKey(credentials: { accessKeyId: string; secretAccessKey: string }): STSClient {
    return this.sdk.sts({ ...this.common(), credentials });
  }

  destroy(): void {
    for (const c of this.pool.values()) {
      c.iam.destroy();
      c.sts.destroy();
    }
    this.baseSts?.destroy();
    this.pool.clear();
  }
}
