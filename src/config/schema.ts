/**
 * The shape of credwarden.yaml. Names follow DESIGN.md's config contract; every default is here so
 * the README's configuration reference can be checked against one place.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { AlertsSchema } from '../alerts/config.js';
import { ApiSchema } from '../api/config.js';
import { DrillScheduleSchema, DrillsSchema, SCENARIO_TARGET } from '../drill/config.js';
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

const ConfigBase = z.strictObject({
  redis: z
    .strictObject({
      url: url.default('redis://127.0.0.1:6379'),
      prefix: z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'must be letters, digits, _ or -')
        .default('credwarden'),
      /** A Redis Cluster: `url` is one seed node, `nodes` more; keys get hash tags (queue/prefix.ts). */
      cluster: z.boolean().default(false),
      nodes: z
        .array(z.string().regex(/^rediss?:\/\/.+/, 'must be a redis:// or rediss:// URL'))
        .min(1)
        .optional(),
    })
    .refine((r) => r.cluster || !r.nodes, {
      message: 'needs cluster: true (seed nodes are for a Redis Cluster)',
      path: ['nodes'],
    })
    .default({ url: 'redis://127.0.0.1:6379', prefix: 'credwarden', cluster: false }),
  aws: AwsSchema.optional(),
  vault: z.array(VaultClusterSchema).default([]),
  registry: z.string().default('agents.yaml'),
  /** Policy files or directories; absent: the default packs shipped with credwarden. */
  policies: z.array(z.string()).min(1).optional(),
  schedules: z
    .strictObject({ discover: cron.default('*/15 * * * *'), drills: DrillScheduleSchema.default([]) })
    .prefault({}),
  /** Where drills may plant (drill/config.ts); absent: `drill run` refuses, naming this key. */
  drills: DrillsSchema.optional(),
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

export const ConfigSchema = ConfigBase.superRefine(drillProblems);

export type Config = z.infer<typeof ConfigSchema>;

/** `drills` names places and sinks that must exist elsewhere in the config. */
function drillProblems(c: z.infer<typeof ConfigBase>, ctx: z.RefinementCtx): void {
  const d = c.drills;
  if (d?.aws && !(c.aws?.accounts ?? []).some((a) => a.id === d.aws!.account))
    ctx.addIssue({
      code: 'custom',
      path: ['drills', 'aws', 'account'],
      message: `${d.aws.account} is not in aws.accounts`,
    });
  if (d?.vault && !c.vault.some((v) => v.name === d.vault!.cluster))
    ctx.addIssue({
      code: 'custom',
      path: ['drills', 'vault', 'cluster'],
      message: `no vault cluster named "${d.vault.cluster}"`,
    });
  const sinks = new Set(c.alerts.sinks.map((s) => s.name));
  for (const key of ['page', 'digest'] as const)
    (d?.alerts[key] ?? []).forEach((n, i) => {
      if (!sinks.has(n))
        ctx.addIssue({ code: 'custom', path: ['drills', 'alerts', key, i], message: `no sink named "${n}"` });
    });
  c.schedules.drills.forEach((s, i) => {
    if (c.schedules.drills.findIndex((x) => x.scenario === s.scenario) < i)
      ctx.addIssue({
        code: 'custom',
        path: ['schedules', 'drills', i, 'scenario'],
        message: `${s.scenario} is scheduled twice`,
      });
    if (!d)
      ctx.addIssue({
        code: 'custom',
        path: ['schedules', 'drills', i],
        message: 'needs a drills section naming where drills plant',
      });
    else if (!d[SCENARIO_TARGET[s.scenario]])
      ctx.addIssue({
        code: 'custom',
        path: ['schedules', 'drills', i, 'scenario'],
        message: `${s.scenario} plants in ${SCENARIO_TARGET[s.scenario]}: needs drills.${SCENARIO_TARGET[s.scenario]}`,
      });
  });
}
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
  (v) => {
    const vault = (v as { drills?: { vault?: Record<string, unknown> } }).drills?.vault;
    return vault && 'token' in vault ? [['drills', 'vault', 'token']] : [];
  },
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
