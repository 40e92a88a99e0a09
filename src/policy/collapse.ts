/**
 * One risk, one finding. Pure.
 *
 * Several policies often check the same thing: `agent-admin-equivalent` and `cis-aws-no-full-admin`
 * both run `aws-admin` on an agent key; `agent-key-never-used` and `cis-aws-no-keys-at-initial-setup`
 * both run `never-used`, with different grace periods. On one credential they are one risk, so they
 * are one finding that carries every policy's controls (README "Findings").
 *
 * The collapse key ("risk key") of a policy is its rule types, each with the parameters that say
 * WHAT the rule checks, sorted and joined with `+`: `aws-admin`, `never-used`,
 * `scope-excess#1f0c9a2b7e` (a hash of the canonical JSON of the defining parameters, when there
 * are any). Parameters that only say WHEN or HOW SURELY the same check reports are left out
 * (SAME_RISK_PARAMS): thresholds (`days`, `graceDays`), confidence floors (`minConfidence`), and
 * aws-admin's `checks`, which narrows which ways into admin a policy reports while admin-equivalence
 * stays one fact about a credential. Every other parameter is part of the key, so two genuinely
 * different checks never merge: a rule type not listed here (a new one included) merges only with
 * policies whose parameters are identical. Two policies whose rules differ in type or number (a
 * one-rule policy and an AND of that rule with another) are different risks.
 *
 * The fingerprint of a risk on a credential is the legacy fingerprint (policy + credential) of the
 * first policy, by name, among the loaded policies with that risk key that select the credential,
 * whether or not they hit this time. So it is deterministic, does not move when a threshold is
 * crossed, and for the common case of a risk checked by one policy it is exactly the fingerprint
 * that finding had before collapsing existed. Stored findings are matched to risks by that
 * fingerprint, by the fingerprints of the policies that hit, and by their stored risk key (see
 * findings/transitions.ts): a finding keeps the fingerprint it was first stored under.
 */
import { createHash } from 'node:crypto';
import type { Policy, PolicyRule } from './model.js';
import { type Severity, severityRank } from './types.js';

/** Per rule type: parameters that narrow when or how surely one check reports, not what it checks. */
export const SAME_RISK_PARAMS: Readonly<Record<string, readonly string[]>> = {
  'age-since-created': ['days'],
  'aws-admin': ['checks'],
  'expires-within': ['days', 'skipRenewable'],
  'inactive-present': ['days'],
  'never-used': ['graceDays', 'activeOnly'],
  'rotation-overdue': ['days'],
  'unused-for': ['days'],
};

/** Left out for every rule type: the shared confidence floor (privilege/rule-support.ts). */
const ALWAYS_IGNORED = ['minConfidence'];

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** One rule's part of a risk key: its type, plus a hash of the parameters that define the check. */
export function ruleRiskKey(rule: PolicyRule): string {
  const ignored = new Set([...ALWAYS_IGNORED, ...(SAME_RISK_PARAMS[rule.type] ?? [])]);
  const params =
    rule.params !== null && typeof rule.params === 'object' ? (rule.params as Record<string, unknown>) : {};
  const defining: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (!ignored.has(k) && v !== undefined) defining[k] = v;
  if (Object.keys(defining).length === 0) return rule.type;
  return `${rule.type}#${createHash('sha256').update(canonical(defining)).digest('hex').slice(0, 10)}`;
}

/** A policy's risk key: its rules' keys, sorted, joined with `+`. */
export function riskKeyOf(policy: Pick<Policy, 'rules'>): string {
  return [...new Set(policy.rules.map(ruleRiskKey))].sort().join('+');
}

/** The order of the policies within one finding: highest severity first, then by name. */
export function byPrimary<T extends { severity: Severity; policy: { name: string } }>(a: T, b: T): number {
  return severityRank(b.severity) - severityRank(a.severity) || a.policy.name.localeCompare(b.policy.name);
}

/** Union of controls, per framework, each list sorted and without repeats. */
export function unionControls(all: readonly Record<string, string[]>[]): Record<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const controls of all)
    for (const [framework, ids] of Object.entries(controls)) {
      const set = out.get(framework) ?? new Set<string>();
      for (const id of ids) set.add(id);
      out.set(framework, set);
    }
  return Object.fromEntries(
    [...out.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([framework, ids]) => [framework, [...ids].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }))]),
  );
}
