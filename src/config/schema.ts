/**
 * The shape of credwarden.yaml. Names follow DESIGN.md's config contract; every default is here so
 * the README's configuration reference can be checked against one place.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { AlertsSchema } from '../alerts/config.js';
import { ApiSchema } from '../api/config.js';
import { EvidenceSchema } from '../evidence/config.js';
import { RemediationSchema } from '../remediation/config.js';

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
const roleArn = z
  .string()
  .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)');
const url = z.string().regex(/^(https?|rediss?):\/\/.+/, 'must be a URL');
const cron = z.string().refine(
  (s) => {
    // cron-parser pads short expressions ("* * * *" parses as every minute): insist on 5 or 6 fields.
    const fields = s.trim().split(/\s+/).length;
    if (fields < 5 || fields > 6) return false;
    try {
      CronExpressionParser.parse(s, { tz: 'UTC' });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a valid cron expression (5 or 6 fields, UTC)' },
);

export const AwsAccountSchema = z
  .strictObject({
    id: accountId,
    name: z.string().optional(),
    roleArn: roleArn.optional(),
    externalId: z.string().min(2).optional(),
    /** The write role remediation assumes in this account; absent: no remediation in this account. */
    remediationRoleArn: roleArn.optional(),
  })
  .refine((a) => !a.remediationRoleArn || a.remediationRoleArn.split(':')[4] === a.id, {
    message:
      'must be a role in this same account (its ARN names another account): remediation acts only where it was detected',
    path: ['remediationRoleArn'],
  });

export const AwsSchema = z.strictObject({
  endpoint: url.optional(),
  region: z.string().default('us-east-1'),
  /** Omitted: the home account of the default credential chain. */
  accounts: z.array(AwsAccountSchema).min(1).optional(),
  /** In-flight IAM calls per account. IAM publishes no rate; AWS advises spreading calls. */
  maxConcurrency: z.number().int().min(1).max(32).default(4),
  maxAttempts: z.number().int().min(1).max(10).default(5),
  assumeRoleSessionSeconds: z.number().int().min(900).max(43_200).default(3600),
  credentialReportTimeoutSeconds: z.number().int().min(5).max(900).default(120),
  /** Per HTTP attempt; a hung endpoint fails the attempt (and is retried) instead of hanging a worker. */
  requestTimeoutMs: z.number().int().min(1000).max(300_000).default(30_000),
});

export const VaultClusterSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes'),
  address: url,
  token: z.string().min(1),
  /** The token remediation acts with (revoke, destroy); absent: no remediation on this cluster. */
  remediationToken: z.string().min(1).optional(),
  namespaces: z.union([z.array(z.string()).min(1), z.strictObject({ discover: z.literal(true) })]).default(['root']),
  approleMounts: z.array(z.string()).default(['approle']),
  leasePrefixes: z
    .array(
      z
        .string()
        .min(1)
        .refine((p) => !/^\/*auth\//.test(p), {
          message: 'token leases (auth/…) are the tokens themselves: inventory them as tokens',
        }),
    )
    .default([]),
  awsMounts: z.array(z.string()).default([]),
  tls: z.strictObject({ caFile: z.string().optional(), rejectUnauthorized: z.boolean().default(true) }).optional(),
  requestTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  concurrency: z.number().int().min(1).max(256).default(16),
});

export const ConfigSchema = z.strictObject({
  redis: z
    .strictObject({
      url: url.default('redis://127.0.0.1:6379'),
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -')
        .default('credwarden'),
    })
    .default({ url: 'redis://127.0.0.1:6379', prefix: 'credwarden' }),
  aws: AwsSchema.optional(),
  vault: z.array(VaultClusterSchema).default([]),
  registry: z.string().default('agents.yaml'),
  /** Policy files or directories; absent: the default packs shipped with credwarden. */
  policies: z.array(z.string()).min(1).optional(),
  schedules: z.strictObject({ discover: cron.default('*/15 * * * *') }).default({ discover: '*/15 * * * *' }),
  scan: z
    .strictObject({
      /** After this, units that have not reported are marked timed out and the scan is finalized as partial. */
      timeoutSeconds: z.number().int().min(10).max(86_400).default(1800),
    })
    .default({ timeoutSeconds: 1800 }),
  worker: z
    .strictObject({
      discoverConcurrency: z.number().int().min(1).max(64).default(4),
      shutdownTimeoutSeconds: z.number().int().min(1).max(600).default(30),
      /**
       * The lease a worker holds on a job and on the inventory/evaluation locks, renewed at a third
       * of it while the holder works: a SIGKILLed worker frees its job and its locks after this.
       */
      leaseSeconds: z.number().int().min(2).max(600).default(30),
      /** How often a worker looks for jobs whose holder died (BullMQ stalledInterval). */
      stalledCheckSeconds: z.number().int().min(1).max(600).default(30),
      /** A job whose worker died more than this many times fails for good (BullMQ maxStalledCount). */
      maxStalledCount: z.number().int().min(0).max(100).default(3),
    })
    .prefault({}),
  audit: z
    .strictObject({
      /** Absent: `.cw/<redis.prefix>.audit.jsonl` beside the config, so two prefixes never share a file. */
      file: z.string().optional(),
      hmacKey: z.string().min(16, 'must be at least 16 characters').optional(),
    })
    .prefault({}),
  evaluation: z
    .strictObject({
      /**
       * An evaluation that would resolve at least this share of the open findings (and at least
       * minResolved of them) while their credentials are still in the inventory is held for a person.
       */
      hold: z
        .strictObject({
          resolveRatio: z.number().gt(0).max(1).default(0.5),
          minResolved: z.number().int().min(1).default(10),
        })
        .prefault({}),
    })
    .prefault({}),
  log: z
    .strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info') })
    .optional(),
  // prefault: an absent section is parsed as {} so every alerting default applies.
  alerts: AlertsSchema.prefault({}),
  remediation: RemediationSchema.prefault({}),
  api: ApiSchema.prefault({}),
  evidence: EvidenceSchema.prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type AwsConfig = z.infer<typeof AwsSchema>;
export type AwsAccountConfig = z.infer<typeof AwsAccountSchema>;
export type VaultClusterConfig = z.infer<typeof VaultClusterSchema>;

/** Keys whose raw text must be an `${env:NAME}` reference: a secret never sits in a config file. */
export const SECRET_KEY_PATHS: ReadonlyArray<(value: unknown) => (string | number)[][]> = [
  (v) => {
    const vault = (v as { vault?: unknown[] }).vault;
    return Array.isArray(vault) ? vault.map((_c, i) => ['vault', i, 'token']) : [];
  },
  (v) => {
    const vault = (v as { vault?: unknown[] }).vault;
    return Array.isArray(vault)
      ? vault.flatMap((c, i) =>
          c && typeof c === 'object' && 'remediationToken' in c ? [['vault', i, 'remediationToken']] : [],
        )
      : [];
  },
  () => [['audit', 'hmacKey']],
  () => [['api', 'slack', 'signingSecret']],
  (v) => {
    const sinks = (v as { alerts?: { sinks?: Record<string, unknown>[] } }).alerts?.sinks;
    if (!Array.isArray(sinks)) return [];
    return sinks.flatMap((s, i) => [
      ...(s && 'routingKey' in s ? [['alerts', 'sinks', i, 'routingKey']] : []),
      ...(s && 'webhookUrl' in s ? [['alerts', 'sinks', i, 'webhookUrl']] : []),
      ...(s && Array.isArray(s.secrets)
        ? s.secrets.map((_x: unknown, j: number) => ['alerts', 'sinks', i, 'secrets', j])
        : []),
    ]);
  },
];
