/**
 * The AWS action catalog (src/privilege/catalog.ts) over the real iam-data package: IAM wildcard
 * expansion, unknown patterns kept and flagged, access levels, wildcard-only actions, and the
 * escalation / credential tables checked against it so a renamed action cannot silently stop
 * matching.
 */
import { describe, expect, it } from 'vitest';
import { ActionCatalog, defaultCatalog, iamDataDir } from '../../src/privilege/catalog.js';
import { ACTIONS_THAT_RETURN_CREDENTIALS, ESCALATION_METHODS } from '../../src/privilege/escalation-data.js';

const catalog = defaultCatalog();

describe(ActionCatalog.name, () => {
  describe('expand', () => {
    const cases: { pattern: string; includes?: string[]; excludes?: string[]; exactly?: string[]; unknown: boolean }[] =
      [
        { pattern: 's3:GetObject', exactly: ['s3:GetObject'], unknown: false },
        { pattern: 'S3:GETOBJECT', exactly: ['s3:GetObject'], unknown: false },
        {
          pattern: 's3:*Object',
          includes: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          excludes: ['s3:GetObjectAcl', 's3:ListBucket'],
          unknown: false,
        },
        { pattern: 's3:Get?bject', includes: ['s3:GetObject'], excludes: ['s3:GetObjectAcl'], unknown: false },
        {
          pattern: 'iam:Put*Policy',
          includes: ['iam:PutUserPolicy', 'iam:PutRolePolicy', 'iam:PutGroupPolicy'],
          unknown: false,
        },
        { pattern: 's3*:GetObject', includes: ['s3:GetObject'], unknown: false },
        { pattern: 'lamda:Invoke', exactly: [], unknown: true },
        { pattern: 'iam:NoSuchAction*', exactly: [], unknown: true },
        { pattern: 'not-an-action', exactly: [], unknown: true },
        { pattern: 'iam:', exactly: [], unknown: true },
      ];
    it.each(cases)('$pattern', ({ pattern, includes, excludes, exactly, unknown }) => {
      const r = catalog.expand(pattern);
      expect(r.unknown).toBe(unknown);
      if (exactly) expect(r.actions).toEqual(exactly);
      for (const a of includes ?? []) expect(r.actions).toContain(a);
      for (const a of excludes ?? []) expect(r.actions).not.toContain(a);
    });

    it('`*` and `*:*` are every action; `iam:*` is every IAM action', () => {
      expect(catalog.expand('*').actions).toHaveLength(catalog.size);
      expect(catalog.expand('*:*').actions).toHaveLength(catalog.size);
      const iam = catalog.allActions().filter((a) => a.startsWith('iam:'));
      expect(catalog.expand('iam:*').actions).toEqual(iam);
      expect(iam.length).toBeGreaterThan(100);
    });

    it('caches per pattern: the same result object comes back', () => {
      expect(catalog.expand('ec2:Describe*')).toBe(catalog.expand('ec2:Describe*'));
    });
  });

  it('lists every action once, canonical and sorted', () => {
    const all = catalog.allActions();
    expect(all.length).toBeGreaterThan(15_000);
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual(all);
    for (const a of all.slice(0, 500)) expect(a).toMatch(/^[a-z0-9-]+:[A-Za-z0-9-]+$/);
  });

  it.each([
    { action: 'iam:PutRolePolicy', level: 'Permissions management' },
    { action: 's3:GetObject', level: 'Read' },
    { action: 's3:ListBucket', level: 'List' },
  ])('accessLevel($action) includes $level', ({ action, level }) => {
    expect(catalog.accessLevel(action)).toContain(level);
  });

  it.each([
    { action: 'sts:GetSessionToken', wildcardOnly: true },
    { action: 'ec2:DescribeInstances', wildcardOnly: true },
    { action: 's3:GetObject', wildcardOnly: false },
    { action: 'lamda:Invoke', wildcardOnly: false },
  ])('isWildcardOnly($action) is $wildcardOnly', ({ action, wildcardOnly }) => {
    expect(catalog.isWildcardOnly(action)).toBe(wildcardOnly);
  });

  it('knows service prefixes case-insensitively', () => {
    expect(catalog.isKnownService('IAM')).toBe(true);
    expect(catalog.isKnownService('lamda')).toBe(false);
    expect(catalog.accessLevel('lamda:Invoke')).toBeUndefined();
  });

  it('finds the package data although package.json is not exported', () => {
    expect(iamDataDir()).toMatch(/@cloud-copilot[/\\]iam-data[/\\]data$/);
  });

  it('reads nothing until first use', () => {
    let c: ActionCatalog | undefined;
    expect(() => {
      c = new ActionCatalog('/nonexistent');
    }).not.toThrow();
    expect(() => c!.size).toThrow(/ENOENT/);
  });
});

describe('escalation data', () => {
  it('names every method once', () => {
    const names = ESCALATION_METHODS.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(ESCALATION_METHODS.map((m) => ({ name: m.name, actions: m.actions })))(
    '$name: every action is a catalog action, written canonically',
    ({ actions }) => {
      for (const a of actions) expect(catalog.expand(a).actions).toEqual([a]);
    },
  );

  it('credential-returning actions are catalog actions, gamelift spelled right', () => {
    for (const a of ACTIONS_THAT_RETURN_CREDENTIALS) expect(catalog.expand(a).actions, a).toEqual([a]);
    expect(ACTIONS_THAT_RETURN_CREDENTIALS.some((a) => a.startsWith('gamelist:'))).toBe(false);
    expect(ACTIONS_THAT_RETURN_CREDENTIALS).toContain('gamelift:GetComputeAccess');
  });
});
