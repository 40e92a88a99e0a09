/**
 * Meta-test over the action-type registry (the rule registry's twin): every action type describes
 * itself completely (schema, kinds, reversibility with the parts rollback needs, the exact
 * permissions, docs), its YAML example loads through the policy loader and uses it, and every
 * `*.action.ts` file is registered exactly once.
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { actionNames, actionTypes, getActionType } from '../../src/actions/index.js';
import { loadPolicies } from '../../src/policy/load.js';
import { rotatorFor } from '../../src/remediation/rotation-runner.js';

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const ACTIONS_DIR = fileURLToPath(new URL('../../src/actions/', import.meta.url));
const IAM_ACTION = /^iam:[A-Z][A-Za-z]+$/;
/** `<path>: <capability>[, <capability>…]`, optionally with a note in parentheses. */
const VAULT_PERMISSION =
  /^[a-z<][a-z0-9+/<> _*-]*: (create|read|update|delete|list|sudo)(, (create|read|update|delete|list|sudo))*( \(.+\))?$/;

describe('action type registry', () => {
  const types = actionTypes();

  it('registers every *.action.ts file exactly once, under its file name', () => {
    const files = readdirSync(ACTIONS_DIR)
      .filter((f) => f.endsWith('.action.ts'))
      .map((f) => f.replace(/\.action\.ts$/, ''))
      .sort();
    expect(types.map((t) => t.name).sort()).toEqual(files);
    expect(new Set(actionNames()).size).toBe(actionNames().length);
  });

  describe.each(types.map((t) => [t.name, t] as const))('%s', (name, t) => {
    it('has a kebab-case name the registry returns it under', () => {
      expect(name).toMatch(KEBAB);
      expect(getActionType(name)).toBe(t);
    });

    it('describes itself', () => {
      expect(t.description.trim().length).toBeGreaterThan(10);
      expect(t.docs.trim().split(/\.\s/).length).toBeGreaterThan(1);
      for (const f of [t.plan, t.inspect, t.isDone, t.refuse, t.execute, t.verify]) expect(typeof f).toBe('function');
    });

    it('has the parts rollback needs exactly when it is reversible (a rotation rolls back through its rotator)', () => {
      const parts = [t.rollback, t.changedSince, t.isRolledBack].map((f) => typeof f === 'function');
      const own = t.reversible && !t.rotation;
      expect(parts).toEqual([own, own, own]);
      if (t.rotation) expect(rotatorFor(t.rotation)?.kind).toBe(t.rotation);
    });

    it('lists exact permissions for the backend of its kinds', () => {
      const aws = t.kinds.some((k) => k.startsWith('aws-'));
      const vault = t.kinds.some((k) => k.startsWith('vault-'));
      if (name === 'notify-owner') {
        expect(t.kinds).toEqual([]);
        expect(t.permissions).toEqual({ aws: [], vault: [] });
        return;
      }
      expect(t.kinds.length).toBeGreaterThan(0);
      if (aws) expect(t.permissions.aws.length).toBeGreaterThan(0);
      if (vault) expect(t.permissions.vault.length).toBeGreaterThan(0);
      for (const p of t.permissions.aws) expect(p).toMatch(IAM_ACTION);
      for (const p of t.permissions.vault) expect(p).toMatch(VAULT_PERMISSION);
      expect(new Set(t.permissions.aws).size).toBe(t.permissions.aws.length);
    });

    it('has a YAML example that loads through the policy loader and asks for this action', async () => {
      const doc = parse(t.example) as { policies?: { remediation?: unknown[]; mode?: string }[] };
      const uses = (doc.policies ?? []).filter((p) =>
        (p.remediation ?? []).some(
          (r) => r === name || (typeof r === 'object' && r !== null && (r as { action?: string }).action === name),
        ),
      );
      expect(uses.length).toBeGreaterThan(0);
      const dir = mkdtempSync(join(tmpdir(), 'cw-action-example-'));
      writeFileSync(join(dir, 'example.yaml'), t.example);
      const set = await loadPolicies([dir]);
      const loaded = set.policies.flatMap((p) => p.remediation).filter((r) => r.action === name);
      expect(loaded.length).toBeGreaterThan(0);
    });

    it('rejects unknown parameters (strict schema)', () => {
      expect(t.schema.safeParse({ surelyNotAParameter: 1 }).success).toBe(false);
    });
  });
});
