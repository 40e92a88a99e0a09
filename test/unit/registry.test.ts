import { describe, expect, it } from 'vitest';
import { CwError, ErrorCodes } from '../../src/errors.js';
import type { DiscoveredCredential } from '../../src/model/credential.js';
import { anyGlob, globMatch } from '../../src/registry/glob.js';
import { loadRegistryText, resolveDeliveries } from '../../src/registry/load.js';
import {
  attribute,
  isAgentPrincipal,
  looksLikeAgent,
  type MatchSubject,
  matchAgents,
} from '../../src/registry/match.js';

const FILE = '/srv/credwarden/agents.yaml';
const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

/** One agent entry, five lines, with the given extra lines appended (already indented by 4). */
const agent = (id: string, ...extra: string[]) => [
  `  - id: ${id}`,
  `    name: Agent ${id}`,
  '    owner: { team: platform, contact: platform@example.com }',
  '    version: "1.0.0"',
  '    environment: prod',
  ...extra,
];

function registryError(text: string): CwError {
  let caught: unknown;
  try {
    loadRegistryText(FILE, text);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CwError);
  return caught as CwError;
}

describe(loadRegistryText.name, () => {
  const sut = loadRegistryText;

  it('should load the registry contract example from the design document', () => {
    const text = yaml(
      'agents:',
      '  - id: invoice-bot',
      '    name: Invoice bot',
      '    owner: { team: finance-eng, contact: finance-eng@example.com }',
      '    version: "1.4.0"',
      '    environment: prod',
      '    scopes:',
      '      aws: ["s3:GetObject", "s3:PutObject"]',
      '      vault: ["secret/data/agents/invoice/*:read"]',
      '    selectors:',
      '      aws: { users: ["svc-invoice-bot"], roles: [], tags: { agent-id: invoice-bot } }',
      '      vault: { displayNames: ["token-invoice-bot"], meta: { agent: invoice-bot }, approleRoles: ["approle/invoice-bot"], namespace: "team-a/" }',
      '    delivery: { vault: { path: "secret/data/agents/invoice-bot/aws" } }',
      'unregistered:',
      '  aws: { tags: { agent: "true" }, namePatterns: ["agent-*"] }',
      '  vault: { meta: [agent, role_name], displayNamePatterns: ["*agent*"], policyPatterns: ["*agent*"] }',
    );

    const registry = sut(FILE, text);

    expect(registry.agents).toHaveLength(1);
    expect(registry.agents[0]).toMatchObject({
      id: 'invoice-bot',
      owner: { team: 'finance-eng', contact: 'finance-eng@example.com' },
      scopes: {
        aws: ['s3:GetObject', 's3:PutObject'],
        vault: [{ path: 'secret/data/agents/invoice/*', capabilities: ['read'] }],
      },
      selectors: {
        aws: { users: ['svc-invoice-bot'], roles: [], tags: { 'agent-id': 'invoice-bot' } },
        vault: { displayNames: ['token-invoice-bot'], meta: { agent: 'invoice-bot' }, namespace: 'team-a/' },
      },
      delivery: { type: 'vault', cluster: '', namespace: 'root', mount: 'secret', path: 'agents/invoice-bot/aws' },
    });
    expect(registry.unregistered).toEqual({
      aws: { tags: { agent: 'true' }, namePatterns: ['agent-*'] },
      vault: { meta: ['agent', 'role_name'], displayNamePatterns: ['*agent*'], policyPatterns: ['*agent*'] },
    });
  });

  it.each([
    { name: 'an empty file', text: '' },
    { name: 'an empty agent list', text: 'agents: []\n' },
  ])('should load $name as an empty registry with empty unregistered rules', ({ text }) => {
    expect(sut(FILE, text)).toEqual({
      agents: [],
      unregistered: {
        aws: { tags: {}, namePatterns: [] },
        vault: { meta: [], displayNamePatterns: [], policyPatterns: [] },
      },
    });
  });

  it.each([
    {
      name: 'the string form with one capability',
      scope: '"secret/data/app/*:read"',
      expected: { path: 'secret/data/app/*', capabilities: ['read'] },
    },
    {
      name: 'the string form with several capabilities',
      scope: '"secret/data/app:read,list,update"',
      expected: { path: 'secret/data/app', capabilities: ['read', 'list', 'update'] },
    },
    {
      name: 'the object form',
      scope: '{ path: "kv/x", capabilities: [read, create] }',
      expected: { path: 'kv/x', capabilities: ['read', 'create'] },
    },
  ])('should parse a vault scope in $name', ({ scope, expected }) => {
    const text = yaml(
      'agents:',
      ...agent('a1', '    scopes:', `      vault: [${scope}]`, '    selectors:', '      vault: { displayNames: [x] }'),
    );

    expect(sut(FILE, text).agents[0]?.scopes.vault).toEqual([expected]);
  });

  interface ErrorCase {
    name: string;
    lines: string[];
    line: number;
    path: string;
    message: RegExp;
  }

  const selectors = ['    selectors:', '      aws: { users: [svc-x] }'];
  const errorCases: ErrorCase[] = [
    {
      name: 'a duplicate agent id',
      lines: ['agents:', ...agent('bot', ...selectors), ...agent('other', ...selectors), ...agent('bot', ...selectors)],
      line: 16,
      path: 'agents[2].id',
      message: /duplicate agent id "bot" \(first at agents\[0\]\)/,
    },
    {
      name: 'an agent id with uppercase and underscore',
      lines: ['agents:', ...agent('ok-bot', ...selectors), ...agent('Bad_Bot', ...selectors)],
      line: 9,
      path: 'agents[1].id',
      message: /lowercase letters, digits and dashes/,
    },
    {
      name: 'an agent id starting with a dash',
      lines: ['agents:', ...agent('-bot', ...selectors)],
      line: 2,
      path: 'agents[0].id',
      message: /lowercase letters, digits and dashes/,
    },
    {
      name: 'an agent id longer than 63 characters',
      lines: ['agents:', ...agent('a'.repeat(64), ...selectors)],
      line: 2,
      path: 'agents[0].id',
      message: /lowercase letters, digits and dashes/,
    },
    {
      name: 'an agent with empty selectors',
      lines: ['agents:', ...agent('bot', '    selectors: {}')],
      line: 7,
      path: 'agents[0].selectors',
      message: /needs at least one selector that can match/,
    },
    {
      name: 'an agent without selectors',
      lines: ['agents:', ...agent('bot')],
      line: 2,
      path: 'agents[0].selectors',
      message: /expected object/,
    },
    {
      name: 'a vault scope without capabilities',
      lines: ['agents:', ...agent('bot', '    scopes:', '      vault:', '        - secret/data/app', ...selectors)],
      line: 9,
      path: 'agents[0].scopes.vault[0]',
      message: /./,
    },
    {
      name: 'an unknown selector key',
      lines: ['agents:', ...agent('bot', '    selectors:', '      aws: { users: [x], groups: [y] }')],
      line: 8,
      path: 'agents[0].selectors.aws.groups',
      message: /"groups"/,
    },
    {
      name: 'an owner without a contact',
      lines: [
        'agents:',
        '  - id: bot',
        '    name: Bot',
        '    owner: { team: platform }',
        '    version: "1"',
        '    environment: prod',
        ...selectors,
      ],
      line: 4,
      path: 'agents[0].owner.contact',
      message: /expected string/,
    },
    {
      name: 'a non-string unregistered tag value',
      lines: ['unregistered:', '  aws:', '    tags: { agent: true }'],
      line: 3,
      path: 'unregistered.aws.tags.agent',
      message: /expected string/,
    },
  ];

  it.each(errorCases)('should reject $name with a located CW_ERR_REGISTRY error', ({ lines, line, path, message }) => {
    const err = registryError(yaml(...lines));

    expect(err.code).toBe(ErrorCodes.REGISTRY);
    expect(err.message.startsWith(`${FILE}:${line} ${path}: `)).toBe(true);
    expect(err.message).toMatch(message);
    expect(err.exitCode).toBe(2);
  });

  describe('delivery', () => {
    const withDelivery = (line: string) =>
      yaml('agents:', ...agent('bot', '    selectors:', '      aws: { users: ["svc-bot"] }', `    delivery: ${line}`));

    it('should split a KV v2 API path into mount and path, or take mount: and the path inside it', () => {
      expect(
        sut(FILE, withDelivery('{ vault: { cluster: main, path: "kv/team/data/agents/bot" } }')).agents[0]?.delivery,
      ).toEqual({ type: 'vault', cluster: 'main', namespace: 'root', mount: 'kv/team', path: 'agents/bot' });
      expect(
        sut(
          FILE,
          withDelivery('{ vault: { cluster: main, namespace: team-a, mount: kv, path: agents/bot, field: secret } }'),
        ).agents[0]?.delivery,
      ).toEqual({
        type: 'vault',
        cluster: 'main',
        namespace: 'team-a',
        mount: 'kv',
        path: 'agents/bot',
        field: 'secret',
      });
    });

    it('should read a webhook delivery with its KV secretRef and signing secret variable', () => {
      const d = sut(
        FILE,
        withDelivery(
          '{ webhook: { url: "https://hooks.example.com/x", signingSecretEnv: CW_HOOK, secretRef: { cluster: main, path: "secret/data/a/b" } } }',
        ),
      ).agents[0]?.delivery;
      expect(d).toEqual({
        type: 'webhook',
        url: 'https://hooks.example.com/x',
        signingSecretEnv: 'CW_HOOK',
        store: { type: 'vault', cluster: 'main', namespace: 'root', mount: 'secret', path: 'a/b' },
      });
    });

    it.each([
      ['{ vault: { cluster: main, path: "secret/agents/bot" } }', /delivery\.vault\.path: must be a KV v2 API path/],
      ['{ vault: { cluster: main, path: "secret/data/../x" } }', /delivery\.vault\.path: must be/],
      ['{ vault: { cluster: main, path: "secret/data/x", ttl: 1 } }', /delivery\.vault\.ttl: Unrecognized key/],
      ['{ s3: { bucket: b } }', /delivery/],
      [
        '{ webhook: { url: "ftp://x", signingSecretEnv: CW_HOOK, secretRef: { path: "secret/data/x" } } }',
        /delivery\.webhook\.url/,
      ],
    ])('should refuse %s with the key named and exit code 2', (line, message) => {
      const err = registryError(withDelivery(line));
      expect(err.code).toBe(ErrorCodes.REGISTRY);
      expect(err.message).toMatch(message);
      expect(err.exitCode).toBe(2);
    });

    it('should give a delivery without cluster the only configured cluster, and refuse it when that is ambiguous', () => {
      const reg = sut(FILE, withDelivery('{ vault: { path: "secret/data/agents/bot" } }'));
      expect(resolveDeliveries(reg, ['main'], FILE).agents[0]?.delivery).toMatchObject({ cluster: 'main' });
      expect(() => resolveDeliveries(reg, ['a', 'b'], FILE)).toThrow(
        /agents\[0\] \(bot\)\.delivery\.vault: needs cluster: \(configured: a, b\)/,
      );
      const named = sut(FILE, withDelivery('{ vault: { cluster: other, path: "secret/data/agents/bot" } }'));
      expect(() => resolveDeliveries(named, ['main'], FILE)).toThrow(
        /"other" is not a configured Vault cluster \(main\)/,
      );
    });
  });

  it('should report a YAML syntax error as CW_ERR_REGISTRY naming the file', () => {
    const err = registryError('agents:\n  - id: [unclosed\n');

    expect(err.code).toBe(ErrorCodes.REGISTRY);
    expect(err.message).toMatch(new RegExp(`^${FILE}(:\\d+)?: YAML syntax error: `));
  });
});

