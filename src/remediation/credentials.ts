/**
 * Which targets credwarden holds remediation credentials for: an AWS account with a
 * `remediationRoleArn`, a Vault cluster with a `remediationToken`. The guard denies the rest
 * (code no-credentials) at planning, so nothing is queued that could only fail.
 */
import type { Config } from '../config/schema.js';
import type { ActionTarget } from '../model/action.js';
import { type DeliveryTarget, kvOf } from '../model/rotation.js';

/**
 * null when credwarden can act on the target and, for a rotation, write its delivery (the
 * delivery cluster's remediationToken writes the KV secret); otherwise the reason.
 */
export function remediationCredentialsFor(
  config: Pick<Config, 'aws' | 'vault'>,
  t: ActionTarget,
  delivery?: DeliveryTarget | null,
): string | null {
  const own = targetCredentials(config, t);
  if (own !== null || !delivery) return own;
  const kv = kvOf(delivery);
  const c = config.vault.find((x) => x.name === kv.cluster);
  if (!c) return `the delivery's vault cluster ${kv.cluster} is not configured`;
  return c.remediationToken
    ? null
    : `the delivery's vault cluster ${kv.cluster} has no remediationToken, so the new credential could not be written`;
}

function targetCredentials(config: Pick<Config, 'aws' | 'vault'>, t: ActionTarget): string | null {
  if (t.sourceType === 'aws') {
    const a = config.aws?.accounts?.find((x) => x.id === t.source);
    if (!a) return `account ${t.source} is not listed in aws.accounts, so it has no remediationRoleArn`;
    return a.remediationRoleArn ? null : `account ${t.source}${a.name ? ` (${a.name})` : ''} has no remediationRoleArn`;
  }
  const cluster = t.source.split('/')[0]!;
  const c = config.vault.find((x) => x.name === cluster);
  if (!c) return `vault cluster ${cluster} is not configured`;
  return c.remediationToken ? null : `vault cluster ${cluster} has no remediationToken`;
}
