/**
 * The `evidence` section of credwarden.yaml (DESIGN "Contracts"):
 *
 *   evidence:
 *     signingKey: keys/evidence.key          # an Ed25519 private key (PKCS#8 PEM): a path beside
 *                                            # the config, or "${env:NAME}" holding the PEM itself
 *     checkpoints:
 *       schedule: "0 * * * *"                # cron (UTC); hourly by default
 *       sinks:                               # where signed checkpoints go besides the audit log
 *         - { type: file, path: /var/lib/credwarden-anchor/checkpoints.jsonl }   # outside the data directory
 *         - { type: webhook, sink: audit-anchor }   # an alerts.sinks webhook (Standard Webhooks signed)
 *     exports:                               # findings exported on a schedule
 *       - { name: securityhub, format: asff, schedule: "30 * * * *", file: exports/asff.json }
 *       - { name: siem, format: ocsf, schedule: "0,15,30,45 * * * *", sink: siem-hook }
 *     asff:                                  # AWS Security Hub settings of the ASFF export
 *       accountId: "123456789012"            # the Security Hub account: the ProductArn's account and
 *                                            # the AwsAccountId of Vault findings (absent: Vault
 *                                            # findings are left out of ASFF, and counted)
 *       region: us-east-1                    # ProductArn and Resources[].Region (default aws.region)
 *
 * A private key never sits in the config file itself: a value holding PEM text that is not an
 * `${env:NAME}` reference is refused at load (config/load.ts).
 */

import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

const cron = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    if (v.trim().split(/\s+/).length !== 5) {
      ctx.addIssue({ code: 'custom', message: 'must have 5 fields (minute hour day month weekday)' });
      return;
    }
    try {
      CronExpressionParser.parse(v, { tz: 'UTC' });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a valid cron expression: ${(err as Error).message}` });
    }
  });

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be letters, digits, dot, dash or underscore');

const FileSink = z.strictObject({ type: z.literal('file'), path: z.string().min(1) });
const WebhookSink = z.strictObject({ type: z.literal('webhook'), sink: name });

export const EXPORT_FORMATS = ['ocsf', 'asff', 'csv', 'sarif'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const Export = z
  .strictObject({
    name,
    format: z.enum(EXPORT_FORMATS),
    schedule: cron,
    file: z.string().min(1).optional(),
    sink: name.optional(),
  })
  .refine((e) => (e.file ? 1 : 0) + (e.sink ? 1 : 0) === 1, { message: 'needs exactly one of file or sink' });

export const EvidenceSchema = z
  .strictObject({
    signingKey: z.string().min(1).optional(),
    checkpoints: z
      .strictObject({
        schedule: cron.default('0 * * * *'),
        sinks: z.array(z.discriminatedUnion('type', [FileSink, WebhookSink])).default([]),
      })
      .prefault({}),
    exports: z.array(Export).default([]),
    asff: z
      .strictObject({
        accountId: z
          .string()
          .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
          .optional(),
        region: z
          .string()
          .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region name (e.g. us-east-1)')
          .optional(),
      })
      .optional(),
  })
  .superRefine((e, ctx) => {
    const seen = new Set<string>();
    e.exports.forEach((x, i) => {
      if (seen.has(x.name))
        ctx.addIssue({ code: 'custom', path: ['exports', i, 'name'], message: `repeats export "${x.name}"` });
      seen.add(x.name);
    });
  });

export type EvidenceConfig = z.infer<typeof EvidenceSchema>;
