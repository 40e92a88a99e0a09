/**
 * Table-driven tests for the Vault ACL policy parser and matcher (src/sources/vault/acl-policy.ts):
 * HCL and JSON forms, comments, legacy `policy =`, fine-grained fields, syntax errors with line
 * numbers, and Vault's matching rules (exact first, LIST fallbacks, glob/segment priority, union
 * of identical patterns, deny).
 */
import { describe, expect, it } from 'vitest';
import {
  AclPolicyParseError,
  CompiledAcl,
  hasCapabilities,
  matchAcl,
  parseAclPolicy,
  parseDurationSeconds,
} from '../../src/sources/vault/acl-policy.js';

describe('parseAclPolicy', () => {
  const cases: { name: string; text: string; expected: unknown }[] = [
    {
      name: 'HCL block with capabilities',
      text: 'path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}\n',
      expected: [{ path: 'secret/data/app/*', capabilities: ['read', 'list'] }],
    },
    {
      name: 'all three comment styles, trailing commas, leading slash stripped',
      text: `# hash comment
// line comment
/* block
   comment */
path "/auth/token/lookup-self" { # trailing
  capabilities = ["read",] // more
}`,
      expected: [{ path: 'auth/token/lookup-self', capabilities: ['read'] }],
    },
    {
      name: 'legacy policy = "write"',
      text: 'path "kv/*" { policy = "write" }',
      expected: [{ path: 'kv/*', capabilities: ['create', 'read', 'update', 'delete', 'list'] }],
    },
    {
      name: 'legacy policy = "read"',
      text: 'path "kv/*" { policy = "read" }',
      expected: [{ path: 'kv/*', capabilities: ['read', 'list'] }],
    },
    {
      name: 'legacy policy = "sudo"',
      text: 'path "sys/*" { policy = "sudo" }',
      expected: [{ path: 'sys/*', capabilities: ['create', 'read', 'update', 'delete', 'list', 'sudo'] }],
    },
    {
      name: 'legacy policy = "deny" overrides listed capabilities',
      text: 'path "kv/x" { capabilities = ["read"]\n policy = "deny" }',
      expected: [{ path: 'kv/x', capabilities: ['deny'] }],
    },
    {
      name: 'deny in capabilities keeps only deny',
      text: 'path "kv/x" { capabilities = ["read", "deny", "list"] }',
      expected: [{ path: 'kv/x', capabilities: ['deny'] }],
    },
    {
      name: 'fine-grained controls (nested blocks, durations, lower-cased parameter names)',
      text: `path "auth/approle/role/+/secret-id" {
  capabilities = ["update"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = 3600
  allowed_parameters = {
    "Metadata" = []
    "ttl" = ["10m", "1h"]
  }
  denied_parameters { "num_uses" = [] }
  required_parameters = ["metadata"]
}`,
      expected: [
        {
          path: 'auth/approle/role/+/secret-id',
          capabilities: ['update'],
          minWrappingTtl: 60,
          maxWrappingTtl: 3600,
          allowedParameters: { metadata: [], ttl: ['10m', '1h'] },
          deniedParameters: { num_uses: [] },
          requiredParameters: ['metadata'],
        },
      ],
    },
    {
      name: 'JSON policy',
      text: JSON.stringify({
        path: { 'secret/*': { capabilities: ['read'] }, 'sys/leases/lookup/*': { capabilities: ['list', 'sudo'] } },
      }),
      expected: [
        { path: 'secret/*', capabilities: ['read'] },
        { path: 'sys/leases/lookup/*', capabilities: ['list', 'sudo'] },
      ],
    },
    {
      name: 'JSON policy with a list of path objects',
      text: '{"path": [{"a/*": {"capabilities": ["read"]}}, {"b": {"policy": "read"}}]}',
      expected: [
        { path: 'a/*', capabilities: ['read'] },
        { path: 'b', capabilities: ['read', 'list'] },
      ],
    },
    {
      name: 'HCL1 nested path map and a name key',
      text: 'name = "x"\npath = { "a" = { capabilities = ["read"] } }',
      expected: [{ path: 'a', capabilities: ['read'] }],
    },
    { name: 'empty policy', text: '# nothing\n', expected: [] },
  ];
  it.each(cases)('$name', ({ text, expected }) => {
    expect(parseAclPolicy(text)).toEqual(expected);
  });

  const errors: { name: string; text: string; line: number; message: RegExp }[] = [
    { name: 'missing closing brace', text: 'path "a" {\n  capabilities = ["read"]\n', line: 3, message: /expected/ },
    { name: 'unquoted value', text: 'path "a" {\n  capabilities = [read]\n}', line: 2, message: /identifier "read"/ },
    { name: 'invalid capability', text: '\n\npath "a" {\n capabilities = ["reed"]\n}', line: 3, message: /"reed"/ },
    { name: 'invalid legacy policy', text: 'path "a" {\n policy = "admin"\n}', line: 2, message: /invalid policy/ },
    { name: 'unknown path key', text: 'path "a" {\n  capabilites = []\n}', line: 2, message: /invalid key/ },
    { name: 'unknown top-level key', text: '\nroles "a" {}', line: 2, message: /invalid key "roles"/ },
    { name: 'unterminated string', text: 'path "a {\n}', line: 1, message: /unterminated string/ },
    { name: 'unterminated comment', text: 'path "a" {}\n/* oops', line: 2, message: /unterminated block comment/ },
    { name: '+* is forbidden', text: 'path "a/+*" { capabilities = ["read"] }', line: 1, message: /\+\*/ },
    { name: 'bad JSON', text: '{\n "path": {\n "a": { "capabilities": ["read"] \n}', line: 4, message: /expected/ },
    { name: 'bad duration', text: 'path "a" {\n min_wrapping_ttl = "soon"\n}', line: 2, message: /duration/ },
  ];
  it.each(errors)('syntax error: $name → line $line', ({ text, line, message }) => {
    let caught: unknown;
    try {
      parseAclPolicy(text);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AclPolicyParseError);
    expect((caught as AclPolicyParseError).line).toBe(line);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toContain(`line ${line}`);
  });
});

