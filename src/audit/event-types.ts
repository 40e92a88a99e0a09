/**
 * The catalog of audit event types: every event credwarden appends has one of these types, and the
 * compiler holds every append to the list (AppendInput.type). Evidence packs and the dashboard read
 * this one list. Remediation and rotation add theirs here (DESIGN: action.*, approval.*, …).
 */
export const AUDIT_EVENT_TYPES = {
  'scan.started': 'a scan began: its trigger and units',
  'scan.requested': 'a person asked for a scan (the API): who, and the scan id it will run as',
  'scan.finished': 'a scan was finalized: status, counts, drift, API calls, problems',
  'credential.added': 'a credential appeared in the inventory',
  'credential.removed': 'a credential observed completely was gone',
  'credential.status-changed': "a credential's status changed (active, inactive, …)",
  'credential.grants-changed': "a credential's effective permissions changed",
  'credential.attribution-changed': 'a credential now belongs to another agent, or to none',
  'finding.opened': 'a policy hit a credential for the first time',
  'finding.reopened': 'a resolved finding hit again',
  'finding.escalated': "an open finding's severity rose",
  'finding.suppressed': 'an exception covers a finding',
  'finding.unsuppressed': "a finding's exception expired or was removed",
  'finding.resolved': 'a finding no longer hits a credential observed completely',
  'finding.policies-changed': 'the policies reporting one risk changed',
  'finding.merged': 'a finding was folded into the one finding of its risk',
  'exception.expired': 'an exception passed its expiry',
  'exception.created': 'a person created an exception at runtime (the API): owner, reason, expiry, selector',
  'exception.lifted': 'a person ended a runtime exception before its expiry',
  'evaluation.finished': "a scan's evaluation was applied: transitions, open findings",
  'evaluation.held': 'the detection guardrail held an evaluation: nothing applied or paged',
  'evaluation.released': 'a person released a held evaluation',
  'alert.sent': 'a notification was delivered to a sink',
  'alert.failed': 'a notification failed for good',
  'alert.silenced': 'an alert item was silenced',
  'alert.inhibited': 'an alert item was inhibited by another',
  'silence.expired': 'a silence passed its expiry',
  'silence.created': 'a person created a silence at runtime (the API): owner, reason, expiry, matchers',
  'silence.lifted': 'a person ended a runtime silence before its expiry',
  'action.planned':
    'remediation planned an action and the guardrails decided: allow, hold, deny or dry-run, with reasons',
  'action.intent': 'an action is about to run (written before anything is touched; no intent, no action)',
  'action.checked': 'the live re-check before acting: the facts still hold, and the pre-state rollback restores',
  'action.result':
    'an action finished: done, already done, cancelled (facts changed) or failed, with pre- and post-state',
  'action.rollback-requested':
    'a person asked to roll back an action that needed approval: the rollback waits for other approvers',
  'action.rollback-intent': 'a person asked for a rollback: written before the backend is touched',
  'action.rolled-back': 'a person rolled an action back to its recorded pre-state',
  'approval.granted': 'a person approved a held action',
  'approval.denied': 'a person denied a held action',
  'remediation.paused': 'a person pulled the kill switch: no action starts until resumed',
  'remediation.resumed': 'a person released the kill switch',
  'breaker.tripped': 'the remediation error rate passed its threshold: remediation paused until a person resets it',
  'breaker.reset': 'a person reset the remediation circuit breaker',
  'audit.checkpoint':
    'the chain head (seq, hash) was signed with the evidence key: the envelope, also sent to the checkpoint sinks',
  'evidence.exported':
    'an evidence pack was built and handed out: who asked, the framework, the period, the audit range it covers and its sha256',
  'export.written':
    'a scheduled findings export was written: its name, format, record count and target (a file, or a webhook sink by name)',
  'drill.started': 'a drill began: its scenario, the one place it may plant, its deadline, who or what started it',
  'drill.plant-intent': 'a drill is about to create a synthetic credential: its exact names (no intent, no plant)',
  'drill.planted': 'a drill created its synthetic credentials: their exact ids',
  'drill.stage':
    'a drill saw the pipeline reach a stage (detected, alerted, remediated, approval requested) and how long it took',
  'drill.finished': 'a drill passed or failed: the stage it reached, every measured time, and why it failed',
  'drill.cleaned': 'a drill removed what it planted: each resource removed, already gone or failed to remove',
  ...rotationEvents(),
} as const;

/**
 * `rotation.<step>.intent` (written before the step touches anything), `.checkpoint` (a fact a
 * resumed step needs, recorded before the backend call it protects) and `.result`, per step.
 */
function rotationEvents() {
  const steps = ['prepare', 'create', 'deliver', 'verify', 'adopt', 'deactivate', 'delete', 'rollback'] as const;
  type Step = (typeof steps)[number];
  const out = {} as Record<`rotation.${Step}.${'intent' | 'checkpoint' | 'result'}`, string>;
  for (const s of steps) {
    out[`rotation.${s}.intent`] = `a rotation's ${s} step is about to run (no intent, no step)`;
    out[`rotation.${s}.checkpoint`] =
      `a rotation's ${s} step recorded what a resumed run needs, before its backend call`;
    out[`rotation.${s}.result`] = `a rotation's ${s} step finished, is waiting, went back or stopped`;
  }
  return out;
}

export type AuditEventType = keyof typeof AUDIT_EVENT_TYPES;

export function isAuditEventType(t: string): t is AuditEventType {
  return Object.hasOwn(AUDIT_EVENT_TYPES, t);
}
