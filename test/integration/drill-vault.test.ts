/**
 * Vault drills end to end against a REAL OpenBao, through the real queues and workers: the drill
 * plants in the one drill cluster and namespace only, the normal pipeline detects, alerts (a
 * digest with the drill label, never a page) and remediates under the real guardrails, and the
 * drill always removes what it planted (policy, role, secret IDs, token). A drill cluster with no
 * token to plant with fails before anything is planted.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DrillRunner } from '../../src/drill/runner.js';
import type { DrillRecord } from '../../src/drill/store.js';
import { CwError, ErrorCodes } from '../../src/errors.js';
import { writeTestFiles } from '../support/app.js';
import { type DrillHarness, drillAlerts, expectDrillRecorded, startDrillHarness } from '../support/drills.js';
import { useOpenBao } from '../support/openbao.js';
import { type PdReceived, startPagerDutyReceiver } from '../support/receivers/pagerduty.js';
import type { Receiver } from '../support/receivers/server.js';
import { startWebhookReceiver, type WebhookReceived } from '../support/receivers/webhook.js';
import { useRedis } from '../support/redis.js';

const bao = useOpenBao();
const r = useRedis('drill-vault');
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const env = (n: string) => ['$', `{env:${n}}`].join('');
const SOURCE = 'main/root';

let pd: Receiver<PdReceived>;
let hook: Receiver<WebhookReceived>;

// Only unregistered (agent-looking) credentials: the root token the test scans with is never a target.
const POLICIES = `policies:
  - name: drill-test-unregistered
    description: an agent secret ID no registry entry claims
    resource: { kinds: [vault-approle-secret-id], agents: [unregistered] }
    rules: [{ type: unregistered-agent }]
    severity: high
    mode: enforce
    remediation: [destroy-secret-id]
  - name: drill-test-never-expires
    description: an agent token that renews forever
    resource: { kinds: [vault-token], agents: [unregistered] }
    rules: [{ type: never-expires }]
    severity: high
    mode: enforce
    remediation: [revoke-token]
  - name: drill-test-burst
    description: a burst of secret IDs for one principal
    resource: { kinds: [vault-approle-secret-id], agents: [unregistered] }
    rules: [{ type: credential-burst, count: 3, windowMinutes: 60 }]
    severity: high
    mode: enforce
    remediation: [destroy-secret-id]
`;

type Harness = DrillHarness;

const drills = {
  vault: { cluster: 'main', namespace: 'root', approleMount: 'approle' },
  deadlineMinutes: 1.5,
  runawayCount: 4,
};

const cluster = (name: string, remediation: boolean) => ({
  name,
  address: bao.address,
  token: env('CW_DRILL_VAULT_TOKEN'),
  ...(remediation ? { remediationToken: env('CW_DRILL_VAULT_REMEDIATION_TOKEN') } : {}),
  namespaces: ['root'],
  approleMounts: ['approle'],
  leasePrefixes: [],
  awsMounts: [],
  requestTimeoutMs: 5000,
});

async function harness(
  remediation: Record<string, unknown>,
  drillsCfg: Record<string, unknown>,
  clusters = [cluster('main', true)],
): Promise<Harness> {
  process.env.CW_DRILL_PD = randomBytes(16).toString('hex');
  process.env.CW_DRILL_HOOK = WEBHOOK_SECRET;
  process.env.CW_DRILL_VAULT_TOKEN = bao.rootToken;
  process.env.CW_DRILL_VAULT_REMEDIATION_TOKEN = bao.rootToken;
  const files = writeTestFiles(
    {
      redis: { prefix: `${r.prefix}-${randomBytes(3).toString('hex')}` },
      vault: clusters,
      policies: ['policies.yaml'],
      remediation: {
        cooldownHours: 0,
        caps: { perPolicyPerRun: 100, percentPerRun: 100 },
        rate: { max: 1000, perHours: 1 },
        ...remediation,
      },
      alerts: drillAlerts(pd.url, hook.url),
      drills: drillsCfg,
    },
    { agents: [], unregistered: { vault: { meta: ['agent'], displayNamePatterns: ['*agent*'], policyPatterns: [] } } },
  );
  return startDrillHarness(files, POLICIES);
}

const status = async (method: string, path: string, body?: unknown) =>
  (await bao.request(method, path, { body })).status;
const policyNames = async (): Promise<string[]> => (await bao.call('GET', 'sys/policies/acl?list=true')).data.keys;
const roleNames = async (): Promise<string[]> =>
  (await bao.request('GET', 'auth/approle/role?list=true')).json?.data?.keys ?? [];
const secretIds = async (role: string): Promise<string[]> =>
  (await bao.request('GET', `auth/approle/role/${role}/secret-id?list=true`)).json?.data?.keys ?? [];
const accessors = async (): Promise<string[]> => (await bao.call('GET', 'auth/token/accessors?list=true')).data.keys;

/** What OpenBao holds with the drill's name in it: nothing, once a drill has cleaned up. */
async function leftovers(rec: DrillRecord): Promise<string[]> {
  const out: string[] = [];
  const name = `credwarden-${rec.id}`;
  if ((await status('GET', `sys/policies/acl/${name}`)) !== 404) out.push(`policy ${name}`);
  if ((await status('GET', `auth/approle/role/${name}`)) !== 404) out.push(`role ${name}`);
  for (const s of await secretIds(name)) out.push(`secret ID ${s}`);
  for (const p of rec.planted.filter((x) => x.kind === 'vault-token' && x.id !== '*'))
    if ((await status('POST', 'auth/token/lookup-accessor', { accessor: p.id })) === 200) out.push(`token ${p.id}`);
  for (const p of await policyNames()) if (p.includes(rec.id)) out.push(`policy ${p}`);
  for (const x of await roleNames()) if (x.includes(rec.id)) out.push(`role ${x}`);
  return out;
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/**
 * Until the pipeline is done with the drill's credentials: every plan on them that may run has a
 * result, and no notification has been delivered for half a second. The drill completes at the
 * first remediation, so others (a burst has a plan per secret ID and policy) may still settle after
 * its cleanup; what they send counts too.
 */
async function settled(h: Harness, creds: readonly string[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const events = await h.app.audit.read(1);
    const open = new Set<string>();
    for (const e of events.filter((x) => x.type === 'action.planned' && creds.includes(x.subject)))
      if (e.data.decision === 'allow' && e.data.state !== 'awaiting-approval') open.add(String(e.data.planId));
    for (const e of events.filter((x) => x.type === 'action.result')) open.delete(String(e.data.planId));
    if (open.size === 0) break;
    if (Date.now() > deadline) throw new Error(`plans still open on the drill's credentials: ${[...open].join(', ')}`);
    await sleep(100);
  }
  let seen = -1;
  while (seen !== pd.requests.length + hook.requests.length && Date.now() < deadline) {
    seen = pd.requests.length + hook.requests.length;
    await sleep(500);
  }
}

beforeAll(async () => {
  [pd, hook] = await Promise.all([startPagerDutyReceiver(), startWebhookReceiver({ secrets: [WEBHOOK_SECRET] })]);
  await bao.enableAppRole({ path: 'approle' });
}, 60_000);

afterAll(async () => {
  await Promise.all([pd?.close(), hook?.close()]);
});

async function run(h: Harness, scenario: DrillRecord['scenario']): Promise<DrillRecord> {
  return new DrillRunner(h.app, h.app.drillPlanters).run({
    scenario,
    trigger: 'cli',
    by: 'user:drill-test',
    queues: h.queues,
    pollMs: 100,
    blockGraceMs: 1000,
  });
}

const SCENARIOS: {
  scenario: DrillRecord['scenario'];
  /** The policy whose finding is the detection (its rule has one of the scenario's detectors). */
  policy: string;
  action: string;
  /** The kinds planted, with how many of each. */
  planted: Record<string, number>;
  credentialKind: string;
}[] = [
  {
    scenario: 'unregistered-secret-id',
    policy: 'drill-test-unregistered',
    action: 'destroy-secret-id',
    planted: { 'vault-policy': 1, 'vault-approle-role': 2, 'vault-secret-id': 1 },
    credentialKind: 'vault-secret-id',
  },
  {
    scenario: 'stale-token',
    policy: 'drill-test-never-expires',
    action: 'revoke-token',
    planted: { 'vault-policy': 1, 'vault-token': 2 },
    credentialKind: 'vault-token',
  },
  {
    scenario: 'runaway',
    policy: 'drill-test-burst',
    action: 'destroy-secret-id',
    planted: { 'vault-policy': 1, 'vault-approle-role': 2, 'vault-secret-id': 4 },
    credentialKind: 'vault-secret-id',
  },
];

describe('Vault drills through the real pipeline', () => {
  for (const s of SCENARIOS)
    it(`${s.scenario}: detected, alerted as a drill digest (never a page), remediated, cleaned up`, async () => {
      const h = await harness({ mode: 'enforce', minAgeHours: 0, approvals: { required: [] } }, drills);
      try {
        const pdBefore = pd.requests.length;
        const hookBefore = hook.requests.length;
        const rec = await run(h, s.scenario);
        expect(rec.status, `drill ${rec.id} ${rec.stage}: ${rec.reason}`).toBe('passed');
        expect(rec.reason).toBeNull();
        expect(rec.stage).toBe('done');
        expect(rec.target).toEqual({ sourceType: 'vault', source: SOURCE });
        // What was planted: the intent and the planted record of each, by the drill's name.
        const kinds: Record<string, number> = {};
        for (const p of rec.planted) kinds[p.kind] = (kinds[p.kind] ?? 0) + 1;
        expect(kinds).toEqual(s.planted);
        for (const p of rec.planted) expect(p.source).toBe(SOURCE);
        for (const p of rec.planted.filter((x) => x.kind === 'vault-policy' || x.kind === 'vault-approle-role'))
          expect(p.id).toBe(`credwarden-${rec.id}`);
        const creds = rec.planted
          .filter((p) => p.kind === s.credentialKind && p.id !== '*')
          .map((p) => p.credentialId!);
        expect(creds.length).toBe(s.planted[s.credentialKind]! - (s.credentialKind === 'vault-token' ? 1 : 0));
        // Times: measured from the risky state, in pipeline order.
        expect(rec.times.detectMs).toBeGreaterThanOrEqual(0);
        expect(rec.times.alertMs).toBeGreaterThanOrEqual(rec.times.detectMs!);
        expect(rec.times.remediateMs).toBeGreaterThanOrEqual(0);
        expect(rec.remediation).toMatchObject({ action: s.action, outcome: 'done' });
        expect(rec.detection?.policy).toBe(s.policy);
        expect(creds.some((c) => rec.detection!.fingerprint.includes(c))).toBe(true);
        // The alert: a digest on the webhook, labelled; PagerDuty heard nothing although the route pages.
        expect(rec.alert).toMatchObject({ sink: 'hook', mode: 'digest' });
        expect(pd.requests.slice(pdBefore).map((q) => q.json)).toEqual([]);
        const items = hook.requests
          .slice(hookBefore)
          .flatMap((q) => (q.json as { items?: Record<string, unknown>[] }).items ?? []);
        const drillItems = items.filter((i) => creds.includes(String(i.credentialId)));
        expect(drillItems.length).toBeGreaterThan(0);
        for (const i of drillItems) {
          expect(i.drill).toBe(rec.id);
          expect(String(i.title)).toMatch(/^\[drill\] /);
        }
        // Cleanup: OpenBao holds none of it.
        expect(rec.cleanup?.failed).toEqual([]);
        expect(rec.cleanup?.removed).toEqual(expect.arrayContaining([`vault policy credwarden-${rec.id}`]));
        if (s.scenario !== 'stale-token')
          expect(rec.cleanup?.removed).toEqual(expect.arrayContaining([`vault approle role credwarden-${rec.id}`]));
        expect(await leftovers(rec)).toEqual([]);
        const live = await accessors();
        for (const p of rec.planted.filter((x) => x.kind === 'vault-token')) expect(live).not.toContain(p.id);
        await expectDrillRecorded(h.app, rec);
      } finally {
        await h.close();
      }
    }, 120_000);

  it('after the drill, what the pipeline still sends about its credentials is labelled and never reaches PagerDuty', async () => {
    // The drill completes at the first remediation; the burst's other plans (one per secret ID and
    // policy) and the post-cleanup scan's resolves settle later, and must still be the drill's.
    const h = await harness({ mode: 'enforce', minAgeHours: 0, approvals: { required: [] } }, drills);
    try {
      const pdBefore = pd.requests.length;
      const hookBefore = hook.requests.length;
      const rec = await run(h, 'runaway');
      expect(rec.status, `drill ${rec.id} ${rec.stage}: ${rec.reason}`).toBe('passed');
      const creds = rec.planted.filter((p) => p.kind === 'vault-secret-id').map((p) => p.credentialId!);
      await settled(h, creds);
      expect(pd.requests.slice(pdBefore).map((q) => q.json)).toEqual([]);
      const unlabelled = hook.requests
        .slice(hookBefore)
        .flatMap((q) => (q.json as { items?: Record<string, unknown>[] }).items ?? [])
        .filter((i) => creds.includes(String(i.credentialId)) && i.drill !== rec.id)
        .map((i) => `${String(i.transition)}: ${String(i.title)}`);
      expect(unlabelled).toEqual([]);
      expect(await leftovers(rec)).toEqual([]);
    } finally {
      await h.close();
    }
  }, 120_000);

  it('refuses a drill cluster with no token to plant with (CONFIG), before planting anything', async () => {
    const h = await harness(
      { mode: 'enforce', minAgeHours: 0, approvals: { required: [] } },
      { ...drills, vault: { ...drills.vault, cluster: 'scan-only' } },
      [cluster('main', true), cluster('scan-only', false)],
    );
    try {
      const policiesBefore = (await policyNames()).sort();
      const rolesBefore = (await roleNames()).sort();
      const accessorsBefore = (await accessors()).sort();
      const err = await run(h, 'unregistered-secret-id').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CwError);
      expect((err as CwError).code).toBe(ErrorCodes.CONFIG);
      expect((err as Error).message).toMatch(
        /drills\.vault\.token: not set, and vault cluster scan-only has no remediationToken/,
      );
      expect((await policyNames()).sort()).toEqual(policiesBefore);
      expect((await roleNames()).sort()).toEqual(rolesBefore);
      expect((await accessors()).sort()).toEqual(accessorsBefore);
      expect((await policyNames()).filter((p) => p.startsWith('credwarden-drill-'))).toEqual([]);
      expect((await roleNames()).filter((p) => p.startsWith('credwarden-drill-'))).toEqual([]);
      expect(await h.app.drills.list()).toEqual([]);
      expect((await h.app.drills.plantedCredentials()).size).toBe(0);
      expect((await h.app.audit.read(1)).filter((e) => e.type.startsWith('drill.'))).toEqual([]);
    } finally {
      await h.close();
    }
  }, 60_000);
});
