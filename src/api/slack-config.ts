/**
 * `api.slack` (config.ts holds it in the `api` section): Slack interactive approvals.
 *
 *   api:
 *     slack:
 *       signingSecret: ${env:CW_SLACK_SIGNING_SECRET}   # the Slack app's signing secret (a secret: env reference only)
 *       users: { U012AB3CD: alice, U045EF6GH: bob }     # Slack user id -> credwarden subject
 *       responseHosts: [hooks.slack.com]                # where a click's answer (response_url) may be posted
 *
 * A Slack user acts as its subject, with the roles of that subject's `api.tokens` entry, read at
 * click time. A subject must be an `api.tokens` subject; with `api.oidc` set, another subject is
 * accepted at load (it may be an IdP subject, which config cannot list), but such a user's clicks
 * are refused: an OIDC subject's roles come only with its token, and a click carries none.
 */
import { z } from 'zod';

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,31}$/;
const LOOPBACK = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

export const DEFAULT_RESPONSE_HOSTS = ['hooks.slack.com'] as const;

const subject = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._@+-]+$/, 'must be a credwarden subject (letters, digits and . _ @ + -)');

const host = z
  .string()
  .regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/, 'must be a lowercase host name (no scheme, port or path)');

const required = (what: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? `is required: ${what}` : undefined;

export const SlackSchema = z.strictObject({
  signingSecret: z
    .string({ error: required("the Slack app's signing secret, as an env reference") })
    .min(16, 'is too short to be a Slack signing secret'),
  users: z.record(z.string().regex(SLACK_USER_ID, 'must be a Slack user id (U… or W…)'), subject).default({}),
  responseHosts: z
    .array(host)
    .min(1)
    .default([...DEFAULT_RESPONSE_HOSTS]),
});

export type SlackConfig = z.infer<typeof SlackSchema>;

/** The issues of `api.slack.users` against `api.tokens` (see the header), for ApiSchema's superRefine. */
export function slackUserIssues(api: {
  slack?: SlackConfig | undefined;
  tokens: readonly { subject: string }[];
  oidc?: unknown;
}): { path: (string | number)[]; message: string }[] {
  if (!api.slack || api.oidc) return [];
  const subjects = new Set(api.tokens.map((t) => t.subject));
  return Object.entries(api.slack.users)
    .filter(([, s]) => !subjects.has(s))
    .map(([id, s]) => ({
      path: ['slack', 'users', id],
      message: `maps to ${s}, which is not an api.tokens subject: a Slack user acts with its subject's roles`,
    }));
}

/** Whether a click's response_url is one credwarden posts to: https on a listed host, or http on a listed loopback host. */
export function responseUrlAllowed(value: string, hosts: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password || !hosts.includes(url.hostname)) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}
