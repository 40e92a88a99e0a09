/**
 * The `remediation` section of credwarden.yaml: every guardrail, on by default, with safe
 * defaults (DESIGN "Contracts"). Nothing acts unless `mode: enforce` here AND `mode: enforce` on
 * the policy.
 *
 *   remediation:
 *     mode: dry-run                                   # or enforce
 *     caps: { perPolicyPerRun: 10, percentPerRun: 25 }  # exceeded: nothing of that policy's batch runs
 *     rate: { max: 20, perHours: 1 }                  # across all workers
 *     protect: { tags: { credwarden-protect: "true" }, breakGlassTags: { break-glass: "true" },
 *                agents: [], accounts: [], credentials: [] }
 *     allow: { agents: [], accounts: [], credentials: [] }   # non-empty: only what they match
 *     minAgeHours: 24
 *     windows: [{ cron: "* 9-17 * * 1-5", tz: Europe/Berlin }]   # empty: always open
 *     freezes: [{ from: "2026-12-20", to: "2027-01-04", tz: UTC, reason: year-end freeze }]
 *     cooldownHours: 24
 *     breaker: { errorRate: 0.5, minActions: 4, windowHours: 1 }
 *     approvals: { required: [{ actions: [delete-key, quarantine] }, { severities: [critical] }],
 *                  approvers: 2, expiresHours: 24 }
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

const globs = z.array(z.string().min(1)).default([]);
const tagMap = z.record(z.string().min(1), z.string());

const validTz = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
const tz = z.string().refine(validTz, { message: 'is not an IANA time zone (e.g. Europe/Berlin, UTC)' });

const WindowSchema = z.strictObject({ cron: z.string().min(1), tz: tz.default('UTC') }).superRefine((w, ctx) => {
  const fields = w.cron.trim().split(/\s+/).length;
  if (fields !== 5) {
    ctx.addIssue({ code: 'custom', path: ['cron'], message: 'must have 5 fields (minute hour day month weekday)' });
    return;
  }
  try {
    CronExpressionParser.parse(w.cron, { tz: w.tz });
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      path: ['cron'],
      message: `is not a valid cron expression: ${(err as Error).message}`,
    });
  }
});

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD');
const FreezeSchema = z
  .strictObject({ from: day, to: day, tz: tz.default('UTC'), reason: z.string().default('change freeze') })
  .refine((f) => f.from <= f.to, { message: '`to` is before `from`', path: ['to'] });

const ApprovalRule = z
  .strictObject({
    actions: globs.optional(),
    severities: z.array(z.enum(['critical', 'high', 'medium', 'low', 'info'])).optional(),
    environments: globs.optional(),
    policies: globs.optional(),
  })
  .refine((r) => Object.values(r).some((v) => Array.isArray(v) && v.length > 0), {
    message: 'an approval rule needs at least one of actions, severities, environments, policies',
  });

export const RemediationSchema = z.strictObject({
  mode: z.enum(['dry-run', 'enforce']).default('dry-run'),
  caps: z
    .strictObject({
      perPolicyPerRun: z.number().int().min(0).default(10),
      percentPerRun: z.number().min(0).max(100).default(25),
      /**
       * The percentage cap applies only once a policy matched at least this many credentials, so
       * one finding out of two is not "50 %". Below it, perPolicyPerRun alone caps the batch.
       */
      percentMinMatched: z.number().int().min(1).default(10),
    })
    .prefault({}),
  rate: z
    .strictObject({ max: z.number().int().min(0).default(20), perHours: z.number().positive().max(720).default(1) })
    .prefault({}),
  protect: z
    .strictObject({
      tags: tagMap.default({ 'credwarden-protect': 'true' }),
      breakGlassTags: tagMap.default({ 'break-glass': 'true' }),
      agents: globs,
      accounts: globs,
      credentials: globs,
    })
    .prefault({}),
  allow: z.strictObject({ agents: globs, accounts: globs, credentials: globs }).prefault({}),
  minAgeHours: z.number().min(0).default(24),
  windows: z.array(WindowSchema).default([]),
  freezes: z.array(FreezeSchema).default([]),
  cooldownHours: z.number().min(0).default(24),
  breaker: z
    .strictObject({
      errorRate: z.number().gt(0).max(1).default(0.5),
      minActions: z.number().int().min(1).default(4),
      windowHours: z.number().positive().default(1),
    })
    .prefault({}),
  approvals: z
    .strictObject({
      required: z
        .array(ApprovalRule)
        .default([{ actions: ['delete-key', 'quarantine'] }, { severities: ['critical'] }]),
      approvers: z.number().int().min(1).max(5).default(2),
      expiresHours: z.number().positive().max(720).default(24),
    })
    .prefault({}),
  /** Remediation jobs one worker runs at once. */
  concurrency: z.number().int().min(1).max(16).default(2),
  /** How long `scan --once` waits for the actions its scan started. */
  waitSeconds: z.number().int().min(1).max(3600).default(300),
});

export type RemediationConfig = z.infer<typeof RemediationSchema>;
