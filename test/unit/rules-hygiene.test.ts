import { describe, expect, it } from 'vitest';
import type { Agent } from '../../src/model/agent.js';
import type { Credential } from '../../src/model/credential.js';
import { agentWithoutOwner } from '../../src/policy/rules/agent-without-owner.rule.js';
import { awsConsoleWithoutMfa } from '../../src/policy/rules/aws-console-without-mfa.rule.js';
import { awsUserDirectPolicy } from '../../src/policy/rules/aws-user-direct-policy.rule.js';
import { humanUse } from '../../src/policy/rules/human-use.rule.js';
import { rootAccountKeys } from '../../src/policy/rules/root-account-keys.rule.js';
import { sharedCredential } from '../../src/policy/rules/shared-credential.rule.js';
import { twoActiveKeys } from '../../src/policy/rules/two-active-keys.rule.js';
import { unregisteredAgent } from '../../src/policy/rules/unregistered-agent.rule.js';
import {
  accessKey,
  agent,
  consolePassword,
  daysAgo,
  evaluate,
  NEVER_USED,
  rootKey,
  ruleContext,
  usedDaysAgo,
  vaultToken,
} from '../support/credentials.js';

describe(twoActiveKeys.name, () => {
  const rule = twoActiveKeys;
  const k1 = accessKey('AKIAONE');
  const k2 = accessKey('AKIATWO');
  const off = accessKey('AKIAOFF', { status: 'inactive' });
  const other = accessKey('AKIAOTHER', {}, 'svc-other-bot');

  it('should apply to IAM user access keys only', () => {
    expect(rule.kinds).toEqual(['aws-access-key']);
  });

  it.each<[string, Credential, Credential[], boolean]>([
    ['the first of two active keys', k1, [k1, k2], true],
    ['the second of two active keys', k2, [k1, k2], true],
    ['an active key beside an inactive one', k1, [k1, off], false],
    ['the inactive key beside two active ones', off, [k1, k2, off], false],
    ['a lone key', k1, [k1], false],
    ['a key whose sibling belongs to another user', k1, [k1, other], false],
    ["a key beside the same user's console password", k1, [k1, consolePassword()], false],
    [
      'a key beside a same-principal key recorded under another account',
      k1,
      [k1, accessKey('AKIAELSE', { source: '210987654321' })],
      false,
    ],
  ])('should judge %s (hit: %s)', (_label, cred, inventory, hit) => {
    expect(evaluate(rule, cred, {}, ruleContext({ credentials: inventory }))).toHaveLength(hit ? 1 : 0);
  });

  it('should hit each active key once, each hit listing both key ids', () => {
    const ctx = ruleContext({ credentials: [k2, k1, off] });
    const hits = [k1, k2, off].flatMap((c) => evaluate(rule, c, {}, ctx));
    expect(hits).toHaveLength(2);
    for (const hit of hits) {
      expect(hit.detector).toBe('two-keys');
      expect(hit.message).toBe('user svc-invoice-bot has 2 active access keys (AKIAONE, AKIATWO); one is the limit');
      expect(hit.evidence).toContainEqual({ field: 'attributes.accessKeyId', value: ['AKIAONE', 'AKIATWO'] });
    }
  });
});

describe(unregisteredAgent.name, () => {
  const rule = unregisteredAgent;

  it.each<[string, Credential, boolean]>([
    ['an unregistered agent key', accessKey(undefined, { agentId: null, owner: null, unregisteredAgent: true }), true],
    ['an unregistered agent token', vaultToken({ agentId: null, owner: null, unregisteredAgent: true }), true],
    ['a registered agent key', accessKey(), false],
    ['a key of no agent at all', accessKey(undefined, { agentId: null, owner: null }), false],
  ])('should judge %s (hit: %s)', (_label, cred, hit) => {
    expect(evaluate(rule, cred)).toHaveLength(hit ? 1 : 0);
  });

  it('should name the principal and carry its tags as evidence', () => {
    const cred = accessKey(undefined, { agentId: null, unregisteredAgent: true, tags: { agent: 'true' } }, 'agent-x');
    const [hit] = evaluate(rule, cred);
    expect(hit?.detector).toBe('unregistered');
    expect(hit?.message).toBe(
      "looks like an agent's credential (principal arn:aws:iam::123456789012:user/agent-x) but no registry agent claims it",
    );
    expect(hit?.evidence).toContainEqual({ field: 'unregisteredAgent', value: true });
    expect(hit?.evidence).toContainEqual({ field: 'tags', value: { agent: 'true' } });
  });
});