/** The registry the matching tests run against; agent order is significant (first wins). */
const REGISTRY = loadRegistryText(
  FILE,
  yaml(
    'agents:',
    ...agent('invoice-bot', '    selectors:', '      aws: { users: ["svc-invoice-*"] }'),
    ...agent('runner', '    selectors:', '      aws: { roles: ["arn:aws:iam::*:role/agent-runner-role"] }'),
    ...agent(
      'deployer',
      '    selectors:',
      '      aws: { roles: ["deploy-role"], users: ["arn:aws:iam::111111111111:user/ci/*"] }',
    ),
    ...agent('etl-bot', '    selectors:', '      aws: { tags: { agent-id: etl-bot, env: "prod-*" } }'),
    ...agent('catch-all-invoice', '    selectors:', '      aws: { users: ["svc-invoice-bot"] }'),
    ...agent(
      'vault-bot',
      '    selectors:',
      '      vault:',
      '        displayNames: ["token-vault-bot*"]',
      '        meta: { agent: vault-bot, team: data }',
      '        approleRoles: ["approle/vault-bot"]',
      '        policies: ["vault-bot-*"]',
      '        entities: ["ent-123"]',
    ),
    ...agent(
      'team-a-bot',
      '    selectors:',
      '      vault: { displayNames: ["token-team-a-bot"], namespace: "team-a/" }',
    ),
    ...agent('root-bot', '    selectors:', '      vault: { displayNames: ["token-root-bot"], namespace: root }'),
    'unregistered:',
    '  aws: { tags: { agent: "true" }, namePatterns: ["agent-*"] }',
    '  vault: { meta: [agent, role_name], displayNamePatterns: ["*agent*"], policyPatterns: ["*-agent-*"] }',
  ),
);

