/**
 * Runaway-agent detection end to end against moto, with the shipped agent-baseline pack: scan 1
 * sees a swarm agent with one user and key, and a surge agent with two granted actions. Between
 * scans the swarm agent gains ten more users with a key each (moto allows two keys per user, so a
 * burst of keys is a burst of users the registry attributes to one agent) and the surge agent a
 * policy with 25 more actions. Scan 2 opens agent-credential-burst on all 11 keys and
 * agent-grant-surge on the surge key, and the alert plan pages them by default (paging class
 * `runaway`). Scan 3, unchanged and still inside the hour, keeps the burst open (no new page) and
 * resolves the surge: its baseline now holds the new actions.
 */
import { readFileSync } from 'node:fs';
import { PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/alerts/types.js';
import { createUser, doc } from '../support/aws-seed.js';
import { useMoto } from '../support/moto.js';
import { useRedis } from '../support/redis.js';
import { ACCOUNT, type Scenario, scenario, withIam } from '../support/remediation-env.js';

const moto = useMoto();
const r = useRedis('runaway');
const BASELINE = readFileSync(new URL('../../policies/agent-baseline.yaml', import.meta.url), 'utf8');
const PD_KEY_REF = ['$', '{env:CW_RUNAWAY_PD}'].join('');
const owner = { team: 'platform', contact: 'platform@example.com' };
const REGISTRY = {
  agents: [
    {
      id: 'swarm',
      name: 'Swarm',
      owner,
      version: '1.0.0',
      environment: 'prod',
      selectors: { aws: { users: ['svc-swarm-*'] } },
    },
    {
      id: 'surge',
      name: 'Surge',
      owner,
      version: '1.0.0',
      environment: 'prod',
      selectors: { aws: { users: ['svc-surge'] } },
    },
  ],
};
const EC2 = [
  'DescribeInstances',
  'DescribeImages',
  'DescribeVolumes',
  'DescribeSnapshots',
  'DescribeSubnets',
  'DescribeVpcs',
  'DescribeSecurityGroups',
  'DescribeKeyPairs',
  'DescribeAddresses',
  'DescribeRegions',
  'DescribeAvailabilityZones',
  'DescribeRouteTables',
  'DescribeInternetGateways',
  'DescribeNatGateways',
  'DescribeNetworkInterfaces',
  'DescribeNetworkAcls',
  'DescribeTags',
  'DescribeInstanceTypes',
  'DescribeLaunchTemplates',
  'DescribeVpcEndpoints',
  'DescribeDhcpOptions',
  'DescribePlacementGroups',
  'DescribeSpotPriceHistory',
  'DescribeReservedInstances',
  'DescribeInstanceStatus',
].map((a) => `ec2:${a}`);

let s: Scenario;
const keyIds: Record<string, string> = {};
const keyId = (user: string) => `aws/${ACCOUNT}/access-key/${keyIds[user]}`;
const swarmUsers = Array.from({ length: 11 }, (_, i) => `svc-swarm-${String(i).padStart(2, '0')}`);

async function addUsers(users: Parameters<typeof createUser>[1][]): Promise<void> {
  await withIam(moto.endpoint, async (a) => {
    for (const u of users) keyIds[u.name] = (await createUser(a, u, moto.endpoint))[0]!.accessKeyId;
  });
}

/** Scan and evaluate at the real time (moto stamps keys with it), then plan the alerts. */
async function scan(id: string): Promise<Notification[]> {
  s.clock.set(Date.now());
  await s.scan(id);
  return s.app.alerts.planScan(id);
}

const pages = (ns: Notification[], policy: string) =>
  ns
    .filter((n) => n.mode === 'page')
    .flatMap((n) => n.items)
    .filter((i) => i.policy === policy && i.action === 'trigger')
    .map((i) => i.credentialId)
    .sort();

describe('runaway agents', () => {
  beforeAll(async () => {
    await moto.reset();
    process.env.CW_RUNAWAY_PD = 'r'.repeat(32);
    await addUsers([
      { name: swarmUsers[0]!, keys: ['active'] },
      {
        name: 'svc-surge',
        keys: ['active'],
        inline: { base: doc(['s3:GetObject', 's3:PutObject'], 'arn:aws:s3:::surge/*') },
      },
    ]);
    s = await scenario({
      motoEndpoint: moto.endpoint,
      prefix: r.prefix,
      policies: BASELINE,
      daysAhead: 0,
      remediation: { mode: 'dry-run' },
      registry: REGISTRY,
      config: {
        alerts: {
          sinks: [{ name: 'pd', type: 'pagerduty', routingKey: PD_KEY_REF, url: 'http://127.0.0.1:9/v2/enqueue' }],
        },
      },
    });
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('scan 1: one key and two actions are no burst and no surge (no previous scan)', async () => {
    const ns = await scan('run-1');
    const open = (await s.app.findings.all()).filter((f) => f.state === 'open').map((f) => f.policy);
    expect(open).not.toContain('agent-credential-burst');
    expect(open).not.toContain('agent-grant-surge');
    expect(pages(ns, 'agent-credential-burst')).toEqual([]);
    expect(pages(ns, 'agent-grant-surge')).toEqual([]);
  });

  it('scan 2: ten more swarm keys and 25 more actions for surge open both, and both page', async () => {
    await addUsers(swarmUsers.slice(1).map((name) => ({ name, keys: ['active' as const] })));
    await withIam(moto.endpoint, (a) =>
      a.iam.send(new PutUserPolicyCommand({ UserName: 'svc-surge', PolicyName: 'widen', PolicyDocument: doc(EC2) })),
    );
    const ns = await scan('run-2');
    const findings = (await s.app.findings.all()).filter((f) => f.state === 'open');
    const burst = findings.filter((f) => f.policy === 'agent-credential-burst');
    expect(burst.map((f) => f.credentialId).sort()).toEqual(swarmUsers.map(keyId).sort());
    expect(burst[0]!.severity).toBe('high');
    expect(burst[0]!.hits[0]).toMatchObject({ detector: 'runaway', key: 'burst' });
    expect(burst[0]!.hits[0]!.message).toMatch(/^agent swarm: 11 credentials created within 60 minutes \(first /);

    const surge = findings.filter((f) => f.policy === 'agent-grant-surge');
    expect(surge.map((f) => f.credentialId)).toEqual([keyId('svc-surge')]);
    expect(surge[0]!.hits[0]!.message).toMatch(
      /^agent surge: granted actions grew 2 → 27 \(\+25 new since the previous scan/,
    );

    // Paged by default (alerts.paging defaults include `runaway`), one page per credential.
    expect(pages(ns, 'agent-credential-burst')).toEqual(swarmUsers.map(keyId).sort());
    expect(pages(ns, 'agent-grant-surge')).toEqual([keyId('svc-surge')]);
    const surgePage = ns.find((n) => n.mode === 'page' && n.items[0]!.policy === 'agent-grant-surge')!;
    expect(surgePage.sink).toBe('pd');
    expect(surgePage.items[0]!.fingerprint).toBe(`agent-grant-surge:${keyId('svc-surge')}`);
  });

  it('scan 3: nothing changed: the burst stays open without a new page; the surge resolves', async () => {
    const ns = await scan('run-3');
    const findings = await s.app.findings.all();
    const state = (policy: string) =>
      [...new Set(findings.filter((f) => f.policy === policy).map((f) => f.state))].sort();
    expect(state('agent-credential-burst')).toEqual(['open']);
    expect(state('agent-grant-surge')).toEqual(['resolved']);
    expect(pages(ns, 'agent-credential-burst')).toEqual([]);
    // The surge's page is resolved with its dedup key.
    const resolves = ns.filter((n) => n.mode === 'page').flatMap((n) => n.items.filter((i) => i.action === 'resolve'));
    expect(resolves.map((i) => i.fingerprint)).toEqual([`agent-grant-surge:${keyId('svc-surge')}`]);
  });
});
