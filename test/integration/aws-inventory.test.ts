/**
 * The AWS source end to end: real SDK → moto (two accounts via AssumeRole) → registry → Redis
 * store → audit log. Asserts the exact inventory, the calls the bulk-first collector made, and
 * drift between two scans.
 */
import { DeleteAccessKeyCommand, PutUserPolicyCommand, UpdateAccessKeyCommand } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main.js';
import type { AwsStatementGrant, Credential } from '../../src/model/credential.js';
import { ACCOUNT_A, ACCOUNT_B, registry, type SeededEstate, seedEstate } from '../fixtures/aws-estate.js';
import { testApp, useMotoCredentialsEnv, writeTestFiles } from '../support/app.js';
import { doc, seederFor } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';

const moto = useMoto();
const r = useRedis('aws-inv');
let estate: SeededEstate;

function configFor(prefix: string) {
  return {
    redis: { prefix },
    aws: {
      endpoint: moto.endpoint,
      region: 'us-east-1',
      accounts: [
        {
          id: ACCOUNT_A,
          name: 'prod',
          roleArn: `arn:aws:iam::${ACCOUNT_A}:role/credwarden-reader`,
          externalId: 'cw-ext-1',
        },
        { id: ACCOUNT_B, roleArn: `arn:aws:iam::${ACCOUNT_B}:role/credwarden-reader` },
      ],
    },
  };
}

async function scan(app: App, id: string) {
  const summary = await app.orchestrator.runInProcess(id, 'test', app.orchestrator.units(), 2);
  return { summary, creds: await app.scans.observed(id) };
}

const byId = (creds: Credential[]) => new Map(creds.map((c) => [c.id, c]));

