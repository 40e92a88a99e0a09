/**
 * Schema pieces the read routes share: filters over closed domains as enums (so a wrong value is a
 * 400 naming `query.<field>`), the records they answer with as open objects (documented, never
 * trimmed by the serializer), path parameters, and the 404.
 *
 * Path parameters are whole ids, URL-encoded by the caller (`encodeURIComponent`): credential ids
 * and fingerprints hold `/` and `:` (`aws/111111111111/access-key/AKIA…`). The router matches the
 * encoded segment and hands the route the decoded id.
 */
import { actionNames } from '../actions/index.js';
import { AUDIT_EVENT_TYPES } from '../audit/event-types.js';
import { DRILL_SCENARIOS } from '../drill/config.js';
import { DRILL_STAGES } from '../drill/store.js';
import { CwError, ErrorCodes } from '../errors.js';
import { ACTION_STATES } from '../model/action.js';
import { CREDENTIAL_KINDS, SOURCE_TYPES } from '../model/credential.js';
import { FINDING_STATES, SEVERITIES } from '../model/finding.js';
import { errorBody, openObject } from './route.js';

const enumOf = (values: readonly string[], description: string) => ({
  type: 'string',
  enum: [...values],
  description,
});

const text = (description: string) => ({ type: 'string', minLength: 1, maxLength: 1024, description });
const nullableText = (description: string) => ({ type: ['string', 'null'], description });

/** Query filters, by what they filter. */
export const filter = {
  severity: enumOf(SEVERITIES, 'only findings of this severity'),
  findingState: enumOf(FINDING_STATES, 'only findings in this state (all states when absent)'),
  actionState: enumOf(ACTION_STATES, 'only actions in this state'),
  action: enumOf(actionNames(), 'only actions of this type'),
  kind: enumOf(CREDENTIAL_KINDS, 'only credentials of this kind'),
  source: enumOf(SOURCE_TYPES, 'only credentials from this source type'),
  auditType: enumOf(Object.keys(AUDIT_EVENT_TYPES), 'only events of this type'),
  agent: text('only those of this registry agent (its id)'),
  policy: text('only those of this policy (by name)'),
  account: text(
    'only those of this AWS account id or Vault `<cluster>/<namespace>`; a Vault cluster name alone matches all its namespaces',
  ),
  control: text(
    "only findings mapped to this control: `<framework>:<control>` as in the policies' metadata.controls (`soc2:CC6.2`), or a control id in any framework",
  ),
} as const;

/** Does a credential's `source` (account id, or `<cluster>/<namespace>`) match an `account` filter? */
export const accountMatches = (source: string | null | undefined, account: string): boolean =>
  !!source && (source === account || source.startsWith(`${account}/`));

export const credentialSchema = openObject(
  'A credential as the inventory stores it: identifiers, never a secret value',
  {
    id: { type: 'string' },
    kind: { type: 'string', enum: [...CREDENTIAL_KINDS] },
    sourceType: { type: 'string', enum: [...SOURCE_TYPES] },
    source: { type: 'string', description: 'the AWS account id, or `<cluster>/<namespace>` for Vault' },
    principal: { type: 'string' },
    agentId: nullableText('the registry agent it belongs to'),
    status: { type: 'string' },
    grants: { type: 'array', description: 'every grant with its provenance', items: openObject('one grant') },
  },
);

export const findingSchema = openObject('A finding: one risk on one credential', {
  fingerprint: { type: 'string' },
  policy: { type: 'string' },
  credentialId: { type: 'string' },
  agentId: nullableText('the registry agent'),
  severity: { type: 'string', enum: [...SEVERITIES] },
  state: { type: 'string', enum: [...FINDING_STATES] },
  message: { type: 'string' },
});

export const actionSchema = openObject('A remediation action (as `credwarden actions list --json` prints it)', {
  id: { type: 'string' },
  action: { type: 'string' },
  policy: { type: 'string' },
  credentialId: { type: 'string' },
  state: { type: 'string', enum: [...ACTION_STATES] },
  decision: nullableText('what the guardrails decided'),
});

export const auditEventSchema = openObject('An audit event', {
  seq: { type: 'integer' },
  time: { type: 'string' },
  type: { type: 'string' },
  actor: { type: 'string' },
  subject: { type: 'string' },
  data: openObject('what the event says'),
  prevHash: { type: 'string' },
  hash: { type: 'string' },
});

export const scanSummarySchema = openObject('A scan summary', {
  id: { type: 'string' },
  trigger: { type: 'string' },
  startedAt: { type: 'string' },
  finishedAt: { type: ['string', 'null'] },
  status: { type: 'string' },
});

/** A nullable record (a score, an evaluation, drift): null when there is none yet. */
export const nullableRecord = (description: string) => ({
  type: ['object', 'null'],
  additionalProperties: true,
  description,
});

/** The schema of one path parameter: a whole id, URL-encoded. */
export const idParams = (name: string, description: string) => ({
  type: 'object',
  required: [name],
  additionalProperties: false,
  properties: { [name]: { type: 'string', minLength: 1, description: `${description} (URL-encoded)` } },
});

/** A querystring that takes nothing (or only the given fields): anything else is a 400 naming it. */
export const query = (properties: Record<string, unknown> = {}) => ({
  type: 'object',
  additionalProperties: false,
  properties,
});

export const notFoundResponse = (what: string) => ({ description: `no such ${what}`, ...errorBody });

export const notFound = (message: string): CwError => new CwError(ErrorCodes.NOT_FOUND, message);

const ms = (description: string) => ({ type: 'number', minimum: 0, description: `${description}, ms from riskAt` });

export const drillSchema = openObject(
  'A drill (drill/store.ts DrillRecord): what it planted where, the stage it reached, each measured time, how it ended and what its cleanup removed',
  {
    id: { type: 'string' },
    scenario: { type: 'string', enum: [...DRILL_SCENARIOS] },
    trigger: { type: 'string', enum: ['cli', 'schedule', 'api'] },
    by: { type: 'string', description: 'who or what started it' },
    target: openObject('where it may plant: `sourceType` and the account id or `<cluster>/<namespace>`'),
    startedAt: { type: 'string' },
    deadlineAt: { type: 'string' },
    finishedAt: nullableText('null while running'),
    status: { type: 'string', enum: ['running', 'passed', 'failed'] },
    stage: { type: 'string', enum: [...DRILL_STAGES], description: 'the furthest stage reached' },
    reason: nullableText('why it failed'),
    planted: { type: 'array', items: openObject('one resource it created: kind, id, source, credentialId') },
    riskAt: nullableText('when the risky state existed: the times are measured from here'),
    times: openObject('time to detect, alert, remediate or approval', {
      detectMs: ms('time to detect'),
      alertMs: ms('time to alert'),
      remediateMs: ms('time to remediate'),
      approvalMs: ms('time to the approval request'),
    }),
    cleanup: nullableRecord('what its cleanup removed, found already gone, or failed to remove (with the error)'),
  },
);
