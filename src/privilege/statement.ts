/**
 * AWS statements as the analysers refer to them: a StatementRef names one statement (provenance,
 * Sid, a stable key, a one-line summary) so that every finding can point at the exact policy to
 * fix. Also the canonical key of a grant list, which is what analysis caches are keyed on.
 */
import * as crypto from 'node:crypto';
import type { AwsStatementGrant, Grant, Provenance } from '../model/credential.js';
import type { Evidence } from '../model/finding.js';

export interface StatementRef {
  provenance: Provenance;
  sid?: string;
  /** `<policy>#<sid>` or `<policy>#<n>` (n-th statement of that policy): stable across scans. */
  key: string;
  summary: string;
  /** Position in the analysed (AWS-only) statement list. */
  index: number;
}

const MAX_LISTED = 6;

function listed(items: readonly string[] | undefined): string {
  if (!items || items.length === 0) return '[]';
  const head = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `[${head}, … +${items.length - MAX_LISTED}]` : `[${head}]`;
}

export function provenanceLabel(p: Provenance): string {
  return `${p.attachment} ${p.policyArn ?? p.policy}${p.via ? ` via ${p.via}` : ''}`;
}

/** e.g. `Allow [s3:Get*] on [arn:aws:s3:::b/*] when StringEquals(aws:SourceVpc) (inline agent)`. */
export function summarizeStatement(g: AwsStatementGrant): string {
  const act = g.actions ? listed(g.actions) : `NOT ${listed(g.notActions)}`;
  const res = g.resources ? listed(g.resources) : g.notResources ? `NOT ${listed(g.notResources)}` : '[*]';
  const cond = g.condition
    ? ` when ${Object.entries(g.condition)
        .map(([op, body]) => `${op}(${Object.keys((body as object) ?? {}).join(', ')})`)
        .join(' & ')}`
    : '';
  const sid = g.sid ? ` sid=${g.sid}` : '';
  return `${g.effect} ${act} on ${res}${cond}${sid} (${provenanceLabel(g.provenance)})`;
}

export function statementRefs(statements: readonly AwsStatementGrant[]): StatementRef[] {
  const perPolicy = new Map<string, number>();
  return statements.map((g, index) => {
    const policy = `${g.provenance.attachment}:${g.provenance.policyArn ?? g.provenance.policy}${g.provenance.via ? `@${g.provenance.via}` : ''}`;
    const n = (perPolicy.get(policy) ?? 0) + 1;
    perPolicy.set(policy, n);
    return {
      provenance: g.provenance,
      ...(g.sid ? { sid: g.sid } : {}),
      key: `${policy}#${g.sid ?? n}`,
      summary: summarizeStatement(g),
      index,
    };
  });
}

export const statementEvidence = (ref: StatementRef, note?: string): Evidence => ({
  field: `grants[${ref.key}]`,
  statement: { summary: ref.summary, provenance: ref.provenance },
  ...(note ? { note } : {}),
});

export const awsStatements = (grants: readonly Grant[]): AwsStatementGrant[] =>
  grants.filter((g): g is AwsStatementGrant => g.type === 'aws-statement');

/** JSON with sorted object keys: two conditions written in a different key order are one condition. */
function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

const SEP = '\u0001';
const arr = (a: readonly string[] | undefined): string => (a === undefined ? '-' : a.join(SEP));

function statementKey(g: AwsStatementGrant): string {
  const p = g.provenance;
  return [
    g.effect,
    arr(g.actions),
    arr(g.notActions),
    arr(g.resources),
    arr(g.notResources),
    g.condition ? canonicalJson(g.condition) : '-',
    g.sid ?? '-',
    p.attachment,
    p.policy,
    p.policyArn ?? '-',
    p.via ?? '-',
  ].join('\u0002');
}

/**
 * sha1 of the canonical AWS statement list. Provenance is part of it (findings name the policy), the
 * order is not (a principal's policies may be listed in any order), so equal grants share a key.
 */
export function awsGrantsKey(statements: readonly AwsStatementGrant[]): string {
  const parts = statements.map(statementKey).sort();
  return sha1(parts.join('\u0003'));
}

/** One-shot `crypto.hash` (Node ≥ 20.12) is markedly cheaper per call than a Hash object. */
const oneShot = (crypto as { hash?: (alg: string, data: string) => string }).hash;
export const sha1 = (s: string): string =>
  oneShot ? oneShot('sha1', s) : crypto.createHash('sha1').update(s).digest('hex');
