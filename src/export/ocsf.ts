/**
 * OCSF export, validated against the OCSF 1.5.0 JSON Schema (test/fixtures/ocsf-1.5.0):
 * - one Detection Finding (class_uid 2004, category_uid 2 Findings) per finding;
 * - one Compliance Finding (class_uid 2003) per finding × control, the controls being every
 *   standard/control pair of its policies' `metadata.controls` (Prowler's convention: one
 *   ComplianceFinding per finding × requirement).
 *
 * Fields (remediation.md §3.3): activity_id 1 Create (open), 2 Update (suppressed, or open again
 * after a resolve), 3 Close (resolved); type_uid = class_uid × 100 + activity_id; status_id
 * 1 New, 3 Suppressed, 4 Resolved; severity_id info 1, low 2, medium 3, high 4, critical 5; time
 * (ms epoch) = when the finding last changed (resolved, else last seen); finding_info.uid = the
 * fingerprint (a Compliance Finding's is `<fingerprint>#<standard>#<control>`, with the
 * fingerprint as uid_alt); compliance.status_id 3 Fail while the risk stands (open or
 * suppressed: an exception accepts a risk, it does not remove it), 1 Pass once resolved.
 * AWS findings carry the `cloud` profile (cloud.account, resources[].cloud_partition); Vault
 * findings no profile (resources[].namespace is `<cluster>/<namespace>`). credwarden's own fields
 * (agent, owner, score, policies, state, exception) go in `unmapped.credwarden`.
 */
import type { PresentedFinding } from '../findings/present.js';
import type { Evidence, RuleHit, Severity } from '../model/finding.js';
import { awsAccountOf, controlPairs, type ExportInput, isAws, ms, partitionOf, titleOf, updatedAt } from './input.js';

export const OCSF_VERSION = '1.5.0';
export const DETECTION_FINDING = 2004;
export const COMPLIANCE_FINDING = 2003;
const FINDINGS_CATEGORY = 2;

const SEVERITY_ID: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };
const SEVERITY_NAME: Record<Severity, string> = {
  info: 'Informational',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'Critical',
};
const ACTIVITY_NAME: Record<number, string> = { 1: 'Create', 2: 'Update', 3: 'Close' };
const CONFIDENCE: Record<NonNullable<RuleHit['confidence']>, { id: number; name: string }> = {
  confirmed: { id: 3, name: 'High' },
  potential: { id: 2, name: 'Medium' },
  conditional: { id: 1, name: 'Low' },
};

export type OcsfEvent = Record<string, unknown> & {
  class_uid: number;
  activity_id: number;
  type_uid: number;
  metadata: { profiles?: string[] } & Record<string, unknown>;
};

function activityOf(f: PresentedFinding): 1 | 2 | 3 {
  if (f.state === 'resolved') return 3;
  if (f.state === 'suppressed' || f.reopened > 0) return 2;
  return 1;
}

function statusOf(f: PresentedFinding): { status_id: number; status: string; status_detail?: string } {
  if (f.state === 'resolved') return { status_id: 4, status: 'Resolved' };
  if (f.state === 'suppressed')
    return {
      status_id: 3,
      status: 'Suppressed',
      ...(f.exceptionId ? { status_detail: `exception ${f.exceptionId}` } : {}),
    };
  return { status_id: 1, status: 'New' };
}

/** The strongest confidence among the hits (a finding is as sure as its surest hit). */
function confidenceOf(f: PresentedFinding): { confidence_id: number; confidence: string } | Record<string, never> {
  const best = f.hits
    .map((h) => (h.confidence ? CONFIDENCE[h.confidence] : undefined))
    .filter((c): c is { id: number; name: string } => c !== undefined)
    .sort((a, b) => b.id - a.id)[0];
  return best ? { confidence_id: best.id, confidence: best.name } : {};
}

function evidenceData(e: Evidence): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (e.field !== undefined) out.field = e.field;
  if (e.value !== undefined) out.value = e.value;
  if (e.statement) out.statement = e.statement;
  if (e.note !== undefined) out.note = e.note;
  return out;
}

/** One evidences entry per rule hit: its detector, message, confidence and what it looked at. */
function evidences(f: PresentedFinding): Record<string, unknown>[] {
  return f.hits.map((h) => ({
    name: h.detector,
    ...(h.key ? { uid: h.key } : {}),
    data: {
      message: h.message,
      ...(h.severity ? { severity: h.severity } : {}),
      ...(h.confidence ? { confidence: h.confidence } : {}),
      evidence: h.evidence.map(evidenceData),
    },
  }));
}

