/**
 * Test factories for policy rules: Credential records of each kind with plausible defaults, registry
 * agents, and a RuleContext over a list of credentials (samePrincipal = same `principal`). Every
 * time is relative to NOW unless a test passes its own, so boundary tests read as "N days ago".
 */
import type { Agent, Registry } from '../../src/model/agent.js';
import type { Credential, LastUsed } from '../../src/model/credential.js';
import { DAY_MS, type RuleContext, type RuleHit, type RuleType } from '../../src/policy/types.js';

export const NOW = new Date('2026-11-01T00:00:00.000Z');
export const ACCOUNT = '123456789012';

/** ISO time `days` days (fractions allowed) before `from`. */
export const daysAgo = (days: number, from: Date = NOW): string =>
  new Date(from.getTime() - days * DAY_MS).toISOString();
/** ISO time `days` days after `from`. */
export const daysAhead = (days: number, from: Date = NOW): string =>
  new Date(from.getTime() + days * DAY_MS).toISOString();
/** A Date `days` days before NOW: an --as-of evaluation time. */
export const asOf = (days: number): Date => new Date(NOW.getTime() - days * DAY_MS);

/** Last use `days` ago, as the credential report would record it. */
export const usedDaysAgo = (days: number, extra: Partial<LastUsed> = {}): LastUsed => ({
  at: daysAgo(days),
  service: 'iam',
  region: 'us-east-1',
  source: 'credential-report',
  asOf: NOW.toISOString(),
  ...extra,
});
/** Known never used (the source answered, with no date). */
export const NEVER_USED: LastUsed = { at: null, source: 'credential-report', asOf: NOW.toISOString() };

type Overrides = Partial<Credential>;

function base(o: Overrides & Pick<Credential, 'id' | 'kind' | 'sourceType' | 'source' | 'principal'>): Credential {
  return {
    agentId: 'invoice-bot',
    owner: { team: 'finance-eng', contact: 'finance-eng@example.com' },
    unregisteredAgent: false,
    createdAt: daysAgo(10),
    lastUsed: usedDaysAgo(1),
    expiresAt: null,
    status: 'active',
    grants: [],
    tags: {},
    attributes: {},
    observedAt: NOW.toISOString(),
    ...o,
  };
}

const userArn = (user: string) => `arn:aws:iam::${ACCOUNT}:user/${user}`;

export function accessKey(keyId = 'AKIAEXAMPLE000000001', o: Overrides = {}, user = 'svc-invoice-bot'): Credential {
  return base({
    id: `aws/${ACCOUNT}/access-key/${keyId}`,
    kind: 'aws-access-key',
    sourceType: 'aws',
    source: ACCOUNT,
    principal: userArn(user),
    ...o,
    attributes: { userName: user, accessKeyId: keyId, ...o.attributes },
  });
}

export function consolePassword(o: Overrides = {}, user = 'svc-invoice-bot'): Credential {
  return base({
    id: `aws/${ACCOUNT}/console-password/${user}`,
    kind: 'aws-console-password',
    sourceType: 'aws',
    source: ACCOUNT,
    principal: userArn(user),
    lastUsed: { at: daysAgo(3), source: 'credential-report', asOf: NOW.toISOString() },
    ...o,
    attributes: { userName: user, mfaActive: false, ...o.attributes },
  });
}

export function rootKey(slot: 1 | 2 = 1, o: Overrides = {}): Credential {
  return base({
    id: `aws/${ACCOUNT}/root-access-key/${slot}`,
    kind: 'aws-root-access-key',
    sourceType: 'aws',
    source: ACCOUNT,
    principal: `arn:aws:iam::${ACCOUNT}:root`,
    agentId: null,
    owner: null,
    ...o,
    attributes: { reportSlot: slot, mfaActive: true, ...o.attributes },
  });
}

export function vaultToken(o: Overrides = {}): Credential {
  return base({
    id: 'vault/main/root/token/acc-1',
    kind: 'vault-token',
    sourceType: 'vault',
    source: 'main/root',
    principal: 'token-invoice-bot',
    lastUsed: null,
    expiresAt: daysAhead(1),
    ...o,
    attributes: {
      accessor: 'acc-1',
      policies: ['default', 'invoice-bot'],
      ttlSeconds: 86_400,
      explicitMaxTtlSeconds: 0,
      periodSeconds: null,
      orphan: false,
      self: false,
      ...o.attributes,
    },
  });
}

export function secretId(o: Overrides = {}): Credential {
  return base({
    id: 'vault/main/root/approle/approle/invoice-bot/secret-id/sid-acc-1',
    kind: 'vault-approle-secret-id',
    sourceType: 'vault',
    source: 'main/root',
    principal: 'approle/approle/invoice-bot',
    lastUsed: null,
    expiresAt: daysAhead(20),
    ...o,
    attributes: {
      secretIdAccessor: 'sid-acc-1',
      remainingUses: 0,
      secretIdTtlSeconds: 2_592_000,
      neverExpires: o.expiresAt === null,
      ...o.attributes,
    },
  });
}

export function vaultLease(o: Overrides = {}): Credential {
  return base({
    id: 'vault/main/root/lease/aws/creds/invoice-bot/lease-1',
    kind: 'vault-lease',
    sourceType: 'vault',
    source: 'main/root',
    principal: 'aws/creds/invoice-bot',
    lastUsed: null,
    expiresAt: daysAhead(1),
    ...o,
    attributes: { leaseId: 'aws/creds/invoice-bot/lease-1', ttlSeconds: 86_400, renewable: true, ...o.attributes },
  });
}

export function agent(id: string, o: Partial<Agent> = {}): Agent {
  return {
    id,
    name: `Agent ${id}`,
    owner: { team: 'finance-eng', contact: 'finance-eng@example.com' },
    version: '1.0.0',
    environment: 'prod',
    scopes: { aws: [], vault: [] },
    selectors: {},
    ...o,
  };
}

export interface ContextInput {
  now?: Date;
  credentials?: Credential[];
  agents?: Agent[];
}

/** A RuleContext with a fixed clock, a registry, and an inventory index over `credentials`. */
export function ruleContext(input: ContextInput = {}): RuleContext {
  const all = input.credentials ?? [];
  const registry: Registry = {
    agents: input.agents ?? [agent('invoice-bot')],
    unregistered: {
      aws: { tags: { agent: 'true' }, namePatterns: ['agent-*'] },
      vault: { meta: ['agent'], displayNamePatterns: ['*agent*'], policyPatterns: ['*agent*'] },
    },
  };
  return {
    now: input.now ?? NOW,
    registry,
    agent: (id) => (id === null ? undefined : registry.agents.find((a) => a.id === id)),
    inventory: {
      all,
      byId: new Map(all.map((c) => [c.id, c])),
      samePrincipal: (cred) => all.filter((c) => c.principal === cred.principal),
    },
    services: {},
  };
}

/** Parse `params` through the rule's schema (defaults applied, unknown keys rejected), then evaluate. */
export function evaluate<P>(rule: RuleType<P>, cred: Credential, params: unknown = {}, ctx = ruleContext()): RuleHit[] {
  return rule.evaluate(cred, rule.schema.parse(params), ctx);
}
