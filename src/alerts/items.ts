/**
 * Transitions → alert items, and which of them page. Pure.
 *
 * Only transitions alert: a finding that opens, re-opens, escalates or resolves (a finding still
 * open on a re-scan produces nothing). "Privilege drift" is a grants change on an agent credential
 * that adds an escalation-capable permission: the agent (or someone) widened its own power.
 * "Runaway" is a finding of the runaway detector (credential-burst, agent-grant-surge) on an active
 * credential: an agent minting credentials or gaining grants in bursts.
 */

import type { Transition } from '../findings/transitions.js';
import type { DriftEvent } from '../inventory/drift.js';
import type { Registry } from '../model/agent.js';
import type { Credential } from '../model/credential.js';
import { type AccountNames, principalInfo } from '../model/principal.js';
import { PRIVILEGE_DETECTORS, RUNAWAY_DETECTORS } from '../policy/detectors.js';
import type { Finding } from '../policy/model.js';
import type { InventoryIndex } from '../policy/types.js';
import { globMatch } from '../registry/glob.js';
import type { PagingClass } from './config.js';
import type { AlertItem, AlertTransition } from './types.js';

/** Granted actions (as drift lists them) that let a principal widen its own power. */
const ESCALATION = [
  '*',
  'iam:*',
  'iam:Put*Policy',
  'iam:Attach*Policy',
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:CreateAccessKey',
  'iam:CreateLoginProfile',
  'iam:UpdateLoginProfile',
  'iam:UpdateAssumeRolePolicy',
  'iam:AddUserToGroup',
  'iam:PassRole',
  'sts:AssumeRole',
  '*:sudo',
  '*:root',
  'sys/polic*:create',
  'sys/polic*:update',
  'auth/*/role*:create',
  'auth/*/role*:update',
  'identity/*:update',
  'auth/token/create*:update',
];

export function escalationActions(actions: readonly string[]): string[] {
  // `*` in the list is the literal grant of every action, not a glob over all of them.
  return actions.filter((a) =>
    ESCALATION.some((p) => (p === '*' ? a === '*' : globMatch(p.toLowerCase(), a.toLowerCase()))),
  );
}

export interface ItemContext {
  scanId: string;
  now: Date;
  credentials: InventoryIndex['byId'];
  registry: Registry;
  runbookUrl: string | undefined;
  /** `aws.accounts[].name` by account id. */
  accountNames?: AccountNames;
}

const runbook = (tpl: string | undefined, policy: string, fingerprint: string) =>
  tpl
    ? tpl
        .replaceAll('{policy}', encodeURIComponent(policy))
        .replaceAll('{fingerprint}', encodeURIComponent(fingerprint))
    : null;

/** Who holds it: from the credential as scanned now, else as the finding recorded it (a removed credential). */
function holder(ctx: ItemContext, c: Credential | undefined, f: Finding | undefined) {
  const p = c
    ? principalInfo(c, ctx.accountNames)
    : f?.principal !== undefined
      ? {
          principal: f.principal,
          principalName: f.principalName ?? f.principal,
          principalType: f.principalType ?? 'unknown',
          account: f.account ?? null,
        }
      : null;
  return {
    principal: p?.principal ?? null,
    principalName: p?.principalName ?? null,
    principalType: p?.principalType ?? null,
    account: p?.account ?? null,
  };
}

function base(ctx: ItemContext, c: Credential | undefined, credentialId: string, f?: Finding) {
  const agent = c?.agentId ? ctx.registry.agents.find((a) => a.id === c.agentId) : undefined;
  return {
    credentialId,
    kind: c?.kind ?? f?.kind ?? 'unknown',
    source: c?.source ?? f?.source ?? '',
    ...holder(ctx, c, f),
    agentId: c?.agentId ?? null,
    owner: c?.owner ?? null,
    environment: agent?.environment ?? null,
    tags: c?.tags ?? {},
    scanId: ctx.scanId,
    at: ctx.now.toISOString(),
  };
}

/**
 * The finding's evidence as label/value lines, each line once: the hits of one risk often cite the
 * same statement (the admin grant behind star-on-star, create-role and self-modification alike).
 */