const userArn = (name: string, account = '111111111111') => `arn:aws:iam::${account}:user/${name}`;
const roleArn = (name: string, account = '111111111111') => `arn:aws:iam::${account}:role/${name}`;
const awsUser = (userName: string, tags: Record<string, string> = {}, arn = userArn(userName)): MatchSubject => ({
  sourceType: 'aws',
  aws: { userName, arn, tags },
});
const awsRole = (roleName: string, tags: Record<string, string> = {}, arn = roleArn(roleName)): MatchSubject => ({
  sourceType: 'aws',
  aws: { roleName, arn, tags },
});
const vault = (v: NonNullable<MatchSubject['vault']>): MatchSubject => ({ sourceType: 'vault', vault: v });

describe(matchAgents.name, () => {
  const sut = matchAgents;

  it.each([
    { name: 'a user name glob', subject: awsUser('svc-invoice-eu'), expected: ['invoice-bot'] },
    {
      name: 'a role ARN glob in any account',
      subject: awsRole('agent-runner-role', {}, roleArn('agent-runner-role', '222222222222')),
      expected: ['runner'],
    },
    { name: 'a role name', subject: awsRole('deploy-role'), expected: ['deployer'] },
    {
      name: 'a user ARN glob with a path',
      subject: awsUser('builder', {}, 'arn:aws:iam::111111111111:user/ci/builder'),
      expected: ['deployer'],
    },
    {
      name: 'all tags matching (values are globs)',
      subject: awsUser('etl', { 'agent-id': 'etl-bot', env: 'prod-eu' }),
      expected: ['etl-bot'],
    },
    {
      name: 'tags on a role',
      subject: awsRole('etl-role', { 'agent-id': 'etl-bot', env: 'prod-us', extra: 'x' }),
      expected: ['etl-bot'],
    },
    {
      name: 'several agents, in file order',
      subject: awsUser('svc-invoice-bot'),
      expected: ['invoice-bot', 'catch-all-invoice'],
    },
  ])('should match AWS principals by $name', ({ subject, expected }) => {
    expect(sut(REGISTRY, subject).map((a) => a.id)).toEqual(expected);
  });

  it.each([
    { name: 'only some of the tags', subject: awsUser('etl', { 'agent-id': 'etl-bot' }) },
    { name: 'a tag value outside its glob', subject: awsUser('etl', { 'agent-id': 'etl-bot', env: 'staging' }) },
    { name: 'a tag key in the wrong case', subject: awsUser('etl', { 'Agent-Id': 'etl-bot', env: 'prod-eu' }) },
    { name: 'a role named like a user selector', subject: awsRole('svc-invoice-bot') },
    { name: 'a user named like a role selector', subject: awsUser('deploy-role') },
    { name: 'a role ARN glob against another role', subject: awsRole('agent-runner-role-2') },
    { name: 'a name glob that is case-sensitive', subject: awsUser('SVC-invoice-bot') },
    { name: 'a human user', subject: awsUser('alice', { team: 'finance' }) },
    {
      name: 'a vault subject against AWS-only agents',
      subject: vault({ namespace: '', displayName: 'svc-invoice-bot' }),
    },
  ])('should not match $name', ({ subject }) => {
    expect(sut(REGISTRY, subject).map((a) => a.id)).toEqual([]);
  });

  it.each([
    { name: 'display name glob', v: { namespace: '', displayName: 'token-vault-bot-7' }, expected: ['vault-bot'] },
    {
      name: 'all meta pairs',
      v: { namespace: '', meta: { agent: 'vault-bot', team: 'data', x: 'y' } },
      expected: ['vault-bot'],
    },
    { name: 'approle mount/role', v: { namespace: '', approleRole: 'approle/vault-bot' }, expected: ['vault-bot'] },
    { name: 'a policy glob', v: { namespace: '', policies: ['default', 'vault-bot-read'] }, expected: ['vault-bot'] },
    { name: 'an entity id', v: { namespace: '', entityId: 'ent-123' }, expected: ['vault-bot'] },
    {
      name: 'a namespace given with a trailing slash',
      v: { namespace: 'team-a/', displayName: 'token-team-a-bot' },
      expected: ['team-a-bot'],
    },
    {
      name: 'a namespace given without a trailing slash',
      v: { namespace: 'team-a', displayName: 'token-team-a-bot' },
      expected: ['team-a-bot'],
    },
    {
      name: 'a root selector against the empty namespace',
      v: { namespace: '', displayName: 'token-root-bot' },
      expected: ['root-bot'],
    },
    {
      name: 'a root selector against "root"',
      v: { namespace: 'root', displayName: 'token-root-bot' },
      expected: ['root-bot'],
    },
    {
      name: 'no namespace restriction in a child namespace',
      v: { namespace: 'team-b/', displayName: 'token-vault-bot' },
      expected: ['vault-bot'],
    },
  ])('should match Vault subjects by $name', ({ v, expected }) => {
    expect(sut(REGISTRY, vault(v)).map((a) => a.id)).toEqual(expected);
  });

  it.each([
    { name: 'only one of two meta pairs', v: { namespace: '', meta: { agent: 'vault-bot' } } },
    { name: 'another approle mount', v: { namespace: '', approleRole: 'approle-2/vault-bot' } },
    { name: 'a policy outside the glob', v: { namespace: '', policies: ['default'] } },
    { name: 'another entity', v: { namespace: '', entityId: 'ent-999' } },
    { name: 'a namespaced selector in root', v: { namespace: '', displayName: 'token-team-a-bot' } },
    {
      name: 'a namespaced selector in a sibling namespace',
      v: { namespace: 'team-b/', displayName: 'token-team-a-bot' },
    },
    {
      name: 'a namespaced selector in a child namespace',
      v: { namespace: 'team-a/sub/', displayName: 'token-team-a-bot' },
    },
    { name: 'a root selector in a child namespace', v: { namespace: 'team-a/', displayName: 'token-root-bot' } },
    { name: 'nothing but a namespace', v: { namespace: '' } },
  ])('should not match Vault subjects with $name', ({ v }) => {
    expect(sut(REGISTRY, vault(v)).map((a) => a.id)).toEqual([]);
  });
});