describe(agentWithoutOwner.name, () => {
  const rule = agentWithoutOwner;
  const cred = accessKey(undefined, { agentId: 'bot', owner: null });
  const registryWith = (a: Agent) => ruleContext({ agents: [a] });
  const { owner: _owner, ...ownerless } = agent('bot');

  it.each<[string, Credential, Agent, boolean]>([
    ['an agent with a full owner', cred, agent('bot'), false],
    ['an agent with no owner', cred, ownerless, true],
    ['an agent whose owner has an empty contact', cred, agent('bot', { owner: { team: 'ops', contact: '' } }), true],
    ['an agent whose owner has a blank team', cred, agent('bot', { owner: { team: '  ', contact: 'ops@x.io' } }), true],
    ['a credential of no agent', accessKey(undefined, { agentId: null }), ownerless, false],
    [
      'a credential whose agent the registry no longer knows',
      accessKey(undefined, { agentId: 'gone' }),
      ownerless,
      false,
    ],
  ])('should judge %s (hit: %s)', (_label, c, a, hit) => {
    expect(evaluate(rule, c, {}, registryWith(a))).toHaveLength(hit ? 1 : 0);
  });

  it.each<[string, Agent, string]>([
    ['no owner', ownerless, 'agent bot (Agent bot) has no owner in the registry'],
    [
      'a partly empty owner',
      agent('bot', { owner: { team: '', contact: '' } }),
      'agent bot (Agent bot) has an owner with an empty team and contact',
    ],
  ])('should say what is missing for %s', (_label, a, message) => {
    const [hit] = evaluate(rule, cred, {}, registryWith(a));
    expect(hit?.message).toBe(message);
    expect(hit?.detector).toBe('no-owner');
    expect(hit?.evidence).toContainEqual({ field: 'agentId', value: 'bot' });
  });

  it('should use the registry, not the owner copied onto the record at scan time', () => {
    const stale = accessKey(undefined, { agentId: 'bot', owner: { team: 'ops', contact: 'ops@x.io' } });
    expect(evaluate(rule, stale, {}, registryWith(ownerless))).toHaveLength(1);
  });
});

describe(sharedCredential.name, () => {
  const rule = sharedCredential;
  const withCandidates = (agentCandidates: unknown) => accessKey(undefined, { attributes: { agentCandidates } });

  it.each<[string, Credential, boolean]>([
    ['two candidates', withCandidates(['invoice-bot', 'billing-bot']), true],
    ['three candidates', withCandidates(['invoice-bot', 'billing-bot', 'audit-bot']), true],
    ['one candidate', withCandidates(['invoice-bot']), false],
    ['the same agent twice', withCandidates(['invoice-bot', 'invoice-bot']), false],
    ['no candidates attribute', accessKey(), false],
    ['a malformed candidates attribute', withCandidates('invoice-bot,billing-bot'), false],
  ])('should judge a credential with %s (hit: %s)', (_label, cred, hit) => {
    expect(evaluate(rule, cred)).toHaveLength(hit ? 1 : 0);
  });

  it('should list every claiming agent and the one it is attributed to', () => {
    const [hit] = evaluate(rule, withCandidates(['invoice-bot', 'billing-bot']));
    expect(hit?.detector).toBe('shared');
    expect(hit?.message).toBe(
      'claimed by 2 agents (invoice-bot, billing-bot); attributed to invoice-bot by registry order',
    );
    expect(hit?.evidence).toContainEqual({
      field: 'attributes.agentCandidates',
      value: ['invoice-bot', 'billing-bot'],
    });
  });
});

describe(humanUse.name, () => {
  const rule = humanUse;

  it('should apply to console passwords only', () => {
    expect(rule.kinds).toEqual(['aws-console-password']);
  });

  it.each<[string, Credential, boolean]>([
    ['an agent user', consolePassword(), true],
    ['an unregistered agent user', consolePassword({ agentId: null, owner: null, unregisteredAgent: true }), true],
    ['a user no agent claims', consolePassword({ agentId: null, owner: null }), false],
  ])('should judge the console password of %s (hit: %s)', (_label, cred, hit) => {
    expect(evaluate(rule, cred)).toHaveLength(hit ? 1 : 0);
  });

  it.each<[string, Credential, string, unknown]>([
    [
      'a recent sign-in without MFA',
      consolePassword({ lastUsed: { at: '2026-10-29T08:00:00+00:00', source: 'credential-report', asOf: daysAgo(0) } }),
      'agent invoice-bot user svc-invoice-bot has a console password (last signed in 2026-10-29; MFA not active)',
      '2026-10-29T08:00:00+00:00',
    ],
    [
      'no sign-in ever, with MFA',
      consolePassword({ lastUsed: NEVER_USED, attributes: { mfaActive: true } }),
      'agent invoice-bot user svc-invoice-bot has a console password (never signed in; MFA active)',
      null,
    ],
    [
      'an unknown last sign-in',
      consolePassword({ lastUsed: null, agentId: null, unregisteredAgent: true }),
      'unregistered agent user svc-invoice-bot has a console password (last sign-in unknown; MFA not active)',
      null,
    ],
  ])('should report %s with passwordLastUsed and mfaActive as evidence', (_label, cred, message, lastUsedAt) => {
    const [hit] = evaluate(rule, cred);
    expect(hit?.message).toBe(message);
    expect(hit?.detector).toBe('human-use');
    expect(hit?.evidence).toContainEqual(expect.objectContaining({ field: 'lastUsed.at', value: lastUsedAt }));
    expect(hit?.evidence).toContainEqual({ field: 'attributes.mfaActive', value: cred.attributes.mfaActive });
  });
});

