/**
 * Slack interactive approvals, the request half (routes/slack-interactions.route.ts answers the
 * click; jobs/decide.processor.ts makes the decision): Slack's request signature, the click
 * payload, replay refusal, and who the clicking user is to credwarden.
 *
 * - signature (Slack "Verifying requests from Slack"): `X-Slack-Signature` is `v0=` + the hex
 *   HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` under the app's signing secret,
 *   compared in constant time; a timestamp that is not a whole number of seconds, or more than
 *   300 s from now either way (in whole seconds: exactly 300 passes), is refused before the HMAC;
 * - replay: a signature already seen in the last 10 minutes (twice the timestamp window, so a
 *   signature can never come back once its entry expires) is refused;
 * - the payload: `payload=<json>` of a `block_actions` click on one of credwarden's two buttons,
 *   whose value is a plan id; anything else is a SlackPayloadError (CW_ERR_INPUT).
 *
 *   P:slack:seen:<signature-sha256>   string   a request signature already seen (SET NX EX 600): a replay is refused
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SLACK_ACTIONS } from '../alerts/sinks/slack.sink.js';
import { CwError, ErrorCodes } from '../errors.js';
import { can, type Role } from './roles.js';
import type { SlackConfig } from './slack-config.js';

export const SLACK_TOLERANCE_S = 300;
export const REPLAY_WINDOW_S = 600;

/** The action_id of each button on a held action's message (the sink builds them). */
export { SLACK_ACTIONS };
export type SlackDecision = keyof typeof SLACK_ACTIONS;

export type SlackVerdict = { ok: true } | { ok: false; reason: 'invalid signature' | 'stale timestamp' };

/** `v0=` + hex HMAC-SHA256(secret, `v0:<timestamp>:<raw body>`): what Slack sends for this body. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export function verifySlackRequest(input: {
  signingSecret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  rawBody: string;
  now: Date;
}): SlackVerdict {
  const { timestamp, signature } = input;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'stale timestamp' };
  const nowS = Math.floor(input.now.getTime() / 1000);
  if (Math.abs(nowS - Number(timestamp)) > SLACK_TOLERANCE_S) return { ok: false, reason: 'stale timestamp' };
  if (!signature?.startsWith('v0=')) return { ok: false, reason: 'invalid signature' };
  const expected = Buffer.from(slackSignature(input.signingSecret, timestamp, input.rawBody), 'utf8');
  const got = Buffer.from(signature, 'utf8');
  // timingSafeEqual throws on unequal lengths: a different length is a plain mismatch.
  if (got.length !== expected.length || !timingSafeEqual(got, expected))
    return { ok: false, reason: 'invalid signature' };
  return { ok: true };
}

/** The replay key's id part, and the decide job's: a hash of the signature (never the signature itself). */
export const signatureHash = (signature: string): string => createHash('sha256').update(signature).digest('hex');

export const seenKey = (prefix: string, signature: string): string =>
  `${prefix}:slack:seen:${signatureHash(signature)}`;

/** Records the signature; false when it was seen in the last REPLAY_WINDOW_S (a replay). */
export async function firstSighting(
  redis: { set(key: string, value: string, ex: 'EX', s: number, nx: 'NX'): Promise<string | null> },
  prefix: string,
  signature: string,
): Promise<boolean> {
  return (await redis.set(seenKey(prefix, signature), '1', 'EX', REPLAY_WINDOW_S, 'NX')) === 'OK';
}

export class SlackPayloadError extends CwError {
  constructor(message: string) {
    super(ErrorCodes.INPUT, `slack payload: ${message}`);
    this.name = 'SlackPayloadError';
  }
}

export interface SlackClick {
  /** The Slack user id (`U…`/`W…`). */
  userId: string;
  decision: SlackDecision;
  planId: string;
  responseUrl: string;
}

const PLAN_ID = /^ap-[0-9a-f]{32}$/;
const USER_ID = /^[UW][A-Z0-9]{2,31}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The click in a form-encoded interactivity request (`payload=<json>`), or a SlackPayloadError. */
export function parseInteraction(rawBody: string): SlackClick {
  const raw = new URLSearchParams(rawBody).get('payload');
  if (raw === null) throw new SlackPayloadError('no payload field');
  let p: unknown;
  try {
    p = JSON.parse(raw);
  } catch {
    throw new SlackPayloadError('payload is not JSON');
  }
  if (!isObject(p)) throw new SlackPayloadError('payload is not an object');
  if (p.type !== 'block_actions') throw new SlackPayloadError('not a block_actions interaction');
  const userId = isObject(p.user) ? p.user.id : undefined;
  if (typeof userId !== 'string' || !USER_ID.test(userId)) throw new SlackPayloadError('no Slack user id');
  const action = Array.isArray(p.actions) ? p.actions[0] : undefined;
  if (!isObject(action)) throw new SlackPayloadError('no action');
  const decision = (Object.keys(SLACK_ACTIONS) as SlackDecision[]).find((d) => SLACK_ACTIONS[d] === action.action_id);
  if (!decision) throw new SlackPayloadError('not a credwarden button');
  if (typeof action.value !== 'string' || !PLAN_ID.test(action.value))
    throw new SlackPayloadError('the button value is not a plan id');
  if (typeof p.response_url !== 'string' || p.response_url === '') throw new SlackPayloadError('no response_url');
  return { userId, decision, planId: action.value, responseUrl: p.response_url };
}

/** Who a Slack user is to credwarden right now (config read at click time), or why they may not decide. */
export type SlackActor =
  | { ok: true; subject: string }
  | { ok: false; why: 'unmapped' | 'no-roles' | 'forbidden'; text: string };

export function slackActor(
  api: { slack?: SlackConfig | undefined; tokens: readonly { subject: string; roles: readonly Role[] }[] },
  userId: string,
): SlackActor {
  const users = api.slack?.users ?? {};
  const subject = Object.hasOwn(users, userId) ? users[userId] : undefined;
  if (!subject)
    return {
      ok: false,
      why: 'unmapped',
      text: 'Your Slack user is not mapped to a credwarden subject (api.slack.users), so nothing was decided.',
    };
  const entry = api.tokens.find((t) => t.subject === subject);
  if (!entry)
    return {
      ok: false,
      why: 'no-roles',
      text: `${subject} has no api.tokens entry, so its roles cannot be checked from Slack; nothing was decided.`,
    };
  if (!can(entry.roles, 'actions:decide'))
    return {
      ok: false,
      why: 'forbidden',
      text: `${subject}'s roles (${entry.roles.join(', ')}) do not grant actions:decide; nothing was decided.`,
    };
  return { ok: true, subject };
}

/** An ephemeral answer (only the clicking user sees it; the message stays as it is). */
export const ephemeral = (text: string) => ({ response_type: 'ephemeral' as const, replace_original: false, text });