describe(looksLikeAgent.name, () => {
  const sut = looksLikeAgent;

  it.each([
    { name: 'an AWS user with the agent tag', subject: awsUser('scraper', { agent: 'true' }), expected: true },
    { name: 'an AWS role with the agent tag', subject: awsRole('scraper-role', { agent: 'true' }), expected: true },
    { name: 'an AWS tag value outside its glob', subject: awsUser('scraper', { agent: 'false' }), expected: false },
    { name: 'an AWS user name pattern', subject: awsUser('agent-scraper'), expected: true },
    { name: 'an AWS role name pattern', subject: awsRole('agent-crawler'), expected: true },
    {
      name: 'a name pattern tested against the name, not the ARN',
      subject: awsUser('bob', {}, userArn('agent-x')),
      expected: false,
    },
    { name: 'a human AWS user', subject: awsUser('alice', { team: 'finance' }), expected: false },
    {
      name: 'a Vault meta key present',
      subject: vault({ namespace: '', meta: { role_name: 'anything' } }),
      expected: true,
    },
    {
      name: 'a Vault meta key present but empty',
      subject: vault({ namespace: '', meta: { agent: '' } }),
      expected: false,
    },
    {
      name: 'a Vault display name pattern',
      subject: vault({ namespace: '', displayName: 'approle-my-agent-1' }),
      expected: true,
    },
    {
      name: 'a Vault policy pattern',
      subject: vault({ namespace: '', policies: ['default', 'kv-agent-read'] }),
      expected: true,
    },
    {
      name: 'a human Vault token',
      subject: vault({ namespace: '', displayName: 'userpass-alice', policies: ['default'] }),
      expected: false,
    },
  ])('should report $name as $expected', ({ subject, expected }) => {
    expect(sut(REGISTRY, subject)).toBe(expected);
  });
});

