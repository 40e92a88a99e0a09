/**
 * Vault privilege analysis (src/privilege/vault-*): pattern-over-pattern matching (`covers`,
 * `intersection`), each detector on hand-built grant lists, Vault's priority rules (a more specific
 * deny shadows a glob, a less specific one does not), and the per-grant-list cache.
 */
import { describe, expect, it } from 'vitest';
import type { Credential, VaultPathGrant } from '../../src/model/credential.js';
import { VaultPrivilegeAnalyzer } from '../../src/privilege/vault-detectors.js';
import { covers, intersection, spansMounts } from '../../src/privilege/vault-glob.js';

const grant = (path: string, capabilities: string[], policy = 'agent'): VaultPathGrant => ({
  type: 'vault-path',
  path,
  capabilities,
  provenance: { policy, attachment: 'vault-policy' },
});

function cred(grants: VaultPathGrant[]): Credential {
  return {
    id: 'vault/test/token',
    kind: 'vault-token',
    sourceType: 'vault',
    source: 'main/root',
    principal: 'token-agent',
    agentId: null,
    owner: null,
    unregisteredAgent: false,
    createdAt: null,
    lastUsed: null,
    expiresAt: null,
    status: 'active',
    grants,
    tags: {},
    attributes: {},
    observedAt: '2026-01-01T00:00:00Z',
  };
}

describe(covers.name, () => {
  it.each([
    { a: '*', b: 'anything/at/all', expected: true },
    { a: 'auth/*', b: 'auth/approle/role/x/secret-id', expected: true },
    { a: 'auth/*', b: 'auth/+/role/+/secret-id', expected: true },
    { a: 'auth/+/role/+/secret-id', b: 'auth/approle/role/x/secret-id', expected: true },
    { a: 'auth/+/role/+/secret-id', b: 'auth/approle/role/x/secret-id-accessor', expected: false },
    { a: 'auth/approle/role/x/secret-id', b: 'auth/+/role/+/secret-id', expected: false },
    { a: 'secret/*', b: 'secret/data/*', expected: true },
    { a: 'secret/data/*', b: 'secret/*', expected: false },
    { a: 'sys/audit*', b: 'sys/audit-hash/x', expected: true },
    { a: 'sys/audit*', b: 'sys/audit/*', expected: true },
    { a: 'sys/audit/*', b: 'sys/audit*', expected: false },
    { a: 'auth/*', b: 'auth', expected: false },
    { a: '+/*', b: 'sys/policies/acl/x', expected: true },
    { a: 'secret/+', b: 'secret/a/b', expected: false },
    { a: 'kv/data/app', b: 'kv/data/app', expected: true },
  ])('covers($a, $b) is $expected', ({ a, b, expected }) => {
    expect(covers(a, b)).toBe(expected);
  });
});

describe(intersection.name, () => {
  it.each([
    { a: '*', b: 'sys/policies/acl*', path: 'sys/policies/acl', open: true },
    { a: 'auth/*', b: 'auth/+/role/+/secret-id', path: 'auth/\u0000/role/\u0000/secret-id', open: false },
    {
      a: 'auth/approle/role/x/secret-id',
      b: 'auth/+/role/+/secret-id',
      path: 'auth/approle/role/x/secret-id',
      open: false,
    },
    { a: 'sys/au*', b: 'sys/audit*', path: 'sys/audit', open: true },
    { a: 'sys/mounts', b: 'sys/audit*', path: null, open: false },
    { a: 'secret/data/*', b: 'identity/*', path: null, open: false },
    { a: 'auth', b: 'auth/*', path: null, open: false },
  ])('intersection($a, $b)', ({ a, b, path, open }) => {
    const w = intersection(a, b);
    expect(w?.path ?? null).toBe(path);
    if (w) expect(w.open).toBe(open);
    expect(intersection(b, a)?.path ?? null).toBe(path);
  });
});

