/**
 * The planters a drill uses, over the drill's OWN credentials: `drills.aws.roleArn` (default: the
 * drill account's remediationRoleArn), a role in the drill account itself; `drills.vault.token`
 * (default: the drill cluster's remediationToken). main.ts hands in the client constructors (the
 * composition root builds every real client).
 */
import type { Clock } from '../clock.js';
import type { LoadedConfig } from '../config/load.js';
import type { VaultClusterConfig } from '../config/schema.js';
import { CwError, ErrorCodes } from '../errors.js';
import type { PolicySet } from '../policy/model.js';
import { AwsClientPool, type AwsSdkFactories } from '../sources/aws/client-pool.js';
import { VaultApi, type VaultHttp } from '../sources/vault/api.js';
import { AwsDrillPlanter } from './plant-aws.js';
import { VaultDrillPlanter } from './plant-vault.js';
import type { PlanterFor } from './planter.js';

export interface DrillPortDeps {
  config: LoadedConfig;
  policies: PolicySet;
  clock: Clock;
  awsSdk: AwsSdkFactories;
  vaultHttp: (cluster: VaultClusterConfig) => VaultHttp;
}

/** The runaway drill's burst: config's count, else the lowest credential-burst count plus 2. */
export function burstSize(policies: PolicySet, configured: number): number {
  if (configured > 0) return configured;
  const counts = policies.policies.flatMap((p) =>
    p.rules
      .filter((r) => r.type === 'credential-burst')
      .map((r) => Number((r.params as { count?: number }).count ?? 10)),
  );
  return (counts.length ? Math.min(...counts) : 10) + 2;
}

export function drillPlanters(d: DrillPortDeps): PlanterFor {
  return (target, cfg) => {
    if (target === 'aws') {
      const id = cfg.aws!.account;
      const account = d.config.aws?.accounts?.find((a) => a.id === id);
      const roleArn = cfg.aws!.roleArn ?? account?.remediationRoleArn;
      if (!d.config.aws || !account || !roleArn)
        throw new CwError(
          ErrorCodes.CONFIG,
          `drills.aws.roleArn: not set, and account ${id} has no remediationRoleArn: a drill plants with a role of its own account`,
        );
      if (/^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(roleArn)?.[1] !== id)
        throw new CwError(ErrorCodes.CONFIG, `drills.aws.roleArn: ${roleArn} is not a role in the drill account ${id}`);
      const pool = new AwsClientPool(d.config.aws, d.awsSdk, d.clock);
      return new AwsDrillPlanter(id, () => pool.forAccount({ ...account, roleArn }));
    }
    const v = cfg.vault!;
    const cluster = d.config.vault.find((c) => c.name === v.cluster)!;
    const token = v.token ?? cluster.remediationToken;
    if (!token)
      throw new CwError(
        ErrorCodes.CONFIG,
        `drills.vault.token: not set, and vault cluster ${v.cluster} has no remediationToken: a drill plants with a token of its own`,
      );
    const api = new VaultApi(d.vaultHttp({ ...cluster, token }), cluster.name, cluster.requestTimeoutMs);
    return new VaultDrillPlanter(
      api,
      cluster.name,
      v.namespace,
      v.approleMount,
      burstSize(d.policies, cfg.runawayCount),
    );
  };
}
