/**
 * The `drills` section of credwarden.yaml and `schedules.drills`: the ONLY places a drill may plant
 * anything, how long it may take, and where its alerts go.
 *
 *   drills:
 *     aws: { account: "111111111111" }       # one of aws.accounts, with a remediationRoleArn
 *     vault: { cluster: main, namespace: drills, approleMount: approle }
 *     deadlineMinutes: 15                    # a drill not complete by then fails, with its stage
 *     alerts: { page: [], digest: [] }       # empty: the digest sinks of the credential's route, never a page
 *   schedules:
 *     drills: [{ scenario: admin-key, cron: "0 3 * * 1" }]
 *
 * Plants live under fixed names so an operator can scope the drill role to them: AWS users on the
 * IAM path `/credwarden-drill/`, Vault roles and policies named `credwarden-drill-<id>`.
 */
import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

export const DRILL_SCENARIOS = [
  'admin-key',
  'self-escalation',
  'unregistered-secret-id',
  'stale-token',
  'runaway',
] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

/** Which backend each scenario plants in. */
export const SCENARIO_TARGET: Record<DrillScenario, 'aws' | 'vault'> = {
  'admin-key': 'aws',
  'self-escalation': 'aws',
  'unregistered-secret-id': 'vault',
  'stale-token': 'vault',
  runaway: 'vault',
};

const cron = z.string().refine(
  (s) => {
    try {
      CronExpressionParser.parse(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'is not a cron expression' },
);

export const DrillScheduleSchema = z.array(z.strictObject({ scenario: z.enum(DRILL_SCENARIOS), cron }));

const sinkNames = z.array(z.string().min(1)).default([]);

export const DrillsSchema = z.strictObject({
  aws: z
    .strictObject({
      account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'),
      /** The role drills plant with (default: the account's remediationRoleArn). */
      roleArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/, 'must be an IAM role ARN')
        .optional(),
    })
    .optional(),
  vault: z
    .strictObject({
      cluster: z.string().min(1),
      namespace: z.string().default('root'),
      approleMount: z.string().min(1).default('approle'),
      /** The token drills plant with, an env reference (default: the cluster's remediationToken). */
      token: z.string().min(1).optional(),
    })
    .optional(),
  deadlineMinutes: z.number().positive().max(1440).default(15),
  /** How many credentials the runaway drill mints (0: the credential-burst rule's count plus 2). */
  runawayCount: z.number().int().min(0).max(200).default(0),
  alerts: z.strictObject({ page: sinkNames, digest: sinkNames }).prefault({}),
});

export type DrillsConfig = z.infer<typeof DrillsSchema>;
