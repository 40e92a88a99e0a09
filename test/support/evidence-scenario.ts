/**
 * The seeded history of the evidence-pack tests (issue 13), against moto and real Redis, on a
 * ManualClock that spreads it over days. Day d hh:mm below is T0 + d days + hh:mm, T0 a UTC midnight.
 *
 *   d-1 01:00  scan-0 (both accounts): F1, F2 (never-used keys of agent-idle-1, agent-idle-2),
 *              F3 (admin key of agent-admin, critical), F4 (console password of agent-human) open
 *   d0 00:30   user:carol creates an exception for agent-console (30 days)
 *   d0 01:00   scan-1: F4 suppressed. Plan: deactivate F1's key (done); F2's key is protected
 *              (denied); detach agent-admin's policy waits for two approvers
 *   d0 02:00   user:alice approves the detach; 03:00 user:bob approves, it runs (done)
 *   d1 01:00   scan-2: F1 and F3 resolved
 *   d1 06:00   user:erin asks for the detach's rollback; 07:00 alice, 08:00 bob approve; rolled back
 *   d2 01:00   scan-3 PARTIAL: account 222 never reports (timed out); F3 reopened
 *   d2 12:00   a person deactivates agent-idle-2's key
 *   d3 01:00   scan-4: F2 resolved
 *   d3 12:00   agent-new appears; d4 01:00 scan-5: its key added, F6 opened (never used)
 *   d4 12:00   agent-idle-1's key deleted; d5 01:00 scan-6: removed
 *   d6 01:00   scan-7
 *   d6 19:00   agent-late appears; d6 20:00 scan-8 (after the period: links only)
 * The period is d0 00:00 .. d6 12:00. The tests (evidence-pack*.test.ts) work every expected value out from this timeline.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteAccessKeyCommand } from '@aws-sdk/client-iam';
import { expect } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { buildEvidence } from '../../src/evidence/export.js';
import type { FrameworkId } from '../../src/evidence/frameworks.js';
import type { App } from '../../src/main.js';
import { type TestTokens, testTokens } from './api.js';
import { testApp, useMotoCredentialsEnv, writeTestFiles } from './app.js';
import { type CreatedKey, createPolicy, createUser, doc, seederFor } from './aws-seed.js';
import { ACCOUNT, drive, REGISTRY, setKeyStatus, withIam } from './remediation-env.js';

export { ACCOUNT };
export const FAR = '222222222222';
const DAY = 86_400_000;
const T0 = Math.ceil((Date.now() + 10 * DAY) / DAY) * DAY;
export const at = (d: number, hh = 0, mm = 0) => new Date(T0 + d * DAY + hh * 3_600_000 + mm * 60_000);
export const iso = (d: number, hh = 0, mm = 0) => at(d, hh, mm).toISOString();
export const FROM = at(0);
export const TO = at(6, 12);
export const OWNER = 'platform <platform@example.com>';

const POLICIES = `policies:
  - name: unused-keys
    description: agent keys never used
    resource: { kinds: [aws-access-key], agents: ["*"], tags: { lane: plain } }
    rules: [{ type: never-used, graceDays: 1 }]
    severity: medium
    mode: enforce
    remediation: [deactivate-key]
    metadata: { controls: { soc2: [CC6.2], pci-dss-4: ["8.2.6"] } }
  - name: admin-keys
    description: agent keys that can do anything
    resource: { kinds: [aws-access-key], agents: ["*"], tags: { lane: admin } }
    rules: [{ type: aws-admin }]
    severity: critical
    mode: enforce
    remediation: [detach-policy]
    metadata: { controls: { soc2: [CC6.3] } }
  - name: agent-console
    description: console passwords on agent users
    resource: { kinds: [aws-console-password], agents: ["*"] }
    rules: [{ type: human-use }]
    severity: high
    metadata: { controls: { soc2: [CC7.2], pci-dss-4: ["8.6.1"] } }
  - name: key-rotation
    description: keys older than 90 days
    resource: { kinds: [aws-access-key] }
    rules: [{ type: rotation-overdue, days: 90 }]
    severity: medium
    metadata: { controls: { soc2: [CC6.1], pci-dss-4: ["8.6.3"] } }
`;

export interface EvidenceScenario {
  app: App;
  clock: ManualClock;
  dir: string;
  configPath: string;
  /** The first key of each seeded user, by user name. */
  keys: Record<string, CreatedKey>;
  /** Credential id by user name (each seeded user holds one credential). */
  ids: Record<string, string>;
  tokens: TestTokens;
  excId: string;
  detachId: string;
  f1PlanId: string;
  f2PlanId: string;
}

async function seed(
  motoEndpoint: string,
  keys: Record<string, CreatedKey>,
  account: string,
  spec: Parameters<typeof createUser>[1],
) {
  const s = await seederFor(motoEndpoint, account);
  try {
    const made = await createUser(s, spec, motoEndpoint);
    if (made[0]) keys[spec.name] = made[0];
  } finally {
    s.iam.destroy();
  }
}

async function partialScan(app: App, scanId: string) {
  // Account 222 never reports: finalize marks it timed out, and the scan is partial.
  const units = app.orchestrator.units();
  await app.orchestrator.start(scanId, 'test', units);
  await app.orchestrator.discoverUnit(scanId, `aws/${ACCOUNT}`);
  const summary = await app.orchestrator.finalize(scanId);
  expect(summary.status).toBe('partial');
  await app.findings.evaluateScan(scanId);
}