function evidenceLines(f: Finding): { label: string; value: string }[] {
  const out: { label: string; value: string }[] = [];
  const seen = new Set<string>();
  const add = (label: string, value: string) => {
    const k = `${label}\u0000${value}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ label, value });
  };
  for (const h of f.hits) {
    add(h.detector, h.message);
    for (const e of h.evidence.slice(0, 3)) {
      if (e.statement)
        add(
          'statement',
          `${e.statement.summary}${e.statement.provenance ? ` (${e.statement.provenance.attachment} ${e.statement.provenance.policyArn ?? e.statement.provenance.policy})` : ''}`,
        );
      else if (e.field) add(e.field, typeof e.value === 'string' ? e.value : JSON.stringify(e.value ?? null));
    }
  }
  return out.slice(0, 12);
}

const FINDING_TRANSITIONS: Partial<Record<Transition['type'], AlertTransition>> = {
  'finding.opened': 'opened',
  'finding.unsuppressed': 'opened',
  'finding.reopened': 'reopened',
  'finding.escalated': 'escalated',
  'finding.resolved': 'resolved',
  'finding.merged': 'merged',
};

export function findingItems(
  transitions: readonly Transition[],
  findings: ReadonlyMap<string, Finding>,
  ctx: ItemContext,
): AlertItem[] {
  const out: AlertItem[] = [];
  for (const t of transitions) {
    const transition = FINDING_TRANSITIONS[t.type];
    const f = findings.get(t.subject);
    if (!transition || !f) continue;
    const resolves = transition === 'resolved' || transition === 'merged';
    out.push({
      ...base(ctx, ctx.credentials.get(f.credentialId), f.credentialId, f),
      id: `${ctx.scanId}:${transition}:${f.fingerprint}`,
      action: resolves ? 'resolve' : 'trigger',
      transition,
      fingerprint: f.fingerprint,
      title:
        transition === 'merged'
          ? `merged into ${f.mergedInto ?? String(t.data.into ?? '')} (one finding for one risk): ${f.message}`
          : transition === 'resolved'
            ? `resolved: ${f.message}`
            : f.message,
      severity: f.severity,
      policy: f.policy,
      policies: f.policies ?? [f.policy],
      controls: f.controls,
      rules: f.rules,
      detector: f.hits[0]?.detector ?? null,
      evidence: evidenceLines(f),
      runbookUrl: runbook(ctx.runbookUrl, f.policy, f.fingerprint),
    });
  }
  return out;
}

/**
 * Privilege drift: a trigger when an agent credential's grants gain an escalation-capable
 * permission; a resolve when a later change takes those permissions away again (or the credential
 * is removed). The planner sends a drift resolve only where its trigger paged.
 */
export function driftItems(drift: readonly DriftEvent[], ctx: ItemContext): AlertItem[] {
  const out: AlertItem[] = [];
  for (const d of drift) {
    if (d.type !== 'credential.grants-changed' && d.type !== 'credential.removed') continue;
    const c = ctx.credentials.get(d.credentialId);
    const fingerprint = `privilege-drift:${d.credentialId}`;
    const gained = d.type === 'credential.grants-changed' ? escalationActions((d.data.added as string[]) ?? []) : [];
    const lost = d.type === 'credential.grants-changed' ? escalationActions((d.data.removed as string[]) ?? []) : [];
    const common = {
      ...base(ctx, c, d.credentialId),
      fingerprint,
      severity: 'critical' as const,
      policy: 'privilege-drift',
      rules: ['drift'],
      detector: 'privesc',
      runbookUrl: runbook(ctx.runbookUrl, 'privilege-drift', fingerprint),
    };
    if (gained.length > 0 && c && (c.agentId || c.unregisteredAgent)) {
      out.push({
        ...common,
        id: `${ctx.scanId}:privilege-drift:${d.credentialId}`,
        action: 'trigger',
        transition: 'privilege-drift',
        title: `${c.agentId ?? 'unregistered agent'} credential gained escalation-capable permissions: ${gained.join(', ')}`,
        evidence: [
          { label: 'added', value: ((d.data.added as string[]) ?? []).join(', ') },
          ...((d.data.statementsAdded as string[]) ?? []).slice(0, 5).map((x) => ({ label: 'statement', value: x })),
        ],
      });
    } else if (lost.length > 0 || d.type === 'credential.removed') {
      out.push({
        ...common,
        id: `${ctx.scanId}:privilege-drift-resolved:${d.credentialId}`,
        action: 'resolve',
        transition: 'resolved',
        title:
          d.type === 'credential.removed'
            ? `resolved: credential ${d.credentialId} removed`
            : `resolved: escalation-capable permissions removed: ${lost.join(', ')}`,
        evidence: [{ label: 'removed', value: d.type === 'credential.removed' ? 'credential' : lost.join(', ') }],
      });
    }
  }
  return out;
}

/** The paging class an item belongs to, or null (digest). */
export function pagingClass(item: AlertItem, f: Finding | undefined, c: Credential | undefined): PagingClass | null {
  if (item.transition === 'privilege-drift') return 'privilege-drift';
  if (!f) return null;
  const detectors = f.hits.map((h) => h.detector);
  if (c?.unregisteredAgent && detectors.some((d) => d === 'admin' || d === 'vault-root')) return 'unregistered-admin';
  if (
    f.severity === 'critical' &&
    detectors.some((d) => PRIVILEGE_DETECTORS.has(d)) &&
    (c?.status ?? 'active') === 'active'
  )
    return 'critical-privilege';
  // Any severity: a burst or a surge is urgent because it is still growing, not because of one grant.
  if (detectors.some((d) => RUNAWAY_DETECTORS.has(d)) && (c?.status ?? 'active') === 'active') return 'runaway';
  return null;
}
