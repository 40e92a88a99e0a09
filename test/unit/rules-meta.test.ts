/**
 * Meta-test over the rule-type registry (cloud-custodian's PolicyMetaLint): every registered rule
 * type describes itself completely, and its own YAML example is a valid use of it.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { getRuleType, ruleTypes } from '../../src/policy/rules/index.js';

interface ExamplePolicy {
  name?: unknown;
  resource?: { kinds?: unknown };
  rules?: unknown;
}

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The example's policies and the rule entries of type `name` in them. */
function exampleUses(example: string, name: string): { policies: ExamplePolicy[]; entries: Record<string, unknown>[] } {
  const doc = parse(example) as { policies?: ExamplePolicy[] } | null;
  const policies = Array.isArray(doc?.policies) ? doc.policies : [];
  const entries = policies
    .flatMap((p) => (Array.isArray(p.rules) ? (p.rules as Record<string, unknown>[]) : []))
    .filter((r) => r && typeof r === 'object' && r.type === name);
  return { policies, entries };
}

describe('rule type registry', () => {
  const rules = ruleTypes();

  it('should register rule types', () => {
    expect(rules.length).toBeGreaterThan(0);
  });

  describe.each(rules.map((r) => [r.name, r] as const))('%s', (name, rule) => {
    it('should have a kebab-case name under which the registry returns it', () => {
      expect(name).toMatch(KEBAB);
      expect(getRuleType(name)).toBe(rule);
    });

    it('should describe itself', () => {
      expect(rule.description.trim()).not.toBe('');
      expect(['staleness', 'privilege', 'scope', 'hygiene', 'runaway']).toContain(rule.category);
      expect(rule.needs.length).toBeGreaterThan(0);
      expect(typeof rule.evaluate).toBe('function');
      if (rule.kinds) expect(rule.kinds.length).toBeGreaterThan(0);
    });

    it('should have a YAML example with a policy using it, whose params pass its schema', () => {
      const { policies, entries } = exampleUses(rule.example, name);
      expect(policies.length).toBeGreaterThan(0);
      expect(entries.length).toBeGreaterThan(0);
      for (const { type: _type, ...params } of entries) {
        const parsed = rule.schema.safeParse(params);
        expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
      }
    });

    it('should select only kinds it applies to in its example', () => {
      if (!rule.kinds) return;
      for (const p of exampleUses(rule.example, name).policies) {
        const kinds = p.resource?.kinds;
        if (Array.isArray(kinds)) for (const k of kinds) expect(rule.kinds).toContain(k);
      }
    });

    it('should reject an unknown parameter', () => {
      const [entry] = exampleUses(rule.example, name).entries;
      const { type: _type, ...params } = entry ?? {};
      expect(rule.schema.safeParse({ ...params, notAParameter: true }).success).toBe(false);
    });
  });
});