describe(spansMounts.name, () => {
  it.each([
    { p: '*', expected: true },
    { p: '+/*', expected: true },
    { p: 's*', expected: true },
    // A leading + with a concrete path reaches that path in every child namespace (or mount);
    // the broad globs are `*`, `+/*` and `sys/*`.
    { p: '+/data/*', expected: false },
    { p: '+/auth/token/accessors', expected: false },
    { p: '+/*', expected: true },
    { p: 'secret/*', expected: false },
    { p: 'sys/*', expected: false },
  ])('spansMounts($p) is $expected', ({ p, expected }) => {
    expect(spansMounts(p)).toBe(expected);
  });
});

describe(VaultPrivilegeAnalyzer.name, () => {
  const v = new VaultPrivilegeAnalyzer();
  type Method =
    | 'rootPolicy'
    | 'sudo'
    | 'auditSudo'
    | 'broadGlob'
    | 'sensitiveWrite'
    | 'tokenCreateSudo'
    | 'secretIdMinting';
  const run = (m: Method, grants: VaultPathGrant[]) => v[m](cred(grants)).map((r) => `${r.key} ${r.severity}`);

  it.each<{ name: string; method: Method; grants: VaultPathGrant[]; expected: string[] }>([
    { name: 'root policy', method: 'rootPolicy', grants: [grant('*', ['root'], 'root')], expected: ['root critical'] },
    { name: 'no root policy', method: 'rootPolicy', grants: [grant('*', ['read'])], expected: [] },
    {
      name: 'sudo on a single endpoint',
      method: 'sudo',
      grants: [grant('sys/leases/revoke-prefix/*', ['update', 'sudo'])],
      expected: ['sys/leases/revoke-prefix/* high'],
    },
    {
      name: 'sudo across sys/',
      method: 'sudo',
      grants: [grant('sys/*', ['sudo', 'read'])],
      expected: ['sys/* critical'],
    },
    {
      name: 'sudo merged into a deny',
      method: 'sudo',
      grants: [grant('sys/*', ['sudo']), grant('sys/*', ['deny'], 'guard')],
      expected: [],
    },
    {
      name: 'audit sudo through sys/*',
      method: 'auditSudo',
      grants: [grant('sys/*', ['sudo', 'update'])],
      expected: ['sys/audit critical'],
    },
    {
      name: 'audit sudo, exact path',
      method: 'auditSudo',
      grants: [grant('sys/audit/file', ['sudo', 'update'])],
      expected: ['sys/audit critical'],
    },
    {
      name: 'audit sudo shadowed by a more specific deny',
      method: 'auditSudo',
      grants: [grant('sys/*', ['sudo']), grant('sys/audit*', ['deny'], 'guard')],
      expected: [],
    },
    {
      name: 'glob * with write',
      method: 'broadGlob',
      grants: [grant('*', ['create', 'read'])],
      expected: ['* critical'],
    },
    {
      name: 'glob +/* read-only',
      method: 'broadGlob',
      grants: [grant('+/*', ['read', 'list'])],
      expected: ['+/* high'],
    },
    { name: 'glob sys/*', method: 'broadGlob', grants: [grant('sys/*', ['read'])], expected: ['sys/* high'] },
    {
      name: 'a mount-level glob is fine',
      method: 'broadGlob',
      grants: [grant('secret/data/agents/*', ['read'])],
      expected: [],
    },
    { name: 'a deny glob is fine', method: 'broadGlob', grants: [grant('*', ['deny'])], expected: [] },
    {
      name: 'writes on policy, auth and identity endpoints',
      method: 'sensitiveWrite',
      grants: [
        grant('sys/policies/acl/*', ['update']),
        grant('auth/*', ['create']),
        grant('identity/entity/*', ['read']),
      ],
      expected: ['sys/policies/acl* critical', 'auth/+/role/+ high', 'auth/token/roles/* high'],
    },
    {
      name: 'reading policies is not writing them',
      method: 'sensitiveWrite',
      grants: [grant('sys/policies/acl/*', ['read', 'list'])],
      expected: [],
    },
    {
      name: 'a broad grant with a more specific deny on sys/',
      method: 'sensitiveWrite',
      grants: [grant('*', ['create', 'update']), grant('sys/*', ['deny'], 'guard')],
      expected: ['identity/entity* high', 'identity/group* high', 'auth/+/role/+ high', 'auth/token/roles/* high'],
    },
    {
      name: 'update on sys/auth without sudo (root-protected) is not enough to enable auth methods',
      method: 'sensitiveWrite',
      grants: [grant('sys/auth/*', ['update'])],
      expected: [],
    },
    {
      name: 'a namespace-wide rule to a harmless path (+/auth/token/lookup-accessor) reaches nothing sensitive',
      method: 'sensitiveWrite',
      grants: [
        grant('+/auth/token/lookup-accessor', ['update']),
        grant('+/auth/approle/role/+/secret-id-accessor/lookup', ['update']),
      ],
      expected: [],
    },
    {
      name: 'a less specific deny does not override a more specific grant',
      method: 'sensitiveWrite',
      grants: [grant('sys/*', ['deny'], 'guard'), grant('sys/policies/acl/agent-*', ['update'])],
      expected: ['sys/policies/acl* critical'],
    },
    {
      name: 'token create with sudo',
      method: 'tokenCreateSudo',
      grants: [grant('auth/token/create*', ['update', 'sudo'])],
      expected: ['auth/token/create critical'],
    },
    {
      name: 'token create without sudo',
      method: 'tokenCreateSudo',
      grants: [grant('auth/token/create', ['update'])],
      expected: [],
    },
    {
      name: 'sudo and create on different rules for the same path',
      method: 'tokenCreateSudo',
      grants: [grant('auth/token/create', ['update', 'sudo'], 'a'), grant('auth/token/create', ['create'], 'b')],
      expected: ['auth/token/create critical'],
    },
    {
      name: 'secret-id minting on one role',
      method: 'secretIdMinting',
      grants: [grant('auth/approle/role/agent/secret-id', ['update'])],
      expected: ['auth/+/role/+/secret-id high'],
    },
    {
      name: 'secret-id minting through auth/*',
      method: 'secretIdMinting',
      grants: [grant('auth/*', ['create'])],
      expected: ['auth/+/role/+/secret-id high', 'auth/+/role/+/custom-secret-id high'],
    },
    {
      name: 'reading a role id is not minting',
      method: 'secretIdMinting',
      grants: [grant('auth/approle/role/agent/role-id', ['read'])],
      expected: [],
    },
  ])('$method: $name', ({ method, grants, expected }) => {
    expect(run(method, grants)).toEqual(expected);
  });

  it('root counts as every capability for the other detectors', () => {
    const c = cred([grant('*', ['root'], 'root')]);
    expect(v.tokenCreateSudo(c)).toHaveLength(1);
    expect(v.auditSudo(c)).toHaveLength(1);
  });

  it('names the governing rule and its policy in the evidence', () => {
    const [r] = v.secretIdMinting(cred([grant('auth/*', ['create'], 'ops')]));
    expect(r?.actions).toEqual(['auth/*:create']);
    expect(r?.evidence[0]?.statement).toMatchObject({ provenance: { policy: 'ops' } });
    expect(r?.confidence).toBe('confirmed');
  });

  it('analyses an equal grant list once', () => {
    const a = new VaultPrivilegeAnalyzer();
    const g = () => [grant('sys/*', ['sudo']), grant('secret/*', ['read'])];
    const first = a.analysis(g());
    expect(a.analysis(g().reverse())).toBe(first);
    expect(a.all(cred(g())).length).toBeGreaterThan(0);
    expect(a.stats.builds).toBe(1);
  });
});
