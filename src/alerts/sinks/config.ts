/**
 * Sink configuration: one entry of `alerts.sinks` in credwarden.yaml, discriminated on `type`.
 *
 * Secrets (`routingKey`, `webhookUrl`, `secrets`; listed in SECRET_SINK_FIELDS) enter config only as
 * `${env:NAME}` references; the config loader enforces that and resolves them before this schema
 * runs, so here they are plain strings. Validation messages never include a value, because the
 * value may be a secret.
 *
 * Defaults: PagerDuty's enqueue endpoint, finding severity → PD severity (high → error, medium →
 * warning), source "credwarden", 10 s per HTTP attempt, 60 notifications per 60 s per sink (the
 * delivery pipeline enforces the rate; Slack asks incoming webhooks for about one message a second).
 */
import { z } from 'zod';
import { isValidWebhookSecret, MIN_SECRET_BYTES } from '../sign.js';

export const SECRET_SINK_FIELDS = ['routingKey', 'webhookUrl', 'secrets'] as const;

export const PD_SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
export type PdSeverity = (typeof PD_SEVERITIES)[number];

export const PD_ENQUEUE_URL = 'https://events.pagerduty.com/v2/enqueue';

const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes');
const httpUrl = z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http(s) URL');
const timeoutMs = z.number().int().min(1000).max(120_000).default(10_000);
const rateLimit = z
  .strictObject({
    max: z.number().int().min(1).max(10_000),
    perSeconds: z.number().int().min(1).max(86_400),
  })
  .default({ max: 60, perSeconds: 60 });

const pdSeverity = z.enum(PD_SEVERITIES);
// prefault: an omitted or partial map still gets every key's default (zod 4 returns a `.default`
// value as-is, without running the inner defaults).
const severityMap = z
  .strictObject({
    critical: pdSeverity.default('critical'),
    high: pdSeverity.default('error'),
    medium: pdSeverity.default('warning'),
    low: pdSeverity.default('info'),
    info: pdSeverity.default('info'),
  })
  .prefault({});

export const PagerDutySinkSchema = z.strictObject({
  name,
  type: z.literal('pagerduty'),
  /** The Events API v2 integration key; PagerDuty's docs: 32 characters. */
  routingKey: z.string().regex(/^[A-Za-z0-9]{32}$/, 'must be a 32-character Events API v2 integration key'),
  url: httpUrl.default(PD_ENQUEUE_URL),
  severityMap,
  source: z.string().min(1).max(255).default('credwarden'),
  /** May contain {policy} and {fingerprint}; filled URL-encoded per alert. */
  runbookUrl: httpUrl.optional(),
  timeoutMs,
  rateLimit,
});

export const SlackSinkSchema = z.strictObject({
  name,
  type: z.literal('slack'),
  /** The incoming-webhook URL. Its path is the credential, so it is a secret. */
  webhookUrl: httpUrl,
  timeoutMs,
  rateLimit,
});

const webhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/=]+$/, 'must be "whsec_" followed by base64')
  .refine(isValidWebhookSecret, {
    message: `must be "whsec_" followed by canonical base64 that decodes to at least ${MIN_SECRET_BYTES} bytes`,
  });

export const WebhookSinkSchema = z.strictObject({
  name,
  type: z.literal('webhook'),
  url: httpUrl,
  /** Every secret signs every delivery: list the new one beside the old during a rotation. */
  secrets: z.array(webhookSecret).min(1, 'needs at least one whsec_ secret'),
  timeoutMs,
  rateLimit,
});

export const SinkConfigSchema = z.discriminatedUnion('type', [PagerDutySinkSchema, SlackSinkSchema, WebhookSinkSchema]);

export type SinkConfig = z.infer<typeof SinkConfigSchema>;
export type PagerDutySinkConfig = z.infer<typeof PagerDutySinkSchema>;
export type SlackSinkConfig = z.infer<typeof SlackSinkSchema>;
export type WebhookSinkConfig = z.infer<typeof WebhookSinkSchema>;