export async function seedEvidenceHistory(motoEndpoint: string, prefix: string): Promise<EvidenceScenario> {
  useMotoCredentialsEnv();
  const keys: Record<string, CreatedKey> = {};
  const ids: Record<string, string> = {};
  let excId = '';
  let detachId = '';
  let f1PlanId = '';
  let f2PlanId = '';
  const tokens = await testTokens();
  const adminArn = await withIam(motoEndpoint, (a) => createPolicy(a, 'agent-admin', doc(['*'])));
  await seed(motoEndpoint, keys, ACCOUNT, { name: 'agent-idle-1', keys: ['active'], tags: { lane: 'plain' } });
  await seed(motoEndpoint, keys, ACCOUNT, {
    name: 'agent-idle-2',
    keys: ['active'],
    tags: { lane: 'plain', 'credwarden-protect': 'true' },
  });
  await seed(motoEndpoint, keys, ACCOUNT, {
    name: 'agent-admin',
    keys: ['used'],
    tags: { lane: 'admin' },
    managed: [adminArn],
  });
  await seed(motoEndpoint, keys, ACCOUNT, { name: 'agent-human', password: true });
  await seed(motoEndpoint, keys, FAR, { name: 'agent-far', keys: ['used'] });

  const files = writeTestFiles(
    {
      redis: { prefix: prefix },
      aws: {
        endpoint: motoEndpoint,
        region: 'us-east-1',
        accounts: [ACCOUNT, FAR].map((id) => ({
          id,
          roleArn: `arn:aws:iam::${id}:role/credwarden-reader`,
          remediationRoleArn: `arn:aws:iam::${id}:role/credwarden-remediator`,
        })),
      },
      policies: ['policies'],
      remediation: {
        mode: 'enforce',
        minAgeHours: 1,
        approvals: { required: [{ actions: ['detach-policy'] }], approvers: 2, expiresHours: 24 },
      },
      evidence: { signingKey: 'evidence.key' },
      api: { tokens: tokens.config },
    },
    REGISTRY,
  );
  const dir = files.dir;
  const configPath = files.configPath;
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'p.yaml'), POLICIES);
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(join(dir, 'evidence.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const clock = new ManualClock(at(-1, 1));
  const app = await testApp(files, clock);
  const d = drive(app, clock);

  await d.scan('scan-0');
  for (const c of await app.scans.currentInventory()) ids[c.principal.split('/').pop()!] = c.id;
  clock.set(at(0, 0, 30));
  excId = (
    await app.exceptions.create(
      {
        policy: 'agent-console',
        selector: { agents: ['bot'] },
        owner: 'carol@example.com',
        reason: 'break-glass console access for the migration (CHG-42)',
        expires: iso(30),
      },
      'user:carol',
    )
  ).id;
  clock.set(at(0, 1));
  await d.scan('scan-1');
  const { ids: queued } = await d.plan('scan-1');
  await d.execute(queued);
  const all = await app.remediation.list();
  const of = (user: string) => all.find((x) => x.plan.target.identity.userName === user)!;
  [f1PlanId, f2PlanId, detachId] = [of('agent-idle-1').plan.id, of('agent-idle-2').plan.id, of('agent-admin').plan.id];
  expect([of('agent-idle-1').state, of('agent-idle-2').state, of('agent-admin').state]).toEqual([
    'done',
    'denied',
    'awaiting-approval',
  ]);
  clock.set(at(0, 2));
  await app.people.approve(detachId, 'user:alice');
  clock.set(at(0, 3));
  await app.people.approve(detachId, 'user:bob');
  expect((await d.execute([detachId]))[0]!.state).toBe('done');
  clock.set(at(1, 1));
  await d.scan('scan-2');
  clock.set(at(1, 6));
  await app.people.rollback(detachId, 'user:erin');
  clock.set(at(1, 7));
  await app.people.approve(detachId, 'user:alice');
  clock.set(at(1, 8));
  expect((await app.people.approve(detachId, 'user:bob')).state).toBe('rolled-back');
  clock.set(at(2, 1));
  await partialScan(app, 'scan-3');
  clock.set(at(2, 12));
  await setKeyStatus(motoEndpoint, 'agent-idle-2', keys['agent-idle-2']!.accessKeyId, 'Inactive');
  clock.set(at(3, 1));
  await d.scan('scan-4');
  clock.set(at(3, 12));
  await seed(motoEndpoint, keys, ACCOUNT, { name: 'agent-new', keys: ['active'], tags: { lane: 'plain' } });
  clock.set(at(4, 1));
  await d.scan('scan-5');
  clock.set(at(4, 12));
  await withIam(motoEndpoint, (a) =>
    a.iam.send(
      new DeleteAccessKeyCommand({ UserName: 'agent-idle-1', AccessKeyId: keys['agent-idle-1']!.accessKeyId }),
    ),
  );
  clock.set(at(5, 1));
  await d.scan('scan-6');
  clock.set(at(6, 1));
  await d.scan('scan-7');
  clock.set(at(6, 19));
  await seed(motoEndpoint, keys, ACCOUNT, { name: 'agent-late', keys: ['used'] });
  clock.set(at(6, 20));
  await d.scan('scan-8');
  for (const c of await app.scans.currentInventory()) ids[c.principal.split('/').pop()!] ??= c.id;
  clock.set(at(7));
  return { app, clock, dir, configPath, keys, ids, tokens, excId, detachId, f1PlanId, f2PlanId };
}

/** Builds the evidence of `framework` over [from, to] (default: the period) and its controls by id. */
export async function controlsOf(app: App, framework: FrameworkId, from = FROM, to = TO) {
  const built = await buildEvidence(app, { framework, from, to });
  await built.cleanup();
  return { ev: built.evidence, by: Object.fromEntries(built.controls.map((c) => [c.id, c])) };
}
