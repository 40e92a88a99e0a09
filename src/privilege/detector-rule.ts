/**
 * A rule type that is one detector and nothing else: no parameters, every result a hit.
 * Each such rule keeps its own file (its name, docs, example and kinds); this is the shared shell.
 */
import { z } from 'zod';
import type { Credential, CredentialKind } from '../model/credential.js';
import type { RuleCategory, RuleType } from '../policy/types.js';
import { type PrivilegeServices, privilege } from './index.js';
import { toHits } from './rule-support.js';
import type { DetectorResult } from './types.js';

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