describe(rootAccountKeys.name, () => {
  const rule = rootAccountKeys;

  it('should apply to root access keys only', () => {
    expect(rule.kinds).toEqual(['aws-root-access-key']);
  });

  it.each<[string, Credential, boolean]>([
    ['an active root key', rootKey(1), true],
    ['an active root key that was never used', rootKey(2, { lastUsed: NEVER_USED }), true],
    ['an inactive root key', rootKey(1, { status: 'inactive' }), false],
    ['an empty root key slot', rootKey(2, { status: 'inactive', createdAt: null, lastUsed: NEVER_USED }), false],
  ])('should judge %s (hit: %s)', (_label, cred, hit) => {
    expect(evaluate(rule, cred)).toHaveLength(hit ? 1 : 0);
  });

  it('should raise the hit to critical whatever the policy says, with the slot and last use', () => {
    const [hit] = evaluate(rule, rootKey(1, { createdAt: '2024-01-15T00:00:00.000Z', lastUsed: usedDaysAgo(2) }));
    expect(hit?.severity).toBe('critical');
    expect(hit?.detector).toBe('root-keys');
    expect(hit?.message).toBe(
      'root account 123456789012 has an active access key (slot 1, created 2024-01-15; last used 2026-10-30)',
    );
    expect(hit?.evidence).toContainEqual({ field: 'attributes.reportSlot', value: 1 });
  });
});

describe(awsConsoleWithoutMfa.name, () => {
  const rule = awsConsoleWithoutMfa;

  it('should apply to console passwords only', () => {
    expect(rule.kinds).toEqual(['aws-console-password']);
    expect(rule.category).toBe('hygiene');
  });

  it.each<[string, Credential, boolean]>([
    ['mfa_active false', consolePassword({ attributes: { mfaActive: false } }), true],
    ['mfa_active true', consolePassword({ attributes: { mfaActive: true } }), false],
    ['mfa_active unknown (no such column in the report)', consolePassword({ attributes: { mfaActive: null } }), false],
    ['mfa_active absent', consolePassword({ attributes: { mfaActive: undefined } }), false],
  ])('should judge a console password with %s (hit: %s)', (_label, cred, hit) => {
    expect(evaluate(rule, cred)).toHaveLength(hit ? 1 : 0);
  });

  it('should name the user and the last sign-in, with mfaActive as evidence', () => {
    const [hit] = evaluate(rule, consolePassword({ lastUsed: NEVER_USED }));
    expect(hit).toMatchObject({
      detector: 'console-no-mfa',
      message: 'user svc-invoice-bot has a console password without MFA (never signed in)',
    });
    expect(hit?.evidence).toContainEqual(expect.objectContaining({ field: 'attributes.mfaActive', value: false }));
  });
});

describe(awsUserDirectPolicy.name, () => {
  const rule = awsUserDirectPolicy;
  const grant = (attachment: 'inline' | 'managed' | 'group-inline' | 'group-managed', policy: string) => ({
    type: 'aws-statement' as const,
    effect: 'Allow' as const,
    actions: ['s3:GetObject'],
    resources: ['arn:aws:s3:::reports/*'],
    provenance: {
      policy,
      attachment,
      ...(attachment.endsWith('managed') ? { policyArn: `arn:aws:iam::123456789012:policy/${policy}` } : {}),
      ...(attachment.startsWith('group') ? { via: 'agents' } : {}),
    },
  });

  it('should apply to user credentials, as hygiene', () => {
    expect(rule.kinds).toEqual(['aws-access-key', 'aws-console-password']);
    expect(rule.category).toBe('hygiene');
  });

  it('should hit once per directly attached policy, never for group ones', () => {
    const key = accessKey('AKIAEXAMPLE000000001', {
      grants: [
        grant('inline', 'own'),
        grant('managed', 'attached'),
        grant('group-managed', 'team'),
        grant('group-inline', 'team-inline'),
      ],
    });
    expect(evaluate(rule, key).map((h) => [h.key, h.severity, h.detector])).toEqual([
      ['arn:aws:iam::123456789012:policy/attached', 'low', 'direct-policy'],
      ['inline:own', 'low', 'direct-policy'],
    ]);
    const grouped = accessKey('AKIAEXAMPLE000000001', { grants: [grant('group-managed', 'team')] });
    expect(evaluate(rule, grouped)).toEqual([]);
  });
});