describe('AWS IAM inventory against moto', () => {
  let app: App;
  beforeAll(async () => {
    useMotoCredentialsEnv();
    estate = await seedEstate(moto.endpoint);
    app = await testApp(writeTestFiles(configFor(r.prefix), registry));
    return () => app.close();
  });

  it('yields exactly the expected inventory across two accounts', async () => {
    const { summary, creds } = await scan(app, 'scan-1');
    const [invUsed, invInactive] = estate.keys['svc-invoice-bot']!;
    const scraper = estate.keys['agent-scraper']![0]!;
    const etl = estate.keys['svc-etl-bot']![0]!;
    expect(creds.map((c) => c.id).sort()).toEqual(
      [
        `aws/${ACCOUNT_A}/access-key/${invUsed!.accessKeyId}`,
        `aws/${ACCOUNT_A}/access-key/${invInactive!.accessKeyId}`,
        `aws/${ACCOUNT_A}/access-key/${scraper.accessKeyId}`,
        `aws/${ACCOUNT_A}/console-password/svc-reporter`,
        `aws/${ACCOUNT_A}/role/agent-idle-role`,
        `aws/${ACCOUNT_A}/role/agent-runner-role`,
        `aws/${ACCOUNT_B}/access-key/${etl.accessKeyId}`,
        `aws/${ACCOUNT_B}/role/etl-bot-role`,
      ].sort(),
    );
    expect(summary.status).toBe('complete');
    const m = byId(creds);

    const used = m.get(`aws/${ACCOUNT_A}/access-key/${invUsed!.accessKeyId}`)!;
    expect(used).toMatchObject({
      kind: 'aws-access-key',
      agentId: 'invoice-bot',
      owner: { team: 'finance-eng' },
      status: 'active',
      unregisteredAgent: false,
    });
    expect(used.lastUsed?.at).not.toBeNull();
    expect(used.lastUsed?.source).toBe('credential-report');
    const prov = (used.grants as AwsStatementGrant[]).map((g) => [
      g.actions?.join(),
      g.provenance.attachment,
      g.provenance.via ?? null,
    ]);
    expect(prov).toEqual(
      expect.arrayContaining([
        ['s3:PutObject', 'inline', null],
        ['sqs:SendMessage', 'managed', null],
        ['s3:GetObject', 'group-inline', 'agents-readers'],
        ['dynamodb:GetItem', 'group-managed', 'agents-readers'],
      ]),
    );
    expect(used.grants).toHaveLength(4);
    expect(used.tags).toEqual({ team: 'finance' });

    const inactive = m.get(`aws/${ACCOUNT_A}/access-key/${invInactive!.accessKeyId}`)!;
    expect(inactive.status).toBe('inactive');
    expect(inactive.lastUsed?.at).toBeNull();

    const scr = m.get(`aws/${ACCOUNT_A}/access-key/${scraper.accessKeyId}`)!;
    expect(scr).toMatchObject({ agentId: null, owner: null, unregisteredAgent: true, status: 'active' });
    expect(scr.lastUsed?.at).toBeNull();

    const pw = m.get(`aws/${ACCOUNT_A}/console-password/svc-reporter`)!;
    expect(pw).toMatchObject({ kind: 'aws-console-password', agentId: null, unregisteredAgent: true });

    const runner = m.get(`aws/${ACCOUNT_A}/role/agent-runner-role`)!;
    expect(runner).toMatchObject({
      kind: 'aws-role',
      agentId: 'runner',
      principal: `arn:aws:iam::${ACCOUNT_A}:role/agent-runner-role`,
    });
    expect(runner.lastUsed?.at).not.toBeNull();
    expect(runner.attributes.maxSessionDurationSeconds).toBe(7200);
    expect(runner.attributes.boundaryArn).toBe(`arn:aws:iam::${ACCOUNT_A}:policy/agent-boundary`);
    expect((runner.grants as AwsStatementGrant[]).map((g) => g.provenance.attachment).sort()).toEqual([
      'boundary',
      'inline',
      'managed',
    ]);
    expect((runner.attributes.trustPolicy as { Statement: unknown[] }).Statement).toHaveLength(1);

    expect(m.get(`aws/${ACCOUNT_A}/role/agent-idle-role`)).toMatchObject({
      agentId: null,
      unregisteredAgent: true,
      lastUsed: { at: null },
    });
    expect(m.get(`aws/${ACCOUNT_B}/access-key/${etl.accessKeyId}`)).toMatchObject({
      agentId: 'etl-bot',
      source: ACCOUNT_B,
    });
    expect(m.get(`aws/${ACCOUNT_B}/role/etl-bot-role`)).toMatchObject({ agentId: 'etl-bot', owner: { team: 'data' } });

    // Bulk first: keys listed only for agent users holding keys; no per-key last-used lookups.
    expect(summary.apiCalls.byOperation['iam:ListAccessKeys']).toBe(3);
    expect(summary.apiCalls.byOperation['iam:GetAccessKeyLastUsed'] ?? 0).toBe(0);
    expect(summary.apiCalls.byOperation['iam:GetAccountAuthorizationDetails']).toBe(2);
    expect(summary.apiCalls.byOperation['sts:AssumeRole']).toBe(2);
    expect(summary.counts).toMatchObject({ credentials: 8, agents: 3, unregisteredAgent: 3 });
    expect(summary.counts.drift['credential.added']).toBe(8);
  });

  it('records drift against the previous scan: removed, status, grants, attribution', async () => {
    const a = await seederFor(moto.endpoint, ACCOUNT_A);
    const b = await seederFor(moto.endpoint, ACCOUNT_B);
    const scraper = estate.keys['agent-scraper']![0]!;
    const etl = estate.keys['svc-etl-bot']![0]!;
    await a.iam.send(new DeleteAccessKeyCommand({ UserName: 'agent-scraper', AccessKeyId: scraper.accessKeyId }));
    await b.iam.send(
      new UpdateAccessKeyCommand({ UserName: 'svc-etl-bot', AccessKeyId: etl.accessKeyId, Status: 'Inactive' }),
    );
    await a.iam.send(
      new PutUserPolicyCommand({
        UserName: 'svc-invoice-bot',
        PolicyName: 'escalated',
        PolicyDocument: doc(['iam:CreateAccessKey', 's3:PutObject']),
      }),
    );
    a.iam.destroy();
    b.iam.destroy();
    const reg2 = structuredClone(registry);
    reg2.agents.push({
      id: 'idler',
      name: 'Idle',
      owner: { team: 'x', contact: 'x@example.com' },
      version: '1',
      environment: 'dev',
      selectors: { aws: { roles: ['agent-idle-role'] } },
    } as never);
    const app2 = await testApp(writeTestFiles(configFor(r.prefix), reg2));
    try {
      const { summary } = await scan(app2, 'scan-2');
      expect(summary.counts.drift).toEqual({
        'credential.removed': 1,
        'credential.status-changed': 1,
        'credential.grants-changed': 2,
        'credential.attribution-changed': 1,
      });
      const events = await app2.audit.read(1);
      const drift = events.filter((e) => e.data.scanId === 'scan-2' && e.type.startsWith('credential.'));
      const grants = drift.filter((e) => e.type === 'credential.grants-changed');
      expect(grants.every((e) => JSON.stringify(e.data.added) === JSON.stringify(['iam:CreateAccessKey']))).toBe(true);
      expect(drift.find((e) => e.type === 'credential.removed')?.subject).toBe(
        `aws/${ACCOUNT_A}/access-key/${scraper.accessKeyId}`,
      );
      expect(drift.find((e) => e.type === 'credential.status-changed')?.data).toMatchObject({
        from: 'active',
        to: 'inactive',
      });
      expect(drift.find((e) => e.type === 'credential.attribution-changed')?.data).toMatchObject({
        from: null,
        to: 'idler',
      });
      const state = await app2.scans.currentInventory();
      expect(state.some((c) => c.id.endsWith(scraper.accessKeyId))).toBe(false);
      expect((await app2.audit.verify()).ok).toBe(true);
    } finally {
      await app2.close();
    }
  });
});
