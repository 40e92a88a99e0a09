/**
 * What the overview and agents page tests add to the seeded history (evidence-scenario.ts), after
 * its period, at d7 01:00:
 *
 *   agent "evil"   registered in the loaded registry (as agents.yaml could hold it) with hostile
 *                  markup in its name, owner, version and a declared scope; declares s3:GetObject;
 *                  selects users evil-*. User evil-1 (account 111) has a never-used key (lane
 *                  plain: unused-keys, medium) granted s3:GetObject and s3:PutObject inline; the
 *                  policy "evil-scope" (scope-excess, low) reports s3:PutObject beyond its scope
 *   bot            declares sts:GetCallerIdentity, iam:List* and a Vault scope
 *   rogue-1        a user no agent selects that the registry's unregistered rules name
 *                  (rogue-*): an unregistered agent credential, with a used key
 *   idle-00..      `idle` more agents with no credentials (for paging)
 *   scan-9         PARTIAL: only account 111 reports (222 times out); adds evil-1's and rogue-1's keys
 *   pause          (optional) user:oncall-a pulls the kill switch with a hostile reason; scan-9 is
 *                  planned while paused, so deactivating evil-1's key is held
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Agent } from '../../src/model/agent.js';
import { loadPolicies } from '../../src/policy/load.js';
import { createUser, doc, seederFor } from './aws-seed.js';
import { ACCOUNT, at, type EvidenceScenario } from './evidence-scenario.js';
import { drive } from './remediation-env.js';

export const HOSTILE = '<img src=x onerror=alert(1)>';
export const HOSTILE_TEAM = '<script>alert(2)</script>';
export const PAUSE_REASON = `incident ${HOSTILE}`;

const SCOPE_POLICY = `policies:
  - name: evil-scope
    description: evil's keys beyond its declared scope
    resource: { kinds: [aws-access-key], agents: [evil] }
    rules: [{ type: scope-excess }]
    severity: low
`;

export interface Extras {
  /** Credential ids by user name (evil-1, rogue-1). */
  ids: Record<string, string>;
}

export async function seedAgentExtras(
  s: EvidenceScenario,
  motoEndpoint: string,
  o: { idle?: number; pause?: boolean } = {},
): Promise<Extras> {
  const { app, clock } = s;
  const evil: Agent = {
    id: 'evil',
    name: HOSTILE,
    owner: { team: HOSTILE_TEAM, contact: '"><svg onload=alert(3)>' },
    version: '1.0<b>',
    environment: 'staging',
    scopes: { aws: ['s3:GetObject', `s3:${HOSTILE}`], vault: [] },
    selectors: { aws: { users: ['evil-*'], roles: [], tags: {} } },
  };
  app.registry.agents.push(evil);
  app.registry.agents[0]!.scopes = {
    aws: ['sts:GetCallerIdentity', 'iam:List*'],
    vault: [{ path: 'secret/data/bot/*', capabilities: ['read'] }],
  };
  for (let i = 0; i < (o.idle ?? 0); i++)
    app.registry.agents.push({
      id: `idle-${String(i).padStart(2, '0')}`,
      name: `Idle ${i}`,
      version: '0.1.0',
      environment: 'dev',
      scopes: { aws: [], vault: [] },
      selectors: {},
    });
  app.registry.unregistered.aws.namePatterns = ['rogue-*'];
  const dir = mkdtempSync(join(tmpdir(), 'cw-web-policies-'));
  writeFileSync(join(dir, 'scope.yaml'), SCOPE_POLICY);
  app.policies.policies.push(...(await loadPolicies([dir])).policies);

  const seeder = await seederFor(motoEndpoint, ACCOUNT);
  try {
    await createUser(
      seeder,
      {
        name: 'evil-1',
        keys: ['active'],
        tags: { lane: 'plain' },
        inline: { 'evil-s3': doc(['s3:GetObject', 's3:PutObject']) },
      },
      motoEndpoint,
    );
    await createUser(seeder, { name: 'rogue-1', keys: ['used'] }, motoEndpoint);
  } finally {
    seeder.iam.destroy();
  }

  clock.set(at(7, 1));
  const units = app.orchestrator.units();
  await app.orchestrator.start('scan-9', 'test', units);
  await app.orchestrator.discoverUnit('scan-9', `aws/${ACCOUNT}`);
  expect((await app.orchestrator.finalize('scan-9')).status).toBe('partial');
  await app.findings.evaluateScan('scan-9');
  if (o.pause) {
    await app.remediation.controls.pause('user:oncall-a', PAUSE_REASON);
    await drive(app, clock).plan('scan-9');
  }
  clock.set(at(7, 2));

  const ids: Record<string, string> = {};
  for (const c of await app.scans.currentInventory()) {
    const user = c.principal.split('/').pop()!;
    if (user === 'evil-1' || user === 'rogue-1') ids[user] = c.id;
  }
  expect(Object.keys(ids).sort()).toEqual(['evil-1', 'rogue-1']);
  return { ids };
}
