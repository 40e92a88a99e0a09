/**
 * The `alerts` section of credwarden.yaml: sinks, routes, paging classes, inhibition and silences.
 *
 *   alerts:
 *     sinks: [{ name: pd, type: pagerduty, routingKey: "${env:CW_PD_KEY}" }, { name: sec, type: slack, webhookUrl: "${env:CW_SLACK}" }]
 *     routes:                       # first match wins; `continue: true` keeps looking
 *       - { match: { teams: [payments] }, page: [pd], digest: [sec] }
 *       - { page: [pd], digest: [sec] }            # catch-all
 *     paging: [critical-privilege, privilege-drift, unregistered-admin, runaway]   # the defaults
 *     inhibit: [{ parent: { detectors: [admin] }, child: { detectors: [privesc] }, equal: credential }]
 *     silences: [{ id, matchers: { agents: [bot] }, owner, reason, expires }]
 *
 * Paging classes (items.ts `pagingClass`): `critical-privilege` (a critical over-privilege finding
 * on an active credential), `privilege-drift` (an agent credential gained an escalation-capable
 * permission), `unregistered-admin` (an unregistered agent credential with admin power), `runaway`
 * (a runaway-agent finding on an active credential: detector "runaway", i.e. credential-burst or
 * agent-grant-surge). All are on by default; `paging` lists the ones that page.
 */
import { z } from 'zod';
import { SinkConfigSchema } from './sinks/config.js';

const globs = z.array(z.string().min(1)).min(1);

export const PAGING_CLASSES = ['critical-privilege', 'privilege-drift', 'unregistered-admin', 'runaway'] as const;
export type PagingClass = (typeof PAGING_CLASSES)[number];

const Matcher = z.strictObject({
  severities: z
    .array(z.enum(['critical', 'high', 'medium', 'low', 'info']))
    .min(1)
    .optional(),
  teams: globs.optional(),
  agents: globs.optional(),
  environments: globs.optional(),
  policies: globs.optional(),
});

const Route = z.strictObject({
  match: Matcher.default({}),
  page: z.array(z.string()).default([]),
  digest: z.array(z.string()).default([]),
  continue: z.boolean().default(false),
});

const Selector = z
  .strictObject({ policies: globs.optional(), detectors: globs.optional() })
  .refine((s) => s.policies || s.detectors, { message: 'needs policies or detectors' });

const Inhibit = z.strictObject({
  parent: Selector,
  child: Selector,
  equal: z.enum(['credential', 'agent']).default('credential'),
});

/** One silence: config's `alerts.silences[]`, and the runtime ones (silence-store.ts) validate with it. */
export const SilenceSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$/),
  matchers: z
    .strictObject({
      credentials: globs.optional(),
      agents: globs.optional(),
      policies: globs.optional(),
      teams: globs.optional(),
    })
    .refine((m) => Object.keys(m).length > 0, {
      message: 'needs at least one of credentials, agents, policies, teams',
    }),
  owner: z.string().min(1),
  reason: z.string().min(1),
  expires: z.iso.datetime({ offset: true }).or(z.iso.date()),
});

/** Defaults: admin mutes what admin implies; an unregistered/ownerless credential mutes its staleness. */
export const DEFAULT_INHIBIT: z.input<typeof Inhibit>[] = [
  {
    parent: { detectors: ['admin', 'vault-root'] },
    child: {
      detectors: [
        'privesc',
        'credential-exposure',
        'resource-exposure',
        'service-wildcard',
        'not-action',
        'vault-glob',
        'vault-sudo',
        'vault-sensitive-write',
        'vault-token-create-sudo',
        'vault-secret-id-mint',
      ],
    },
    equal: 'credential',
  },
  {
    parent: { detectors: ['unregistered', 'no-owner'] },
    child: { detectors: ['unused', 'never-used', 'age', 'rotation', 'inactive'] },
    equal: 'credential',
  },
];

export const AlertsSchema = z
  .strictObject({
    sinks: z.array(SinkConfigSchema).default([]),
    routes: z.array(Route).default([]),
    paging: z.array(z.enum(PAGING_CLASSES)).default([...PAGING_CLASSES]),
    inhibit: z.array(Inhibit).default(DEFAULT_INHIBIT as never),
    silences: z.array(SilenceSchema).default([]),
    /** Where "Runbook" links point; `{policy}` and `{fingerprint}` are filled in. */
    runbookUrl: z.string().url().optional(),
    /** Delivery retries (429, 5xx, network): exponential backoff from backoffMs. */
    delivery: z
      .strictObject({
        attempts: z.number().int().min(1).max(20).default(6),
        backoffMs: z.number().int().min(1).max(600_000).default(2000),
      })
      .prefault({}),
  })
  .superRefine((a, ctx) => {
    const names = new Set<string>();
    a.sinks.forEach((s, i) => {
      if (names.has(s.name))
        ctx.addIssue({ code: 'custom', path: ['sinks', i, 'name'], message: `duplicate sink name "${s.name}"` });
      names.add(s.name);
    });
    a.routes.forEach((r, i) => {
      for (const key of ['page', 'digest'] as const) {
        r[key].forEach((n, j) => {
          if (!names.has(n))
            ctx.addIssue({
              code: 'custom',
              path: ['routes', i, key, j],
              message: `no sink named "${n}" (sinks: ${[...names].join(', ') || 'none'})`,
            });
        });
      }
    });
  });

export type AlertsConfig = z.output<typeof AlertsSchema>;
export type AlertRoute = AlertsConfig['routes'][number];
export type InhibitRule = AlertsConfig['inhibit'][number];
export type SilenceRule = AlertsConfig['silences'][number];
