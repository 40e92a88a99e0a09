/** The pieces of evidence-history.ts: the policies its findings come from, a seeded PRNG, credentials. */
import type { Credential } from '../../src/model/credential.js';

export const POLICIES = [
  { name: 'unused-keys', severity: 'medium', controls: { soc2: ['CC6.2'], 'nist-800-53': ['AC-2(3)'] } },
  { name: 'admin-keys', severity: 'critical', controls: { soc2: ['CC6.3'], 'nist-800-53': ['AC-6'] } },
  { name: 'key-rotation', severity: 'medium', controls: { soc2: ['CC6.1'], 'nist-800-53': ['IA-5'] } },
  { name: 'agent-console', severity: 'high', controls: { soc2: ['CC7.2'] } },
] as const;

/** The fault harness's seeded generator (mulberry32), so a history is the same for a seed. */
export { seededRng as prng } from './fault-phases.js';

/** A maker of realistic agent access keys, spread over `accounts`, numbered in order. */
export function credentialMaker(accounts: readonly string[]): (t: Date) => Credential {
  let serial = 0;
  return (t: Date): Credential => {
    const n = serial++;
    const account = accounts[n % accounts.length]!;
    const keyId = `AKIA${n.toString(36).toUpperCase().padStart(16, '0')}`;
    const user = `agent-${n}`;
    return {
      id: `aws/${account}/access-key/${keyId}`,
      kind: 'aws-access-key',
      sourceType: 'aws',
      source: account,
      principal: `arn:aws:iam::${account}:user/${user}`,
      agentId: `agent-${n % 50}`,
      owner: { team: `team-${n % 7}`, contact: `team-${n % 7}@example.com` },
      unregisteredAgent: false,
      createdAt: new Date(t.getTime() - 86_400_000 * (1 + (n % 300))).toISOString(),
      lastUsed: { at: t.toISOString(), source: 'credential-report', asOf: t.toISOString() },
      expiresAt: null,
      status: 'active',
      grants: [],
      tags: { lane: 'plain' },
      attributes: { userName: user },
      observedAt: t.toISOString(),
    };
  };
}