describe(isAgentPrincipal.name, () => {
  const sut = isAgentPrincipal;

  it.each([
    { name: 'a registered AWS user', subject: awsUser('svc-invoice-eu'), expected: true },
    { name: 'an unregistered agent-looking AWS user', subject: awsUser('agent-scraper'), expected: true },
    { name: 'a human AWS user', subject: awsUser('alice'), expected: false },
    { name: 'a human AWS role', subject: awsRole('OrganizationAccountAccessRole'), expected: false },
    {
      name: 'a registered Vault token',
      subject: vault({ namespace: '', displayName: 'token-vault-bot' }),
      expected: true,
    },
    { name: 'a human Vault token', subject: vault({ namespace: '', displayName: 'oidc-alice' }), expected: false },
    { name: 'a subject with no facts', subject: { sourceType: 'aws' } as MatchSubject, expected: false },
  ])('should report $name as $expected', ({ subject, expected }) => {
    expect(sut(REGISTRY, subject)).toBe(expected);
  });
});

describe(attribute.name, () => {
  const sut = attribute;

  const discovered = (attributes: Record<string, unknown> = { userName: 'x' }): DiscoveredCredential => ({
    id: 'aws/111111111111/access-key/AKIAEXAMPLE',
    kind: 'aws-access-key',
    sourceType: 'aws',
    source: '111111111111',
    principal: userArn('x'),
    createdAt: null,
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants: [],
    tags: {},
    attributes,
    observedAt: '2026-01-01T00:00:00.000Z',
  });

  it.each([
    {
      name: 'a single match',
      subject: awsUser('svc-invoice-eu'),
      expected: {
        agentId: 'invoice-bot',
        owner: { team: 'platform', contact: 'platform@example.com' },
        unregisteredAgent: false,
        attributes: { userName: 'x' },
      },
    },
    {
      name: 'several matches (first in file order wins, candidates listed)',
      subject: awsUser('svc-invoice-bot'),
      expected: {
        agentId: 'invoice-bot',
        owner: { team: 'platform', contact: 'platform@example.com' },
        unregisteredAgent: false,
        attributes: { userName: 'x', agentCandidates: ['invoice-bot', 'catch-all-invoice'] },
      },
    },
    {
      name: 'a registered agent that also looks unregistered',
      subject: awsUser('svc-invoice-eu', { agent: 'true' }),
      expected: {
        agentId: 'invoice-bot',
        owner: { team: 'platform', contact: 'platform@example.com' },
        unregisteredAgent: false,
        attributes: { userName: 'x' },
      },
    },
    {
      name: 'an unregistered agent by tag',
      subject: awsUser('scraper', { agent: 'true' }),
      expected: { agentId: null, owner: null, unregisteredAgent: true, attributes: { userName: 'x' } },
    },
    {
      name: 'an unregistered agent by name pattern',
      subject: awsUser('agent-scraper'),
      expected: { agentId: null, owner: null, unregisteredAgent: true, attributes: { userName: 'x' } },
    },
    {
      name: 'a human',
      subject: awsUser('alice'),
      expected: { agentId: null, owner: null, unregisteredAgent: false, attributes: { userName: 'x' } },
    },
  ])('should attribute $name', ({ subject, expected }) => {
    const cred = discovered();

    const out = sut(REGISTRY, cred, subject);

    expect(out).toEqual({ ...cred, ...expected });
  });

  it('should not share the owner object with the registry or mutate the input', () => {
    const cred = discovered();

    const out = sut(REGISTRY, cred, awsUser('svc-invoice-bot'));
    out.owner!.team = 'changed';

    expect(REGISTRY.agents[0]?.owner?.team).toBe('platform');
    expect(cred.attributes).toEqual({ userName: 'x' });
  });
});

