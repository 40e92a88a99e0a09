/**
 * Every route of the API, one file each (a test holds this list to the folder). The order is the
 * OpenAPI document's.
 */
import type { Route } from '../route.js';
import action from './action.route.js';
import actionApprove from './action-approve.route.js';
import actionDeny from './action-deny.route.js';
import actionRollback from './action-rollback.route.js';
import actions from './actions.route.js';
import agents from './agents.route.js';
import audit from './audit.route.js';
import auditVerify from './audit-verify.route.js';
import credential from './credential.route.js';
import drill from './drill.route.js';
import drills from './drills.route.js';
import evidence from './evidence.route.js';
import exceptionCreate from './exception-create.route.js';
import exceptionExpire from './exception-expire.route.js';
import exceptions from './exceptions.route.js';
import finding from './finding.route.js';
import findings from './findings.route.js';
import health from './health.route.js';
import inventory from './inventory.route.js';
import metrics from './metrics.route.js';
import openapi from './openapi.route.js';
import ready from './ready.route.js';
import remediationPause from './remediation-pause.route.js';
import remediationResume from './remediation-resume.route.js';
import remediationStatus from './remediation-status.route.js';
import scan from './scan.route.js';
import scanStart from './scan-start.route.js';
import scans from './scans.route.js';
import silenceCreate from './silence-create.route.js';
import silenceExpire from './silence-expire.route.js';
import silences from './silences.route.js';
import slackInteractions from './slack-interactions.route.js';

export const routes: readonly Route[] = [
  health,
  ready,
  openapi,
  metrics,
  inventory,
  credential,
  findings,
  finding,
  agents,
  scans,
  scan,
  scanStart,
  actions,
  action,
  actionApprove,
  actionDeny,
  actionRollback,
  drills,
  drill,
  remediationStatus,
  remediationPause,
  remediationResume,
  audit,
  auditVerify,
  evidence,
  silences,
  silenceCreate,
  silenceExpire,
  exceptions,
  exceptionCreate,
  exceptionExpire,
  slackInteractions,
];