function resource(f: PresentedFinding): Record<string, unknown> {
  // cloud_partition is a `cloud` profile attribute: only where the event declares that profile.
  const aws = cloud(f) !== null;
  return {
    uid: f.credentialId,
    ...(f.principal ? { uid_alt: f.principal } : {}),
    name: f.principalName ?? f.principal ?? f.credentialId,
    type: f.kind,
    ...(aws ? { cloud_partition: partitionOf(f.principal, 'us-east-1') } : { namespace: f.source ?? '' }),
    data: {
      ...(f.principalType ? { principal_type: f.principalType } : {}),
      ...(f.source ? { source: f.source } : {}),
    },
  };
}

function cloud(f: PresentedFinding): Record<string, unknown> | null {
  const account = awsAccountOf(f);
  if (!isAws(f) || !account) return null;
  return {
    provider: 'AWS',
    cloud_partition: partitionOf(f.principal, 'us-east-1'),
    account: { uid: account, ...(f.account?.name ? { name: f.account.name } : {}), type_id: 10, type: 'AWS Account' },
  };
}

function unmapped(f: PresentedFinding, input: ExportInput): Record<string, unknown> {
  const score = input.scores.get(f.credentialId);
  return {
    credwarden: {
      state: f.state,
      agent: f.agentId,
      owner: f.owner,
      ...(score !== undefined ? { score } : {}),
      policies: f.policies,
      rules: f.rules,
      controls: f.controls,
      ...(f.exceptionId ? { exception: f.exceptionId } : {}),
      reopened: f.reopened,
      ...(f.riskKey ? { risk: f.riskKey } : {}),
    },
  };
}

function base(f: PresentedFinding, input: ExportInput, classUid: number, className: string, uid: string) {
  const activity = activityOf(f);
  const c = cloud(f);
  return {
    activity_id: activity,
    activity_name: ACTIVITY_NAME[activity],
    category_uid: FINDINGS_CATEGORY,
    category_name: 'Findings',
    class_uid: classUid,
    class_name: className,
    type_uid: classUid * 100 + activity,
    type_name: `${className}: ${ACTIVITY_NAME[activity]}`,
    severity_id: SEVERITY_ID[f.severity],
    severity: SEVERITY_NAME[f.severity],
    time: ms(updatedAt(f)),
    metadata: {
      version: OCSF_VERSION,
      product: { name: input.product.name, vendor_name: input.product.vendor, version: input.product.version },
      uid: `${uid}#${activity}#${ms(updatedAt(f))}`,
      ...(c ? { profiles: ['cloud'] } : {}),
    },
    ...(c ? { cloud: c } : {}),
    message: f.hits[0]?.message ?? f.message,
    ...statusOf(f),
  };
}

function findingInfo(f: PresentedFinding, input: ExportInput, uid: string) {
  return {
    uid,
    ...(uid !== f.fingerprint ? { uid_alt: f.fingerprint } : {}),
    title: titleOf(f, input.policies),
    desc: f.message,
    types: f.rules,
    analytic: { type_id: 1, type: 'Rule', name: f.policy, uid: f.policy },
    created_time: ms(f.firstSeen),
    first_seen_time: ms(f.firstSeen),
    last_seen_time: ms(f.lastSeen),
    modified_time: ms(updatedAt(f)),
  };
}

export function detectionFinding(f: PresentedFinding, input: ExportInput): OcsfEvent {
  const score = input.scores.get(f.credentialId);
  return {
    ...base(f, input, DETECTION_FINDING, 'Detection Finding', f.fingerprint),
    finding_info: findingInfo(f, input, f.fingerprint),
    is_alert: f.state === 'open',
    ...confidenceOf(f),
    ...(score !== undefined ? { risk_score: score } : {}),
    resources: [resource(f)],
    evidences: evidences(f),
    unmapped: unmapped(f, input),
  };
}

export function complianceFindings(f: PresentedFinding, input: ExportInput): OcsfEvent[] {
  const pass = f.state === 'resolved';
  return controlPairs(f).map(([standard, control]) => {
    const uid = `${f.fingerprint}#${standard}#${control}`;
    return {
      ...base(f, input, COMPLIANCE_FINDING, 'Compliance Finding', uid),
      finding_info: findingInfo(f, input, uid),
      compliance: {
        standards: [standard],
        control,
        status_id: pass ? 1 : 3,
        status: pass ? 'Pass' : 'Fail',
        status_detail: pass ? `resolved ${updatedAt(f)}` : f.message,
      },
      resources: [resource(f)],
      evidences: evidences(f),
      unmapped: unmapped(f, input),
    };
  });
}

/** Every event of the export: each finding's Detection Finding followed by its Compliance Findings. */
export function toOcsf(input: ExportInput): OcsfEvent[] {
  return input.findings.flatMap((f) => [detectionFinding(f, input), ...complianceFindings(f, input)]);
}