describe(globMatch.name, () => {
  const sut = globMatch;

  it.each([
    { glob: 'svc-*', value: 'svc-invoice', expected: true },
    { glob: 'svc-*', value: 'svc-', expected: true },
    { glob: 'svc-*', value: 'xsvc-a', expected: false },
    { glob: 'svc-?', value: 'svc-a', expected: true },
    { glob: 'svc-?', value: 'svc-ab', expected: false },
    { glob: '*', value: '', expected: true },
    { glob: 'a.b', value: 'aXb', expected: false },
    { glob: 'a+b', value: 'a+b', expected: true },
    { glob: '(x)|[y]', value: '(x)|[y]', expected: true },
    { glob: 'arn:aws:iam::*:role/r', value: 'arn:aws:iam::123456789012:role/r', expected: true },
    { glob: 'arn:aws:iam::*:role/r', value: 'arn:aws:iam::123456789012:role/r2', expected: false },
    { glob: 'Bot', value: 'bot', expected: false },
    { glob: '*', value: 'multi\nline', expected: true },
  ])('should report $glob against $value as $expected', ({ glob, value, expected }) => {
    expect(sut(glob, value)).toBe(expected);
  });
});

describe(anyGlob.name, () => {
  const sut = anyGlob;

  it.each([
    { globs: ['a*', 'b*'], value: 'bee', expected: true },
    { globs: ['a*'], value: 'bee', expected: false },
    { globs: [], value: 'bee', expected: false },
    { globs: undefined, value: 'bee', expected: false },
    { globs: ['*'], value: null, expected: false },
    { globs: ['*'], value: undefined, expected: false },
  ])('should report $globs against $value as $expected', ({ globs, value, expected }) => {
    expect(sut(globs, value)).toBe(expected);
  });
});
