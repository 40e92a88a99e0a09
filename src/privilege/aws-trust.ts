/**
 * Role trust policies (detector "trust"), from `attributes.trustPolicy` of `aws-role` records,
 * in Cloudsplaining's categories plus the OIDC check of the reference's D7:
 *  - Principal `*` / {"AWS": "*"} (or an account wildcard): critical without conditions, medium with;
 *  - NotPrincipal with Allow (everyone but the list): the same;
 *  - an AWS principal in another account: high without conditions, low with (ExternalId and the like);
 *  - an OIDC provider without a `:sub` condition (`:aud` for Cognito): high — any workload the
 *    provider vouches for can assume the role;
 *  - compute services (ec2, eks, ecs-tasks, lambda): low, only when asked for (every such role has one).
 * Only statements that allow an sts:AssumeRole* action count.
 *
 * Also the confused deputy (detector "confused-deputy", Prowler
 * iam_role_cross_service_confused_deputy_prevention): a statement that lets an AWS service
 * (`*.amazonaws.com`) assume the role without an `aws:SourceAccount` / `aws:SourceArn` (or
 * `aws:SourceOrgID` / `aws:SourceOrgPaths`) condition, so the service can be made to assume it on
 * behalf of someone else's resource. Service-linked roles (path /aws-service-role/) are skipped:
 * their trust policy cannot be changed.
 */
import type { Credential } from '../model/credential.js';
import type { Severity } from '../model/finding.js';
import { parsePrincipal } from './aws-principal.js';
import { actionPatternRegExp } from './iam-glob.js';
import type { Confidence, DetectorResult } from './types.js';

export interface TrustOptions {
  /** Also report compute-service principals (Cloudsplaining's …ComputeService, low). */
  includeComputeServices?: boolean;
}

interface RawTrustStatement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

const ASSUME_ACTIONS = ['sts:AssumeRole', 'sts:AssumeRoleWithWebIdentity', 'sts:AssumeRoleWithSAML'];
const COMPUTE = /^(ec2|eks|ecs-tasks|lambda)\.amazonaws\.com$/;
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function allowsAssume(s: RawTrustStatement): boolean {
  if (s.Action === undefined) return s.NotAction !== undefined;
  return list(s.Action).some((p) => ASSUME_ACTIONS.some((a) => actionPatternRegExp(p).test(a)));
}

/** The account an AWS principal names, `*` for any, or null when it cannot be told (a unique id). */
function awsAccount(v: string): string | null {
  if (v.includes('*')) return /^arn:[^:]+:(iam|sts)::\d{12}:/.test(v) ? v.split(':')[4]! : '*';
  if (/^\d{12}$/.test(v)) return v;
  const m = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(v);
  return m ? m[1]! : null;
}

function conditionKeys(s: RawTrustStatement): string[] {
  return Object.values(s.Condition ?? {}).flatMap((body) => Object.keys(body ?? {}).map((k) => k.toLowerCase()));
}

export function trustStatements(cred: Credential): RawTrustStatement[] {
  const doc = cred.attributes.trustPolicy as { Statement?: unknown } | null | undefined;
  if (!doc || typeof doc !== 'object') return [];
  const st = doc.Statement;
  return (Array.isArray(st) ? st : st ? [st] : []).filter((s): s is RawTrustStatement => !!s && typeof s === 'object');
}

