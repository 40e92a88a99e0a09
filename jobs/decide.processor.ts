/**
 * decide: a Slack click on Approve or Deny, queued by POST /slack/interactions (api/slack.ts),
 * made as the person the Slack user maps to (`user:<subject>`, source `slack`: one approver
 * however they reach credwarden) and answered at the click's response_url, ephemeral (only the
 * clicker sees it) and without replacing the message: the action's new state, or the refusal.
 *
 * - A guardrail's refusal (the same person twice, the requester, a settled or expired request) or
 *   an action that is gone is an answer, not a failure: it is posted and the job completes.
 *   Anything else (Redis, the audit log) fails the job, retried while attempts remain.
 * - Once decided, the answer is kept on the job before it is posted, so a retry (the post failed)
 *   posts it again and never decides twice.
 * - The answer is posted only to an allowed host (`api.slack.responseHosts`, https; http only on
 *   loopback); a 429, 5xx or network failure is retried, any other refusal is logged and the job
 *   completes. The response_url is blanked on the job once used (it is a capability for 30 min).
 */
import type { Job } from 'bullmq';
import { slackLiteral } from '../src/alerts/escape.js';
import { postJson } from '../src/alerts/sinks/http.js';
import { ephemeral } from '../src/api/slack.js';
import { responseUrlAllowed } from '../src/api/slack-config.js';
import { CwError, ErrorCodes } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { ActionRecord } from '../src/model/action.js';
import type { DecidePayload } from '../src/queue/names.js';
import type { ActionPeople } from '../src/remediation/people.js';
import { toJobError } from './job-error.js';

export interface DecideDeps {
  people: Pick<ActionPeople, 'approve' | 'deny'>;
  /** `api.slack.responseHosts`, read per job: this process's config is the current one. */
  responseHosts: () => readonly string[];
  /** `remediation.approvals.approvers`, for the "1 of 2" in the answer. */
  approvers: () => number;
  log: Logger;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface DecideResult {
  answer: string;
  posted: boolean;
}

export const SLACK_DENY_REASON = 'denied from Slack';

export function decideProcessor(d: DecideDeps) {
  return async (job: Job<DecidePayload>): Promise<DecideResult> => {
    const data = job.data;
    let answer = data.answer;
    if (answer === undefined) {
      answer = await decide(d, data);
      await job.updateData({ ...data, answer });
    }
    const posted = await post(d, data, answer);
    await job.updateData({ ...data, answer, responseUrl: '' });
    return { answer, posted };
  };
}

async function decide(d: DecideDeps, data: DecidePayload): Promise<string> {
  const by = `user:${data.subject}`;
  const decided = { source: data.source };
  try {
    const r =
      data.decision === 'approve'
        ? await d.people.approve(data.planId, by, decided)
        : await d.people.deny(data.planId, by, SLACK_DENY_REASON, decided);
    return outcome(r, data, d.approvers());
  } catch (err) {
    if (err instanceof CwError && (err.code === ErrorCodes.GUARDRAIL || err.code === ErrorCodes.NOT_FOUND))
      return `Not recorded: ${err.message}`;
    throw toJobError(err);
  }
}

function outcome(r: ActionRecord, data: DecidePayload, approvers: number): string {
  const id = r.plan.id;
  const rollback = r.rollbackRequest && r.state !== 'awaiting-approval';
  if (data.decision === 'deny')
    return rollback
      ? `Denied by ${data.subject}: the rollback of action ${id} will not run (the action stays ${r.state}).`
      : `Denied by ${data.subject}: action ${id} is ${r.state}.`;
  if (rollback)
    return `Approved by ${data.subject}: the rollback of action ${id} (${(r.rollbackApprovals ?? []).length} of ${approvers} approvals); the action is ${r.state}.`;
  return `Approved by ${data.subject}: action ${id} is ${r.state} (${r.approvals.length} of ${approvers} approvals).`;
}

async function post(d: DecideDeps, data: DecidePayload, answer: string): Promise<boolean> {
  const where = { planId: data.planId, subject: data.subject, decision: data.decision };
  if (!data.responseUrl) return false;
  if (!responseUrlAllowed(data.responseUrl, d.responseHosts())) {
    d.log.warn(where, 'slack decision made; its answer was not posted: response_url is not an allowed host');
    return false;
  }
  const body = JSON.stringify(ephemeral(slackLiteral(answer)));
  const res = await postJson(data.responseUrl, {}, body, d.timeoutMs ?? 10_000, d.fetch ?? fetch);
  if (res.ok) return true;
  if (res.retryable) throw new Error(`the answer was not posted to response_url: ${res.detail}`);
  d.log.warn({ ...where, detail: res.detail }, 'slack decision made; response_url refused its answer');
  return false;
}