describe('parseDurationSeconds', () => {
  it.each([
    [90, 90],
    ['90', 90],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['500ms', 0],
    ['', 0],
    ['1d', null],
    [-1, null],
    [{}, null],
  ])('%j → %j', (input, out) => {
    expect(parseDurationSeconds(input)).toBe(out);
  });
});

describe('matchAcl', () => {
  const rule = (path: string, ...capabilities: string[]) => ({ path, capabilities });
  const cases: {
    name: string;
    rules: { path: string; capabilities: string[] }[];
    path: string;
    list?: boolean;
    caps: string[];
    pattern: string | null;
  }[] = [
    { name: 'exact match', rules: [rule('a/b', 'read')], path: 'a/b', caps: ['read'], pattern: 'a/b' },
    { name: 'exact does not match a child', rules: [rule('a/b', 'read')], path: 'a/b/c', caps: [], pattern: null },
    { name: 'glob is a prefix', rules: [rule('a/b*', 'read')], path: 'a/bcd/e', caps: ['read'], pattern: 'a/b*' },
    {
      name: 'exact beats glob',
      rules: [rule('a/*', 'read'), rule('a/b', 'list')],
      path: 'a/b',
      caps: ['list'],
      pattern: 'a/b',
    },
    {
      name: 'longest glob wins',
      rules: [rule('a/*', 'read'), rule('a/b/*', 'list')],
      path: 'a/b/c',
      caps: ['list'],
      pattern: 'a/b/*',
    },
    { name: '+ matches one segment', rules: [rule('a/+/c', 'read')], path: 'a/x/c', caps: ['read'], pattern: 'a/+/c' },
    { name: '+ does not match two segments', rules: [rule('a/+/c', 'read')], path: 'a/x/y/c', caps: [], pattern: null },
    { name: '+ needs the same segment count', rules: [rule('a/+', 'read')], path: 'a/x/y', caps: [], pattern: null },
    {
      name: '+ with a trailing glob',
      rules: [rule('a/+/c*', 'read')],
      path: 'a/x/cde/f',
      caps: ['read'],
      pattern: 'a/+/c*',
    },
    {
      name: 'priority 1: the later first wildcard wins (a/b/+ over a/+/c)',
      rules: [rule('a/+/c', 'read'), rule('a/b/+', 'list')],
      path: 'a/b/c',
      caps: ['list'],
      pattern: 'a/b/+',
    },
    {
      name: 'priority 1: a glob at a later position beats an earlier +',
      rules: [rule('a/+/c', 'read'), rule('a/b/c*', 'list')],
      path: 'a/b/c',
      caps: ['list'],
      pattern: 'a/b/c*',
    },
    {
      name: 'priority 1: a later + beats an earlier glob',
      rules: [rule('a/*', 'read'), rule('a/b/+', 'list')],
      path: 'a/b/c',
      caps: ['list'],
      pattern: 'a/b/+',
    },
    {
      name: 'priority 2: no trailing glob beats a trailing glob (a/+ over a/*)',
      rules: [rule('a/*', 'read'), rule('a/+', 'list')],
      path: 'a/b',
      caps: ['list'],
      pattern: 'a/+',
    },
    {
      name: 'priority 3: fewer + segments win',
      rules: [rule('a/+/+/d', 'read'), rule('a/+/c/d', 'list')],
      path: 'a/b/c/d',
      caps: ['list'],
      pattern: 'a/+/c/d',
    },
    {
      name: 'priority 4: the longer pattern wins',
      rules: [rule('a/+/c/d*', 'read'), rule('a/+/c/de*', 'list')],
      path: 'a/b/c/def',
      caps: ['list'],
      pattern: 'a/+/c/de*',
    },
    {
      name: 'identical patterns across policies are unioned',
      rules: [rule('a/*', 'read'), rule('a/*', 'list', 'sudo')],
      path: 'a/x',
      caps: ['read', 'list', 'sudo'],
      pattern: 'a/*',
    },
    {
      name: 'deny wins inside a merged pattern',
      rules: [rule('a/*', 'read', 'sudo'), rule('a/*', 'deny')],
      path: 'a/x',
      caps: ['deny'],
      pattern: 'a/*',
    },
    {
      name: 'a more specific allow is not overridden by a broader deny (Vault semantics)',
      rules: [rule('a/*', 'deny'), rule('a/b', 'read')],
      path: 'a/b',
      caps: ['read'],
      pattern: 'a/b',
    },
    {
      name: 'LIST: the path without the trailing slash is checked first (exact shadows a glob)',
      rules: [rule('sys/leases/lookup', 'update'), rule('sys/leases/lookup/*', 'list', 'sudo')],
      path: 'sys/leases/lookup/',
      list: true,
      caps: ['update'],
      pattern: 'sys/leases/lookup',
    },
    {
      name: 'LIST: deeper prefixes are matched by the glob',
      rules: [rule('sys/leases/lookup', 'update'), rule('sys/leases/lookup/*', 'list', 'sudo')],
      path: 'sys/leases/lookup/aws/',
      list: true,
      caps: ['list', 'sudo'],
      pattern: 'sys/leases/lookup/*',
    },
    {
      name: 'LIST: a wildcard rule without trailing slash matches',
      rules: [rule('+/sys/policies/acl', 'list')],
      path: 'ns1/sys/policies/acl/',
      list: true,
      caps: ['list'],
      pattern: '+/sys/policies/acl',
    },
    {
      name: 'not LIST: no trailing-slash fallback',
      rules: [rule('auth/token/accessors', 'list', 'sudo')],
      path: 'auth/token/accessors/',
      caps: [],
      pattern: null,
    },
    { name: 'no rules', rules: [], path: 'anything', caps: [], pattern: null },
  ];
  it.each(cases)('$name', ({ rules, path, list, caps, pattern }) => {
    const m = matchAcl(rules, path, { list });
    expect([...m.capabilities].sort()).toEqual([...caps].sort());
    expect(m.matchedPattern).toBe(pattern);
  });

  it('unions parsed policies and answers hasCapabilities', () => {
    const rules = [
      ...parseAclPolicy('path "auth/token/accessors" { capabilities = ["list"] }'),
      ...parseAclPolicy('path "auth/token/accessors" { capabilities = ["sudo"] }\npath "secret/*" { policy = "deny" }'),
    ];
    const acl = new CompiledAcl(rules);
    expect(hasCapabilities(acl, 'auth/token/accessors/', ['list', 'sudo'], { list: true })).toBe(true);
    expect(hasCapabilities(rules, 'auth/token/accessors', ['list', 'sudo'])).toBe(true);
    expect(hasCapabilities(rules, 'auth/token/accessors', ['update'])).toBe(false);
    expect(hasCapabilities(rules, 'secret/x', [])).toBe(false);
  });
});
