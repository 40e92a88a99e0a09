/**
 * POST /slack/interactions: a click on a held action's Approve or Deny button (the Slack app's
 * interactivity request URL). Public: Slack's request signature is the authentication (api/slack.ts).
 *
 * In order, each step answering at once (Slack gives an app 3 s):
 * 1. `api.slack` absent: 404, as if the route did not exist;
 * 2. the signature over the raw form body, and its timestamp: 401 `invalid signature` or
 *    `stale timestamp`, nothing more;
 * 3. the payload: a click on one of credwarden's buttons, else 400;
 * 4. replay: a signature seen in the last 10 minutes is acknowledged (200) and not acted on, so a
 *    delivery Slack repeats is not an error in Slack and a replayed request decides nothing;
 * 5. who clicked, with the config as it is now: a Slack user not in `api.slack.users`, a subject
 *    without an `api.tokens` entry, or one whose roles lack `actions:decide` gets an ephemeral
 *    refusal (logged at warn with the Slack user id; not audited: no decision was made);
 * 6. the action: only one awaiting approval or with a pending rollback request is decided; another
 *    gets "already <state>";
 * 7. the decision is queued (`decisions`/`decide`, job id from the signature's hash: one job per
 *    request) and the answer is 200 at once; the worker decides and posts the outcome to the
 *    click's response_url (jobs/decide.processor.ts).
 * Refusals in 5 and 6 are the ack body and are also posted to the response_url (allowed hosts
 * only, not awaited): Slack shows an ack body to nobody for block_actions, the response_url it does.
 */
import { slackLiteral } from '../../alerts/escape.js';
import { CwError, ErrorCodes } from '../../errors.js';
import type { ActionRecord } from '../../model/action.js';
import { ids, JobNames } from '../../queue/names.js';
import { keyPrefix } from '../../queue/prefix.js';
import { ApiErrorCodes, errorOf } from '../errors.js';
import { defineRoute, errorBody } from '../route.js';
import {
  ephemeral,
  firstSighting,
  parseInteraction,
  seenKey,
  signatureHash,
  slackActor,
  verifySlackRequest,
} from '../slack.js';
import { responseUrlAllowed } from '../slack-config.js';

/** Slack's payloads carry the whole message; credwarden's are far smaller, but the limit is Slack's, not ours. */
const BODY_LIMIT = 1024 * 1024;

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** A pending rollback request is decided like an approval (people.ts approves or denies it). */
const decidable = (r: ActionRecord): boolean =>
  r.state === 'awaiting-approval' ||
  Boolean(r.rollbackRequest && !r.rollbackRequest.denial && r.state !== 'rolled-back');

const answer = {
  type: 'object',
  required: ['response_type', 'text'],
  properties: {
    response_type: { type: 'string', const: 'ephemeral' },
    replace_original: { type: 'boolean' },
    text: { type: 'string' },
  },
} as const;

export default defineRoute({
  method: 'POST',
  url: '/slack/interactions',
  permission: 'public',
  schema: {
    operationId: 'slackInteractions',
    summary: 'A Slack Approve or Deny click (signed by Slack; queued, answered at its response_url)',
    tags: ['slack'],
    response: {
      200: { description: 'acknowledged: queued, or refused with the reason (ephemeral)', ...answer },
      400: { description: 'not a click on a credwarden button', ...errorBody },
      401: { description: 'invalid signature or stale timestamp', ...errorBody },
      404: { description: 'api.slack is not configured', ...errorBody },
    },
  },
  setup(scope) {
    // The signature covers the exact bytes: keep the form body as the raw string.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: BODY_LIMIT },
      (_req, body, done) => done(null, body),
    );
  },
  handle: async ({ req, reply, deps }) => {
    const { app, queues } = deps;
    const api = app.config.api;
    const slack = api.slack;
    if (!slack) throw new CwError(ErrorCodes.NOT_FOUND, 'no route POST /slack/interactions (api.slack is not set)');
    const rawBody = typeof req.body === 'string' ? req.body : '';
    const signature = header(req.headers['x-slack-signature']);
    const verdict = verifySlackRequest({
      signingSecret: slack.signingSecret,
      timestamp: header(req.headers['x-slack-request-timestamp']),
      signature,
      rawBody,
      // Slack stamps requests with the wall clock, never the app's (evaluation) clock.
      now: new Date(),
    });
    if (!verdict.ok) return reply.status(401).send(errorOf(ApiErrorCodes.UNAUTHENTICATED, verdict.reason));
    const click = parseInteraction(rawBody);
    const where = { slackUser: click.userId, planId: click.planId, decision: click.decision };
    const prefix = keyPrefix(app.config.redis);
    if (!(await firstSighting(app.redis, prefix, signature!))) {
      req.log.warn(where, 'slack request replayed: acknowledged, not acted on');
      return ephemeral('This request was already received; it is not acted on twice.');
    }
    const refuse = (reason: string) => {
      const text = slackLiteral(reason);
      if (responseUrlAllowed(click.responseUrl, slack.responseHosts))
        void fetch(click.responseUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(ephemeral(text)),
          redirect: 'manual',
          signal: AbortSignal.timeout(5000),
        })
          .then((res) => res.arrayBuffer())
          .catch((err: Error) => req.log.warn({ ...where, err: err.message }, 'slack refusal not posted'));
      return ephemeral(text);
    };
    const actor = slackActor(api, click.userId);
    if (!actor.ok) {
      req.log.warn({ ...where, why: actor.why }, 'slack click refused: no credwarden subject may decide for this user');
      return refuse(actor.text);
    }
    const record = await app.people.load(click.planId).catch((err: unknown) => {
      if (err instanceof CwError && err.code === ErrorCodes.NOT_FOUND) return null;
      throw err;
    });
    if (!record) return refuse(`There is no action ${click.planId}; nothing was decided.`);
    if (!decidable(record)) return refuse(`Action ${click.planId} is already ${record.state}; nothing was decided.`);
    try {
      await queues.decisions.add(
        JobNames.decide,
        {
          planId: click.planId,
          subject: actor.subject,
          decision: click.decision,
          source: 'slack',
          responseUrl: click.responseUrl,
          clickedAt: new Date().toISOString(),
        },
        { jobId: ids.decide(signatureHash(signature!)), attempts: 5, backoff: { type: 'exponential', delay: 1000 } },
      );
    } catch (err) {
      // Not queued: forget the signature, so the same request tried again is not taken for a replay.
      await app.redis.del(seenKey(prefix, signature!)).catch(() => undefined);
      req.log.error({ ...where, err: (err as Error).message }, 'slack decision not queued');
      throw new CwError(ErrorCodes.QUEUE, 'the decision could not be queued; click again');
    }
    req.log.info({ ...where, subject: actor.subject }, 'slack decision queued');
    return ephemeral(
      `Your ${click.decision === 'approve' ? 'approval' : 'denial'} of ${click.planId} is being recorded.`,
    );
  },
});
