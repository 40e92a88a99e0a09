/**
 * How rule types reach the privilege analysers, and the shell of a rule type that is one detector
 * and nothing else (no parameters, every result a hit; each such rule keeps its own file with its
 * name, docs, example and kinds). The policy layer depends on privilege, never the reverse.
 *
 * `privilege(ctx)` returns the bundle the evaluator put in `RuleContext.services.privilege`,
 * creating (and remembering) one if the evaluator did not: a rule tested on its own still works,
 * just without a bundle shared by others.
 */
import { z } from 'zod';
import type { Credential, CredentialKind } from '../model/credential.js';
import { AwsPrivilegeAnalyzer, createPrivilegeServices, type PrivilegeServices } from '../privilege/index.js';
import { toHits } from '../privilege/rule-support.js';
import type { DetectorResult } from '../privilege/types.js';
import { VaultPrivilegeAnalyzer } from '../privilege/vault-detectors.js';
import type { RuleCategory, RuleContext, RuleType } from './types.js';

const isServices = (v: unknown): v is PrivilegeServices =>
  !!v &&
  typeof v === 'object' &&
  (v as PrivilegeServices).aws instanceof AwsPrivilegeAnalyzer &&
  (v as PrivilegeServices).vault instanceof VaultPrivilegeAnalyzer;

let fallback: PrivilegeServices | undefined;

export function privilege(ctx: RuleContext): PrivilegeServices {
  const existing = ctx.services.privilege;
  if (isServices(existing)) return existing;
  if (existing !== undefined)
    throw new TypeError('ctx.services.privilege is set but is not a PrivilegeServices bundle');
  fallback ??= createPrivilegeServices();
  ctx.services.privilege = fallback;
  return fallback;
}

export interface DetectorRuleSpec {
  name: string;
  description: string;
  example: string;
  kinds: readonly CredentialKind[];
  /** 'privilege' by default. */
  category?: RuleCategory;
  /** What it reads; ['grants'] by default. Add 'principal' when the result depends on who it is. */
  needs?: readonly string[];
  detect(p: PrivilegeServices, cred: Credential): DetectorResult[];
}

const schema = z.strictObject({});

export function detectorRule(spec: DetectorRuleSpec): RuleType<z.infer<typeof schema>> {
  return {
    name: spec.name,
    category: spec.category ?? 'privilege',
    description: spec.description,
    example: spec.example,
    schema,
    needs: spec.needs ?? ['grants'],
    kinds: spec.kinds,
    evaluate: (cred, _params, ctx) => toHits(spec.detect(privilege(ctx), cred)),
  };
}
