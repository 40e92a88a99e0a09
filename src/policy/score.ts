/**
 * The risk score: 0–100 per credential and per agent, explained. Pure.
 *
 * Adapted from iam-privilege.md §7, in plain words:
 *  - Each open finding contributes the weight of its severity (critical 90, high 70, medium 45,
 *    low 20, info 5). The credential starts from its heaviest contribution.
 *  - Admin-equivalent power (confirmed) is 100 outright.
 *  - Each further distinct privilege-escalation method adds 5 (at most 15).
 *  - Stale and powerful: a staleness finding together with a privilege finding adds 10.
 *  - Long-lived secrets (IAM access keys, root keys, Vault tokens or secret IDs that never expire)
 *    weigh 1.2×; when every privilege hit is only conditional, privilege weighs 0.6×.
 * The detector vector (points per detector) and the top contributions, each with the statements
 * and fields behind it, travel with the number: remediation acts on detectors, not on scores.
 */
import type { Credential } from '../model/credential.js';
import { PRIVILEGE_DETECTORS, STALENESS_DETECTORS } from './detectors.js';
import type { Finding } from './model.js';
import type { Evidence, Severity } from './types.js';

export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 90, high: 70, medium: 45, low: 20, info: 5 };

export interface Contribution {
  fingerprint: string;
  policy: string;
  detector: string;
  severity: Severity;
  points: number;
  message: string;
  evidence: Evidence[];
}

export interface CredentialScore {
  credentialId: string;
  agentId: string | null;
  score: number;
  vector: Record<string, number>;
  factors: string[];
  top: Contribution[];
}

export interface AgentScore {
  agentId: string;
  score: number;
  vector: Record<string, number>;
  credentials: { credentialId: string; score: number }[];
  top: Contribution[];
}

function longLived(c: Credential | undefined): boolean {
  if (!c) return false;
  if (c.kind === 'aws-access-key' || c.kind === 'aws-root-access-key') return true;
  if (c.kind === 'vault-token')
    return c.expiresAt === null || (Number(c.attributes.periodSeconds ?? 0) > 0 && !c.attributes.explicitMaxTtlSeconds);
  if (c.kind === 'vault-approle-secret-id') return c.expiresAt === null;
  return false;
}

export function scoreCredential(
  credentialId: string,
  findings: readonly Finding[],
  cred?: Credential,
): CredentialScore {
  const open = findings.filter((f) => f.state === 'open');
  const contributions: Contribution[] = [];
  const vector: Record<string, number> = {};
  for (const f of open) {
    for (const h of f.hits) {
      const sev = h.severity ?? f.severity;
      const conditional = h.confidence === 'conditional';
      const points = SEVERITY_WEIGHT[sev] * (conditional && PRIVILEGE_DETECTORS.has(h.detector) ? 0.6 : 1);
      vector[h.detector] = Math.max(vector[h.detector] ?? 0, points);
      contributions.push({
        fingerprint: f.fingerprint,
        policy: f.policy,
        detector: h.detector,
        severity: sev,
        points,
        message: h.message,
        evidence: h.evidence,
      });
    }
  }
  contributions.sort((a, b) => b.points - a.points || a.fingerprint.localeCompare(b.fingerprint));
  const factors: string[] = [];
  let score = contributions[0]?.points ?? 0;
  const admin = contributions.find(
    (c) => c.detector === 'admin' && c.severity === 'critical' && c.points === SEVERITY_WEIGHT.critical,
  );
  if (admin) {
    score = 100;
    factors.push('admin-equivalent');
  } else {
    const methods = new Set(
      open.flatMap((f) => f.hits.filter((h) => h.detector === 'privesc').map((h) => h.key ?? h.message)),
    );
    if (methods.size > 1) {
      const extra = Math.min(15, 5 * (methods.size - 1));
      score += extra;
      factors.push(`+${extra} for ${methods.size} escalation methods`);
    }
    const detectors = Object.keys(vector);
    if (detectors.some((d) => STALENESS_DETECTORS.has(d)) && detectors.some((d) => PRIVILEGE_DETECTORS.has(d))) {
      score += 10;
      factors.push('+10 stale and powerful');
    }
    if (score > 0 && longLived(cred)) {
      score *= 1.2;
      factors.push('×1.2 long-lived secret');
    }
  }
  return {
    credentialId,
    agentId: cred?.agentId ?? open[0]?.agentId ?? null,
    score: Math.round(Math.min(100, Math.max(0, score))),
    vector,
    factors,
    top: contributions.slice(0, 5),
  };
}

/** An agent is as risky as its riskiest credential; the explanation keeps every credential's score. */
export function scoreAgent(agentId: string, scores: readonly CredentialScore[]): AgentScore {
  const mine = scores.filter((s) => s.agentId === agentId).sort((a, b) => b.score - a.score);
  const vector: Record<string, number> = {};
  for (const s of mine) for (const [d, p] of Object.entries(s.vector)) vector[d] = Math.max(vector[d] ?? 0, p);
  return {
    agentId,
    score: mine[0]?.score ?? 0,
    vector,
    credentials: mine.map((s) => ({ credentialId: s.credentialId, score: s.score })),
    top: mine
      .flatMap((s) => s.top)
      .sort((a, b) => b.points - a.points)
      .slice(0, 5),
  };
}