export function detectRoleTrust(cred: Credential, opts: TrustOptions = {}): DetectorResult[] {
  const own = parsePrincipal(cred.principal)?.account ?? cred.source;
  const out: DetectorResult[] = [];
  trustStatements(cred).forEach((s, i) => {
    if (s.Effect !== 'Allow' || !allowsAssume(s)) return;
    const conditional = conditionKeys(s).length > 0;
    const c: Confidence = conditional ? 'conditional' : 'confirmed';
    const ref = s.Sid ? `${s.Sid}` : `#${i + 1}`;
    const add = (key: string, severity: Severity, confidence: Confidence, message: string, value: unknown) =>
      out.push({
        detector: 'trust',
        severity,
        confidence,
        key: `${ref}:${key}`,
        message,
        actions: list(s.Action),
        evidence: [
          {
            field: `attributes.trustPolicy.Statement[${i}]`,
            value,
            ...(conditional ? { note: `conditions on: ${conditionKeys(s).join(', ')}` } : {}),
          },
        ],
      });
    const when = conditional ? ' (with conditions)' : ' without conditions';
    if (s.NotPrincipal !== undefined) {
      add(
        'not-principal',
        conditional ? 'medium' : 'critical',
        c,
        `trust policy allows every principal except those in NotPrincipal${when}`,
        s.NotPrincipal,
      );
      return;
    }
    const p = s.Principal;
    const byType: Record<string, string[]> =
      p === '*'
        ? { AWS: ['*'] }
        : p && typeof p === 'object'
          ? Object.fromEntries(Object.entries(p).map(([k, v]) => [k, list(v)]))
          : {};
    for (const v of byType.AWS ?? []) {
      const acct = awsAccount(v);
      if (acct === '*')
        add(
          'any-principal',
          conditional ? 'medium' : 'critical',
          c,
          `role is assumable by any principal (${v})${when}`,
          p,
        );
      else if (acct && acct !== own)
        add(
          `cross-account:${acct}`,
          conditional ? 'low' : 'high',
          c,
          `role is assumable from another account ${acct} (${v})${when}`,
          p,
        );
    }
    for (const v of byType.Federated ?? []) {
      const keys = conditionKeys(s);
      const cognito = v === 'cognito-identity.amazonaws.com';
      const web = cognito || v.includes(':oidc-provider/') || !v.includes(':saml-provider/');
      if (!web) continue;
      const needed = cognito ? ':aud' : ':sub';
      if (keys.some((k) => k.endsWith(needed))) continue;
      add(
        `federated:${v}`,
        'high',
        keys.length ? 'potential' : 'confirmed',
        `role is assumable by any identity of ${v}: no ${needed.slice(1)} condition pins which one`,
        p,
      );
    }
    if (opts.includeComputeServices)
      for (const v of byType.Service ?? [])
        if (COMPUTE.test(v)) add(`service:${v}`, 'low', c, `role is assumable by the compute service ${v}`, p);
  });
  return out;
}

/** Condition keys that tie a service principal to the account or resource acting through it. */
const SOURCE_KEYS = ['aws:sourceaccount', 'aws:sourcearn', 'aws:sourceorgid', 'aws:sourceorgpaths'];

/** A condition value that pins nothing: absent, empty, or only wildcards. */
const pinsNothing = (v: unknown): boolean => list(v).every((x) => /^[*?]*$/.test(x));

/** The source-pinning condition keys of the statement whose value restricts something. */
function sourceConditions(s: RawTrustStatement): string[] {
  const out: string[] = [];
  for (const [op, body] of Object.entries(s.Condition ?? {})) {
    if (/^(ForAnyValue:)?(StringNotEquals|StringNotLike|ArnNotEquals|ArnNotLike)/i.test(op)) continue;
    if (/IfExists$/i.test(op)) continue;
    for (const [k, v] of Object.entries(body ?? {}))
      if (SOURCE_KEYS.includes(k.toLowerCase()) && !pinsNothing(v)) out.push(k);
  }
  return out;
}

export interface ConfusedDeputyOptions {
  /** Service principals (globs, e.g. `ec2.amazonaws.com`) not to report. */
  ignoreServices?: readonly string[];
}

export function detectConfusedDeputy(cred: Credential, opts: ConfusedDeputyOptions = {}): DetectorResult[] {
  if (cred.kind !== 'aws-role') return [];
  const path = String(cred.attributes.path ?? '');
  if (path.startsWith('/aws-service-role/') || cred.principal.includes(':role/aws-service-role/')) return [];
  const ignore = (opts.ignoreServices ?? []).map((g) => actionPatternRegExp(g));
  const out: DetectorResult[] = [];
  trustStatements(cred).forEach((s, i) => {
    if (s.Effect !== 'Allow' || !allowsAssume(s) || s.Principal === undefined || s.Principal === '*') return;
    const p = s.Principal as Record<string, unknown>;
    if (typeof p !== 'object' || p === null) return;
    const services = list(p.Service).filter(
      (v) => /\.amazonaws\.com(\.cn)?$/i.test(v) && !ignore.some((re) => re.test(v)),
    );
    if (services.length === 0 || sourceConditions(s).length > 0) return;
    const ref = s.Sid ? `${s.Sid}` : `#${i + 1}`;
    const keys = conditionKeys(s);
    out.push({
      detector: 'confused-deputy',
      severity: 'medium',
      confidence: 'confirmed',
      key: `${ref}:${services.join(',')}`,
      message:
        `role is assumable by the service ${services.join(', ')} with no aws:SourceAccount or aws:SourceArn condition: ` +
        'the service can be made to assume it for a resource in another account (confused deputy)',
      actions: list(s.Action),
      evidence: [
        {
          field: `attributes.trustPolicy.Statement[${i}]`,
          value: s,
          note: keys.length ? `conditions on: ${keys.join(', ')} (none pins the source)` : 'no Condition',
        },
      ],
    });
  });
  return out;
}
