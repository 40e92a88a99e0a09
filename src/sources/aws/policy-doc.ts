/**
 * IAM policy documents as IAM returns them: URL-encoded (GetAccountAuthorizationDetails, Get*Policy,
 * trust documents) or not (moto's GetPolicyVersion), Statement as an object or an array, Action and
 * Resource as a string or a list. Decoding is tolerant; a document that is not JSON after decoding
 * is reported, never guessed at. So is one over INPUT_LIMITS.awsPolicyDocumentChars (AWS's own
 * maximum is 10,240): the caller records it as a grant error of that principal.
 */
import { INPUT_LIMITS } from '../../limits.js';
import type { AwsStatementGrant, Provenance } from '../../model/credential.js';

export interface PolicyDocument {
  Version?: string;
  Statement: RawStatement[];
}

interface RawStatement {
  Sid?: string;
  Effect?: string;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, unknown>;
  Principal?: unknown;
}

export class PolicyDecodeError extends Error {}

export function decodePolicyDocument(doc: string | undefined | null): PolicyDocument {
  if (doc === undefined || doc === null || doc === '') throw new PolicyDecodeError('empty policy document');
  const max = INPUT_LIMITS.awsPolicyDocumentChars;
  const tooLong = (n: number) =>
    new PolicyDecodeError(`policy document is ${n} characters, over the limit of ${max}; not analysed`);
  // Refuse before decoding: even URL-encoded, a real document (at most 10,240 characters) is far below this.
  if (doc.length > 3 * max) throw tooLong(doc.length);
  let text = doc.trim();
  if (!text.startsWith('{')) {
    try {
      text = decodeURIComponent(text.replace(/\+/g, '%20'));
    } catch {
      throw new PolicyDecodeError('policy document is neither JSON nor URL-encoded JSON');
    }
  }
  if (text.length > max) throw tooLong(text.length);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new PolicyDecodeError(`policy document is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object') throw new PolicyDecodeError('policy document is not an object');
  const p = parsed as { Version?: string; Statement?: unknown };
  const st = p.Statement === undefined ? [] : Array.isArray(p.Statement) ? p.Statement : [p.Statement];
  return { Version: p.Version, Statement: st as RawStatement[] };
}

const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v.map(String) : [String(v)];

export function statementsToGrants(doc: PolicyDocument, provenance: Provenance): AwsStatementGrant[] {
  return doc.Statement.map((s) => {
    const g: AwsStatementGrant = {
      type: 'aws-statement',
      effect: s.Effect === 'Deny' ? 'Deny' : 'Allow',
      provenance,
    };
    if (s.Sid) g.sid = s.Sid;
    const a = list(s.Action);
    const na = list(s.NotAction);
    const r = list(s.Resource);
    const nr = list(s.NotResource);
    if (a) g.actions = a;
    if (na) g.notActions = na;
    if (r) g.resources = r;
    if (nr) g.notResources = nr;
    if (s.Condition) g.condition = s.Condition;
    return g;
  });
}
